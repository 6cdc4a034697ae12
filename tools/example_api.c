/*
 * example_api.c - a complete program written against include/sentinel.h alone: load a .sgraph
 * model, describe its inputs and outputs, run one batch of random input and print the top 5
 * classes of output 0 for each sample, with labels when the model has them.
 *
 *   example_api MODEL.sgraph [BATCH]
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sentinel.h"

#define MAX_BATCH 1024

static void print_info(const char *kind, int index, const sn_tensor_info *t) {
    printf("  %s %d: %-16s %-4s [", kind, index, t->name, sn_dtype_name(t->dtype));
    for (int d = 0; d < t->rank; d++) {
        if (t->dims[d] == SN_DIM_BATCH)
            printf("%sN", d ? "," : "");
        else
            printf("%s%lld", d ? "," : "", (long long)t->dims[d]);
    }
    printf("]\n");
}

/* Uniform in [-1, 1) from a fixed-seed xorshift, so runs are repeatable. */
static float next_random(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (float)((double)(*s >> 11) * (2.0 / 9007199254740992.0) - 1.0);
}

static void print_top5(const sn_model *m, const float *scores, size_t n) {
    int best[5];
    int k = n < 5 ? (int)n : 5;
    for (int j = 0; j < k; j++) {
        best[j] = -1;
        for (size_t i = 0; i < n; i++) {
            int taken = 0;
            for (int q = 0; q < j; q++) taken |= best[q] == (int)i;
            if (!taken && (best[j] < 0 || scores[i] > scores[best[j]])) best[j] = (int)i;
        }
        const char *label = sn_model_label(m, best[j]);
        printf("    %d. class %-5d %-24s %10.5f\n", j + 1, best[j], label ? label : "",
               scores[best[j]]);
    }
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s MODEL.sgraph [BATCH]  (BATCH 1..%d, default 1)\n", argv[0],
                MAX_BATCH);
        return 2;
    }
    long batch = 1;
    if (argc == 3) {
        char *end;
        errno = 0;
        batch = strtol(argv[2], &end, 10);
        if (errno || end == argv[2] || *end || batch < 1 || batch > MAX_BATCH) {
            fprintf(stderr, "error: BATCH must be an integer in 1..%d, not '%s'\n", MAX_BATCH,
                    argv[2]);
            return 2;
        }
    }

    int rc = 1;
    sn_error err = {0};
    sn_model *model = NULL;
    sn_engine *engine = NULL;
    void **inputs = NULL, **outputs = NULL;
    int n_in = 0, n_out = 0;

    if (sn_model_load_file(argv[1], &model, &err) != SN_OK) {
        fprintf(stderr, "error: %s\n", err.message);
        goto done;
    }
    n_in = sn_model_input_count(model);
    n_out = sn_model_output_count(model);
    printf("model %s (Sentinel %s)\n", argv[1], sn_version_string());
    sn_tensor_info info;
    for (int i = 0; i < n_in; i++)
        if (sn_model_input_info(model, i, &info) == SN_OK) print_info("input ", i, &info);
    for (int i = 0; i < n_out; i++)
        if (sn_model_output_info(model, i, &info) == SN_OK) print_info("output", i, &info);

    sn_engine_options opt = SN_ENGINE_OPTIONS_INIT; /* AUTO device, all cores */
    opt.max_batch = (int)batch;
    if (sn_engine_create(model, &opt, &engine, &err) != SN_OK) {
        fprintf(stderr, "error: %s\n", err.message);
        goto done;
    }
    const char *why = sn_engine_fallback_reason(engine);
    printf("device: %s%s%s%s\n", sn_engine_device(engine) == SN_DEVICE_GPU ? "GPU" : "CPU",
           why ? " (fallback: " : "", why ? why : "", why ? ")" : "");

    /* Buffers hold `batch` samples of each input and output (see docs/api.md for tensors
     * without a batch dimension, which hold one whole tensor; this example sizes for the
     * larger case). */
    inputs = calloc((size_t)n_in + 1, sizeof *inputs);
    outputs = calloc((size_t)n_out + 1, sizeof *outputs);
    if (!inputs || !outputs) goto oom;
    uint64_t seed = 0x5EED5EED12345678ull;
    for (int i = 0; i < n_in; i++) {
        sn_model_input_info(model, i, &info);
        if (info.dtype != SN_DTYPE_F32) {
            fprintf(stderr, "error: input '%s' is %s; this example fills only f32 inputs\n",
                    info.name, sn_dtype_name(info.dtype));
            goto done;
        }
        size_t n = sn_engine_input_bytes(engine, i) / sizeof(float) * (size_t)batch;
        float *x = malloc(n * sizeof *x + 1);
        if (!(inputs[i] = x)) goto oom;
        for (size_t k = 0; k < n; k++) x[k] = next_random(&seed);
    }
    for (int i = 0; i < n_out; i++)
        if (!(outputs[i] = malloc(sn_engine_output_bytes(engine, i) * (size_t)batch + 1)))
            goto oom;

    if (sn_engine_run(engine, (int)batch, (const void *const *)inputs, outputs, &err) != SN_OK) {
        fprintf(stderr, "error: %s\n", err.message);
        goto done;
    }
    if (n_out > 0 && sn_model_output_info(model, 0, &info) == SN_OK &&
        info.dtype == SN_DTYPE_F32) {
        size_t per = sn_engine_output_bytes(engine, 0) / sizeof(float);
        int samples = info.rank > 0 && info.dims[0] == SN_DIM_BATCH ? (int)batch : 1;
        for (int b = 0; b < samples; b++) {
            printf("  sample %d, top 5 of '%s':\n", b, info.name);
            print_top5(model, (const float *)outputs[0] + (size_t)b * per, per);
        }
    }
    sn_engine_stats st = SN_ENGINE_STATS_INIT;
    if (sn_engine_get_stats(engine, &st) == SN_OK)
        printf("activations %zu bytes (%zu without reuse), weights %zu bytes, %d threads\n",
               st.activation_bytes, st.naive_bytes, st.weight_bytes, st.threads);
    rc = 0;
    goto done;

oom:
    fprintf(stderr, "error: out of memory\n");
done:
    for (int i = 0; inputs && i < n_in; i++) free(inputs[i]);
    for (int i = 0; outputs && i < n_out; i++) free(outputs[i]);
    free(inputs);
    free(outputs);
    sn_engine_destroy(engine);
    sn_model_destroy(model);
    return rc;
}
