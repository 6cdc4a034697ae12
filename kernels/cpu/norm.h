/*
 * norm.h - CPU per-channel affine kernels over [N, C, inner] f32 tensors: inference-mode
 * BatchNormalization and BiasAdd. One (image, channel) plane per OpenMP task. The _nhwc forms
 * take channels-last [rows, C] tensors (rows = N*H*W) and vectorise along the channels.
 */
#ifndef SN_CPU_NORM_H
#define SN_CPU_NORM_H

#include <stdint.h>

/* y = (x - mean[c]) * scale[c] / sqrt(var[c] + eps) + bias[c]. y may equal x. */
void sn_cpu_batchnorm_f32(const float *x, int64_t n, int64_t c, int64_t inner, const float *scale,
                          const float *bias, const float *mean, const float *var, float eps,
                          float *y, int threads);

/* y = x + b[c]. y may equal x. */
void sn_cpu_bias_add_f32(const float *x, int64_t n, int64_t c, int64_t inner, const float *b,
                         float *y, int threads);

/* Channels-last forms of the two above over x[rows, c]. y may equal x. */
void sn_cpu_batchnorm_nhwc_f32(const float *x, int64_t rows, int64_t c, const float *scale,
                               const float *bias, const float *mean, const float *var, float eps,
                               float *y, int threads);
void sn_cpu_bias_add_nhwc_f32(const float *x, int64_t rows, int64_t c, const float *b, float *y,
                              int threads);

#endif
