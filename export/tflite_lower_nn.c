/*
 * tflite_lower_nn.c - lowering the windowed and dense ops: Conv (CONV_2D, or DEPTHWISE_CONV_2D
 * when every input channel is its own group), MaxPool / AveragePool, Gemm and MatMul
 * (FULLY_CONNECTED), Pad (PAD, PADV2, MIRROR_PAD) and Resize (RESIZE_BILINEAR,
 * RESIZE_NEAREST_NEIGHBOR).
 *
 * Padding: TFLite windows know only SAME (total padding max((out-1)*stride + k - in, 0), the
 * smaller half at the start) and VALID (none). A window whose explicit pads are neither gets an
 * explicit PAD op before it (PADV2 with the lowest float for MaxPool, so padding never wins) and
 * VALID padding; ceil-mode outputs are covered by padding the end as far as the last window
 * reaches.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/nn_op_util.h"
#include "passes/pass_util.h"
#include "resize.h"
#include "tflite_lower.h"

typedef struct sn__tfl_window {
    bool valid_ok, same_ok; /* the output is what VALID / SAME padding gives */
    int32_t pads[4];        /* explicit pads otherwise: top, bottom, left, right */
    bool end_beyond_pads;   /* the last window reaches past the declared end pads (ceil mode) */
} sn__tfl_window;

static void sn__tfl_window_dim(int64_t in, int64_t out, int64_t k, int64_t d, int64_t s, int64_t pb,
                               int64_t pe, bool *valid_ok, bool *same_ok, int32_t *begin,
                               int32_t *end, bool *beyond) {
    int64_t keff = (k - 1) * d + 1;
    int64_t need_end = (out - 1) * s + keff - in - pb;
    *valid_ok = pb == 0 && need_end <= 0;
    int64_t total = pb + need_end > 0 ? pb + need_end : 0;
    *same_ok = out == (in + s - 1) / s && pb == total / 2;
    *begin = (int32_t)pb;
    *end = (int32_t)(need_end > 0 ? need_end : 0);
    *beyond = need_end > pe;
}

static void sn__tfl_window_plan(int64_t h, int64_t w, const sn_window2d *win, sn__tfl_window *p) {
    bool v1, s1, v2, s2, b1, b2;
    sn__tfl_window_dim(h, win->oh, win->kh, win->dh, win->sh, win->pt, win->pb, &v1, &s1,
                       &p->pads[0], &p->pads[1], &b1);
    sn__tfl_window_dim(w, win->ow, win->kw, win->dw, win->sw, win->pl, win->pr, &v2, &s2,
                       &p->pads[2], &p->pads[3], &b2);
    p->valid_ok = v1 && v2;
    p->same_ok = s1 && s2;
    p->end_beyond_pads = b1 || b2;
}

/* A 2-D int32 constant [rows, 2] (paddings). */
static int sn__tfl_paddings(sn_tfl_model *m, const int32_t *v, int rows, sn_error *err) {
    int32_t *d = malloc(sizeof(int32_t) * 2 * (size_t)rows);
    if (!d) {
        sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory lowering to TFLite");
        return -1;
    }
    memcpy(d, v, sizeof(int32_t) * 2 * (size_t)rows);
    int32_t shape[2] = {rows, 2};
    return sn_tfl_add_const(m, "paddings", SN_TFL_INT32, 2, shape, d,
                            sizeof(int32_t) * 2 * (size_t)rows, SN_TFL_ROLE_NONE, err);
}

/* x padded by the paddings constant pc with `value` into y: PAD for zero, PADV2 otherwise.
 * Returns the op, or -1 with err set. */
static int sn__tfl_emit_pad(sn_tfl_model *m, int ni, int x, int pc, float value, int y,
                            sn_error *err) {
    if (value == 0.0f) {
        int op = sn_tfl_add_op(m, SN_TFL_OP_PAD, ni, (int[]){x, pc}, 2, &y, 1, err);
        if (op >= 0) sn_tfl_op_options(m, op, SN_TFL_OPT_PAD);
        return op;
    }
    int vc = sn_tfl_const_f32_scalar(m, "pad_value", value, SN_TFL_ROLE_SAME_AS_IN, err);
    int op = vc < 0 ? -1 : sn_tfl_add_op(m, SN_TFL_OP_PADV2, ni, (int[]){x, pc, vc}, 3, &y, 1, err);
    if (op >= 0) sn_tfl_op_options(m, op, SN_TFL_OPT_PADV2);
    return op;
}

