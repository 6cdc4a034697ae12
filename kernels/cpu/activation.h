/*
 * activation.h - the scalar activation functions, shared by every CPU kernel that applies one
 * (standalone activation ops, FusedConv and Gemm epilogues) so they agree to the bit.
 */
#ifndef SN_ACTIVATION_H
#define SN_ACTIVATION_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "op.h"

/* a if c else b, as a bit mask: a ternary here gets jump-threaded into branches holding float
 * ops that "could trap", and GCC then refuses to vectorise the loop. */
static inline float sn__fsel(int c, float a, float b) {
    uint32_t ua, ub, m = (uint32_t)0 - (uint32_t)(c != 0);
    memcpy(&ua, &a, sizeof ua);
    memcpy(&ub, &b, sizeof ub);
    ua = (ua & m) | (ub & ~m);
    memcpy(&a, &ua, sizeof a);
    return a;
}

/* exp(x) in float without a libm call, so loops applying sigmoid or SiLU vectorise (libm's
 * expf is a call per element: ~10 ns). exp(x) = 2^n * exp(r), |r| <= ln2/2, with Cephes'
 * degree-6 polynomial: within 0.99 ulp of exp over the normal range (measured on a sweep of
 * one float in eight over [-110, 95]; sigmoid is then within 2.5 ulp); overflow gives +inf,
 * x < -103 gives 0, NaN stays NaN. 2^n is applied as two factors so n may reach -149..128
 * without leaving the normal range. */
static inline float sn__expf(float x) {
    float xc = sn__fsel(x < -103.0f, -103.0f, x);
    xc = sn__fsel(xc > 88.75f, 88.75f, xc);
    xc = sn__fsel(xc == xc, xc, 0.0f); /* keep NaN out of the integer conversion */
    float n = (xc * 1.44269504f + 12582912.0f) - 12582912.0f; /* round(x / ln2) */
    float r = xc - n * 0.693359375f;                           /* ln2 split hi + lo */
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t ni = (int32_t)n, n1 = ni / 2, n2 = ni - n1;
    uint32_t b1 = (uint32_t)(n1 + 127) << 23, b2 = (uint32_t)(n2 + 127) << 23;
    float s1, s2;
    memcpy(&s1, &b1, sizeof s1);
    memcpy(&s2, &b2, sizeof s2);
    float y = p * s1 * s2;
    y = sn__fsel(x > 88.72283f, INFINITY, y);
    y = sn__fsel(x < -103.0f, 0.0f, y);
    return sn__fsel(x == x, y, x);
}

static inline float sn_activate(float x, sn_activation a, float alpha, float beta) {
    switch (a) {
    case SN_ACT_NONE: return x;
    case SN_ACT_RELU: return x > 0.0f ? x : 0.0f;
    case SN_ACT_CLIP: return x < alpha ? alpha : (x > beta ? beta : x);
    case SN_ACT_LEAKY_RELU: return x >= 0.0f ? x : alpha * x;
    case SN_ACT_SIGMOID: return 1.0f / (1.0f + sn__expf(-x));
    case SN_ACT_TANH: return tanhf(x);
    case SN_ACT_HARD_SIGMOID: {
        float y = alpha * x + beta;
        return y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
    }
    case SN_ACT_HARD_SWISH: {
        float r = x + 3.0f;
        r = r < 0.0f ? 0.0f : (r > 6.0f ? 6.0f : r);
        return x * r * (1.0f / 6.0f);
    }
    case SN_ACT_SILU: return x / (1.0f + sn__expf(-x));
    default: return x;
    }
}

/* Apply in place over n floats; the switch is hoisted out of the loop so each case vectorises. */
void sn_activate_array(float *x, long n, sn_activation a, float alpha, float beta);

#endif
