/*
 * onnx_ops_nn.c - ONNX's network ops to Sentinel nodes: Conv (2-D, groups, dilations, asymmetric
 * pads, auto_pad resolved against the known input size), MaxPool / AveragePool (ceil_mode,
 * count_include_pad, auto_pad), GlobalAveragePool, GlobalMaxPool (a MaxPool over the whole
 * plane), ReduceMean over H and W (a GlobalAveragePool), BatchNormalization (inference), Gemm,
 * and MatMul (a Gemm when both operands are matrices, so a following bias Add fuses into it).
 */
#include <string.h>

#include "onnx_internal.h"

/* strides, pads (top, left, bottom, right) and dilations of a 2-D window, with auto_pad. */
typedef struct sn__win {
    int64_t strides[2], pads[4], dil[2], kernel[2];
} sn__win;

static sn_status sn__ints2(sn__ox_ctx *c, const char *name, int want, int64_t dflt, int64_t *out) {
    const int64_t *v;
    int n;
    sn_status st = sn__ox_attr_ints(c, name, 8, &v, &n);
    if (st != SN_OK) return st;
    for (int i = 0; i < want; i++) out[i] = dflt;
    if (!v) return SN_OK;
    if (n != want) return sn__ox_fail(c, SN_ERR_FORMAT, "'%s' has %d values, expected %d", name, n, want);
    for (int i = 0; i < want; i++) out[i] = v[i];
    return SN_OK;
}

static sn_status sn__window(sn__ox_ctx *c, const sn_shape *x, bool dilations, sn__win *w) {
    char ap[32];
    sn_status st = sn__ints2(c, "strides", 2, 1, w->strides);
    if (st == SN_OK) st = sn__ints2(c, "pads", 4, 0, w->pads);
    if (st == SN_OK) st = sn__ints2(c, "dilations", 2, 1, w->dil);
    if (st == SN_OK) st = sn__ox_attr_string(c, "auto_pad", "NOTSET", ap, sizeof ap);
    if (st != SN_OK) return st;
    if (!dilations && (w->dil[0] != 1 || w->dil[1] != 1))
        return sn__ox_unsupported(c, "dilations other than 1");
    for (int i = 0; i < 2; i++)
        if (w->strides[i] < 1 || w->dil[i] < 1 || w->kernel[i] < 1 || w->strides[i] > INT32_MAX ||
            w->dil[i] > INT32_MAX)
            return sn__ox_fail(c, SN_ERR_FORMAT, "strides, dilations and kernel must be positive");
    if (!strcmp(ap, "NOTSET")) return SN_OK;
    if (!strcmp(ap, "VALID")) {
        memset(w->pads, 0, sizeof w->pads);
        return SN_OK;
    }
    bool upper = !strcmp(ap, "SAME_UPPER");
    if (!upper && strcmp(ap, "SAME_LOWER"))
        return sn__ox_fail(c, SN_ERR_FORMAT, "auto_pad '%s' is not NOTSET, SAME_UPPER, SAME_LOWER "
                           "or VALID", ap);
    for (int i = 0; i < 2; i++) {
        int64_t in = x->d[2 + i], out = (in + w->strides[i] - 1) / w->strides[i];
        int64_t total = (out - 1) * w->strides[i] + (w->kernel[i] - 1) * w->dil[i] + 1 - in;
        if (total < 0) total = 0;
        int64_t small = total / 2, big = total - small;
        w->pads[i] = upper ? small : big;
        w->pads[2 + i] = upper ? big : small;
    }
    return SN_OK;
}

static sn_status sn__need_4d(sn__ox_ctx *c, int t) {
    if (sn__ox_shape(c, t)->rank != 4)
        return sn__ox_unsupported(c, "input of rank %d; Sentinel's %s is 2-D (N,C,H,W input)",
                                  sn__ox_shape(c, t)->rank, c->node->op_type);
    return SN_OK;
}

