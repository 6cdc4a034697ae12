/*
 * e2e_row.c - see e2e_row.h.
 */
#include "e2e_row.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void sn_e2e_row_init(sn_e2e_row *r, const char *system, const char *model, const char *precision,
                     const char *mode, int batch) {
    memset(r, 0, sizeof *r);
    r->system = system;
    r->model = model;
    r->precision = precision;
    r->mode = mode;
    r->batch = batch;
    r->images_per_s = r->p50_ms = r->p99_ms = NAN;
    r->runs = -1;
    r->first_result_s = r->compile_s = r->gpu_util_pct = r->h2d_per_batch = NAN;
    r->max_rel_diff = r->h2d_bytes_per_batch = r->build_s = NAN;
    r->peak_mem_bytes = r->nvml_used_bytes = -1;
}

static void json_str(FILE *f, const char *s) {
    if (!s) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void json_num(FILE *f, double v) {
    if (isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fputs("null", f);
}

static void json_int(FILE *f, int64_t v) {
    if (v >= 0)
        fprintf(f, "%lld", (long long)v);
    else
        fputs("null", f);
}

static void write_one(const sn_e2e_row *r, FILE *f) {
    fputs("{\"system\": ", f);
    json_str(f, r->system);
    fputs(", \"model\": ", f);
    json_str(f, r->model);
    fputs(", \"precision\": ", f);
    json_str(f, r->precision);
    fprintf(f, ", \"batch\": %d, \"mode\": ", r->batch);
    json_str(f, r->mode);
    const struct {
        const char *name;
        double v;
    } nums[] = {{"images_per_s", r->images_per_s}, {"p50_ms", r->p50_ms}, {"p99_ms", r->p99_ms}};
    for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
        fprintf(f, ", \"%s\": ", nums[i].name);
        json_num(f, nums[i].v);
    }
    fputs(", \"runs\": ", f);
    json_int(f, r->runs);
    fputs(", \"first_result_s\": ", f);
    json_num(f, r->first_result_s);
    fputs(", \"compile_s\": ", f);
    json_num(f, r->compile_s);
    fputs(", \"peak_mem_bytes\": ", f);
    json_int(f, r->peak_mem_bytes);
    fputs(", \"nvml_used_bytes\": ", f);
    json_int(f, r->nvml_used_bytes);
    fputs(", \"gpu_util_pct\": ", f);
    json_num(f, r->gpu_util_pct >= 0 ? r->gpu_util_pct : NAN);
    fputs(", \"h2d_per_batch\": ", f);
    json_num(f, r->h2d_per_batch);
    fputs(", \"max_rel_diff\": ", f);
    json_num(f, r->max_rel_diff);
    fputs(", \"device\": ", f);
    json_str(f, r->device);
    fputs(", \"version\": ", f);
    json_str(f, r->version);
    fputs(", \"provider\": ", f);
    json_str(f, r->provider);
    fputs(", \"note\": ", f);
    json_str(f, r->note[0] ? r->note : NULL);
    fputs(", \"error\": ", f);
    json_str(f, r->error[0] ? r->error : NULL);
    fputs(", \"h2d_bytes_per_batch\": ", f);
    json_num(f, r->h2d_bytes_per_batch);
    fputs(", \"build_s\": ", f);
    json_num(f, r->build_s);
    fputs("}\n", f);
}

void sn_e2e_row_write(const sn_e2e_row *r, FILE *f, FILE *out) {
    write_one(r, f);
    fflush(f);
    if (out) {
        write_one(r, out);
        fflush(out);
    }
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double sn_e2e_percentile(double *v, int n, double p) {
    if (n <= 0) return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    int k = (int)ceil(p * n) - 1;
    return v[k < 0 ? 0 : (k >= n ? n - 1 : k)];
}

double sn_e2e_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
