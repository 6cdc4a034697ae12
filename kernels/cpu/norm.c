/*
 * norm.c - BatchNormalization (inference) and BiasAdd as one multiply-add per element with
 * per-channel constants. BatchNorm folds its four vectors into (a, b) per plane: recomputing
 * them per (image, channel) costs one sqrt and saves a scratch buffer.
 */
#include "norm.h"

#include <math.h>

#define SN__PAR_MIN_WORK ((int64_t)1 << 15) /* below this many elements, forking costs more */

/* No restrict: y may equal x. omp simd is still valid because each element is read before it is
 * written and no element depends on another. */
static void affine_plane(const float *x, int64_t len, float a, float b, float *y) {
#pragma omp simd
    for (int64_t i = 0; i < len; i++) y[i] = x[i] * a + b;
}

static void add_plane(const float *x, int64_t len, float b, float *y) {
#pragma omp simd
    for (int64_t i = 0; i < len; i++) y[i] = x[i] + b;
}

void sn_cpu_batchnorm_f32(const float *x, int64_t n, int64_t c, int64_t inner, const float *scale,
                          const float *bias, const float *mean, const float *var, float eps,
                          float *y, int threads) {
    const int nt = threads > 0 ? threads : 1;
    const int64_t planes = n * c;
#pragma omp parallel for num_threads(nt) schedule(static) \
    if (nt > 1 && planes * inner >= SN__PAR_MIN_WORK)
    for (int64_t p = 0; p < planes; p++) {
        int64_t ch = p % c;
        float a = scale[ch] / sqrtf(var[ch] + eps);
        float b = bias[ch] - mean[ch] * a;
        affine_plane(x + p * inner, inner, a, b, y + p * inner);
    }
}

void sn_cpu_bias_add_f32(const float *x, int64_t n, int64_t c, int64_t inner, const float *b,
                         float *y, int threads) {
    const int nt = threads > 0 ? threads : 1;
    const int64_t planes = n * c;
#pragma omp parallel for num_threads(nt) schedule(static) \
    if (nt > 1 && planes * inner >= SN__PAR_MIN_WORK)
    for (int64_t p = 0; p < planes; p++) add_plane(x + p * inner, inner, b[p % c], y + p * inner);
}
