/*
 * test_onnx_cli.c - ONNX models on disk: external data inside and outside the model's folder
 * (paths with '..', absolute paths, symbolic links leading out, lengths and offsets that do not
 * fit the file), and the command-line tools: sentinel-convert with labels and preprocessing
 * metadata, its usage errors, its refusal of a model with unsupported ops (the complete list,
 * no file left behind), sentinel-run and sn_model_load_any on an ONNX file.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "graph.h"
#include "onnx.h"
#include "onnx_build.h"
#include "sentinel.h"
#include "test_support.h"

static sn_ob *tiny(int64_t opset) {
    static uint64_t seed;
    if (!seed) seed = sn_test_fresh_seed("onnx tiny") | 1;
    return sn_ob_tiny(opset, seed);
}

/* --- external data ------------------------------------------------------------------------ */

typedef struct ext {
    char *dir;
    char model[4096];
} ext;

/* tiny() with W in `location` at `offset` (the file holds the weights there). */
static sn_ob *tiny_external(const ext *e, const char *location, int64_t offset, int64_t length) {
    sn_ob *b = tiny(13);
    Onnx__TensorProto *w = sn_ob_model(b)->graph->initializer[0];
    char path[4096];
    snprintf(path, sizeof path, "%s/weights.bin", e->dir);
    uint8_t *blob = calloc(1, (size_t)offset + w->raw_data.len);
    memcpy(blob + offset, w->raw_data.data, w->raw_data.len);
    cr_assert_eq(sn_test_write_file(path, blob, (size_t)offset + w->raw_data.len), 0);
    free(blob);
    w->has_raw_data = 0;
    w->has_data_location = 1;
    w->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    const char *keys[] = {"location", "offset", "length"};
    char vals[3][256];
    snprintf(vals[0], sizeof vals[0], "%s", location);
    snprintf(vals[1], sizeof vals[1], "%lld", (long long)offset);
    snprintf(vals[2], sizeof vals[2], "%lld", (long long)length);
    w->external_data = sn_ob_alloc(b, 3 * sizeof(void *));
    w->n_external_data = 3;
    for (int i = 0; i < 3; i++) {
        Onnx__StringStringEntryProto *kv = sn_ob_alloc(b, sizeof *kv);
        onnx__string_string_entry_proto__init(kv);
        kv->key = sn_ob_strdup(b, keys[i]);
        kv->value = sn_ob_strdup(b, vals[i]);
        w->external_data[i] = kv;
    }
    return b;
}

static sn_status import_file(const ext *e, sn_ob *b, sn_graph **g, sn_error *err) {
    size_t size;
    void *bytes = sn_ob_pack(b, &size);
    cr_assert_eq(sn_test_write_file(e->model, bytes, size), 0);
    free(bytes);
    return sn_onnx_import_file(e->model, NULL, g, NULL, err);
}

