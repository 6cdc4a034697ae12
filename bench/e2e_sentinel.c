/*
 * e2e_sentinel.c - Sentinel's side of the end-to-end benchmark (bench/e2e/run_all.sh runs it
 * beside the Python peers): the zoo models as .sgraph files, run through the public API only (the
 * runtime's CUDA driver table serves just to allocate device mode's buffers and stream), timed
 * the way bench/e2e/common.py times the peers and reported in the same JSON lines.
 *
 *   e2e_sentinel --model-dir DIR [--models LIST] [--precisions fp32,tf32,fp16]
 *                [--batches 1,8,32,128,256] [--modes device,host,u8] [--u8-batches LIST]
 *                [--device gpu|cpu] [--iters N] [--seconds S] [--warmup N] [--budget S]
 *                [--out FILE] [--cold-start] [--naive N]
 *
 * For each (model, precision) one engine is built (max_batch = the largest batch asked for) and
 * first checked: DIR/ref/<model>_b4_in0.npy through it against the CPU reference _out0.npy
 * (max |diff| / max |ref| within the peers' tolerance), else its rows are errors, not timings.
 * Modes, each call ending when its results are usable:
 *   device  sn_engine_run_device on device buffers, then a stream synchronisation;
 *   host    sn_engine_run from ordinary host memory (the engine stages through its pinned ring);
 *   u8      sn_engine_run_images from 8-bit 256x256 images in pinned host memory (the zoo's
 *           preprocessing: shorter side 256, centre crop 224, normalise - on the device).
 * Per row: images/s, p50/p99 of one call, GPU utilisation and device memory in use (NVML, when
 * present), the engine's planned device bytes (arena + weights + input/output blocks), and
 * host-to-device copies and bytes per batch from sn_engine_get_stats.
 *
 * --cold-start: per (model, precision), time from this process's start to the first result
 * (load, engine build with kernel compilation or cache hits, CUDA start-up, first batch of 1);
 * run it once with an empty SENTINEL_CACHE_DIR and once more with the same folder.
 * --naive N: the seeds' before/after - N images one call at a time on the graph as loaded (no
 * fusion), against the same N images as one batch on the optimised graph; host mode.
 *
 * --device cpu is a smoke test of this program (fp32 only; device mode falls back to host
 * buffers); its numbers mean nothing. Exit status 0 (rows may carry errors), 2 for a usage error.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "e2e_row.h"
#include "npy.h"
#include "nvml_sampler.h"
#include "sentinel.h"
#ifdef SENTINEL_HAVE_CUDA
#include "cuda_api.h"
#endif

#define PROG "e2e_sentinel"
#define MAX_LIST 16
#define U8_SIDE 256

typedef struct args {
    const char *model_dir, *out_path;
    const char *models[MAX_LIST];
    int n_models;
    const char *precisions[4];
    int n_precisions;
    int batches[MAX_LIST], n_batches, u8_batches[MAX_LIST], n_u8;
    bool mode_device, mode_host, mode_u8;
    bool gpu, cold_start;
    int naive, iters, warmup, threads;
    double seconds, budget, started;
    char *buf;
} args;

typedef struct ctx {
    const args *a;
    FILE *out;
    sn_nvml_sampler nvml;
    char device_name[128], version[64];
#ifdef SENTINEL_HAVE_CUDA
    const sn_cuda_driver *cu;
    CUcontext cuctx;
    CUdevice dev;
    CUstream stream;
#endif
} ctx;

static const double TOLERANCE[] = {2e-3, 3e-2, 6e-2}; /* fp32, tf32, fp16: as common.py */

static void usage(FILE *f) {
    fprintf(f, "usage: " PROG " --model-dir DIR [--models LIST] [--precisions fp32,tf32,fp16]\n"
               "       [--batches LIST] [--modes device,host,u8] [--u8-batches LIST] [--device gpu|cpu]\n"
               "       [--iters N] [--seconds S] [--warmup N] [--budget S] [--threads N] [--out FILE]\n"
               "       [--cold-start] [--naive N]\n");
}

