/*
 * conv.c - CPU 2-D convolution, one image at a time, in one of three ways:
 *   - pointwise (1x1, stride 1, no padding): the image already is the GEMM's right-hand matrix
 *     [c/group, h*w], so sgemm runs on it directly;
 *   - one input channel per group (depthwise, with any channel multiplier): the direct kernel
 *     in conv_depthwise.c;
 *   - otherwise im2col into the scratch buffer, then one sgemm per group.
 * Channels-last (NHWC) convolutions take their own paths, in conv_nhwc.c and
 * conv_depthwise_nhwc.c.
 * Bias, residual and activation are applied together in one pass after each image's GEMM, while
 * the image's output is still warm.
 *
 * Threads: a batch of at least as many images as threads runs them side by side, one per
 * thread, each with a single-threaded sgemm and its own slice of the scratch - when OpenBLAS is
 * its OpenMP build,
 * whose sgemm runs on the calling thread alone inside an OpenMP region. One image's GEMMs are
 * often too small to keep OpenBLAS's threads busy (resnet50's last stage: 7x7 outputs). A smaller
 * batch, or the pthread build of OpenBLAS, runs the images in turn with OpenBLAS's threads.
 */
#include "conv.h"

#include <cblas.h>
#include <omp.h>
#include <stdbool.h>
#include <string.h>

#include "activation.h"

#define SN__EPILOGUE_CHUNK 256             /* floats added and activated while in L1 */
#define SN__PAR_MIN_WORK ((int64_t)1 << 15) /* below this much work, forking costs more */

static bool conv_is_pointwise(const sn_conv2d_params *p) {
    const sn_window2d *k = &p->win;
    return k->kh == 1 && k->kw == 1 && k->sh == 1 && k->sw == 1 && k->pt == 0 && k->pl == 0 &&
           k->pb == 0 && k->pr == 0;
}

static bool conv_is_depthwise(const sn_conv2d_params *p) { return p->group == p->c; }

/* How many images run at once (see the top of the file). openblas_get_parallel(): 2 = OpenMP. */
static int conv_image_threads(const sn_conv2d_params *p, int threads) {
    /* A batch smaller than the threads keeps OpenBLAS's threads on each image instead. */
    if (threads < 2 || p->n < threads || openblas_get_parallel() != 2) return 1;
    return threads;
}

size_t sn_cpu_conv2d_scratch(const sn_conv2d_params *p, int threads) {
    if (p->nhwc)
        return conv_is_depthwise(p) ? sn__conv2d_depthwise_nhwc_scratch(p, threads)
                                    : sn__conv2d_nhwc_scratch(p, threads);
    if (conv_is_depthwise(p)) return sn__conv2d_depthwise_scratch(p, threads);
    if (conv_is_pointwise(p)) return 0;
    int64_t rows = p->c / p->group * p->win.kh * p->win.kw;
    return (size_t)rows * (size_t)(p->win.oh * p->win.ow) * sizeof(float) *
           (size_t)conv_image_threads(p, threads);
}

/* One pass: y = act(y + bias + zscale*z) with act a constant, so sn_activate's switch folds away
 * and the loop vectorises. */
#define SN__BIAS_ACT(ACT)                                                                       \
    do {                                                                                       \
        if (z) {                                                                               \
            _Pragma("omp simd") for (int64_t i = 0; i < n; i++) y[i] =                         \
                sn_activate(y[i] + (bias + zscale * z[i]), ACT, alpha, beta);                  \
        } else {                                                                               \
            _Pragma("omp simd") for (int64_t i = 0; i < n; i++) y[i] =                         \
                sn_activate(y[i] + bias, ACT, alpha, beta);                                    \
        }                                                                                      \
    } while (0)

SN__SIMD_CLONES
void sn_cpu_bias_act_f32(float *restrict y, int64_t n, float bias, const float *restrict z,
                         float zscale, sn_activation act, float alpha, float beta) {
    switch (act) {
    case SN_ACT_NONE: SN__BIAS_ACT(SN_ACT_NONE); return;
    case SN_ACT_RELU: SN__BIAS_ACT(SN_ACT_RELU); return;
    case SN_ACT_CLIP: SN__BIAS_ACT(SN_ACT_CLIP); return;
    case SN_ACT_LEAKY_RELU: SN__BIAS_ACT(SN_ACT_LEAKY_RELU); return;
    case SN_ACT_HARD_SIGMOID: SN__BIAS_ACT(SN_ACT_HARD_SIGMOID); return;
    case SN_ACT_HARD_SWISH: SN__BIAS_ACT(SN_ACT_HARD_SWISH); return;
    default: break;
    }
    /* The activations that call libm: add, then activate each chunk while it is in L1. */
    for (int64_t lo = 0; lo < n; lo += SN__EPILOGUE_CHUNK) {
        int64_t len = n - lo < SN__EPILOGUE_CHUNK ? n - lo : SN__EPILOGUE_CHUNK;
        float *restrict yc = y + lo;
        if (z) {
            const float *restrict zc = z + lo;
#pragma omp simd
            for (int64_t i = 0; i < len; i++) yc[i] += bias + zscale * zc[i];
        } else if (bias != 0.0f) {
#pragma omp simd
            for (int64_t i = 0; i < len; i++) yc[i] += bias;
        }
        sn_activate_array(yc, (long)len, act, alpha, beta);
    }
}

