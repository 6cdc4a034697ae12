/*
 * slice.c - Slice: a strided copy of a sub-tensor. Rows of the output (its last dim) are copied
 * in parallel; a row with step 1 is one memcpy.
 */
#include "slice.h"

#include <string.h>

#include "sentinel.h"

void sn_slice_axis(int64_t dim, int64_t start, int64_t end, int64_t step, int64_t *first,
                   int64_t *len) {
    /* A step longer than the dim takes one element at most; clamping it keeps the arithmetic
     * below from overflowing. */
    if (step > dim) step = dim + 1;
    if (step < -dim - 1) step = -dim - 1;
    if (start < 0) start += dim;
    if (end < 0) end += dim;
    if (step > 0) {
        start = start < 0 ? 0 : start > dim ? dim : start;
        end = end < 0 ? 0 : end > dim ? dim : end;
        *len = end > start ? (end - start + step - 1) / step : 0;
    } else {
        start = start < 0 ? -1 : start > dim - 1 ? dim - 1 : start;
        end = end < -1 ? -1 : end > dim - 1 ? dim - 1 : end;
        *len = start > end ? (start - end + (-step) - 1) / (-step) : 0;
    }
    *first = start;
}

void sn_cpu_slice(const void *x, int rank, const int64_t *xd, const int64_t *first,
                  const int64_t *step, const int64_t *yd, size_t esize, void *y, int threads) {
    int64_t xs[SN_MAX_RANK + 1], rows = 1, ynumel = 1;
    xs[rank > 0 ? rank - 1 : 0] = 1;
    for (int k = rank - 2; k >= 0; k--) xs[k] = xs[k + 1] * xd[k + 1];
    for (int k = 0; k < rank; k++) ynumel *= yd[k];
    if (ynumel == 0) return;
    if (rank == 0) {
        memcpy(y, x, esize);
        return;
    }
    for (int k = 0; k < rank - 1; k++) rows *= yd[k];
    const int64_t cols = yd[rank - 1], cstep = step[rank - 1];
    int nt = threads > 0 ? threads : 1;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && rows * cols > 32768)
    for (int64_t r = 0; r < rows; r++) {
        /* The x offset of this row's first element, from r's coordinates (last dim first). */
        int64_t off = first[rank - 1] * xs[rank - 1], rem = r;
        for (int k = rank - 2; k >= 0; k--) {
            int64_t i = rem % yd[k];
            rem /= yd[k];
            off += (first[k] + i * step[k]) * xs[k];
        }
        const char *src = (const char *)x + (size_t)off * esize;
        char *dst = (char *)y + (size_t)(r * cols) * esize;
        if (cstep == 1) {
            memcpy(dst, src, (size_t)cols * esize);
        } else {
            for (int64_t j = 0; j < cols; j++)
                memcpy(dst + (size_t)j * esize, src + (ptrdiff_t)(j * cstep) * (ptrdiff_t)esize,
                       esize);
        }
    }
}
