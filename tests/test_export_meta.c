/*
 * test_export_meta.c - model metadata through ONNX export and import: labels, preprocessing
 * and properties written as metadata_props by sn_export_onnx come back identical from
 * sn_onnx_import_memory (zoo models at every opset, and metadata chosen to be awkward: BGR,
 * stretch, means and stds that need all of a float's digits, labels with spaces, quotes,
 * UTF-8 and an empty one). Metadata that does not validate never fails an import: each bad
 * entry is left out whole, with a warning in the import report naming the key and the reason,
 * and the rest of the metadata is kept. The exporters refuse metadata they could not write
 * faithfully. Needs no Python.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "export_support.h"
#include "onnx.pb-c.h"
#include "test_support.h"
#include "zoo.h"

static const char *prop(const sn_graph *g, const char *key) {
    for (int i = 0; i < g->meta.n_props; i++)
        if (!strcmp(g->meta.prop_keys[i], key)) return g->meta.prop_values[i];
    return NULL;
}

/* Labels and preprocessing are identical, bit for bit; every property of a is b's too. */
static void meta_same(const sn_graph *a, const sn_graph *b, const char *what) {
    sn_export_same_labels_preprocess(a, b, what);
    for (int i = 0; i < a->meta.n_props; i++) {
        const char *v = prop(b, a->meta.prop_keys[i]);
        cr_assert(v, "%s: property '%s' is lost", what, a->meta.prop_keys[i]);
        cr_assert_str_eq(v, a->meta.prop_values[i], "%s: property '%s'", what,
                         a->meta.prop_keys[i]);
    }
}

Test(export_meta, zoo_models_at_every_opset) {
    const char *models[] = {"seed-cnn", "mobilenetv3_small"};
    for (size_t k = 0; k < sizeof models / sizeof *models; k++) {
        sn_error err = {0};
        sn_graph *g = NULL;
        cr_assert_eq(sn_zoo_build(models[k], 1, &g, &err), SN_OK, "%s", err.message);
        cr_assert(g->meta.n_labels > 0 && g->meta.preprocess.present && g->meta.n_props > 0);
        for (int opset = SN_ONNX_OPSET_MIN; opset <= SN_ONNX_OPSET_MAX; opset++) {
            size_t size;
            void *data = sn_export_onnx_bytes(g, opset, &size);
            sn_onnx_report rep;
            sn_graph *h = sn_export_import_bytes(data, size, &rep);
            char what[96];
            snprintf(what, sizeof what, "%s at opset %d", models[k], opset);
            cr_assert_eq(rep.n_warnings, 0, "%s: %s", what, rep.n_warnings ? rep.warnings[0] : "");
            meta_same(g, h, what);
            cr_assert_str_eq(prop(h, "source"), "onnx", "%s", what);
            sn_onnx_report_free(&rep);
            sn_graph_destroy(h);
            free(data);
        }
        sn_graph_destroy(g);
    }
}

/* Metadata that a careless writer or reader would change: every field away from the zoo's
 * values, floats whose shortest decimal form needs 9 digits, labels that are not identifiers. */
static sn_graph *awkward_model(void) {
    sn_error err = {0};
    sn_graph *g = NULL;
    cr_assert_eq(sn_zoo_build("seed-cnn", 2, &g, &err), SN_OK, "%s", err.message);
    const char *labels[10] = {"", "two words", "quote \" and \\ backslash", "tab\there",
                              "caf\xc3\xa9", "\xe7\x8c\xab", "trailing space ", "{\"json\":1}",
                              "a\rb", "last"};
    cr_assert_eq(sn_graph_set_labels(g, labels, 10), SN_OK);
    uint64_t seed = sn_test_fresh_seed("export_meta awkward");
    sn_preprocess *p = &g->meta.preprocess;
    p->resize = SN_RESIZE_STRETCH;
    p->resize_shorter = 0;
    p->channels = SN_CHANNELS_BGR;
    for (int c = 0; c < 3; c++) {
        /* Random floats across magnitudes: any lossy formatting shows. */
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        p->mean[c] = (float)((double)(seed >> 11) / 9007199254740992.0 - 0.5) * 3.0f;
        p->std[c] = (float)((double)(seed >> 40) / 16777216.0 + 1e-3) / 7.0f;
    }
    cr_assert_eq(sn_graph_set_prop(g, "note", "line one\nline two, \"quoted\""), SN_OK);
    return g;
}

