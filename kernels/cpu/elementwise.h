/*
 * elementwise.h - CPU kernels for unary elementwise ops: an activation over a buffer (the
 * standalone Relu/Sigmoid/... ops) and a dtype-agnostic parallel copy (Identity, Reshape,
 * Flatten). The activation math itself lives in activation.h, shared with the fused kernels.
 */
#ifndef SN_CPU_ELEMENTWISE_H
#define SN_CPU_ELEMENTWISE_H

#include <stddef.h>
#include <stdint.h>

#include "op.h"

/* y[i] = act(x[i]) for n floats; x == y (in place) is allowed. */
void sn_cpu_activation_f32(const float *x, float *y, int64_t n, sn_activation act, float alpha,
                           float beta, int threads);

/* memcpy split across threads; a no-op when src == dst. The buffers must not otherwise overlap. */
void sn_cpu_copy(const void *src, void *dst, size_t bytes, int threads);

#endif
