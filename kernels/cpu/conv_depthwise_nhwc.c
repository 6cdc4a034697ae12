/*
 * conv_depthwise_nhwc.c - the direct CPU convolution for one input channel per group
 * (depthwise, with any channel multiplier) over channels-last tensors.
 *
 * Channels are contiguous, so every tap is one multiply-add across all channels of a pixel:
 * the loops vectorise over C, with no padded copies or border special cases - a tap outside
 * the input is simply skipped. The OHWI weights ([m, kh, kw, 1]) are first transposed into
 * the scratch as one row of m values per tap, so the inner loop reads them contiguously too
 * (taps*m floats: nothing next to the convolution). One OpenMP task per output row; the bias
 * starts each sum, residual and activation follow in one pass over the finished row.
 */
#include "conv.h"

size_t sn__conv2d_depthwise_nhwc_scratch(const sn_conv2d_params *p, int threads) {
    (void)threads;
    return (size_t)(p->win.kh * p->win.kw * p->m) * sizeof(float);
}

/* One output row y[ow, m] of image x[h, w, c] at output row oh. */
SN__SIMD_CLONES
static void dwn_row(const sn_conv2d_params *p, const float *x, const float *wt, const float *b,
                    int64_t oh, float *y) {
    const sn_window2d *k = &p->win;
    const int64_t c = p->c, m = p->m, mult = m / c, hs = oh * k->sh - k->pt;
    int64_t ki0, ki1;
    sn_window_valid_range(hs, k->dh, p->h, k->kh, &ki0, &ki1);
    for (int64_t ow = 0; ow < k->ow; ow++) {
        float *restrict yp = y + ow * m;
        const int64_t ws = ow * k->sw - k->pl;
        int64_t kj0, kj1;
        sn_window_valid_range(ws, k->dw, p->w, k->kw, &kj0, &kj1);
        if (b) {
#pragma omp simd
            for (int64_t j = 0; j < m; j++) yp[j] = b[j];
        } else {
#pragma omp simd
            for (int64_t j = 0; j < m; j++) yp[j] = 0.0f;
        }
        for (int64_t ki = ki0; ki < ki1; ki++) {
            const float *xr = x + (hs + ki * k->dh) * p->w * c;
            for (int64_t kj = kj0; kj < kj1; kj++) {
                const float *restrict xp = xr + (ws + kj * k->dw) * c;
                const float *restrict wp = wt + (ki * k->kw + kj) * m;
                if (mult == 1) {
#pragma omp simd
                    for (int64_t j = 0; j < c; j++) yp[j] += xp[j] * wp[j];
                } else {
                    for (int64_t ch = 0; ch < c; ch++)
                        for (int64_t j = 0; j < mult; j++)
                            yp[ch * mult + j] += xp[ch] * wp[ch * mult + j];
                }
            }
        }
    }
}

void sn__conv2d_depthwise_nhwc_f32(const sn_conv2d_params *p, const float *x, const float *w,
                                   const float *b, const float *z, float *y, void *scratch,
                                   int threads) {
    const sn_window2d *k = &p->win;
    const int64_t taps = k->kh * k->kw, m = p->m, row = k->ow * m, rows = p->n * k->oh;
    float *wt = scratch;
    for (int64_t oc = 0; oc < m; oc++)
        for (int64_t t = 0; t < taps; t++) wt[t * m + oc] = w[oc * taps + t];
#pragma omp parallel for num_threads(threads) schedule(static) \
    if (threads > 1 && rows * row * taps >= ((int64_t)1 << 15))
    for (int64_t r = 0; r < rows; r++) {
        const int64_t img = r / k->oh, oh = r % k->oh;
        float *yr = y + r * row;
        dwn_row(p, x + img * p->h * p->w * p->c, wt, b, oh, yr);
        if (z || p->act != SN_ACT_NONE)
            sn_cpu_bias_act_f32(yr, row, 0.0f, z ? z + r * row : NULL, 1.0f, p->act, p->act_alpha,
                                p->act_beta);
    }
}
