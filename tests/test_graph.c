/* test_graph.c - the graph IR: construction rules, validation, ordering, shape inference with a
 * dynamic batch, compaction. Op kernels are tested in test_ops_*.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"

static sn_graph *g;

static void setup(void) { cr_assert_eq(sn_graph_create(&g), SN_OK); }
static void teardown(void) { sn_graph_destroy(g); }

static int act(const char *name, int rank, const int64_t *dims) {
    int idx = -1;
    sn_shape s = sn_shape_make(rank, dims);
    cr_assert_eq(sn_graph_add_tensor(g, name, SN_DTYPE_F32, dims ? &s : NULL, &idx), SN_OK, "%s", name);
    return idx;
}

static int node(sn_op op, const char *name, int in0, int in1, int out) {
    int ins[2] = {in0, in1}, idx = -1;
    cr_assert_eq(sn_graph_add_node(g, op, name, ins, in1 >= 0 ? 2 : 1, &out, 1, NULL, 0, &idx), SN_OK, "%s", name);
    return idx;
}

TestSuite(graph, .init = setup, .fini = teardown);

Test(graph, names_are_unique_and_indexed) {
    int64_t d[2] = {SN_DIM_BATCH, 4};
    int a = act("a", 2, d);
    cr_expect_eq(sn_graph_add_tensor(g, "a", SN_DTYPE_F32, NULL, NULL), SN_ERR_GRAPH);
    cr_expect_eq(sn_graph_add_tensor(g, "", SN_DTYPE_F32, NULL, NULL), SN_ERR_INVALID_ARGUMENT);
    char name[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "t%d", i);
        act(name, 0, NULL);
    }
    cr_expect_eq(sn_graph_find_tensor(g, "a"), a);
    cr_expect_eq(sn_graph_find_tensor(g, "t999"), 1000);
    cr_expect_eq(sn_graph_find_tensor(g, "t1000"), -1);
}

Test(graph, const_size_must_match_shape) {
    int64_t d[2] = {2, 3};
    sn_shape s = sn_shape_make(2, d);
    float w[6] = {1, 2, 3, 4, 5, 6};
    cr_expect_eq(sn_graph_add_const(g, "w", SN_DTYPE_F32, &s, w, 20, true, NULL), SN_ERR_SHAPE);
    int t = -1;
    cr_assert_eq(sn_graph_add_const(g, "w", SN_DTYPE_F32, &s, w, sizeof w, true, &t), SN_OK);
    w[0] = 100; /* copied, so the graph keeps 1 */
    cr_expect_eq(((const float *)g->tensors[t].data)[0], 1.0f);
    cr_expect(g->tensors[t].flags & SN_TENSOR_OWNS_DATA);
}

Test(graph, infer_with_dynamic_batch) {
    int64_t d[4] = {SN_DIM_BATCH, 3, 5, 7};
    int x = act("x", 4, d), y = act("y", 0, NULL), z = act("z", 0, NULL);
    cr_assert_eq(sn_graph_add_input(g, x), SN_OK);
    node(SN_OP_RELU, "r", x, -1, y);
    node(SN_OP_ADD, "add", y, x, z);
    g->tensors[y].shape.rank = -1;
    g->tensors[z].shape.rank = -1;
    cr_assert_eq(sn_graph_add_output(g, z), SN_OK);
    sn_error err = {0};
    cr_assert_eq(sn_graph_validate(g, &err), SN_OK, "%s", err.message);
    cr_assert_eq(sn_graph_infer_shapes(g, &err), SN_OK, "%s", err.message);
    cr_expect_eq(g->tensors[z].shape.rank, 4);
    cr_expect_eq(g->tensors[z].shape.d[0], 1);
    cr_expect_eq(g->tensors[z].shape.d[3], 7);
    cr_expect(g->tensors[z].flags & SN_TENSOR_BATCHED);
    sn_shape shapes[3];
    cr_assert_eq(sn_graph_infer_concrete(g, 17, shapes, NULL, &err), SN_OK, "%s", err.message);
    cr_expect_eq(shapes[z].d[0], 17);
    char buf[64];
    cr_expect_str_eq(sn_shape_format(&g->tensors[z].shape, true, buf, sizeof buf), "[N,3,5,7]");
    /* Idempotent. */
    cr_assert_eq(sn_graph_infer_shapes(g, &err), SN_OK, "%s", err.message);
}

Test(graph, declared_shape_contradiction_is_an_error) {
    int64_t d[2] = {SN_DIM_BATCH, 4}, wrong[2] = {1, 5};
    int x = act("x", 2, d), y = act("y", 2, wrong);
    sn_graph_add_input(g, x);
    node(SN_OP_RELU, "r", x, -1, y);
    sn_graph_add_output(g, y);
    sn_error err = {0};
    cr_expect_eq(sn_graph_infer_shapes(g, &err), SN_ERR_SHAPE);
    cr_expect(strstr(err.message, "'y'") != NULL, "%s", err.message);
}

