/*
 * test_onnx_errors.c - how the ONNX importer refuses what it cannot take, with models built in C
 * (tests/support/onnx_build.c): unsupported ops listed completely (node name, op, domain,
 * opset) and never a partial model; malformed and over-nested protobuf; missing and short
 * tensors; dangling and doubly defined names; external data inside and outside the model's
 * folder; shape contradictions; opsets outside 11..21; dynamic dims other than the batch; and
 * inputs that are also initializers. External data and the command-line tools are in
 * test_onnx_cli.c.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "model.h"
#include "onnx.h"
#include "onnx_build.h"
#include "sentinel.h"
#include "test_support.h"

static const int64_t W_DIMS[4] = {4, 3, 3, 3};

/* x[N,3,8,8] -> Conv(W, pads 1) -> Relu -> y[N,4,8,8], weights from a fresh seed. */
static sn_ob *tiny(int64_t opset) {
    static uint64_t seed;
    if (!seed) seed = sn_test_fresh_seed("onnx tiny") | 1;
    return sn_ob_tiny(opset, seed);
}

static sn_status import(sn_ob *b, sn_graph **g, sn_onnx_report *rep, sn_error *err) {
    size_t size;
    void *bytes = sn_ob_pack(b, &size);
    sn_status st = sn_onnx_import_memory(bytes, size, NULL, g, rep, err);
    free(bytes);
    return st;
}

/* Import expecting failure with status s and every string in `want` in the message. */
static void expect_fail(sn_ob *b, sn_status s, const char *const *want, int n_want) {
    sn_graph *g = (sn_graph *)0x1;
    sn_error err = {0};
    sn_onnx_report rep;
    sn_status st = import(b, &g, &rep, &err);
    cr_assert_eq(st, s, "status %s, expected %s: %s", sn_status_string(st), sn_status_string(s),
                 err.message);
    cr_assert_null(g, "a failed import must not return a graph");
    for (int i = 0; i < n_want; i++)
        cr_assert(strstr(err.message, want[i]), "message lacks '%s': %s", want[i], err.message);
    sn_onnx_report_free(&rep);
}

Test(onnx_import, tiny_model_converts) {
    sn_ob *b = tiny(13);
    sn_graph *g = NULL;
    sn_error err = {0};
    sn_onnx_report rep;
    cr_assert_eq(import(b, &g, &rep, &err), SN_OK, "%s", err.message);
    cr_assert_eq(rep.opset, 13);
    cr_assert_eq(rep.onnx_nodes, 2);
    cr_assert_eq(rep.n_unsupported, 0);
    cr_assert_eq(g->n_inputs, 1);
    cr_assert_eq(g->n_outputs, 1);
    const sn_tensor *y = &g->tensors[g->outputs[0]];
    cr_assert_str_eq(y->name, "y");
    cr_assert(y->flags & SN_TENSOR_BATCHED);
    cr_assert_eq(y->shape.rank, 4);
    cr_assert_eq(y->shape.d[1], 4);
    sn_graph_destroy(g);
    sn_onnx_report_free(&rep);
    sn_ob_free(b);
}

