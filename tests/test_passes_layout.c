/*
 * test_passes_layout.c - the layout pass (graph/passes/layout.c) and sn_graph_optimize with
 * layout NHWC.
 *
 * Function: every zoo model optimised for NHWC computes what it computes optimised for NCHW,
 * at batch 1 and 3, within 1e-5 of max(|ref|, rms(ref)) - or 4x the graph's own sensitivity to
 * one-ulp input noise where that is larger (the conv sums run in another order); the pass on
 * its own does the same on the unoptimised models and on random graphs full of the ops whose
 * attributes it remaps, and the pipeline run after it folds and fuses the NHWC nodes alike.
 * Structure: each zoo model keeps exactly one Transpose (after the input)
 * and every conv, pool and Gemm of it is NHWC; a graph output keeps its name and NCHW data.
 * NCHW is a no-op, and a second run of the pass or of the pipeline changes nothing.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes/pass.h"
#include "passes_support.h"
#include "zoo.h"

#define TOL 1e-5

static sn_graph *clone_ok(const sn_graph *g) {
    sn_graph *c = NULL;
    cr_assert_eq(sn_graph_clone(g, &c), SN_OK);
    return c;
}

/* A clone of g through sn_graph_optimize in `layout`; the layout report to *lr when asked. */
static sn_graph *optimised(const sn_graph *g, sn_layout layout, sn_pass_report *lr,
                           const char *what) {
    sn_graph *o = clone_ok(g);
    sn_optimize_options opt = SN_OPTIMIZE_OPTIONS_INIT;
    opt.layout = layout;
    sn_pass_report *reps = NULL;
    int n = 0;
    sn_error err = {SN_OK, ""};
    cr_assert_eq(sn_graph_optimize(o, &opt, &reps, &n, &err), SN_OK, "%s: %s", what, err.message);
    cr_assert_eq(n, sn_pass_count() + 1 + (layout == SN_LAYOUT_NHWC));
    if (layout == SN_LAYOUT_NHWC) {
        cr_assert_str_eq(reps[n - 2].pass, "layout");
        if (lr) *lr = reps[n - 2];
    }
    free(reps);
    return o;
}

/* got and want compute the same function of g's inputs at `batch`; the worst error. */
static double same_function(const sn_graph *want_g, const sn_graph *got_g, int batch,
                            uint64_t seed, const char *what) {
    sn_rng rng;
    sn_rng_seed(&rng, seed);
    sn_error err = {SN_OK, ""};
    float **in = sn_pt_random_inputs(want_g, batch, &rng);
    sn_pt_outputs ref, got;
    cr_assert_eq(sn_pt_run(want_g, batch, in, 1, &ref, &err), SN_OK, "%s: %s", what, err.message);
    cr_assert_eq(sn_pt_run(got_g, batch, in, 1, &got, &err), SN_OK, "%s (converted): %s", what,
                 err.message);
    double e = sn_pt_compare(&got, &ref);
    double floor_ = sn_pt_noise_floor(want_g, batch, in, &ref, &rng, &err);
    cr_assert(isfinite(floor_), "%s: the graph's output is not finite", what);
    double tol = fmax(TOL, 4.0 * floor_);
    cr_expect(e <= tol, "%s at batch %d: max relative error %.3g > %.3g", what, batch, e, tol);
    sn_pt_outputs_free(&ref);
    sn_pt_outputs_free(&got);
    sn_pt_inputs_free(want_g, in);
    return e;
}

static bool layout_aware(sn_op op) {
    return op == SN_OP_CONV || op == SN_OP_FUSED_CONV || op == SN_OP_MAX_POOL ||
           op == SN_OP_AVG_POOL || op == SN_OP_GLOBAL_AVG_POOL || op == SN_OP_BATCHNORM ||
           op == SN_OP_BIAS_ADD || op == SN_OP_RESIZE;
}