static int prec_index(const char *p) {
    return !strcmp(p, "fp32") ? 0 : !strcmp(p, "tf32") ? 1 : !strcmp(p, "fp16") ? 2 : -1;
}

static int parse_ints(char *s, int *v, int *n, int lo, int hi) {
    *n = 0;
    char *save;
    for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *end;
        errno = 0;
        long x = strtol(t, &end, 10);
        if (errno || end == t || *end || x < lo || x > hi || *n == MAX_LIST) return -1;
        v[(*n)++] = (int)x;
    }
    return *n ? 0 : -1;
}

static int parse_double(const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return (errno || end == s || *end || !(*out >= lo && *out <= hi)) ? -1 : 0;
}

static int parse_args(int argc, char **argv, args *a) {
    char models[512] = "seed-cnn,resnet50,mobilenetv2", precs[64] = "fp32,tf32,fp16",
         batches[128] = "1,8,32,128,256", modes[64] = "device", u8[128] = "";
    a->gpu = true;
    a->iters = 20;
    a->warmup = 5;
    a->seconds = -1;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            usage(stdout);
            exit(0);
        }
        if (!strcmp(o, "--cold-start")) {
            a->cold_start = true;
            continue;
        }
        if (!v) {
            fprintf(stderr, PROG ": %s needs a value (or is unknown)\n", o);
            return -1;
        }
        i++;
        int bad = 0;
        if (!strcmp(o, "--model-dir")) a->model_dir = v;
        else if (!strcmp(o, "--out")) a->out_path = v;
        else if (!strcmp(o, "--models")) bad = snprintf(models, sizeof models, "%s", v) >= (int)sizeof models;
        else if (!strcmp(o, "--precisions")) bad = snprintf(precs, sizeof precs, "%s", v) >= (int)sizeof precs;
        else if (!strcmp(o, "--batches")) bad = snprintf(batches, sizeof batches, "%s", v) >= (int)sizeof batches;
        else if (!strcmp(o, "--modes")) bad = snprintf(modes, sizeof modes, "%s", v) >= (int)sizeof modes;
        else if (!strcmp(o, "--u8-batches")) bad = snprintf(u8, sizeof u8, "%s", v) >= (int)sizeof u8;
        else if (!strcmp(o, "--device")) {
            bad = strcmp(v, "gpu") && strcmp(v, "cuda") && strcmp(v, "cpu");
            a->gpu = strcmp(v, "cpu") != 0;
        } else if (!strcmp(o, "--iters")) bad = sscanf(v, "%d", &a->iters) != 1 || a->iters < 1;
        else if (!strcmp(o, "--warmup")) bad = sscanf(v, "%d", &a->warmup) != 1 || a->warmup < 1;
        else if (!strcmp(o, "--threads")) bad = sscanf(v, "%d", &a->threads) != 1 || a->threads < 0;
        else if (!strcmp(o, "--naive")) bad = sscanf(v, "%d", &a->naive) != 1 || a->naive < 1 || a->naive > 4096;
        else if (!strcmp(o, "--seconds")) bad = parse_double(v, 0, 3600, &a->seconds);
        else if (!strcmp(o, "--budget")) bad = parse_double(v, 0, 86400, &a->budget);
        else {
            fprintf(stderr, PROG ": unknown option '%s'\n", o);
            return -1;
        }
        if (bad) {
            fprintf(stderr, PROG ": %s: bad value '%s'\n", o, v);
            return -1;
        }
    }
    if (!a->model_dir) {
        fprintf(stderr, PROG ": --model-dir is required\n");
        return -1;
    }
    if (a->seconds < 0) a->seconds = a->gpu ? 0.5 : 0.0;
    size_t need = strlen(models) + strlen(precs) + 2;
    if (!(a->buf = malloc(need))) return -1;
    char *m = a->buf, *p = a->buf + strlen(models) + 1, *save;
    strcpy(m, models);
    strcpy(p, precs);
    for (char *t = strtok_r(m, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (a->n_models == MAX_LIST) return -1;
        a->models[a->n_models++] = t;
    }
    for (char *t = strtok_r(p, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (prec_index(t) < 0 || a->n_precisions == 4) {
            fprintf(stderr, PROG ": --precisions: '%s' is not fp32, tf32 or fp16\n", t);
            return -1;
        }
        a->precisions[a->n_precisions++] = t;
    }
    if (parse_ints(batches, a->batches, &a->n_batches, 1, 4096)) {
        fprintf(stderr, PROG ": --batches: not a list of 1..4096\n");
        return -1;
    }
    if (!u8[0]) {
        memcpy(a->u8_batches, a->batches, sizeof a->batches);
        a->n_u8 = a->n_batches;
    } else if (parse_ints(u8, a->u8_batches, &a->n_u8, 1, 4096)) {
        fprintf(stderr, PROG ": --u8-batches: not a list of 1..4096\n");
        return -1;
    }
    for (char *t = strtok_r(modes, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!strcmp(t, "device")) a->mode_device = true;
        else if (!strcmp(t, "host")) a->mode_host = true;
        else if (!strcmp(t, "u8")) a->mode_u8 = true;
        else {
            fprintf(stderr, PROG ": --modes: '%s' is not device, host or u8\n", t);
            return -1;
        }
    }
    if (!a->n_models || !a->n_precisions) return -1;
    return 0;
}

static void fill_f32(float *f, size_t n, uint64_t seed) {
    for (size_t i = 0; i < n; i++) f[i] = sn_bench_uniform(&seed);
}

static bool out_of_budget(const args *a) {
    return a->budget > 0 && sn_bench_now() - a->started > a->budget;
}

/* The engine and what a row needs to know about it. */
typedef struct group {
    const char *model, *prec;
    sn_model *m;
    sn_engine *e;
    size_t in_bytes, out_bytes; /* one sample */
    double first_result_s, build_s, rel;
    char note[128];
} group;

static group group_init(const char *model, const char *prec) {
    return (group){.model = model, .prec = prec, .first_result_s = NAN, .build_s = NAN, .rel = NAN};
}

/* The batches asked for in `mode` (*bs), and how many: 0 when the mode is off. */
static int mode_batches(const args *a, int mode, const int **bs) {
    bool on = mode == 0 ? a->mode_device : mode == 1 ? a->mode_host : a->mode_u8;
    *bs = mode == 2 ? a->u8_batches : a->batches;
    return !on ? 0 : mode == 2 ? a->n_u8 : a->n_batches;
}

/* The largest batch an engine must take: the reference batch, every mode's batches, --naive. */
static int max_batch_of(const args *a) {
    int mb = 4;
    for (int mode = 0; mode < 3; mode++) {
        const int *bs;
        int nb = mode_batches(a, mode, &bs);
        for (int i = 0; i < nb; i++) mb = bs[i] > mb ? bs[i] : mb;
    }
    if (a->naive > mb) mb = a->naive;
    return mb;
}

/* Load, build and check a (model, precision) engine. Returns 0, or -1 with err filled. */
static int group_open(ctx *c, group *g, int max_batch, int optimize, double t0, char *err,
                      size_t err_size) {
    const args *a = c->a;
    char path[4096];
    sn_error e = {0};
    snprintf(path, sizeof path, "%s/%s.sgraph", a->model_dir, g->model);
    if (sn_model_load_file(path, &g->m, &e) != SN_OK) {
        snprintf(err, err_size, "%.200s: %.280s", path, e.message);
        return -1;
    }
    sn_engine_options opt = SN_ENGINE_OPTIONS_INIT;
    opt.device = a->gpu ? SN_DEVICE_GPU : SN_DEVICE_CPU;
    opt.max_batch = max_batch;
    opt.threads = a->threads;
    opt.optimize = optimize;
    opt.precision = (sn_precision)prec_index(g->prec); /* fp32 0, tf32 1, fp16 2: as sn_precision */
    double tb = sn_bench_now();
    if (sn_engine_create(g->m, &opt, &g->e, &e) != SN_OK) {
        snprintf(err, err_size, "engine: %.480s", e.message);
        return -1;
    }
    g->build_s = sn_bench_now() - tb;
    if (sn_model_input_count(g->m) != 1 || sn_model_output_count(g->m) != 1) {
        snprintf(err, err_size, "one input and one output expected");
        return -1;
    }
    g->in_bytes = sn_engine_input_bytes(g->e, 0);
    g->out_bytes = sn_engine_output_bytes(g->e, 0);

    /* The reference: batch 4 through this engine against the CPU's fp32 outputs. */
    sn_npy in = {0}, ref = {0};
    char pin[4096], pout[4096];
    snprintf(pin, sizeof pin, "%s/ref/%s_b4_in0.npy", a->model_dir, g->model);
    snprintf(pout, sizeof pout, "%s/ref/%s_b4_out0.npy", a->model_dir, g->model);
    g->rel = NAN;
    if (sn_npy_read_file(pin, &in, &e) != SN_OK || sn_npy_read_file(pout, &ref, &e) != SN_OK) {
        snprintf(g->note, sizeof g->note, "unchecked: no reference in --model-dir/ref");
        sn_npy_free(&in);
        sn_npy_free(&ref);
        g->first_result_s = NAN;
        return 0;
    }
    int rc = -1;
    float *got = NULL;
    if (in.count * sizeof(float) != 4 * g->in_bytes || ref.count * sizeof(float) != 4 * g->out_bytes) {
        snprintf(err, err_size, "reference files do not match the model's shapes at batch 4");
        goto done;
    }
    if (!(got = malloc(4 * g->out_bytes))) {
        snprintf(err, err_size, "out of memory");
        goto done;
    }
    if (sn_engine_run(g->e, 4, (const void *const[]){in.data}, (void *const[]){got}, &e) != SN_OK) {
        snprintf(err, err_size, "reference run: %.480s", e.message);
        goto done;
    }
    g->first_result_s = sn_bench_now() - t0;
    double scale = 0, diff = 0;
    for (size_t i = 0; i < ref.count; i++) {
        scale = fmax(scale, fabs(ref.data[i]));
        double d = fabs((double)got[i] - ref.data[i]);
        diff = isnan(d) ? INFINITY : fmax(diff, d);
    }
    g->rel = diff / (scale > 0 ? scale : 1.0);
    if (!(g->rel <= TOLERANCE[prec_index(g->prec)])) {
        snprintf(err, err_size,
                 "output differs from the reference by %.3g (relative; allowed %g): not timed", g->rel,
                 TOLERANCE[prec_index(g->prec)]);
        goto done;
    }
    rc = 0;
done:
    free(got);
    sn_npy_free(&in);
    sn_npy_free(&ref);
    return rc;
}

static void group_close(group *g) {
    sn_engine_destroy(g->e);
    sn_model_destroy(g->m);
    g->e = NULL;
    g->m = NULL;
}

/* What one timed call needs. */
typedef struct call {
    ctx *c;
    group *g;
    int batch, mode; /* 0 device, 1 host, 2 u8 */
    const void *in[1];
    void *out[1];
    sn_image_u8 *images;
} call;

static int call_once(call *k, sn_error *e) {
    if (k->mode == 2) return sn_engine_run_images(k->g->e, k->batch, k->images, k->out, e) == SN_OK ? 0 : -1;
#ifdef SENTINEL_HAVE_CUDA
    if (k->mode == 0 && k->c->a->gpu) {
        if (sn_engine_run_device(k->g->e, k->batch, k->in, k->out, k->c->stream, e) != SN_OK) return -1;
        CUresult r = k->c->cu->cuStreamSynchronize(k->c->stream);
        if (r != CUDA_SUCCESS) {
            snprintf(e->message, sizeof e->message, "cuStreamSynchronize failed (%d)", (int)r);
            return -1;
        }
        return 0;
    }
#endif
    /* host mode, and device mode without a GPU (host buffers) */
    return sn_engine_run(k->g->e, k->batch, k->in, k->out, e) == SN_OK ? 0 : -1;
}

/* Warm up and time calls into r. Returns 0, or -1 with r->error set. */
static int time_calls(call *k, sn_e2e_row *r, int batch_images) {
    const args *a = k->c->a;
    sn_error e = {0};
    for (int i = 0; i < a->warmup; i++)
        if (call_once(k, &e)) goto fail;
    sn_engine_stats s0 = SN_ENGINE_STATS_INIT, s1 = SN_ENGINE_STATS_INIT;
    if (sn_engine_get_stats(k->g->e, &s0) != SN_OK) {
        snprintf(r->error, sizeof r->error, "sn_engine_get_stats failed");
        return -1;
    }
    size_t cap = 256;
    int n = 0;
    double *lat = malloc(cap * sizeof *lat), start = sn_bench_now(), total = 0;
    if (!lat) {
        snprintf(r->error, sizeof r->error, "out of memory");
        return -1;
    }
    sn_nvml_start(&k->c->nvml);
    while (n < a->iters || total < a->seconds) {
        if ((size_t)n == cap) {
            double *nl = realloc(lat, 2 * cap * sizeof *lat);
            if (!nl) {
                free(lat);
                snprintf(r->error, sizeof r->error, "out of memory");
                return -1;
            }
            lat = nl;
            cap *= 2;
        }
        double t = sn_bench_now();
        if (call_once(k, &e)) {
            double u;
            int64_t m;
            sn_nvml_stop(&k->c->nvml, &u, &m);
            free(lat);
            goto fail;
        }
        double t1 = sn_bench_now();
        lat[n++] = t1 - t;
        total = t1 - start;
    }
    sn_nvml_stop(&k->c->nvml, &r->gpu_util_pct, &r->nvml_used_bytes);
    r->runs = n;
    r->images_per_s = (double)n * batch_images / total;
    sn_bench_sort(lat, (size_t)n);
    r->p50_ms = sn_bench_percentile(lat, (size_t)n, 0.50) * 1e3;
    r->p99_ms = sn_bench_percentile(lat, (size_t)n, 0.99) * 1e3;
    free(lat);
    if (sn_engine_get_stats(k->g->e, &s1) == SN_OK && s1.runs > s0.runs) {
        double runs = (double)(s1.runs - s0.runs);
        r->h2d_per_batch = (double)(s1.uploads - s0.uploads) / runs;
        r->h2d_bytes_per_batch = (double)(s1.upload_bytes - s0.upload_bytes) / runs;
        size_t io = (k->g->in_bytes + k->g->out_bytes) * (size_t)k->batch;
        r->peak_mem_bytes = (int64_t)(s1.activation_bytes + s1.weight_bytes + s1.scratch_bytes + io);
    }
    return 0;
fail:
    snprintf(r->error, sizeof r->error, "%.500s", e.message);
    return -1;
}

/* Buffers for one call of `batch` in `mode`; freed by call_free. */
static int call_make(ctx *c, group *g, int mode, int batch, call *k, char *err, size_t err_size) {
    memset(k, 0, sizeof *k);
    k->c = c;
    k->g = g;
    k->mode = mode;
    k->batch = batch;
    size_t in_b = g->in_bytes * (size_t)batch, out_b = g->out_bytes * (size_t)batch;
    float *host_in = NULL;
#ifdef SENTINEL_HAVE_CUDA
    if (mode == 0 && c->a->gpu) {
        CUdeviceptr din = 0, dout = 0;
        if (!(host_in = malloc(in_b)) || c->cu->cuMemAlloc(&din, in_b) != CUDA_SUCCESS ||
            c->cu->cuMemAlloc(&dout, out_b) != CUDA_SUCCESS) {
            if (din) c->cu->cuMemFree(din);
            free(host_in);
            snprintf(err, err_size, "device buffers of %zu + %zu bytes: allocation failed", in_b, out_b);
            return -1;
        }
        fill_f32(host_in, in_b / sizeof(float), 0x5eed + (uint64_t)batch);
        CUresult r = c->cu->cuMemcpyHtoD(din, host_in, in_b);
        /* the DMA from pageable memory may still be landing; the engine's stream does not wait */
        if (r == CUDA_SUCCESS) r = c->cu->cuStreamSynchronize(NULL);
        free(host_in);
        k->in[0] = (const void *)(uintptr_t)din;
        k->out[0] = (void *)(uintptr_t)dout;
        if (r != CUDA_SUCCESS) {
            snprintf(err, err_size, "cuMemcpyHtoD failed (%d)", (int)r);
            return -1;
        }
        return 0;
    }
#endif
    if (mode == 2) {
        size_t img = (size_t)U8_SIDE * U8_SIDE * 3, total = img * (size_t)batch;
        unsigned char *px = NULL;
#ifdef SENTINEL_HAVE_CUDA
        if (c->a->gpu && c->cu->cuMemHostAlloc((void **)&px, total, 0) != CUDA_SUCCESS) px = NULL;
#endif
        if (!c->a->gpu) px = malloc(total);
        k->in[0] = px; /* call_free releases it, whatever fails next */
        k->images = calloc((size_t)batch, sizeof *k->images);
        if (!px || !k->images || !(k->out[0] = malloc(out_b))) {
            snprintf(err, err_size, "out of (pinned) memory for %d images", batch);
            return -1;
        }
        uint64_t s = 0x1a6e5 + (uint64_t)batch;
        for (size_t i = 0; i < total; i++) px[i] = (unsigned char)sn_bench_rng_next(&s);
        for (int i = 0; i < batch; i++)
            k->images[i] = (sn_image_u8){U8_SIDE, U8_SIDE, 0, px + img * (size_t)i};
        return 0;
    }
    if (!(host_in = malloc(in_b)) || !(k->out[0] = malloc(out_b))) {
        free(host_in);
        snprintf(err, err_size, "out of memory for batch %d", batch);
        return -1;
    }
    fill_f32(host_in, in_b / sizeof(float), 0x5eed + (uint64_t)batch);
    k->in[0] = host_in;
    return 0;
}

static void call_free(call *k) {
#ifdef SENTINEL_HAVE_CUDA
    if (k->mode == 0 && k->c->a->gpu) {
        if (k->in[0]) k->c->cu->cuMemFree((CUdeviceptr)(uintptr_t)k->in[0]);
        if (k->out[0]) k->c->cu->cuMemFree((CUdeviceptr)(uintptr_t)k->out[0]);
        return;
    }
    if (k->mode == 2 && k->c->a->gpu) {
        if (k->in[0]) k->c->cu->cuMemFreeHost((void *)k->in[0]);
        free(k->images);
        free(k->out[0]);
        return;
    }
#endif
    free((void *)k->in[0]);
    free(k->images);
    free(k->out[0]);
}

static const char *mode_name[] = {"device", "host", "u8"};

static void row_base(ctx *c, group *g, sn_e2e_row *r, const char *system, int mode, int batch) {
    sn_e2e_row_init(r, system, g->model, g->prec, mode_name[mode], batch);
    r->device = c->device_name;
    r->version = c->version;
    r->first_result_s = g->first_result_s;
    r->build_s = g->build_s;
    r->max_rel_diff = g->rel;
    snprintf(r->note, sizeof r->note, "%s", g->note);
}

/* A row per mode and batch of a group that is not timed: `why` goes to the error, or, when
 * `skipped`, to the note. */
static void emit_untimed(ctx *c, group *g, const char *system, const char *why, bool skipped) {
    const args *a = c->a;
    for (int mode = 0; mode < 3; mode++) {
        const int *bs;
        int nb = mode_batches(a, mode, &bs);
        for (int i = 0; i < nb; i++) {
            sn_e2e_row r;
            row_base(c, g, &r, system, mode, bs[i]);
            if (skipped) snprintf(r.note, sizeof r.note, "%s", why);
            else snprintf(r.error, sizeof r.error, "%s", why);
            sn_e2e_row_write(&r, stdout, c->out);
        }
    }
}

/* Every mode and batch of one (model, precision). */
static void run_group(ctx *c, const char *model, const char *prec) {
    const args *a = c->a;
    group g = group_init(model, prec);
    char err[512] = "";
    if (out_of_budget(a)) {
        emit_untimed(c, &g, "sentinel", "skipped: out of time budget", true);
        return;
    }
    if (group_open(c, &g, max_batch_of(a), 1, sn_bench_now(), err, sizeof err)) {
        emit_untimed(c, &g, "sentinel", err, false);
        group_close(&g);
        return;
    }
    for (int mode = 0; mode < 3; mode++) {
        const int *bs;
        int nb = mode_batches(a, mode, &bs);
        for (int i = 0; i < nb; i++) {
            sn_e2e_row r;
            row_base(c, &g, &r, "sentinel", mode, bs[i]);
            if (mode == 0 && !a->gpu)
                snprintf(r.note + strlen(r.note), sizeof r.note - strlen(r.note), "%scpu: host buffers",
                         r.note[0] ? "; " : "");
            call k;
            if (out_of_budget(a)) {
                snprintf(r.note, sizeof r.note, "skipped: out of time budget");
            } else if (call_make(c, &g, mode, bs[i], &k, r.error, sizeof r.error) == 0) {
                time_calls(&k, &r, bs[i]);
                call_free(&k);
            } else {
                call_free(&k);
            }
            sn_e2e_row_write(&r, stdout, c->out);
        }
    }
    group_close(&g);
}

/* Entries in $SENTINEL_CACHE_DIR/kernels (-1 when it cannot be read), to label a cold start. */
static int cache_entries(void) {
    const char *d = getenv("SENTINEL_CACHE_DIR");
    if (!d) return -1;
    char path[4096];
    snprintf(path, sizeof path, "%s/kernels", d);
    DIR *dir = opendir(path);
    if (!dir) return 0;
    int n = 0;
    for (struct dirent *de; (de = readdir(dir));)
        if (de->d_name[0] != '.') n++;
    closedir(dir);
    return n;
}

static void run_cold_start(ctx *c, const char *model, const char *prec) {
    int entries = cache_entries();
    group g = group_init(model, prec);
    sn_e2e_row r;
    char err[512] = "";
    int rc = group_open(c, &g, 4, 1, c->a->started, err, sizeof err);
#ifdef SENTINEL_HAVE_CUDA
    const sn_cuda_driver *cu = c->a->gpu ? sn_cuda_driver_get(NULL) : NULL; /* after the timing */
    CUdevice dev;
    if (cu && cu->cuDeviceGet(&dev, 0) == CUDA_SUCCESS)
        cu->cuDeviceGetName(c->device_name, sizeof c->device_name, dev);
#endif
    row_base(c, &g, &r, "sentinel", 0, 4);
    r.mode = "cold-start";
    if (rc) snprintf(r.error, sizeof r.error, "%s", err);
    if (!c->a->gpu)
        snprintf(r.note, sizeof r.note,
                 "time from process start to the reference batch's result; CPU: no kernel cache");
    else if (entries < 0)
        snprintf(r.note, sizeof r.note, "time from process start to the reference batch's result; "
                                        "kernel cache in its default folder (state unknown)");
    else
        snprintf(r.note, sizeof r.note,
                 "time from process start to the reference batch's result; kernel cache %s (%d "
                 "entries before the start)",
                 entries == 0 ? "empty" : "warm", entries);
    sn_e2e_row_write(&r, stdout, c->out);
    group_close(&g);
}

/* N images one call at a time, unfused, against one batch of N, fused. */
static void run_naive(ctx *c, const char *model, const char *prec) {
    const args *a = c->a;
    int n = a->naive;
    for (int fused = 0; fused < 2; fused++) {
        group g = group_init(model, prec);
        char err[512] = "";
        sn_e2e_row r;
        int batch = fused ? n : 1;
        const char *system = fused ? "sentinel-batched" : "sentinel-naive";
        if (group_open(c, &g, fused ? (n > 4 ? n : 4) : 4, fused, sn_bench_now(), err, sizeof err)) {
            emit_untimed(c, &g, system, err, false);
            group_close(&g);
            continue;
        }
        row_base(c, &g, &r, system, 1, batch);
        snprintf(r.note, sizeof r.note, "%s",
                 fused ? "the same images as one batch, optimised graph (fused)"
                       : "one image per call, graph as loaded (no fusion)");
        call k;
        /* images/s is per image either way: the naive loop over N images is N of its calls */
        if (call_make(c, &g, 1, batch, &k, r.error, sizeof r.error) == 0) time_calls(&k, &r, batch);
        call_free(&k);
        sn_e2e_row_write(&r, stdout, c->out);
        group_close(&g);
    }
}

int main(int argc, char **argv) {
    args a = {0};
    a.started = sn_bench_now();
    if (parse_args(argc, argv, &a)) {
        usage(stderr);
        free(a.buf);
        return 2;
    }
    ctx c = {.a = &a};
    snprintf(c.version, sizeof c.version, "sentinel %s", sn_version_string());
    snprintf(c.device_name, sizeof c.device_name, "%s", a.gpu ? "GPU" : "cpu");
    if (a.out_path && !(c.out = fopen(a.out_path, "a"))) {
        fprintf(stderr, PROG ": cannot open %s: %s\n", a.out_path, strerror(errno));
        free(a.buf);
        return 2;
    }
    if (a.gpu) sn_nvml_open(&c.nvml, 0);
    int rc = 0;
#ifdef SENTINEL_HAVE_CUDA
    /* Not for a cold start: CUDA's own start-up belongs inside the time measured. */
    if (a.gpu && !a.cold_start) {
        sn_error e = {0};
        if (!(c.cu = sn_cuda_driver_get(&e)) || c.cu->cuDeviceGet(&c.dev, 0) != CUDA_SUCCESS ||
            c.cu->cuDevicePrimaryCtxRetain(&c.cuctx, c.dev) != CUDA_SUCCESS) {
            fprintf(stderr, PROG ": no GPU: %s\n", e.message[0] ? e.message : "cuDeviceGet failed");
            rc = 1;
            goto done;
        }
        c.cu->cuCtxPushCurrent(c.cuctx);
        c.cu->cuDeviceGetName(c.device_name, sizeof c.device_name, c.dev);
        if (c.cu->cuStreamCreate(&c.stream, CU_STREAM_NON_BLOCKING) != CUDA_SUCCESS) {
            fprintf(stderr, PROG ": cuStreamCreate failed\n");
            rc = 1;
            goto done;
        }
    }
#else
    if (a.gpu && a.mode_device)
        fprintf(stderr, PROG ": built without the CUDA toolkit: device mode runs on host buffers\n");
#endif
    /* Headline first (resnet50 fp16), as the peers order theirs, so a budget cuts the least. */
    static const char *order[] = {"resnet50", "mobilenetv2", "seed-cnn"};
    static const char *porder[] = {"fp16", "fp32", "tf32"};
    for (int pass = 0; pass < 4; pass++)
        for (int i = 0; i < a.n_models; i++) {
            bool known = false;
            for (int o = 0; o < 3; o++) known |= !strcmp(a.models[i], order[o]);
            if (pass < 3 ? strcmp(a.models[i], order[pass]) : known) continue;
            for (int pp = 0; pp < 3; pp++)
                for (int j = 0; j < a.n_precisions; j++) {
                    if (strcmp(a.precisions[j], porder[pp])) continue;
                    if (!a.gpu && strcmp(a.precisions[j], "fp32")) {
                        group g = group_init(a.models[i], a.precisions[j]);
                        emit_untimed(&c, &g, "sentinel", "skipped: the CPU smoke run is fp32 only", true);
                        continue;
                    }
                    if (a.cold_start) run_cold_start(&c, a.models[i], a.precisions[j]);
                    else if (a.naive) run_naive(&c, a.models[i], a.precisions[j]);
                    else run_group(&c, a.models[i], a.precisions[j]);
                }
        }
#ifdef SENTINEL_HAVE_CUDA
done:
    if (c.stream) c.cu->cuStreamDestroy(c.stream);
    if (c.cuctx) {
        CUcontext popped;
        c.cu->cuCtxPopCurrent(&popped);
        c.cu->cuDevicePrimaryCtxRelease(c.dev);
    }
#endif
    if (a.gpu) sn_nvml_close(&c.nvml);
    if (c.out) fclose(c.out);
    free(a.buf);
    return rc;
}
