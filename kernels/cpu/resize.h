/*
 * resize.h - CPU kernel for Resize of the H and W axes of NCHW tensors, nearest or bilinear,
 * with ONNX Resize (opset 13+) coordinate transformations and nearest rounding modes. The
 * coordinate helpers are public so every backend maps pixels the same way.
 */
#ifndef SN_CPU_RESIZE_H
#define SN_CPU_RESIZE_H

#include <stddef.h>
#include <stdint.h>

#include "op.h"

typedef enum sn_interp_mode { SN_INTERP_NEAREST = 0, SN_INTERP_LINEAR = 1 } sn_interp_mode;

typedef struct sn_resize_params {
    sn_interp_mode mode;
    sn_resize_coord coord;
    sn_nearest_mode nearest;
    /* Per-axis scale as ONNX uses it in the coordinate transform: the `scales` attribute when
     * given, else output length / input length. */
    double scale_h, scale_w;
} sn_resize_params;

/* Source coordinate of output index o along one axis (ONNX coordinate_transformation_mode). */
double sn_resize_source_coord(int64_t o, double scale, int64_t in_len, int64_t out_len,
                              sn_resize_coord coord);
/* Nearest source index for a source coordinate, clamped to [0, in_len). */
int64_t sn_resize_nearest_index(double xs, int64_t in_len, sn_nearest_mode mode);

/* Scratch bytes sn_cpu_resize_f32 needs (its per-axis index and weight tables). */
size_t sn_cpu_resize_scratch(int64_t out_h, int64_t out_w);

/* y[planes, oh, ow] = resize(x[planes, ih, iw]) where planes = N*C. */
void sn_cpu_resize_f32(const float *x, int64_t planes, int64_t ih, int64_t iw, float *y,
                       int64_t oh, int64_t ow, const sn_resize_params *p, void *scratch,
                       int threads);

/* Channels-last: y[n, oh, ow, c] = resize(x[n, ih, iw, c]); same tables and scratch. */
void sn_cpu_resize_nhwc_f32(const float *x, int64_t n, int64_t ih, int64_t iw, int64_t c,
                            float *y, int64_t oh, int64_t ow, const sn_resize_params *p,
                            void *scratch, int threads);

#endif
