/*
 * gpu_check.h - helpers for the tests that need a GPU (tests/test_gpu_*.c): skip with the
 * probe's reason where there is none, and run one graph on a GPU engine and a CPU engine at
 * the same batch on the same random inputs, returning the worst relative difference.
 */
#ifndef SN_GPU_CHECK_H
#define SN_GPU_CHECK_H

#include <stdbool.h>
#include <stdlib.h>

#include "graph.h"
#include "test_support.h"

/* NULL when a GPU is usable, else the reason ("no GPU: ..."), in a static buffer. */
const char *sn_gpu_check_unavailable(void);

/* First statement of a Criterion test that needs a GPU: without one it skips with the probe's
 * reason, or fails when SENTINEL_REQUIRE_GPU is set (run-gpu-tests.sh sets it). */
#define SN_SKIP_WITHOUT_GPU()                                                                      \
    do {                                                                                           \
        const char *sn__why = sn_gpu_check_unavailable();                                          \
        if (sn__why && getenv("SENTINEL_REQUIRE_GPU")) cr_assert_fail("%s", sn__why);              \
        if (sn__why) cr_skip_test("%s", sn__why);                                                  \
    } while (0)

/* Tolerances relative to max(|cpu|, rms(cpu)) for an engine precision (sn_precision). */
double sn_gpu_check_tolerance(int precision, bool whole_model);

typedef struct sn_gpu_pair {
    sn_engine *gpu, *cpu;
    sn_model *model; /* owns the graph both engines run */
} sn_gpu_pair;

/* Engines for g (the pair takes ownership of g): the GPU one with `precision`, both with
 * max_batch and `optimize`. */
sn_status sn_gpu_pair_make(sn_graph *g, int precision, int max_batch, bool optimize, sn_gpu_pair *p,
                           sn_error *err);
void sn_gpu_pair_free(sn_gpu_pair *p);

/* Run both on the same random inputs in [-1, 1) at `batch`; *worst receives the largest
 * |gpu - cpu| / max(|cpu|, rms(cpu)) over all outputs (INFINITY for a non-finite GPU value),
 * *where a description of where it was. */
sn_status sn_gpu_pair_compare(sn_gpu_pair *p, int batch, sn_rng *rng, double *worst, char *where,
                              size_t where_size, sn_error *err);

#endif