Test(graph, cycle_is_detected) {
    int64_t d[2] = {SN_DIM_BATCH, 4};
    int x = act("x", 2, d), a = act("a", 0, NULL), b = act("b", 0, NULL);
    sn_graph_add_input(g, x);
    node(SN_OP_ADD, "first", x, b, a);
    node(SN_OP_RELU, "second", a, -1, b);
    sn_graph_add_output(g, b);
    sn_error err = {0};
    cr_expect_eq(sn_graph_validate(g, &err), SN_ERR_GRAPH);
    cr_expect(strstr(err.message, "cycle") != NULL, "%s", err.message);
}

Test(graph, dangling_input_is_detected) {
    int64_t d[2] = {SN_DIM_BATCH, 4};
    int x = act("x", 2, d), ghost = act("ghost", 2, d), y = act("y", 0, NULL);
    sn_graph_add_input(g, x);
    node(SN_OP_ADD, "add", x, ghost, y);
    sn_graph_add_output(g, y);
    sn_error err = {0};
    cr_expect_eq(sn_graph_validate(g, &err), SN_ERR_GRAPH);
    cr_expect(strstr(err.message, "ghost") != NULL, "%s", err.message);
}

Test(graph, two_producers_rejected) {
    int64_t d[2] = {SN_DIM_BATCH, 4};
    int x = act("x", 2, d), y = act("y", 0, NULL);
    sn_graph_add_input(g, x);
    node(SN_OP_RELU, "r1", x, -1, y);
    int ins[1] = {x};
    cr_expect_eq(sn_graph_add_node(g, SN_OP_RELU, "r2", ins, 1, &y, 1, NULL, 0, NULL), SN_ERR_GRAPH);
    cr_expect_eq(sn_graph_add_node(g, SN_OP_RELU, "r3", ins, 1, &x, 1, NULL, 0, NULL), SN_ERR_GRAPH);
}

Test(graph, unknown_attribute_and_arity_rejected) {
    int64_t d[2] = {SN_DIM_BATCH, 4};
    int x = act("x", 2, d), y = act("y", 0, NULL), z = act("z", 0, NULL);
    sn_graph_add_input(g, x);
    sn_attr bogus = sn_attr_int("bogus", 3);
    int ins[1] = {x};
    cr_assert_eq(sn_graph_add_node(g, SN_OP_RELU, "r", ins, 1, &y, 1, &bogus, 1, NULL), SN_OK);
    sn_graph_add_output(g, y);
    sn_error err = {0};
    cr_expect_eq(sn_graph_validate(g, &err), SN_ERR_GRAPH);
    cr_expect(strstr(err.message, "bogus") != NULL, "%s", err.message);
    g->nodes[0].dead = true;
    cr_assert_eq(sn_graph_add_node(g, SN_OP_ADD, "add1", ins, 1, &z, 1, NULL, 0, NULL), SN_OK);
    sn_graph_add_output(g, z);
    cr_expect_eq(sn_graph_validate(g, &err), SN_ERR_GRAPH);
    cr_expect(strstr(err.message, "add1") != NULL, "%s", err.message);
}

Test(graph, topo_order_respects_dependencies) {
    int64_t d[2] = {SN_DIM_BATCH, 4};
    int x = act("x", 2, d), t[6];
    sn_graph_add_input(g, x);
    char name[8];
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof name, "t%d", i);
        t[i] = act(name, 0, NULL);
    }
    /* Added out of order: t5 = t4 + t3 is declared first. */
    node(SN_OP_ADD, "n5", t[4], t[3], t[5]);
    node(SN_OP_RELU, "n4", t[2], -1, t[4]);
    node(SN_OP_RELU, "n3", t[2], -1, t[3]);
    node(SN_OP_ADD, "n2", t[1], t[0], t[2]);
    node(SN_OP_RELU, "n1", x, -1, t[1]);
    node(SN_OP_RELU, "n0", x, -1, t[0]);
    sn_graph_add_output(g, t[5]);
    int *order = NULL, count = 0;
    sn_error err = {0};
    cr_assert_eq(sn_graph_topo_order(g, &order, &count, &err), SN_OK, "%s", err.message);
    cr_assert_eq(count, 6);
    int pos[6];
    for (int i = 0; i < count; i++) pos[order[i]] = i;
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_inputs; k++) {
            int p = g->tensors[g->nodes[i].inputs[k]].producer;
            if (p >= 0) cr_expect_lt(pos[p], pos[i], "node %s before its producer", g->nodes[i].name);
        }
    free(order);
}

