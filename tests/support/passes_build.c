/* passes_build.c - a tiny graph builder and pass runner for the pass rule tests
 * (passes_support.h). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "passes/pass.h"
#include "passes_support.h"

sn_rng sn_pb_rng;

void sn_pb_setup(void) { sn_rng_seed(&sn_pb_rng, sn_test_fresh_seed("passes_rules")); }

sn_graph *sn_pb_graph(int c, int h, int w, int *x) {
    sn_graph *g = NULL;
    cr_assert_eq(sn_graph_create(&g), SN_OK);
    int64_t d[4] = {SN_DIM_BATCH, c, h, w};
    sn_shape s = sn_shape_make(4, d);
    cr_assert_eq(sn_graph_add_tensor(g, "x", SN_DTYPE_F32, &s, x), SN_OK);
    cr_assert_eq(sn_graph_add_input(g, *x), SN_OK);
    return g;
}

int sn_pb_const(sn_graph *g, const char *name, int rank, const int64_t *dims, float lo, float hi) {
    sn_shape s = sn_shape_make(rank, dims);
    int64_t n = sn_shape_numel(&s);
    float *v = malloc(sizeof(float) * (size_t)(n ? n : 1));
    sn_rng_fill(&sn_pb_rng, v, (size_t)n, lo, hi);
    int t = -1;
    cr_assert_eq(
        sn_graph_add_const(g, name, SN_DTYPE_F32, &s, v, (size_t)n * sizeof(float), true, &t),
        SN_OK, "%s", name);
    free(v);
    return t;
}

int sn_pb_vec(sn_graph *g, const char *name, int64_t n, float lo, float hi) {
    return sn_pb_const(g, name, 1, &n, lo, hi);
}

int sn_pb_node(sn_graph *g, sn_op op, const char *name, const int *ins, int n, const sn_attr *a,
               int na) {
    int y = -1;
    cr_assert_eq(sn_graph_add_tensor(g, name, SN_DTYPE_F32, NULL, &y), SN_OK, "%s", name);
    cr_assert_eq(sn_graph_add_node(g, op, name, ins, n, &y, 1, a, na, NULL), SN_OK, "%s", name);
    return y;
}

int sn_pb_conv(sn_graph *g, const char *name, int x, int64_t cin, int64_t cout, bool bias) {
    char wn[64], bn[64];
    snprintf(wn, sizeof wn, "%s.w", name);
    snprintf(bn, sizeof bn, "%s.b", name);
    int64_t wd[4] = {cout, cin, 3, 3}, pads[4] = {1, 1, 1, 1};
    int ins[3] = {x, sn_pb_const(g, wn, 4, wd, -0.3f, 0.3f),
                  bias ? sn_pb_vec(g, bn, cout, -0.5f, 0.5f) : -1};
    sn_attr a = sn_attr_ints("pads", pads, 4);
    return sn_pb_node(g, SN_OP_CONV, name, ins, bias ? 3 : 2, &a, 1);
}

int sn_pb_bn(sn_graph *g, const char *name, int x, int64_t c) {
    char n[4][64];
    static const char *sfx[4] = {"scale", "bias", "mean", "var"};
    for (int i = 0; i < 4; i++) snprintf(n[i], sizeof n[i], "%s.%s", name, sfx[i]);
    int ins[5] = {x, sn_pb_vec(g, n[0], c, 0.5f, 1.5f), sn_pb_vec(g, n[1], c, -0.5f, 0.5f),
                  sn_pb_vec(g, n[2], c, -0.5f, 0.5f), sn_pb_vec(g, n[3], c, 0.3f, 2.0f)};
    return sn_pb_node(g, SN_OP_BATCHNORM, name, ins, 5, NULL, 0);
}

void sn_pb_finish(sn_graph *g, int out) {
    sn_error err = {SN_OK, ""};
    if (!(g->tensors[out].flags & SN_TENSOR_OUTPUT))
        cr_assert_eq(sn_graph_add_output(g, out), SN_OK);
    cr_assert_eq(sn_graph_validate(g, &err), SN_OK, "%s", err.message);
    cr_assert_eq(sn_graph_infer_shapes(g, &err), SN_OK, "%s", err.message);
}

/* Runs pass `fn` (NULL: the whole pipeline) on a clone of g, checks the function at batch 2
 * and returns the rewritten graph; *r receives the pass's report. */
sn_graph *sn_pb_apply(const sn_graph *g, sn_pass_fn fn, sn_pass_report *r) {
    sn_error err = {SN_OK, ""};
    sn_graph *o = NULL;
    cr_assert_eq(sn_graph_clone(g, &o), SN_OK);
    sn_pass_report local;
    if (!r) r = &local;
    if (fn) {
        cr_assert_eq(fn(o, r, &err), SN_OK, "%s", err.message);
        cr_assert_eq(sn_graph_compact(o), SN_OK);
        cr_assert_eq(sn_graph_validate(o, &err), SN_OK, "%s", err.message);
        cr_assert_eq(sn_graph_infer_shapes(o, &err), SN_OK, "%s", err.message);
    } else {
        sn_pass_report *reps = NULL;
        int n = 0;
        cr_assert_eq(sn_graph_optimize(o, NULL, &reps, &n, &err), SN_OK, "%s", err.message);
        *r = reps[n - 1];
        free(reps);
    }
    float **in = sn_pt_random_inputs(g, 2, &sn_pb_rng);
    sn_pt_outputs a, b;
    cr_assert_eq(sn_pt_run(g, 2, in, 1, &a, &err), SN_OK, "%s", err.message);
    cr_assert_eq(sn_pt_run(o, 2, in, 1, &b, &err), SN_OK, "%s", err.message);
    double e = sn_pt_compare(&b, &a);
    cr_expect(e <= 1e-5, "%s: max relative error %.3g", r->pass, e);
    sn_pt_outputs_free(&a);
    sn_pt_outputs_free(&b);
    sn_pt_inputs_free(g, in);
    return o;
}

int sn_pb_fused_z_count(const sn_graph *g) {
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++)
        n += !g->nodes[i].dead && g->nodes[i].op == SN_OP_FUSED_CONV && g->nodes[i].n_inputs > 3 &&
             g->nodes[i].inputs[3] >= 0;
    return n;
}

const sn_node *sn_pb_producer(const sn_graph *g, const char *tensor) {
    int t = sn_graph_find_tensor(g, tensor);
    cr_assert(t >= 0, "tensor %s is gone", tensor);
    cr_assert(g->tensors[t].producer >= 0, "tensor %s has no producer", tensor);
    return &g->nodes[g->tensors[t].producer];
}
