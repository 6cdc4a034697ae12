/*
 * test_passes_fusion.c - BatchNorm folding and conv/Gemm epilogue fusion on small hand-built
 * graphs: what they rewrite, what they must leave alone (shared tensors, graph outputs,
 * broadcasting, non-constant parameters, borrowed weights), and that the function is kept (CPU
 * engine before and after at batch 2, within 1e-5 of max(|ref|, rms(ref))). The other passes'
 * rules are in test_passes_rules.c; zoo models and random graphs in test_passes.c.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "passes/pass.h"
#include "passes_support.h"

/* --- fold_batchnorm ---------------------------------------------------------------------- */

Test(passes_rules, bn_folds_into_convs_sharing_weights, .init = sn_pb_setup) {
    int x, y1, y2;
    sn_graph *g = sn_pb_graph(3, 6, 5, &x);
    y1 = sn_pb_conv(g, "c1", x, 3, 4, true);
    int w = g->nodes[0].inputs[1];
    int ins[2] = {x, w};
    int64_t pads[4] = {1, 1, 1, 1};
    sn_attr a = sn_attr_ints("pads", pads, 4);
    y2 = sn_pb_node(g, SN_OP_CONV, "c2", ins, 2, &a, 1); /* same weights, no bias */
    int o1 = sn_pb_bn(g, "bn1", y1, 4), o2 = sn_pb_bn(g, "bn2", y2, 4);
    cr_assert_eq(sn_graph_add_output(g, o1), SN_OK);
    sn_pb_finish(g, o2);
    sn_pass_report r;
    sn_graph *o = sn_pb_apply(g, sn_pass_fold_batchnorm, &r);
    cr_expect_eq(r.changes, 2, "%s", r.detail);
    cr_expect_eq(sn_pt_count_op(o, SN_OP_BATCHNORM), 0);
    const sn_node *c1 = sn_pb_producer(o, "bn1"), *c2 = sn_pb_producer(o, "bn2");
    cr_expect_eq(c1->op, SN_OP_CONV);
    /* c1 gets new weights (c2 still read the shared ones); then c2, the last reader of the
     * graph-owned weights, rescales them in place. */
    cr_expect_str_eq(o->tensors[c1->inputs[1]].name, "c1.weight_bn");
    cr_expect_str_eq(o->tensors[c2->inputs[1]].name, "c1.w");
    cr_expect_str_eq(o->tensors[c2->inputs[2]].name, "c2.bias_bn");
    sn_graph_destroy(o);
    /* dce accounts for the parameters the folds made unused: 8 vectors of 4 floats. */
    o = sn_pb_apply(g, NULL, &r);
    cr_expect_eq(r.weight_bytes_removed, 8 * 4 * sizeof(float), "%zu", r.weight_bytes_removed);
    sn_graph_destroy(o);
    sn_graph_destroy(g);
}

Test(passes_rules, bn_fold_never_writes_borrowed_weights, .init = sn_pb_setup) {
    int x;
    sn_graph *g = sn_pb_graph(2, 4, 4, &x);
    float w[3 * 2 * 9], keep[3 * 2 * 9];
    sn_rng_fill(&sn_pb_rng, w, 3 * 2 * 9, -0.5f, 0.5f);
    memcpy(keep, w, sizeof w);
    int64_t wd[4] = {3, 2, 3, 3};
    sn_shape ws = sn_shape_make(4, wd);
    int wt;
    cr_assert_eq(sn_graph_add_const(g, "w", SN_DTYPE_F32, &ws, w, sizeof w, false, &wt), SN_OK);
    int ins[2] = {x, wt};
    int y = sn_pb_node(g, SN_OP_CONV, "c", ins, 2, NULL, 0);
    sn_pb_finish(g, sn_pb_bn(g, "bn", y, 3));
    sn_pass_report r;
    sn_graph *o = sn_pb_apply(g, NULL, &r);
    cr_expect_eq(memcmp(w, keep, sizeof w), 0, "borrowed weights were written");
    cr_expect_eq(sn_graph_find_tensor(o, "w"), -1);
    cr_expect(sn_graph_find_tensor(o, "c.weight_bn") >= 0);
    sn_graph_destroy(o);
    sn_graph_destroy(g);
}

