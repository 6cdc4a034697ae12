/*
 * conv_depthwise.c - the direct CPU convolution for one input channel per group (depthwise, with
 * any channel multiplier). im2col would copy each input kh*kw times to feed GEMMs of one row per
 * group, so the taps are applied directly, one (image, input channel) plane per OpenMP task.
 *
 * The 3x3 kernel keeps its nine weights in registers and computes each output as one
 * expression, vectorised along the row; other kernels add one tap at a time to the output row.
 * Borders are handled one of two ways:
 *   - a plane that fits in L1 when padded is copied into the thread's scratch slice inside a zero
 *     border, so every output takes the fast path; a narrow stride-1 plane (7x7) is then
 *     computed as one long row, since rows of a few floats do not vectorise;
 *   - a larger plane is read in place: the fast path covers the outputs whose taps are all
 *     inside, and the few border outputs test each tap.
 * The bias starts the sum; residual and activation follow in one pass over the plane while it
 * is still in cache.
 */
#include "conv.h"

#include <omp.h>
#include <stdbool.h>
#include <string.h>

/* Forced vectorisation of the row loops. clang sometimes cannot honour it here and warns (an
 * error under -Werror), so it is left to clang's own vectoriser. */
#if defined(__clang__)
#define SN__DW_SIMD
#else
#define SN__DW_SIMD _Pragma("omp simd")
#endif

#define SN__DW_NARROW 32        /* output rows narrower than this are too short to vectorise */
#define SN__DW_PAD_MAX 8192     /* floats of a padded plane worth copying (32 KiB) */

typedef struct dw_plan {
    int64_t hp, wp;     /* the region the windows read, from (-pt, -pl) */
    bool pad;           /* copy into a zero-bordered plane */
    bool border;        /* padded but read in place: test the taps of border outputs */
    bool narrow;        /* compute the plane as one long row into tmp */
    size_t pad_floats;  /* per-thread scratch: padded plane, then the long row */
    size_t slice_floats;
} dw_plan;

static dw_plan dw_plan_make(const sn_conv2d_params *p) {
    const sn_window2d *k = &p->win;
    dw_plan d = {0};
    d.hp = (k->oh - 1) * k->sh + (k->kh - 1) * k->dh + 1;
    d.wp = (k->ow - 1) * k->sw + (k->kw - 1) * k->dw + 1;
    bool padded = k->pt || k->pl || k->pb || k->pr;
    d.narrow = k->sh == 1 && k->sw == 1 && k->ow < SN__DW_NARROW;
    d.pad = padded && (d.narrow || d.hp * d.wp <= SN__DW_PAD_MAX);
    d.narrow = d.narrow && (d.pad || !padded);
    d.border = padded && !d.pad;
    int64_t ld = d.pad ? d.wp : p->w;
    d.pad_floats = d.pad ? ((size_t)(d.hp * d.wp) + 15) & ~(size_t)15 : 0;
    size_t row = d.narrow ? (size_t)((k->oh - 1) * ld + k->ow) : 0;
    d.slice_floats = d.pad_floats + ((row + 15) & ~(size_t)15);
    return d;
}

size_t sn__conv2d_depthwise_scratch(const sn_conv2d_params *p, int threads) {
    return (size_t)(threads > 0 ? threads : 1) * dw_plan_make(p).slice_floats * sizeof(float);
}

/* The input rows into the interior of a padded plane whose border is already zero:
 * dst[r][c] = x[r - pt][c - pl]. A plain loop rather than memcpy (GCC would otherwise turn it
 * into one): rows are often a few floats, where a library call costs more than the copy. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif
static void dw_pad(const sn_conv2d_params *p, const dw_plan *d, const float *restrict x,
                   float *restrict dst) {
    const sn_window2d *k = &p->win;
    const int64_t c_lo = k->pl < d->wp ? k->pl : d->wp;
    const int64_t c_hi = k->pl + p->w < d->wp ? k->pl + p->w : d->wp;
    const int64_t r_hi = k->pt + p->h < d->hp ? k->pt + p->h : d->hp;
    for (int64_t r = k->pt; r < r_hi; r++) {
        float *restrict dr = dst + r * d->wp;
        const float *restrict xr = x + (r - k->pt) * p->w;
        SN__DW_SIMD
        for (int64_t c = c_lo; c < c_hi; c++) dr[c] = xr[c - k->pl];
    }
}

/* n outputs of a 3x3 conv along a row: output o reads columns o*sw + {0, dw, 2*dw} of rows
 * r0..r2. */
