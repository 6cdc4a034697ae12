/*
 * bench_cpu.c - sentinel-bench-cpu: throughput and latency of the CPU backend.
 *
 * For each model (a zoo name, built in memory with fixed seeded weights, or a .sgraph file) and
 * each batch size it builds a CPU engine through the public API with max_batch = that batch,
 * fills the inputs with seeded random values, warms up, then times single sn_engine_run calls
 * until the time budget is spent. It reports images/s over the timed runs, the p50/p99 latency
 * of one call, the threads the engine used and its planned activation arena. Outputs are
 * checked to be finite, so a broken kernel cannot post a fast number. --optimize on (the
 * default) lets the engine run the optimisation passes, off runs the graph as loaded; `both` times the
 * graph as loaded and the optimised one, so the passes' effect shows side by side.
 *
 *   sentinel-bench-cpu [--models a,b] [--batches 1,8] [--threads N] [--seconds S]
 *                      [--optimize off|on|both] [--json FILE] [--dump DIR]
 *
 * --dump DIR writes each row's inputs and the outputs of its first run as .npy files
 * (DIR/<model>_b<batch>_in<i>.npy, _out<i>.npy), so another runtime can be checked against the
 * very numbers that were timed (bench/cpu_compare.py does this with ONNX Runtime).
 *
 * Exit status: 0 on success, 1 when a model fails to load or run, 2 for a usage error.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "bench_report.h"
#include "model.h"
#include "npy.h"
#include "passes/pass.h"
#include "sentinel.h"
#include "zoo.h"

#define SN__BENCH_MAX_LIST 16
#define SN__BENCH_ZOO_SEED 0 /* sentinel-zoo's default, so in-memory and written models agree */
#define SN__BENCH_INPUT_SEED 20240601u
#define SN__BENCH_MIN_RUNS 5

typedef struct sn__bench_args {
    const char *models[SN__BENCH_MAX_LIST];
    int n_models;
    int batches[SN__BENCH_MAX_LIST];
    int n_batches;
    int threads;
    double seconds;
    const char *json;
    const char *dump; /* folder for the inputs and first outputs as .npy, or NULL */
    int optimize; /* bit 0: time the graph as loaded; bit 1: time it optimised */
    char *models_buf; /* strtok storage behind models[] */
} sn__bench_args;

static void usage(FILE *f) {
    fprintf(f,
            "usage: sentinel-bench-cpu [options]\n"
            "  --models LIST   comma-separated zoo names or .sgraph paths (default: seed-cnn,"
            "resnet18,mobilenetv2)\n"
            "  --batches LIST  comma-separated batch sizes, 1..1024 (default: 1,8)\n"
            "  --threads N     CPU threads, 0 = all cores (default: 0)\n"
            "  --seconds S     timed seconds per model and batch, 0.01..3600 (default: 3)\n"
            "  --optimize M    on (default: the engine runs the optimisation passes), off or both\n"
            "  --json FILE     also write the results as JSON\n"
            "  --dump DIR      write each row's inputs and first outputs as .npy into DIR\n"
            "  --list          list the zoo models and exit\n");
}

