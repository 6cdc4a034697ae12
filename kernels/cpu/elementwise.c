/*
 * elementwise.c - unary elementwise kernels. Work is cut into fixed chunks so each thread copies
 * and then activates a piece that is still in its cache, and the activation loop stays the
 * vectorisable one in activation.c.
 */
#include "elementwise.h"

#include <string.h>

#include "activation.h"

#define SN__EW_CHUNK ((int64_t)16384)         /* floats per task: 64 KiB */
#define SN__COPY_MIN_PARALLEL ((size_t)1 << 20) /* below 1 MiB one thread copies faster */

void sn_cpu_activation_f32(const float *x, float *y, int64_t n, sn_activation act, float alpha,
                           float beta, int threads) {
    int nt = threads > 0 ? threads : 1;
    int64_t chunks = (n + SN__EW_CHUNK - 1) / SN__EW_CHUNK;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && chunks > 1)
    for (int64_t c = 0; c < chunks; c++) {
        int64_t lo = c * SN__EW_CHUNK;
        int64_t len = n - lo < SN__EW_CHUNK ? n - lo : SN__EW_CHUNK;
        if (y != x) memcpy(y + lo, x + lo, (size_t)len * sizeof(float));
        sn_activate_array(y + lo, (long)len, act, alpha, beta);
    }
}

void sn_cpu_copy(const void *src, void *dst, size_t bytes, int threads) {
    if (src == dst || bytes == 0) return;
    int nt = threads > 0 ? threads : 1;
    if (nt == 1 || bytes < SN__COPY_MIN_PARALLEL) {
        memcpy(dst, src, bytes);
        return;
    }
    size_t piece = (bytes / (size_t)nt + 63) & ~(size_t)63;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int t = 0; t < nt; t++) {
        size_t lo = (size_t)t * piece;
        if (lo < bytes) {
            size_t len = bytes - lo < piece ? bytes - lo : piece;
            memcpy((char *)dst + lo, (const char *)src + lo, len);
        }
    }
}