/* NHWC tensor x padded on H and W by p (top, bottom, left, right) with `value`; returns the
 * padded tensor. */
static int sn__tfl_pad_hw(sn_tfl_model *m, int ni, int x, const int32_t *p, float value,
                          sn_error *err) {
    int32_t pads[8] = {0, 0, p[0], p[1], p[2], p[3], 0, 0};
    const sn_tfl_tensor *t = &m->t[x];
    int32_t shape[4] = {t->shape[0], t->shape[1] + p[0] + p[1], t->shape[2] + p[2] + p[3],
                        t->shape[3]};
    char name[300];
    snprintf(name, sizeof name, "%s/padded", t->name);
    bool batched = t->batched;
    int src = t->src, pc = sn__tfl_paddings(m, pads, 4, err);
    int y = pc < 0 ? -1 : sn_tfl_add_tensor(m, name, 4, shape, batched, src, err);
    return y < 0 || sn__tfl_emit_pad(m, ni, x, pc, value, y, err) < 0 ? -1 : y;
}

static int sn__tfl_f32_tensor(sn_tfl_model *m, const char *name, int rank, const int32_t *shape,
                              float *data, size_t n, sn_tfl_role role, sn_error *err) {
    return sn_tfl_add_const(m, name, SN_TFL_FLOAT32, rank, shape, data, sizeof(float) * n, role,
                            err);
}

static float *sn__tfl_floats(size_t n, sn_error *err) {
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p) sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory lowering to TFLite");
    return p;
}

/* Bias [m] from constant b (absent: zeros; numel 1: broadcast). */
static int sn__tfl_bias(sn_tfl_model *m, const char *name, int b, int64_t mo, sn_error *err) {
    float *d = sn__tfl_floats((size_t)mo, err);
    if (!d) return -1;
    if (b >= 0) {
        int64_t n = sn_shape_numel(&m->g->tensors[b].shape);
        const float *s = sn__const_f32(m->g, b, n);
        for (int64_t i = 0; s && i < mo; i++) d[i] = s[n == 1 ? 0 : i];
    }
    int32_t shape[1] = {(int32_t)mo};
    return sn__tfl_f32_tensor(m, name, 1, shape, d, (size_t)mo, SN_TFL_ROLE_BIAS, err);
}

