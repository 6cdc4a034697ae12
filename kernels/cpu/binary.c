/*
 * binary.c - Add/Sub/Mul/Div with numpy broadcasting.
 *
 * The shapes are first reduced to a "plan": output dims of size 1 are dropped and neighbouring
 * dims that broadcast the same way are merged, with an element stride per operand (0 where it
 * broadcasts). Every case then runs one of three vectorisable inner loops over the last merged
 * dim - both operands contiguous (same shape), b fixed (scalar or per-channel [C,1,1]: b is
 * constant along H*W), or a fixed - so the fast paths fall out of the general one.
 */
#include "binary.h"

#include "sentinel.h"

#define SN__BIN_CHUNK ((int64_t)16384) /* output elements per task */

bool sn_broadcast_shape(int ra, const int64_t *da, int rb, const int64_t *db, int *ry,
                        int64_t *dy) {
    if (ra < 0 || rb < 0 || ra > SN_MAX_RANK || rb > SN_MAX_RANK) return false;
    int r = ra > rb ? ra : rb;
    for (int i = 0; i < r; i++) {
        int64_t x = i >= r - ra ? da[i - (r - ra)] : 1;
        int64_t z = i >= r - rb ? db[i - (r - rb)] : 1;
        if (x == z || z == 1)
            dy[i] = x;
        else if (x == 1)
            dy[i] = z;
        else
            return false;
    }
    *ry = r;
    return true;
}

typedef struct sn__bplan {
    int k;                      /* merged rank */
    int64_t m[SN_MAX_RANK];     /* merged output dims */
    int64_t sa[SN_MAX_RANK];    /* element strides of a, 0 where a broadcasts */
    int64_t sb[SN_MAX_RANK];
} sn__bplan;

static void sn__plan(int ra, const int64_t *da, int rb, const int64_t *db, int r,
                     const int64_t *dy, sn__bplan *p) {
    int pat[SN_MAX_RANK], prev = -1;
    p->k = 0;
    for (int i = 0; i < r; i++) {
        if (dy[i] == 1) continue;
        int64_t x = i >= r - ra ? da[i - (r - ra)] : 1;
        int64_t z = i >= r - rb ? db[i - (r - rb)] : 1;
        int pt = (x == 1 ? 1 : 0) | (z == 1 ? 2 : 0); /* dy[i] > 1 so never both */
        if (pt == prev) {
            p->m[p->k - 1] *= dy[i];
        } else {
            p->m[p->k] = dy[i];
            pat[p->k++] = pt;
            prev = pt;
        }
    }
    int64_t acc_a = 1, acc_b = 1;
    for (int j = p->k - 1; j >= 0; j--) {
        p->sa[j] = (pat[j] & 1) ? 0 : acc_a;
        p->sb[j] = (pat[j] & 2) ? 0 : acc_b;
        if (!(pat[j] & 1)) acc_a *= p->m[j];
        if (!(pat[j] & 2)) acc_b *= p->m[j];
    }
}

/* One loop per operand pattern; EXPR combines x (from a) and z (from b). */
#define SN__BIN_LOOPS(EXPR)                                                                     \
    do {                                                                                        \
        if (ia && ib) {                                                                         \
            for (int64_t i = 0; i < n; i++) {                                                   \
                float x = a[i], z = b[i];                                                       \
                y[i] = (EXPR);                                                                  \
            }                                                                                   \
        } else if (ia) {                                                                        \
            const float z = b[0];                                                               \
            for (int64_t i = 0; i < n; i++) {                                                   \
                float x = a[i];                                                                 \
                y[i] = (EXPR);                                                                  \
            }                                                                                   \
        } else {                                                                                \
            const float x = a[0];                                                               \
            for (int64_t i = 0; i < n; i++) {                                                   \
                float z = b[i];                                                                 \
                y[i] = (EXPR);                                                                  \
            }                                                                                   \
        }                                                                                       \
    } while (0)

static void sn__bin_inner(sn_binary_op op, const float *a, const float *b, float *y, int64_t n,
                          int64_t ia, int64_t ib) {
    switch (op) {
    case SN_BINARY_ADD: SN__BIN_LOOPS(x + z); break;
    case SN_BINARY_SUB: SN__BIN_LOOPS(x - z); break;
    case SN_BINARY_MUL: SN__BIN_LOOPS(x * z); break;
    case SN_BINARY_DIV: SN__BIN_LOOPS(x / z); break;
    }
}

bool sn_cpu_binary_f32(sn_binary_op op, const float *a, int ra, const int64_t *da, const float *b,
                       int rb, const int64_t *db, float *y, int threads) {
    int r;
    int64_t dy[SN_MAX_RANK];
    if (!sn_broadcast_shape(ra, da, rb, db, &r, dy)) return false;
    int64_t total = 1;
    for (int i = 0; i < r; i++) total *= dy[i];
    if (total == 0) return true;

    sn__bplan p;
    sn__plan(ra, da, rb, db, r, dy, &p);
    if (p.k == 0) { /* every dim is 1: a single element */
        sn__bin_inner(op, a, b, y, 1, 1, 1);
        return true;
    }
    const int k = p.k;
    const int64_t L = p.m[k - 1], ia = p.sa[k - 1], ib = p.sb[k - 1];
    const int64_t rows = total / L;
    /* A task is a piece of one long row, or a run of whole short rows. */
    int64_t col_chunk = L, ncol = 1, rows_per = 1;
    if (L >= SN__BIN_CHUNK) {
        col_chunk = SN__BIN_CHUNK;
        ncol = (L + SN__BIN_CHUNK - 1) / SN__BIN_CHUNK;
    } else {
        rows_per = SN__BIN_CHUNK / L;
    }
    const int64_t units = (rows + rows_per - 1) / rows_per * ncol;
    const int nt = threads > 0 ? threads : 1;

#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && units > 1)
    for (int64_t u = 0; u < units; u++) {
        int64_t r0 = u / ncol * rows_per, c0 = u % ncol * col_chunk;
        int64_t r1 = r0 + rows_per < rows ? r0 + rows_per : rows;
        int64_t clen = L - c0 < col_chunk ? L - c0 : col_chunk;
        int64_t idx[SN_MAX_RANK], oa = 0, ob = 0, rem = r0;
        for (int j = k - 2; j >= 0; j--) {
            idx[j] = rem % p.m[j];
            rem /= p.m[j];
            oa += idx[j] * p.sa[j];
            ob += idx[j] * p.sb[j];
        }
        for (int64_t row = r0; row < r1; row++) {
            sn__bin_inner(op, a + oa + c0 * ia, b + ob + c0 * ib, y + row * L + c0, clen, ia, ib);
            for (int j = k - 2; j >= 0; j--) { /* odometer step to the next row */
                oa += p.sa[j];
                ob += p.sb[j];
                if (++idx[j] < p.m[j]) break;
                oa -= p.sa[j] * p.m[j];
                ob -= p.sb[j] * p.m[j];
                idx[j] = 0;
            }
        }
    }
    return true;
}
