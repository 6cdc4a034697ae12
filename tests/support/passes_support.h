/*
 * passes_support.h - helpers for tests/test_passes.c: running a graph through the public CPU
 * engine on given inputs, comparing outputs the way the pass tests require, and generating
 * random small graphs full of the patterns the optimisation passes rewrite.
 */
#ifndef SN_PASSES_SUPPORT_H
#define SN_PASSES_SUPPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "graph.h"
#include "passes/pass.h"
#include "test_support.h"

/* The outputs of one run: out[i] holds numel[i] floats (caller frees with sn_pt_outputs_free). */
typedef struct sn_pt_outputs {
    int n;
    float **out;
    int64_t *numel;
} sn_pt_outputs;

/* Random f32 inputs in [-1, 1) for every graph input at `batch` (one malloc'ed buffer each). */
float **sn_pt_random_inputs(const sn_graph *g, int batch, sn_rng *rng);
void sn_pt_inputs_free(const sn_graph *g, float **in);

/* Run a copy of g (cloned and compacted; g is untouched) on the CPU engine with `threads`
 * threads. On failure returns the status and writes the message into err. */
sn_status sn_pt_run(const sn_graph *g, int batch, float *const *inputs, int threads,
                    sn_pt_outputs *res, sn_error *err);
void sn_pt_outputs_free(sn_pt_outputs *res);

/* The largest |got - want| / max(|want|, rms(want)) over every output element (INFINITY when
 * counts differ or anything is not finite). */
double sn_pt_compare(const sn_pt_outputs *got, const sn_pt_outputs *want);

/* How far one-ulp noise on the inputs and on every f32 constant moves g's outputs
 * (sn_pt_compare against ref, which is g's output for `in`): the rounding error any equally
 * valid evaluation may show. The constants count too: a rewrite that folds or reorders
 * arithmetic on weights rounds differently, and an output that cancels out (a sum of terms
 * far larger than itself) turns those last-bit differences into large relative ones. The
 * largest of three random draws. */
double sn_pt_noise_floor(const sn_graph *g, int batch, float *const *in, const sn_pt_outputs *ref,
                         sn_rng *rng, sn_error *err);

/* Live nodes with op `op`. */
int sn_pt_count_op(const sn_graph *g, sn_op op);

/* A random DAG on input [N, C, H, W] (dynamic batch): convs (grouped, strided, dilated, biased
 * or not), BatchNorms, BiasAdds, every fusable activation, residual and broadcasting Adds,
 * constant-only subgraphs, duplicate nodes, pass-through nodes (Identity, x*1, x+0, Reshape and
 * Transpose chains), dead branches, extra graph outputs, the ops whose axes or attributes the
 * layout pass rewrites (pools, Concat, Pad, Softmax, Resize) and a Flatten-Gemm head with BN,
 * bias and activation. Validated and shape-inferred. */
sn_status sn_pt_random_graph(uint64_t seed, sn_graph **out, sn_error *err);

/* --- building small graphs by hand (passes_build.c; these assert with Criterion) -------- */

extern sn_rng sn_pb_rng;   /* the random stream the builders and sn_pb_apply draw from */
void sn_pb_setup(void);    /* a Criterion .init: seeds sn_pb_rng with a fresh seed */
/* A graph with input "x" f32 [N,c,h,w]; *x is its tensor. */
sn_graph *sn_pb_graph(int c, int h, int w, int *x);
/* A graph-owned f32 constant of uniform values in [lo, hi). */
int sn_pb_const(sn_graph *g, const char *name, int rank, const int64_t *dims, float lo, float hi);
int sn_pb_vec(sn_graph *g, const char *name, int64_t n, float lo, float hi);
/* A node with one output tensor named `name`. */
int sn_pb_node(sn_graph *g, sn_op op, const char *name, const int *ins, int n, const sn_attr *a,
               int na);
/* Conv 3x3 pad 1 with weights "<name>.w" and, when bias, "<name>.b". */
int sn_pb_conv(sn_graph *g, const char *name, int x, int64_t cin, int64_t cout, bool bias);
/* BatchNormalization with parameters "<name>.scale|bias|mean|var" (var in [0.3, 2)). */
int sn_pb_bn(sn_graph *g, const char *name, int x, int64_t c);
/* Mark out as an output (if it is not yet), validate and infer shapes. */
void sn_pb_finish(sn_graph *g, int out);
/* Run pass fn (NULL: the whole pipeline) on a clone of g, check the clone computes the same at
 * batch 2 (1e-5 of max(|ref|, rms)), return it; *r (may be NULL) gets the report (for the
 * pipeline: the "total" one). */
sn_graph *sn_pb_apply(const sn_graph *g, sn_pass_fn fn, sn_pass_report *r);
int sn_pb_fused_z_count(const sn_graph *g); /* FusedConvs with a residual input */
/* The node producing the tensor called `tensor` (asserts it exists). */
const sn_node *sn_pb_producer(const sn_graph *g, const char *tensor);

#endif
