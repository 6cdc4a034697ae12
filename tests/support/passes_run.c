/* passes_run.c - running graphs on the CPU engine and comparing outputs (passes_support.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "passes/pass.h"
#include "passes_support.h"

/* Elements of graph tensor t at `batch` (a leading SN_DIM_BATCH or batched dim scales). */
static int64_t sn__numel_at(const sn_graph *g, int t, int batch) {
    const sn_tensor *x = &g->tensors[t];
    int64_t n = 1;
    for (int i = 0; i < x->shape.rank; i++) {
        int64_t d = x->shape.d[i];
        if (i == 0 && d == SN_DIM_BATCH)
            d = batch;
        else if (i == 0 && (x->flags & SN_TENSOR_BATCHED))
            d *= batch;
        n *= d;
    }
    return n;
}

float **sn_pt_random_inputs(const sn_graph *g, int batch, sn_rng *rng) {
    float **in = calloc((size_t)g->n_inputs + 1, sizeof(float *));
    for (int i = 0; in && i < g->n_inputs; i++) {
        int64_t n = sn__numel_at(g, g->inputs[i], batch);
        in[i] = malloc(sizeof(float) * (size_t)(n ? n : 1));
        if (in[i]) sn_rng_fill(rng, in[i], (size_t)n, -1.0f, 1.0f);
    }
    return in;
}

void sn_pt_inputs_free(const sn_graph *g, float **in) {
    if (!in) return;
    for (int i = 0; i < g->n_inputs; i++) free(in[i]);
    free(in);
}

void sn_pt_outputs_free(sn_pt_outputs *res) {
    for (int i = 0; res->out && i < res->n; i++) free(res->out[i]);
    free(res->out);
    free(res->numel);
    memset(res, 0, sizeof *res);
}

sn_status sn_pt_run(const sn_graph *g, int batch, float *const *inputs, int threads,
                    sn_pt_outputs *res, sn_error *err) {
    memset(res, 0, sizeof *res);
    sn_graph *c = NULL;
    sn_model *m = NULL;
    sn_engine *e = NULL;
    sn_status st = sn_graph_clone(g, &c);
    if (st == SN_OK) st = sn_graph_compact(c);
    if (st != SN_OK) {
        sn_graph_destroy(c);
        return sn_errorf(err, st, "cloning the graph: %s", sn_status_string(st));
    }
    if ((st = sn_model_from_graph(c, &m, err)) != SN_OK) return st;
    sn_engine_options opt = SN_ENGINE_OPTIONS_INIT;
    opt.device = SN_DEVICE_CPU;
    opt.threads = threads;
    opt.max_batch = batch;
    opt.optimize = 0; /* the graph exactly as given: it is what the tests compare */
    if ((st = sn_engine_create(m, &opt, &e, err)) != SN_OK) goto done;
    const sn_graph *mg = sn_model_graph(m);
    res->n = mg->n_outputs;
    res->out = calloc((size_t)res->n + 1, sizeof(float *));
    res->numel = calloc((size_t)res->n + 1, sizeof(int64_t));
    if (!res->out || !res->numel) goto oom;
    for (int i = 0; i < res->n; i++) {
        sn_tensor_info info;
        sn_model_output_info(m, i, &info);
        int64_t n = 1;
        for (int d = 0; d < info.rank; d++)
            n *= info.dims[d] == SN_DIM_BATCH ? batch : info.dims[d];
        res->numel[i] = n;
        /* Sized by the engine too, in case it disagrees with the model's view. */
        size_t bytes = sn_engine_output_bytes(e, i) * (size_t)batch;
        if (bytes < sizeof(float) * (size_t)n) bytes = sizeof(float) * (size_t)n;
        if (!(res->out[i] = calloc(bytes ? bytes : 1, 1))) goto oom;
    }
    st = sn_engine_run(e, batch, (const void *const *)inputs, (void *const *)res->out, err);
    goto done;
oom:
    st = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory for outputs");
done:
    if (st != SN_OK) sn_pt_outputs_free(res);
    sn_engine_destroy(e);
    sn_model_destroy(m);
    return st;
}

