/*
 * test_support.h - helpers shared by the Criterion tests: seeded random data, comparisons in
 * double precision, temporary directories and running the built programs.
 */
#ifndef SN_TEST_SUPPORT_H
#define SN_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

/* Deterministic generator (splitmix64); each test seeds its own. */
typedef struct sn_rng {
    uint64_t s;
} sn_rng;
void sn_rng_seed(sn_rng *r, uint64_t seed);
uint64_t sn_rng_u64(sn_rng *r);
double sn_rng_uniform(sn_rng *r, double lo, double hi); /* [lo, hi) */
/* Fills with uniform values in [lo, hi); never exactly zero unless lo == hi == 0. */
void sn_rng_fill(sn_rng *r, float *x, size_t n, float lo, float hi);
/* A seed that differs per run (time and pid) and is printed so a failure can be replayed;
 * SN_TEST_SEED in the environment fixes it. */
uint64_t sn_test_fresh_seed(const char *test_name);

/* Compare got (float) against want (double): |got-want| <= rtol*max(|want|, 1) ... see .c.
 * Returns the index of the first bad element or -1 if all pass. NaN/Inf in got never passes. */
long sn_compare_f32(const float *got, const double *want, size_t n, double rtol, double atol,
                    double *worst_rel);

/* A fresh directory under $TMPDIR (malloc'ed path); removed by sn_test_rmtree. */
char *sn_test_mkdtemp(void);
void sn_test_rmtree(const char *path);

/* Path of a built program, e.g. sn_test_bin("sentinel-run") (static buffer per call site: copy). */
const char *sn_test_bin(const char *program);

/* Run a shell command, capturing stdout+stderr (malloc'ed, NUL-terminated) and the exit status
 * (-1 if killed by a signal, with *signal_out set). */
int sn_test_run(const char *cmd, char **output, int *signal_out);

/* Write bytes to a file; returns 0 on success. */
int sn_test_write_file(const char *path, const void *data, size_t size);
/* Read a whole file (malloc'ed); NULL on failure. */
void *sn_test_read_file(const char *path, size_t *size);

#endif
