/*
 * softmax.c - softmax along one axis. When the axis is the last one (inner == 1) each row is a
 * task: max, exp and sum, scale. Otherwise a task is a block of up to SN__SM_COLS neighbouring
 * columns of one outer slice, walked row by row so every access is contiguous and the per-column
 * max and sums live on the stack; this also parallelises a single-image channel softmax.
 * Every pass reads an element before writing the same element, so y == x works.
 */
#include "softmax.h"

#include <math.h>

#define SN__SM_COLS 256
#define SN__PAR_MIN_WORK ((int64_t)1 << 14) /* below this many elements, forking costs more */

static void softmax_row(const float *x, int64_t len, float *y) {
    float m = x[0];
    for (int64_t a = 1; a < len; a++) m = x[a] > m ? x[a] : m;
    double sum = 0.0;
    for (int64_t a = 0; a < len; a++) {
        float e = expf(x[a] - m);
        y[a] = e;
        sum += e;
    }
    const float inv = (float)(1.0 / sum);
#pragma omp simd
    for (int64_t a = 0; a < len; a++) y[a] *= inv;
}

/* Columns [0, cols) of a [len, inner] slice starting at x / y. */
static void softmax_cols(const float *x, int64_t len, int64_t inner, int64_t cols, float *y) {
    float mx[SN__SM_COLS], inv[SN__SM_COLS];
    double sum[SN__SM_COLS];
    for (int64_t j = 0; j < cols; j++) {
        mx[j] = x[j];
        sum[j] = 0.0;
    }
    for (int64_t a = 1; a < len; a++) {
        const float *xr = x + a * inner;
        for (int64_t j = 0; j < cols; j++) mx[j] = xr[j] > mx[j] ? xr[j] : mx[j];
    }
    for (int64_t a = 0; a < len; a++) {
        const float *xr = x + a * inner;
        float *yr = y + a * inner;
        for (int64_t j = 0; j < cols; j++) {
            float e = expf(xr[j] - mx[j]);
            yr[j] = e;
            sum[j] += e;
        }
    }
    for (int64_t j = 0; j < cols; j++) inv[j] = (float)(1.0 / sum[j]);
    for (int64_t a = 0; a < len; a++) {
        float *yr = y + a * inner;
#pragma omp simd
        for (int64_t j = 0; j < cols; j++) yr[j] *= inv[j];
    }
}

void sn_cpu_softmax_f32(const float *x, int64_t outer, int64_t len, int64_t inner, float *y,
                        int threads) {
    const int nt = threads > 0 ? threads : 1;
    const int64_t total = outer * len * inner;
    if (inner == 1) {
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && total >= SN__PAR_MIN_WORK)
        for (int64_t o = 0; o < outer; o++) softmax_row(x + o * len, len, y + o * len);
        return;
    }
    const int64_t blocks = (inner + SN__SM_COLS - 1) / SN__SM_COLS, tasks = outer * blocks;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && total >= SN__PAR_MIN_WORK)
    for (int64_t t = 0; t < tasks; t++) {
        int64_t o = t / blocks, j0 = t % blocks * SN__SM_COLS;
        int64_t cols = inner - j0 < SN__SM_COLS ? inner - j0 : SN__SM_COLS;
        int64_t off = o * len * inner + j0;
        softmax_cols(x + off, len, inner, cols, y + off);
    }
}