Test(export_meta, awkward_metadata_round_trips_exactly) {
    sn_graph *g = awkward_model();
    size_t size;
    void *data = sn_export_onnx_bytes(g, 17, &size);
    sn_onnx_report rep;
    sn_graph *h = sn_export_import_bytes(data, size, &rep);
    cr_assert_eq(rep.n_warnings, 0, "%s", rep.n_warnings ? rep.warnings[0] : "");
    meta_same(g, h, "awkward metadata");
    /* And again, through the imported graph: nothing drifts. */
    size_t size2;
    void *data2 = sn_export_onnx_bytes(h, 17, &size2);
    sn_onnx_report rep2;
    sn_graph *h2 = sn_export_import_bytes(data2, size2, &rep2);
    meta_same(h, h2, "awkward metadata, second round");
    sn_onnx_report_free(&rep);
    sn_onnx_report_free(&rep2);
    sn_graph_destroy(h);
    sn_graph_destroy(h2);
    sn_graph_destroy(g);
    free(data);
    free(data2);
}

/* The zoo's seed-cnn exported as ONNX bytes (malloc'ed), with its metadata_props replaced by
 * `n` entries. */
static uint8_t *onnx_with_meta(const char *(*kv)[2], size_t n, size_t *packed_size) {
    sn_error err = {0};
    sn_graph *g = NULL;
    cr_assert_eq(sn_zoo_build("seed-cnn", 3, &g, &err), SN_OK, "%s", err.message);
    size_t size;
    void *data = sn_export_onnx_bytes(g, 17, &size);
    sn_graph_destroy(g);
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, size, data);
    cr_assert(m);
    Onnx__StringStringEntryProto *e = calloc(n ? n : 1, sizeof *e);
    Onnx__StringStringEntryProto **ep = calloc(n ? n : 1, sizeof *ep);
    cr_assert(e && ep);
    for (size_t i = 0; i < n; i++) {
        e[i] = (Onnx__StringStringEntryProto)ONNX__STRING_STRING_ENTRY_PROTO__INIT;
        e[i].key = (char *)kv[i][0];
        e[i].value = (char *)kv[i][1];
        ep[i] = &e[i];
    }
    size_t keep_n = m->n_metadata_props;
    Onnx__StringStringEntryProto **keep = m->metadata_props;
    m->n_metadata_props = n;
    m->metadata_props = ep;
    *packed_size = protobuf_c_message_get_packed_size(&m->base);
    uint8_t *packed = malloc(*packed_size);
    cr_assert(packed);
    cr_assert_eq(protobuf_c_message_pack(&m->base, packed), *packed_size);
    m->n_metadata_props = keep_n; /* the unpacked model frees its own entries only */
    m->metadata_props = keep;
    onnx__model_proto__free_unpacked(m, NULL);
    free(e);
    free(ep);
    free(data);
    return packed;
}

/* onnx_with_meta imported: the import must succeed; its report and graph are returned. */
static sn_graph *import_with_meta(const char *(*kv)[2], size_t n, sn_onnx_report *rep) {
    size_t size;
    uint8_t *packed = onnx_with_meta(kv, n, &size);
    sn_graph *h = sn_export_import_bytes(packed, size, rep);
    free(packed);
    return h;
}

#define GOOD_PRE                                                                                   \
    "{\"width\":224,\"height\":224,\"resize\":\"shorter_crop\",\"resize_shorter\":256,"            \
    "\"channels\":\"rgb\",\"scale\":\"x=(pixel/255-mean)/std\",\"mean\":[0.5,0.25,0.125],"        \
    "\"std\":[0.25,0.5,1],\"layout\":\"NCHW\"}"
#define LABELS10 "a\nb\nc\nd\ne\nf\ng\nh\ni\nj"

/* The control: the same construction with valid entries gives them all back, no warning. */
Test(export_meta, valid_entries_are_taken) {
    const char *kv[][2] = {{"sentinel.labels", LABELS10}, {"sentinel.preprocess", GOOD_PRE},
                           {"model", "m"}, {"empty", ""}};
    sn_onnx_report rep;
    sn_graph *g = import_with_meta(kv, 4, &rep);
    cr_assert_eq(rep.n_warnings, 0, "%s", rep.n_warnings ? rep.warnings[0] : "");
    cr_assert_eq(g->meta.n_labels, 10);
    cr_assert_str_eq(g->meta.labels[9], "j");
    const sn_preprocess *p = &g->meta.preprocess;
    cr_assert(p->present && p->width == 224 && p->resize == SN_RESIZE_SHORTER_CROP &&
              p->resize_shorter == 256 && p->channels == SN_CHANNELS_RGB);
    cr_assert(p->mean[2] == 0.125f && p->std[2] == 1.0f);
    cr_assert_str_eq(prop(g, "model"), "m");
    cr_assert_str_eq(prop(g, "empty"), "");
    sn_onnx_report_free(&rep);
    sn_graph_destroy(g);
}

