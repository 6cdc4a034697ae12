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

/* Channels-last: the per-channel (a, b) are computed for a block of channels at a time, then
 * applied to every row; rows are split over the threads. */
#define SN__NORM_BLOCK 256

void sn_cpu_batchnorm_nhwc_f32(const float *x, int64_t rows, int64_t c, const float *scale,
                               const float *bias, const float *mean, const float *var, float eps,
                               float *y, int threads) {
    const int nt = threads > 0 ? threads : 1;
    for (int64_t c0 = 0; c0 < c; c0 += SN__NORM_BLOCK) {
        const int64_t len = c - c0 < SN__NORM_BLOCK ? c - c0 : SN__NORM_BLOCK;
        float a[SN__NORM_BLOCK], b[SN__NORM_BLOCK];
        for (int64_t j = 0; j < len; j++) {
            a[j] = scale[c0 + j] / sqrtf(var[c0 + j] + eps);
            b[j] = bias[c0 + j] - mean[c0 + j] * a[j];
        }
#pragma omp parallel for num_threads(nt) schedule(static) \
    if (nt > 1 && rows * len >= SN__PAR_MIN_WORK)
        for (int64_t r = 0; r < rows; r++) {
            const float *xr = x + r * c + c0;
            float *yr = y + r * c + c0;
#pragma omp simd
            for (int64_t j = 0; j < len; j++) yr[j] = xr[j] * a[j] + b[j];
        }
    }
}

void sn_cpu_bias_add_nhwc_f32(const float *x, int64_t rows, int64_t c, const float *b, float *y,
                              int threads) {
    const int nt = threads > 0 ? threads : 1;
#pragma omp parallel for num_threads(nt) schedule(static) \
    if (nt > 1 && rows * c >= SN__PAR_MIN_WORK)
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * c;
        float *yr = y + r * c;
#pragma omp simd
        for (int64_t j = 0; j < c; j++) yr[j] = xr[j] + b[j];
    }
}