sn_status sn__tfl_lower_conv(sn_tfl_model *m, int ni, sn_error *err) {
    const sn_graph *g = m->g;
    const sn_node *n = &g->nodes[ni];
    int xt = n->inputs[0], wt = n->inputs[1], bt = n->n_inputs > 2 ? n->inputs[2] : -1;
    if (sn__fused_activation(n) != SN_ACT_NONE || (n->n_inputs > 3 && n->inputs[3] >= 0))
        return sn__tfl_refuse(m, ni, err, "internal: a fused epilogue survived legalization");
    sn_shape xs = sn__shape1(g, xt), ws = g->tensors[wt].shape;
    const float *w = sn__const_f32(g, wt, sn_shape_numel(&ws));
    if (!w) return sn__tfl_refuse(m, ni, err, "the weights W are not an f32 constant");
    if (bt >= 0 && !sn__const_f32(g, bt, ws.d[0]))
        return sn__tfl_refuse(m, ni, err, "the bias B is not an f32 constant");
    int64_t C = xs.d[1], M = ws.d[0], kh = ws.d[2], kw = ws.d[3];
    int64_t group = sn_node_attr_int(n, "group", 1);
    bool dw = group > 1 && group == C && M % C == 0;
    if (group != 1 && !dw)
        return sn__tfl_refuse(m, ni, err,
                              "a grouped convolution (group %lld of %lld channels) "
                              "has no TFLite builtin",
                              (long long)group, (long long)C);
    sn_window2d win;
    sn_status s = sn__nn_window_read(n, xs.d[2], xs.d[3], kh, kw,
                                     (sn_window_rules){.dilations = true}, &win, err);
    if (s != SN_OK) return s;
    sn__tfl_window plan;
    sn__tfl_window_plan(xs.d[2], xs.d[3], &win, &plan);
    int x = sn__tfl_act_tensor(m, xt, err);
    if (x >= 0 && !plan.valid_ok && !plan.same_ok)
        x = sn__tfl_pad_hw(m, ni, x, plan.pads, 0.0f, err);
    if (x < 0) return err->status;

    size_t nw = (size_t)(M * ws.d[1] * kh * kw);
    float *f = sn__tfl_floats(nw, err);
    if (!f) return err->status;
    int32_t fshape[4];
    if (dw) { /* [M,1,kh,kw] -> [1,kh,kw,M] */
        for (int64_t o = 0; o < M; o++)
            for (int64_t k = 0; k < kh * kw; k++) f[k * M + o] = w[o * kh * kw + k];
        fshape[0] = 1, fshape[1] = (int32_t)kh, fshape[2] = (int32_t)kw, fshape[3] = (int32_t)M;
    } else { /* OIHW -> OHWI */
        for (int64_t o = 0; o < M; o++)
            for (int64_t c = 0; c < C; c++)
                for (int64_t k = 0; k < kh * kw; k++)
                    f[(o * kh * kw + k) * C + c] = w[(o * C + c) * kh * kw + k];
        fshape[0] = (int32_t)M, fshape[1] = (int32_t)kh, fshape[2] = (int32_t)kw,
        fshape[3] = (int32_t)C;
    }
    int ft = sn__tfl_f32_tensor(m, g->tensors[wt].name, 4, fshape, f, nw,
                                dw ? SN_TFL_ROLE_DW_FILTER : SN_TFL_ROLE_FILTER, err);
    int bias = ft < 0 ? -1 : sn__tfl_bias(m, bt >= 0 ? g->tensors[bt].name : "bias", bt, M, err);
    int y = bias < 0 ? -1 : sn__tfl_act_tensor(m, n->outputs[0], err);
    if (y < 0) return err->status;
    int op = sn_tfl_add_op(m, dw ? SN_TFL_OP_DEPTHWISE_CONV_2D : SN_TFL_OP_CONV_2D, ni,
                           (int[]){x, ft, bias}, 3, &y, 1, err);
    if (op < 0) return err->status;
    int padding = plan.valid_ok || !plan.same_ok ? SN_TFL_PAD_VALID : SN_TFL_PAD_SAME;
    if (dw) {
        sn_tfl_op_options(m, op, SN_TFL_OPT_DEPTHWISE_CONV_2D);
        sn_tfl_op_opt_b(m, op, SN_TFL_DW_PADDING, padding);
        sn_tfl_op_opt_i(m, op, SN_TFL_DW_STRIDE_W, (int32_t)win.sw);
        sn_tfl_op_opt_i(m, op, SN_TFL_DW_STRIDE_H, (int32_t)win.sh);
        sn_tfl_op_opt_i(m, op, SN_TFL_DW_MULTIPLIER, (int32_t)(M / C));
        sn_tfl_op_opt_i(m, op, SN_TFL_DW_DILATION_W, (int32_t)win.dw);
        sn_tfl_op_opt_i(m, op, SN_TFL_DW_DILATION_H, (int32_t)win.dh);
    } else {
        sn_tfl_op_options(m, op, SN_TFL_OPT_CONV_2D);
        sn_tfl_op_opt_b(m, op, SN_TFL_CONV_PADDING, padding);
        sn_tfl_op_opt_i(m, op, SN_TFL_CONV_STRIDE_W, (int32_t)win.sw);
        sn_tfl_op_opt_i(m, op, SN_TFL_CONV_STRIDE_H, (int32_t)win.sh);
        sn_tfl_op_opt_i(m, op, SN_TFL_CONV_DILATION_W, (int32_t)win.dw);
        sn_tfl_op_opt_i(m, op, SN_TFL_CONV_DILATION_H, (int32_t)win.dh);
    }
    return SN_OK;
}

