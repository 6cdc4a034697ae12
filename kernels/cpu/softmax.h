/*
 * softmax.h - the CPU softmax over one axis of a dense f32 tensor seen as [outer, len, inner].
 */
#ifndef SN_CPU_SOFTMAX_H
#define SN_CPU_SOFTMAX_H

#include <stdint.h>

/* y = exp(x - max) / sum(exp(x - max)) along the middle dim (the max keeps exp from
 * overflowing; the sum is kept in double). y may equal x. No scratch. */
void sn_cpu_softmax_f32(const float *x, int64_t outer, int64_t len, int64_t inner, float *y,
                        int threads);

#endif
