/*
 * shape_ops.c - Concat and Transpose, dtype-agnostic (elements are copied by size).
 *
 * Transpose first simplifies the permutation: size-1 dims are dropped and runs of input dims
 * that stay adjacent and in order are merged, so e.g. NCHW->NHWC becomes a 2-D transpose of
 * [C, H*W] per image. If the innermost dim survives in place, rows are memcpy'd; otherwise the
 * two dims that swap with it are transposed in cache-sized tiles, reading and writing whole
 * cache lines.
 */
#include "shape_ops.h"

#include <string.h>

#include "elementwise.h"
#include "sentinel.h"

#define SN__COPY_TASK_BYTES ((int64_t)1 << 16) /* bytes per row-copy task */
#define SN__TILE 32                             /* transpose tile edge, in elements */
#define SN__JBLOCK (32 * SN__TILE)              /* transpose task width along j */

void sn_cpu_concat(int n_in, const void *const *x, const int64_t *axis_len, int64_t outer,
                   int64_t inner, size_t esize, void *y, int64_t y_axis, int64_t y_offset,
                   int threads) {
    int nt = threads > 0 ? threads : 1;
    const size_t out_row = (size_t)(y_axis * inner) * esize;
    char *const y0 = (char *)y + (size_t)(y_offset * inner) * esize;
    if (outer >= 4 * (int64_t)nt) {
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
        for (int64_t o = 0; o < outer; o++) {
            char *dst = y0 + (size_t)o * out_row;
            for (int i = 0; i < n_in; i++) {
                size_t piece = (size_t)(axis_len[i] * inner) * esize;
                if (piece) memcpy(dst, (const char *)x[i] + (size_t)o * piece, piece);
                dst += piece;
            }
        }
        return;
    }
    /* Few long rows (concat on axis 0 or 1 of a small batch): split each copy instead. */
    for (int64_t o = 0; o < outer; o++) {
        char *dst = y0 + (size_t)o * out_row;
        for (int i = 0; i < n_in; i++) {
            size_t piece = (size_t)(axis_len[i] * inner) * esize;
            sn_cpu_copy((const char *)x[i] + (size_t)o * piece, dst, piece, nt);
            dst += piece;
        }
    }
}

/* Drop size-1 dims and merge dims that stay adjacent; returns the new rank. */
static int sn__simplify(int rank, const int64_t *dims, const int *perm, int64_t *id, int *p) {
    int newpos[SN_MAX_RANK], r1 = 0, p1[SN_MAX_RANK], n1 = 0;
    int64_t d1[SN_MAX_RANK];
    for (int i = 0; i < rank; i++) {
        newpos[i] = dims[i] == 1 ? -1 : r1;
        if (dims[i] != 1) d1[r1++] = dims[i];
    }
    for (int i = 0; i < rank; i++)
        if (newpos[perm[i]] >= 0) p1[n1++] = newpos[perm[i]];
    int gfirst[SN_MAX_RANK], ng = 0;
    int64_t gdim[SN_MAX_RANK];
    for (int i = 0; i < n1; i++) {
        if (i > 0 && p1[i] == p1[i - 1] + 1) {
            gdim[ng - 1] *= d1[p1[i]];
        } else {
            gfirst[ng] = p1[i];
            gdim[ng++] = d1[p1[i]];
        }
    }
    for (int g = 0; g < ng; g++) { /* renumber groups in input order */
        int rankpos = 0;
        for (int h = 0; h < ng; h++) rankpos += gfirst[h] < gfirst[g];
        p[g] = rankpos;
        id[rankpos] = gdim[g];
    }
    return ng;
}

/* The 2-D tile loop for one element type T over i in [i0,i1), j in [j0,jend). */
#define SN__TILE_LOOP(T)                                                                        \
    do {                                                                                        \
        const T *s = (const T *)x + bsrc;                                                       \
        T *d = (T *)y + bdst;                                                                   \
        for (int64_t jt = j0; jt < jend; jt += SN__TILE) {                                      \
            int64_t j1 = jt + SN__TILE < jend ? jt + SN__TILE : jend;                           \
            for (int64_t i = i0; i < i1; i++)                                                   \
                for (int64_t j = jt; j < j1; j++) d[j * osq + i] = s[i * sk + j];               \
        }                                                                                       \
    } while (0)

