/*
 * test_export_roundtrip.c - ONNX export and import are inverse: a model imported from ONNX,
 * exported and imported again is the same graph (ops in order, attributes, tensor names,
 * shapes, dtypes and weight bytes), and exporting that again gives the same bytes - the round
 * trip reaches a fixed point after one import; the metadata (labels, preprocessing,
 * properties) comes back identical, and the zoo's own survives the first import. Models: the
 * zoo as built (Conv, BatchNorm, activations...) and as optimised (FusedConv with residuals
 * and activations, Gemm with a fused activation and flatten_a, all written as standard ONNX
 * ops), at several opsets. Also: the
 * TFLite and ONNX exporters are deterministic and leave the caller's graph untouched.
 * Needs no Python: the importer is Sentinel's own. The ONNX parity suite's models (written by
 * onnx.helper and, when installed, torch.onnx: tests/onnx/make_models.py, the onnx_models CTest
 * fixture) are round-tripped too, when that fixture has run.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "export_support.h"
#include "passes/pass.h"
#include "sgraph.h"
#include "test_support.h"
#include "zoo.h"

static bool attr_equal(const sn_attr *a, const sn_attr *b) {
    if (strcmp(a->name, b->name) || a->type != b->type || a->n != b->n) return false;
    switch (a->type) {
    case SN_ATTR_INT: return a->v.i == b->v.i;
    case SN_ATTR_FLOAT: return !memcmp(&a->v.f, &b->v.f, sizeof(float));
    case SN_ATTR_INTS:
        return !a->n || !memcmp(a->v.ints, b->v.ints, sizeof(int64_t) * (size_t)a->n);
    case SN_ATTR_FLOATS:
        return !a->n || !memcmp(a->v.floats, b->v.floats, sizeof(float) * (size_t)a->n);
    default: return a->n == b->n && !memcmp(a->v.s, b->v.s, (size_t)a->n);
    }
}

/* An attribute at its op's default value, which a graph may spell by leaving it out (the
 * importer fills ONNX's defaults in for MaxPool, not for the MaxPool GlobalMaxPool becomes). */
static bool attr_is_default(sn_op op, const sn_attr *a) {
    static const struct {
        const char *name;
        int64_t v;
    } ints[] = {{"strides", 1},           {"dilations", 1},   {"pads", 0},   {"ceil_mode", 0},
                {"count_include_pad", 0}, {"group", 1},       {"transA", 0}, {"transB", 0},
                {"flatten_a", 0},         {"activation", 0},  {"layout", 1}, {"mode", 0},
                {"coord_mode", 0},        {"nearest_mode", 0}};
    for (size_t k = 0; k < sizeof ints / sizeof *ints; k++) {
        if (strcmp(a->name, ints[k].name)) continue;
        if (a->type == SN_ATTR_INT) return a->v.i == ints[k].v;
        if (a->type != SN_ATTR_INTS) return false;
        for (int i = 0; i < a->n; i++)
            if (a->v.ints[i] != ints[k].v) return false;
        return true;
    }
    if (op == SN_OP_GEMM && (!strcmp(a->name, "alpha") || !strcmp(a->name, "beta")))
        return a->type == SN_ATTR_FLOAT && a->v.f == 1.0f;
    if (!strcmp(a->name, "axis") && a->type == SN_ATTR_INT)
        return a->v.i == (op == SN_OP_FLATTEN ? 1 : op == SN_OP_SOFTMAX ? -1 : INT64_MIN);
    return false;
}

/* Every attribute of x is y's too, or is at its default where y leaves it out; an axis counted
 * from the end equals the same axis counted from the start (input rank `rank`). */
static void attrs_equal(const sn_node *x, const sn_node *y, int rank, const char *what) {
    for (int i = 0; i < x->n_attrs; i++) {
        const sn_attr *a = &x->attrs[i], *m = sn_node_attr(y, a->name);
        bool same = m ? attr_equal(a, m) : attr_is_default(x->op, a);
        if (m && !same && !strcmp(a->name, "axis") && a->type == SN_ATTR_INT &&
            m->type == SN_ATTR_INT)
            same = (a->v.i + rank) % rank == (m->v.i + rank) % rank;
        cr_assert(same, "%s: attribute '%s'", what, a->name);
    }
}

static void tensor_equal(const sn_graph *a, int ta, const sn_graph *b, int tb, const char *what) {
    cr_assert((ta < 0) == (tb < 0), "%s: an input is omitted in one graph only", what);
    if (ta < 0) return;
    const sn_tensor *x = &a->tensors[ta], *y = &b->tensors[tb];
    cr_assert_str_eq(x->name, y->name, "%s", what);
    cr_assert_eq(x->dtype, y->dtype, "%s: tensor '%s' dtype", what, x->name);
    cr_assert(sn_shape_equal(&x->shape, &y->shape), "%s: tensor '%s' shape", what, x->name);
    cr_assert_eq(x->flags & (SN_TENSOR_CONST | SN_TENSOR_BATCHED),
                 y->flags & (SN_TENSOR_CONST | SN_TENSOR_BATCHED), "%s: '%s' flags", what, x->name);
    if (x->flags & SN_TENSOR_CONST)
        cr_assert(x->nbytes == y->nbytes && !memcmp(x->data, y->data, x->nbytes),
                  "%s: constant '%s' differs", what, x->name);
}