double sn_pt_compare(const sn_pt_outputs *got, const sn_pt_outputs *want) {
    if (got->n != want->n) return INFINITY;
    double worst = 0.0;
    for (int i = 0; i < want->n; i++) {
        if (got->numel[i] != want->numel[i]) return INFINITY;
        int64_t n = want->numel[i];
        double ss = 0.0;
        for (int64_t k = 0; k < n; k++) ss += (double)want->out[i][k] * want->out[i][k];
        double rms = n ? sqrt(ss / (double)n) : 0.0;
        for (int64_t k = 0; k < n; k++) {
            double w = want->out[i][k], g = got->out[i][k];
            if (!isfinite(w) || !isfinite(g)) return INFINITY;
            double scale = fmax(fabs(w), rms);
            double rel = scale > 0.0 ? fabs(g - w) / scale : fabs(g - w);
            if (rel > worst) worst = rel;
        }
    }
    return worst;
}

/* A copy of g whose f32 constants are each moved by a random relative amount within one
 * rounding step (2^-23): what reordering or refactoring the arithmetic on them can change. */
static sn_graph *sn__perturbed_constants(const sn_graph *g, sn_rng *rng) {
    sn_graph *c = NULL;
    if (sn_graph_clone(g, &c) != SN_OK) return NULL;
    for (int t = 0; t < c->n_tensors; t++) {
        const sn_tensor *x = &c->tensors[t];
        if (!x->data || x->dtype != SN_DTYPE_F32 || !x->nbytes) continue;
        size_t n = x->nbytes / sizeof(float);
        float *v = malloc(x->nbytes);
        if (!v) {
            sn_graph_destroy(c);
            return NULL;
        }
        const float *src = x->data;
        for (size_t k = 0; k < n; k++)
            v[k] = (float)((double)src[k] * (1.0 + sn_rng_uniform(rng, -0x1p-23, 0x1p-23)));
        sn_shape shape = x->shape;
        sn_status st = sn_graph_set_const_data(c, t, SN_DTYPE_F32, &shape, v, x->nbytes);
        free(v);
        if (st != SN_OK) {
            sn_graph_destroy(c);
            return NULL;
        }
    }
    return c;
}

/* One draw of the noise: inputs and constants each moved within one rounding step. */
static double sn__noise_once(const sn_graph *g, int batch, float *const *in,
                             const sn_pt_outputs *ref, sn_rng *rng, sn_error *err) {
    float **p = sn_pt_random_inputs(g, batch, rng);
    sn_graph *c = sn__perturbed_constants(g, rng);
    double floor_ = INFINITY;
    if (p && c) {
        for (int i = 0; i < g->n_inputs; i++) {
            int64_t n = sn__numel_at(g, g->inputs[i], batch);
            for (int64_t k = 0; k < n; k++)
                p[i][k] =
                    (float)((double)in[i][k] * (1.0 + sn_rng_uniform(rng, -0x1p-23, 0x1p-23)));
        }
        sn_pt_outputs pert;
        if (sn_pt_run(c, batch, p, 1, &pert, err) == SN_OK) {
            floor_ = sn_pt_compare(&pert, ref);
            sn_pt_outputs_free(&pert);
        }
    }
    sn_pt_inputs_free(g, p);
    sn_graph_destroy(c);
    return floor_;
}

double sn_pt_noise_floor(const sn_graph *g, int batch, float *const *in, const sn_pt_outputs *ref,
                         sn_rng *rng, sn_error *err) {
    /* The largest of three draws: one draw of an ill-conditioned output can land low. */
    double floor_ = 0.0;
    for (int k = 0; k < 3; k++) floor_ = fmax(floor_, sn__noise_once(g, batch, in, ref, rng, err));
    return floor_;
}

int sn_pt_count_op(const sn_graph *g, sn_op op) {
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) n += !g->nodes[i].dead && g->nodes[i].op == op;
    return n;
}
