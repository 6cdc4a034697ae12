/*
 * conv_nhwc.c - CPU 2-D convolution over channels-last (NHWC) tensors, with OHWI weights
 * ([m, kh, kw, c/group]), for every case but depthwise (conv_depthwise_nhwc.c):
 *   - pointwise (1x1, stride 1, no padding): the input already is the GEMM's left matrix
 *     [pixels, c], so one sgemm per group covers the whole batch: Y[pixels, m] = X W^T;
 *   - otherwise im2col into the scratch buffer - one row of kh*kw*c/group values per output
 *     pixel, in the weights' (ki, kj, c) order, so a run of taps along a row is one copy of
 *     contiguous channels - then one sgemm per group and image.
 * A group's channels are a column block of X and Y (leading dimensions c and m), so groups
 * need no copies. The bias/residual/activation epilogue is one pass over the output rows.
 * sgemm is never called from inside an OpenMP region: OpenBLAS runs its own threads.
 */
#include <cblas.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include "conv.h"

#define SN__PAR_MIN_WORK ((int64_t)1 << 15) /* below this much work, forking costs more */

static bool nhwc_is_pointwise(const sn_conv2d_params *p) {
    const sn_window2d *k = &p->win;
    return k->kh == 1 && k->kw == 1 && k->sh == 1 && k->sw == 1 && k->pt == 0 && k->pl == 0 &&
           k->pb == 0 && k->pr == 0;
}

size_t sn__conv2d_nhwc_scratch(const sn_conv2d_params *p, int threads) {
    (void)threads;
    if (nhwc_is_pointwise(p)) return 0;
    int64_t cols = p->c / p->group * p->win.kh * p->win.kw;
    return (size_t)cols * (size_t)(p->win.oh * p->win.ow) * sizeof(float);
}

/* The column matrix of channels [c0, c0 + cg) of one image x[h, w, c]: row (oh, ow) holds, for
 * each tap (ki, kj) in order, the cg channels under it (zeros where the tap is in the padding). */
static void nhwc_im2col(const sn_conv2d_params *p, const float *x, int64_t c0, int64_t cg,
                        float *col, int threads) {
    const sn_window2d *k = &p->win;
    const int64_t c = p->c, kdim = k->kh * k->kw * cg, ohw = k->oh * k->ow;
    /* With one group and undilated columns, a row's taps inside the input are one contiguous
     * run of x: copy it at once. */
    const bool runs = cg == c && k->dw == 1;
#pragma omp parallel for num_threads(threads) schedule(static) \
    if (threads > 1 && ohw * kdim >= SN__PAR_MIN_WORK)
    for (int64_t r = 0; r < ohw; r++) {
        const int64_t oh = r / k->ow, ow = r % k->ow;
        const int64_t hs = oh * k->sh - k->pt, ws = ow * k->sw - k->pl;
        float *dst = col + r * kdim;
        int64_t lo, hi; /* kernel columns inside the input */
        sn_window_valid_range(ws, k->dw, p->w, k->kw, &lo, &hi);
        for (int64_t ki = 0; ki < k->kh; ki++, dst += k->kw * cg) {
            const int64_t ih = hs + ki * k->dh;
            if (ih < 0 || ih >= p->h || hi <= lo) {
                memset(dst, 0, (size_t)(k->kw * cg) * sizeof(float));
                continue;
            }
            memset(dst, 0, (size_t)(lo * cg) * sizeof(float));
            memset(dst + hi * cg, 0, (size_t)((k->kw - hi) * cg) * sizeof(float));
            /* the first tap inside: column ws + lo*dw >= 0 */
            const float *xr = x + (ih * p->w + ws + lo * k->dw) * c + c0;
            if (runs) {
                memcpy(dst + lo * cg, xr, (size_t)((hi - lo) * cg) * sizeof(float));
            } else {
                for (int64_t kj = lo; kj < hi; kj++)
                    memcpy(dst + kj * cg, xr + (kj - lo) * k->dw * c, (size_t)cg * sizeof(float));
            }
        }
    }
}

void sn__conv2d_nhwc_f32(const sn_conv2d_params *p, const float *x, const float *w,
                         const float *b, const float *z, float *y, void *scratch, int threads) {
    const int64_t cg = p->c / p->group, mg = p->m / p->group;
    const int64_t kdim = cg * p->win.kh * p->win.kw, ohw = p->win.oh * p->win.ow;
    if (nhwc_is_pointwise(p)) {
        /* Every image's pixels are rows of one matrix (in as few sgemms as int rows allow). */
        const int64_t per = INT_MAX / ohw;
        for (int64_t img = 0; img < p->n; img += per) {
            const int64_t rows = (p->n - img < per ? p->n - img : per) * ohw;
            for (int64_t g = 0; g < p->group; g++)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)rows, (blasint)mg,
                            (blasint)kdim, 1.0f, x + img * ohw * p->c + g * cg, (blasint)p->c,
                            w + g * mg * kdim, (blasint)kdim, 0.0f,
                            y + img * ohw * p->m + g * mg, (blasint)p->m);
        }
    } else {
        float *col = scratch;
        for (int64_t img = 0; img < p->n; img++) {
            const float *xi = x + img * p->h * p->w * p->c;
            float *yi = y + img * ohw * p->m;
            for (int64_t g = 0; g < p->group; g++) {
                nhwc_im2col(p, xi, g * cg, cg, col, threads);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)ohw, (blasint)mg,
                            (blasint)kdim, 1.0f, col, (blasint)kdim, w + g * mg * kdim,
                            (blasint)kdim, 0.0f, yi + g * mg, (blasint)p->m);
            }
        }
    }
    sn_cpu_rows_bias_act_f32(y, p->n * ohw, p->m, b, z, p->act, p->act_alpha, p->act_beta,
                             threads);
}