/* Same live nodes in topological order, with equal ops, attributes and tensors. */
static void graph_equal(const sn_graph *a, const sn_graph *b, const char *model) {
    int *oa = NULL, *ob = NULL, na = 0, nb = 0;
    sn_error err = {0};
    cr_assert_eq(sn_graph_topo_order(a, &oa, &na, &err), SN_OK, "%s", err.message);
    cr_assert_eq(sn_graph_topo_order(b, &ob, &nb, &err), SN_OK, "%s", err.message);
    cr_assert_eq(na, nb, "%s: %d nodes, then %d", model, na, nb);
    for (int k = 0; k < na; k++) {
        const sn_node *x = &a->nodes[oa[k]], *y = &b->nodes[ob[k]];
        char what[300];
        snprintf(what, sizeof what, "%s: node %d '%s' (%s)", model, k, x->name, sn_op_name(x->op));
        cr_assert_eq(x->op, y->op, "%s became %s", what, sn_op_name(y->op));
        cr_assert_eq(x->n_inputs, y->n_inputs, "%s: inputs", what);
        int rank =
            a->tensors[x->inputs[0]].shape.rank > 0 ? a->tensors[x->inputs[0]].shape.rank : 1;
        attrs_equal(x, y, rank, what);
        attrs_equal(y, x, rank, what);
        for (int i = 0; i < x->n_inputs; i++) tensor_equal(a, x->inputs[i], b, y->inputs[i], what);
        tensor_equal(a, x->outputs[0], b, y->outputs[0], what);
    }
    cr_assert_eq(a->n_inputs, b->n_inputs);
    cr_assert_eq(a->n_outputs, b->n_outputs);
    for (int i = 0; i < a->n_inputs; i++) tensor_equal(a, a->inputs[i], b, b->inputs[i], model);
    for (int i = 0; i < a->n_outputs; i++) tensor_equal(a, a->outputs[i], b, b->outputs[i], model);
    free(oa);
    free(ob);
}

/* Labels and preprocessing identical, bit for bit; properties too - the same keys with the same
 * values in the same order - except, when `source_props` is false, the two the importer records
 * about the file it read (its opset and producer), which an export changes. */
static void meta_equal(const sn_graph *a, const sn_graph *b, bool source_props, const char *model) {
    sn_export_same_labels_preprocess(a, b, model);
    const sn_metadata *x = &a->meta, *y = &b->meta;
    int i = 0, j = 0;
    for (;; i++, j++) {
        while (!source_props && i < x->n_props && !strncmp(x->prop_keys[i], "onnx.", 5)) i++;
        while (!source_props && j < y->n_props && !strncmp(y->prop_keys[j], "onnx.", 5)) j++;
        if (i == x->n_props || j == y->n_props) break;
        cr_assert_str_eq(x->prop_keys[i], y->prop_keys[j], "%s: property %d", model, i);
        cr_assert_str_eq(x->prop_values[i], y->prop_values[j], "%s: property '%s'", model,
                         x->prop_keys[i]);
    }
    cr_assert(i == x->n_props && j == y->n_props, "%s: %d properties, then %d", model, x->n_props,
              y->n_props);
}

static void round_trip(const char *name, bool optimize, int opset) {
    sn_error err = {0};
    sn_graph *g0 = NULL;
    cr_assert_eq(sn_zoo_build(name, sn_test_fresh_seed(name), &g0, &err), SN_OK, "%s", err.message);
    if (optimize)
        cr_assert_eq(sn_graph_optimize(g0, NULL, NULL, NULL, &err), SN_OK, "%s", err.message);
    size_t s0, s1, s2;
    void *b0 = sn_export_onnx_bytes(g0, opset, &s0);
    sn_graph *g1 = sn_export_import_bytes(b0, s0, NULL); /* "an imported ONNX model" */
    void *b1 = sn_export_onnx_bytes(g1, opset, &s1);
    sn_graph *g2 = sn_export_import_bytes(b1, s1, NULL);
    char model[128];
    snprintf(model, sizeof model, "%s%s (opset %d)", name, optimize ? " optimised" : "", opset);
    graph_equal(g1, g2, model);
    meta_equal(g1, g2, true, model);
    /* The zoo's own metadata (labels, ImageNet preprocessing, properties naming the model)
     * survives the first import already; the importer only adds what it records. */
    cr_assert_gt(g0->meta.n_labels, 0);
    cr_assert(g0->meta.preprocess.present);
    sn_graph *g0_props = NULL; /* g0 with g1's properties, to compare the rest */
    cr_assert_eq(sn_graph_clone(g0, &g0_props), SN_OK);
    for (int i = g0->meta.n_props; i < g1->meta.n_props; i++)
        cr_assert_eq(sn_graph_set_prop(g0_props, g1->meta.prop_keys[i], g1->meta.prop_values[i]),
                     SN_OK);
    meta_equal(g0_props, g1, true, model);
    sn_graph_destroy(g0_props);
    void *b2 = sn_export_onnx_bytes(g2, opset, &s2);
    cr_assert(s1 == s2 && !memcmp(b1, b2, s1), "%s: the second export differs from the first",
              model);
    free(b0);
    free(b1);
    free(b2);
    sn_graph_destroy(g0);
    sn_graph_destroy(g1);
    sn_graph_destroy(g2);
}

