/*
 * bench_common.c - see bench_common.h.
 */
#include "bench_common.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

double sn_bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int sn__cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void sn_bench_sort(double *v, size_t n) {
    if (n > 1) qsort(v, n, sizeof *v, sn__cmp_double);
}

double sn_bench_percentile(const double *sorted, size_t n, double p) {
    if (n == 0) return NAN;
    double k = ceil(p * (double)n) - 1;
    return sorted[k < 0 ? 0 : (k >= (double)n ? n - 1 : (size_t)k)];
}

uint64_t sn_bench_rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

float sn_bench_uniform(uint64_t *s) {
    return (float)((double)(sn_bench_rng_next(s) >> 11) * 0x1.0p-53 * 2.0 - 1.0);
}

void sn_bench_json_string(FILE *f, const char *s) {
    if (!s) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}