/* Every layout-aware node (and every Gemm reading a 4-D A) of g is NHWC. */
static void expect_all_nhwc(const sn_graph *g, const char *what) {
    for (int i = 0; i < g->n_nodes; i++) {
        const sn_node *n = &g->nodes[i];
        if (n->dead) continue;
        bool gemm4 = n->op == SN_OP_GEMM && g->tensors[n->inputs[0]].shape.rank == 4 &&
                     g->tensors[n->inputs[0]].shape.d[2] * g->tensors[n->inputs[0]].shape.d[3] > 1;
        if (layout_aware(n->op) || gemm4)
            cr_expect_eq(sn_node_attr_int(n, "layout", SN_LAYOUT_NCHW), SN_LAYOUT_NHWC,
                         "%s: %s '%s' is not NHWC", what, sn_op_name(n->op), n->name);
    }
}

/* The pass again changes nothing, nor (for an optimised graph) the whole pipeline again. */
static void expect_idempotent(sn_graph *o, bool pipeline, const char *what) {
    sn_error err = {SN_OK, ""};
    sn_pass_report r;
    int nodes = o->n_nodes, tensors = o->n_tensors;
    cr_assert_eq(sn_pass_layout(o, SN_LAYOUT_NHWC, &r, &err), SN_OK, "%s: %s", what, err.message);
    cr_expect_eq(r.changes, 0, "%s: the second layout pass changed %d (%s)", what, r.changes,
                 r.detail);
    cr_expect_eq(o->n_nodes, nodes, "%s", what);
    if (!pipeline) return;
    sn_optimize_options opt = SN_OPTIMIZE_OPTIONS_INIT;
    opt.layout = SN_LAYOUT_NHWC;
    sn_pass_report *reps = NULL;
    int n = 0;
    cr_assert_eq(sn_graph_optimize(o, &opt, &reps, &n, &err), SN_OK, "%s: %s", what, err.message);
    cr_expect_eq(reps[n - 1].changes, 0, "%s: the second pipeline changed %d (%s)", what,
                 reps[n - 1].changes, reps[n - 1].detail);
    free(reps);
    cr_expect_eq(o->n_nodes, nodes, "%s", what);
    cr_expect_eq(o->n_tensors, tensors, "%s", what);
}

static void check_zoo(const char *name) {
    uint64_t seed = sn_test_fresh_seed(name);
    sn_error err = {SN_OK, ""};
    sn_graph *g = NULL;
    cr_assert_eq(sn_zoo_build(name, seed, &g, &err), SN_OK, "%s: %s", name, err.message);
    sn_pass_report lr;
    sn_graph *nchw = optimised(g, SN_LAYOUT_NCHW, NULL, name);
    sn_graph *nhwc = optimised(g, SN_LAYOUT_NHWC, &lr, name);
    cr_expect_eq(sn_pt_count_op(nhwc, SN_OP_TRANSPOSE), 1, "%s: %d transposes (%s)", name,
                 sn_pt_count_op(nhwc, SN_OP_TRANSPOSE), lr.detail);
    expect_all_nhwc(nhwc, name);
    char what[128];
    double worst = 0;
    for (int batch = 1; batch <= 3; batch += 2) {
        snprintf(what, sizeof what, "%s optimised for NHWC", name);
        worst = fmax(worst, same_function(nchw, nhwc, batch, seed + (uint64_t)batch, what));
    }
    fprintf(stderr, "[layout] %s: %s; NHWC vs NCHW worst relative error %.3g\n", name,
            lr.detail, worst);
    expect_idempotent(nhwc, true, name);

    /* The pass alone on the unoptimised model (BatchNorms, biases, activations, residual Adds,
     * Clip, Concat, a Flatten before the Gemm) keeps one Transpose and the function. */
    sn_graph *raw = clone_ok(g);
    sn_pass_report r;
    cr_assert_eq(sn_pass_layout(raw, SN_LAYOUT_NHWC, &r, &err), SN_OK, "%s: %s", name,
                 err.message);
    cr_expect_eq(sn_pt_count_op(raw, SN_OP_TRANSPOSE), 1, "%s unoptimised: %s", name, r.detail);
    expect_all_nhwc(raw, name);
    snprintf(what, sizeof what, "%s converted unoptimised", name);
    same_function(g, raw, 1, seed + 7, what);
    expect_idempotent(raw, false, what);
    /* ... and the pipeline then folds and fuses the NHWC nodes as it would NCHW ones */
    sn_graph *fused = optimised(raw, SN_LAYOUT_NCHW, NULL, what);
    cr_expect_eq(fused->n_nodes, nhwc->n_nodes, "%s: %d nodes, %d when converted last", what,
                 fused->n_nodes, nhwc->n_nodes);
    cr_expect_eq(sn_pt_count_op(fused, SN_OP_BATCHNORM), 0, "%s", what);
    same_function(g, fused, 1, seed + 8, what);
    sn_graph_destroy(fused);
    sn_graph_destroy(raw);
    sn_graph_destroy(nchw);
    sn_graph_destroy(nhwc);
    sn_graph_destroy(g);
}

