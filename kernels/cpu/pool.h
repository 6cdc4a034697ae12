/*
 * pool.h - CPU pooling kernels over NCHW (or, with nhwc, channels-last) f32: MaxPool and
 * AveragePool with any window (strides, asymmetric pads, dilation for max, ceil_mode already
 * folded into the output size), and GlobalAveragePool. The window geometry is conv.h's sn_window2d.
 */
#ifndef SN_CPU_POOL_H
#define SN_CPU_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "conv.h"

typedef struct sn_pool2d_params {
    int64_t n, c, h, w;
    sn_window2d win;        /* oh, ow already computed (with ceil_mode when asked) */
    bool count_include_pad; /* AveragePool: divide by the window size clipped to the padded
                               input, not by the count of real elements */
    bool nhwc;              /* x [n,h,w,c] and y [n,oh,ow,c] (pool_nhwc.c) */
} sn_pool2d_params;

/* Padding never wins the max; a window with no real element (possible only with dilation)
 * yields -FLT_MAX, as in ONNX Runtime. */
void sn_cpu_max_pool2d_f32(const sn_pool2d_params *p, const float *x, float *y, int threads);
void sn_cpu_avg_pool2d_f32(const sn_pool2d_params *p, const float *x, float *y, int threads);

/* y[i] = mean of the `size` floats of plane i, for `planes` planes (summed in double). */
void sn_cpu_global_avg_pool_f32(const float *x, int64_t planes, int64_t size, float *y,
                                int threads);

/* Channels-last: y[i, ch] = mean over j of x[i, j, ch] for x [n, size, c] (summed in double). */
void sn_cpu_global_avg_pool_nhwc_f32(const float *x, int64_t n, int64_t size, int64_t c, float *y,
                                     int threads);

/* The NHWC window pools (pool_nhwc.c), which the two above dispatch to when p->nhwc. */
void sn__max_pool2d_nhwc_f32(const sn_pool2d_params *p, const float *x, float *y, int threads);
void sn__avg_pool2d_nhwc_f32(const sn_pool2d_params *p, const float *x, float *y, int threads);

#endif