Test(onnx_import, unsupported_ops_listed_completely) {
    sn_ob *b = tiny(17);
    sn_ob_opset(b, "com.microsoft", 1);
    const char *e_in[] = {"y"}, *e_out[] = {"e"}, *l_out[] = {"l"}, *m_out[] = {"m"},
               *d_in[] = {"e"}, *d_out[] = {"d"}, *r_out[] = {"r"}, *x_out[] = {"erf_out"};
    sn_ob_node(b, "Elu", "elu_7", 1, e_in, 1, e_out);
    sn_ob_node(b, "LRN", "", 1, e_in, 1, l_out); /* unnamed: identified by index */
    Onnx__NodeProto *ms = sn_ob_node(b, "FusedGemm", "ms_gemm", 1, e_in, 1, m_out);
    ms->domain = sn_ob_strdup(b, "com.microsoft");
    sn_ob_node(b, "Relu", "after_elu", 1, d_in, 1, d_out); /* only depends on Elu: not listed */
    sn_ob_node(b, "Erf", "erf_after_elu", 1, d_in, 1, x_out); /* lacking itself: listed too */
    const char *rs_in[] = {"y", "", "sc"};
    float sc[4] = {1, 1, 2, 2};
    int64_t four = 4;
    sn_ob_init_f32(b, "sc", 1, &four, sc);
    Onnx__NodeProto *rs = sn_ob_node(b, "Resize", "cubic_up", 3, rs_in, 1, r_out);
    sn_ob_attr_string(b, rs, "mode", "cubic");
    sn_ob_output(b, "d", -1, NULL);
    sn_graph *g = (sn_graph *)0x1;
    sn_error err = {0};
    sn_onnx_report rep;
    cr_assert_eq(import(b, &g, &rep, &err), SN_ERR_UNSUPPORTED, "%s", err.message);
    cr_assert_null(g);
    cr_assert_eq(rep.n_unsupported, 5, "%d: %s", rep.n_unsupported, err.message);
    cr_assert_str_eq(rep.unsupported[0].op_type, "Elu");
    cr_assert_str_eq(rep.unsupported[0].node_name, "elu_7");
    cr_assert_eq(rep.unsupported[0].opset, 17);
    cr_assert_str_eq(rep.unsupported[1].op_type, "LRN");
    cr_assert_str_eq(rep.unsupported[1].node_name, "");
    cr_assert_eq(rep.unsupported[1].node_index, 3);
    cr_assert_str_eq(rep.unsupported[2].domain, "com.microsoft");
    cr_assert_eq(rep.unsupported[2].opset, 1);
    cr_assert_str_eq(rep.unsupported[3].op_type, "Erf");
    cr_assert_str_eq(rep.unsupported[3].node_name, "erf_after_elu");
    cr_assert_str_eq(rep.unsupported[4].node_name, "cubic_up");
    cr_assert(strstr(rep.unsupported[4].reason, "cubic"), "%s", rep.unsupported[4].reason);
    const char *want[] = {"5 nodes", "Elu (node 'elu_7', opset 17)", "LRN (node #3",
                          "FusedGemm of domain 'com.microsoft'", "Erf (node 'erf_after_elu'",
                          "cubic_up"};
    for (int i = 0; i < 6; i++) cr_expect(strstr(err.message, want[i]), "no '%s' in: %s", want[i], err.message);
    char line[512];
    sn_onnx_unsupported_format(&rep.unsupported[0], line, sizeof line);
    cr_expect_str_eq(line, "Elu (node 'elu_7', opset 17): no such op in Sentinel");
    sn_onnx_report_free(&rep);
    sn_ob_free(b);
}

Test(onnx_import, malformed_protobuf) {
    sn_graph *g = NULL;
    sn_error err = {0};
    const uint8_t garbage[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3};
    cr_assert_eq(sn_onnx_import_memory(garbage, sizeof garbage, NULL, &g, NULL, &err), SN_ERR_FORMAT);
    cr_assert(strstr(err.message, "protobuf"), "%s", err.message);
    /* Every truncation of a valid model is refused or (rarely) still a valid model, never a crash. */
    sn_ob *b = tiny(13);
    size_t size;
    uint8_t *bytes = sn_ob_pack(b, &size);
    for (size_t cut = 0; cut < size; cut += 7) {
        sn_status st = sn_onnx_import_memory(bytes, cut ? cut : 1, NULL, &g, NULL, &err);
        cr_assert(st != SN_OK || g, "cut %zu", cut);
        sn_graph_destroy(g);
        g = NULL;
    }
    free(bytes);
    sn_ob_free(b);
    /* Valid protobuf, but no graph; and no IR version. */
    const uint8_t no_graph[] = {0x08, 0x08, 0x12, 0x01, 'x'};
    cr_assert_eq(sn_onnx_import_memory(no_graph, sizeof no_graph, NULL, &g, NULL, &err), SN_ERR_FORMAT);
    cr_assert(strstr(err.message, "no graph"), "%s", err.message);
    const uint8_t no_ir[] = {0x12, 0x01, 'x'};
    cr_assert_eq(sn_onnx_import_memory(no_ir, sizeof no_ir, NULL, &g, NULL, &err), SN_ERR_FORMAT);
    cr_assert(strstr(err.message, "IR version"), "%s", err.message);
}

Test(onnx_import, deep_nesting_refused) {
    /* graph(7) -> node(1) -> attribute(5) -> g(6) -> node(1) -> ... 2000 levels, built inside
     * out: each level wraps the previous bytes in a tag and a length. */
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap), *tmp = malloc(cap);
    static const uint8_t tags[] = {0x0a /* node */, 0x2a /* attribute */, 0x32 /* g */};
    for (int level = 0; level < 2000; level++) {
        uint8_t hdr[8];
        size_t h = 0, l = len;
        hdr[h++] = tags[(1999 - level) % 3];
        do {
            hdr[h++] = (uint8_t)((l & 0x7f) | (l > 0x7f ? 0x80 : 0));
            l >>= 7;
        } while (l);
        cr_assert(h + len + 8 < cap);
        memcpy(tmp, hdr, h);
        memcpy(tmp + h, buf, len);
        len += h;
        memcpy(buf, tmp, len);
    }
    /* ModelProto: ir_version 8, graph (field 7). */
    size_t h = 0, l = len;
    tmp[h++] = 0x08;
    tmp[h++] = 0x08;
    tmp[h++] = 0x3a;
    do {
        tmp[h++] = (uint8_t)((l & 0x7f) | (l > 0x7f ? 0x80 : 0));
        l >>= 7;
    } while (l);
    memcpy(tmp + h, buf, len);
    sn_graph *g = NULL;
    sn_error err = {0};
    cr_assert_eq(sn_onnx_import_memory(tmp, h + len, NULL, &g, NULL, &err), SN_ERR_FORMAT);
    cr_assert(strstr(err.message, "nest"), "%s", err.message);
    free(buf);
    free(tmp);
}

