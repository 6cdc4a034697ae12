/*
 * bench_common.h - what every benchmark program shares, so that they all measure and report the
 * same way: the monotonic clock, nearest-rank percentiles of sorted samples, the seeded
 * generator behind their random inputs, and JSON string literals.
 */
#ifndef SN_BENCH_COMMON_H
#define SN_BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Seconds on CLOCK_MONOTONIC. */
double sn_bench_now(void);

/* Sorts n values in ascending order. */
void sn_bench_sort(double *v, size_t n);
/* Nearest-rank percentile (p in [0, 1]) of n sorted values; NAN when n is 0. */
double sn_bench_percentile(const double *sorted, size_t n, double p);

/* splitmix64: the next value of the generator whose state is *s. */
uint64_t sn_bench_rng_next(uint64_t *s);
/* A uniform value in [-1, 1) from that generator. */
float sn_bench_uniform(uint64_t *s);

/* s as a JSON string literal (quotes, backslashes and control characters escaped), or null
 * when s is NULL. */
void sn_bench_json_string(FILE *f, const char *s);

#endif
