/*
 * test_onnx_parity.c - ONNX import against ONNX Runtime. The CTest fixture onnx_models (script
 * scripts/onnx-test-models.sh) builds a venv with onnx, onnxruntime and numpy, and writes models
 * with random inputs and ONNX Runtime's outputs (tests/onnx/make_models.py) into
 * SN_ONNX_MODELS_DIR. Each model is then run by Sentinel's CPU backend twice: imported through
 * the C API without optimisation, and converted by sentinel-convert (all passes) then loaded
 * from the .sgraph file. Every output must agree with ONNX Runtime's within 1e-4 relative to
 * max(|reference|, RMS of the reference output); NaN never passes.
 *
 * When the venv could not be made (no PyPI), the tests SKIP and say why; when torch and
 * torchvision are not installed, so does the torchvision test.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "model.h"
#include "npy.h"
#include "onnx.h"
#include "passes/pass.h"
#include "sentinel.h"
#include "test_support.h"

#ifndef SN_ONNX_MODELS_DIR
#error "SN_ONNX_MODELS_DIR must be defined by the build"
#endif

typedef struct entry {
    char name[128];
    int outputs, batch;
    double rtol;
} entry;

typedef struct manifest {
    entry *e;
    int n;
    char note[512];
} manifest;

static char *slurp(const char *path) {
    size_t size = 0;
    char *p = sn_test_read_file(path, &size);
    if (!p) return NULL;
    char *s = realloc(p, size + 1);
    if (!s) {
        free(p);
        return NULL;
    }
    s[size] = 0;
    return s;
}

/* Skips (with the reason) when the Python side could not be set up. */
static void load_manifest(manifest *m) {
    char path[4096];
    memset(m, 0, sizeof *m);
    snprintf(path, sizeof path, "%s/.sentinel-unavailable", SN_ONNX_VENV_DIR);
    char *why = slurp(path);
    if (why) {
        why[strcspn(why, "\n")] = 0;
        cr_skip_test("the ONNX Runtime venv is unavailable: %s", why);
    }
    snprintf(path, sizeof path, "%s/manifest.txt", SN_ONNX_MODELS_DIR);
    char *text = slurp(path);
    cr_assert(text, "%s is missing: the onnx_models CTest fixture (scripts/onnx-test-models.sh) "
                    "did not run or failed", path);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strncmp(line, "# note ", 7)) {
            snprintf(m->note, sizeof m->note, "%s", line + 7);
            continue;
        }
        if (line[0] == '#') continue;
        entry e;
        cr_assert_eq(sscanf(line, "%127s %d %d %lf", e.name, &e.outputs, &e.batch, &e.rtol), 4,
                     "bad manifest line '%s'", line);
        m->e = realloc(m->e, sizeof *m->e * ((size_t)m->n + 1));
        cr_assert(m->e);
        m->e[m->n++] = e;
    }
    free(text);
}

/* Runs model m on the case's input; compares every output. Returns the worst relative error,
 * or -1 with a message in msg when something fails. */
static double run_case(const sn_model *m, const entry *e, char *msg, size_t msize) {
    char path[4096];
    sn_error err = {0};
    sn_npy x = {0}, y = {0};
    sn_engine *eng = NULL;
    float **outs = NULL;
    double worst = 0.0;
    snprintf(path, sizeof path, "%s/%s.in.npy", SN_ONNX_MODELS_DIR, e->name);
    if (sn_npy_read_file(path, &x, &err) != SN_OK) {
        snprintf(msg, msize, "reading %.2000s: %.1000s", path, err.message);
        return -1;
    }
    sn_engine_options o = SN_ENGINE_OPTIONS_INIT;
    o.device = SN_DEVICE_CPU;
    o.max_batch = e->batch;
    o.threads = 2;
    int nout = sn_model_output_count(m);
    if (nout != e->outputs) {
        snprintf(msg, msize, "%d outputs, ONNX Runtime gives %d", nout, e->outputs);
        worst = -1;
        goto done;
    }
    if (sn_engine_create(m, &o, &eng, &err) != SN_OK) {
        snprintf(msg, msize, "engine: %.1000s", err.message);
        worst = -1;
        goto done;
    }
    sn_tensor_info info;
    sn_model_input_info(m, 0, &info);
    int batch = info.dims[0] == SN_DIM_BATCH ? e->batch : 1;
    if ((size_t)batch * sn_engine_input_bytes(eng, 0) != x.count * sizeof(float)) {
        snprintf(msg, msize, "input holds %zu floats, the model takes %zu per sample x %d", x.count,
                 sn_engine_input_bytes(eng, 0) / sizeof(float), batch);
        worst = -1;
        goto done;
    }
    outs = calloc((size_t)nout, sizeof *outs);
    for (int k = 0; k < nout; k++) outs[k] = malloc((size_t)batch * sn_engine_output_bytes(eng, k) + 4);
    const void *ins[1] = {x.data};
    if (sn_engine_run(eng, batch, ins, (void *const *)outs, &err) != SN_OK) {
        snprintf(msg, msize, "run: %.1000s", err.message);
        worst = -1;
        goto done;
    }
    for (int k = 0; k < nout && worst >= 0; k++) {
        snprintf(path, sizeof path, "%s/%s.out%d.npy", SN_ONNX_MODELS_DIR, e->name, k);
        sn_npy_free(&y);
        if (sn_npy_read_file(path, &y, &err) != SN_OK) {
            snprintf(msg, msize, "reading %.2000s: %.1000s", path, err.message);
            worst = -1;
            break;
        }
        size_t n = (size_t)batch * sn_engine_output_bytes(eng, k) / sizeof(float);
        if (n != y.count) {
            snprintf(msg, msize, "output %d has %zu values, ONNX Runtime's %zu", k, n, y.count);
            worst = -1;
            break;
        }
        double ss = 0;
        for (size_t i = 0; i < n; i++) ss += (double)y.data[i] * y.data[i];
        double rms = n ? sqrt(ss / (double)n) : 0.0;
        for (size_t i = 0; i < n; i++) {
            double g = outs[k][i], w = y.data[i], scale = fmax(fmax(fabs(w), rms), 1e-30);
            double rel = fabs(g - w) / scale;
            if (!isfinite(g) || !(rel <= e->rtol)) {
                snprintf(msg, msize, "output %d [%zu]: got %.8g, ONNX Runtime %.8g (relative error "
                         "%.3g > %g)", k, i, g, w, rel, e->rtol);
                worst = -1;
                break;
            }
            if (rel > worst) worst = rel;
        }
    }
done:
    for (int k = 0; outs && k < nout; k++) free(outs[k]);
    free(outs);
    sn_engine_destroy(eng);
    sn_npy_free(&x);
    sn_npy_free(&y);
    return worst;
}

