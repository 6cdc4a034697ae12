/*
 * resize.c - op definition of Resize: 4-D NCHW f32, H and W resized, nearest or bilinear, with
 * ONNX (opset 13+) semantics. Exactly one of `scales` (floats[4], the N and C scales 1; output
 * = floor(in * scale), and the given scale is what the coordinate transform divides by) or
 * `sizes` (ints[4]; the scale is then out/in). sizes[0] and sizes[1] must equal the input's N
 * and C, or be 0 meaning "keep" - which is how a graph with a dynamic batch spells it. With
 * layout NHWC the input and output are [N,H,W,C]; scales and sizes keep their N,C,H,W order.
 */
#include <math.h>

#include "resize.h"
#include "tensor_op_util.h"

static const sn_attr_spec sn__resize_attrs[] = {
    {"mode", SN_ATTR_INT},       {"scales", SN_ATTR_FLOATS},    {"sizes", SN_ATTR_INTS},
    {"coord_mode", SN_ATTR_INT}, {"nearest_mode", SN_ATTR_INT}, {"layout", SN_ATTR_INT},
    {NULL, 0}};

/* The node's layout (SN_LAYOUT_NCHW unless its attribute says NHWC; anything else is refused
 * by sn__resize_setup). */
static bool sn__resize_nhwc(const sn_node *n) {
    return sn_node_attr_int(n, "layout", SN_LAYOUT_NCHW) == SN_LAYOUT_NHWC;
}

#define SN__RESIZE_MAX_DIM ((int64_t)1 << 31) /* output H/W limit: keeps index math in range */

/* Output H/W and the kernel parameters of a node for input x; SN_OK or a message. */
static sn_status sn__resize_setup(const sn_node *n, const sn_value *x, int64_t *oh, int64_t *ow,
                                  sn_resize_params *p, sn_error *err) {
    int64_t mode = sn_node_attr_int(n, "mode", SN_INTERP_NEAREST);
    int64_t layout = sn_node_attr_int(n, "layout", SN_LAYOUT_NCHW);
    if (layout != SN_LAYOUT_NCHW && layout != SN_LAYOUT_NHWC)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         SN__NODE_FMT ": layout %lld is not 1 (NCHW) or 2 (NHWC)",
                         SN__NODE_ARGS(n), (long long)layout);
    /* x as NCHW dims: scales and sizes are given in that order in both layouts */
    const bool nhwc = layout == SN_LAYOUT_NHWC;
    const int64_t xd[4] = {x->d[0], x->d[nhwc ? 3 : 1], x->d[nhwc ? 1 : 2], x->d[nhwc ? 2 : 3]};
    int64_t coord = sn_node_attr_int(n, "coord_mode", SN_COORD_HALF_PIXEL);
    int64_t nearest = sn_node_attr_int(n, "nearest_mode", SN_NEAREST_ROUND_PREFER_FLOOR);
    if (mode != SN_INTERP_NEAREST && mode != SN_INTERP_LINEAR)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         SN__NODE_FMT ": mode %lld is not 0 (nearest) or 1 (linear)",
                         SN__NODE_ARGS(n), (long long)mode);
    if (coord < SN_COORD_HALF_PIXEL || coord > SN_COORD_PYTORCH_HALF_PIXEL)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         SN__NODE_FMT ": coord_mode %lld is not 0 (half_pixel), 1 (asymmetric), "
                         "2 (align_corners) or 3 (pytorch_half_pixel)",
                         SN__NODE_ARGS(n), (long long)coord);
    if (nearest < SN_NEAREST_ROUND_PREFER_FLOOR || nearest > SN_NEAREST_CEIL)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         SN__NODE_FMT ": nearest_mode %lld is not 0 (round_prefer_floor), 1 "
                         "(round_prefer_ceil), 2 (floor) or 3 (ceil)",
                         SN__NODE_ARGS(n), (long long)nearest);
    p->mode = (sn_interp_mode)mode;
    p->coord = (sn_resize_coord)coord;
    p->nearest = (sn_nearest_mode)nearest;

    int ns = 0, nz = 0;
    const float *scales = sn_node_attr_floats(n, "scales", &ns);
    const int64_t *sizes = sn_node_attr_ints(n, "sizes", &nz);
    bool has_scales = sn_node_attr(n, "scales") != NULL, has_sizes = sn_node_attr(n, "sizes") != NULL;
    if (has_scales == has_sizes)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         SN__NODE_FMT ": exactly one of 'scales' and 'sizes' must be given",
                         SN__NODE_ARGS(n));
    const int64_t ih = xd[2], iw = xd[3];
    if (has_scales) {
        if (ns != 4 || !scales)
            return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, SN__NODE_FMT ": scales has %d values, not 4",
                             SN__NODE_ARGS(n), ns);
        if (scales[0] != 1.0f || scales[1] != 1.0f)
            return sn_errorf(err, SN_ERR_UNSUPPORTED,
                             SN__NODE_FMT ": scales for N and C are %g,%g; only H and W can be "
                             "resized",
                             SN__NODE_ARGS(n), (double)scales[0], (double)scales[1]);
        if (!(scales[2] > 0.0f) || !(scales[3] > 0.0f) || !isfinite(scales[2]) ||
            !isfinite(scales[3]))
            return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                             SN__NODE_FMT ": scales %g,%g for H and W must be positive and finite",
                             SN__NODE_ARGS(n), (double)scales[2], (double)scales[3]);
        p->scale_h = scales[2];
        p->scale_w = scales[3];
        double fh = floor((double)ih * p->scale_h), fw = floor((double)iw * p->scale_w);
        if (fh < 1.0 || fw < 1.0 || fh > (double)SN__RESIZE_MAX_DIM ||
            fw > (double)SN__RESIZE_MAX_DIM)
            return sn_errorf(err, SN_ERR_SHAPE,
                             SN__NODE_FMT ": scales %g,%g give a %.0fx%.0f output from %lldx%lld",
                             SN__NODE_ARGS(n), p->scale_h, p->scale_w, fh, fw, (long long)ih,
                             (long long)iw);
        *oh = (int64_t)fh;
        *ow = (int64_t)fw;
        return SN_OK;
    }
    if (nz != 4 || !sizes)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, SN__NODE_FMT ": sizes has %d values, not 4",
                         SN__NODE_ARGS(n), nz);
    for (int i = 0; i < 2; i++)
        if (sizes[i] != 0 && sizes[i] != xd[i])
            return sn_errorf(err, SN_ERR_UNSUPPORTED,
                             SN__NODE_FMT ": sizes[%d] is %lld but the input's %s is %lld; only H "
                             "and W can be resized (0 keeps the input's)",
                             SN__NODE_ARGS(n), i, (long long)sizes[i], i ? "C" : "N",
                             (long long)xd[i]);
    if (sizes[2] < 1 || sizes[3] < 1 || sizes[2] > SN__RESIZE_MAX_DIM ||
        sizes[3] > SN__RESIZE_MAX_DIM)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         SN__NODE_FMT ": sizes %lld,%lld for H and W are out of range",
                         SN__NODE_ARGS(n), (long long)sizes[2], (long long)sizes[3]);
    *oh = sizes[2];
    *ow = sizes[3];
    p->scale_h = (double)*oh / (double)ih;
    p->scale_w = (double)*ow / (double)iw;
    return SN_OK;
}

