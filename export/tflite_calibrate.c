/*
 * tflite_calibrate.c - measuring the range of every tensor of the legalized graph on
 * calibration inputs, for int8 quantization.
 *
 * A clone of the graph lists every computed tensor as a graph output, so one CPU engine run per
 * sample writes all intermediate values into buffers we can scan; the clone is index for index
 * the legalized graph, so ranges are indexed by its tensors. Ranges are plain min/max over all
 * samples (TFLite's converter default), widened for an image input to what its preprocessing
 * can produce. NaN values are ignored.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "passes/pass.h"
#include "tflite_export.h"

void sn__tfl_ranges_free(sn__tfl_ranges *r) {
    free(r->lo);
    free(r->hi);
    r->lo = r->hi = NULL;
}

static void sn__range_update(const float *x, size_t n, float *lo, float *hi) {
    float a = *lo, b = *hi;
    for (size_t i = 0; i < n; i++) {
        if (x[i] < a) a = x[i];
        if (x[i] > b) b = x[i];
    }
    *lo = a;
    *hi = b;
}

sn_status sn__tfl_calibrate(const sn_graph *g, const sn_calibration *cal, int threads,
                            sn__tfl_ranges *r, sn_error *err) {
    memset(r, 0, sizeof *r);
    if (g->n_inputs != 1)
        return sn_errorf(err, SN_ERR_UNSUPPORTED,
                         "int8 calibration needs a model with one input, "
                         "this one has %d",
                         g->n_inputs);
    if (!cal || cal->count < 1 || !cal->data)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         "int8 quantization needs calibration "
                         "samples");
    sn_shape in1 = g->tensors[g->inputs[0]].shape;
    if (in1.rank > 0 && in1.d[0] == SN_DIM_BATCH) in1.d[0] = 1;
    if (sn_shape_numel(&in1) != (int64_t)cal->sample_floats)
        return sn_errorf(err, SN_ERR_SHAPE,
                         "calibration samples have %zu values, the input '%s' "
                         "needs %lld",
                         cal->sample_floats, g->tensors[g->inputs[0]].name,
                         (long long)sn_shape_numel(&in1));
    r->lo = malloc(sizeof(float) * (size_t)g->n_tensors);
    r->hi = malloc(sizeof(float) * (size_t)g->n_tensors);
    if (!r->lo || !r->hi) {
        sn__tfl_ranges_free(r);
        return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory for calibration");
    }
    for (int i = 0; i < g->n_tensors; i++) r->lo[i] = INFINITY, r->hi[i] = -INFINITY;

    sn_graph *c = NULL;
    sn_model *model = NULL;
    sn_engine *e = NULL;
    void **outs = NULL;
    sn_status s = sn_graph_clone(g, &c);
    if (s != SN_OK) {
        s = sn_errorf(err, s, "calibration: cloning the graph failed");
        goto done;
    }
    for (int t = 0; t < c->n_tensors && s == SN_OK; t++) {
        const sn_tensor *x = &c->tensors[t];
        if (x->producer >= 0 && !(x->flags & (SN_TENSOR_OUTPUT | SN_TENSOR_CONST)))
            s = sn_graph_add_output(c, t);
    }
    if (s != SN_OK) {
        sn_graph_destroy(c);
        s = sn_errorf(err, s, "calibration: listing the tensors to measure failed");
        goto done;
    }
    int n_out = c->n_outputs;
    int *out_t = malloc(sizeof(int) * (size_t)n_out);
    if (!out_t) {
        sn_graph_destroy(c);
        s = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory for calibration");
        goto done;
    }
    memcpy(out_t, c->outputs, sizeof(int) * (size_t)n_out);
    if ((s = sn_model_from_graph(c, &model, err)) != SN_OK) { /* takes c */
        free(out_t);
        goto done;
    }
    sn_engine_options o = SN_ENGINE_OPTIONS_INIT;
    o.device = SN_DEVICE_CPU;
    o.threads = threads;
    o.max_batch = 1;
    o.optimize = 0; /* measure the legalized graph's own tensors, as they are */
    if ((s = sn_engine_create(model, &o, &e, err)) != SN_OK) {
        free(out_t);
        goto done;
    }
    outs = calloc((size_t)n_out, sizeof *outs);
    for (int i = 0; outs && i < n_out; i++)
        if (!(outs[i] = malloc(sn_engine_output_bytes(e, i) + 4))) {
            s = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory for calibration outputs");
            break;
        }
    if (!outs) s = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory for calibration outputs");
    for (int k = 0; k < cal->count && s == SN_OK; k++) {
        const float *x = cal->data + (size_t)k * cal->sample_floats;
        sn__range_update(x, cal->sample_floats, &r->lo[g->inputs[0]], &r->hi[g->inputs[0]]);
        const void *ins[1] = {x};
        if ((s = sn_engine_run(e, 1, ins, outs, err)) != SN_OK) {
            sn_error_prefix(err, "calibration sample %d", k);
            break;
        }
        for (int i = 0; i < n_out; i++)
            sn__range_update(outs[i], sn_engine_output_bytes(e, i) / sizeof(float),
                             &r->lo[out_t[i]], &r->hi[out_t[i]]);
    }
    free(out_t);
    for (int i = 0; outs && i < n_out; i++) free(outs[i]);
    /* An image input's range is known from its preprocessing, whatever the samples cover:
     * (0 - mean) / std to (1 - mean) / std per channel. Quantizing to that range keeps pixels
     * the calibration images happen not to reach from clipping. */
    const sn_preprocess *pp = &g->meta.preprocess;
    if (s == SN_OK && pp->present) {
        int in = g->inputs[0];
        for (int c = 0; c < 3; c++) {
            if (!(pp->std[c] != 0.0f)) continue;
            float a = (0.0f - pp->mean[c]) / pp->std[c], b = (1.0f - pp->mean[c]) / pp->std[c];
            sn__range_update(&a, 1, &r->lo[in], &r->hi[in]);
            sn__range_update(&b, 1, &r->lo[in], &r->hi[in]);
        }
    }
done:
    free(outs);
    sn_engine_destroy(e);
    sn_model_destroy(model);
    if (s != SN_OK) sn__tfl_ranges_free(r);
    return s;
}