sn_status sn__tfl_lower_pool(sn_tfl_model *m, int ni, sn_error *err) {
    const sn_graph *g = m->g;
    const sn_node *n = &g->nodes[ni];
    bool is_max = n->op == SN_OP_MAX_POOL;
    sn_shape xs = sn__shape1(g, n->inputs[0]);
    int cnt = 0;
    const int64_t *ks = sn_node_attr_ints(n, "kernel_shape", &cnt);
    if (cnt != 2) return sn__tfl_refuse(m, ni, err, "kernel_shape must have 2 values");
    sn_window2d win;
    sn_status s =
        sn__nn_window_read(n, xs.d[2], xs.d[3], ks[0], ks[1],
                           (sn_window_rules){.dilations = is_max,
                                             .ceil_mode = sn_node_attr_int(n, "ceil_mode", 0) != 0,
                                             .pads_below_kernel = true},
                           &win, err);
    if (s != SN_OK) return s;
    if (win.dh != 1 || win.dw != 1)
        return sn__tfl_refuse(m, ni, err, "TFLite's MAX_POOL_2D has no dilation");
    sn__tfl_window plan;
    sn__tfl_window_plan(xs.d[2], xs.d[3], &win, &plan);
    bool include_pad = !is_max && sn_node_attr_int(n, "count_include_pad", 0) != 0;
    bool explicit_pad = !plan.valid_ok && (!plan.same_ok || include_pad);
    if (!is_max && explicit_pad && (!include_pad || plan.end_beyond_pads))
        return sn__tfl_refuse(m, ni, err,
                              "padding that the average leaves out is only "
                              "expressible as TFLite's SAME padding, which these pads are not");
    int x = sn__tfl_act_tensor(m, n->inputs[0], err);
    if (x >= 0 && explicit_pad)
        x = sn__tfl_pad_hw(m, ni, x, plan.pads, is_max ? -FLT_MAX : 0.0f, err);
    int y = x < 0 ? -1 : sn__tfl_act_tensor(m, n->outputs[0], err);
    int op = y < 0 ? -1
                   : sn_tfl_add_op(m, is_max ? SN_TFL_OP_MAX_POOL_2D : SN_TFL_OP_AVERAGE_POOL_2D,
                                   ni, &x, 1, &y, 1, err);
    if (op < 0) return err->status;
    sn_tfl_op_options(m, op, SN_TFL_OPT_POOL_2D);
    sn_tfl_op_opt_b(m, op, SN_TFL_POOL_PADDING,
                    plan.valid_ok || explicit_pad ? SN_TFL_PAD_VALID : SN_TFL_PAD_SAME);
    sn_tfl_op_opt_i(m, op, SN_TFL_POOL_STRIDE_W, (int32_t)win.sw);
    sn_tfl_op_opt_i(m, op, SN_TFL_POOL_STRIDE_H, (int32_t)win.sh);
    sn_tfl_op_opt_i(m, op, SN_TFL_POOL_FILTER_W, (int32_t)win.kw);
    sn_tfl_op_opt_i(m, op, SN_TFL_POOL_FILTER_H, (int32_t)win.kh);
    return SN_OK;
}

/* Gemm (transA=0, constant B and C, alpha and beta folded by legalization) and MatMul of a 2-D
 * activation by a constant matrix: FULLY_CONNECTED with weights [N,K]. Gemm's flatten_a reads
 * a 4-D NCHW A as [N, C*H*W]; TFLite's A is NHWC, so the weights' K columns are permuted from
 * (c,h,w) to (h,w,c) order instead of transposing the activations (FULLY_CONNECTED flattens
 * its input itself). */
