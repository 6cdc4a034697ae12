/* activation.c - array form of sn_activate with the dispatch outside the loop.
 *
 * Each case computes exactly the operations sn_activate does, in the same order, so the results
 * agree to the bit; only the shape of the code changes so the compiler vectorises it (GCC
 * will not if-convert a conditional multiply, so LeakyRelu selects between v and alpha*v
 * with a bit mask).
 * Sigmoid and SiLU use the inline sn__expf, so they vectorise too; Tanh calls libm's tanhf. */
#include "activation.h"

#include <stdint.h>
#include <string.h>

#define SN__ACT_LOOP(expr)                                                                      \
    for (long i = 0; i < n; i++) {                                                              \
        float v = x[i];                                                                         \
        x[i] = (expr);                                                                          \
    }

/* Also built for AVX2 and AVX-512 and picked at load time (GCC on x86-64), as the conv
 * epilogue is: the same IEEE operations at any width, so the results are the same bits. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void sn_activate_array(float *x, long n, sn_activation a, float alpha, float beta) {
    switch (a) {
    case SN_ACT_NONE: return;
    case SN_ACT_RELU: SN__ACT_LOOP(v > 0.0f ? v : 0.0f); return;
    case SN_ACT_CLIP: SN__ACT_LOOP(v < alpha ? alpha : (v > beta ? beta : v)); return;
    case SN_ACT_LEAKY_RELU:
        for (long i = 0; i < n; i++) { /* a bitwise select keeps alpha*v unconditional */
            float v = x[i], m = alpha * v;
            uint32_t bv, bm, keep = v >= 0.0f ? ~0u : 0u;
            memcpy(&bv, &v, 4);
            memcpy(&bm, &m, 4);
            bv = (bv & keep) | (bm & ~keep);
            memcpy(&x[i], &bv, 4);
        }
        return;
    case SN_ACT_HARD_SIGMOID:
        for (long i = 0; i < n; i++) {
            float y = alpha * x[i] + beta;
            x[i] = y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
        }
        return;
    case SN_ACT_HARD_SWISH:
        for (long i = 0; i < n; i++) {
            float v = x[i], r = v + 3.0f;
            r = r < 0.0f ? 0.0f : (r > 6.0f ? 6.0f : r);
            x[i] = v * r * (1.0f / 6.0f);
        }
        return;
    case SN_ACT_SIGMOID: SN__ACT_LOOP(1.0f / (1.0f + sn__expf(-v))); return;
    case SN_ACT_SILU: SN__ACT_LOOP(v / (1.0f + sn__expf(-v))); return;
    default: SN__ACT_LOOP(sn_activate(v, a, alpha, beta)); return;
    }
}
