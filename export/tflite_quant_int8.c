/*
 * tflite_quant_int8.c - full-integer post-training quantization of the lowered model, in the
 * scheme TFLite's int8 kernels implement (tensorflow.org/lite/performance/quantization_spec):
 *
 *   activations   int8, per tensor, asymmetric: real = scale * (q - zero_point), the range
 *                 measured on calibration inputs widened to include 0 (so 0 is exact)
 *   filters       int8, per output channel, symmetric in [-127, 127], zero point 0
 *                 (CONV_2D and FULLY_CONNECTED along dim 0, DEPTHWISE_CONV_2D along dim 3)
 *   biases        int32 per channel, scale = input scale * filter scale, zero point 0
 *   operands      constant operands of ADD / SUB / MUL: int8 per tensor from their own values
 *
 * Kernels that move int8 values without rescaling need their input and output quantized alike
 * (pools, RESHAPE, TRANSPOSE, PAD, resizes, CONCATENATION, STRIDED_SLICE, MAXIMUM / MINIMUM): such
 * tensors are
 * put in one group (union-find) whose range is the union of the members'. LOGISTIC and SOFTMAX
 * outputs are fixed at scale 1/256, zero point -128, TANH's at 1/128, 0. The model keeps float
 * inputs and outputs: QUANTIZE after each input, DEQUANTIZE before each output.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_util.h"
#include "tflite_export.h"

typedef struct sn__q {
    int *parent;    /* union-find over tensors */
    float *lo, *hi; /* per group root: the range (lo > hi: none yet) */
    int *fixed;     /* per group root: 0 free, else the op code fixing the params */
} sn__q;

static int sn__q_find(sn__q *q, int t) {
    while (q->parent[t] != t) t = q->parent[t] = q->parent[q->parent[t]];
    return t;
}

static bool sn__q_union(sn__q *q, int a, int b) {
    a = sn__q_find(q, a), b = sn__q_find(q, b);
    if (a == b) return true;
    if (q->fixed[a] && q->fixed[b] && q->fixed[a] != q->fixed[b]) return false;
    q->parent[b] = a;
    if (q->lo[b] < q->lo[a]) q->lo[a] = q->lo[b];
    if (q->hi[b] > q->hi[a]) q->hi[a] = q->hi[b];
    if (q->fixed[b]) q->fixed[a] = q->fixed[b];
    return true;
}

static bool sn__q_same_params(int code) {
    switch (code) {
    case SN_TFL_OP_MAX_POOL_2D:
    case SN_TFL_OP_AVERAGE_POOL_2D:
    case SN_TFL_OP_RESHAPE:
    case SN_TFL_OP_TRANSPOSE:
    case SN_TFL_OP_PAD:
    case SN_TFL_OP_PADV2:
    case SN_TFL_OP_MIRROR_PAD:
    case SN_TFL_OP_RESIZE_BILINEAR:
    case SN_TFL_OP_RESIZE_NEAREST_NEIGHBOR:
    case SN_TFL_OP_CONCATENATION:
    case SN_TFL_OP_STRIDED_SLICE:
    case SN_TFL_OP_MAXIMUM:
    case SN_TFL_OP_MINIMUM: return true;
    default: return false;
    }
}

static bool sn__q_has_int8_kernel(int code) {
    return code != SN_TFL_OP_DIV && code != SN_TFL_OP_BATCH_MATMUL;
}

static sn_status sn__q_set(sn_tfl_tensor *t, int n, int dim, const float *scale, const int64_t *zp,
                           sn_error *err) {
    free(t->scale);
    free(t->zero_point);
    t->scale = malloc(sizeof(float) * (size_t)n);
    t->zero_point = malloc(sizeof(int64_t) * (size_t)n);
    if (!t->scale || !t->zero_point)
        return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory quantizing '%s'", t->name);
    memcpy(t->scale, scale, sizeof(float) * (size_t)n);
    memcpy(t->zero_point, zp, sizeof(int64_t) * (size_t)n);
    t->n_quant = n;
    t->quant_dim = dim;
    return SN_OK;
}