Test(passes_rules, bn_left_when_the_conv_output_is_shared_or_an_output, .init = sn_pb_setup) {
    for (int variant = 0; variant < 4; variant++) {
        int x;
        sn_graph *g = sn_pb_graph(2, 5, 5, &x);
        int y = sn_pb_conv(g, "c", x, 2, 3, variant == 0);
        int o = sn_pb_bn(g, "bn", y, 3);
        if (variant == 0) { /* a second reader */
            int r = sn_pb_node(g, SN_OP_RELU, "r", &y, 1, NULL, 0);
            cr_assert_eq(sn_graph_add_output(g, r), SN_OK);
        } else if (variant == 1) { /* the conv output is a graph output */
            cr_assert_eq(sn_graph_add_output(g, y), SN_OK);
        } else if (variant == 2) { /* an activation already applied */
            g->nodes[0].op = SN_OP_FUSED_CONV;
            sn_attr *a = sn_graph_alloc(g, sizeof(sn_attr) * 2);
            a[0] = g->nodes[0].attrs[0];
            a[1] = sn_attr_int("activation", SN_ACT_RELU);
            g->nodes[0].attrs = a;
            g->nodes[0].n_attrs = 2;
        } else { /* variance computed from a graph input (v*v + 0.5): not a constant */
            int64_t d = 3;
            sn_shape s = sn_shape_make(1, &d);
            int v;
            cr_assert_eq(sn_graph_add_tensor(g, "var_in", SN_DTYPE_F32, &s, &v), SN_OK);
            cr_assert_eq(sn_graph_add_input(g, v), SN_OK);
            int sq_in[2] = {v, v};
            int sq = sn_pb_node(g, SN_OP_MUL, "sq", sq_in, 2, NULL, 0);
            int add_in[2] = {sq, sn_pb_vec(g, "half", 3, 0.5f, 0.5f)};
            g->nodes[1].inputs[4] = sn_pb_node(g, SN_OP_ADD, "var", add_in, 2, NULL, 0);
        }
        sn_pb_finish(g, o);
        sn_pass_report r;
        sn_graph *p = sn_pb_apply(g, sn_pass_fold_batchnorm, &r);
        cr_expect_eq(r.changes, 0, "variant %d: %s", variant, r.detail);
        cr_expect_eq(sn_pt_count_op(p, SN_OP_BATCHNORM), 1);
        sn_graph_destroy(p);
        sn_graph_destroy(g);
    }
}

Test(passes_rules, bn_folds_into_gemm_either_layout, .init = sn_pb_setup) {
    for (int v = 0; v < 8; v++) {
        int x;
        sn_graph *g = sn_pb_graph(2, 3, 2, &x);
        int f = sn_pb_node(g, SN_OP_FLATTEN, "f", &x, 1, NULL, 0);
        int64_t tb = v & 1, bd[2] = {tb ? 5 : 12, tb ? 12 : 5}, row[2] = {1, 5}, one = 1;
        int ins[3] = {f, sn_pb_const(g, "B", 2, bd, -0.5f, 0.5f), -1}, n = 2;
        if ((v >> 1) == 1) ins[2] = sn_pb_vec(g, "C", 5, -1, 1), n = 3;
        if ((v >> 1) == 2) ins[2] = sn_pb_const(g, "C", 2, row, -1, 1), n = 3;
        if ((v >> 1) == 3) ins[2] = sn_pb_const(g, "C", 1, &one, -1, 1), n = 3;
        sn_attr a[3] = {sn_attr_int("transB", tb), sn_attr_float("beta", 0.75f),
                        sn_attr_float("alpha", 1.25f)};
        int y = sn_pb_node(g, SN_OP_GEMM, "gemm", ins, n, a, 3);
        sn_pb_finish(g, sn_pb_bn(g, "bn", y, 5));
        sn_pass_report r;
        sn_graph *o = sn_pb_apply(g, sn_pass_fold_batchnorm, &r);
        cr_expect_eq(r.changes, 1, "variant %d: %s", v, r.detail);
        cr_expect_eq(sn_pb_producer(o, "bn")->op, SN_OP_GEMM);
        cr_expect_null(sn_node_attr(sn_pb_producer(o, "bn"), "beta"));
        sn_graph_destroy(o);
        sn_graph_destroy(g);
    }
}

