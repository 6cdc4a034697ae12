/*
 * conv.c - the Conv and FusedConv op definitions: attributes, shape inference, FLOPs, scratch,
 * and the glue that resolves a node into sn_conv2d_params for the CPU kernel
 * (kernels/cpu/conv.c). FusedConv is Conv plus an optional residual input Z and an activation:
 * y = act(conv(X, W) + B + Z). The `layout` attribute (NCHW by default) says how X, Z and the
 * output are laid out, and with them W: OIHW for NCHW, OHWI for NHWC.
 */
#include "conv.h"

#include "nn_op_util.h"

/* The output's dims in the node's layout. */
static void sn__conv_out_dims(const sn_conv2d_params *p, int64_t *d) {
    d[0] = p->n;
    d[p->nhwc ? 3 : 1] = p->m;
    d[p->nhwc ? 1 : 2] = p->win.oh;
    d[p->nhwc ? 2 : 3] = p->win.ow;
}

/* Everything about a conv node that inference, the kernel and the counters need. */
static sn_status conv_params(const sn_node *n, const sn_value *in, sn_conv2d_params *p,
                             sn_error *err) {
    char b1[96], b2[96];
    sn_status s = sn__nn_check_inputs(n, in, 2, err);
    if (s == SN_OK) s = sn__nn_check_rank(n, in, 0, "X", 4, err);
    if (s == SN_OK) s = sn__nn_check_rank(n, in, 1, "W", 4, err);
    int64_t group = 1, layout = SN_LAYOUT_NCHW;
    if (s == SN_OK) s = sn__nn_attr_int(n, "group", 1, 1, INT32_MAX, &group, err);
    if (s == SN_OK) s = sn__nn_attr_layout(n, &layout, err);
    if (s != SN_OK) return s;
    const int64_t *x = in[0].d, *w = in[1].d;
    const bool nhwc = layout == SN_LAYOUT_NHWC;
    /* NCHW: X[N,C,H,W], W[M,C/group,kH,kW]; NHWC: X[N,H,W,C], W[M,kH,kW,C/group] (OHWI). */
    const int64_t wc = nhwc ? w[3] : w[1], kh = nhwc ? w[1] : w[2], kw = nhwc ? w[2] : w[3];
    *p = (sn_conv2d_params){.n = x[0], .c = x[nhwc ? 3 : 1], .h = x[nhwc ? 1 : 2],
                            .w = x[nhwc ? 2 : 3], .m = w[0], .group = group, .nhwc = nhwc};
    if (p->c % group != 0 || p->m % group != 0)
        return sn_errorf(err, SN_ERR_SHAPE,
                         SN__NODE_FMT ": group %lld must divide both the %lld input channels and "
                         "the %lld output channels",
                         SN__NODE_ARGS(n), (long long)group, (long long)p->c, (long long)p->m);
    if (wc != p->c / group)
        return sn_errorf(err, SN_ERR_SHAPE,
                         SN__NODE_FMT ": W %s has %lld input channels per group, but X %s with "
                         "group %lld needs %lld",
                         SN__NODE_ARGS(n), sn__dims_str(w, 4, b1, sizeof b1), (long long)wc,
                         sn__dims_str(x, 4, b2, sizeof b2), (long long)group,
                         (long long)(p->c / group));
    int count = 0;
    const int64_t *ks = sn_node_attr_ints(n, "kernel_shape", &count);
    if (sn_node_attr(n, "kernel_shape") && (count != 2 || ks[0] != kh || ks[1] != kw))
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         SN__NODE_FMT ": attribute 'kernel_shape' does not match W %s",
                         SN__NODE_ARGS(n), sn__dims_str(w, 4, b1, sizeof b1));
    s = sn__nn_window_read(n, p->h, p->w, kh, kw, (sn_window_rules){.dilations = true},
                           &p->win, err);
    if (s != SN_OK) return s;

    const sn_value *b = sn__nn_opt_input(n, in, 2);
    if (b && (b->rank != 1 || b->d[0] != p->m))
        return sn_errorf(err, SN_ERR_SHAPE, SN__NODE_FMT ": B (input 2) is %s, expected [%lld]",
                         SN__NODE_ARGS(n), sn__dims_str(b->d, b->rank, b1, sizeof b1),
                         (long long)p->m);
    p->act = SN_ACT_NONE;
    if (n->op == SN_OP_FUSED_CONV) {
        int64_t want[4];
        sn__conv_out_dims(p, want);
        const sn_value *z = sn__nn_opt_input(n, in, 3);
        if (z && (z->rank != 4 || z->d[0] != want[0] || z->d[1] != want[1] ||
                  z->d[2] != want[2] || z->d[3] != want[3]))
            return sn_errorf(err, SN_ERR_SHAPE,
                             SN__NODE_FMT ": residual Z (input 3) is %s, expected the output "
                             "shape %s",
                             SN__NODE_ARGS(n), sn__dims_str(z->d, z->rank, b1, sizeof b1),
                             sn__dims_str(want, 4, b2, sizeof b2));
        s = sn__nn_act_read(n, &p->act, &p->act_alpha, &p->act_beta, err);
        if (s != SN_OK) return s;
    }
    s = sn__nn_check_blas_dim(n, "output height*width", (double)p->win.oh * (double)p->win.ow, err);
    if (s == SN_OK)
        s = sn__nn_check_blas_dim(n, "(input channels/group)*kernel area",
                                  (double)wc * (double)kh * (double)kw, err);
    return s;
}