Test(graph, compact_drops_dead_nodes_and_unused_tensors) {
    int64_t d[2] = {SN_DIM_BATCH, 4}, wd[1] = {4};
    int x = act("x", 2, d), y = act("y", 0, NULL), z = act("z", 0, NULL), w;
    sn_shape ws = sn_shape_make(1, wd);
    float wv[4] = {1, 2, 3, 4};
    cr_assert_eq(sn_graph_add_const(g, "w", SN_DTYPE_F32, &ws, wv, sizeof wv, true, &w), SN_OK);
    sn_graph_add_input(g, x);
    int dead = node(SN_OP_ADD, "dead", x, w, z);
    node(SN_OP_RELU, "live", x, -1, y);
    sn_graph_add_output(g, y);
    g->nodes[dead].dead = true;
    cr_assert_eq(sn_graph_compact(g), SN_OK);
    cr_expect_eq(g->n_nodes, 1);
    cr_expect_eq(g->n_tensors, 2);
    cr_expect_eq(sn_graph_find_tensor(g, "w"), -1);
    cr_expect_eq(sn_graph_find_tensor(g, "z"), -1);
    int yi = sn_graph_find_tensor(g, "y");
    cr_assert_geq(yi, 0);
    cr_expect_eq(g->outputs[0], yi);
    cr_expect_eq(g->tensors[yi].producer, 0);
    cr_expect_str_eq(g->nodes[0].name, "live");
    sn_error err = {0};
    cr_expect_eq(sn_graph_validate(g, &err), SN_OK, "%s", err.message);
}

Test(graph, attribute_getters) {
    int64_t d[2] = {SN_DIM_BATCH, 4};
    int x = act("x", 2, d), y = act("y", 0, NULL);
    int64_t pads[4] = {1, 2, 3, 4};
    float fs[2] = {0.5f, 2.0f};
    sn_attr attrs[3] = {sn_attr_int("i", 7), sn_attr_ints("pads", pads, 4), sn_attr_floats("fs", fs, 2)};
    int ins[1] = {x}, idx;
    cr_assert_eq(sn_graph_add_node(g, SN_OP_RELU, "n", ins, 1, &y, 1, attrs, 3, &idx), SN_OK);
    pads[0] = 99; /* copied */
    const sn_node *n = &g->nodes[idx];
    int cnt;
    cr_expect_eq(sn_node_attr_int(n, "i", -1), 7);
    cr_expect_eq(sn_node_attr_int(n, "missing", -1), -1);
    cr_expect_eq(sn_node_attr_int(n, "pads", -1), -1, "wrong type gives the default");
    const int64_t *p = sn_node_attr_ints(n, "pads", &cnt);
    cr_assert_not_null(p);
    cr_expect_eq(cnt, 4);
    cr_expect_eq(p[0], 1);
    cr_expect_eq(sn_node_attr_floats(n, "fs", &cnt)[1], 2.0f);
    sn_attr dup[2] = {sn_attr_int("a", 1), sn_attr_int("a", 2)};
    int z = act("z", 0, NULL);
    cr_expect_eq(sn_graph_add_node(g, SN_OP_RELU, "dup", ins, 1, &z, 1, dup, 2, NULL), SN_ERR_INVALID_ARGUMENT);
}

Test(status, strings_cover_every_status) {
    for (int s = 0; s < SN_STATUS_COUNT; s++) {
        cr_expect_not_null(sn_status_string((sn_status)s));
        cr_expect_str_neq(sn_status_string((sn_status)s), "unknown status");
    }
    cr_expect_str_eq(sn_status_string((sn_status)-1), "unknown status");
    cr_expect_str_eq(sn_dtype_name(SN_DTYPE_BF16), "bf16");
    cr_expect_eq(sn_dtype_size(SN_DTYPE_I64), 8);
    cr_expect_eq(sn_dtype_size(SN_DTYPE_COUNT), 0);
}

Test(status, error_prefix_keeps_status) {
    sn_error err;
    sn_errorf(&err, SN_ERR_FORMAT, "offset %d: bad", 12);
    cr_expect_eq(sn_error_prefix(&err, "file %s", "m.sgraph"), SN_ERR_FORMAT);
    cr_expect_str_eq(err.message, "file m.sgraph: offset 12: bad");
}

Test(ops, registry_names_round_trip) {
    for (int op = 0; op < SN_OP_COUNT; op++) {
        const sn_op_def *d = sn_op_get((sn_op)op);
        cr_assert_not_null(d);
        cr_assert_not_null(d->infer, "%s", d->name);
        cr_assert_not_null(d->cpu_run, "%s", d->name);
        cr_expect_eq(sn_op_from_name(d->name), (sn_op)op);
    }
    cr_expect_eq(sn_op_from_name("NoSuchOp"), SN_OP_COUNT);
    cr_expect_null(sn_op_get(SN_OP_COUNT));
}