/* Import through the API (no optimisation). */
static double via_api(const entry *e, char *msg, size_t msize) {
    char path[4096];
    sn_error err = {0};
    sn_graph *g = NULL;
    sn_model *m = NULL;
    snprintf(path, sizeof path, "%s/%s.onnx", SN_ONNX_MODELS_DIR, e->name);
    if (sn_onnx_import_file(path, NULL, &g, NULL, &err) != SN_OK ||
        sn_model_from_graph(g, &m, &err) != SN_OK) {
        snprintf(msg, msize, "import: %.1000s", err.message);
        return -1;
    }
    double w = run_case(m, e, msg, msize);
    sn_model_destroy(m);
    return w;
}

/* sentinel-convert (optimised) to a .sgraph file, loaded back. */
static double via_cli(const entry *e, const char *dir, char *msg, size_t msize) {
    char cmd[8192], out_path[4096];
    snprintf(out_path, sizeof out_path, "%s/%s.sgraph", dir, e->name);
    snprintf(cmd, sizeof cmd, "'%s' '%s/%s.onnx' -o '%s' --quiet", sn_test_bin("sentinel-convert"),
             SN_ONNX_MODELS_DIR, e->name, out_path);
    char *out = NULL;
    int sig = 0, rc = sn_test_run(cmd, &out, &sig);
    if (rc != 0 || sig) {
        snprintf(msg, msize, "sentinel-convert exit %d signal %d: %.2000s", rc, sig, out ? out : "");
        free(out);
        return -1;
    }
    free(out);
    sn_error err = {0};
    sn_model *m = NULL;
    if (sn_model_load_file(out_path, &m, &err) != SN_OK) {
        snprintf(msg, msize, "loading the converted model: %.1000s", err.message);
        return -1;
    }
    double w = run_case(m, e, msg, msize);
    sn_model_destroy(m);
    remove(out_path);
    return w;
}

/* Every case whose name starts with `prefix` (or none of the listed ones for NULL). */
static void check_group(const char *const *prefixes, int n_prefixes, bool others, int min_cases) {
    manifest m;
    load_manifest(&m);
    char *dir = sn_test_mkdtemp();
    cr_assert(dir);
    int ran = 0, failed = 0;
    double worst = 0;
    const char *worst_name = "";
    for (int i = 0; i < m.n; i++) {
        const entry *e = &m.e[i];
        bool match = false;
        for (int p = 0; p < n_prefixes; p++)
            match |= !strncmp(e->name, prefixes[p], strlen(prefixes[p]));
        if (match == others) continue;
        char msg[8192] = "";
        double a = via_api(e, msg, sizeof msg);
        if (a < 0) cr_log_error("%s (imported, not optimised): %s", e->name, msg);
        double b = via_cli(e, dir, msg, sizeof msg);
        if (b < 0) cr_log_error("%s (sentinel-convert, optimised): %s", e->name, msg);
        failed += a < 0 || b < 0;
        double w = fmax(a, b);
        if (w > worst) {
            worst = w;
            worst_name = e->name;
        }
        ran++;
    }
    cr_log_info("%d ONNX models, worst relative error %.3g (%s)", ran, worst, worst_name);
    fprintf(stderr, "onnx parity: %d models, worst relative error %.3g (%s), %d failures\n", ran,
            worst, worst_name, failed);
    sn_test_rmtree(dir);
    free(dir);
    free(m.e);
    cr_assert_eq(failed, 0, "%d of %d ONNX models disagree with ONNX Runtime (see the log)",
                 failed, ran);
    cr_assert_geq(ran, min_cases, "only %d models in the manifest", ran);
}

static const char *const groups[] = {"net_", "torch_"};

Test(onnx_parity, op_cases, .timeout = 600) { check_group(groups, 2, true, 80); }

Test(onnx_parity, networks, .timeout = 600) { check_group(groups, 1, false, 4); }

Test(onnx_parity, torchvision, .timeout = 900) {
    manifest m;
    load_manifest(&m);
    free(m.e);
    if (m.note[0] && strstr(m.note, "torchvision"))
        cr_skip_test("%s", m.note);
    check_group(groups + 1, 1, false, 12);
}