Test(onnx_import, missing_and_short_tensors) {
    sn_ob *b = tiny(13);
    Onnx__TensorProto *w = sn_ob_model(b)->graph->initializer[0];
    w->raw_data.len -= 4;
    const char *want[] = {"'W'", "raw_data"};
    expect_fail(b, SN_ERR_FORMAT, want, 2);
    sn_ob_free(b);

    /* A weight name that nothing defines. */
    b = tiny(13);
    sn_ob_model(b)->graph->node[0]->input[1] = sn_ob_strdup(b, "W_missing");
    const char *want2[] = {"conv1", "W_missing"};
    expect_fail(b, SN_ERR_FORMAT, want2, 2);
    sn_ob_free(b);

    /* An initializer whose dims ask for more than it holds (typed field, not raw). */
    b = tiny(13);
    w = sn_ob_model(b)->graph->initializer[0];
    w->dims[0] = 1000000;
    const char *want3[] = {"'W'"};
    expect_fail(b, SN_ERR_FORMAT, want3, 1);
    sn_ob_free(b);
}

Test(onnx_import, dangling_and_duplicate_names) {
    sn_ob *b = tiny(13);
    sn_ob_model(b)->graph->output[0]->name = sn_ob_strdup(b, "nobody_makes_this");
    const char *want[] = {"nobody_makes_this", "not produced"};
    expect_fail(b, SN_ERR_FORMAT, want, 2);
    sn_ob_free(b);

    /* Nodes out of order: relu reads c before conv defines it. */
    b = tiny(13);
    Onnx__GraphProto *gp = sn_ob_model(b)->graph;
    Onnx__NodeProto *t = gp->node[0];
    gp->node[0] = gp->node[1];
    gp->node[1] = t;
    const char *want2[] = {"relu1", "'c'", "earlier node"};
    expect_fail(b, SN_ERR_FORMAT, want2, 3);
    sn_ob_free(b);

    /* Two nodes define the same value. */
    b = tiny(13);
    const char *in[] = {"x"}, *out[] = {"c"};
    sn_ob_node(b, "Relu", "again", 1, in, 1, out);
    const char *want3[] = {"'c'", "already defined"};
    expect_fail(b, SN_ERR_FORMAT, want3, 2);
    sn_ob_free(b);
}

Test(onnx_import, shape_contradictions) {
    /* Add of [N,4,8,8] and a [5] constant cannot broadcast. */
    sn_ob *b = tiny(13);
    float five[5] = {1, 2, 3, 4, 5};
    int64_t d5 = 5;
    sn_ob_init_f32(b, "five", 1, &d5, five);
    const char *ai[] = {"y", "five"}, *ao[] = {"z"};
    sn_ob_node(b, "Add", "bad_add", 2, ai, 1, ao);
    sn_ob_model(b)->graph->output[0]->name = sn_ob_strdup(b, "z");
    const char *want[] = {"bad_add", "broadcast"};
    expect_fail(b, SN_ERR_SHAPE, want, 2);
    sn_ob_free(b);

    /* The output is declared [N,4,7,8]; the conv gives [N,4,8,8]. */
    b = tiny(13);
    sn_ob_model(b)->graph->output[0]->type->tensor_type->shape->dim[2]->dim_value = 7;
    const char *want2[] = {"'y'", "declared"};
    expect_fail(b, SN_ERR_SHAPE, want2, 2);
    sn_ob_free(b);

    /* Reshape to a shape with the wrong element count. */
    b = tiny(13);
    int64_t shape[2] = {0, 100}, d2 = 2;
    sn_ob_init_i64(b, "shape", 1, &d2, shape);
    const char *ri[] = {"y", "shape"}, *ro[] = {"z"};
    sn_ob_node(b, "Reshape", "bad_reshape", 2, ri, 1, ro);
    sn_ob_model(b)->graph->output[0] = NULL;
    sn_ob_model(b)->graph->n_output = 0;
    sn_ob_output(b, "z", -1, NULL);
    const char *want3[] = {"bad_reshape", "256"};
    expect_fail(b, SN_ERR_SHAPE, want3, 2);
    sn_ob_free(b);

    /* Pads of 2^57 give an output whose byte count overflows an int64: refused at import, not
     * left for the .sgraph reader to refuse later (found by fuzz/fuzz_onnx.c; the input is in
     * fuzz/corpus/onnx/regress-pad-overflow.onnx). */
    b = tiny(13);
    int64_t pads[8] = {0, 0, (int64_t)1 << 57, 0, 0, 0, 0, 0}, d8 = 8;
    sn_ob_init_i64(b, "pads", 1, &d8, pads);
    const char *pi[] = {"y", "pads"}, *po[] = {"z"};
    sn_ob_node(b, "Pad", "huge_pad", 2, pi, 1, po);
    sn_ob_model(b)->graph->output[0] = NULL;
    sn_ob_model(b)->graph->n_output = 0;
    sn_ob_output(b, "z", -1, NULL);
    const char *want4[] = {"huge_pad", "overflowing"};
    expect_fail(b, SN_ERR_SHAPE, want4, 2);
    sn_ob_free(b);
}