/* --- fuse_conv ---------------------------------------------------------------------------- */

Test(passes_rules, resnet_block_becomes_one_fused_conv, .init = sn_pb_setup) {
    int x;
    sn_graph *g = sn_pb_graph(4, 5, 6, &x);
    int y = sn_pb_bn(g, "bn", sn_pb_conv(g, "c", x, 4, 4, false), 4);
    int ins[2] = {x, y}; /* the conv output second: either order fuses */
    int s = sn_pb_node(g, SN_OP_ADD, "add", ins, 2, NULL, 0);
    sn_pb_finish(g, sn_pb_node(g, SN_OP_RELU, "out", &s, 1, NULL, 0));
    sn_pass_report r;
    sn_graph *o = sn_pb_apply(g, NULL, &r);
    cr_expect_eq(o->n_nodes, 1, "%s", r.detail);
    const sn_node *c = sn_pb_producer(o, "out");
    cr_expect_eq(c->op, SN_OP_FUSED_CONV);
    cr_expect_eq(c->n_inputs, 4);
    cr_expect_eq(c->inputs[3], sn_graph_find_tensor(o, "x"));
    cr_expect_eq(sn_node_attr_int(c, "activation", -1), SN_ACT_RELU);
    sn_graph_destroy(o);
    sn_graph_destroy(g);
}

Test(passes_rules, residual_left_when_broadcasting_or_after_an_activation, .init = sn_pb_setup) {
    for (int v = 0; v < 3; v++) {
        int x;
        sn_graph *g = sn_pb_graph(3, 4, 4, &x);
        int y = sn_pb_conv(g, "c", x, 3, 3, true), z = x;
        if (v == 0) { /* z [N,1,4,4] broadcasts over channels */
            int64_t w[4] = {1, 3, 1, 1}, pads[4] = {0, 0, 0, 0};
            sn_attr a = sn_attr_ints("pads", pads, 4);
            int ins[2] = {x, sn_pb_const(g, "w1", 4, w, -1, 1)};
            z = sn_pb_node(g, SN_OP_CONV, "squeeze", ins, 2, &a, 1);
        } else if (v == 1) {
            y = sn_pb_node(g, SN_OP_TANH, "tanh", &y, 1, NULL, 0);
        } else { /* a constant of the batch-1 shape does not follow the batch */
            int64_t d[4] = {1, 3, 4, 4};
            z = sn_pb_const(g, "k", 4, d, -1, 1);
        }
        int ins[2] = {y, z};
        sn_pb_finish(g, sn_pb_node(g, SN_OP_ADD, "add", ins, 2, NULL, 0));
        sn_pass_report r;
        sn_graph *o = sn_pb_apply(g, sn_pass_fuse_conv, &r);
        cr_expect_eq(sn_pt_count_op(o, SN_OP_ADD), 1, "variant %d: %s", v, r.detail);
        cr_expect_eq(sn_pb_fused_z_count(o), 0);
        sn_graph_destroy(o);
        sn_graph_destroy(g);
    }
}

Test(passes_rules, biases_and_activations_fuse_in_order, .init = sn_pb_setup) {
    int x;
    sn_graph *g = sn_pb_graph(2, 5, 4, &x);
    int y = sn_pb_conv(g, "c", x, 2, 3, true);
    int64_t d4[4] = {1, 3, 1, 1}, d3[3] = {3, 1, 1};
    int i1[2] = {y, sn_pb_vec(g, "b1", 3, -1, 1)};
    y = sn_pb_node(g, SN_OP_BIAS_ADD, "ba", i1, 2, NULL, 0);
    int i2[2] = {sn_pb_const(g, "b2", 4, d4, -1, 1), y};
    y = sn_pb_node(g, SN_OP_ADD, "a2", i2, 2, NULL, 0);
    int i3[2] = {y, sn_pb_const(g, "b3", 3, d3, -1, 1)};
    y = sn_pb_node(g, SN_OP_ADD, "a3", i3, 2, NULL, 0);
    sn_attr clip[2] = {sn_attr_float("min", -0.25f), sn_attr_float("max", 0.5f)};
    y = sn_pb_node(g, SN_OP_CLIP, "clip", &y, 1, clip, 2);
    int after = sn_pb_node(g, SN_OP_SIGMOID, "sig", &y, 1, NULL, 0); /* a second activation stays */
    sn_pb_finish(g, after);
    sn_pass_report r;
    sn_graph *o = sn_pb_apply(g, sn_pass_fuse_conv, &r);
    cr_expect_eq(o->n_nodes, 2, "%s", r.detail);
    const sn_node *c = sn_pb_producer(o, "clip");
    cr_expect_eq(c->op, SN_OP_FUSED_CONV);
    cr_expect_eq(sn_node_attr_int(c, "activation", 0), SN_ACT_CLIP);
    cr_expect_float_eq(sn_node_attr_float(c, "act_alpha", 0), -0.25f, 0);
    cr_expect_float_eq(sn_node_attr_float(c, "act_beta", 0), 0.5f, 0);
    cr_expect_eq(sn_pb_producer(o, "sig")->op, SN_OP_SIGMOID);
    sn_graph_destroy(o);
    sn_graph_destroy(g);
}