Test(export_roundtrip, seed_cnn) {
    round_trip("seed-cnn", false, 13);
    round_trip("seed-cnn", true, 17);
}
Test(export_roundtrip, resnet18) {
    round_trip("resnet18", false, 17);
    round_trip("resnet18", true, 21);
}
Test(export_roundtrip, mobilenetv2) { round_trip("mobilenetv2", true, 15); }
Test(export_roundtrip, mobilenetv3_small) {
    round_trip("mobilenetv3_small", false, 14);
    round_trip("mobilenetv3_small", true, 18);
}
Test(export_roundtrip, squeezenet1_1) { round_trip("squeezenet1_1", true, 19); }

/* Exporting twice gives the same bytes, and the graph exported is not changed. */
Test(export_roundtrip, deterministic_and_read_only) {
    sn_error err = {0};
    sn_graph *g = NULL;
    cr_assert_eq(sn_zoo_build("mobilenetv3_small", 3, &g, &err), SN_OK, "%s", err.message);
    cr_assert_eq(sn_graph_optimize(g, NULL, NULL, NULL, &err), SN_OK, "%s", err.message);
    void *before = NULL, *after = NULL;
    size_t nb = 0, na = 0;
    cr_assert_eq(sn_sgraph_write_memory(g, &before, &nb, &err), SN_OK, "%s", err.message);
    for (int q = 0; q < 2; q++) {
        void *d1, *d2;
        size_t s1, s2;
        sn_tflite_options o = SN_TFLITE_OPTIONS_INIT;
        o.quant = (sn_tflite_quant)q;
        cr_assert_eq(sn_export_tflite(g, &o, &d1, &s1, &err), SN_OK, "%s", err.message);
        cr_assert_eq(sn_export_tflite(g, &o, &d2, &s2, &err), SN_OK, "%s", err.message);
        cr_assert(s1 == s2 && !memcmp(d1, d2, s1), "TFLite export is not deterministic");
        free(d1);
        free(d2);
    }
    size_t s1, s2;
    void *o1 = sn_export_onnx_bytes(g, 17, &s1), *o2 = sn_export_onnx_bytes(g, 17, &s2);
    cr_assert(s1 == s2 && !memcmp(o1, o2, s1), "ONNX export is not deterministic");
    free(o1);
    free(o2);
    cr_assert_eq(sn_sgraph_write_memory(g, &after, &na, &err), SN_OK, "%s", err.message);
    cr_assert(na == nb && !memcmp(before, after, na), "exporting changed the graph");
    free(before);
    free(after);
    sn_graph_destroy(g);
}

/* Every .onnx model of the parity suite that imports: export, import, export again. */
static void parity_round_trip(const char *name, const sn_graph *g1, void *ctx) {
    (void)ctx;
    size_t s1, s2, s3;
    void *b1 = sn_export_onnx_bytes(g1, 0, &s1);
    sn_graph *g2 = sn_export_import_bytes(b1, s1, NULL);
    graph_equal(g1, g2, name);
    meta_equal(g1, g2, false, name);
    /* The importer records the source file's opset and producer as properties, which the
     * first export changes; from then on the bytes are a fixed point. */
    void *b2 = sn_export_onnx_bytes(g2, 0, &s2);
    sn_graph *g3 = sn_export_import_bytes(b2, s2, NULL);
    graph_equal(g2, g3, name);
    meta_equal(g2, g3, true, name);
    void *b3 = sn_export_onnx_bytes(g3, 0, &s3);
    cr_assert(s2 == s3 && !memcmp(b2, b3, s2), "%s: the third export differs", name);
    free(b1);
    free(b2);
    free(b3);
    sn_graph_destroy(g2);
    sn_graph_destroy(g3);
}

Test(export_roundtrip, onnx_parity_models) {
    int failed_import = 0;
    int done = sn_export_each_parity_model(parity_round_trip, NULL, &failed_import);
    cr_log_info("%d ONNX models round-tripped (%d did not import)", done, failed_import);
    cr_assert_gt(done, 0, "no model in %s imported", sn_export_parity_dir());
}
