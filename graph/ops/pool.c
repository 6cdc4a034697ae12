/*
 * pool.c - the MaxPool, AveragePool and GlobalAveragePool op definitions (ONNX semantics:
 * kernel_shape required, asymmetric pads, ceil_mode dropping a window that would start in the
 * end padding, dilations for MaxPool, count_include_pad for AveragePool) over NCHW tensors, or
 * NHWC ones with the `layout` attribute. Kernels are in kernels/cpu/pool.c and pool_nhwc.c.
 */
#include "pool.h"

#include "nn_op_util.h"

static sn_status pool_params(const sn_node *n, const sn_value *in, sn_pool2d_params *p,
                             sn_error *err) {
    const bool is_max = n->op == SN_OP_MAX_POOL;
    sn_status s = sn__nn_check_inputs(n, in, 1, err);
    if (s == SN_OK) s = sn__nn_check_rank(n, in, 0, "X", 4, err);
    if (s != SN_OK) return s;
    const sn_attr *ks = sn_node_attr(n, "kernel_shape");
    if (!ks)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         SN__NODE_FMT ": missing required attribute 'kernel_shape'",
                         SN__NODE_ARGS(n));
    if (ks->type != SN_ATTR_INTS || ks->n != 2 || ks->v.ints[0] < 1 || ks->v.ints[1] < 1 ||
        ks->v.ints[0] > INT32_MAX || ks->v.ints[1] > INT32_MAX)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         SN__NODE_FMT ": attribute 'kernel_shape' must be 2 positive ints",
                         SN__NODE_ARGS(n));
    int64_t ceil_mode = 0, include_pad = 0, layout = SN_LAYOUT_NCHW;
    s = sn__nn_attr_int(n, "ceil_mode", 0, 0, 1, &ceil_mode, err);
    if (s == SN_OK && !is_max)
        s = sn__nn_attr_int(n, "count_include_pad", 0, 0, 1, &include_pad, err);
    if (s == SN_OK) s = sn__nn_attr_layout(n, &layout, err);
    if (s != SN_OK) return s;
    const bool nhwc = layout == SN_LAYOUT_NHWC;
    const int64_t *x = in[0].d;
    *p = (sn_pool2d_params){.n = x[0], .c = x[nhwc ? 3 : 1], .h = x[nhwc ? 1 : 2],
                            .w = x[nhwc ? 2 : 3], .count_include_pad = include_pad != 0,
                            .nhwc = nhwc};
    sn_window_rules rules = {.dilations = is_max, .ceil_mode = ceil_mode != 0,
                             .pads_below_kernel = true};
    return sn__nn_window_read(n, p->h, p->w, ks->v.ints[0], ks->v.ints[1], rules, &p->win, err);
}

static sn_status pool_infer(const sn_node *n, const sn_value *in, sn_value *out, sn_error *err) {
    sn_pool2d_params p;
    sn_status s = pool_params(n, in, &p, err);
    if (s != SN_OK) return s;
    out[0].present = true;
    out[0].dtype = SN_DTYPE_F32;
    out[0].rank = 4;
    out[0].d[0] = p.n;
    out[0].d[p.nhwc ? 3 : 1] = p.c;
    out[0].d[p.nhwc ? 1 : 2] = p.win.oh;
    out[0].d[p.nhwc ? 2 : 3] = p.win.ow;
    return SN_OK;
}

static sn_status pool_run(const sn_cpu_ctx *ctx, const sn_node *n, const sn_value *in,
                          sn_value *out, sn_error *err) {
    sn_pool2d_params p;
    sn_status s = pool_params(n, in, &p, err);
    if (s != SN_OK) return s;
    if (n->op == SN_OP_MAX_POOL)
        sn_cpu_max_pool2d_f32(&p, in[0].data, out[0].data, ctx->threads);
    else
        sn_cpu_avg_pool2d_f32(&p, in[0].data, out[0].data, ctx->threads);
    return SN_OK;
}

static double pool_flops(const sn_node *n, const sn_value *in, const sn_value *out) {
    (void)in;
    const sn_attr *ks = sn_node_attr(n, "kernel_shape");
    double taps = ks && ks->type == SN_ATTR_INTS && ks->n == 2
                      ? (double)ks->v.ints[0] * (double)ks->v.ints[1]
                      : 1.0;
    return (double)sn_value_numel(&out[0]) * taps;
}

