/*
 * norm.c - the BatchNormalization (inference form) and BiasAdd op definitions. Both act on
 * X[N, C, ...] (or X[N, H, W, C] with layout NHWC) with per-channel vectors of length C; kernels
 * are in kernels/cpu/norm.c.
 */
#include "norm.h"

#include <math.h>

#include "nn_op_util.h"

/* X must be [N, C, ...] (NCHW) or [N, H, W, C] (NHWC) and inputs [1, n_vec] vectors of length
 * C; *axis receives the channel axis. */
static sn_status channel_inputs(const sn_node *n, const sn_value *in, int n_vec, int *axis,
                                sn_error *err) {
    static const char *const names[] = {"X", "scale", "bias", "mean", "var"};
    char buf[96];
    int64_t layout = SN_LAYOUT_NCHW;
    sn_status s = sn__nn_check_inputs(n, in, 1 + n_vec, err);
    if (s == SN_OK) s = sn__nn_attr_layout(n, &layout, err);
    if (s != SN_OK) return s;
    const bool nhwc = layout == SN_LAYOUT_NHWC;
    if (in[0].rank < 2 || (nhwc && in[0].rank != 4))
        return sn_errorf(err, SN_ERR_SHAPE, SN__NODE_FMT ": X must be %s, got %s",
                         SN__NODE_ARGS(n), nhwc ? "[N,H,W,C]" : "[N,C,...]",
                         sn__dims_str(in[0].d, in[0].rank, buf, sizeof buf));
    *axis = nhwc ? 3 : 1;
    for (int i = 1; i <= n_vec; i++)
        if (in[i].rank != 1 || in[i].d[0] != in[0].d[*axis])
            return sn_errorf(err, SN_ERR_SHAPE,
                             SN__NODE_FMT ": %s (input %d) is %s, expected [%lld] (the channels "
                             "of X)",
                             SN__NODE_ARGS(n), n->op == SN_OP_BIAS_ADD ? "B" : names[i], i,
                             sn__dims_str(in[i].d, in[i].rank, buf, sizeof buf),
                             (long long)in[0].d[*axis]);
    return SN_OK;
}

static void same_shape(const sn_value *x, sn_value *out) {
    out->present = true;
    out->dtype = SN_DTYPE_F32;
    out->rank = x->rank;
    for (int i = 0; i < x->rank; i++) out->d[i] = x->d[i];
}

static sn_status batchnorm_eps(const sn_node *n, float *eps, sn_error *err) {
    sn_status s = sn__nn_attr_float(n, "epsilon", 1e-5f, eps, err);
    if (s == SN_OK && !(*eps >= 0.0f && isfinite(*eps)))
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         SN__NODE_FMT ": attribute 'epsilon' = %g must be finite and >= 0",
                         SN__NODE_ARGS(n), (double)*eps);
    return s;
}

static sn_status batchnorm_infer(const sn_node *n, const sn_value *in, sn_value *out,
                                 sn_error *err) {
    float eps;
    int axis;
    sn_status s = channel_inputs(n, in, 4, &axis, err);
    if (s == SN_OK) s = batchnorm_eps(n, &eps, err);
    if (s == SN_OK) same_shape(&in[0], &out[0]);
    return s;
}

static sn_status batchnorm_run(const sn_cpu_ctx *ctx, const sn_node *n, const sn_value *in,
                               sn_value *out, sn_error *err) {
    float eps;
    int axis;
    sn_status s = channel_inputs(n, in, 4, &axis, err);
    if (s == SN_OK) s = batchnorm_eps(n, &eps, err);
    if (s != SN_OK) return s;
    int64_t c = in[0].d[axis];
    if (axis == 3) {
        sn_cpu_batchnorm_nhwc_f32(in[0].data, sn_value_numel(&in[0]) / c, c, in[1].data,
                                  in[2].data, in[3].data, in[4].data, eps, out[0].data,
                                  ctx->threads);
        return SN_OK;
    }
    sn_cpu_batchnorm_f32(in[0].data, in[0].d[0], c, sn_value_numel(&in[0]) / (in[0].d[0] * c),
                         in[1].data, in[2].data, in[3].data, in[4].data, eps, out[0].data,
                         ctx->threads);
    return SN_OK;
}

static sn_status bias_add_infer(const sn_node *n, const sn_value *in, sn_value *out,
                                sn_error *err) {
    int axis;
    sn_status s = channel_inputs(n, in, 1, &axis, err);
    if (s == SN_OK) same_shape(&in[0], &out[0]);
    return s;
}

static sn_status bias_add_run(const sn_cpu_ctx *ctx, const sn_node *n, const sn_value *in,
                              sn_value *out, sn_error *err) {
    int axis;
    sn_status s = channel_inputs(n, in, 1, &axis, err);
    if (s != SN_OK) return s;
    int64_t c = in[0].d[axis];
    if (axis == 3) {
        sn_cpu_bias_add_nhwc_f32(in[0].data, sn_value_numel(&in[0]) / c, c, in[1].data,
                                 out[0].data, ctx->threads);
        return SN_OK;
    }
    sn_cpu_bias_add_f32(in[0].data, in[0].d[0], c, sn_value_numel(&in[0]) / (in[0].d[0] * c),
                        in[1].data, out[0].data, ctx->threads);
    return SN_OK;
}

static double two_per_element(const sn_node *n, const sn_value *in, const sn_value *out) {
    (void)n, (void)in;
    return 2.0 * (double)sn_value_numel(&out[0]);
}

/* momentum is accepted (ONNX exporters write it) and ignored: it only matters in training. */
static const sn_attr_spec batchnorm_attrs[] = {{"epsilon", SN_ATTR_FLOAT},
                                               {"momentum", SN_ATTR_FLOAT},
                                               {"layout", SN_ATTR_INT},
                                               {NULL, 0}};
static const sn_attr_spec bias_add_attrs[] = {{"layout", SN_ATTR_INT}, {NULL, 0}};

const sn_op_def sn_op_def_batchnorm = {
    .name = "BatchNormalization", .min_inputs = 5, .max_inputs = 5, .n_outputs = 1,
    .attrs = batchnorm_attrs, .infer = batchnorm_infer, .cpu_run = batchnorm_run,
    .flops = two_per_element,
};

const sn_op_def sn_op_def_bias_add = {
    .name = "BiasAdd", .min_inputs = 2, .max_inputs = 2, .n_outputs = 1, .attrs = bias_add_attrs,
    .infer = bias_add_infer, .cpu_run = bias_add_run,
};
