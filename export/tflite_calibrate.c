/*
 * tflite_calibrate.c - measuring the range of every tensor of the legalized graph on
 * calibration inputs, for int8 quantization.
 *
 * A clone of the graph lists every computed tensor as a graph output, so one CPU engine run per
 * sample writes all intermediate values into buffers we can scan; the clone is index for index
 * the legalized graph, so ranges are indexed by its tensors. Each tensor's values go into a
 * histogram (tflite_hist.c) from which the range minimising the int8 error is chosen (or,
 * with SN_TFLITE_RANGES_MINMAX, TFLite's converter's plain min/max is kept); the graph's
 * input and outputs always keep their min/max: an image input's range is what
 * its preprocessing can produce (every pixel value is legitimate, none should clip), and
 * clipping an output would saturate exactly the largest scores a classifier is read by.
 * Per-channel means are kept for the quantizer's bias correction. NaN values are ignored.
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "passes/pass.h"
#include "tflite_export.h"

void sn__tfl_ranges_free(sn__tfl_ranges *r) {
    for (int i = 0; r->mean && i < r->n_tensors; i++) free(r->mean[i]);
    free(r->lo);
    free(r->hi);
    free(r->mean);
    free(r->n_mean);
    memset(r, 0, sizeof *r);
}

static bool sn__is_output(const sn_graph *g, int t) {
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] == t) return true;
    return false;
}

/* Channels summed for tensor t's means: for what a convolution or dense layer reads, dim 1 of
 * a rank-2 or rank-4 tensor (its features or channels), else none. */
static int sn__chan(const sn_graph *g, int t, size_t *inner) {
    bool read = false;
    for (int i = 0; i < g->n_nodes && !read; i++) {
        const sn_node *n = &g->nodes[i];
        read = !n->dead && n->n_inputs > 0 && n->inputs[0] == t &&
               (n->op == SN_OP_CONV || n->op == SN_OP_FUSED_CONV || n->op == SN_OP_GEMM ||
                n->op == SN_OP_MATMUL);
    }
    const sn_shape *s = &g->tensors[t].shape;
    if (!read) return 0;
    if ((s->rank != 2 && s->rank != 4) || s->d[1] < 1 || s->d[1] > (1 << 24)) return 0;
    *inner = s->rank == 4 ? (size_t)(s->d[2] * s->d[3]) : 1;
    return (int)s->d[1];
}

