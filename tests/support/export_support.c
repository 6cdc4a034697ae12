/*
 * export_support.c - see export_support.h. The venv is the one CMake's SENTINEL_VENV names
 * (made by scripts/setup-python-env.sh through the onnx_models CTest fixture); SENTINEL_VENV in
 * the environment overrides it. A venv that could not be made leaves a .sentinel-unavailable
 * note (and one without ai-edge-litert a .sentinel-litert-unavailable note), which the skip
 * message repeats.
 */
#include "export_support.h"

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export.h"
#include "model.h"
#include "npy.h"
#include "passes/pass.h"
#include "test_support.h"

#ifndef SN_EXPORT_VENV_DIR
#define SN_EXPORT_VENV_DIR SN_TEST_BIN_DIR "/../venv"
#endif
#ifndef SN_EXPORT_ONNX_MODELS_DIR
#define SN_EXPORT_ONNX_MODELS_DIR ""
#endif

char *sn_export_sh(int want, const char *fmt, ...) {
    char *cmd = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&cmd, fmt, ap);
    va_end(ap);
    cr_assert(n >= 0 && cmd);
    char *out = NULL;
    int sig = 0, rc = sn_test_run(cmd, &out, &sig);
    cr_assert_eq(rc, want, "`%s` exited %d (signal %d), expected %d:\n%s", cmd, rc, sig, want,
                 out ? out : "");
    free(cmd);
    return out;
}

const char *sn_export_python(void) {
    static char py[4096];
    const char *venv = getenv("SENTINEL_VENV");
    if (!venv || !*venv) venv = SN_EXPORT_VENV_DIR;
    char note[4096];
    snprintf(note, sizeof note, "%s/.sentinel-unavailable", venv);
    char *why = sn_test_read_file(note, NULL);
    if (why) {
        why[strcspn(why, "\n")] = 0;
        cr_skip_test("the Python venv %s is unavailable: %s", venv, why);
    }
    snprintf(note, sizeof note, "%s/.sentinel-litert-unavailable", venv);
    if ((why = sn_test_read_file(note, NULL))) {
        why[strcspn(why, "\n")] = 0;
        cr_skip_test("the Python venv %s has no TFLite interpreter: %s", venv, why);
    }
    snprintf(py, sizeof py, "%s/bin/python", venv);
    if (access(py, X_OK) != 0)
        cr_skip_test("no Python venv at %s (scripts/setup-python-env.sh makes it; the onnx_models "
                     "CTest fixture runs it)",
                     venv);
    char *cmd = NULL, *out = NULL;
    cr_assert(asprintf(&cmd, "'%s' -c 'import onnx, onnxruntime, numpy, ai_edge_litert'", py) > 0);
    int rc = sn_test_run(cmd, &out, NULL);
    if (rc != 0)
        cr_skip_test("the venv %s cannot import onnx, onnxruntime, numpy and ai_edge_litert: %s",
                     venv, out ? out : "");
    free(cmd);
    free(out);
    return py;
}

float *sn_export_reference(const sn_graph *g, const float *x, int n, size_t *per_sample) {
    sn_error err = {0};
    sn_graph *c = NULL;
    cr_assert_eq(sn_graph_clone(g, &c), SN_OK);
    sn_model *m = NULL;
    sn_engine *e = NULL;
    cr_assert_eq(sn_model_from_graph(c, &m, &err), SN_OK, "%s", err.message);
    sn_engine_options o = SN_ENGINE_OPTIONS_INIT;
    o.device = SN_DEVICE_CPU;
    o.max_batch = n;
    cr_assert_eq(sn_engine_create(m, &o, &e, &err), SN_OK, "%s", err.message);
    cr_assert_eq(sn_model_output_count(m), 1, "the export tests compare one output");
    size_t in = sn_engine_input_bytes(e, 0) / sizeof(float);
    size_t out = sn_engine_output_bytes(e, 0) / sizeof(float);
    float *y = malloc(sizeof(float) * out * (size_t)n);
    cr_assert(y);
    /* One sample per run keeps every engine at its smallest arena; results do not depend on
     * the batch. */
    for (int k = 0; k < n; k++) {
        const void *ins[1] = {x + (size_t)k * in};
        void *outs[1] = {y + (size_t)k * out};
        cr_assert_eq(sn_engine_run(e, 1, ins, outs, &err), SN_OK, "%s", err.message);
    }
    sn_engine_destroy(e);
    sn_model_destroy(m);
    *per_sample = out;
    return y;
}

static void sn__write_npy(const char *dir, const char *file, const float *d, int rank,
                          const int64_t *dims) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    sn_error err = {0};
    cr_assert_eq(sn_npy_write_file(path, d, rank, dims, &err), SN_OK, "%s", err.message);
}

void sn_export_case_write(const char *dir, const sn_graph *g, const float *x, int n,
                          const char *case_json) {
    size_t per = 0;
    float *y = sn_export_reference(g, x, n, &per);
    const sn_tensor *in = &g->tensors[g->inputs[0]], *out = &g->tensors[g->outputs[0]];
    int64_t dims[SN_MAX_RANK];
    dims[0] = n;
    for (int i = 1; i < in->shape.rank; i++) dims[i] = in->shape.d[i];
    sn__write_npy(dir, "x.npy", x, in->shape.rank, dims);
    for (int i = 1; i < out->shape.rank; i++) dims[i] = out->shape.d[i];
    sn__write_npy(dir, "y.npy", y, out->shape.rank, dims);
    free(y);
    char path[4096];
    snprintf(path, sizeof path, "%s/case.json", dir);
    cr_assert_eq(sn_test_write_file(path, case_json, strlen(case_json)), 0);
}