/* One bad entry beside good ones: it alone is left out, with a warning saying why. */
static void bad_entry(const char *key, const char *value, const char *why) {
    const char *kv[][2] = {{"sentinel.labels", LABELS10}, {"sentinel.preprocess", GOOD_PRE},
                           {"model", "m"}, {key, value}};
    /* A bad labels or preprocessing entry takes the place of the good one. */
    int slot = !strcmp(key, "sentinel.labels") ? 0 : !strcmp(key, "sentinel.preprocess") ? 1 : 3;
    kv[slot][0] = key;
    kv[slot][1] = value;
    sn_onnx_report rep;
    sn_graph *g = import_with_meta(kv, slot == 3 ? 4 : 3, &rep);
    cr_assert_eq(rep.n_warnings, 1, "%s = '%s': %d warnings", key, value, rep.n_warnings);
    cr_assert(strstr(rep.warnings[0], key) && strstr(rep.warnings[0], why),
              "%s = '%s': the warning '%s' does not say '%s'", key, value, rep.warnings[0], why);
    cr_assert_eq(g->meta.n_labels, slot == 0 ? 0 : 10, "%s: labels", key);
    cr_assert_eq(g->meta.preprocess.present, slot == 1 ? 0 : 1, "%s: preprocessing", key);
    cr_assert_str_eq(prop(g, "model"), "m");
    sn_onnx_report_free(&rep);
    sn_graph_destroy(g);
}

#define PRE(body) "{" body "}"
#define PRE_TAIL "\"channels\":\"rgb\",\"mean\":[0,0,0],\"std\":[1,1,1]"

