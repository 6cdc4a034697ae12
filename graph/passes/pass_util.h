/*
 * pass_util.h - private helpers the passes share: who reads a tensor, reading f32 constants,
 * adding new constants under fresh names, editing a node's inputs and attributes in place, the
 * activation a standalone op computes, and report bookkeeping.
 *
 * Nodes keep their inputs and attributes in the graph's arena; editing one allocates a fresh
 * array there (the old one is simply abandoned until the graph is freed), which is cheap next to
 * the weights a pass rewrites.
 */
#ifndef SN_PASS_UTIL_H
#define SN_PASS_UTIL_H

#include <stdbool.h>

#include "pass.h"

/* Readers of each tensor among the live nodes: count[t] input slots read t (a node reading it
 * twice counts twice) and user[t] is one of those nodes (the only one when count[t] == 1). */
typedef struct sn__uses {
    int *count;
    int *user;
    int n;
} sn__uses;

sn_status sn__uses_build(const sn_graph *g, sn__uses *u, sn_error *err);
void sn__uses_free(sn__uses *u);

/* The one live node reading t, when exactly one input slot reads it and t is not a graph
 * output; else -1. This is the condition for folding t away into its producer. */
int sn__sole_user(const sn_graph *g, const sn__uses *u, int t);

int sn__live_nodes(const sn_graph *g);

/* Tensor t as f32 constant data with `numel` elements (numel < 0: any), or NULL. */
const float *sn__const_f32(const sn_graph *g, int t, int64_t numel);

/* malloc'ed room for n floats (freed with free()); large blocks are huge-page backed. */
float *sn__alloc_f32(int64_t n);

/* Tensor t's f32 data when a pass may rewrite it in place: the graph owns it (never borrowed
 * file bytes), it is not a graph output, and exactly one input slot of a live node - the one
 * being rewritten - reads it. NULL otherwise. */
float *sn__writable_f32(const sn_graph *g, const sn__uses *u, int t);

/* Add an f32 constant named after `base` (made unique with a suffix) that takes ownership of
 * *data (malloc'ed; freed here on failure) and sets *data to NULL. */
sn_status sn__add_const_f32(sn_graph *g, const char *base, const sn_shape *shape, float **data,
                            int *out_index, sn_error *err);

/* Replace node `ni`'s inputs with n new ones (copied into the arena). */
sn_status sn__node_set_inputs(sn_graph *g, int ni, const int *inputs, int n, sn_error *err);
/* Set (add or replace) an INT or FLOAT attribute, or remove one. */
sn_status sn__node_set_int(sn_graph *g, int ni, const char *name, int64_t v, sn_error *err);
sn_status sn__node_set_float(sn_graph *g, int ni, const char *name, float v, sn_error *err);
void sn__node_del_attr(sn_graph *g, int ni, const char *name);

/* The activation a standalone op computes with its parameters; false for other ops. */
bool sn__node_activation(const sn_node *n, sn_activation *act, float *alpha, float *beta);
/* The fused activation of a FusedConv or Gemm node (SN_ACT_NONE when absent). */
sn_activation sn__fused_activation(const sn_node *n);

/* Tensor t's shape at batch 1 (a graph input's SN_DIM_BATCH read as 1), and whether its dim 0
 * scales with the batch. */
sn_shape sn__shape1(const sn_graph *g, int t);
bool sn__batched(const sn_graph *g, int t);

/* Whether tensors a and b have the same shape at every batch: equal batch-1 shapes and both
 * scaling with the batch or neither. */
bool sn__same_shape(const sn_graph *g, int a, int b);

/* Node ui (single output) is folded into node pi, which read ui's only input pi's output: ui
 * dies, pi takes over ui's output tensor (keeping the name graph outputs are known by), and
 * pi's old output is left an orphan for compaction. */
void sn__absorb(sn_graph *g, int pi, int ui);

/* Report bookkeeping: begin records the name and node count, end the rest. */
void sn__report_begin(sn_pass_report *r, const char *pass, const sn_graph *g);
void sn__report_end(sn_pass_report *r, const sn_graph *g, int changes);

/* Shorthand for "out of memory in pass X". */
sn_status sn__pass_oom(sn_error *err, const char *pass);

#endif
