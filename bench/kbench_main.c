/*
 * kbench_main.c - `sentinel-bench kernels`: options, the measuring loop under a time budget,
 * the table and the JSON (kbench.h says what is measured and how).
 *
 *   sentinel-bench kernels [--models LIST] [--precisions fp16,fp32,tf32] [--batches 256,32,1]
 *                          [--samples N] [--budget S] [--no-vendor] [--threads N] [--json FILE]
 *
 * Per row: the median time of one launch, the GB/s and TFLOP/s it achieves, and the percent of
 * the roofline measured in the same run - max(bytes / copy bandwidth, FLOPs / the precision's
 * cuBLAS GEMM rate) over the measured time - with which bound applies, and the time of the same
 * layer through cuDNN (conv) or cuBLAS (dense) when those libraries are there. Rows go in
 * headline order (fp16 first, the engine's own conv variants before the alternatives, larger
 * batches first) so a budget that runs out cuts the least useful ones; the run says how many.
 * Exit status: 0, 1 when there is no GPU or nothing could be measured, 2 for a usage error.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_common.h"
#include "kbench.h"

#define SN__KB_MAX 16

typedef struct sn__kb_args {
    const char *models[SN__KB_MAX];
    int n_models;
    sn_gpu_precision precs[4];
    int n_precs;
    int batches[SN__KB_MAX], n_batches;
    int samples, threads;
    double budget;
    bool vendor;
    const char *json;
    char buf[1024];
} sn__kb_args;

typedef struct sn__kb_row {
    char name[192];
    const char *family, *model;
    int layers, batch;
    bool engine_choice;
    sn_gpu_precision precision;
    double us, bytes, flops, gbps, tflops, pct, vendor_us;
    const char *bound;
    char vendor_note[160];
} sn__kb_row;

static void sn__kb_usage(FILE *f) {
    fprintf(f, "usage: sentinel-bench kernels [--models LIST] [--precisions LIST] [--batches LIST]\n"
               "                              [--samples N] [--budget S] [--no-vendor] [--threads N]\n"
               "                              [--json FILE]\n"
               "  --models LIST      zoo models (default seed-cnn,resnet50,mobilenetv2)\n"
               "  --precisions LIST  fp16, fp32, tf32, bf16 (default fp16,fp32,tf32)\n"
               "  --batches LIST     batch sizes (default 256,32,1)\n"
               "  --samples N        timed CUDA-graph replays per row, median taken (default 15)\n"
               "  --budget S         stop starting rows after S seconds (default 0: no limit)\n"
               "  --no-vendor        skip the cuDNN / cuBLAS comparison\n"
               "  --threads N        NVRTC compile threads (default: the CPU count, at most 16)\n"
               "  --json FILE        also write every row, the roofline and the notes as JSON\n");
}

static int sn__kb_parse(int argc, char **argv, sn__kb_args *a) {
    const char *models = "seed-cnn,resnet50,mobilenetv2", *precs = "fp16,fp32,tf32", *batches = "256,32,1";
    a->samples = 15;
    a->vendor = true;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    a->threads = ncpu < 1 ? 1 : ncpu > 16 ? 16 : (int)ncpu;
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            sn__kb_usage(stdout);
            exit(0);
        }
        if (!strcmp(o, "--no-vendor")) {
            a->vendor = false;
            continue;
        }
        if (!v) {
            fprintf(stderr, "sentinel-bench kernels: %s needs a value (or is unknown)\n", o);
            return -1;
        }
        i++;
        char *end;
        errno = 0;
        if (!strcmp(o, "--models")) models = v;
        else if (!strcmp(o, "--precisions")) precs = v;
        else if (!strcmp(o, "--batches")) batches = v;
        else if (!strcmp(o, "--json")) a->json = v;
        else if (!strcmp(o, "--samples") || !strcmp(o, "--threads")) {
            long x = strtol(v, &end, 10);
            if (errno || *end || end == v || x < 1 || x > 1000) {
                fprintf(stderr, "sentinel-bench kernels: %s: '%s' is not 1..1000\n", o, v);
                return -1;
            }
            *(!strcmp(o, "--samples") ? &a->samples : &a->threads) = (int)x;
        } else if (!strcmp(o, "--budget")) {
            a->budget = strtod(v, &end);
            if (errno || *end || end == v || !(a->budget >= 0 && a->budget <= 86400)) {
                fprintf(stderr, "sentinel-bench kernels: --budget: '%s' is not 0..86400\n", v);
                return -1;
            }
        } else {
            fprintf(stderr, "sentinel-bench kernels: unknown option '%s'\n", o);
            return -1;
        }
    }
    if (snprintf(a->buf, sizeof a->buf, "%s", models) >= (int)sizeof a->buf) return -1;
    char *save;
    for (char *t = strtok_r(a->buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (a->n_models == SN__KB_MAX) return -1;
        a->models[a->n_models++] = t;
    }
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s", precs);
    for (char *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int p = !strcmp(t, "fp32") ? SN_GPU_FP32 : !strcmp(t, "tf32") ? SN_GPU_TF32
                : !strcmp(t, "fp16") ? SN_GPU_FP16 : !strcmp(t, "bf16") ? SN_GPU_BF16 : -1;
        if (p < 0 || a->n_precs == 4) {
            fprintf(stderr, "sentinel-bench kernels: --precisions: '%s' is not fp32, tf32, fp16 or bf16\n", t);
            return -1;
        }
        a->precs[a->n_precs++] = (sn_gpu_precision)p;
    }
    snprintf(tmp, sizeof tmp, "%s", batches);
    for (char *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *end;
        long x = strtol(t, &end, 10);
        if (*end || end == t || x < 1 || x > 4096 || a->n_batches == SN__KB_MAX) {
            fprintf(stderr, "sentinel-bench kernels: --batches: '%s' is not a list of 1..4096\n", batches);
            return -1;
        }
        a->batches[a->n_batches++] = (int)x;
    }
    return a->n_models && a->n_precs && a->n_batches ? 0 : -1;
}

static void sn__json_num(FILE *f, double v) {
    if (isfinite(v)) fprintf(f, "%.6g", v);
    else fputs("null", f);
}

static int sn__write_json(const char *path, const sn_kb_device *d, double copy_gbps, const double *peak,
                          const sn__kb_row *rows, int n, const char *notes, int skipped) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "sentinel-bench kernels: cannot create %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    fputs("{\n  \"tool\": \"sentinel-bench kernels\",\n  \"gpu\": ", f);
    sn_bench_json_string(f, d->name);
    fprintf(f, ",\n  \"arch\": %d,\n  \"sms\": %d,\n  \"l2_bytes\": %zu,\n  \"roofline\": {\"copy\": ", d->arch,
            d->sms, d->l2_bytes);
    sn__json_num(f, copy_gbps);
    for (int p = 0; p < 4; p++) {
        fprintf(f, ", \"gemm_%s\": ", sn_gpu_precision_name((sn_gpu_precision)p));
        sn__json_num(f, peak[p]);
    }
    fprintf(f, "},\n  \"rows_skipped_for_budget\": %d,\n  \"notes\": [", skipped);
    int k = 0;
    const char *s = notes;
    while (s && *s) {
        const char *e = strstr(s, "; ");
        size_t len = e ? (size_t)(e - s) : strlen(s);
        char one[512];
        snprintf(one, sizeof one, "%.*s", (int)(len < 511 ? len : 511), s);
        if (len) {
            fputs(k++ ? ", " : "", f);
            sn_bench_json_string(f, one);
        }
        s = e ? e + 2 : s + len;
    }
    fputs("],\n  \"rows\": [", f);
    for (int i = 0; i < n; i++) {
        const sn__kb_row *r = &rows[i];
        fputs(i ? ",\n    {\"name\": " : "\n    {\"name\": ", f);
        sn_bench_json_string(f, r->name);
        fputs(", \"family\": ", f);
        sn_bench_json_string(f, r->family);
        fputs(", \"model\": ", f);
        sn_bench_json_string(f, r->model);
        fprintf(f, ", \"precision\": \"%s\", \"batch\": %d, \"layers\": %d, \"engine_choice\": %s, \"time_us\": ",
                sn_gpu_precision_name(r->precision), r->batch, r->layers, r->engine_choice ? "true" : "false");
        sn__json_num(f, r->us);
        fputs(", \"bytes\": ", f);
        sn__json_num(f, r->bytes);
        fputs(", \"flops\": ", f);
        sn__json_num(f, r->flops);
        fputs(", \"gbps\": ", f);
        sn__json_num(f, r->gbps);
        fputs(", \"tflops\": ", f);
        sn__json_num(f, r->tflops);
        fputs(", \"pct_roofline\": ", f);
        sn__json_num(f, r->pct);
        fputs(", \"bound\": ", f);
        sn_bench_json_string(f, r->bound);
        fputs(", \"vendor_us\": ", f);
        sn__json_num(f, r->vendor_us);
        fputs(", \"vendor_note\": ", f);
        sn_bench_json_string(f, r->vendor_note);
        fputs("}", f);
    }
    fputs("\n  ]\n}\n", f);
    int bad = ferror(f) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        fprintf(stderr, "sentinel-bench kernels: writing %s failed\n", path);
        remove(tmp);
        return -1;
    }
    return 0;
}

static int sn__cmp_pct(const void *a, const void *b) {
    double x = ((const sn__kb_row *)a)->pct, y = ((const sn__kb_row *)b)->pct;
    if (!isfinite(x)) return 1;
    if (!isfinite(y)) return -1;
    return (x > y) - (x < y);
}

static void sn__print_row(const sn__kb_row *r) {
    char vend[48] = "-";
    if (r->vendor_us > 0) snprintf(vend, sizeof vend, "%9.1f %5.2fx", r->vendor_us, r->vendor_us / r->us);
    printf("%-52.52s %-22.22s %-4s %5d %3d%c %9.1f %8.0f %8.2f %5.0f%% %-7s %s\n", r->name, r->family,
           sn_gpu_precision_name(r->precision), r->batch, r->layers, r->engine_choice ? ' ' : '*', r->us,
           r->gbps, r->tflops, r->pct, r->bound, vend);
    fflush(stdout);
}

int sn_kbench_main(int argc, char **argv) {
    sn__kb_args a = {0};
    if (sn__kb_parse(argc, argv, &a)) {
        sn__kb_usage(stderr);
        return 2;
    }
    const double t0 = sn_bench_now();
    sn_kb_device d;
    sn_error err = {0};
    if (sn_kb_device_open(&d, &err) != SN_OK) {
        fprintf(stderr, "sentinel-bench kernels: no GPU to measure on: %s\n", err.message);
        return 1;
    }
    char notes[2048] = "";
    sn_kb_vendor_libs *v = sn_kb_vendor_open(&d, notes, sizeof notes);
    double copy = NAN, peak[4] = {NAN, NAN, NAN, NAN};
    if (sn_kb_copy_bandwidth(&d, &copy, &err) != SN_OK) {
        fprintf(stderr, "sentinel-bench kernels: copy bandwidth: %s\n", err.message);
        sn_kb_vendor_close(v);
        sn_kb_device_close(&d);
        return 1;
    }
    printf("sentinel-bench kernels: %s (sm_%d, %d SMs, L2 %zu MiB)\n", d.name, d.arch, d.sms, d.l2_bytes >> 20);
    printf("roofline: device-to-device copy %.0f GB/s (read + write)", copy);
    for (int i = 0; i < a.n_precs; i++) {
        sn_error ge = {0};
        double tf = sn_kb_vendor_gemm_peak(v, a.precs[i], &ge);
        peak[a.precs[i]] = tf > 0 ? tf : NAN;
        if (tf > 0) printf("; cuBLAS GEMM 8192^3 %s %.1f TFLOP/s", sn_gpu_precision_name(a.precs[i]), tf);
        else if (ge.message[0] && !strstr(notes, ge.message)) {
            size_t len = strlen(notes);
            snprintf(notes + len, sizeof notes - len, "GEMM %s: %.200s; ", sn_gpu_precision_name(a.precs[i]),
                     ge.message);
        }
    }
    printf("\n");
    if (notes[0]) printf("notes: %s\n", notes);
    int max_batch = 1;
    for (int i = 0; i < a.n_batches; i++) max_batch = a.batches[i] > max_batch ? a.batches[i] : max_batch;

    sn__kb_row *rows = NULL;
    int n_rows = 0, cap_rows = 0, skipped = 0, failed = 0, rc = 0;
    printf("%-52s %-22s %-4s %5s %4s %9s %8s %8s %6s %-7s %s\n", "kernel (* = not the engine's variant)",
           "family", "prec", "batch", "lay", "us", "GB/s", "TFLOP/s", "roof", "bound", "cuDNN/cuBLAS us, ratio");
    for (int pi = 0; pi < a.n_precs; pi++) {
        sn_gpu_precision p = a.precs[pi];
        sn_kb_cases cs = {0};
        if (sn_kb_cases_add_models(&cs, a.models, a.n_models, p, max_batch, &err) != SN_OK ||
            sn_kb_compile(&d, &cs, a.threads, &err) != SN_OK) {
            fprintf(stderr, "sentinel-bench kernels: %s: %s\n", sn_gpu_precision_name(p), err.message);
            sn_kb_cases_free(&cs);
            rc = 1;
            continue;
        }
        /* the engine's own kernels first, alternative conv variants after */
        for (int pass = 0; pass < 2; pass++)
            for (int ci = 0; ci < cs.n; ci++) {
                const sn_kb_case *c = &cs.v[ci];
                if (c->engine_choice != (pass == 0)) continue;
                for (int bi = 0; bi < a.n_batches; bi++) {
                    if (a.budget > 0 && sn_bench_now() - t0 > a.budget) {
                        skipped++;
                        continue;
                    }
                    sn__kb_row r = {.family = c->family, .model = c->model, .layers = c->layers,
                                    .batch = a.batches[bi], .engine_choice = c->engine_choice,
                                    .precision = p, .vendor_us = NAN, .bound = "memory"};
                    snprintf(r.name, sizeof r.name, "%s", c->name);
                    sn_error e = {0};
                    if (sn_kb_time_case(&d, c, r.batch, a.samples, &r.us, &r.bytes, &e) != SN_OK) {
                        fprintf(stderr, "sentinel-bench kernels: %s\n", e.message);
                        failed++;
                        continue;
                    }
                    r.flops = c->flops_per_image * r.batch;
                    r.gbps = r.bytes / (r.us * 1e-6) / 1e9;
                    r.tflops = r.flops / (r.us * 1e-6) / 1e12;
                    double t_mem = r.bytes / (copy * 1e9), t_math = isfinite(peak[p]) ? r.flops / (peak[p] * 1e12) : 0;
                    r.bound = t_math > t_mem ? "compute" : "memory";
                    r.pct = 100.0 * (t_math > t_mem ? t_math : t_mem) / (r.us * 1e-6);
                    if (a.vendor && c->vendor != SN_KB_VENDOR_NONE) {
                        sn_error ve = {0};
                        double vu = sn_kb_vendor_time(v, c, r.batch, &ve);
                        if (vu > 0) r.vendor_us = vu;
                        else snprintf(r.vendor_note, sizeof r.vendor_note, "%.150s", ve.message);
                    }
                    if (n_rows == cap_rows) {
                        cap_rows = cap_rows ? 2 * cap_rows : 256;
                        sn__kb_row *nr = realloc(rows, (size_t)cap_rows * sizeof *nr);
                        if (!nr) {
                            fprintf(stderr, "sentinel-bench kernels: out of memory\n");
                            sn_kb_cases_free(&cs);
                            rc = 1;
                            goto out;
                        }
                        rows = nr;
                    }
                    rows[n_rows++] = r;
                    sn__print_row(&r);
                }
            }
        sn_kb_cases_free(&cs);
    }
