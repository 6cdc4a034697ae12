/*
 * activation.h - the scalar activation functions, shared by every CPU kernel that applies one
 * (standalone activation ops, FusedConv and Gemm epilogues) so they agree to the bit.
 */
#ifndef SN_ACTIVATION_H
#define SN_ACTIVATION_H

#include <math.h>

#include "op.h"

static inline float sn_activate(float x, sn_activation a, float alpha, float beta) {
    switch (a) {
    case SN_ACT_NONE: return x;
    case SN_ACT_RELU: return x > 0.0f ? x : 0.0f;
    case SN_ACT_CLIP: return x < alpha ? alpha : (x > beta ? beta : x);
    case SN_ACT_LEAKY_RELU: return x >= 0.0f ? x : alpha * x;
    case SN_ACT_SIGMOID: return 1.0f / (1.0f + expf(-x));
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
    case SN_ACT_SILU: return x / (1.0f + expf(-x));
    default: return x;
    }
}

/* Apply in place over n floats; the switch is hoisted out of the loop so each case vectorises. */
void sn_activate_array(float *x, long n, sn_activation a, float alpha, float beta);

#endif