void sn_cpu_transpose(const void *x, int rank, const int64_t *dims, const int *perm, size_t esize,
                      void *y, int threads) {
    int64_t total = 1;
    for (int i = 0; i < rank; i++) total *= dims[i];
    if (total == 0) return;
    int nt = threads > 0 ? threads : 1;
    int64_t id[SN_MAX_RANK];
    int p[SN_MAX_RANK];
    const int r = sn__simplify(rank, dims, perm, id, p);
    if (r <= 1) {
        sn_cpu_copy(x, y, (size_t)total * esize, nt);
        return;
    }
    int64_t is[SN_MAX_RANK], od[SN_MAX_RANK], os[SN_MAX_RANK];
    is[r - 1] = 1;
    for (int j = r - 2; j >= 0; j--) is[j] = is[j + 1] * id[j + 1];
    for (int i = 0; i < r; i++) od[i] = id[p[i]];
    os[r - 1] = 1;
    for (int i = r - 2; i >= 0; i--) os[i] = os[i + 1] * od[i + 1];

    if (p[r - 1] == r - 1) { /* innermost dim kept: copy whole rows */
        const int64_t L = od[r - 1], rows = total / L;
        const size_t rb = (size_t)L * esize;
        int64_t rows_per = SN__COPY_TASK_BYTES / (int64_t)rb;
        if (rows_per < 1) rows_per = 1;
        const int64_t units = (rows + rows_per - 1) / rows_per;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && units > 1)
        for (int64_t u = 0; u < units; u++) {
            int64_t r0 = u * rows_per, r1 = r0 + rows_per < rows ? r0 + rows_per : rows;
            int64_t idx[SN_MAX_RANK], off = 0, rem = r0;
            for (int i = r - 2; i >= 0; i--) {
                idx[i] = rem % od[i];
                rem /= od[i];
                off += idx[i] * is[p[i]];
            }
            for (int64_t row = r0; row < r1; row++) {
                memcpy((char *)y + (size_t)row * rb, (const char *)x + (size_t)off * esize, rb);
                for (int i = r - 2; i >= 0; i--) {
                    off += is[p[i]];
                    if (++idx[i] < od[i]) break;
                    off -= is[p[i]] * od[i];
                    idx[i] = 0;
                }
            }
        }
        return;
    }

    /* Output's last axis walks input axis p[r-1] (stride sk); output axis q walks the input's
     * contiguous last axis. Tiles over (i along the former, j along the latter). */
    int q = 0;
    while (p[q] != r - 1) q++;
    const int64_t sk = is[p[r - 1]], osq = os[q], Di = od[r - 1], Dj = od[q];
    int oax[SN_MAX_RANK], no = 0;
    int64_t outer = 1;
    for (int i = 0; i < r - 1; i++)
        if (i != q) {
            oax[no++] = i;
            outer *= od[i];
        }
    /* A task is one tile row (i) by up to SN__JBLOCK columns (j), so even a single image with
     * few channels (NCHW->NHWC of [1,3,224,224]) spreads over the threads. */
    const int64_t itiles = (Di + SN__TILE - 1) / SN__TILE, jblocks = (Dj + SN__JBLOCK - 1) / SN__JBLOCK;
    const int64_t units = outer * itiles * jblocks;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && units > 1)
    for (int64_t u = 0; u < units; u++) {
        int64_t j0 = u % jblocks * SN__JBLOCK, i0 = u / jblocks % itiles * SN__TILE;
        int64_t rem = u / jblocks / itiles;
        int64_t i1 = i0 + SN__TILE < Di ? i0 + SN__TILE : Di;
        int64_t jend = j0 + SN__JBLOCK < Dj ? j0 + SN__JBLOCK : Dj;
        int64_t bsrc = 0, bdst = 0;
        for (int t = no - 1; t >= 0; t--) {
            int64_t c = rem % od[oax[t]];
            rem /= od[oax[t]];
            bsrc += c * is[p[oax[t]]];
            bdst += c * os[oax[t]];
        }
        switch (esize) {
        case 1: SN__TILE_LOOP(uint8_t); break;
        case 2: SN__TILE_LOOP(uint16_t); break;
        case 4: SN__TILE_LOOP(uint32_t); break;
        case 8: SN__TILE_LOOP(uint64_t); break;
        default:
            for (int64_t i = i0; i < i1; i++)
                for (int64_t j = j0; j < jend; j++)
                    memcpy((char *)y + (size_t)(bdst + j * osq + i) * esize,
                           (const char *)x + (size_t)(bsrc + i * sk + j) * esize, esize);
        }
    }
}
