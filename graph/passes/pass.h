/*
 * pass.h - graph optimisation passes and the pass manager that runs them.
 *
 * Every pass has the same signature, `sn_status sn_pass_<name>(sn_graph *g, sn_pass_report *r,
 * sn_error *err)`, rewrites the graph in place and fills a report (which may be NULL). Passes
 * preserve what the graph computes (up to float rounding where weights are rescaled) and its
 * interface: graph inputs and outputs keep their tensors, names and shapes. They never write to
 * constant data, which may be borrowed (an mmap'ed file) or shared between nodes: a rewrite that
 * needs new weights adds new constants and leaves the old ones to dead-code elimination.
 *
 * Passes expect a valid graph with inferred shapes (sn_graph_optimize makes sure of both); they
 * may leave dead nodes and orphan tensors behind, which sn_pass_dce and sn_graph_compact drop.
 *
 *   simplify         Identity, x*1, x/1, x+0, x-0, no-op Reshape/Flatten removed; Reshape of a
 *                    Reshape and Transpose of a Transpose composed (cancelled when the identity);
 *                    a Flatten (axis 1) before a Gemm taken by the Gemm (flatten_a)
 *   fold_constants   a node whose inputs are all constants is run once with its CPU kernel
 *   cse              identical nodes (op, inputs, attributes) merged
 *   fold_batchnorm   Conv / FusedConv / Gemm followed by an inference BatchNormalization
 *                    becomes one node with rescaled weights and bias
 *   fuse_conv        Conv becomes FusedConv absorbing a following bias, residual Add and
 *                    activation; Gemm absorbs a following bias and activation
 *   dce              nodes and constants no graph output depends on are removed
 */
#ifndef SN_PASS_H
#define SN_PASS_H

#include <stddef.h>

#include "graph.h"

typedef struct sn_pass_report {
    const char *pass;    /* static name of the pass ("fold_batchnorm"), or "total" */
    int nodes_before, nodes_after; /* live nodes */
    int changes;         /* rewrites made (0: the pass changed nothing) */
    size_t weight_bytes_removed; /* bytes of constants dropped (dce); not net of new ones */
    char detail[256];    /* one line for people: what was rewritten */
} sn_pass_report;

typedef sn_status (*sn_pass_fn)(sn_graph *g, sn_pass_report *r, sn_error *err);

sn_status sn_pass_simplify(sn_graph *g, sn_pass_report *r, sn_error *err);
sn_status sn_pass_fold_constants(sn_graph *g, sn_pass_report *r, sn_error *err);
sn_status sn_pass_cse(sn_graph *g, sn_pass_report *r, sn_error *err);
sn_status sn_pass_fold_batchnorm(sn_graph *g, sn_pass_report *r, sn_error *err);
sn_status sn_pass_fuse_conv(sn_graph *g, sn_pass_report *r, sn_error *err);
sn_status sn_pass_dce(sn_graph *g, sn_pass_report *r, sn_error *err);

/* Layout conversion (graph/passes/layout.c), outside the per-round pipeline because it takes a
 * target: SN_LAYOUT_NHWC converts an NCHW graph to channels-last with transposes only at its
 * edges (the graph's interface stays NCHW); SN_LAYOUT_NCHW and SN_LAYOUT_ANY change nothing.
 * Idempotent. sn_graph_optimize runs it after the pipeline when its options ask for NHWC. */
sn_status sn_pass_layout(sn_graph *g, sn_layout target, sn_pass_report *r, sn_error *err);

/* The pipeline, in the order sn_graph_optimize runs it; bit i of sn_optimize_options.passes
 * enables pass i. */
#define SN_PASS_SIMPLIFY 0x01u
#define SN_PASS_FOLD_CONSTANTS 0x02u
#define SN_PASS_CSE 0x04u
#define SN_PASS_FOLD_BATCHNORM 0x08u
#define SN_PASS_FUSE_CONV 0x10u
#define SN_PASS_DCE 0x20u
#define SN_PASS_ALL 0x3fu

int sn_pass_count(void);
const char *sn_pass_name(int i); /* NULL when out of range */
sn_pass_fn sn_pass_get(int i);   /* NULL when out of range */
int sn_pass_find(const char *name); /* -1 when unknown */

/* Options that can grow: start from SN_OPTIMIZE_OPTIONS_INIT. */
typedef struct sn_optimize_options {
    size_t size;        /* sizeof(sn_optimize_options) */
    unsigned passes;    /* SN_PASS_* bits; SN_PASS_ALL by default */
    int max_iterations; /* rounds of the whole pipeline before giving up on a fixed point */
    sn_layout layout;   /* SN_LAYOUT_NHWC: convert after the pipeline (sn_pass_layout), then
                           run it again; NCHW (the default) or ANY: keep the graph's layout */
} sn_optimize_options;
#define SN_OPTIMIZE_OPTIONS_INIT {sizeof(sn_optimize_options), SN_PASS_ALL, 8, SN_LAYOUT_NCHW}

/* Validate and infer shapes, run the enabled passes in pipeline order until a whole round
 * changes nothing (at most max_iterations rounds), then compact, validate and re-infer shapes.
 * opt may be NULL (the defaults). When reports is non-NULL it receives a malloc'ed array (the
 * caller frees it) of one report per enabled pass, summed over the rounds, then one for the
 * layout pass when NHWC was asked for, then a "total"
 * report whose `changes` counts every rewrite and whose detail says how many rounds ran and
 * the constant bytes before and after (net of the constants passes added).
 * On failure the graph may be partly rewritten but is still a graph the caller must destroy;
 * optimise a clone (sn_graph_clone) to keep the original. */
sn_status sn_graph_optimize(sn_graph *g, const sn_optimize_options *opt, sn_pass_report **reports,
                            int *n_reports, sn_error *err);

/* A deep copy of src: tensors, nodes (dead ones too), attributes, inputs, outputs, metadata.
 * Constant data that src owns is copied; data src borrows (an mmap'ed file) stays borrowed by
 * the copy too, so whatever keeps it alive for src must also outlive the copy. */
sn_status sn_graph_clone(const sn_graph *src, sn_graph **out);

#endif