sn_status sn__tfl_calibrate(const sn_graph *g, const sn_calibration *cal, int threads,
                            sn_tflite_ranges ranges, sn__tfl_ranges *r, sn_error *err) {
    memset(r, 0, sizeof *r);
    if (g->n_inputs != 1)
        return sn_errorf(err, SN_ERR_UNSUPPORTED,
                         "int8 calibration needs a model with one input, this one has %d",
                         g->n_inputs);
    if (!cal || cal->count < 1 || !cal->data)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "int8 quantization needs calibration "
                         "samples");
    int in = g->inputs[0];
    sn_shape in1 = g->tensors[in].shape;
    if (in1.rank > 0 && in1.d[0] == SN_DIM_BATCH) in1.d[0] = 1;
    if (sn_shape_numel(&in1) != (int64_t)cal->sample_floats)
        return sn_errorf(err, SN_ERR_SHAPE,
                         "calibration samples have %zu values, the input '%s' needs %lld",
                         cal->sample_floats, g->tensors[in].name,
                         (long long)sn_shape_numel(&in1));
    int nt = g->n_tensors;
    r->n_tensors = nt;
    r->lo = malloc(sizeof(float) * (size_t)nt);
    r->hi = malloc(sizeof(float) * (size_t)nt);
    r->mean = calloc((size_t)nt, sizeof *r->mean);
    r->n_mean = calloc((size_t)nt, sizeof *r->n_mean);
    sn__tfl_hist *h = calloc((size_t)nt, sizeof *h);
    size_t *inner = calloc((size_t)nt, sizeof *inner);
    sn_graph *c = NULL;
    sn_model *model = NULL;
    sn_engine *e = NULL;
    void **outs = NULL;
    int *out_t = NULL, n_out = 0;
    sn_status s = SN_OK;
    if (!r->lo || !r->hi || !r->mean || !r->n_mean || !h || !inner) {
        s = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory for calibration");
        goto done;
    }
    for (int t = 0; t < nt; t++) r->lo[t] = INFINITY, r->hi[t] = -INFINITY;

    if ((s = sn_graph_clone(g, &c)) != SN_OK) {
        s = sn_errorf(err, s, "calibration: cloning the graph failed");
        goto done;
    }
    for (int t = 0; t < c->n_tensors && s == SN_OK; t++) {
        const sn_tensor *x = &c->tensors[t];
        if (x->producer >= 0 && !(x->flags & (SN_TENSOR_OUTPUT | SN_TENSOR_CONST)))
            s = sn_graph_add_output(c, t);
    }
    n_out = c->n_outputs;
    out_t = malloc(sizeof(int) * (size_t)(n_out + 1));
    if (s != SN_OK || !out_t) {
        sn_graph_destroy(c);
        s = sn_errorf(err, s != SN_OK ? s : SN_ERR_OUT_OF_MEMORY,
                      "calibration: listing the tensors to measure failed");
        goto done;
    }
    memcpy(out_t, c->outputs, sizeof(int) * (size_t)n_out);
    out_t[n_out] = in; /* measured from the samples themselves */
    for (int i = 0; i <= n_out && s == SN_OK; i++) {
        int t = out_t[i];
        if (!h[t].bins) s = sn__tfl_hist_init(&h[t], sn__chan(g, t, &inner[t]), err);
    }
    if (s != SN_OK) {
        sn_graph_destroy(c);
        goto done;
    }
    if ((s = sn_model_from_graph(c, &model, err)) != SN_OK) goto done; /* takes c, always */
    sn_engine_options o = SN_ENGINE_OPTIONS_INIT;
    o.device = SN_DEVICE_CPU;
    o.threads = threads;
    o.max_batch = 1;
    o.optimize = 0; /* measure the legalized graph's own tensors, as they are */
    if ((s = sn_engine_create(model, &o, &e, err)) != SN_OK) goto done;
    outs = calloc((size_t)n_out + 1, sizeof *outs);
    for (int i = 0; outs && i < n_out; i++)
        if (!(outs[i] = malloc(sn_engine_output_bytes(e, i) + 4))) {
            s = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory for calibration outputs");
            break;
        }
    if (!outs) s = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory for calibration outputs");
    for (int k = 0; k < cal->count && s == SN_OK; k++) {
        const float *x = cal->data + (size_t)k * cal->sample_floats;
        const void *ins[1] = {x};
        if ((s = sn_engine_run(e, 1, ins, outs, err)) != SN_OK) {
            sn_error_prefix(err, "calibration sample %d", k);
            break;
        }
        /* Tensors are independent: one histogram per thread at a time. */
        int nth = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic) num_threads(nth)
        for (int i = 0; i <= n_out; i++) {
            size_t n = i < n_out ? sn_engine_output_bytes(e, i) / sizeof(float)
                                 : cal->sample_floats;
            sn__tfl_hist_add(&h[out_t[i]], i < n_out ? outs[i] : x, n, inner[out_t[i]]);
        }
    }
    for (int i = 0; i <= n_out && s == SN_OK; i++) {
        int t = out_t[i];
        /* The graph's input and outputs keep min/max (see the top of this file). */
        if (t == in || sn__is_output(g, t) || ranges == SN_TFLITE_RANGES_MINMAX) {
            r->lo[t] = h[t].lo;
            r->hi[t] = h[t].hi;
        } else {
            sn__tfl_hist_mse_range(&h[t], &r->lo[t], &r->hi[t]);
        }
        if (h[t].n_chan && h[t].chan_count > 0) {
            if (!(r->mean[t] = malloc(sizeof(double) * (size_t)h[t].n_chan))) {
                s = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory for calibration");
                break;
            }
            for (int ch = 0; ch < h[t].n_chan; ch++)
                r->mean[t][ch] = h[t].chan_sum[ch] / h[t].chan_count;
            r->n_mean[t] = h[t].n_chan;
        }
    }
    /* An image input's range is known from its preprocessing, whatever the samples cover:
     * (0 - mean) / std to (1 - mean) / std per channel. Quantizing to that range keeps pixels
     * the calibration images happen not to reach from clipping. */
    const sn_preprocess *pp = &g->meta.preprocess;
    if (s == SN_OK && pp->present) {
        for (int ch = 0; ch < 3; ch++) {
            if (!(pp->std[ch] != 0.0f)) continue;
            float a = (0.0f - pp->mean[ch]) / pp->std[ch], b = (1.0f - pp->mean[ch]) / pp->std[ch];
            r->lo[in] = fminf(r->lo[in], fminf(a, b));
            r->hi[in] = fmaxf(r->hi[in], fmaxf(a, b));
        }
    }
done:
    for (int i = 0; outs && i < n_out; i++) free(outs[i]);
    free(outs);
    for (int t = 0; h && t < nt; t++) sn__tfl_hist_free(&h[t]);
    free(h);
    free(inner);
    free(out_t);
    sn_engine_destroy(e);
    sn_model_destroy(model);
    if (s != SN_OK) sn__tfl_ranges_free(r);
    return s;
}