static SN__ALWAYS_INLINE void dw_row_3x3(const float *r0, const float *r1, const float *r2,
                                         const float *w, float bias, int64_t sw, int64_t dw,
                                         int64_t n, float *restrict y) {
    const float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6],
                w7 = w[7], w8 = w[8];
#define SN__DW_3X3(i, d)                                                                       \
    (bias + w0 * r0[i] + w1 * r0[(i) + (d)] + w2 * r0[(i) + 2 * (d)] + w3 * r1[i] +             \
     w4 * r1[(i) + (d)] + w5 * r1[(i) + 2 * (d)] + w6 * r2[i] + w7 * r2[(i) + (d)] +            \
     w8 * r2[(i) + 2 * (d)])
    if (sw == 1 && dw == 1) {
        SN__DW_SIMD
        for (int64_t o = 0; o < n; o++) y[o] = SN__DW_3X3(o, 1);
    } else if (sw == 2 && dw == 1) {
        /* no forced simd: clang cannot do these stride-2 loads and warns; GCC vectorises it */
        for (int64_t o = 0; o < n; o++) y[o] = SN__DW_3X3(2 * o, 1);
    } else {
        for (int64_t o = 0; o < n; o++) y[o] = SN__DW_3X3(o * sw, dw);
    }
#undef SN__DW_3X3
}

/* n outputs of any kernel along a row: start at the bias, add each tap's shifted input. */
static SN__ALWAYS_INLINE void dw_row_taps(const sn_window2d *k, const float *r0, int64_t ld,
                                          const float *wt, float bias, int64_t sw, int64_t n,
                                          float *restrict y) {
    SN__DW_SIMD
    for (int64_t o = 0; o < n; o++) y[o] = bias;
    for (int64_t ki = 0; ki < k->kh; ki++)
        for (int64_t kj = 0; kj < k->kw; kj++) {
            const float wv = wt[ki * k->kw + kj];
            const float *restrict xs = r0 + ki * k->dh * ld + kj * k->dw;
            if (sw == 1) {
                SN__DW_SIMD
                for (int64_t o = 0; o < n; o++) y[o] += wv * xs[o];
            } else if (sw == 2) {
                for (int64_t o = 0; o < n; o++) y[o] += wv * xs[2 * o];
            } else {
                for (int64_t o = 0; o < n; o++) y[o] += wv * xs[o * sw];
            }
        }
}

/* n outputs along a row whose taps are all inside src (rows ld apart); r0 is the first
 * output's top-left tap. */
static SN__ALWAYS_INLINE void dw_row(const sn_window2d *k, const float *r0, int64_t ld,
                                     const float *wt, float bias, int64_t sw, int64_t n,
                                     float *restrict y) {
    if (n <= 0) return;
    if (k->kh == 3 && k->kw == 3)
        dw_row_3x3(r0, r0 + k->dh * ld, r0 + 2 * k->dh * ld, wt, bias, sw, k->dw, n, y);
    else
        dw_row_taps(k, r0, ld, wt, bias, sw, n, y);
}

/* One output of the unpadded input x with every tap bounds-checked: the border outputs. */
static SN__ALWAYS_INLINE float dw_point(const sn_conv2d_params *p, const float *x,
                                        const float *wt, float bias, int64_t oh, int64_t ow) {
    const sn_window2d *k = &p->win;
    const int64_t hs = oh * k->sh - k->pt, ws = ow * k->sw - k->pl;
    float acc = bias;
    for (int64_t ki = 0; ki < k->kh; ki++) {
        int64_t ih = hs + ki * k->dh;
        if (ih < 0 || ih >= p->h) continue;
        for (int64_t kj = 0; kj < k->kw; kj++) {
            int64_t iw = ws + kj * k->dw;
            if (iw >= 0 && iw < p->w) acc += wt[ki * k->kw + kj] * x[ih * p->w + iw];
        }
    }
    return acc;
}