sn_status sn__tfl_lower_dense(sn_tfl_model *m, int ni, sn_error *err) {
    const sn_graph *g = m->g;
    const sn_node *n = &g->nodes[ni];
    bool gemm = n->op == SN_OP_GEMM;
    bool flat = gemm && sn_node_attr_int(n, "flatten_a", 0) != 0;
    int at = n->inputs[0], bt = n->inputs[1], ct = gemm && n->n_inputs > 2 ? n->inputs[2] : -1;
    sn_shape as = sn__shape1(g, at);
    if (g->tensors[at].flags & SN_TENSOR_CONST || (flat ? as.rank < 2 : as.rank != 2))
        return sn__tfl_refuse(m, ni, err,
                              "only a 2-D activation times a constant matrix maps to "
                              "FULLY_CONNECTED");
    bool tb = gemm && sn_node_attr_int(n, "transB", 0) != 0;
    if (gemm && sn_node_attr_int(n, "transA", 0) != 0)
        return sn__tfl_refuse(m, ni, err, "transA=1 has no FULLY_CONNECTED form");
    if (gemm && (sn_node_attr_float(n, "alpha", 1.0f) != 1.0f ||
                 sn_node_attr_float(n, "beta", 1.0f) != 1.0f))
        return sn__tfl_refuse(m, ni, err, "alpha or beta with a non-constant operand");
    if (gemm && sn__fused_activation(n) != SN_ACT_NONE)
        return sn__tfl_refuse(m, ni, err, "internal: a fused activation survived legalization");
    const sn_shape *bs = &g->tensors[bt].shape;
    const float *b = bs->rank == 2 ? sn__const_f32(g, bt, sn_shape_numel(bs)) : NULL;
    if (!b) return sn__tfl_refuse(m, ni, err, "B must be a 2-D f32 constant");
    int64_t K = tb ? bs->d[1] : bs->d[0], N = tb ? bs->d[0] : bs->d[1];
    if (ct >= 0) {
        const sn_shape *cs = &g->tensors[ct].shape;
        int64_t cn = sn_shape_numel(cs);
        if (!sn__const_f32(g, ct, cn) || (cn != 1 && cn != N) || cs->rank > 2)
            return sn__tfl_refuse(m, ni, err, "C must be a constant of N or 1 values (a bias)");
    }
    /* Column k of the TFLite weights reads Sentinel feature src_k[k]. */
    bool nhwc = flat && sn__tfl_is_nhwc(g, at);
    int64_t C = nhwc ? as.d[1] : 1, HW = nhwc ? as.d[2] * as.d[3] : K;
    if (nhwc && C * HW != K) return sn__tfl_refuse(m, ni, err, "A does not flatten to K");
    float *f = sn__tfl_floats((size_t)(N * K), err);
    if (!f) return err->status;
    for (int64_t o = 0; o < N; o++)
        for (int64_t k = 0; k < K; k++) {
            int64_t src = nhwc ? (k % C) * HW + k / C : k; /* (hw, c) <- c*HW + hw */
            f[o * K + k] = tb ? b[o * K + src] : b[src * N + o];
        }
    int32_t fshape[2] = {(int32_t)N, (int32_t)K};
    int ft = sn__tfl_f32_tensor(m, g->tensors[bt].name, 2, fshape, f, (size_t)(N * K),
                                SN_TFL_ROLE_FILTER, err);
    int bias = ft < 0 ? -1 : sn__tfl_bias(m, ct >= 0 ? g->tensors[ct].name : "bias", ct, N, err);
    int x = bias < 0 ? -1 : sn__tfl_act_tensor(m, at, err);
    int y = x < 0 ? -1 : sn__tfl_act_tensor(m, n->outputs[0], err);
    int op = y < 0 ? -1
                   : sn_tfl_add_op(m, SN_TFL_OP_FULLY_CONNECTED, ni, (int[]){x, ft, bias}, 3, &y, 1,
                                   err);
    if (op < 0) return err->status;
    sn_tfl_op_options(m, op, SN_TFL_OPT_FULLY_CONNECTED);
    return SN_OK;
}

sn_status sn__tfl_lower_pad(sn_tfl_model *m, int ni, sn_error *err) {
    const sn_graph *g = m->g;
    const sn_node *n = &g->nodes[ni];
    int xt = n->inputs[0], r = g->tensors[xt].shape.rank, cnt = 0;
    const int64_t *pads = sn_node_attr_ints(n, "pads", &cnt);
    int64_t mode = sn_node_attr_int(n, "mode", 0);
    float value = sn_node_attr_float(n, "value", 0.0f);
    if (cnt != 2 * r || r < 1) return sn__tfl_refuse(m, ni, err, "pads do not match the rank");
    if (mode == 2) return sn__tfl_refuse(m, ni, err, "edge padding has no TFLite builtin");
    int32_t p[2 * SN_MAX_RANK];
    bool nhwc = sn__tfl_is_nhwc(g, xt);
    for (int i = 0; i < r; i++) {
        int sd = nhwc ? sn__tfl_nhwc_perm[i] : i;
        if (pads[sd] > INT32_MAX || pads[r + sd] > INT32_MAX)
            return sn__tfl_refuse(m, ni, err, "pads too large for TFLite");
        p[2 * i] = (int32_t)pads[sd];
        p[2 * i + 1] = (int32_t)pads[r + sd];
    }
    int pc = sn__tfl_paddings(m, p, r, err);
    int x = pc < 0 ? -1 : sn__tfl_act_tensor(m, xt, err);
    int y = x < 0 ? -1 : sn__tfl_act_tensor(m, n->outputs[0], err);
    if (y < 0) return err->status;
    int op;
    if (mode == 1) {
        op = sn_tfl_add_op(m, SN_TFL_OP_MIRROR_PAD, ni, (int[]){x, pc}, 2, &y, 1, err);
        if (op >= 0) {
            sn_tfl_op_options(m, op, SN_TFL_OPT_MIRROR_PAD);
            sn_tfl_op_opt_b(m, op, SN_TFL_MIRROR_PAD_MODE, SN_TFL_MIRROR_REFLECT);
        }
    } else {
        op = sn__tfl_emit_pad(m, ni, x, pc, value, y, err);
    }
    return op < 0 ? err->status : SN_OK;
}

