/*
 * test_passes_rules.c - constant folding, CSE, algebraic simplification and dead-code
 * elimination on small hand-built graphs (what they rewrite, what they must leave alone, and
 * that the function is kept), plus sn_graph_clone and the pass manager's options. Fusion rules
 * are in test_passes_fusion.c; zoo models and random graphs in test_passes.c.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "passes/pass.h"
#include "passes_support.h"

/* --- fold_constants, cse, simplify, dce --------------------------------------------------- */

Test(passes_rules, constant_chains_fold_but_outputs_stay_computed, .init = sn_pb_setup) {
    int x;
    sn_graph *g = sn_pb_graph(3, 4, 4, &x);
    int64_t d[4] = {3, 1, 1, 1}, perm[4] = {1, 0, 2, 3};
    int a_in[2] = {sn_pb_const(g, "k1", 4, d, -1, 1), sn_pb_const(g, "k2", 4, d, -1, 1)};
    int k = sn_pb_node(g, SN_OP_MUL, "k", a_in, 2, NULL, 0);
    sn_attr p = sn_attr_ints("perm", perm, 4);
    k = sn_pb_node(g, SN_OP_TRANSPOSE, "kt", &k, 1, &p, 1); /* [1,3,1,1] */
    int s_in[2] = {x, k};
    int y = sn_pb_node(g, SN_OP_ADD, "y", s_in, 2, NULL, 0);
    int c_in[2] = {sn_pb_vec(g, "c1", 2, -1, 1), sn_pb_vec(g, "c2", 2, -1, 1)};
    int c_out = sn_pb_node(g, SN_OP_SUB, "const_out", c_in, 2, NULL, 0);
    cr_assert_eq(sn_graph_add_output(g, c_out), SN_OK);
    sn_pb_finish(g, y);
    sn_pass_report r;
    sn_graph *o = sn_pb_apply(g, sn_pass_fold_constants, &r);
    cr_expect_eq(r.changes, 2, "%s", r.detail);
    int kt = sn_graph_find_tensor(o, "kt");
    cr_assert(kt >= 0);
    cr_expect(o->tensors[kt].flags & SN_TENSOR_CONST);
    cr_expect_eq(o->tensors[kt].shape.rank, 4);
    cr_expect_eq(o->tensors[kt].shape.d[1], 3);
    cr_expect_eq(sn_pb_producer(o, "const_out")->op, SN_OP_SUB, "a graph output stays computed");
    sn_graph_destroy(o);
    sn_graph_destroy(g);
}

/* A Flatten (axis 1) read by a Gemm as A is taken by it (flatten_a) and dies - unless something
 * else reads it too or it is a graph output; with another axis it stays. */
Test(passes_rules, simplify_gives_flatten_to_gemm, .init = sn_pb_setup) {
    for (int v = 0; v < 4; v++) {
        int x;
        sn_graph *g = sn_pb_graph(3, 2, 4, &x);
        sn_attr axis = sn_attr_int("axis", v == 2 ? 2 : -3);
        int f = sn_pb_node(g, SN_OP_FLATTEN, "f", &x, 1, &axis, 1);
        int64_t bd[2] = {v == 2 ? 8 : 24, 5};
        int ins[2] = {f, sn_pb_const(g, "B", 2, bd, -0.5f, 0.5f)};
        int y = sn_pb_node(g, SN_OP_GEMM, "gemm", ins, 2, NULL, 0);
        if (v == 1) { /* a second reader */
            int r2 = sn_pb_node(g, SN_OP_RELU, "r", &f, 1, NULL, 0);
            cr_assert_eq(sn_graph_add_output(g, r2), SN_OK);
        }
        if (v == 3) cr_assert_eq(sn_graph_add_output(g, f), SN_OK);
        sn_pb_finish(g, y);
        sn_pass_report r;
        sn_graph *o = sn_pb_apply(g, sn_pass_simplify, &r);
        const sn_node *gm = sn_pb_producer(o, "gemm");
        bool taken = v != 2;
        cr_expect_eq(sn_node_attr_int(gm, "flatten_a", 0), taken, "variant %d: %s", v, r.detail);
        cr_expect_eq(sn_pt_count_op(o, SN_OP_FLATTEN), v == 0 ? 0 : 1, "variant %d", v);
        if (taken) cr_expect_eq(gm->inputs[0], sn_graph_find_tensor(o, "x"));
        sn_graph_destroy(o);
        sn_graph_destroy(g);
    }
}

