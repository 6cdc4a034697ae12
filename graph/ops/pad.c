/*
 * pad.c - op definition of Pad (f32, any rank): pads[2*rank] as all begins then all ends,
 * non-negative; mode 0 constant (with `value`), 1 reflect (each pad smaller than its dim, as
 * one mirror image must cover it), 2 edge.
 */
#include "pad.h"

#include "tensor_op_util.h"

static const sn_attr_spec sn__pad_attrs[] = {
    {"pads", SN_ATTR_INTS}, {"mode", SN_ATTR_INT}, {"value", SN_ATTR_FLOAT}, {NULL, 0}};

static sn_status sn__pad_infer(const sn_node *n, const sn_value *in, sn_value *out,
                               sn_error *err) {
    sn_status st;
    if ((st = sn__check_input(n, in, 0, err)) != SN_OK) return st;
    if ((st = sn__require_f32(n, in, 0, err)) != SN_OK) return st;
    const int r = in[0].rank;
    int cnt = 0;
    const int64_t *pads = sn_node_attr_ints(n, "pads", &cnt);
    if (!pads && !sn_node_attr(n, "pads"))
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, SN__NODE_FMT ": attribute 'pads' is required",
                         SN__NODE_ARGS(n));
    if (cnt != 2 * r)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         SN__NODE_FMT ": pads has %d values; a rank %d input needs %d",
                         SN__NODE_ARGS(n), cnt, r, 2 * r);
    int64_t mode = sn_node_attr_int(n, "mode", SN_PAD_CONSTANT);
    if (mode < SN_PAD_CONSTANT || mode > SN_PAD_EDGE)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         SN__NODE_FMT ": mode %lld is not 0 (constant), 1 (reflect) or 2 (edge)",
                         SN__NODE_ARGS(n), (long long)mode);
    for (int i = 0; i < r; i++) {
        int64_t b = pads[i], e = pads[r + i], d = in[0].d[i];
        if (b < 0 || e < 0)
            return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                             SN__NODE_FMT ": pads on axis %d are %lld,%lld; negative pads (crops) "
                             "are not supported",
                             SN__NODE_ARGS(n), i, (long long)b, (long long)e);
        if (mode == SN_PAD_REFLECT && (b >= d || e >= d))
            return sn_errorf(err, SN_ERR_SHAPE,
                             SN__NODE_FMT ": reflect pads %lld,%lld on axis %d must be smaller "
                             "than the dim %lld",
                             SN__NODE_ARGS(n), (long long)b, (long long)e, i, (long long)d);
        if (mode == SN_PAD_EDGE && d == 0 && (b > 0 || e > 0))
            return sn_errorf(err, SN_ERR_SHAPE, SN__NODE_FMT ": edge pad of the empty axis %d",
                             SN__NODE_ARGS(n), i);
        if (__builtin_add_overflow(d, b, &out[0].d[i]) ||
            __builtin_add_overflow(out[0].d[i], e, &out[0].d[i]))
            return sn_errorf(err, SN_ERR_SHAPE, SN__NODE_FMT ": padded dim %d overflows",
                             SN__NODE_ARGS(n), i);
    }
    out[0].dtype = SN_DTYPE_F32;
    out[0].rank = r;
    return SN_OK;
}

static sn_status sn__pad_run(const sn_cpu_ctx *ctx, const sn_node *n, const sn_value *in,
                             sn_value *out, sn_error *err) {
    int cnt = 0;
    const int64_t *pads = sn_node_attr_ints(n, "pads", &cnt);
    int64_t mode = sn_node_attr_int(n, "mode", SN_PAD_CONSTANT);
    if (cnt != 2 * in[0].rank || (in[0].rank > 0 && !pads))
        return sn_errorf(err, SN_ERR_INTERNAL, SN__NODE_FMT ": pads do not match the input rank",
                         SN__NODE_ARGS(n));
    sn_cpu_pad_f32(in[0].data, in[0].rank, in[0].d, pads, (sn_pad_mode)mode,
                   sn_node_attr_float(n, "value", 0.0f), out[0].data, ctx->threads);
    return SN_OK;
}

static double sn__pad_flops(const sn_node *n, const sn_value *in, const sn_value *out) {
    (void)n;
    (void)in;
    (void)out;
    return 0.0; /* data movement */
}

const sn_op_def sn_op_def_pad = {
    .name = "Pad",
    .min_inputs = 1,
    .max_inputs = 1,
    .n_outputs = 1,
    .attrs = sn__pad_attrs,
    .infer = sn__pad_infer,
    .cpu_run = sn__pad_run,
    .flops = sn__pad_flops,
};