static sn_status sn__resize_infer(const sn_node *n, const sn_value *in, sn_value *out,
                                  sn_error *err) {
    sn_status st;
    char a[160];
    if ((st = sn__check_input(n, in, 0, err)) != SN_OK) return st;
    if ((st = sn__require_f32(n, in, 0, err)) != SN_OK) return st;
    const bool nhwc = sn__resize_nhwc(n);
    const int hax = nhwc ? 1 : 2; /* the H axis; W follows it */
    if (in[0].rank != 4 || in[0].d[hax] < 1 || in[0].d[hax + 1] < 1)
        return sn_errorf(err, SN_ERR_SHAPE,
                         SN__NODE_FMT ": input %s must be 4-D %s with non-empty H and W",
                         SN__NODE_ARGS(n), sn__dims_str(in[0].d, in[0].rank, a, sizeof a),
                         nhwc ? "NHWC" : "NCHW");
    int64_t oh, ow;
    sn_resize_params p;
    if ((st = sn__resize_setup(n, &in[0], &oh, &ow, &p, err)) != SN_OK) return st;
    out[0].dtype = SN_DTYPE_F32;
    out[0].rank = 4;
    for (int i = 0; i < 4; i++) out[0].d[i] = in[0].d[i];
    out[0].d[hax] = oh;
    out[0].d[hax + 1] = ow;
    return SN_OK;
}

static size_t sn__resize_scratch(const sn_node *n, const sn_value *in, const sn_value *out,
                                 int threads) {
    (void)in;
    (void)threads;
    const int hax = sn__resize_nhwc(n) ? 1 : 2;
    return sn_cpu_resize_scratch(out[0].d[hax], out[0].d[hax + 1]);
}

static sn_status sn__resize_run(const sn_cpu_ctx *ctx, const sn_node *n, const sn_value *in,
                                sn_value *out, sn_error *err) {
    int64_t oh, ow;
    sn_resize_params p;
    sn_status st = sn__resize_setup(n, &in[0], &oh, &ow, &p, err);
    if (st != SN_OK) return st;
    const bool nhwc = sn__resize_nhwc(n);
    const int hax = nhwc ? 1 : 2;
    if (oh != out[0].d[hax] || ow != out[0].d[hax + 1] ||
        ctx->scratch_bytes < sn_cpu_resize_scratch(oh, ow) || !ctx->scratch)
        return sn_errorf(err, SN_ERR_INTERNAL,
                         SN__NODE_FMT ": output shape or scratch does not match the inferred one",
                         SN__NODE_ARGS(n));
    const int64_t *x = in[0].d;
    if (nhwc)
        sn_cpu_resize_nhwc_f32(in[0].data, x[0], x[1], x[2], x[3], out[0].data, oh, ow, &p,
                               ctx->scratch, ctx->threads);
    else
        sn_cpu_resize_f32(in[0].data, x[0] * x[1], x[2], x[3], out[0].data, oh, ow, &p,
                          ctx->scratch, ctx->threads);
    return SN_OK;
}

/* Bilinear: four taps, a multiply-add each; nearest only copies. */
static double sn__resize_flops(const sn_node *n, const sn_value *in, const sn_value *out) {
    (void)in;
    if (sn_node_attr_int(n, "mode", SN_INTERP_NEAREST) != SN_INTERP_LINEAR) return 0.0;
    return 8.0 * (double)sn_value_numel(&out[0]);
}

const sn_op_def sn_op_def_resize = {
    .name = "Resize",
    .min_inputs = 1,
    .max_inputs = 1,
    .n_outputs = 1,
    .attrs = sn__resize_attrs,
    .infer = sn__resize_infer,
    .cpu_run = sn__resize_run,
    .cpu_scratch = sn__resize_scratch,
    .flops = sn__resize_flops,
};