Test(passes_rules, cse_merges_duplicates_and_keeps_output_names, .init = sn_pb_setup) {
    int x;
    sn_graph *g = sn_pb_graph(2, 3, 3, &x);
    int a = sn_pb_node(g, SN_OP_RELU, "a", &x, 1, NULL, 0),
        b = sn_pb_node(g, SN_OP_RELU, "b", &x, 1, NULL, 0);
    int ta = sn_pb_node(g, SN_OP_TANH, "ta", &a, 1, NULL, 0),
        tb = sn_pb_node(g, SN_OP_TANH, "tb", &b, 1, NULL, 0);
    sn_attr l1 = sn_attr_float("alpha", 0.1f), l2 = sn_attr_float("alpha", 0.2f);
    int la = sn_pb_node(g, SN_OP_LEAKY_RELU, "la", &x, 1, &l1, 1),
        lb = sn_pb_node(g, SN_OP_LEAKY_RELU, "lb", &x, 1, &l2, 1);
    int s1[2] = {ta, la}, s2[2] = {tb, lb};
    int u = sn_pb_node(g, SN_OP_ADD, "u", s1, 2, NULL, 0),
        w = sn_pb_node(g, SN_OP_ADD, "w", s2, 2, NULL, 0);
    cr_assert_eq(sn_graph_add_output(g, tb), SN_OK); /* the duplicate chain's tanh is an output */
    cr_assert_eq(sn_graph_add_output(g, u), SN_OK);
    sn_pb_finish(g, w);
    sn_pass_report r;
    sn_graph *o = sn_pb_apply(g, sn_pass_cse, &r);
    cr_expect_eq(r.changes, 2, "relu and tanh merge, the leaky relus differ: %s", r.detail);
    cr_expect_eq(sn_pt_count_op(o, SN_OP_RELU), 1);
    cr_expect_eq(sn_pt_count_op(o, SN_OP_TANH), 1);
    cr_expect_eq(sn_pb_producer(o, "tb")->op, SN_OP_TANH, "the output keeps its tensor");
    sn_graph_destroy(o);
    sn_graph_destroy(g);
}

Test(passes_rules, simplify_removes_pass_through_nodes, .init = sn_pb_setup) {
    int x;
    sn_graph *g = sn_pb_graph(2, 3, 4, &x);
    int64_t one = 1, z4[4] = {1, 2, 1, 1}, r1[3] = {0, 6, 4}, r2[4] = {-1, 2, 3, 4};
    int64_t p1[4] = {0, 2, 3, 1}, p2[4] = {0, 3, 1, 2}, p3[4] = {0, 1, 3, 2};
    int y = sn_pb_conv(g, "c", x, 2, 2, true);
    int m_in[2] = {y, sn_pb_vec(g, "ones", 1, 1, 1)};
    y = sn_pb_node(g, SN_OP_MUL, "m", m_in, 2, NULL, 0);
    int a_in[2] = {sn_pb_const(g, "zeros", 4, z4, 0, 0), y};
    y = sn_pb_node(g, SN_OP_ADD, "a", a_in, 2, NULL, 0);
    sn_attr s1 = sn_attr_ints("shape", r1, 3), s2 = sn_attr_ints("shape", r2, 4);
    y = sn_pb_node(g, SN_OP_RESHAPE, "r1", &y, 1, &s1, 1);
    y = sn_pb_node(g, SN_OP_RESHAPE, "r2", &y, 1, &s2, 1);
    sn_attr t1 = sn_attr_ints("perm", p1, 4), t2 = sn_attr_ints("perm", p2, 4),
            t3 = sn_attr_ints("perm", p3, 4);
    y = sn_pb_node(g, SN_OP_TRANSPOSE, "t1", &y, 1, &t1, 1);
    y = sn_pb_node(g, SN_OP_TRANSPOSE, "t2", &y, 1, &t2, 1); /* cancels t1 */
    y = sn_pb_node(g, SN_OP_TRANSPOSE, "t3", &y, 1, &t3, 1);
    y = sn_pb_node(g, SN_OP_TRANSPOSE, "t4", &y, 1, &t1, 1); /* composes with t3 */
    int b_in[2] = {y, sn_pb_vec(g, "z", 1, 0, 0)};
    y = sn_pb_node(g, SN_OP_SUB, "sub", b_in, 2, NULL, 0);
    sn_pb_finish(g, sn_pb_node(g, SN_OP_IDENTITY, "out", &y, 1, NULL, 0));
    (void)one;
    sn_pass_report r;
    sn_graph *o = sn_pb_apply(g, NULL, &r);
    cr_expect_eq(o->n_nodes, 2, "a conv and one composed Transpose: %s", r.detail);
    const sn_node *t = sn_pb_producer(o, "out");
    cr_expect_eq(t->op, SN_OP_TRANSPOSE, "the Identity's output is written by the Transpose");
    int cnt = 0;
    const int64_t *perm = sn_node_attr_ints(t, "perm", &cnt);
    cr_assert_eq(cnt, 4);
    /* y[i] = t3in[p3[p1[i]]]: perm {0,1,3,2} then {0,2,3,1} gives {0,3,2,1}. */
    cr_expect(perm[0] == 0 && perm[1] == 3 && perm[2] == 2 && perm[3] == 1,
              "perm %lld %lld %lld %lld", (long long)perm[0], (long long)perm[1],
              (long long)perm[2], (long long)perm[3]);
    sn_graph_destroy(o);
    sn_graph_destroy(g);
}