/* Asymmetric int8 parameters for [lo, hi] widened to include 0. Rounding the zero point to an
 * integer shifts the representable range; the scale then grows just enough that both ends
 * stay inside it (an image input's brightest pixels would clip otherwise). */
static void sn__q_params(float lo, float hi, float *scale, int64_t *zp) {
    if (!(lo <= hi)) lo = hi = 0.0f;
    if (lo > 0.0f) lo = 0.0f;
    if (hi < 0.0f) hi = 0.0f;
    double s = ((double)hi - (double)lo) / 255.0;
    if (!(s > 1e-12)) s = 1e-12; /* an all-zero tensor: any positive scale represents it */
    double z = nearbyint(-128.0 - (double)lo / s);
    z = z < -128.0 ? -128.0 : z > 127.0 ? 127.0 : z;
    if (z < 127.0 && (double)hi / (127.0 - z) > s) s = (double)hi / (127.0 - z);
    if (z > -128.0 && (double)lo / (-128.0 - z) > s) s = (double)lo / (-128.0 - z);
    *scale = (float)s;
    *zp = (int64_t)z;
}

static int8_t sn__q_int8(double v, double scale, int64_t zp, int lo) {
    double q = nearbyint(v / scale) + (double)zp;
    return (int8_t)(q < lo ? lo : q > 127 ? 127 : q);
}

/* Per-tensor int8 data of float constant t with the given parameters. */
static sn_status sn__q_const(sn_tfl_tensor *t, float scale, int64_t zp, sn_error *err) {
    size_t n = t->nbytes / sizeof(float);
    int8_t *q = malloc(n ? n : 1);
    if (!q) return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory quantizing '%s'", t->name);
    const float *f = t->data;
    for (size_t i = 0; i < n; i++) q[i] = sn__q_int8(f[i], scale, zp, -128);
    free(t->data);
    t->data = q;
    t->nbytes = n;
    t->type = SN_TFL_INT8;
    return sn__q_set(t, 1, 0, &scale, &zp, err);
}

/* Bias correction: rounding a channel's weights shifts its output by sum_k (q_k - w_k) x_k,
 * whose expectation sum_k (q_k - w_k) E[x_k] is known from the calibration means of the
 * input's channels (mean[n_mean]) - a systematic error in every output value, removed from
 * the bias (Nagel et al., "Data-Free Quantization Through Weight Equalization and Bias
 * Correction", 2019). Depthwise filters, 9 weights per channel, gain most. Weight element i
 * reads input channel i % n_mean (OHWI filters and FULLY_CONNECTED over a flattened NHWC
 * input), or, depthwise [1,H,W,O], channel o / (O / n_mean) for its output channel o. */
static void sn__q_bias_correct(const sn_tfl_tensor *t, const int8_t *q, const float *scale,
                               const double *mean, int n_mean, float *bias) {
    bool dw = t->role == SN_TFL_ROLE_DW_FILTER;
    int64_t ch = t->shape[dw ? t->rank - 1 : 0], last = t->shape[t->rank - 1];
    if (!mean || n_mean < 1 || ch < 1 || last % n_mean != 0) return;
    int64_t n = sn_tfl_numel(t), inner = n / ch;
    const float *w = t->data;
    double *shift = calloc((size_t)ch, sizeof *shift);
    if (!shift) return; /* a refinement: without memory, the plain bias is still right */
    for (int64_t i = 0; i < n; i++) {
        int64_t o = dw ? i % ch : i / inner;
        int64_t c = dw ? o / (ch / n_mean) : i % n_mean;
        shift[o] += ((double)q[i] * scale[o] - (double)w[i]) * mean[c];
    }
    for (int64_t o = 0; o < ch; o++) bias[o] = (float)((double)bias[o] - shift[o]);
    free(shift);
}