/* One output plane. src is either the padded plane (ld = wp, no border left) or the input x
 * itself (ld = w, borders tested when the op has padding). */
SN__SIMD_CLONES
static void dw_plane(const sn_conv2d_params *p, const dw_plan *d, const float *src, int64_t ld,
                     const float *wt, float bias, const float *z, float *tmp, float *y) {
    const sn_window2d *k = &p->win;
    if (d->narrow) {
        /* The outputs at oh*ld + ow of the long row are the real ones; the others straddle
         * two rows and are dropped. */
        dw_row(k, src, ld, wt, bias, 1, (k->oh - 1) * ld + k->ow, tmp);
        for (int64_t oh = 0; oh < k->oh; oh++)
            for (int64_t ow = 0; ow < k->ow; ow++) y[oh * k->ow + ow] = tmp[oh * ld + ow];
    } else if (!d->border) {
        for (int64_t oh = 0; oh < k->oh; oh++)
            dw_row(k, src + oh * k->sh * ld, ld, wt, bias, k->sw, k->ow, y + oh * k->ow);
    } else {
        int64_t c_lo, c_hi; /* output columns whose taps are all inside */
        sn_window_valid_range(-k->pl, k->sw, p->w - (k->kw - 1) * k->dw, k->ow, &c_lo, &c_hi);
        for (int64_t oh = 0; oh < k->oh; oh++) {
            float *yr = y + oh * k->ow;
            int64_t ih0 = oh * k->sh - k->pt;
            bool rows_in = ih0 >= 0 && ih0 + (k->kh - 1) * k->dh < p->h;
            int64_t lo = rows_in ? c_lo : k->ow, hi = rows_in ? c_hi : k->ow;
            for (int64_t o = 0; o < lo; o++) yr[o] = dw_point(p, src, wt, bias, oh, o);
            if (hi > lo)
                dw_row(k, src + ih0 * ld + lo * k->sw - k->pl, ld, wt, bias, k->sw, hi - lo,
                       yr + lo);
            for (int64_t o = hi; o < k->ow; o++) yr[o] = dw_point(p, src, wt, bias, oh, o);
        }
    }
    if (z || p->act != SN_ACT_NONE)
        sn_cpu_bias_act_f32(y, k->oh * k->ow, 0.0f, z, 1.0f, p->act, p->act_alpha, p->act_beta);
}

void sn__conv2d_depthwise_f32(const sn_conv2d_params *p, const float *x, const float *w,
                              const float *b, const float *z, float *y, void *scratch,
                              int threads) {
    const int64_t ohw = p->win.oh * p->win.ow, mult = p->m / p->c, tasks = p->n * p->c;
    const int64_t taps = p->win.kh * p->win.kw;
    const dw_plan d = dw_plan_make(p);
#pragma omp parallel num_threads(threads) \
    if (threads > 1 && tasks * mult * ohw * taps >= ((int64_t)1 << 15))
    {
        float *mine = d.slice_floats
                          ? (float *)scratch + (size_t)omp_get_thread_num() * d.slice_floats
                          : NULL;
        /* The border of the padded plane is the same for every task: zero it once. */
        if (d.pad) memset(mine, 0, d.pad_floats * sizeof(float));
#pragma omp for schedule(static)
        for (int64_t t = 0; t < tasks; t++) {
            int64_t img = t / p->c, ic = t % p->c;
            const float *src = x + t * p->h * p->w;
            int64_t ld = p->w;
            if (d.pad) {
                dw_pad(p, &d, src, mine);
                src = mine;
                ld = d.wp;
            }
            for (int64_t j = 0; j < mult; j++) {
                int64_t oc = ic * mult + j, plane = img * p->m + oc;
                dw_plane(p, &d, src, ld, w + oc * taps, b ? b[oc] : 0.0f,
                         z ? z + plane * ohw : NULL, d.narrow ? mine + d.pad_floats : NULL,
                         y + plane * ohw);
            }
        }
    }
}