sn_status sn__ox_conv(sn__ox_ctx *c) {
    int x, w, b = -1;
    sn_status st = sn__ox_in_tensor(c, 0, &x);
    if (st == SN_OK) st = sn__ox_in_tensor(c, 1, &w);
    if (st == SN_OK && sn__ox_in(c, 2)) st = sn__ox_in_tensor(c, 2, &b);
    if (st == SN_OK) st = sn__need_4d(c, x);
    if (st != SN_OK) return st;
    const sn_shape *ws = sn__ox_shape(c, w);
    if (ws->rank != 4) return sn__ox_fail(c, SN_ERR_SHAPE, "W has rank %d, expected 4", ws->rank);
    sn__win win = {.kernel = {ws->d[2], ws->d[3]}};
    int64_t group;
    int64_t ks[2];
    if ((st = sn__ints2(c, "kernel_shape", 2, 0, ks)) != SN_OK) return st;
    if (sn__ox_attr(c, "kernel_shape") && (ks[0] != ws->d[2] || ks[1] != ws->d[3]))
        return sn__ox_fail(c, SN_ERR_SHAPE, "kernel_shape [%lld,%lld] does not match W's [%lld,%lld]",
                           (long long)ks[0], (long long)ks[1], (long long)ws->d[2], (long long)ws->d[3]);
    if ((st = sn__ox_attr_int(c, "group", 1, &group)) != SN_OK) return st;
    if ((st = sn__window(c, sn__ox_shape(c, x), true, &win)) != SN_OK) return st;
    sn_attr attrs[] = {sn_attr_ints("strides", win.strides, 2), sn_attr_ints("pads", win.pads, 4),
                       sn_attr_ints("dilations", win.dil, 2), sn_attr_int("group", group)};
    int in[3] = {x, w, b}, out;
    st = sn__ox_emit(c, SN_OP_CONV, in, b >= 0 ? 3 : 2, attrs, 4, sn__ox_out_name(c, 0), &out);
    return st == SN_OK ? sn__ox_out_tensor(c, 0, out) : st;
}

sn_status sn__ox_pool(sn__ox_ctx *c) {
    int x, out;
    bool is_max = !strcmp(c->node->op_type, "MaxPool");
    sn_status st = sn__ox_in_tensor(c, 0, &x);
    if (st == SN_OK) st = sn__need_4d(c, x);
    if (st != SN_OK) return st;
    sn__win win;
    int64_t ceil_mode, include_pad = 0, storage = 0;
    if (!sn__ox_attr(c, "kernel_shape"))
        return sn__ox_fail(c, SN_ERR_FORMAT, "attribute 'kernel_shape' is required");
    if ((st = sn__ints2(c, "kernel_shape", 2, 1, win.kernel)) != SN_OK) return st;
    if ((st = sn__ox_attr_int(c, "ceil_mode", 0, &ceil_mode)) != SN_OK) return st;
    if (!is_max && (st = sn__ox_attr_int(c, "count_include_pad", 0, &include_pad)) != SN_OK) return st;
    if (is_max && (st = sn__ox_attr_int(c, "storage_order", 0, &storage)) != SN_OK) return st;
    if ((st = sn__window(c, sn__ox_shape(c, x), is_max, &win)) != SN_OK) return st;
    sn_attr attrs[6] = {sn_attr_ints("kernel_shape", win.kernel, 2),
                        sn_attr_ints("strides", win.strides, 2), sn_attr_ints("pads", win.pads, 4),
                        sn_attr_int("ceil_mode", ceil_mode != 0)};
    int na = 4;
    if (is_max) attrs[na++] = sn_attr_ints("dilations", win.dil, 2);
    else attrs[na++] = sn_attr_int("count_include_pad", include_pad != 0);
    st = sn__ox_emit(c, is_max ? SN_OP_MAX_POOL : SN_OP_AVG_POOL, &x, 1, attrs, na,
                     sn__ox_out_name(c, 0), &out);
    return st == SN_OK ? sn__ox_out_tensor(c, 0, out) : st;
}

sn_status sn__ox_global_pool(sn__ox_ctx *c) {
    int x, out;
    sn_status st = sn__ox_in_tensor(c, 0, &x);
    if (st != SN_OK) return st;
    if (!strcmp(c->node->op_type, "GlobalAveragePool")) {
        st = sn__ox_emit(c, SN_OP_GLOBAL_AVG_POOL, &x, 1, NULL, 0, sn__ox_out_name(c, 0), &out);
    } else {
        if ((st = sn__need_4d(c, x)) != SN_OK) return st;
        const sn_shape *s = sn__ox_shape(c, x);
        int64_t k[2] = {s->d[2], s->d[3]};
        sn_attr a = sn_attr_ints("kernel_shape", k, 2);
        st = sn__ox_emit(c, SN_OP_MAX_POOL, &x, 1, &a, 1, sn__ox_out_name(c, 0), &out);
    }
    return st == SN_OK ? sn__ox_out_tensor(c, 0, out) : st;
}

/* ReduceMean over the spatial dims of an NCHW tensor is a global average pool (keepdims) or
 * one followed by a reshape to [N,C] (keepdims=0) - what torch's x.mean([2,3]) exports. */