/* A filter per channel along `dim` (0 or the last), then its bias (may be -1) from the input's
 * scale, corrected for the filter's rounding when the input's channel means are known. */
static sn_status sn__q_filter(sn_tfl_model *m, int f, int bias, float in_scale,
                              const double *mean, int n_mean, sn_error *err) {
    sn_tfl_tensor *t = &m->t[f];
    if (t->type != SN_TFL_FLOAT32) return SN_OK; /* shared and already done */
    int dim = t->role == SN_TFL_ROLE_DW_FILTER ? t->rank - 1 : 0;
    int64_t ch = t->shape[dim], n = sn_tfl_numel(t);
    int64_t inner = 1;
    for (int i = dim + 1; i < t->rank; i++) inner *= t->shape[i];
    float *scale = calloc((size_t)ch, sizeof(float));
    int64_t *zp = calloc((size_t)ch, sizeof(int64_t));
    int8_t *q = malloc((size_t)(n ? n : 1));
    sn_status s = SN_OK;
    if (!scale || !zp || !q) {
        s = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory quantizing '%s'", t->name);
        goto done;
    }
    const float *w = t->data;
    for (int64_t i = 0; i < n; i++) { /* channel of element i: (i / inner) % ch */
        float a = fabsf(w[i]);
        int64_t c = (i / inner) % ch;
        if (a > scale[c]) scale[c] = a;
    }
    for (int64_t c = 0; c < ch; c++) scale[c] = scale[c] > 0.0f ? scale[c] / 127.0f : 1.0f;
    for (int64_t i = 0; i < n; i++) q[i] = sn__q_int8(w[i], scale[(i / inner) % ch], 0, -127);
    if (bias >= 0 && m->t[bias].type == SN_TFL_FLOAT32 && sn_tfl_numel(&m->t[bias]) == ch)
        sn__q_bias_correct(t, q, scale, mean, n_mean, m->t[bias].data);
    free(t->data);
    t->data = q;
    q = NULL;
    t->nbytes = (size_t)n;
    t->type = SN_TFL_INT8;
    if ((s = sn__q_set(t, (int)ch, dim, scale, zp, err)) != SN_OK || bias < 0) goto done;
    sn_tfl_tensor *b = &m->t[bias];
    if (b->type != SN_TFL_FLOAT32 || sn_tfl_numel(b) != ch) {
        s = sn_errorf(err, SN_ERR_INTERNAL, "bias '%s' does not match filter '%s'", b->name,
                      t->name);
        goto done;
    }
    int32_t *qb = malloc(sizeof(int32_t) * (size_t)ch);
    if (!qb) {
        s = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory quantizing '%s'", b->name);
        goto done;
    }
    const float *bf = b->data;
    for (int64_t c = 0; c < ch; c++) {
        scale[c] *= in_scale;
        double v = nearbyint((double)bf[c] / scale[c]);
        qb[c] = (int32_t)(v < INT32_MIN ? INT32_MIN : v > INT32_MAX ? INT32_MAX : v);
    }
    free(b->data);
    b->data = qb;
    b->nbytes = sizeof(int32_t) * (size_t)ch;
    b->type = SN_TFL_INT32;
    s = sn__q_set(b, (int)ch, 0, scale, zp, err);
done:
    free(scale);
    free(zp);
    free(q);
    return s;
}

/* A float twin for each graph input (QUANTIZE into an int8 tensor the ops read) and output
 * (DEQUANTIZE from the int8 tensor the ops write). */
