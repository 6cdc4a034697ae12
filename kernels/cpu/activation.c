/* activation.c - array form of sn_activate with the dispatch outside the loop. */
#include "activation.h"

#define SN__ACT_LOOP(expr)                                                                      \
    for (long i = 0; i < n; i++) {                                                              \
        float v = x[i];                                                                         \
        x[i] = (expr);                                                                          \
    }

void sn_activate_array(float *x, long n, sn_activation a, float alpha, float beta) {
    switch (a) {
    case SN_ACT_NONE: return;
    case SN_ACT_RELU: SN__ACT_LOOP(v > 0.0f ? v : 0.0f); return;
    case SN_ACT_CLIP: SN__ACT_LOOP(v < alpha ? alpha : (v > beta ? beta : v)); return;
    case SN_ACT_LEAKY_RELU: SN__ACT_LOOP(v >= 0.0f ? v : alpha * v); return;
    default: SN__ACT_LOOP(sn_activate(v, a, alpha, beta)); return;
    }
}