static int parse_int(const char *s, long lo, long hi, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

static int parse_args(int argc, char **argv, sn__bench_args *a) {
    const char *models = "seed-cnn,resnet18,mobilenetv2", *batches = "1,8";
    a->threads = 0;
    a->seconds = 3.0;
    a->optimize = 2;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(o, "--list")) {
            for (int k = 0; k < sn_zoo_count(); k++)
                printf("%-12s %s\n", sn_zoo_name(k), sn_zoo_description(k));
            exit(0);
        }
        if (strcmp(o, "--models") && strcmp(o, "--batches") && strcmp(o, "--threads") &&
            strcmp(o, "--seconds") && strcmp(o, "--json") && strcmp(o, "--optimize") &&
            strcmp(o, "--dump")) {
            fprintf(stderr, "sentinel-bench-cpu: unknown option '%s'\n", o);
            return -1;
        }
        if (!v) {
            fprintf(stderr, "sentinel-bench-cpu: %s needs a value\n", o);
            return -1;
        }
        i++;
        if (!strcmp(o, "--models")) {
            models = v;
        } else if (!strcmp(o, "--batches")) {
            batches = v;
        } else if (!strcmp(o, "--threads")) {
            if (parse_int(v, 0, 4096, &a->threads)) {
                fprintf(stderr, "sentinel-bench-cpu: --threads: '%s' is not 0..4096\n", v);
                return -1;
            }
        } else if (!strcmp(o, "--seconds")) {
            char *end;
            errno = 0;
            a->seconds = strtod(v, &end);
            if (errno || end == v || *end || !(a->seconds >= 0.01 && a->seconds <= 3600)) {
                fprintf(stderr, "sentinel-bench-cpu: --seconds: '%s' is not 0.01..3600\n", v);
                return -1;
            }
        } else if (!strcmp(o, "--optimize")) {
            a->optimize = !strcmp(v, "off") ? 1 : !strcmp(v, "on") ? 2 : !strcmp(v, "both") ? 3 : 0;
            if (!a->optimize) {
                fprintf(stderr, "sentinel-bench-cpu: --optimize: '%s' is not off, on or both\n", v);
                return -1;
            }
        } else if (!strcmp(o, "--dump")) {
            a->dump = v;
        } else {
            a->json = v;
        }
    }

    a->models_buf = malloc(strlen(models) + strlen(batches) + 2);
    if (!a->models_buf) return -1;
    char *m = a->models_buf, *b = m + strlen(models) + 1, *save;
    strcpy(m, models);
    strcpy(b, batches);
    for (char *t = strtok_r(m, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (a->n_models == SN__BENCH_MAX_LIST) {
            fprintf(stderr, "sentinel-bench-cpu: at most %d models\n", SN__BENCH_MAX_LIST);
            return -1;
        }
        a->models[a->n_models++] = t;
    }
    for (char *t = strtok_r(b, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (a->n_batches == SN__BENCH_MAX_LIST ||
            parse_int(t, 1, 1024, &a->batches[a->n_batches++])) {
            fprintf(stderr, "sentinel-bench-cpu: --batches: '%s' is not a list of at most %d "
                    "sizes in 1..1024\n", batches, SN__BENCH_MAX_LIST);
            return -1;
        }
    }
    if (!a->n_models || !a->n_batches) {
        fprintf(stderr, "sentinel-bench-cpu: --models and --batches must not be empty\n");
        return -1;
    }
    return 0;
}

/* A zoo name builds in memory; anything else is a .sgraph path. */
static sn_status load_model(const char *name, sn_model **out, sn_error *err) {
    if (sn_zoo_find(name) < 0) return sn_model_load_file(name, out, err);
    sn_graph *g = NULL;
    sn_status st = sn_zoo_build(name, SN__BENCH_ZOO_SEED, &g, err);
    if (st != SN_OK) return st;
    return sn_model_from_graph(g, out, err); /* owns g from here, even on failure */
}

static void fill_input(void *buf, size_t bytes, sn_dtype dt, uint64_t *rng) {
    if (dt == SN_DTYPE_F32) {
        float *f = buf;
        for (size_t i = 0; i < bytes / sizeof(float); i++)
            f[i] = sn_bench_uniform(rng);
    } else {
        unsigned char *c = buf;
        for (size_t i = 0; i < bytes; i++) c[i] = (unsigned char)sn_bench_rng_next(rng);
    }
}

/* DIR/<base>_b<batch>[_asis]_<in|out><i>.npy, base being the model's file name without folder
 * and extension (or the zoo name). */
static void dump_path(char *buf, size_t size, const char *dir, const char *model, int optimized,
                      int batch, const char *kind, int index) {
    const char *base = strrchr(model, '/');
    base = base ? base + 1 : model;
    size_t len = strcspn(base, ".");
    snprintf(buf, size, "%s/%.*s_b%d%s_%s%d.npy", dir, (int)len, base, batch,
             optimized ? "" : "_asis", kind, index);
}

/* One f32 tensor of `batch` samples as .npy, its shape from the model's declaration (the batch
 * dimension filled in), else flat. Non-f32 tensors are skipped. Returns 0, or -1 after printing
 * why. */
static int dump_tensor(const char *path, const sn_tensor_info *info, const void *data, size_t bytes,
                       int batch) {
    if (info->dtype != SN_DTYPE_F32) return 0;
    int64_t dims[SN_MAX_RANK];
    int rank = info->rank;
    int64_t numel = 1;
    for (int d = 0; d < rank; d++) {
        dims[d] = (d == 0 && info->dims[0] == SN_DIM_BATCH) ? batch : info->dims[d];
        numel *= dims[d];
    }
    if (rank < 1 || (size_t)numel * sizeof(float) != bytes) { /* not batched as declared: flat */
        rank = 1;
        dims[0] = (int64_t)(bytes / sizeof(float));
    }
    sn_error err = {0};
    if (sn_npy_write_file(path, data, rank, dims, &err) != SN_OK) {
        fprintf(stderr, "sentinel-bench-cpu: --dump: %s: %s\n", path, err.message);
        return -1;
    }
    return 0;
}

/* Time one model at one batch size into *r. Returns 0, or -1 after printing why. */
static int bench_one(const sn_model *m, const char *name, int optimized, int batch,
                     const sn__bench_args *a, sn_bench_result *r) {
    sn_engine_options opt = SN_ENGINE_OPTIONS_INIT;
    opt.device = SN_DEVICE_CPU;
    opt.threads = a->threads;
    opt.max_batch = batch;
    opt.optimize = optimized; /* the engine runs the passes on its own clone of the graph */
    sn_error err = {0};
    sn_engine *e = NULL;
    int n_in = sn_model_input_count(m), n_out = sn_model_output_count(m), rc = -1;
    void **in = calloc((size_t)n_in + 1, sizeof *in), **out = calloc((size_t)n_out + 1, sizeof *out);
    double *lat = NULL;
    size_t lat_cap = 0;
    uint64_t rng = SN__BENCH_INPUT_SEED;
    if (!in || !out) goto oom;
    if (sn_engine_create(m, &opt, &e, &err) != SN_OK) {
        fprintf(stderr, "sentinel-bench-cpu: %s: creating a CPU engine: %s\n", name, err.message);
        goto done;
    }
    for (int i = 0; i < n_in; i++) {
        sn_tensor_info info;
        size_t bytes = sn_engine_input_bytes(e, i) * (size_t)batch;
        if (sn_model_input_info(m, i, &info) != SN_OK || !(in[i] = malloc(bytes))) goto oom;
        fill_input(in[i], bytes, info.dtype, &rng);
    }
    for (int i = 0; i < n_out; i++)
        if (!(out[i] = malloc(sn_engine_output_bytes(e, i) * (size_t)batch))) goto oom;

    /* Warm-up: caches, page faults and thread pools, at least 2 runs or a tenth of the budget. */
    double t0 = sn_bench_now();
    for (int k = 0; k < 2 || sn_bench_now() - t0 < a->seconds * 0.1; k++) {
        if (sn_engine_run(e, batch, (const void *const *)in, out, &err) != SN_OK) {
            fprintf(stderr, "sentinel-bench-cpu: %s batch %d: %s\n", name, batch, err.message);
            goto done;
        }
    }
    for (int i = 0; i < n_out; i++) {
        sn_tensor_info info;
        if (sn_model_output_info(m, i, &info) != SN_OK || info.dtype != SN_DTYPE_F32) continue;
        const float *f = out[i];
        for (size_t k = 0; k < sn_engine_output_bytes(e, i) * (size_t)batch / sizeof(float); k++)
            if (!isfinite(f[k])) {
                fprintf(stderr, "sentinel-bench-cpu: %s batch %d: output %d has a non-finite "
                        "value at %zu\n", name, batch, i, k);
                goto done;
            }
    }

    if (a->dump) {
        char path[4096];
        for (int i = 0; i < n_in; i++) {
            sn_tensor_info info;
            dump_path(path, sizeof path, a->dump, name, optimized, batch, "in", i);
            if (sn_model_input_info(m, i, &info) != SN_OK ||
                dump_tensor(path, &info, in[i], sn_engine_input_bytes(e, i) * (size_t)batch, batch))
                goto done;
        }
        for (int i = 0; i < n_out; i++) {
            sn_tensor_info info;
            dump_path(path, sizeof path, a->dump, name, optimized, batch, "out", i);
            if (sn_model_output_info(m, i, &info) != SN_OK ||
                dump_tensor(path, &info, out[i], sn_engine_output_bytes(e, i) * (size_t)batch,
                            batch))
                goto done;
        }
    }

    double start = sn_bench_now(), total = 0;
    int runs = 0;
    while (runs < SN__BENCH_MIN_RUNS || total < a->seconds) {
        if ((size_t)runs == lat_cap) {
            lat_cap = lat_cap ? lat_cap * 2 : 256;
            double *nl = realloc(lat, lat_cap * sizeof *lat);
            if (!nl) goto oom;
            lat = nl;
        }
        double t = sn_bench_now();
        if (sn_engine_run(e, batch, (const void *const *)in, out, &err) != SN_OK) {
            fprintf(stderr, "sentinel-bench-cpu: %s batch %d: %s\n", name, batch, err.message);
            goto done;
        }
        double t1 = sn_bench_now();
        lat[runs++] = t1 - t;
        total = t1 - start;
    }
    sn_bench_sort(lat, (size_t)runs);

    sn_engine_stats st = SN_ENGINE_STATS_INIT;
    if (sn_engine_get_stats(e, &st) != SN_OK) {
        fprintf(stderr, "sentinel-bench-cpu: %s: sn_engine_get_stats failed\n", name);
        goto done;
    }
    r->model = name;
    r->optimized = optimized;
    r->batch = batch;
    r->threads = st.threads;
    r->runs = runs;
    r->images_per_s = (double)runs * batch / total;
    r->p50_ms = sn_bench_percentile(lat, (size_t)runs, 0.50) * 1e3;
    r->p99_ms = sn_bench_percentile(lat, (size_t)runs, 0.99) * 1e3;
    r->activation_bytes = st.activation_bytes;
    r->weight_bytes = st.weight_bytes;
    rc = 0;
    goto done;

oom:
    fprintf(stderr, "sentinel-bench-cpu: %s batch %d: out of memory\n", name, batch);
done:
    for (int i = 0; in && i < n_in; i++) free(in[i]);
    for (int i = 0; out && i < n_out; i++) free(out[i]);
    free(in);
    free(out);
    free(lat);
    sn_engine_destroy(e);
    return rc;
}

int main(int argc, char **argv) {
    sn__bench_args a = {0};
    sn_bench_result *res = NULL;
    int n_res = 0, rc = 1;
    if (parse_args(argc, argv, &a) != 0) {
        usage(stderr);
        rc = 2;
        goto done;
    }
    if (a.json && sn_bench_json_check(a.json) != 0) {
        rc = 2;
        goto done;
    }
    res = calloc((size_t)a.n_models * (size_t)a.n_batches * 2, sizeof *res);
    if (!res) goto done;

    sn_bench_print_header(stdout, a.threads, a.seconds);
    for (int i = 0; i < a.n_models; i++) {
        sn_model *m = NULL;
        sn_error err = {0};
        if (load_model(a.models[i], &m, &err) != SN_OK) {
            fprintf(stderr, "sentinel-bench-cpu: %s: %s\n", a.models[i], err.message);
            sn_model_destroy(m);
            goto done;
        }
        for (int pass = 0; pass < 2; pass++) {
            if (!(a.optimize & (1 << pass))) continue;
            for (int b = 0; b < a.n_batches; b++) {
                if (bench_one(m, a.models[i], pass, a.batches[b], &a,
                              &res[n_res]) != 0) {
                    sn_model_destroy(m);
                    goto done;
                }
                sn_bench_print_row(stdout, &res[n_res++]);
                fflush(stdout);
            }
        }
        sn_model_destroy(m);
    }
    if (a.json && sn_bench_write_json(a.json, res, n_res, a.seconds) != 0) goto done;
    rc = 0;
done:
    free(res);
    free(a.models_buf);
    return rc;
}