Test(onnx_import, opset_range) {
    const int64_t bad[] = {10, 22}, good[] = {11, 21};
    for (int i = 0; i < 2; i++) {
        sn_ob *b = tiny(bad[i]);
        const char *want[] = {"opset", "11", "21"};
        expect_fail(b, SN_ERR_VERSION, want, 3);
        sn_ob_free(b);
        b = tiny(good[i]);
        sn_graph *g = NULL;
        sn_error err = {0};
        cr_assert_eq(import(b, &g, NULL, &err), SN_OK, "opset %lld: %s", (long long)good[i], err.message);
        sn_graph_destroy(g);
        sn_ob_free(b);
    }
}

Test(onnx_import, inputs_that_are_initializers_and_dynamic_dims) {
    sn_ob *b = tiny(13);
    sn_ob_input(b, "W", 4, W_DIMS); /* older exporters list weights as inputs too */
    sn_graph *g = NULL;
    sn_error err = {0};
    cr_assert_eq(import(b, &g, NULL, &err), SN_OK, "%s", err.message);
    cr_assert_eq(g->n_inputs, 1);
    cr_assert(g->tensors[g->inputs[0]].flags & SN_TENSOR_INPUT);
    cr_assert_str_eq(g->tensors[g->inputs[0]].name, "x");
    sn_graph_destroy(g);
    sn_ob_free(b);

    b = tiny(13);
    sn_ob_model(b)->graph->input[0]->type->tensor_type->shape->dim[3]->value_case =
        ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
    sn_ob_model(b)->graph->input[0]->type->tensor_type->shape->dim[3]->dim_param = sn_ob_strdup(b, "W");
    const char *want[] = {"'x'", "dim 3", "dynamic"};
    expect_fail(b, SN_ERR_UNSUPPORTED, want, 3);
    sn_ob_free(b);
}

Test(onnx_import, reshape_needing_the_batch_at_import_is_refused) {
    /* shape = [2*N, -1]: depends on the batch in a way a Reshape attribute cannot say. */
    sn_ob *b = tiny(13);
    int64_t zero = 0, two = 2, m1 = -1, d1 = 1;
    sn_ob_init_i64(b, "zero", 0, NULL, &zero);
    sn_ob_init_i64(b, "two", 1, &d1, &two);
    sn_ob_init_i64(b, "m1", 1, &d1, &m1);
    const char *s_in[] = {"y"}, *s_out[] = {"s"}, *g_in[] = {"s", "zero"}, *g_out[] = {"n"},
               *m_in[] = {"n", "two"}, *m_out[] = {"n2"}, *c_in[] = {"n2", "m1"}, *c_out[] = {"shape"},
               *r_in[] = {"y", "shape"}, *r_out[] = {"z"};
    sn_ob_node(b, "Shape", "shape_of_y", 1, s_in, 1, s_out);
    sn_ob_node(b, "Gather", "batch", 2, g_in, 1, g_out);
    sn_ob_node(b, "Mul", "twice", 2, m_in, 1, m_out);
    Onnx__NodeProto *cat = sn_ob_node(b, "Concat", "target", 2, c_in, 1, c_out);
    sn_ob_attr_int(b, cat, "axis", 0);
    sn_ob_node(b, "Reshape", "dynamic_reshape", 2, r_in, 1, r_out);
    sn_ob_model(b)->graph->n_output = 0;
    sn_ob_output(b, "z", -1, NULL);
    const char *want[] = {"dynamic_reshape", "batch"};
    expect_fail(b, SN_ERR_UNSUPPORTED, want, 2);
    sn_ob_free(b);
}