void sn_export_run_script(const char *script, const char *const *args, int n) {
    const char *py = sn_export_python();
    size_t len = strlen(py) + strlen(script) + 256;
    for (int i = 0; i < n; i++) len += strlen(args[i]) + 4;
    char *cmd = malloc(len);
    cr_assert(cmd);
    int at = snprintf(cmd, len, "OMP_NUM_THREADS=2 '%s' '%s/tests/export/%s'", py,
                      SN_TEST_SOURCE_DIR, script);
    for (int i = 0; i < n; i++) at += snprintf(cmd + at, len - (size_t)at, " '%s'", args[i]);
    char *out = NULL;
    int sig = 0, rc = sn_test_run(cmd, &out, &sig);
    /* Measurements are logged; anything else (the checker's reasons, runtime chatter) goes into
     * the failure message. Criterion counts cr_log_warn/error as failures, so only info. */
    size_t n_msg = 0, cap = out ? strlen(out) + 1 : 1;
    char *msg = calloc(cap, 1);
    cr_assert(msg);
    for (char *line = out ? strtok(out, "\n") : NULL; line; line = strtok(NULL, "\n")) {
        if (line[0] == '{') {
            cr_log_info("%s", line);
        } else if (!strstr(line, "XNNPACK delegate")) {
            n_msg += (size_t)snprintf(msg + n_msg, cap - n_msg, "%s\n", line);
        }
    }
    cr_assert_eq(rc, 0, "%s failed (exit %d, signal %d):\n%s\ncommand: %s", script, rc, sig, msg,
                 cmd);
    free(msg);
    free(out);
    free(cmd);
}

void sn_export_check(const char *const *dirs, int n) {
    sn_export_run_script("check_export.py", dirs, n);
}

void *sn_export_onnx_bytes(const sn_graph *g, int opset, size_t *size) {
    sn_onnx_export_options o = SN_ONNX_EXPORT_OPTIONS_INIT;
    o.opset = opset;
    void *data = NULL;
    sn_error err = {0};
    cr_assert_eq(sn_export_onnx(g, &o, &data, size, &err), SN_OK, "%s", err.message);
    return data;
}

sn_graph *sn_export_import_bytes(const void *data, size_t size, sn_onnx_report *rep) {
    sn_graph *g = NULL;
    sn_error err = {0};
    sn_onnx_report local = {0};
    sn_onnx_report *r = rep ? rep : &local;
    sn_status s = sn_onnx_import_memory(data, size, NULL, &g, r, &err);
    char line[512] = "";
    if (r->n_unsupported) sn_onnx_unsupported_format(&r->unsupported[0], line, sizeof line);
    sn_onnx_report_free(&local);
    cr_assert_eq(s, SN_OK, "import: %s %s", err.message, line);
    return g;
}

void sn_export_same_labels_preprocess(const sn_graph *a, const sn_graph *b, const char *what) {
    const sn_metadata *x = &a->meta, *y = &b->meta;
    cr_assert_eq(x->n_labels, y->n_labels, "%s: %d labels, then %d", what, x->n_labels,
                 y->n_labels);
    for (int i = 0; i < x->n_labels; i++)
        cr_assert_str_eq(x->labels[i], y->labels[i], "%s: label %d", what, i);
    const sn_preprocess *p = &x->preprocess, *q = &y->preprocess;
    cr_assert_eq(p->present, q->present, "%s: preprocessing present", what);
    cr_assert(p->width == q->width && p->height == q->height &&
                  p->resize_shorter == q->resize_shorter && p->resize == q->resize &&
                  p->channels == q->channels,
              "%s: preprocessing sizes, mode or channels differ", what);
    cr_assert(!memcmp(p->mean, q->mean, sizeof p->mean) && !memcmp(p->std, q->std, sizeof p->std),
              "%s: mean/std differ: %.9g,%.9g,%.9g / %.9g,%.9g,%.9g", what, (double)q->mean[0],
              (double)q->mean[1], (double)q->mean[2], (double)q->std[0], (double)q->std[1],
              (double)q->std[2]);
}

const char *sn_export_parity_dir(void) {
    const char *dir = getenv("SN_EXPORT_ONNX_MODELS");
    if (!dir || !*dir) dir = SN_EXPORT_ONNX_MODELS_DIR;
    DIR *d = *dir ? opendir(dir) : NULL;
    if (!d)
        cr_skip_test("no ONNX parity models at '%s' (the onnx_models CTest fixture writes them)",
                     dir);
    closedir(d);
    return dir;
}

int sn_export_each_parity_model(void (*fn)(const char *name, const sn_graph *g, void *ctx),
                                void *ctx, int *not_imported) {
    const char *dir = sn_export_parity_dir();
    DIR *d = opendir(dir);
    cr_assert(d, "%s", dir);
    int done = 0, failed = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".onnx")) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        sn_graph *g = NULL;
        sn_error err = {0};
        if (sn_onnx_import_file(path, NULL, &g, NULL, &err) != SN_OK) {
            failed++;
            continue;
        }
        fn(e->d_name, g, ctx);
        sn_graph_destroy(g);
        done++;
    }
    closedir(d);
    if (not_imported) *not_imported = failed;
    return done;
}