static sn_status sn__q_boundaries(sn_tfl_model *m, sn_error *err) {
    int n_ops = m->n_ops;
    for (int io = 0; io < m->n_inputs + m->n_outputs; io++) {
        bool is_in = io < m->n_inputs;
        int f = is_in ? m->inputs[io] : m->outputs[io - m->n_inputs];
        char name[300];
        snprintf(name, sizeof name, "%s_int8", m->t[f].name);
        sn_tfl_tensor c = m->t[f];
        int q = sn_tfl_add_tensor(m, name, c.rank, c.shape, c.batched, c.src, err);
        if (q < 0) return err->status;
        for (int i = 0; i < n_ops; i++) {
            for (int j = 0; j < m->ops[i].n_in; j++)
                if (m->ops[i].in[j] == f) m->ops[i].in[j] = q;
            if (!is_in && m->ops[i].out[0] == f) m->ops[i].out[0] = q;
        }
        int code = is_in ? SN_TFL_OP_QUANTIZE : SN_TFL_OP_DEQUANTIZE;
        int op = sn_tfl_add_op(m, code, -1, is_in ? &f : &q, 1, is_in ? &q : &f, 1, err);
        if (op < 0) return err->status;
        sn_tfl_op_options(m, op, is_in ? SN_TFL_OPT_QUANTIZE : SN_TFL_OPT_DEQUANTIZE);
    }
    /* QUANTIZE ops first (they were appended first), DEQUANTIZE ops last. */
    return sn_tfl_ops_to_front(m, n_ops, m->n_inputs, err);
}

static bool sn__q_float_io(const sn_tfl_model *m, int t) {
    for (int i = 0; i < m->n_inputs; i++)
        if (m->inputs[i] == t) return true;
    for (int i = 0; i < m->n_outputs; i++)
        if (m->outputs[i] == t) return true;
    return false;
}

