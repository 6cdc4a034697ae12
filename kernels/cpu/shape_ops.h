/*
 * shape_ops.h - CPU kernels for the data-movement ops: Concat and Transpose. They copy elements
 * by size, so they work for every dtype. (Reshape and Flatten are a plain sn_cpu_copy.)
 */
#ifndef SN_CPU_SHAPE_OPS_H
#define SN_CPU_SHAPE_OPS_H

#include <stddef.h>
#include <stdint.h>

/* Copy n_in inputs into an output concatenated along one axis. Seen around that axis input i
 * is [outer, axis_len[i], inner] (elements of esize bytes) and the output is
 * [outer, y_axis, inner]; the inputs land one after another from position y_offset on the
 * axis (so an op with many inputs can copy them in groups). */
void sn_cpu_concat(int n_in, const void *const *x, const int64_t *axis_len, int64_t outer,
                   int64_t inner, size_t esize, void *y, int64_t y_axis, int64_t y_offset,
                   int threads);

/* y = x transposed: output dim i is input dim perm[i]. perm must be a permutation of
 * 0..rank-1 (the op definition checks). */
void sn_cpu_transpose(const void *x, int rank, const int64_t *dims, const int *perm, size_t esize,
                      void *y, int threads);

#endif
