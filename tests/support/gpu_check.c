/*
 * gpu_check.c - GPU-against-CPU comparison helpers (gpu_check.h).
 */
#include "gpu_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

const char *sn_gpu_check_unavailable(void) {
    static char why[SN_ERROR_MESSAGE_SIZE + 16];
    sn_error e = {0};
    int n = 0;
    if (sn_gpu_probe(&n, &e) == SN_OK) return NULL;
    snprintf(why, sizeof why, "no GPU: %.1000s", e.message);
    return why;
}

double sn_gpu_check_tolerance(int precision, bool whole_model) {
    /* Per op: fp32 1e-5, tf32 1e-3, fp16 1e-2 (bfloat16 keeps 3 fewer bits than half: 8x).
     * A whole model stacks ~50 layers whose sums the GPU orders differently from OpenBLAS. */
    static const double op[] = {1e-5, 1e-3, 1e-2, 8e-2};
    static const double model[] = {1e-4, 1e-2, 3e-2, 1.5e-1};
    if (precision < 0 || precision > 3) return 0.0;
    return whole_model ? model[precision] : op[precision];
}

void sn_gpu_pair_free(sn_gpu_pair *p) {
    sn_engine_destroy(p->gpu);
    sn_engine_destroy(p->cpu);
    sn_model_destroy(p->model);
    memset(p, 0, sizeof *p);
}

sn_status sn_gpu_pair_make(sn_graph *g, int precision, int max_batch, bool optimize, sn_gpu_pair *p,
                           sn_error *err) {
    memset(p, 0, sizeof *p);
    sn_status st = sn_model_from_graph(g, &p->model, err);
    if (st != SN_OK) return st;
    sn_engine_options o = SN_ENGINE_OPTIONS_INIT;
    o.max_batch = max_batch;
    o.optimize = optimize;
    o.device = SN_DEVICE_CPU;
    st = sn_engine_create(p->model, &o, &p->cpu, err);
    if (st == SN_OK) {
        o.device = SN_DEVICE_GPU;
        o.precision = (sn_precision)precision;
        st = sn_engine_create(p->model, &o, &p->gpu, err);
    }
    if (st != SN_OK) sn_gpu_pair_free(p);
    return st;
}

sn_status sn_gpu_pair_compare(sn_gpu_pair *p, int batch, sn_rng *rng, double *worst, char *where,
                              size_t where_size, sn_error *err) {
    const sn_graph *g = sn_model_graph(p->model);
    int ni = g->n_inputs, no = g->n_outputs;
    float **in = calloc((size_t)ni + 1, sizeof *in), **og = calloc((size_t)no + 1, sizeof *og),
          **oc = calloc((size_t)no + 1, sizeof *oc);
    size_t *on = calloc((size_t)no + 1, sizeof *on);
    sn_status st = SN_OK;
    *worst = 0.0;
    if (where_size) where[0] = '\0';
    if (!in || !og || !oc || !on) {
        st = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    for (int i = 0; i < ni; i++) {
        size_t bytes = sn_engine_input_bytes(p->cpu, i) * (size_t)batch;
        if (!(in[i] = malloc(bytes ? bytes : 4))) goto oom;
        sn_rng_fill(rng, in[i], bytes / sizeof(float), -1.0f, 1.0f);
    }
    for (int i = 0; i < no; i++) {
        /* Sized for `batch` samples: outputs that do not scale use only the first. */
        size_t bytes = sn_engine_output_bytes(p->cpu, i) * (size_t)batch;
        on[i] = bytes / sizeof(float);
        if (!(og[i] = malloc(bytes ? bytes : 4)) || !(oc[i] = malloc(bytes ? bytes : 4))) goto oom;
        for (size_t k = 0; k < on[i]; k++) og[i][k] = NAN; /* every byte must be written */
    }
    if ((st = sn_engine_run(p->cpu, batch, (const void *const *)in, (void *const *)oc, err)))
        goto done;
    if ((st = sn_engine_run(p->gpu, batch, (const void *const *)in, (void *const *)og, err)))
        goto done;
    for (int i = 0; i < no; i++) {
        int t = g->outputs[i];
        size_t n = (g->tensors[t].flags & SN_TENSOR_BATCHED) ? on[i] : on[i] / (size_t)batch;
        double ss = 0.0;
        for (size_t k = 0; k < n; k++) ss += (double)oc[i][k] * oc[i][k];
        double rms = n ? sqrt(ss / (double)n) : 0.0;
        for (size_t k = 0; k < n; k++) {
            double want = oc[i][k], got = og[i][k];
            double scale = fabs(want) > rms ? fabs(want) : rms;
            double rel = isfinite(got) ? fabs(got - want) / (scale > 0 ? scale : 1.0) : INFINITY;
            if (!(rel <= *worst)) {
                *worst = rel;
                snprintf(where, where_size, "output '%s'[%zu]: gpu %.9g, cpu %.9g (rms %.3g)",
                         g->tensors[t].name, k, got, want, rms);
            }
        }
    }
    goto done;
oom:
    st = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory for test buffers");
done:
    for (int i = 0; in && i < ni; i++) free(in[i]);
    for (int i = 0; og && oc && i < no; i++) {
        free(og[i]);
        free(oc[i]);
    }
    free(in);
    free(og);
    free(oc);
    free(on);
    return st;
}
