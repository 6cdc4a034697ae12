/*
 * e2e_row.c - see e2e_row.h.
 */
#include "e2e_row.h"

#include <math.h>
#include <string.h>

#include "bench_common.h"

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
    sn_bench_json_string(f, r->system);
    fputs(", \"model\": ", f);
    sn_bench_json_string(f, r->model);
    fputs(", \"precision\": ", f);
    sn_bench_json_string(f, r->precision);
    fprintf(f, ", \"batch\": %d, \"mode\": ", r->batch);
    sn_bench_json_string(f, r->mode);
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
    sn_bench_json_string(f, r->device);
    fputs(", \"version\": ", f);
    sn_bench_json_string(f, r->version);
    fputs(", \"provider\": ", f);
    sn_bench_json_string(f, r->provider);
    fputs(", \"note\": ", f);
    sn_bench_json_string(f, r->note[0] ? r->note : NULL);
    fputs(", \"error\": ", f);
    sn_bench_json_string(f, r->error[0] ? r->error : NULL);
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