void sn_cpu_rows_bias_act_f32(float *y, int64_t rows, int64_t m, const float *b, const float *z,
                              sn_activation act, float alpha, float beta, int threads) {
    if (!b && !z && act == SN_ACT_NONE) return;
#pragma omp parallel for num_threads(threads) schedule(static) \
    if (threads > 1 && rows * m >= SN__PAR_MIN_WORK)
    for (int64_t r = 0; r < rows; r++) {
        float *yr = y + r * m;
        const float *zr = z ? z + r * m : NULL;
        /* The bias row rides in the z slot when there is no residual: one pass either way. */
        if (b && zr) {
            float *restrict yv = yr;
#pragma omp simd
            for (int64_t j = 0; j < m; j++) yv[j] += b[j];
        }
        sn_cpu_bias_act_f32(yr, m, 0.0f, zr ? zr : b, 1.0f, act, alpha, beta);
    }
}

/* Column matrix of one group of one image: row (c, ki, kj), column (oh, ow). */
static void conv_im2col(const sn_conv2d_params *p, const float *x, int64_t channels, float *col,
                        int threads) {
    const sn_window2d *k = &p->win;
    const int64_t h = p->h, w = p->w, ow_n = k->ow, ohw = k->oh * k->ow;
    const int64_t rows = channels * k->kh * k->kw;
#pragma omp parallel for num_threads(threads) schedule(static) \
    if (threads > 1 && rows * ohw >= SN__PAR_MIN_WORK)
    for (int64_t r = 0; r < rows; r++) {
        int64_t c = r / (k->kh * k->kw), ki = r / k->kw % k->kh, kj = r % k->kw;
        const float *xc = x + c * h * w;
        float *dst = col + r * ohw;
        int64_t off = kj * k->dw - k->pl, lo, hi;
        sn_window_valid_range(off, k->sw, w, ow_n, &lo, &hi);
        for (int64_t oh = 0; oh < k->oh; oh++) {
            int64_t ih = oh * k->sh - k->pt + ki * k->dh;
            float *d = dst + oh * ow_n;
            if (ih < 0 || ih >= h) {
                memset(d, 0, (size_t)ow_n * sizeof(float));
                continue;
            }
            memset(d, 0, (size_t)lo * sizeof(float));
            memset(d + hi, 0, (size_t)(ow_n - hi) * sizeof(float));
            if (hi == lo) continue;
            const float *src = xc + ih * w + lo * k->sw + off;
            if (k->sw == 1) {
                memcpy(d + lo, src, (size_t)(hi - lo) * sizeof(float));
            } else {
                for (int64_t i = 0; i < hi - lo; i++) d[lo + i] = src[i * k->sw];
            }
        }
    }
}

static void conv_epilogue(const sn_conv2d_params *p, const float *b, const float *z, float *y,
                          int threads) {
    const int64_t ohw = p->win.oh * p->win.ow;
#pragma omp parallel for num_threads(threads) schedule(static) \
    if (threads > 1 && p->m * ohw >= SN__PAR_MIN_WORK)
    for (int64_t m = 0; m < p->m; m++)
        sn_cpu_bias_act_f32(y + m * ohw, ohw, b ? b[m] : 0.0f, z ? z + m * ohw : NULL, 1.0f,
                            p->act, p->act_alpha, p->act_beta);
}

/* Image `img` of the batch: im2col (unless pointwise) into col, one sgemm per group, then the
 * epilogue; `threads` for the im2col and epilogue loops (and OpenBLAS's own, outside a region). */
static void conv_image(const sn_conv2d_params *p, const float *x, const float *w, const float *b,
                       const float *z, float *y, float *col, int64_t img, int threads) {
    const bool pointwise = conv_is_pointwise(p);
    const int64_t cg = p->c / p->group, mg = p->m / p->group;
    const int64_t kdim = cg * p->win.kh * p->win.kw, ohw = p->win.oh * p->win.ow;
    const int64_t in_img = p->c * p->h * p->w, out_img = p->m * ohw;
    const float *xi = x + img * in_img;
    float *yi = y + img * out_img;
    for (int64_t g = 0; g < p->group; g++) {
        const float *rhs = xi + g * cg * p->h * p->w;
        if (!pointwise) {
            conv_im2col(p, rhs, cg, col, threads);
            rhs = col;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)mg, (blasint)ohw,
                    (blasint)kdim, 1.0f, w + g * mg * kdim, (blasint)kdim, rhs, (blasint)ohw, 0.0f,
                    yi + g * mg * ohw, (blasint)ohw);
    }
    if (b || z || p->act != SN_ACT_NONE)
        conv_epilogue(p, b, z ? z + img * out_img : NULL, yi, threads);
}

void sn_cpu_conv2d_f32(const sn_conv2d_params *p, const float *x, const float *w, const float *b,
                       const float *z, float *y, void *scratch, int threads) {
    if (threads < 1) threads = 1;
    if (p->nhwc) {
        if (conv_is_depthwise(p))
            sn__conv2d_depthwise_nhwc_f32(p, x, w, b, z, y, scratch, threads);
        else
            sn__conv2d_nhwc_f32(p, x, w, b, z, y, scratch, threads);
        return;
    }
    if (conv_is_depthwise(p)) {
        sn__conv2d_depthwise_f32(p, x, w, b, z, y, scratch, threads);
        return;
    }
    const int par = conv_image_threads(p, threads);
    if (par > 1) {
        const size_t per = conv_is_pointwise(p) ? 0
                                                : (size_t)(p->c / p->group * p->win.kh * p->win.kw) *
                                                      (size_t)(p->win.oh * p->win.ow);
#pragma omp parallel for num_threads(par) schedule(dynamic, 1)
        for (int64_t img = 0; img < p->n; img++)
            conv_image(p, x, w, b, z, y, (float *)scratch + per * (size_t)omp_get_thread_num(), img,
                       1);
        return;
    }
    for (int64_t img = 0; img < p->n; img++) conv_image(p, x, w, b, z, y, scratch, img, threads);
}