Test(passes_layout, seed_cnn) { check_zoo("seed-cnn"); }
Test(passes_layout, resnet18) { check_zoo("resnet18"); }
Test(passes_layout, resnet50) { check_zoo("resnet50"); }
Test(passes_layout, mobilenetv2) { check_zoo("mobilenetv2"); }
Test(passes_layout, squeezenet1_1) { check_zoo("squeezenet1_1"); }
Test(passes_layout, mobilenetv3_small) { check_zoo("mobilenetv3_small"); }

/* seed-cnn's dense layer reads a 32x14x14 NHWC tensor: its weight rows are reordered, no
 * Transpose or Flatten is left, and the pipeline ends as two NHWC FusedConvs and one Gemm. */
Test(passes_layout, seed_cnn_gemm_takes_nhwc_features) {
    sn_error err = {SN_OK, ""};
    sn_graph *g = NULL;
    cr_assert_eq(sn_zoo_build("seed-cnn", sn_test_fresh_seed("layout.seed"), &g, &err), SN_OK);
    sn_pass_report lr;
    sn_graph *o = optimised(g, SN_LAYOUT_NHWC, &lr, "seed-cnn");
    cr_expect_eq(o->n_nodes, 4, "%s", lr.detail); /* Transpose, 2 FusedConv, Gemm */
    cr_expect_eq(sn_pt_count_op(o, SN_OP_FLATTEN), 0);
    const sn_node *gemm = sn_pb_producer(o, "logits");
    cr_expect_eq(gemm->op, SN_OP_GEMM);
    cr_expect_eq(sn_node_attr_int(gemm, "flatten_a", 0), 1);
    cr_expect_eq(sn_node_attr_int(gemm, "layout", 0), SN_LAYOUT_NHWC);
    cr_expect(strstr(lr.detail, "1 Gemm weights reordered"), "%s", lr.detail);
    sn_graph_destroy(o);
    sn_graph_destroy(g);
}

Test(passes_layout, nchw_is_a_no_op) {
    sn_error err = {SN_OK, ""};
    sn_graph *g = NULL;
    cr_assert_eq(sn_zoo_build("mobilenetv3_small", 1, &g, &err), SN_OK);
    int nodes = g->n_nodes, tensors = g->n_tensors;
    for (int l = 0; l < 2; l++) {
        sn_pass_report r;
        cr_assert_eq(sn_pass_layout(g, l ? SN_LAYOUT_ANY : SN_LAYOUT_NCHW, &r, &err), SN_OK);
        cr_expect_eq(r.changes, 0);
        cr_expect_eq(r.nodes_before, r.nodes_after);
    }
    cr_expect_eq(g->n_nodes, nodes);
    cr_expect_eq(g->n_tensors, tensors);
    for (int i = 0; i < g->n_nodes; i++) cr_expect_null(sn_node_attr(&g->nodes[i], "layout"));
    cr_expect_eq(sn_pass_layout(g, (sn_layout)9, NULL, &err), SN_ERR_INVALID_ARGUMENT);
    sn_optimize_options opt = SN_OPTIMIZE_OPTIONS_INIT;
    opt.layout = (sn_layout)9;
    cr_expect_eq(sn_graph_optimize(g, &opt, NULL, NULL, &err), SN_ERR_INVALID_ARGUMENT);
    cr_expect(strstr(err.message, "layout 9"), "%s", err.message);
    sn_graph_destroy(g);
}

/* A conv whose 4-D output is a graph output and is also read further on: the output keeps its
 * tensor and name, written NCHW by a Transpose from an NHWC twin that the next conv reads. */
