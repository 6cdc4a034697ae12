/*
 * pass_summary.h - what the tools print and parse about optimisation passes: the per-pass
 * summary table (nodes before and after, rewrites, constant bytes removed, what was rewritten)
 * shared by `sentinel-optimize` and `sentinel-inspect --optimize`, and the parsers for their
 * --passes and --layout arguments.
 */
#ifndef SN_PASS_SUMMARY_H
#define SN_PASS_SUMMARY_H

#include <stddef.h>
#include <stdio.h>

#include "passes/pass.h"

/* "all", "none" or a comma-separated list of pass names ("simplify,fuse_conv,dce") into
 * SN_PASS_* bits. Returns 0, or -1 with the offending name (truncated) in bad. */
int sn_pass_list_parse(const char *list, unsigned *bits, char *bad, size_t bad_size);

/* "nchw" or "nhwc" (any case). Returns 0, or -1. */
int sn_layout_parse(const char *s, sn_layout *out);

/* The reports of one sn_graph_optimize (the last one is "total") as a table; ms is the time it
 * took. */
void sn_pass_summary_print(FILE *f, const sn_pass_report *reps, int n, double ms);

/* The same as a JSON array of objects. */
void sn_pass_summary_json(FILE *f, const sn_pass_report *reps, int n, double ms);

#endif
