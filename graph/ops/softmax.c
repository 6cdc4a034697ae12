/*
 * softmax.c - the Softmax op definition (opset 13: along one axis, default -1, negative axes
 * count from the end). The kernel is in kernels/cpu/softmax.c.
 */
#include "softmax.h"

#include "nn_op_util.h"

/* The tensor as [outer, len, inner] around the axis. */
static sn_status softmax_dims(const sn_node *n, const sn_value *in, int64_t dims[3],
                              sn_error *err) {
    sn_status s = sn__nn_check_inputs(n, in, 1, err);
    if (s != SN_OK) return s;
    const int r = in[0].rank;
    if (r < 1)
        return sn_errorf(err, SN_ERR_SHAPE, SN__NODE_FMT ": X must be at least 1-D, got a scalar",
                         SN__NODE_ARGS(n));
    int64_t axis;
    s = sn__nn_attr_int(n, "axis", -1, -r, r - 1, &axis, err);
    if (s != SN_OK) return s;
    if (axis < 0) axis += r;
    dims[0] = dims[2] = 1;
    dims[1] = in[0].d[axis];
    for (int i = 0; i < r; i++)
        if (i < axis)
            dims[0] *= in[0].d[i];
        else if (i > axis)
            dims[2] *= in[0].d[i];
    return SN_OK;
}

static sn_status softmax_infer(const sn_node *n, const sn_value *in, sn_value *out,
                               sn_error *err) {
    int64_t dims[3] = {0, 0, 0};
    sn_status s = softmax_dims(n, in, dims, err);
    if (s != SN_OK) return s;
    out[0].present = true;
    out[0].dtype = SN_DTYPE_F32;
    out[0].rank = in[0].rank;
    for (int i = 0; i < in[0].rank; i++) out[0].d[i] = in[0].d[i];
    return SN_OK;
}

static sn_status softmax_run(const sn_cpu_ctx *ctx, const sn_node *n, const sn_value *in,
                             sn_value *out, sn_error *err) {
    int64_t dims[3] = {0, 0, 0};
    sn_status s = softmax_dims(n, in, dims, err);
    if (s == SN_OK)
        sn_cpu_softmax_f32(in[0].data, dims[0], dims[1], dims[2], out[0].data, ctx->threads);
    return s;
}

/* max, subtract, exp, add, scale: about five operations per element. */
static double softmax_flops(const sn_node *n, const sn_value *in, const sn_value *out) {
    (void)n, (void)in;
    return 5.0 * (double)sn_value_numel(&out[0]);
}

static const sn_attr_spec softmax_attrs[] = {{"axis", SN_ATTR_INT}, {NULL, 0}};

const sn_op_def sn_op_def_softmax = {
    .name = "Softmax", .min_inputs = 1, .max_inputs = 1, .n_outputs = 1, .attrs = softmax_attrs,
    .infer = softmax_infer, .cpu_run = softmax_run, .flops = softmax_flops,
};