sn_status sn__tfl_lower_resize(sn_tfl_model *m, int ni, sn_error *err) {
    const sn_graph *g = m->g;
    const sn_node *n = &g->nodes[ni];
    sn_shape xs = sn__shape1(g, n->inputs[0]), ys = sn__shape1(g, n->outputs[0]);
    int64_t mode = sn_node_attr_int(n, "mode", SN_INTERP_NEAREST);
    int64_t coord = sn_node_attr_int(n, "coord_mode", SN_COORD_HALF_PIXEL);
    int64_t nearest = sn_node_attr_int(n, "nearest_mode", SN_NEAREST_ROUND_PREFER_FLOOR);
    int ns = 0;
    const float *scales = sn_node_attr_floats(n, "scales", &ns);
    /* TFLite samples with the ratio in/out; a given scale is what ONNX divides by. */
    if (scales && ns == 4 &&
        ((double)xs.d[2] * scales[2] != (double)ys.d[2] ||
         (double)xs.d[3] * scales[3] != (double)ys.d[3]))
        return sn__tfl_refuse(m, ni, err,
                              "scales %g,%g do not give whole output sizes; TFLite "
                              "resizes by the ratio of sizes",
                              (double)scales[2], (double)scales[3]);
    bool align = false, half = false;
    if (coord == SN_COORD_PYTORCH_HALF_PIXEL && (ys.d[2] == 1 || ys.d[3] == 1))
        return sn__tfl_refuse(m, ni, err, "pytorch_half_pixel with an output side of 1");
    if (mode == SN_INTERP_LINEAR) {
        align = coord == SN_COORD_ALIGN_CORNERS;
        half = coord == SN_COORD_HALF_PIXEL || coord == SN_COORD_PYTORCH_HALF_PIXEL;
    } else if (coord == SN_COORD_ASYMMETRIC && nearest == SN_NEAREST_FLOOR) {
    } else if (coord == SN_COORD_HALF_PIXEL && nearest == SN_NEAREST_ROUND_PREFER_CEIL) {
        half = true;
    } else if (coord == SN_COORD_ALIGN_CORNERS && nearest == SN_NEAREST_ROUND_PREFER_CEIL) {
        align = true;
    } else {
        return sn__tfl_refuse(
            m, ni, err,
            "TFLite's nearest-neighbour resize matches only "
            "asymmetric+floor, half_pixel+round_prefer_ceil and "
            "align_corners+round_prefer_ceil (coord_mode %lld, nearest_mode %lld)",
            (long long)coord, (long long)nearest);
    }
    int32_t size[2] = {(int32_t)ys.d[2], (int32_t)ys.d[3]};
    int sc = sn_tfl_const_i32(m, "size", size, 2, err);
    int x = sc < 0 ? -1 : sn__tfl_act_tensor(m, n->inputs[0], err);
    int y = x < 0 ? -1 : sn__tfl_act_tensor(m, n->outputs[0], err);
    bool linear = mode == SN_INTERP_LINEAR;
    int op = y < 0 ? -1
                   : sn_tfl_add_op(
                         m, linear ? SN_TFL_OP_RESIZE_BILINEAR : SN_TFL_OP_RESIZE_NEAREST_NEIGHBOR,
                         ni, (int[]){x, sc}, 2, &y, 1, err);
    if (op < 0) return err->status;
    sn_tfl_op_options(m, op,
                      linear ? SN_TFL_OPT_RESIZE_BILINEAR : SN_TFL_OPT_RESIZE_NEAREST_NEIGHBOR);
    sn_tfl_op_opt_b(m, op, linear ? SN_TFL_RESIZE_BILINEAR_ALIGN : SN_TFL_RESIZE_NEAREST_ALIGN,
                    align);
    sn_tfl_op_opt_b(m, op, linear ? SN_TFL_RESIZE_BILINEAR_HALF : SN_TFL_RESIZE_NEAREST_HALF, half);
    return SN_OK;
}