Test(passes_rules, simplify_keeps_ops_that_broadcast_or_feed_an_output, .init = sn_pb_setup) {
    int x;
    sn_graph *g = sn_pb_graph(1, 3, 3, &x);
    int64_t z4[4] = {1, 2, 1, 1};
    int a_in[2] = {x,
                   sn_pb_const(g, "zeros", 4, z4, 0, 0)}; /* [N,1,3,3] + [1,2,1,1] -> [N,2,3,3] */
    int y = sn_pb_node(g, SN_OP_ADD, "a", a_in, 2, NULL, 0);
    int id = sn_pb_node(g, SN_OP_IDENTITY, "id", &x, 1, NULL, 0); /* of a graph input, an output */
    cr_assert_eq(sn_graph_add_output(g, id), SN_OK);
    sn_pb_finish(g, y);
    sn_pass_report r;
    sn_graph *o = sn_pb_apply(g, sn_pass_simplify, &r);
    cr_expect_eq(r.changes, 0, "%s", r.detail);
    cr_expect_eq(o->n_nodes, 2);
    sn_graph_destroy(o);
    sn_graph_destroy(g);
}

Test(passes_rules, dce_removes_dead_branches_and_counts_their_weights, .init = sn_pb_setup) {
    int x;
    sn_graph *g = sn_pb_graph(2, 4, 4, &x);
    sn_pb_conv(g, "dead", x, 2, 3, true);
    sn_pb_finish(g, sn_pb_node(g, SN_OP_RELU, "out", &x, 1, NULL, 0));
    sn_pass_report r;
    sn_graph *o = sn_pb_apply(g, sn_pass_dce, &r);
    cr_expect_eq(o->n_nodes, 1);
    cr_expect_eq(r.weight_bytes_removed, (3 * 2 * 9 + 3) * sizeof(float));
    cr_expect_eq(sn_graph_find_tensor(o, "dead.w"), -1);
    cr_expect_eq(o->n_inputs, 1, "graph inputs stay");
    sn_graph_destroy(o);
    sn_graph_destroy(g);
}

/* --- clone and the manager --------------------------------------------------------------- */