static sn_status conv_infer(const sn_node *n, const sn_value *in, sn_value *out, sn_error *err) {
    sn_conv2d_params p;
    sn_status s = conv_params(n, in, &p, err);
    if (s != SN_OK) return s;
    out[0].present = true;
    out[0].dtype = SN_DTYPE_F32;
    out[0].rank = 4;
    sn__conv_out_dims(&p, out[0].d);
    return SN_OK;
}

static sn_status conv_run(const sn_cpu_ctx *ctx, const sn_node *n, const sn_value *in,
                          sn_value *out, sn_error *err) {
    sn_conv2d_params p;
    sn_status s = conv_params(n, in, &p, err);
    if (s != SN_OK) return s;
    size_t need = sn_cpu_conv2d_scratch(&p, ctx->threads);
    if (need > 0 && (!ctx->scratch || ctx->scratch_bytes < need))
        return sn_errorf(err, SN_ERR_INTERNAL, SN__NODE_FMT ": scratch of %zu bytes, needs %zu",
                         SN__NODE_ARGS(n), ctx->scratch_bytes, need);
    const sn_value *b = sn__nn_opt_input(n, in, 2);
    const sn_value *z = n->op == SN_OP_FUSED_CONV ? sn__nn_opt_input(n, in, 3) : NULL;
    sn_cpu_conv2d_f32(&p, in[0].data, in[1].data, b ? b->data : NULL, z ? z->data : NULL,
                      out[0].data, ctx->scratch, ctx->threads);
    return SN_OK;
}

static size_t conv_scratch(const sn_node *n, const sn_value *in, const sn_value *out,
                           int threads) {
    (void)out;
    sn_conv2d_params p;
    return conv_params(n, in, &p, NULL) == SN_OK ? sn_cpu_conv2d_scratch(&p, threads) : 0;
}

static double conv_flops(const sn_node *n, const sn_value *in, const sn_value *out) {
    (void)out;
    sn_conv2d_params p;
    if (conv_params(n, in, &p, NULL) != SN_OK) return 0.0;
    double outputs = (double)p.n * (double)p.m * (double)(p.win.oh * p.win.ow);
    double macs = outputs * (double)(p.c / p.group) * (double)(p.win.kh * p.win.kw);
    int epilogue = (sn__nn_opt_input(n, in, 2) != NULL) + (p.act != SN_ACT_NONE) +
                   (n->op == SN_OP_FUSED_CONV && sn__nn_opt_input(n, in, 3) != NULL);
    return 2.0 * macs + epilogue * outputs;
}

static const sn_attr_spec conv_attrs[] = {
    {"strides", SN_ATTR_INTS}, {"pads", SN_ATTR_INTS},         {"dilations", SN_ATTR_INTS},
    {"group", SN_ATTR_INT},    {"kernel_shape", SN_ATTR_INTS}, {"layout", SN_ATTR_INT},
    {NULL, 0},
};

static const sn_attr_spec fused_conv_attrs[] = {
    {"strides", SN_ATTR_INTS}, {"pads", SN_ATTR_INTS},         {"dilations", SN_ATTR_INTS},
    {"group", SN_ATTR_INT},    {"kernel_shape", SN_ATTR_INTS}, {"layout", SN_ATTR_INT},
    SN__NN_ACT_ATTR_SPECS,     {NULL, 0},
};

const sn_op_def sn_op_def_conv = {
    .name = "Conv", .min_inputs = 2, .max_inputs = 3, .n_outputs = 1, .attrs = conv_attrs,
    .infer = conv_infer, .cpu_run = conv_run, .cpu_scratch = conv_scratch, .flops = conv_flops,
};

const sn_op_def sn_op_def_fused_conv = {
    .name = "FusedConv", .min_inputs = 2, .max_inputs = 4, .n_outputs = 1,
    .attrs = fused_conv_attrs, .infer = conv_infer, .cpu_run = conv_run,
    .cpu_scratch = conv_scratch, .flops = conv_flops,
};
