/*
 * pool_nhwc.c - MaxPool, AveragePool and GlobalAveragePool over channels-last tensors.
 *
 * A pixel's channels are contiguous, so each tap of a window folds one vector of c floats into
 * the output pixel: the loops vectorise over channels and never test bounds (taps outside the
 * input are skipped by range). One OpenMP task per output row. The semantics - padding never
 * wins the max, AveragePool's divisor with and without count_include_pad - are those of the
 * NCHW kernels in pool.c.
 */
#include <float.h>
#include <stdbool.h>

#include "pool.h"

#define SN__PAR_MIN_WORK ((int64_t)1 << 15) /* below this much work, forking costs more */

/* One output row y[ow, c] at output row oh of image x[h, w, c]. */
SN__SIMD_CLONES
static void pooln_row(const sn_pool2d_params *p, const float *x, int64_t oh, bool is_max,
                      float *y) {
    const sn_window2d *k = &p->win;
    const int64_t c = p->c, hs = oh * k->sh - k->pt;
    int64_t ki0, ki1;
    sn_window_valid_range(hs, k->dh, p->h, k->kh, &ki0, &ki1);
    /* AveragePool's rows of the divisor (it has no dilation); see pool.c */
    const int64_t rows = p->count_include_pad
                             ? (hs + k->kh < p->h + k->pb ? hs + k->kh : p->h + k->pb) - hs
                             : (hs + k->kh < p->h ? hs + k->kh : p->h) - (hs > 0 ? hs : 0);
    for (int64_t ow = 0; ow < k->ow; ow++) {
        float *restrict yp = y + ow * c;
        const int64_t ws = ow * k->sw - k->pl;
        int64_t kj0, kj1;
        sn_window_valid_range(ws, k->dw, p->w, k->kw, &kj0, &kj1);
        const float init = is_max ? -FLT_MAX : 0.0f;
#pragma omp simd
        for (int64_t j = 0; j < c; j++) yp[j] = init;
        for (int64_t ki = ki0; ki < ki1; ki++) {
            const float *xr = x + (hs + ki * k->dh) * p->w * c;
            for (int64_t kj = kj0; kj < kj1; kj++) {
                const float *restrict xp = xr + (ws + kj * k->dw) * c;
                if (is_max) {
#pragma omp simd
                    for (int64_t j = 0; j < c; j++) yp[j] = xp[j] > yp[j] ? xp[j] : yp[j];
                } else {
#pragma omp simd
                    for (int64_t j = 0; j < c; j++) yp[j] += xp[j];
                }
            }
        }
        if (is_max) continue;
        const int64_t cols =
            p->count_include_pad ? (ws + k->kw < p->w + k->pr ? ws + k->kw : p->w + k->pr) - ws
                                 : (ws + k->kw < p->w ? ws + k->kw : p->w) - (ws > 0 ? ws : 0);
        /* a divide, as in pool.c, so both layouts round alike; no element: 0 */
        const float cnt = (float)(rows * cols);
#pragma omp simd
        for (int64_t j = 0; j < c; j++) yp[j] = rows * cols > 0 ? yp[j] / cnt : 0.0f;
    }
}

static void pooln_run(const sn_pool2d_params *p, const float *x, float *y, bool is_max,
                      int threads) {
    const sn_window2d *k = &p->win;
    const int64_t rows = p->n * k->oh, row = k->ow * p->c;
    const int nt = threads > 0 ? threads : 1;
#pragma omp parallel for num_threads(nt) schedule(static) \
    if (nt > 1 && rows * row * k->kh * k->kw >= SN__PAR_MIN_WORK)
    for (int64_t r = 0; r < rows; r++)
        pooln_row(p, x + r / k->oh * p->h * p->w * p->c, r % k->oh, is_max, y + r * row);
}

void sn__max_pool2d_nhwc_f32(const sn_pool2d_params *p, const float *x, float *y, int threads) {
    pooln_run(p, x, y, true, threads);
}

void sn__avg_pool2d_nhwc_f32(const sn_pool2d_params *p, const float *x, float *y, int threads) {
    pooln_run(p, x, y, false, threads);
}

#define SN__GAP_BLOCK 64 /* channels summed together in double */

void sn_cpu_global_avg_pool_nhwc_f32(const float *x, int64_t n, int64_t size, int64_t c, float *y,
                                     int threads) {
    const int nt = threads > 0 ? threads : 1;
    const int64_t blocks = (c + SN__GAP_BLOCK - 1) / SN__GAP_BLOCK;
#pragma omp parallel for num_threads(nt) schedule(static) \
    if (nt > 1 && n * size * c >= SN__PAR_MIN_WORK)
    for (int64_t t = 0; t < n * blocks; t++) {
        const int64_t img = t / blocks, c0 = t % blocks * SN__GAP_BLOCK;
        const int64_t len = c - c0 < SN__GAP_BLOCK ? c - c0 : SN__GAP_BLOCK;
        const float *xi = x + img * size * c + c0;
        double acc[SN__GAP_BLOCK] = {0};
        for (int64_t i = 0; i < size; i++)
            for (int64_t j = 0; j < len; j++) acc[j] += xi[i * c + j];
        for (int64_t j = 0; j < len; j++) y[img * c + c0 + j] = (float)(acc[j] / (double)size);
    }
}
