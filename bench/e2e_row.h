/*
 * e2e_row.h - one result row of the end-to-end benchmark, written as one JSON object per line
 * with exactly the fields bench/e2e/common.py writes for the Python peers (ROW_FIELDS there),
 * so bench/e2e/report.py reads every system the same way. A field left at its "unset" value
 * (NaN for numbers, -1 for counts, NULL for strings) is written as null.
 */
#ifndef SN_E2E_ROW_H
#define SN_E2E_ROW_H

#include <stdint.h>
#include <stdio.h>

typedef struct sn_e2e_row {
    const char *system, *model, *precision, *mode;
    int batch;
    double images_per_s, p50_ms, p99_ms;
    int runs;
    double first_result_s, compile_s;
    int64_t peak_mem_bytes, nvml_used_bytes;
    double gpu_util_pct, h2d_per_batch, max_rel_diff;
    const char *device, *version, *provider;
    char note[256], error[512];
    /* Sentinel only: bytes uploaded per batch, and the engine build time */
    double h2d_bytes_per_batch, build_s;
} sn_e2e_row;

/* A row with every figure unset and these names. */
void sn_e2e_row_init(sn_e2e_row *r, const char *system, const char *model, const char *precision,
                     const char *mode, int batch);
/* The row as one JSON line to f (and, when out is non-NULL, appended to it). */
void sn_e2e_row_write(const sn_e2e_row *r, FILE *f, FILE *out);

#endif