Test(export_meta, bad_preprocessing_is_left_out_with_the_reason) {
    static const char *const cases[][2] = {
        {"not json", "not a JSON object"},
        {"", "not a JSON object"},
        {"{}", "'width' is missing"},
        {PRE("\"width\":224,\"height\":224,\"resize\":\"stretch\"," PRE_TAIL ",\"gamma\":2"),
         "unknown key 'gamma'"},
        {PRE("\"width\":224,\"width\":224,\"height\":224,\"resize\":\"stretch\"," PRE_TAIL),
         "appears twice"},
        {PRE("\"width\":100,\"height\":224,\"resize\":\"stretch\"," PRE_TAIL), "100x224"},
        {PRE("\"width\":224.5,\"height\":224,\"resize\":\"stretch\"," PRE_TAIL), "not an integer"},
        {PRE("\"width\":-224,\"height\":224,\"resize\":\"stretch\"," PRE_TAIL), "not an integer"},
        {PRE("\"width\":224,\"height\":224,\"resize\":\"cubic\"," PRE_TAIL),
         "'resize' has a value"},
        {PRE("\"width\":224,\"height\":224,\"resize\":\"shorter_crop\"," PRE_TAIL),
         "'resize_shorter' is missing"},
        {PRE("\"width\":224,\"height\":224,\"resize\":\"shorter_crop\",\"resize_shorter\":100,"
             PRE_TAIL), "resize_shorter must be"},
        {PRE("\"width\":224,\"height\":224,\"resize\":\"stretch\",\"channels\":\"rgba\","
             "\"mean\":[0,0,0],\"std\":[1,1,1]"), "'channels' has a value"},
        {PRE("\"width\":224,\"height\":224,\"resize\":\"stretch\",\"channels\":\"rgb\","
             "\"mean\":[0,0],\"std\":[1,1,1]"), "not an array of 3 numbers"},
        {PRE("\"width\":224,\"height\":224,\"resize\":\"stretch\",\"channels\":\"rgb\","
             "\"mean\":[0,0,0],\"std\":[1,0,1]"), "std is not a finite positive"},
        {PRE("\"width\":224,\"height\":224,\"resize\":\"stretch\",\"channels\":\"rgb\","
             "\"mean\":[0,nan,0],\"std\":[1,1,1]"), "expected a number"},
        {PRE("\"width\":224,\"height\":224,\"resize\":\"stretch\",\"channels\":\"rgb\","
             "\"mean\":[0,1e400,0],\"std\":[1,1,1]"), "out of range"},
        {PRE("\"width\":224,\"height\":224,\"resize\":\"stretch\",\"channels\":\"rgb\","
             "\"mean\":[0,1e39,0],\"std\":[1,1,1]"), "beyond float range"},
        {PRE("\"width\":224,\"height\":224,\"resize\":\"stretch\"," PRE_TAIL
             ",\"scale\":\"x=pixel*std+mean\""), "'scale' has a value"},
        {PRE("\"width\":224,\"height\":224,\"resize\":\"stretch\"," PRE_TAIL
             ",\"layout\":\"NHWC\""),
         "'layout' has a value"},
        {PRE("\"width\":224,\"height\":224,\"resize\":\"stre\\u0074ch\"," PRE_TAIL), "escape"},
        {PRE("\"width\":224,\"height\":224,\"resize\":\"stretch\"," PRE_TAIL) " extra",
         "text after the object"},
        {"{\"width\":224,\"height\":224", "expected ',' or '}'"},
        {"{\"width\":224,\"height\":224,\"resize\":\"stretch", "not closed"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        bad_entry("sentinel.preprocess", cases[i][0], cases[i][1]);
}

Test(export_meta, bad_labels_and_keys_are_left_out_with_the_reason) {
    bad_entry("sentinel.labels", "a\nb\nc", "3 labels, but the output 'logits' has 10 classes");
    bad_entry("sentinel.labels", LABELS10 "\n", "11 labels");
    bad_entry("sentinel.version", "2", "Sentinel does not know this key");
    bad_entry("", "x", "has no key");
    bad_entry("model", "second", "the key appeared before, the first is kept");
}

/* A hostile file's thousands of bad entries: a bounded report. */
Test(export_meta, warnings_are_bounded) {
    enum { N = 5000 };
    static const char *kv[N][2];
    for (int i = 0; i < N; i++) kv[i][0] = "sentinel.x", kv[i][1] = "";
    sn_onnx_report rep;
    sn_graph *g = import_with_meta(kv, N, &rep);
    cr_assert_eq(rep.n_warnings, 33);
    cr_assert(strstr(rep.warnings[32], "and 4968 more"), "%s", rep.warnings[32]);
    sn_onnx_report_free(&rep);
    sn_graph_destroy(g);
}

/* What the files cannot carry is refused, with the reason, before anything is written. */
Test(export_meta, exporters_refuse_metadata_they_cannot_carry) {
    sn_graph *g = awkward_model();
    const char *labels[10] = {"0", "1", "2", "two\nlines", "4", "5", "6", "7", "8", "9"};
    cr_assert_eq(sn_graph_set_labels(g, labels, 10), SN_OK);
    void *data = NULL;
    size_t size = 0;
    sn_error err = {0};
    sn_onnx_export_options oo = SN_ONNX_EXPORT_OPTIONS_INIT;
    cr_assert_eq(sn_export_onnx(g, &oo, &data, &size, &err), SN_ERR_UNSUPPORTED);
    cr_assert(strstr(err.message, "label 3") && strstr(err.message, "line break"), "%s",
              err.message);
    sn_tflite_options to = SN_TFLITE_OPTIONS_INIT;
    cr_assert_eq(sn_export_tflite(g, &to, &data, &size, &err), SN_ERR_UNSUPPORTED);
    cr_assert(strstr(err.message, "label 3"), "%s", err.message);
    cr_assert_null(data);
    labels[3] = "3";
    cr_assert_eq(sn_graph_set_labels(g, labels, 10), SN_OK);
    cr_assert_eq(sn_graph_set_prop(g, "sentinel.labels", "x"), SN_OK);
    cr_assert_eq(sn_export_onnx(g, &oo, &data, &size, &err), SN_ERR_UNSUPPORTED);
    cr_assert(strstr(err.message, "'sentinel.labels'"), "%s", err.message);
    /* TFLite keeps properties inside one JSON object, where any key is fine. */
    cr_assert_eq(sn_export_tflite(g, &to, &data, &size, &err), SN_OK, "%s", err.message);
    free(data);
    sn_graph_destroy(g);
}

/* sentinel-run on an ONNX file converts it in memory: what the import left out is shown as a
 * warning naming the file, the key and the reason (not with --quiet), and the model still runs. */
Test(export_meta, sentinel_run_shows_what_the_import_left_out) {
    const char *kv[][2] = {{"sentinel.labels", LABELS10},
                           {"sentinel.preprocess", "{\"width\":-3}"}};
    size_t size;
    uint8_t *bytes = onnx_with_meta(kv, 2, &size);
    char *dir = sn_test_mkdtemp(), path[4096], cmd[8192];
    snprintf(path, sizeof path, "%s/meta.onnx", dir);
    cr_assert_eq(sn_test_write_file(path, bytes, size), 0);
    free(bytes);
    for (int quiet = 0; quiet < 2; quiet++) {
        snprintf(cmd, sizeof cmd, "'%s' '%s' --random 2 --device cpu%s", sn_test_bin("sentinel-run"),
                 path, quiet ? " --quiet" : "");
        char *o = NULL;
        int sig = 0, rc = sn_test_run(cmd, &o, &sig);
        cr_assert_eq(sig, 0);
        cr_assert_eq(rc, 0, "%s", o);
        const char *w = strstr(o, "warning: ");
        if (quiet) {
            cr_assert_null(w, "--quiet printed a warning:\n%s", o);
        } else {
            cr_assert(w && strstr(w, path) && strstr(w, "sentinel.preprocess") && strstr(w, "width"),
                      "no warning naming the file, the key and the field:\n%s", o);
        }
        free(o);
    }
    sn_test_rmtree(dir);
    free(dir);
}