sn_status sn__tfl_quantize_int8(sn_tfl_model *m, const sn__tfl_ranges *r, sn_error *err) {
    for (int i = 0; i < m->n_ops; i++)
        if (!sn__q_has_int8_kernel(m->ops[i].code)) {
            const char *op = sn_tfl_op_name(m->ops[i].code);
            return m->ops[i].node >= 0
                       ? sn__export_refuse(m->g, m->ops[i].node, err, "TFLite has no int8 %s kernel",
                                           op)
                       : sn_errorf(err, SN_ERR_UNSUPPORTED, "TFLite has no int8 %s kernel", op);
        }
    sn_status s = sn__q_boundaries(m, err);
    if (s != SN_OK) return s;
    sn__q q = {0};
    int nt = m->n_t;
    q.parent = malloc(sizeof(int) * (size_t)nt);
    q.fixed = calloc((size_t)nt, sizeof(int));
    q.lo = malloc(sizeof(float) * (size_t)nt);
    q.hi = malloc(sizeof(float) * (size_t)nt);
    if (!q.parent || !q.fixed || !q.lo || !q.hi) {
        s = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory quantizing");
        goto done;
    }
    for (int t = 0; t < nt; t++) {
        q.parent[t] = t;
        int src = m->t[t].src;
        q.lo[t] = src >= 0 ? r->lo[src] : INFINITY;
        q.hi[t] = src >= 0 ? r->hi[src] : -INFINITY;
    }
    for (int i = 0; i < m->n_ops; i++) {
        const sn_tfl_op *o = &m->ops[i];
        if (o->code == SN_TFL_OP_LOGISTIC || o->code == SN_TFL_OP_SOFTMAX ||
            o->code == SN_TFL_OP_TANH)
            q.fixed[o->out[0]] = o->code;
    }
    for (int i = 0; i < m->n_ops; i++) {
        const sn_tfl_op *o = &m->ops[i];
        if (!sn__q_same_params(o->code)) continue;
        for (int k = 0; k < (o->code == SN_TFL_OP_CONCATENATION ? o->n_in : 1); k++) {
            int x = o->in[k];
            if (x < 0 || m->t[x].data) continue;
            if (!sn__q_union(&q, o->out[0], x)) {
                s = sn_errorf(err, SN_ERR_UNSUPPORTED,
                              "%s joins tensors that TFLite's int8 kernels fix to different "
                              "scales ('%s')",
                              sn_tfl_op_name(o->code), m->t[x].name);
                goto done;
            }
        }
    }
    /* Activations: the group's parameters. */
    for (int t = 0; t < nt && s == SN_OK; t++) {
        sn_tfl_tensor *x = &m->t[t];
        if (x->data || x->type != SN_TFL_FLOAT32 || sn__q_float_io(m, t)) continue;
        int g = sn__q_find(&q, t);
        float scale;
        int64_t zp;
        if (q.fixed[g] == SN_TFL_OP_TANH) {
            scale = 1.0f / 128.0f, zp = 0;
        } else if (q.fixed[g]) {
            scale = 1.0f / 256.0f, zp = -128;
        } else if (q.lo[g] <= q.hi[g] && !(isfinite(q.lo[g]) && isfinite(q.hi[g]))) {
            s = sn_errorf(err, SN_ERR_UNSUPPORTED, "tensor '%s' reaches %g on the calibration "
                          "inputs; int8 needs finite ranges", x->name,
                          (double)(isfinite(q.lo[g]) ? q.hi[g] : q.lo[g]));
            break;
        } else if (q.lo[g] <= q.hi[g]) {
            sn__q_params(q.lo[g], q.hi[g], &scale, &zp);
        } else {
            s = sn_errorf(err, SN_ERR_INTERNAL, "no calibrated range for tensor '%s'", x->name);
            break;
        }
        x->type = SN_TFL_INT8;
        s = sn__q_set(x, 1, 0, &scale, &zp, err);
    }
    /* Constants, by the op that reads them. */
    for (int i = 0; i < m->n_ops && s == SN_OK; i++) {
        const sn_tfl_op *o = &m->ops[i];
        const sn_tfl_tensor *in0 = o->n_in ? &m->t[o->in[0]] : NULL;
        for (int k = 0; k < o->n_in && s == SN_OK; k++) {
            int c = o->in[k];
            if (c < 0 || !m->t[c].data || m->t[c].type != SN_TFL_FLOAT32) continue;
            sn_tfl_tensor *t = &m->t[c];
            if (t->role == SN_TFL_ROLE_FILTER || t->role == SN_TFL_ROLE_DW_FILTER) {
                int src = in0->src;
                s = sn__q_filter(m, c, o->n_in > 2 ? o->in[2] : -1, in0->scale[0],
                                 src >= 0 ? r->mean[src] : NULL, src >= 0 ? r->n_mean[src] : 0,
                                 err);
            } else if (t->role == SN_TFL_ROLE_SAME_AS_IN) {
                /* The op's activation params: its first activation input, or its output. */
                const sn_tfl_tensor *ref = in0 && !in0->data ? in0 : &m->t[o->out[0]];
                s = sn__q_const(t, ref->scale[0], ref->zero_point[0], err);
            } else if (t->role == SN_TFL_ROLE_OPERAND) {
                const float *f = t->data;
                float lo = INFINITY, hi = -INFINITY, scale;
                int64_t zp;
                for (size_t j = 0; j < t->nbytes / sizeof(float); j++) {
                    if (f[j] < lo) lo = f[j];
                    if (f[j] > hi) hi = f[j];
                }
                sn__q_params(lo, hi, &scale, &zp);
                s = sn__q_const(t, scale, zp, err);
            } else if (t->role != SN_TFL_ROLE_BIAS) {
                s = sn_errorf(err, SN_ERR_INTERNAL, "float constant '%s' has no int8 rule",
                              t->name);
            }
        }
    }
    for (int t = 0; t < nt && s == SN_OK; t++)
        if (m->t[t].data && m->t[t].type == SN_TFL_FLOAT32)
            s = sn_errorf(err, SN_ERR_INTERNAL, "constant '%s' was left unquantized", m->t[t].name);
done:
    free(q.parent);
    free(q.fixed);
    free(q.lo);
    free(q.hi);
    return s;
}
