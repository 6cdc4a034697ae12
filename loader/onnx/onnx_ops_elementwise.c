/*
 * onnx_ops_elementwise.c - ONNX's elementwise ops to Sentinel nodes: the activations (Relu,
 * Sigmoid, Tanh, LeakyRelu, HardSigmoid, HardSwish), Clip (its min/max inputs, which must be
 * constants, become attributes), Add/Sub/Mul/Div with broadcasting, Sum (a chain of Adds),
 * Softmax (opsets 11-12 coerce the input to 2-D around `axis`: a Flatten, a Softmax over the last
 * axis and a Reshape back), Identity, Dropout (inference: the identity) and Cast to float of a
 * float tensor (the identity too).
 */
#include <math.h>
#include <string.h>

#include "onnx_internal.h"

static sn_status sn__unary(sn__ox_ctx *c, sn_op op, const sn_attr *attrs, int n_attrs) {
    int x, out;
    sn_status st = sn__ox_in_tensor(c, 0, &x);
    if (st == SN_OK) st = sn__ox_emit(c, op, &x, 1, attrs, n_attrs, sn__ox_out_name(c, 0), &out);
    return st == SN_OK ? sn__ox_out_tensor(c, 0, out) : st;
}

sn_status sn__ox_activation(sn__ox_ctx *c) {
    const char *t = c->node->op_type;
    float alpha, beta;
    sn_status st;
    if (!strcmp(t, "Relu")) return sn__unary(c, SN_OP_RELU, NULL, 0);
    if (!strcmp(t, "Sigmoid")) return sn__unary(c, SN_OP_SIGMOID, NULL, 0);
    if (!strcmp(t, "Tanh")) return sn__unary(c, SN_OP_TANH, NULL, 0);
    if (!strcmp(t, "HardSwish")) return sn__unary(c, SN_OP_HARD_SWISH, NULL, 0);
    if (!strcmp(t, "LeakyRelu")) {
        if ((st = sn__ox_attr_float(c, "alpha", 0.01f, &alpha)) != SN_OK) return st;
        sn_attr a = sn_attr_float("alpha", alpha);
        return sn__unary(c, SN_OP_LEAKY_RELU, &a, 1);
    }
    /* HardSigmoid */
    if ((st = sn__ox_attr_float(c, "alpha", 0.2f, &alpha)) != SN_OK) return st;
    if ((st = sn__ox_attr_float(c, "beta", 0.5f, &beta)) != SN_OK) return st;
    sn_attr a[] = {sn_attr_float("alpha", alpha), sn_attr_float("beta", beta)};
    return sn__unary(c, SN_OP_HARD_SIGMOID, a, 2);
}

/* A scalar float constant input (Clip's bounds). */
static sn_status sn__scalar(sn__ox_ctx *c, int k, const char *what, float *out, bool *given) {
    sn__ox_value *v = sn__ox_in(c, k);
    *given = v != NULL;
    if (!v) return SN_OK;
    if (!v->c)
        return sn__ox_unsupported(c, "%s ('%s') is computed at run time; Sentinel needs a constant",
                                  what, v->name);
    if (v->c->numel != 1)
        return sn__ox_fail(c, SN_ERR_FORMAT, "%s must be a single value", what);
    *out = v->c->kind == SN__OX_FLOAT ? v->c->f[0] : (float)v->c->i[0];
    if (isnan(*out)) return sn__ox_fail(c, SN_ERR_FORMAT, "%s is NaN", what);
    return SN_OK;
}

sn_status sn__ox_clip(sn__ox_ctx *c) {
    float lo = -INFINITY, hi = INFINITY;
    bool has_lo, has_hi;
    sn_status st = sn__scalar(c, 1, "min", &lo, &has_lo);
    if (st == SN_OK) st = sn__scalar(c, 2, "max", &hi, &has_hi);
    if (st != SN_OK) return st;
    sn_attr a[2];
    int n = 0;
    if (has_lo) a[n++] = sn_attr_float("min", lo);
    if (has_hi) a[n++] = sn_attr_float("max", hi);
    return sn__unary(c, SN_OP_CLIP, a, n);
}

static sn_op sn__binary_op(const char *t) {
    return t[0] == 'A' ? SN_OP_ADD : t[0] == 'S' ? SN_OP_SUB : t[0] == 'M' ? SN_OP_MUL : SN_OP_DIV;
}

sn_status sn__ox_binary(sn__ox_ctx *c) {
    int in[2], out;
    sn_status st = sn__ox_in_tensor(c, 0, &in[0]);
    if (st == SN_OK) st = sn__ox_in_tensor(c, 1, &in[1]);
    if (st == SN_OK)
        st = sn__ox_emit(c, sn__binary_op(c->node->op_type), in, 2, NULL, 0, sn__ox_out_name(c, 0),
                         &out);
    return st == SN_OK ? sn__ox_out_tensor(c, 0, out) : st;
}