Test(passes_layout, graph_output_keeps_its_nchw_tensor, .init = sn_pb_setup) {
    int x;
    sn_graph *g = sn_pb_graph(3, 9, 7, &x);
    int a = sn_pb_conv(g, "a", x, 3, 5, true);
    cr_assert_eq(sn_graph_add_output(g, a), SN_OK);
    int b = sn_pb_conv(g, "b", a, 5, 4, false);
    sn_pb_finish(g, sn_pb_node(g, SN_OP_RELU, "y", &b, 1, NULL, 0));
    sn_graph *o = sn_pb_apply(g, NULL, NULL); /* checked to compute the same */
    sn_pass_report r;
    sn_error err = {SN_OK, ""};
    sn_graph *c = clone_ok(o);
    cr_assert_eq(sn_pass_layout(c, SN_LAYOUT_NHWC, &r, &err), SN_OK, "%s", err.message);
    /* in: 1; out: one per 4-D graph output */
    cr_expect_eq(sn_pt_count_op(c, SN_OP_TRANSPOSE), 3, "%s", r.detail);
    int t = sn_graph_find_tensor(c, "a");
    cr_assert(t >= 0 && (c->tensors[t].flags & SN_TENSOR_OUTPUT));
    cr_expect_eq(c->tensors[t].shape.d[1], 5, "the output stays [N,5,9,7]");
    cr_expect_eq(sn_pb_producer(c, "a")->op, SN_OP_TRANSPOSE);
    same_function(o, c, 2, 11, "graph output");
    sn_graph_destroy(c);
    sn_graph_destroy(o);
    sn_graph_destroy(g);
}

/* Property: random graphs (pools, Concat on every axis, Pad, Softmax, Resize, broadcast
 * constants, Reshape and Transpose chains, extra outputs, a Flatten-Gemm head) keep their
 * function through the pass alone and through the NHWC pipeline, which is idempotent. */
Test(passes_layout, random_graphs) {
    uint64_t base = sn_test_fresh_seed("passes_layout_random");
    int n_graphs = 60, converted = 0, ops[SN_OP_COUNT] = {0};
    for (int i = 0; i < n_graphs; i++) {
        uint64_t seed = base + (uint64_t)i * 0x9E3779B97F4A7C15ull;
        sn_error err = {SN_OK, ""};
        sn_graph *g = NULL;
        cr_assert_eq(sn_pt_random_graph(seed, &g, &err), SN_OK, "graph %d: %s", i, err.message);
        char what[96];
        snprintf(what, sizeof what, "random graph %d (SN_TEST_SEED=%llu)", i,
                 (unsigned long long)base);
        sn_graph *p = clone_ok(g);
        sn_pass_report r;
        cr_assert_eq(sn_pass_layout(p, SN_LAYOUT_NHWC, &r, &err), SN_OK, "%s: %s", what,
                     err.message);
        cr_assert_eq(sn_graph_validate(p, &err), SN_OK, "%s: %s", what, err.message);
        converted += r.changes > 0;
        for (int k = 0; k < p->n_nodes; k++) {
            const sn_node *n = &p->nodes[k];
            if (!n->dead && n->op != SN_OP_TRANSPOSE &&
                p->tensors[n->outputs[0]].layout == SN_LAYOUT_NHWC)
                ops[n->op]++;
        }
        same_function(g, p, 1 + i % 2, seed, what);
        /* the pipeline on the converted graph: folding and fusion on NHWC nodes */
        sn_graph *q = optimised(p, SN_LAYOUT_NCHW, NULL, what);
        same_function(g, q, 1 + i % 2, seed + 2, what);
        sn_graph_destroy(q);
        sn_graph *o = optimised(g, SN_LAYOUT_NHWC, NULL, what);
        same_function(g, o, 2 - i % 2, seed + 1, what);
        expect_idempotent(o, true, what);
        sn_graph_destroy(o);
        sn_graph_destroy(p);
        sn_graph_destroy(g);
    }
    cr_expect_gt(converted, n_graphs / 2);
    fprintf(stderr, "[layout] %d random graphs, %d converted; NHWC nodes:", n_graphs, converted);
    for (int op = 0; op < SN_OP_COUNT; op++)
        if (ops[op]) fprintf(stderr, " %s %d", sn_op_name((sn_op)op), ops[op]);
    fprintf(stderr, "\n");
}