/* NCHW: X[N,C,spatial...] -> [N,C,1...]; NHWC: X[N,H,W,C] -> [N,1,1,C]. */
static sn_status global_avg_infer(const sn_node *n, const sn_value *in, sn_value *out,
                                  sn_error *err) {
    int64_t layout = SN_LAYOUT_NCHW;
    sn_status s = sn__nn_check_inputs(n, in, 1, err);
    if (s == SN_OK) s = sn__nn_attr_layout(n, &layout, err);
    if (s != SN_OK) return s;
    const bool nhwc = layout == SN_LAYOUT_NHWC;
    if (in[0].rank < 3 || (nhwc && in[0].rank != 4)) {
        char buf[96];
        return sn_errorf(err, SN_ERR_SHAPE, SN__NODE_FMT ": X must be %s, got %s",
                         SN__NODE_ARGS(n), nhwc ? "[N,H,W,C]" : "[N,C,spatial...]",
                         sn__dims_str(in[0].d, in[0].rank, buf, sizeof buf));
    }
    out[0].present = true;
    out[0].dtype = SN_DTYPE_F32;
    out[0].rank = in[0].rank;
    for (int i = 0; i < in[0].rank; i++)
        out[0].d[i] = i == 0 || i == (nhwc ? 3 : 1) ? in[0].d[i] : 1;
    return SN_OK;
}

static sn_status global_avg_run(const sn_cpu_ctx *ctx, const sn_node *n, const sn_value *in,
                                sn_value *out, sn_error *err) {
    sn_value shape;
    sn_status s = global_avg_infer(n, in, &shape, err);
    if (s != SN_OK) return s;
    const int64_t *x = in[0].d;
    if (sn_node_attr_int(n, "layout", SN_LAYOUT_NCHW) == SN_LAYOUT_NHWC) {
        sn_cpu_global_avg_pool_nhwc_f32(in[0].data, x[0], x[1] * x[2], x[3], out[0].data,
                                        ctx->threads);
        return SN_OK;
    }
    int64_t planes = x[0] * x[1];
    sn_cpu_global_avg_pool_f32(in[0].data, planes, sn_value_numel(&in[0]) / planes, out[0].data,
                               ctx->threads);
    return SN_OK;
}

static double global_avg_flops(const sn_node *n, const sn_value *in, const sn_value *out) {
    (void)n, (void)out;
    return (double)sn_value_numel(&in[0]);
}

static const sn_attr_spec max_pool_attrs[] = {
    {"kernel_shape", SN_ATTR_INTS}, {"strides", SN_ATTR_INTS}, {"pads", SN_ATTR_INTS},
    {"dilations", SN_ATTR_INTS},    {"ceil_mode", SN_ATTR_INT}, {"layout", SN_ATTR_INT},
    {NULL, 0},
};

static const sn_attr_spec avg_pool_attrs[] = {
    {"kernel_shape", SN_ATTR_INTS}, {"strides", SN_ATTR_INTS},         {"pads", SN_ATTR_INTS},
    {"ceil_mode", SN_ATTR_INT},     {"count_include_pad", SN_ATTR_INT}, {"layout", SN_ATTR_INT},
    {NULL, 0},
};

static const sn_attr_spec global_avg_attrs[] = {{"layout", SN_ATTR_INT}, {NULL, 0}};

const sn_op_def sn_op_def_max_pool = {
    .name = "MaxPool", .min_inputs = 1, .max_inputs = 1, .n_outputs = 1, .attrs = max_pool_attrs,
    .infer = pool_infer, .cpu_run = pool_run, .flops = pool_flops,
};

const sn_op_def sn_op_def_avg_pool = {
    .name = "AveragePool", .min_inputs = 1, .max_inputs = 1, .n_outputs = 1,
    .attrs = avg_pool_attrs, .infer = pool_infer, .cpu_run = pool_run, .flops = pool_flops,
};

const sn_op_def sn_op_def_global_avg_pool = {
    .name = "GlobalAveragePool", .min_inputs = 1, .max_inputs = 1, .n_outputs = 1,
    .attrs = global_avg_attrs, .infer = global_avg_infer, .cpu_run = global_avg_run,
    .flops = global_avg_flops,
};