sn_status sn__ox_sum(sn__ox_ctx *c) {
    int n = sn__ox_n_inputs(c->node), acc, x, out;
    const char *name = sn__ox_out_name(c, 0);
    sn_status st = sn__ox_in_tensor(c, 0, &acc);
    if (st != SN_OK) return st;
    if (n == 1) {
        st = sn__ox_emit(c, SN_OP_IDENTITY, &acc, 1, NULL, 0, name, &out);
        return st == SN_OK ? sn__ox_out_tensor(c, 0, out) : st;
    }
    for (int k = 1; k < n; k++) {
        if ((st = sn__ox_in_tensor(c, k, &x)) != SN_OK) return st;
        int in[2] = {acc, x};
        st = sn__ox_emit(c, SN_OP_ADD, in, 2, NULL, 0,
                         k == n - 1 ? name : sn__ox_fresh_name(c, name, "sum"), &acc);
        if (st != SN_OK) return st;
    }
    return sn__ox_out_tensor(c, 0, acc);
}

sn_status sn__ox_softmax(sn__ox_ctx *c) {
    int x, out;
    int64_t axis;
    sn_status st = sn__ox_in_tensor(c, 0, &x);
    if (st == SN_OK) st = sn__ox_attr_int(c, "axis", c->opset < 13 ? 1 : -1, &axis);
    if (st != SN_OK) return st;
    const sn_shape *s = sn__ox_shape(c, x);
    const int r = s->rank;
    if (!sn__ox_norm_axis(&axis, r))
        return sn__ox_fail(c, SN_ERR_FORMAT, "axis is out of range for rank %d", r);
    const char *name = sn__ox_out_name(c, 0);
    if (c->opset >= 13 || axis == r - 1) {
        sn_attr a = sn_attr_int("axis", axis);
        st = sn__ox_emit(c, SN_OP_SOFTMAX, &x, 1, &a, 1, name, &out);
        return st == SN_OK ? sn__ox_out_tensor(c, 0, out) : st;
    }
    /* Opset < 13: softmax over everything from `axis` on, as one row per leading index. */
    int64_t back[SN_MAX_RANK];
    for (int i = 0; i < r; i++) back[i] = s->d[i];
    if (sn__ox_batched(c, x)) {
        if (axis == 0)
            return sn__ox_unsupported(c, "softmax across the batch (axis 0, opset < 13)");
        back[0] = -1; /* the batch: whatever is left */
    }
    int flat, soft;
    sn_attr fa = sn_attr_int("axis", axis), sa = sn_attr_int("axis", -1),
            ra = sn_attr_ints("shape", back, r);
    st = sn__ox_emit(c, SN_OP_FLATTEN, &x, 1, &fa, 1, sn__ox_fresh_name(c, name, "flat"), &flat);
    if (st == SN_OK)
        st = sn__ox_emit(c, SN_OP_SOFTMAX, &flat, 1, &sa, 1, sn__ox_fresh_name(c, name, "soft"), &soft);
    if (st == SN_OK) st = sn__ox_emit(c, SN_OP_RESHAPE, &soft, 1, &ra, 1, name, &out);
    return st == SN_OK ? sn__ox_out_tensor(c, 0, out) : st;
}

sn_status sn__ox_identity(sn__ox_ctx *c) {
    if (!strcmp(c->node->op_type, "Dropout")) {
        /* Opset 12+: training_mode is an input; only inference (false or absent) is possible. */
        sn__ox_value *tm = sn__ox_in(c, 2);
        if (tm && (!tm->c || tm->c->numel != 1 ||
                   (tm->c->kind == SN__OX_INT ? tm->c->i[0] != 0 : tm->c->f[0] != 0.0f)))
            return sn__ox_unsupported(c, "Dropout in training mode");
    }
    return sn__unary(c, SN_OP_IDENTITY, NULL, 0);
}

sn_status sn__ox_cast(sn__ox_ctx *c) {
    int64_t to;
    sn_status st = sn__ox_attr_int(c, "to", 0, &to);
    if (st != SN_OK) return st;
    sn__ox_value *v = sn__ox_in(c, 0);
    if (!v) return sn__ox_fail(c, SN_ERR_FORMAT, "input 0 is missing");
    if (to != SN__OX_T_FLOAT || v->tensor < 0 || c->g->tensors[v->tensor].dtype != SN_DTYPE_F32)
        return sn__ox_unsupported(c, "Sentinel casts at run time only float to float (the "
                                     "identity); this is a cast to %s",
                                  sn__ox_type_name((int32_t)to));
    return sn__unary(c, SN_OP_IDENTITY, NULL, 0);
}