Test(onnx_import, external_data) {
    ext e = {.dir = sn_test_mkdtemp()};
    char sub[2048], outside[4096];
    snprintf(sub, sizeof sub, "%s/model", e.dir);
    cr_assert_eq(mkdir(sub, 0755), 0);
    snprintf(e.model, sizeof e.model, "%s/m.onnx", sub);
    ext inner = {.dir = sub};
    sn_graph *g = NULL;
    sn_error err = {0};

    /* Inside the folder, at an offset: imports, and the weights are the ones written. */
    sn_ob *b = tiny_external(&inner, "weights.bin", 24, 432);
    cr_assert_eq(import_file(&e, b, &g, &err), SN_OK, "%s", err.message);
    int wt = sn_graph_find_tensor(g, "W");
    cr_assert_geq(wt, 0);
    cr_assert_eq(g->tensors[wt].nbytes, 432u);
    /* raw_data still holds what was written to the file (has_raw_data is off). */
    cr_assert_eq(memcmp(g->tensors[wt].data, sn_ob_model(b)->graph->initializer[0]->raw_data.data, 432), 0);
    sn_graph_destroy(g);
    g = NULL;
    /* The same bytes given in memory have no folder: refused. */
    size_t size;
    void *bytes = sn_ob_pack(b, &size);
    cr_assert_eq(sn_onnx_import_memory(bytes, size, NULL, &g, NULL, &err), SN_ERR_FORMAT);
    cr_assert(strstr(err.message, "external"), "%s", err.message);
    free(bytes);
    sn_ob_free(b);

    /* Escaping the folder: '..', an absolute path, a symbolic link pointing out. */
    snprintf(outside, sizeof outside, "%s/weights.bin", e.dir);
    b = tiny_external(&e, "../weights.bin", 0, 432);
    cr_assert_eq(import_file(&e, b, &g, &err), SN_ERR_FORMAT);
    cr_assert(strstr(err.message, "inside the model's folder"), "%s", err.message);
    sn_ob_free(b);
    b = tiny_external(&e, outside, 0, 432);
    cr_assert_eq(import_file(&e, b, &g, &err), SN_ERR_FORMAT);
    sn_ob_free(b);
    char link[4096];
    snprintf(link, sizeof link, "%s/link.bin", sub);
    cr_assert_eq(symlink(outside, link), 0);
    b = tiny_external(&e, "link.bin", 0, 432);
    cr_assert_eq(import_file(&e, b, &g, &err), SN_ERR_FORMAT);
    cr_assert(strstr(err.message, "outside the model's folder"), "%s", err.message);
    sn_ob_free(b);

    /* Sizes: a length that disagrees with the shape, an offset past the end of the file. */
    b = tiny_external(&inner, "weights.bin", 0, 400);
    cr_assert_eq(import_file(&e, b, &g, &err), SN_ERR_FORMAT);
    cr_assert(strstr(err.message, "length"), "%s", err.message);
    sn_ob_free(b);
    b = tiny_external(&inner, "weights.bin", 0, 432);
    Onnx__TensorProto *w = sn_ob_model(b)->graph->initializer[0];
    w->external_data[1]->value = sn_ob_strdup(b, "100");
    cr_assert_eq(import_file(&e, b, &g, &err), SN_ERR_FORMAT);
    cr_assert(strstr(err.message, "the file has"), "%s", err.message);
    sn_ob_free(b);
    cr_assert_null(g);
    sn_test_rmtree(e.dir);
    free(e.dir);
}

/* --- the command-line tools ---------------------------------------------------------------- */

Test(onnx_cli, convert_and_run) {
    char *dir = sn_test_mkdtemp(), onnx_path[4096], out[4096], labels[4096], cmd[16384];
    snprintf(onnx_path, sizeof onnx_path, "%s/tiny.onnx", dir);
    snprintf(out, sizeof out, "%s/tiny.sgraph", dir);
    snprintf(labels, sizeof labels, "%s/labels.txt", dir);
    sn_ob *b = tiny(13);
    size_t size;
    void *bytes = sn_ob_pack(b, &size);
    cr_assert_eq(sn_test_write_file(onnx_path, bytes, size), 0);
    free(bytes);
    sn_ob_free(b);
    cr_assert_eq(sn_test_write_file(labels, "a\nb\r\nc\nd\n", 9), 0);
    char *o = NULL;
    int sig = 0;
    snprintf(cmd, sizeof cmd, "'%s' '%s' -o '%s' --labels '%s' --mean 0.5,0.4,0.3 --std 0.2,0.2,0.25 "
             "--size 8 --bgr", sn_test_bin("sentinel-convert"), onnx_path, out, labels);
    int rc = sn_test_run(cmd, &o, &sig);
    cr_assert_eq(rc, 0, "%s", o);
    cr_assert(strstr(o, "opset 13"), "%s", o);
    free(o);
    sn_model *m = NULL;
    sn_error err = {0};
    cr_assert_eq(sn_model_load_file(out, &m, &err), SN_OK, "%s", err.message);
    cr_assert_eq(sn_model_label_count(m), 4);
    cr_assert_str_eq(sn_model_label(m, 1), "b");
    sn_preprocess p;
    cr_assert_eq(sn_model_preprocess(m, &p), SN_OK);
    cr_assert(p.present && p.width == 8 && p.height == 8 && p.channels == SN_CHANNELS_BGR);
    cr_assert_float_eq(p.mean[1], 0.4f, 1e-7);
    cr_assert_float_eq(p.std[2], 0.25f, 1e-7);
    sn_model_destroy(m);
    /* sn_model_load_any reads the ONNX file directly. */
    cr_assert_eq(sn_model_load_any(onnx_path, &m, &err), SN_OK, "%s", err.message);
    cr_assert_eq(sn_model_output_count(m), 1);
    sn_model_destroy(m);
    /* sentinel-run converts on the fly. */
    snprintf(cmd, sizeof cmd, "'%s' '%s' --random 3 --top 2 --device cpu", sn_test_bin("sentinel-run"),
             onnx_path);
    rc = sn_test_run(cmd, &o, &sig);
    cr_assert_eq(sig, 0);
    cr_assert_eq(rc, 0, "%s", o);
    free(o);
    /* Bad option values: usage errors, no file written. */
    remove(out);
    snprintf(cmd, sizeof cmd, "'%s' '%s' -o '%s' --mean 1,2", sn_test_bin("sentinel-convert"), onnx_path, out);
    rc = sn_test_run(cmd, &o, &sig);
    cr_assert_eq(rc, 2, "%s", o);
    cr_assert(strstr(o, "--mean"), "%s", o);
    free(o);
    struct stat sb;
    cr_assert_neq(stat(out, &sb), 0, "a failed conversion left %s", out);
    sn_test_rmtree(dir);
    free(dir);
}

