/*
 * pad.c - Pad over any rank. The output is walked as rows of its last dim: each output row
 * either maps (through the per-dim index rule of the mode) to one input row, or - in constant
 * mode - lies wholly in the padding. A row is its left pad, one memcpy, its right pad.
 */
#include "pad.h"

#include <string.h>

#include "sentinel.h"

#define SN__PAD_TASK ((int64_t)16384) /* output elements per task */

/* Input index for output index o along a dim of length d with begin pad b; -1 = padding
 * (constant mode). */
static inline int64_t sn__pad_src(int64_t o, int64_t b, int64_t d, sn_pad_mode mode) {
    int64_t i = o - b;
    if (i >= 0 && i < d) return i;
    switch (mode) {
    case SN_PAD_REFLECT: return i < 0 ? -i : 2 * (d - 1) - i;
    case SN_PAD_EDGE: return i < 0 ? 0 : d - 1;
    default: return -1;
    }
}

static void sn__pad_row(const float *xr, int64_t d, int64_t b, int64_t e, sn_pad_mode mode,
                        float value, float *yr) {
    if (!xr) { /* a row wholly in constant padding */
        for (int64_t j = 0; j < d + b + e; j++) yr[j] = value;
        return;
    }
    if (mode == SN_PAD_CONSTANT) {
        for (int64_t j = 0; j < b; j++) yr[j] = value;
        for (int64_t j = 0; j < e; j++) yr[b + d + j] = value;
    } else {
        for (int64_t j = 0; j < b; j++) yr[j] = xr[sn__pad_src(j, b, d, mode)];
        for (int64_t j = b + d; j < b + d + e; j++) yr[j] = xr[sn__pad_src(j, b, d, mode)];
    }
    if (d > 0) memcpy(yr + b, xr, (size_t)d * sizeof(float));
}

void sn_cpu_pad_f32(const float *x, int rank, const int64_t *dims, const int64_t *pads,
                    sn_pad_mode mode, float value, float *y, int threads) {
    if (rank == 0) {
        y[0] = x[0];
        return;
    }
    int64_t od[SN_MAX_RANK], is[SN_MAX_RANK], rows = 1;
    for (int i = 0; i < rank; i++) od[i] = dims[i] + pads[i] + pads[rank + i];
    is[rank - 1] = 1;
    for (int i = rank - 2; i >= 0; i--) is[i] = is[i + 1] * dims[i + 1];
    for (int i = 0; i < rank - 1; i++) rows *= od[i];
    const int64_t L = od[rank - 1], d = dims[rank - 1];
    const int64_t b = pads[rank - 1], e = pads[2 * rank - 1];
    if (rows == 0 || L == 0) return;
    int64_t rows_per = SN__PAD_TASK / L;
    if (rows_per < 1) rows_per = 1;
    const int64_t units = (rows + rows_per - 1) / rows_per;
    const int nt = threads > 0 ? threads : 1;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && units > 1)
    for (int64_t u = 0; u < units; u++) {
        int64_t r0 = u * rows_per, r1 = r0 + rows_per < rows ? r0 + rows_per : rows;
        for (int64_t row = r0; row < r1; row++) {
            int64_t rem = row, off = 0;
            int inside = 1;
            for (int i = rank - 2; i >= 0 && inside; i--) {
                int64_t s = sn__pad_src(rem % od[i], pads[i], dims[i], mode);
                rem /= od[i];
                if (s < 0) inside = 0;
                off += s * is[i];
            }
            sn__pad_row(inside ? x + off : NULL, d, b, e, mode, value, y + row * L);
        }
    }
}