out:
    if (skipped) {
        size_t len = strlen(notes);
        snprintf(notes + len, sizeof notes - len, "%d rows not measured: the %.0f s budget ran out; ", skipped,
                 a.budget);
    }
    if (failed) {
        size_t len = strlen(notes);
        snprintf(notes + len, sizeof notes - len, "%d rows failed (messages on stderr); ", failed);
    }
    if (n_rows) {
        sn__kb_row *sorted = malloc((size_t)n_rows * sizeof *sorted);
        if (sorted) {
            memcpy(sorted, rows, (size_t)n_rows * sizeof *sorted);
            qsort(sorted, (size_t)n_rows, sizeof *sorted, sn__cmp_pct);
            printf("\nslowest by percent of roofline:\n");
            for (int i = 0; i < n_rows && i < 15; i++) sn__print_row(&sorted[i]);
            free(sorted);
        }
    }
    if (notes[0]) printf("notes: %s\n", notes);
    printf("%d rows in %.1f s\n", n_rows, sn_bench_now() - t0);
    if (a.json && sn__write_json(a.json, &d, copy, peak, rows, n_rows, notes, skipped)) rc = 1;
    if (!n_rows) rc = 1;
    free(rows);
    sn_kb_vendor_close(v);
    sn_kb_device_close(&d);
    return rc;
}