Test(onnx_cli, unsupported_model_refused_with_list) {
    char *dir = sn_test_mkdtemp(), onnx_path[4096], out[4096], cmd[16384];
    snprintf(onnx_path, sizeof onnx_path, "%s/bad.onnx", dir);
    snprintf(out, sizeof out, "%s/bad.sgraph", dir);
    sn_ob *b = tiny(13);
    const char *in[] = {"y"}, *o1[] = {"e1"}, *o2[] = {"e2"}, *o3[] = {"e3"};
    sn_ob_node(b, "Elu", "elu_a", 1, in, 1, o1);
    sn_ob_node(b, "Selu", "selu_b", 1, in, 1, o2);
    sn_ob_node(b, "Erf", "erf_c", 1, in, 1, o3);
    size_t size;
    void *bytes = sn_ob_pack(b, &size);
    cr_assert_eq(sn_test_write_file(onnx_path, bytes, size), 0);
    free(bytes);
    sn_ob_free(b);
    snprintf(cmd, sizeof cmd, "'%s' '%s' -o '%s'", sn_test_bin("sentinel-convert"), onnx_path, out);
    char *o = NULL;
    int sig = 0, rc = sn_test_run(cmd, &o, &sig);
    cr_assert_eq(sig, 0);
    cr_assert_eq(rc, 1, "%s", o);
    const char *want[] = {"3 nodes", "Elu (node 'elu_a', opset 13)", "Selu (node 'selu_b', opset 13)",
                          "Erf (node 'erf_c', opset 13)"};
    for (int i = 0; i < 4; i++) cr_expect(strstr(o, want[i]), "no '%s' in:\n%s", want[i], o);
    free(o);
    struct stat sb;
    cr_assert_neq(stat(out, &sb), 0, "a refused model must not leave %s", out);
    sn_test_rmtree(dir);
    free(dir);
}

Test(onnx_cli, labels_must_match_classes) {
    char *dir = sn_test_mkdtemp(), onnx_path[4096], out[4096], labels[4096], cmd[16384];
    snprintf(onnx_path, sizeof onnx_path, "%s/flat.onnx", dir);
    snprintf(out, sizeof out, "%s/flat.sgraph", dir);
    snprintf(labels, sizeof labels, "%s/labels.txt", dir);
    sn_ob *b = tiny(13);
    const char *fi[] = {"y"}, *fo[] = {"f"};
    sn_ob_node(b, "Flatten", "flat", 1, fi, 1, fo); /* [N,256] */
    sn_ob_model(b)->graph->n_output = 0;
    sn_ob_output(b, "f", -1, NULL);
    size_t size;
    void *bytes = sn_ob_pack(b, &size);
    cr_assert_eq(sn_test_write_file(onnx_path, bytes, size), 0);
    free(bytes);
    sn_ob_free(b);
    cr_assert_eq(sn_test_write_file(labels, "cat\ndog\n", 8), 0);
    snprintf(cmd, sizeof cmd, "'%s' '%s' -o '%s' --labels '%s'", sn_test_bin("sentinel-convert"),
             onnx_path, out, labels);
    char *o = NULL;
    int sig = 0, rc = sn_test_run(cmd, &o, &sig);
    cr_assert_eq(sig, 0);
    cr_assert_eq(rc, 1, "%s", o);
    cr_assert(strstr(o, "2 labels") && strstr(o, "256 classes"), "%s", o);
    free(o);
    struct stat sb;
    cr_assert_neq(stat(out, &sb), 0);
    sn_test_rmtree(dir);
    free(dir);
}
