/*
 * bench_report.h - how sentinel-bench-cpu reports: the machine it ran on, one table row per
 * model and batch size, and the same results as JSON for bench/RESULTS.md and comparisons.
 */
#ifndef SN_BENCH_REPORT_H
#define SN_BENCH_REPORT_H

#include <stddef.h>
#include <stdio.h>

typedef struct sn_bench_result {
    const char *model; /* zoo name or .sgraph path */
    int optimized;     /* 1 when sn_graph_optimize ran on the graph first */
    int batch;
    int threads; /* as the engine reports them */
    int runs;    /* timed sn_engine_run calls */
    double images_per_s;
    double p50_ms, p99_ms; /* latency of one call (one batch) */
    size_t activation_bytes, weight_bytes;
} sn_bench_result;

/* The machine (CPU model, cores), the library version, the date, and the column titles. */
void sn_bench_print_header(FILE *f, int threads_requested, double seconds);
void sn_bench_print_row(FILE *f, const sn_bench_result *r);
/* Writes FILE.tmp and renames it into place, so a failure leaves no partial file. Returns 0,
 * or -1 after printing why to stderr. */
int sn_bench_write_json(const char *path, const sn_bench_result *r, int n, double seconds);
/* Whether FILE.tmp can be created (it is removed again), so a bad --json path fails before
 * minutes of timing rather than after. Returns 0, or -1 after printing why. */
int sn_bench_json_check(const char *path);

#endif
