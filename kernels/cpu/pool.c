/*
 * pool.c - CPU MaxPool / AveragePool / GlobalAveragePool, one (image, channel) plane per OpenMP
 * task. An output row is built tap by tap: each (ki, kj) folds a shifted input row into the
 * outputs it reaches, so the inner loops carry no bounds tests, vectorise along the row, and
 * never read padding. The reach of each kernel column is the same for every row, so it is
 * computed once per call. AveragePool's divisor has a closed form (it has no dilation).
 */
#include "pool.h"

#include <float.h>
#include <stdbool.h>

#define SN__PAR_MIN_WORK ((int64_t)1 << 15) /* below this much work, forking costs more */
#define SN__POOL_MAX_KW 64                 /* kernel widths whose ranges are precomputed */

/* Outputs [lo[kj], hi[kj]) of a row are reached by kernel column kj. */
typedef struct pool_cols {
    int64_t lo[SN__POOL_MAX_KW], hi[SN__POOL_MAX_KW];
} pool_cols;

static void pool_cols_make(const sn_pool2d_params *p, pool_cols *c) {
    const sn_window2d *k = &p->win;
    for (int64_t kj = 0; kj < k->kw && kj < SN__POOL_MAX_KW; kj++)
        sn_window_valid_range(kj * k->dw - k->pl, k->sw, p->w, k->ow, &c->lo[kj], &c->hi[kj]);
}

/* One output row: yr = max (or sum) over the row's taps that land inside the input. */
static SN__ALWAYS_INLINE void pool_row(const sn_pool2d_params *p, const pool_cols *cols,
                                       const float *x, int64_t oh, bool is_max,
                                       float *restrict yr) {
    const sn_window2d *k = &p->win;
    const int64_t hs = oh * k->sh - k->pt, sw = k->sw;
    int64_t ki0, ki1;
    sn_window_valid_range(hs, k->dh, p->h, k->kh, &ki0, &ki1);
    const float init = is_max ? -FLT_MAX : 0.0f;
#pragma omp simd
    for (int64_t o = 0; o < k->ow; o++) yr[o] = init;
    for (int64_t ki = ki0; ki < ki1; ki++) {
        const float *xr = x + (hs + ki * k->dh) * p->w;
        for (int64_t kj = 0; kj < k->kw; kj++) {
            int64_t off = kj * k->dw - k->pl, lo, hi;
            if (kj < SN__POOL_MAX_KW)
                lo = cols->lo[kj], hi = cols->hi[kj];
            else
                sn_window_valid_range(off, sw, p->w, k->ow, &lo, &hi);
            if (hi <= lo) continue;
            const float *restrict xs = xr + lo * sw + off;
            float *restrict ys = yr + lo;
            const int64_t n = hi - lo;
            /* strides 1 and 2 spelled out: a constant stride vectorises, a variable one
             * gathers element by element */
#define SN__POOL_FOLD(S)                                                                       \
    do {                                                                                       \
        if (is_max)                                                                            \
            for (int64_t i = 0; i < n; i++) ys[i] = xs[i * (S)] > ys[i] ? xs[i * (S)] : ys[i]; \
        else                                                                                   \
            for (int64_t i = 0; i < n; i++) ys[i] += xs[i * (S)];                              \
    } while (0)
            if (sw == 1)
                SN__POOL_FOLD(1);
            else if (sw == 2)
                SN__POOL_FOLD(2);
            else
                SN__POOL_FOLD(sw);
#undef SN__POOL_FOLD
        }
    }
}

SN__SIMD_CLONES
static void max_plane(const sn_pool2d_params *p, const pool_cols *cols, const float *x,
                      float *y) {
    for (int64_t oh = 0; oh < p->win.oh; oh++)
        pool_row(p, cols, x, oh, true, y + oh * p->win.ow);
}

SN__SIMD_CLONES
static void avg_plane(const sn_pool2d_params *p, const pool_cols *cols, const float *x,
                      float *y) {
    const sn_window2d *k = &p->win;
    for (int64_t oh = 0; oh < k->oh; oh++) {
        float *restrict yr = y + oh * k->ow;
        pool_row(p, cols, x, oh, false, yr);
        /* count_include_pad counts the padding but not the overhang that ceil_mode adds past
         * it (ONNX Runtime and PyTorch agree on this); otherwise only real elements count. */
        const int64_t hs = oh * k->sh - k->pt;
        const int64_t rows = p->count_include_pad
                                 ? (hs + k->kh < p->h + k->pb ? hs + k->kh : p->h + k->pb) - hs
                                 : (hs + k->kh < p->h ? hs + k->kh : p->h) - (hs > 0 ? hs : 0);
        for (int64_t o = 0; o < k->ow; o++) {
            const int64_t ws = o * k->sw - k->pl;
            const int64_t cols_n =
                p->count_include_pad
                    ? (ws + k->kw < p->w + k->pr ? ws + k->kw : p->w + k->pr) - ws
                    : (ws + k->kw < p->w ? ws + k->kw : p->w) - (ws > 0 ? ws : 0);
            yr[o] = rows * cols_n > 0 ? yr[o] / (float)(rows * cols_n) : 0.0f;
        }
    }
}

void sn_cpu_max_pool2d_f32(const sn_pool2d_params *p, const float *x, float *y, int threads) {
    if (p->nhwc) {
        sn__max_pool2d_nhwc_f32(p, x, y, threads);
        return;
    }
    const int64_t planes = p->n * p->c, in_sz = p->h * p->w, out_sz = p->win.oh * p->win.ow;
    const int nt = threads > 0 ? threads : 1;
    pool_cols cols;
    pool_cols_make(p, &cols);
#pragma omp parallel for num_threads(nt) schedule(static) \
    if (nt > 1 && planes * out_sz * p->win.kh * p->win.kw >= SN__PAR_MIN_WORK)
    for (int64_t i = 0; i < planes; i++) max_plane(p, &cols, x + i * in_sz, y + i * out_sz);
}

void sn_cpu_avg_pool2d_f32(const sn_pool2d_params *p, const float *x, float *y, int threads) {
    if (p->nhwc) {
        sn__avg_pool2d_nhwc_f32(p, x, y, threads);
        return;
    }
    const int64_t planes = p->n * p->c, in_sz = p->h * p->w, out_sz = p->win.oh * p->win.ow;
    const int nt = threads > 0 ? threads : 1;
    pool_cols cols;
    pool_cols_make(p, &cols);
#pragma omp parallel for num_threads(nt) schedule(static) \
    if (nt > 1 && planes * out_sz * p->win.kh * p->win.kw >= SN__PAR_MIN_WORK)
    for (int64_t i = 0; i < planes; i++) avg_plane(p, &cols, x + i * in_sz, y + i * out_sz);
}

void sn_cpu_global_avg_pool_f32(const float *x, int64_t planes, int64_t size, float *y,
                                int threads) {
    const int nt = threads > 0 ? threads : 1;
#pragma omp parallel for num_threads(nt) schedule(static) \
    if (nt > 1 && planes * size >= SN__PAR_MIN_WORK)
    for (int64_t i = 0; i < planes; i++) {
        const float *xp = x + i * size;
        double sum = 0.0;
        for (int64_t j = 0; j < size; j++) sum += xp[j];
        y[i] = (float)(sum / (double)size);
    }
}
