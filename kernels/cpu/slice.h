/*
 * slice.h - the CPU kernel of Slice (strided sub-tensor copy, any dtype) and ONNX's rule for
 * clamping one axis's start/end/step, shared by the op definition and the ONNX importer.
 */
#ifndef SN_CPU_SLICE_H
#define SN_CPU_SLICE_H

#include <stddef.h>
#include <stdint.h>

/* ONNX Slice on one axis of size dim: negative start/end count from the end, then they are
 * clamped ([0,dim] for step > 0, [-1,dim-1] for step < 0). Gives the first index taken and the
 * number of elements. step must not be 0. */
void sn_slice_axis(int64_t dim, int64_t start, int64_t end, int64_t step, int64_t *first,
                   int64_t *len);

/* y[i...] = x[first[k] + i_k*step[k] ...] for an output of dims yd (elements of esize bytes).
 * Every index touched lies inside x (the caller's first/len come from sn_slice_axis). */
void sn_cpu_slice(const void *x, int rank, const int64_t *xd, const int64_t *first,
                  const int64_t *step, const int64_t *yd, size_t esize, void *y, int threads);

#endif
