/*
 * conv.h - the CPU 2-D convolution kernel (Conv and FusedConv), the 2-D window geometry it shares
 * with the pooling kernels, and the fused bias/residual/activation epilogue that the dense
 * kernels reuse. Kernels take resolved shapes and raw buffers; reading and checking a node's
 * attributes is the op definition's job (graph/ops/conv.c).
 */
#ifndef SN_CPU_CONV_H
#define SN_CPU_CONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "op.h"

/* Hot loops are also built for AVX2 and AVX-512 and picked at load time (GCC on x86-64): the
 * library targets baseline x86-64 so one binary runs everywhere, and these loops are where wider
 * vectors pay. Callees are inlined into the clone or they run at the baseline width. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define SN__SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SN__SIMD_CLONES
#endif
#define SN__ALWAYS_INLINE inline __attribute__((always_inline))

/* A sliding window over H x W: kernel, strides, dilations, pads (top, left, bottom, right) and
 * the output size it produces. */
typedef struct sn_window2d {
    int64_t kh, kw;
    int64_t sh, sw;
    int64_t dh, dw;
    int64_t pt, pl, pb, pr;
    int64_t oh, ow;
} sn_window2d;

/* The outputs o in [0, out) for which off + o*step lands in [0, len): [*lo, *hi) (empty when
 * *lo == *hi). Used with (off, step) = (window start, dilation) for the taps of one window, and
 * with (tap offset, stride) for the outputs one tap reaches. */
static inline void sn_window_valid_range(int64_t off, int64_t step, int64_t len, int64_t out,
                                         int64_t *lo, int64_t *hi) {
    int64_t a = off >= 0 ? 0 : (-off + step - 1) / step;
    int64_t b = len - 1 - off < 0 ? 0 : (len - 1 - off) / step + 1;
    if (a > out) a = out;
    if (b > out) b = out;
    if (b < a) b = a;
    *lo = a;
    *hi = b;
}

/* y = act(conv(x, w) + b + z) over NCHW tensors: x[n,c,h,w], w[m,c/group,kh,kw], b[m] or NULL,
 * z[n,m,oh,ow] or NULL, y[n,m,oh,ow]. With nhwc: x[n,h,w,c], w[m,kh,kw,c/group] (OHWI: one
 * output channel's taps are one contiguous row, as in NCHW, so a GEMM reads W^T directly and
 * BatchNorm folding scales rows either way), z and y [n,oh,ow,m]. */
typedef struct sn_conv2d_params {
    int64_t n, c, h, w; /* input */
    int64_t m, group;   /* output channels, groups (c and m are multiples of group) */
    sn_window2d win;
    sn_activation act;
    float act_alpha, act_beta;
    bool nhwc;
} sn_conv2d_params;

/* Bytes of scratch sn_cpu_conv2d_f32 needs with this many threads: the im2col column matrix of
 * one group, or a padded input plane per thread for the depthwise path; 0 when neither is
 * built. */
size_t sn_cpu_conv2d_scratch(const sn_conv2d_params *p, int threads);

/* Uses OpenBLAS sgemm (called outside any OpenMP region) and OpenMP with `threads` threads. */
void sn_cpu_conv2d_f32(const sn_conv2d_params *p, const float *x, const float *w, const float *b,
                       const float *z, float *y, void *scratch, int threads);

/* Internal to conv.c: the direct path for group == c (conv_depthwise.c) and its scratch. */
size_t sn__conv2d_depthwise_scratch(const sn_conv2d_params *p, int threads);
void sn__conv2d_depthwise_f32(const sn_conv2d_params *p, const float *x, const float *w,
                              const float *b, const float *z, float *y, void *scratch,
                              int threads);

/* Internal to conv.c: the NHWC paths (conv_nhwc.c, conv_depthwise_nhwc.c) and their scratch. */
size_t sn__conv2d_nhwc_scratch(const sn_conv2d_params *p, int threads);
void sn__conv2d_nhwc_f32(const sn_conv2d_params *p, const float *x, const float *w,
                         const float *b, const float *z, float *y, void *scratch, int threads);
size_t sn__conv2d_depthwise_nhwc_scratch(const sn_conv2d_params *p, int threads);
void sn__conv2d_depthwise_nhwc_f32(const sn_conv2d_params *p, const float *x, const float *w,
                                   const float *b, const float *z, float *y, void *scratch,
                                   int threads);

/* The epilogue, in one pass over y: y[i] = act(y[i] + bias + zscale * z[i]) for n floats
 * (z may be NULL, and must not overlap y). */
void sn_cpu_bias_act_f32(float *y, int64_t n, float bias, const float *z, float zscale,
                         sn_activation act, float alpha, float beta);

/* The channels-last epilogue: rows of m floats, y[r][j] = act(y[r][j] + b[j] + z[r][j]) (b and
 * z may be NULL), rows split over up to `threads` OpenMP threads. */
void sn_cpu_rows_bias_act_f32(float *y, int64_t rows, int64_t m, const float *b, const float *z,
                              sn_activation act, float alpha, float beta, int threads);

#endif