Test(passes_rules, bias_along_width_or_shared_output_is_not_fused, .init = sn_pb_setup) {
    int x;
    sn_graph *g = sn_pb_graph(2, 3, 4, &x);
    int y = sn_pb_conv(g, "c", x, 2, 4, false);
    int ins[2] = {y, sn_pb_vec(g, "w_bias", 4, -1, 1)}; /* [4] broadcasts along W, not channels */
    int a = sn_pb_node(g, SN_OP_ADD, "a", ins, 2, NULL, 0);
    int r1 = sn_pb_node(g, SN_OP_RELU, "r1", &a, 1, NULL, 0),
        r2 = sn_pb_node(g, SN_OP_TANH, "r2", &a, 1, NULL, 0);
    int s_in[2] = {r1, r2};
    sn_pb_finish(g, sn_pb_node(g, SN_OP_ADD, "s", s_in, 2, NULL, 0));
    sn_pass_report r;
    sn_graph *o = sn_pb_apply(g, sn_pass_fuse_conv, &r);
    cr_expect_eq(r.changes, 1, "only Conv -> FusedConv: %s", r.detail);
    cr_expect_eq(o->n_nodes, 5);
    sn_graph_destroy(o);
    sn_graph_destroy(g);
}

Test(passes_rules, gemm_absorbs_bias_and_activation, .init = sn_pb_setup) {
    for (int v = 0; v < 3; v++) {
        int x;
        sn_graph *g = sn_pb_graph(3, 2, 2, &x);
        int f = sn_pb_node(g, SN_OP_FLATTEN, "f", &x, 1, NULL, 0);
        int64_t bd[2] = {12, 7}, row[2] = {1, 7};
        int ins[3] = {f, sn_pb_const(g, "B", 2, bd, -0.5f, 0.5f), sn_pb_vec(g, "C", 7, -1, 1)};
        sn_attr beta = sn_attr_float("beta", 0.5f);
        int y = sn_pb_node(g, SN_OP_GEMM, "gemm", ins, v == 2 ? 2 : 3, &beta, 1);
        int b_in[2] = {y, v == 1 ? sn_pb_const(g, "bias", 2, row, -1, 1)
                                 : sn_pb_vec(g, "bias", 7, -1, 1)};
        y = sn_pb_node(g, v == 0 ? SN_OP_BIAS_ADD : SN_OP_ADD, "bias_add", b_in, 2, NULL, 0);
        sn_attr alpha = sn_attr_float("alpha", 0.2f);
        sn_pb_finish(g, sn_pb_node(g, SN_OP_LEAKY_RELU, "act", &y, 1, &alpha, 1));
        sn_pass_report r;
        sn_graph *o = sn_pb_apply(g, sn_pass_fuse_conv, &r);
        cr_expect_eq(o->n_nodes, 2, "variant %d: %s", v, r.detail);
        const sn_node *gm = sn_pb_producer(o, "act");
        cr_expect_eq(gm->op, SN_OP_GEMM);
        cr_expect_eq(sn_node_attr_int(gm, "activation", 0), SN_ACT_LEAKY_RELU);
        cr_expect_float_eq(sn_node_attr_float(gm, "act_alpha", 0), 0.2f, 0);
        sn_graph_destroy(o);
        sn_graph_destroy(g);
    }
}