sn_status sn__ox_reduce_mean(sn__ox_ctx *c) {
    int x, out;
    sn_status st = sn__ox_in_tensor(c, 0, &x);
    if (st != SN_OK) return st;
    const int r = sn__ox_shape(c, x)->rank;
    int64_t axes[SN_MAX_RANK], keep, noop = 0;
    int n = 0;
    bool given;
    if ((st = sn__ox_axes(c, 18, 1, r, axes, &n, &given)) != SN_OK) return st;
    if ((st = sn__ox_attr_int(c, "keepdims", 1, &keep)) != SN_OK) return st;
    if ((st = sn__ox_attr_int(c, "noop_with_empty_axes", 0, &noop)) != SN_OK) return st;
    bool spatial = r == 4 && n == 2 && ((axes[0] == 2 && axes[1] == 3) || (axes[0] == 3 && axes[1] == 2));
    if (!spatial)
        return sn__ox_unsupported(c, "ReduceMean is supported over the H and W axes of a 4-D "
                                     "tensor only");
    const char *name = sn__ox_out_name(c, 0);
    if (!keep) {
        int pooled;
        int64_t shape[2] = {0, -1};
        sn_attr a = sn_attr_ints("shape", shape, 2);
        st = sn__ox_emit(c, SN_OP_GLOBAL_AVG_POOL, &x, 1, NULL, 0, sn__ox_fresh_name(c, name, "pool"),
                         &pooled);
        if (st == SN_OK) st = sn__ox_emit(c, SN_OP_RESHAPE, &pooled, 1, &a, 1, name, &out);
    } else {
        st = sn__ox_emit(c, SN_OP_GLOBAL_AVG_POOL, &x, 1, NULL, 0, name, &out);
    }
    return st == SN_OK ? sn__ox_out_tensor(c, 0, out) : st;
}

sn_status sn__ox_batchnorm(sn__ox_ctx *c) {
    int in[5], out;
    float eps;
    int64_t training = 0;
    sn_status st = SN_OK;
    for (int k = 0; k < 5 && st == SN_OK; k++) st = sn__ox_in_tensor(c, k, &in[k]);
    if (st == SN_OK) st = sn__ox_attr_float(c, "epsilon", 1e-5f, &eps);
    if (st == SN_OK) st = sn__ox_attr_int(c, "training_mode", 0, &training);
    if (st != SN_OK) return st;
    if (training) return sn__ox_unsupported(c, "training_mode=1 (Sentinel runs inference)");
    sn_attr a = sn_attr_float("epsilon", eps);
    st = sn__ox_emit(c, SN_OP_BATCHNORM, in, 5, &a, 1, sn__ox_out_name(c, 0), &out);
    return st == SN_OK ? sn__ox_out_tensor(c, 0, out) : st;
}

sn_status sn__ox_gemm(sn__ox_ctx *c) {
    int in[3] = {-1, -1, -1}, out;
    float alpha, beta;
    int64_t ta, tb;
    sn_status st = sn__ox_in_tensor(c, 0, &in[0]);
    if (st == SN_OK) st = sn__ox_in_tensor(c, 1, &in[1]);
    if (st == SN_OK && sn__ox_in(c, 2)) st = sn__ox_in_tensor(c, 2, &in[2]);
    if (st == SN_OK) st = sn__ox_attr_float(c, "alpha", 1.0f, &alpha);
    if (st == SN_OK) st = sn__ox_attr_float(c, "beta", 1.0f, &beta);
    if (st == SN_OK) st = sn__ox_attr_int(c, "transA", 0, &ta);
    if (st == SN_OK) st = sn__ox_attr_int(c, "transB", 0, &tb);
    if (st != SN_OK) return st;
    sn_attr attrs[] = {sn_attr_int("transA", ta != 0), sn_attr_int("transB", tb != 0),
                       sn_attr_float("alpha", alpha), sn_attr_float("beta", beta)};
    st = sn__ox_emit(c, SN_OP_GEMM, in, in[2] >= 0 ? 3 : 2, attrs, 4, sn__ox_out_name(c, 0), &out);
    return st == SN_OK ? sn__ox_out_tensor(c, 0, out) : st;
}

sn_status sn__ox_matmul(sn__ox_ctx *c) {
    int in[2], out;
    sn_status st = sn__ox_in_tensor(c, 0, &in[0]);
    if (st == SN_OK) st = sn__ox_in_tensor(c, 1, &in[1]);
    if (st != SN_OK) return st;
    bool dense = sn__ox_shape(c, in[0])->rank == 2 && sn__ox_shape(c, in[1])->rank == 2;
    st = sn__ox_emit(c, dense ? SN_OP_GEMM : SN_OP_MATMUL, in, 2, NULL, 0, sn__ox_out_name(c, 0),
                     &out);
    return st == SN_OK ? sn__ox_out_tensor(c, 0, out) : st;
}
