/* nn_op_util.c - see nn_op_util.h. */
#include "nn_op_util.h"

#include <limits.h>
#include <math.h>

sn_status sn__nn_check_inputs(const sn_node *n, const sn_value *in, int n_required,
                              sn_error *err) {
    if (n->n_inputs < n_required)
        return sn_errorf(err, SN_ERR_GRAPH, SN__NODE_FMT ": needs %d inputs, has %d",
                         SN__NODE_ARGS(n), n_required, n->n_inputs);
    for (int i = 0; i < n->n_inputs; i++) {
        if (i >= n_required && !in[i].present) continue;
        sn_status s = sn__check_input(n, in, i, err);
        if (s == SN_OK) s = sn__require_f32(n, in, i, err);
        if (s != SN_OK) return s;
        for (int k = 0; k < in[i].rank; k++)
            if (in[i].d[k] < 1 || in[i].d[k] > INT32_MAX)
                return sn_errorf(err, SN_ERR_SHAPE,
                                 SN__NODE_FMT ": input %d has dim %d = %lld (must be 1..%d)",
                                 SN__NODE_ARGS(n), i, k, (long long)in[i].d[k], INT32_MAX);
    }
    return SN_OK;
}

sn_status sn__nn_check_rank(const sn_node *n, const sn_value *in, int i, const char *what,
                            int rank, sn_error *err) {
    if (in[i].rank == rank) return SN_OK;
    char buf[128];
    return sn_errorf(err, SN_ERR_SHAPE, SN__NODE_FMT ": %s (input %d) must be %d-D, got %s",
                     SN__NODE_ARGS(n), what, i, rank,
                     sn__dims_str(in[i].d, in[i].rank, buf, sizeof buf));
}

sn_status sn__nn_attr_int(const sn_node *n, const char *name, int64_t dflt, int64_t lo, int64_t hi,
                          int64_t *out, sn_error *err) {
    const sn_attr *a = sn_node_attr(n, name);
    if (!a) {
        *out = dflt;
        return SN_OK;
    }
    if (a->type != SN_ATTR_INT)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         SN__NODE_FMT ": attribute '%s' must be an int", SN__NODE_ARGS(n), name);
    if (a->v.i < lo || a->v.i > hi)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         SN__NODE_FMT ": attribute '%s' = %lld is outside [%lld, %lld]",
                         SN__NODE_ARGS(n), name, (long long)a->v.i, (long long)lo, (long long)hi);
    *out = a->v.i;
    return SN_OK;
}

sn_status sn__nn_attr_layout(const sn_node *n, int64_t *layout, sn_error *err) {
    /* NCHW is 1 and NHWC 2 (sn_layout); 0 (any) means nothing for these ops. */
    return sn__nn_attr_int(n, "layout", SN_LAYOUT_NCHW, SN_LAYOUT_NCHW, SN_LAYOUT_NHWC, layout,
                           err);
}

sn_status sn__nn_attr_float(const sn_node *n, const char *name, float dflt, float *out,
                            sn_error *err) {
    const sn_attr *a = sn_node_attr(n, name);
    if (!a) {
        *out = dflt;
        return SN_OK;
    }
    if (a->type != SN_ATTR_FLOAT)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         SN__NODE_FMT ": attribute '%s' must be a float", SN__NODE_ARGS(n), name);
    if (isnan(a->v.f))
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, SN__NODE_FMT ": attribute '%s' is NaN",
                         SN__NODE_ARGS(n), name);
    *out = a->v.f;
    return SN_OK;
}

sn_status sn__nn_check_blas_dim(const sn_node *n, const char *what, double v, sn_error *err) {
    if (v <= (double)INT_MAX) return SN_OK;
    return sn_errorf(err, SN_ERR_UNSUPPORTED, SN__NODE_FMT ": %s = %.0f exceeds the GEMM limit %d",
                     SN__NODE_ARGS(n), what, v, INT_MAX);
}