Test(passes_rules, clone_is_deep_and_keeps_borrowed_data_borrowed, .init = sn_pb_setup) {
    int x;
    sn_graph *g = sn_pb_graph(2, 4, 4, &x);
    static const float borrowed[3] = {1, 2, 3};
    int64_t three = 3;
    sn_shape s = sn_shape_make(1, &three);
    int b;
    cr_assert_eq(
        sn_graph_add_const(g, "borrowed", SN_DTYPE_F32, &s, borrowed, sizeof borrowed, false, &b),
        SN_OK);
    int y = sn_pb_conv(g, "c", x, 2, 3, false);
    int ins[2] = {y, b};
    sn_pb_finish(g, sn_pb_node(g, SN_OP_BIAS_ADD, "out", ins, 2, NULL, 0));
    const char *labels[2] = {"cat", "dog"};
    cr_assert_eq(sn_graph_set_labels(g, labels, 2), SN_OK);
    cr_assert_eq(sn_graph_set_prop(g, "producer", "test"), SN_OK);
    sn_graph *c = NULL;
    cr_assert_eq(sn_graph_clone(g, &c), SN_OK);
    cr_assert_eq(c->n_tensors, g->n_tensors);
    cr_assert_eq(c->n_nodes, g->n_nodes);
    for (int t = 0; t < g->n_tensors; t++) {
        cr_expect_str_eq(c->tensors[t].name, g->tensors[t].name);
        cr_expect_neq((void *)c->tensors[t].name, (void *)g->tensors[t].name);
        cr_expect_eq(sn_graph_find_tensor(c, g->tensors[t].name), t);
        if (g->tensors[t].data && t != b) {
            cr_expect_neq(c->tensors[t].data, g->tensors[t].data);
            cr_expect_eq(memcmp(c->tensors[t].data, g->tensors[t].data, g->tensors[t].nbytes), 0);
        }
    }
    cr_expect_eq(c->tensors[b].data, (const void *)borrowed);
    cr_expect(!(c->tensors[b].flags & SN_TENSOR_OWNS_DATA));
    cr_expect_str_eq(c->meta.labels[1], "dog");
    cr_expect_str_eq(c->meta.prop_values[0], "test");
    cr_expect_neq(c->nodes[0].attrs, g->nodes[0].attrs);
    /* Optimising the copy leaves the original alone. */
    sn_error err = {SN_OK, ""};
    cr_assert_eq(sn_graph_optimize(c, NULL, NULL, NULL, &err), SN_OK, "%s", err.message);
    cr_expect_eq(c->n_nodes, 1);
    cr_expect_eq(g->n_nodes, 2);
    cr_expect_eq(g->nodes[0].op, SN_OP_CONV);
    sn_graph_destroy(c);
    sn_graph_destroy(g);
}

Test(passes_rules, optimize_options_and_pass_table, .init = sn_pb_setup) {
    int x;
    sn_graph *g = sn_pb_graph(2, 4, 4, &x);
    int y = sn_pb_conv(g, "c", x, 2, 3, false);
    sn_pb_finish(g, sn_pb_node(g, SN_OP_RELU, "out", &y, 1, NULL, 0));
    sn_error err = {SN_OK, ""};
    sn_optimize_options o = SN_OPTIMIZE_OPTIONS_INIT;
    o.size = 0;
    cr_expect_eq(sn_graph_optimize(g, &o, NULL, NULL, &err), SN_ERR_INVALID_ARGUMENT);
    o = (sn_optimize_options)SN_OPTIMIZE_OPTIONS_INIT;
    o.passes = 0x100;
    cr_expect_eq(sn_graph_optimize(g, &o, NULL, NULL, &err), SN_ERR_INVALID_ARGUMENT);
    cr_expect(strstr(err.message, "0x100"), "%s", err.message);
    o = (sn_optimize_options)SN_OPTIMIZE_OPTIONS_INIT;
    o.max_iterations = 0;
    cr_expect_eq(sn_graph_optimize(g, &o, NULL, NULL, &err), SN_ERR_INVALID_ARGUMENT);
    o = (sn_optimize_options)SN_OPTIMIZE_OPTIONS_INIT;
    o.passes = SN_PASS_DCE | SN_PASS_SIMPLIFY;
    sn_pass_report *reps = NULL;
    int n = 0;
    cr_assert_eq(sn_graph_optimize(g, &o, &reps, &n, &err), SN_OK, "%s", err.message);
    cr_expect_eq(n, 3);
    cr_expect_str_eq(reps[0].pass, "simplify");
    cr_expect_str_eq(reps[1].pass, "dce");
    cr_expect_str_eq(reps[2].pass, "total");
    cr_expect_eq(g->n_nodes, 2, "no fusion when fuse_conv is off");
    free(reps);
    cr_expect_eq(sn_pass_find("fuse_conv"), 4);
    cr_expect_eq(sn_pass_find("nope"), -1);
    cr_expect_null(sn_pass_name(sn_pass_count()));
    cr_expect_null(sn_pass_get(-1));
    /* An invalid graph is refused with the validator's message. */
    sn_graph *bad = NULL;
    cr_assert_eq(sn_graph_create(&bad), SN_OK);
    cr_expect_eq(sn_graph_optimize(bad, NULL, NULL, NULL, &err), SN_ERR_GRAPH);
    cr_expect(strstr(err.message, "no outputs"), "%s", err.message);
    sn_graph_destroy(bad);
    sn_graph_destroy(g);
}