/* An INTS attribute of exactly `count` values in [lo, INT32_MAX], or dflt when absent. */
static sn_status read_ints(const sn_node *n, const char *name, int count, int64_t dflt,
                           int64_t lo, int64_t *out, sn_error *err) {
    const sn_attr *a = sn_node_attr(n, name);
    if (!a) {
        for (int i = 0; i < count; i++) out[i] = dflt;
        return SN_OK;
    }
    if (a->type != SN_ATTR_INTS || a->n != count)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         SN__NODE_FMT ": attribute '%s' must be %d ints", SN__NODE_ARGS(n), name,
                         count);
    for (int i = 0; i < count; i++) {
        if (a->v.ints[i] < lo || a->v.ints[i] > INT32_MAX)
            return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                             SN__NODE_FMT ": attribute '%s'[%d] = %lld is outside [%lld, %d]",
                             SN__NODE_ARGS(n), name, i, (long long)a->v.ints[i], (long long)lo,
                             INT32_MAX);
        out[i] = a->v.ints[i];
    }
    return SN_OK;
}

/* Output extent of one axis; -1 when the dilated kernel does not fit the padded input. */
static int64_t window_extent(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pad_begin,
                             int64_t pad_end, bool ceil_mode) {
    int64_t span = (k - 1) * d + 1, room = in + pad_begin + pad_end - span;
    if (room < 0) return -1;
    int64_t out = (ceil_mode ? room + s - 1 : room) / s + 1;
    /* ONNX (and PyTorch): with ceil_mode the last window must start inside the input or the
     * begin padding; one that would start in the end padding is dropped. */
    if (ceil_mode && (out - 1) * s >= in + pad_begin) out--;
    return out;
}

sn_status sn__nn_window_read(const sn_node *n, int64_t h, int64_t w, int64_t kh, int64_t kw,
                             sn_window_rules rules, sn_window2d *win, sn_error *err) {
    int64_t strides[2], pads[4], dil[2] = {1, 1};
    sn_status s = read_ints(n, "strides", 2, 1, 1, strides, err);
    if (s == SN_OK) s = read_ints(n, "pads", 4, 0, 0, pads, err);
    if (s == SN_OK && rules.dilations) s = read_ints(n, "dilations", 2, 1, 1, dil, err);
    if (s != SN_OK) return s;
    *win = (sn_window2d){.kh = kh, .kw = kw, .sh = strides[0], .sw = strides[1], .dh = dil[0],
                         .dw = dil[1], .pt = pads[0], .pl = pads[1], .pb = pads[2], .pr = pads[3]};
    if (rules.pads_below_kernel &&
        (pads[0] >= kh || pads[2] >= kh || pads[1] >= kw || pads[3] >= kw))
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         SN__NODE_FMT ": pads [%lld,%lld,%lld,%lld] must be smaller than the "
                         "kernel %lldx%lld",
                         SN__NODE_ARGS(n), (long long)pads[0], (long long)pads[1],
                         (long long)pads[2], (long long)pads[3], (long long)kh, (long long)kw);
    win->oh = window_extent(h, kh, win->sh, win->dh, win->pt, win->pb, rules.ceil_mode);
    win->ow = window_extent(w, kw, win->sw, win->dw, win->pl, win->pr, rules.ceil_mode);
    if (win->oh < 1 || win->ow < 1)
        return sn_errorf(err, SN_ERR_SHAPE,
                         SN__NODE_FMT ": kernel %lldx%lld (dilated %lldx%lld) is larger than the "
                         "padded input %lldx%lld",
                         SN__NODE_ARGS(n), (long long)kh, (long long)kw,
                         (long long)((kh - 1) * win->dh + 1), (long long)((kw - 1) * win->dw + 1),
                         (long long)(h + win->pt + win->pb), (long long)(w + win->pl + win->pr));
    return SN_OK;
}

sn_status sn__nn_act_read(const sn_node *n, sn_activation *act, float *alpha, float *beta,
                          sn_error *err) {
    int64_t a;
    sn_status s = sn__nn_attr_int(n, "activation", SN_ACT_NONE, 0, SN_ACT_COUNT - 1, &a, err);
    if (s != SN_OK) return s;
    float da = 0.0f, db = 0.0f;
    switch ((sn_activation)a) {
    case SN_ACT_CLIP: da = -INFINITY, db = INFINITY; break;
    case SN_ACT_LEAKY_RELU: da = 0.01f; break;
    case SN_ACT_HARD_SIGMOID: da = 0.2f, db = 0.5f; break;
    default: break;
    }
    *act = (sn_activation)a;
    s = sn__nn_attr_float(n, "act_alpha", da, alpha, err);
    if (s == SN_OK) s = sn__nn_attr_float(n, "act_beta", db, beta, err);
    return s;
}
