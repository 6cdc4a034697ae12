/*
 * tflite_lower_ops.c - the per-node dispatch of the TFLite lowering, and the ops that are not
 * windows: elementwise arithmetic (ADD, SUB, MUL, DIV), activations (RELU, RELU6,
 * RELU_N1_TO_1, MAXIMUM/MINIMUM for other clips, LEAKY_RELU, LOGISTIC, TANH, HARD_SWISH),
 * GlobalAveragePool (MEAN over H and W), Softmax, Concat (CONCATENATION), Slice
 * (STRIDED_SLICE), and the shape ops Flatten / Reshape / Identity (RESHAPE) and Transpose
 * (TRANSPOSE), which must mind the NHWC order of 4-D activations.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "passes/pass_util.h"
#include "tflite_lower.h"

/* A one-input op with optional options type: x -> y. */
static sn_status sn__tfl_unary(sn_tfl_model *m, int ni, int code, int opt_type, sn_error *err) {
    const sn_node *n = &m->g->nodes[ni];
    int x = sn__tfl_act_tensor(m, n->inputs[0], err);
    int y = x < 0 ? -1 : sn__tfl_act_tensor(m, n->outputs[0], err);
    int op = y < 0 ? -1 : sn_tfl_add_op(m, code, ni, &x, 1, &y, 1, err);
    if (op < 0) return err->status;
    if (opt_type) sn_tfl_op_options(m, op, opt_type);
    return SN_OK;
}

/* x op scalar -> y (MAXIMUM / MINIMUM against a clip bound). */
static int sn__tfl_with_scalar(sn_tfl_model *m, int ni, int code, int x, float v, int y,
                               sn_error *err) {
    int c = sn_tfl_const_f32_scalar(m, "clip_bound", v, SN_TFL_ROLE_SAME_AS_IN, err);
    int op = c < 0 ? -1 : sn_tfl_add_op(m, code, ni, (int[]){x, c}, 2, &y, 1, err);
    if (op >= 0) sn_tfl_op_options(m, op, SN_TFL_OPT_MAXIMUM_MINIMUM);
    return op;
}

static sn_status sn__tfl_clip(sn_tfl_model *m, int ni, sn_error *err) {
    const sn_node *n = &m->g->nodes[ni];
    float lo = sn_node_attr_float(n, "min", -INFINITY), hi = sn_node_attr_float(n, "max", INFINITY);
    if (lo == 0.0f && hi == 6.0f) return sn__tfl_unary(m, ni, SN_TFL_OP_RELU6, 0, err);
    if (lo == -1.0f && hi == 1.0f) return sn__tfl_unary(m, ni, SN_TFL_OP_RELU_N1_TO_1, 0, err);
    if (lo == 0.0f && hi == INFINITY) return sn__tfl_unary(m, ni, SN_TFL_OP_RELU, 0, err);
    int x = sn__tfl_act_tensor(m, n->inputs[0], err);
    int y = x < 0 ? -1 : sn__tfl_act_tensor(m, n->outputs[0], err);
    if (y < 0) return err->status;
    if (lo == -INFINITY && hi == INFINITY)
        return sn__tfl_emit_reshape(m, ni, x, y, err) < 0 ? err->status : SN_OK;
    int mid = y;
    if (lo != -INFINITY && hi != INFINITY) {
        const sn_tfl_tensor *t = &m->t[y];
        char name[300];
        snprintf(name, sizeof name, "%s/max", t->name);
        mid = sn_tfl_add_tensor(m, name, t->rank, t->shape, t->batched, t->src, err);
        if (mid < 0) return err->status;
    }
    if (lo != -INFINITY && sn__tfl_with_scalar(m, ni, SN_TFL_OP_MAXIMUM, x, lo, mid, err) < 0)
        return err->status;
    if (hi != INFINITY &&
        sn__tfl_with_scalar(m, ni, SN_TFL_OP_MINIMUM, lo != -INFINITY ? mid : x, hi, y, err) < 0)
        return err->status;
    return SN_OK;
}

static sn_status sn__tfl_binary(sn_tfl_model *m, int ni, sn_error *err) {
    const sn_graph *g = m->g;
    const sn_node *n = &g->nodes[ni];
    static const int codes[][2] = {{SN_OP_ADD, SN_TFL_OP_ADD},
                                   {SN_OP_SUB, SN_TFL_OP_SUB},
                                   {SN_OP_MUL, SN_TFL_OP_MUL},
                                   {SN_OP_DIV, SN_TFL_OP_DIV}};
    static const int opts[] = {SN_TFL_OPT_ADD, SN_TFL_OPT_SUB, SN_TFL_OPT_MUL, SN_TFL_OPT_DIV};
    int k = 0;
    while (codes[k][0] != (int)n->op) k++;
    int out_rank = g->tensors[n->outputs[0]].shape.rank, in[2];
    for (int i = 0; i < 2; i++) {
        int t = n->inputs[i];
        const sn_tensor *x = &g->tensors[t];
        if (x->flags & SN_TENSOR_CONST) {
            in[i] = sn__tfl_operand_const(m, t, out_rank, SN_TFL_ROLE_OPERAND, err);
        } else {
            if (out_rank == 4 && x->shape.rank != 4 && sn_shape_numel(&x->shape) != 1)
                return sn__tfl_refuse(m, ni, err,
                                      "broadcasting the %d-D activation '%s' against "
                                      "4-D (NHWC) activations",
                                      x->shape.rank, x->name);
            in[i] = sn__tfl_act_tensor(m, t, err);
        }
        if (in[i] < 0) return err->status;
    }
    if (g->tensors[n->inputs[0]].flags & g->tensors[n->inputs[1]].flags & SN_TENSOR_CONST)
        return sn__tfl_refuse(m, ni, err, "both operands are constants (fold them first)");
    int y = sn__tfl_act_tensor(m, n->outputs[0], err);
    int op = y < 0 ? -1 : sn_tfl_add_op(m, codes[k][1], ni, in, 2, &y, 1, err);
    if (op < 0) return err->status;
    sn_tfl_op_options(m, op, opts[k]);
    return SN_OK;
}

static sn_status sn__tfl_global_avg(sn_tfl_model *m, int ni, sn_error *err) {
    const sn_node *n = &m->g->nodes[ni];
    if (!sn__tfl_is_nhwc(m->g, n->inputs[0]))
        return sn__tfl_refuse(m, ni, err, "only 4-D inputs are lowered (MEAN over H and W)");
    int32_t axes[2] = {1, 2};
    int ac = sn_tfl_const_i32(m, "axes", axes, 2, err);
    int x = ac < 0 ? -1 : sn__tfl_act_tensor(m, n->inputs[0], err);
    int y = x < 0 ? -1 : sn__tfl_act_tensor(m, n->outputs[0], err);
    int op = y < 0 ? -1 : sn_tfl_add_op(m, SN_TFL_OP_MEAN, ni, (int[]){x, ac}, 2, &y, 1, err);
    if (op < 0) return err->status;
    sn_tfl_op_options(m, op, SN_TFL_OPT_REDUCER);
    sn_tfl_op_opt_b(m, op, SN_TFL_REDUCER_KEEP_DIMS, 1);
    return SN_OK;
}

/* The TFLite axis of Sentinel axis `axis` of tensor t. */
static int sn__tfl_axis(const sn_graph *g, int t, int64_t axis) {
    int r = g->tensors[t].shape.rank;
    if (axis < 0) axis += r;
    if (!sn__tfl_is_nhwc(g, t)) return (int)axis;
    for (int i = 0; i < 4; i++)
        if (sn__tfl_nhwc_perm[i] == axis) return i;
    return -1;
}

static sn_status sn__tfl_softmax(sn_tfl_model *m, int ni, sn_error *err) {
    const sn_node *n = &m->g->nodes[ni];
    int r = m->g->tensors[n->inputs[0]].shape.rank;
    int axis = sn__tfl_axis(m->g, n->inputs[0], sn_node_attr_int(n, "axis", -1));
    if (axis != r - 1)
        return sn__tfl_refuse(m, ni, err,
                              "TFLite's SOFTMAX works on the last (TFLite) axis, "
                              "not axis %d of %d",
                              axis, r);
    sn_status s = sn__tfl_unary(m, ni, SN_TFL_OP_SOFTMAX, SN_TFL_OPT_SOFTMAX, err);
    if (s == SN_OK) sn_tfl_op_opt_f(m, m->n_ops - 1, SN_TFL_SOFTMAX_BETA, 1.0f);
    return s;
}

static sn_status sn__tfl_concat(sn_tfl_model *m, int ni, sn_error *err) {
    const sn_graph *g = m->g;
    const sn_node *n = &g->nodes[ni];
    int out = n->outputs[0], rank = g->tensors[out].shape.rank;
    int *in = malloc(sizeof(int) * (size_t)n->n_inputs);
    if (!in) return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory lowering to TFLite");
    for (int i = 0; i < n->n_inputs; i++) {
        int t = n->inputs[i];
        in[i] = g->tensors[t].flags & SN_TENSOR_CONST
                    ? sn__tfl_operand_const(m, t, rank, SN_TFL_ROLE_SAME_AS_IN, err)
                    : sn__tfl_act_tensor(m, t, err);
        if (in[i] < 0) {
            free(in);
            return err->status;
        }
    }
    int y = sn__tfl_act_tensor(m, out, err);
    int op =
        y < 0 ? -1 : sn_tfl_add_op(m, SN_TFL_OP_CONCATENATION, ni, in, n->n_inputs, &y, 1, err);
    free(in);
    if (op < 0) return err->status;
    sn_tfl_op_options(m, op, SN_TFL_OPT_CONCATENATION);
    sn_tfl_op_opt_i(m, op, SN_TFL_CONCAT_AXIS,
                    sn__tfl_axis(g, out, sn_node_attr_int(n, "axis", 0)));
    return SN_OK;
}

/* Flatten, Reshape, Identity: the data in Sentinel's (NCHW) order, RESHAPE, then to NHWC when
 * the result is a 4-D activation. */
static sn_status sn__tfl_reshape(sn_tfl_model *m, int ni, sn_error *err) {
    const sn_graph *g = m->g;
    const sn_node *n = &g->nodes[ni];
    int in = n->inputs[0], out = n->outputs[0];
    if (n->op == SN_OP_FLATTEN && sn_node_attr_int(n, "axis", 1) == 0 && sn__batched(g, in))
        return sn__tfl_refuse(m, ni, err,
                              "Flatten with axis 0 folds the dynamic batch into a "
                              "non-batch dim");
    bool same_layout = sn__tfl_is_nhwc(g, in) && sn__tfl_is_nhwc(g, out) && n->op == SN_OP_IDENTITY;
    int x = same_layout ? sn__tfl_act_tensor(m, in, err) : sn__tfl_to_nchw_order(m, ni, in, err);
    int y = x < 0 ? -1 : sn__tfl_act_tensor(m, out, err);
    if (y < 0) return err->status;
    if (same_layout || !sn__tfl_is_nhwc(g, out) ||
        sn__tfl_perm_is_trivial(m->t[y].shape, 4, sn__tfl_nchw_perm))
        return sn__tfl_emit_reshape(m, ni, x, y, err) < 0 ? err->status : SN_OK;
    /* A 4-D result: reshape to NCHW dims, then transpose into the NHWC tensor y. */
    const sn_tfl_tensor *yt = &m->t[y];
    int32_t nchw[4];
    for (int i = 0; i < 4; i++) nchw[sn__tfl_nhwc_perm[i]] = yt->shape[i];
    char name[300];
    snprintf(name, sizeof name, "%s/nchw", yt->name);
    int mid = sn_tfl_add_tensor(m, name, 4, nchw, yt->batched, yt->src, err);
    if (mid < 0 || sn__tfl_emit_reshape(m, ni, x, mid, err) < 0 ||
        sn__tfl_emit_transpose_to(m, ni, mid, sn__tfl_nhwc_perm, y, err) < 0)
        return err->status;
    return SN_OK;
}

static sn_status sn__tfl_transpose(sn_tfl_model *m, int ni, sn_error *err) {
    const sn_graph *g = m->g;
    const sn_node *n = &g->nodes[ni];
    int in = n->inputs[0], out = n->outputs[0], r = g->tensors[in].shape.rank, cnt = 0;
    const int64_t *p = sn_node_attr_ints(n, "perm", &cnt);
    int perm[SN_MAX_RANK], inv_in[SN_MAX_RANK], q[SN_MAX_RANK];
    for (int i = 0; i < r; i++) perm[i] = p && cnt == r ? (int)p[i] : r - 1 - i;
    for (int i = 0; i < r; i++) inv_in[sn__tfl_is_nhwc(g, in) ? sn__tfl_nhwc_perm[i] : i] = i;
    /* out_tfl[i] = out_sn[lo[i]] = in_sn[perm[lo[i]]] = in_tfl[inv_in[perm[lo[i]]]] */
    for (int i = 0; i < r; i++)
        q[i] = inv_in[perm[sn__tfl_is_nhwc(g, out) ? sn__tfl_nhwc_perm[i] : i]];
    int x = sn__tfl_act_tensor(m, in, err);
    int y = x < 0 ? -1 : sn__tfl_act_tensor(m, out, err);
    if (y < 0) return err->status;
    if (m->t[x].batched && q[0] != 0)
        return sn__tfl_refuse(m, ni, err, "moving the dynamic batch dim");
    if (sn__tfl_perm_is_trivial(m->t[x].shape, r, q))
        return sn__tfl_emit_reshape(m, ni, x, y, err) < 0 ? err->status : SN_OK;
    return sn__tfl_emit_transpose_to(m, ni, x, q, y, err) < 0 ? err->status : SN_OK;
}

/* Slice (ONNX semantics, starts and ends clamped to the dims) as STRIDED_SLICE with the bounds
 * resolved for the known dims; a dim not sliced, or sliced to its very start or end, uses the
 * begin / end masks (an end before index 0 of a backward slice has no index: TFLite would read
 * -1 as the last element). The dynamic batch dim can only be kept whole. */
static sn_status sn__tfl_slice(sn_tfl_model *m, int ni, sn_error *err) {
    const sn_graph *g = m->g;
    const sn_node *n = &g->nodes[ni];
    int in = n->inputs[0], r = g->tensors[in].shape.rank, ns = 0, ne = 0, na = 0, nst = 0;
    const int64_t *starts = sn_node_attr_ints(n, "starts", &ns),
                  *ends = sn_node_attr_ints(n, "ends", &ne);
    const int64_t *axes = sn_node_attr_ints(n, "axes", &na),
                  *steps = sn_node_attr_ints(n, "steps", &nst);
    sn_shape s1 = sn__shape1(g, in);
    bool nhwc = sn__tfl_is_nhwc(g, in);
    int32_t begin[SN_MAX_RANK], end[SN_MAX_RANK], stride[SN_MAX_RANK];
    int32_t bmask = 0, emask = 0;
    for (int i = 0; i < r; i++) {
        int d = nhwc ? sn__tfl_nhwc_perm[i] : i, k = -1;
        for (int j = 0; j < ns; j++) {
            int64_t ax = axes && j < na ? axes[j] : j;
            if (ax < 0) ax += r;
            if (ax == d) k = j;
        }
        begin[i] = end[i] = 0;
        stride[i] = 1;
        if (k < 0) {
            bmask |= 1 << i, emask |= 1 << i;
            continue;
        }
        int64_t size = s1.d[d], st = steps && k < nst ? steps[k] : 1, b = starts[k], e = ends[k];
        if (d == 0 && sn__batched(g, in)) {
            if (b != 0 || st != 1 || e < INT32_MAX)
                return sn__tfl_refuse(m, ni, err, "slicing the dynamic batch dim");
            bmask |= 1 << i, emask |= 1 << i;
            continue;
        }
        if (b < 0) b += size;
        if (e < 0) e += size;
        int64_t lo = st > 0 ? 0 : -1, hi = st > 0 ? size : size - 1;
        b = b < 0 ? 0 : b > hi ? hi : b;
        e = e < lo ? lo : e > hi ? hi : e;
        if (st > INT32_MAX || st < -INT32_MAX)
            return sn__tfl_refuse(m, ni, err, "a step too large for TFLite");
        begin[i] = (int32_t)b;
        stride[i] = (int32_t)st;
        if (e == -1)
            emask |= 1 << i;
        else
            end[i] = (int32_t)e;
    }
    int bc = sn_tfl_const_i32(m, "begin", begin, r, err);
    int ec = bc < 0 ? -1 : sn_tfl_const_i32(m, "end", end, r, err);
    int sc = ec < 0 ? -1 : sn_tfl_const_i32(m, "strides", stride, r, err);
    int x = sc < 0 ? -1 : sn__tfl_act_tensor(m, in, err);
    int y = x < 0 ? -1 : sn__tfl_act_tensor(m, n->outputs[0], err);
    int op = y < 0 ? -1
                   : sn_tfl_add_op(m, SN_TFL_OP_STRIDED_SLICE, ni, (int[]){x, bc, ec, sc}, 4, &y, 1,
                                   err);
    if (op < 0) return err->status;
    sn_tfl_op_options(m, op, SN_TFL_OPT_STRIDED_SLICE);
    sn_tfl_op_opt_i(m, op, SN_TFL_SLICE_BEGIN_MASK, bmask);
    sn_tfl_op_opt_i(m, op, SN_TFL_SLICE_END_MASK, emask);
    return SN_OK;
}

sn_status sn__tfl_lower_node(sn_tfl_model *m, int ni, sn_error *err) {
    const sn_node *n = &m->g->nodes[ni];
    for (int i = 0; i < n->n_outputs; i++)
        if (m->g->tensors[n->outputs[i]].dtype != SN_DTYPE_F32)
            return sn__tfl_refuse(m, ni, err,
                                  "output is %s; the TFLite exporter writes f32 "
                                  "graphs",
                                  sn_dtype_name(m->g->tensors[n->outputs[i]].dtype));
    switch (n->op) {
    case SN_OP_CONV:
    case SN_OP_FUSED_CONV: return sn__tfl_lower_conv(m, ni, err);
    case SN_OP_MAX_POOL:
    case SN_OP_AVG_POOL: return sn__tfl_lower_pool(m, ni, err);
    case SN_OP_GEMM:
    case SN_OP_MATMUL: return sn__tfl_lower_dense(m, ni, err);
    case SN_OP_PAD: return sn__tfl_lower_pad(m, ni, err);
    case SN_OP_RESIZE: return sn__tfl_lower_resize(m, ni, err);
    case SN_OP_GLOBAL_AVG_POOL: return sn__tfl_global_avg(m, ni, err);
    case SN_OP_ADD:
    case SN_OP_SUB:
    case SN_OP_MUL:
    case SN_OP_DIV: return sn__tfl_binary(m, ni, err);
    case SN_OP_RELU: return sn__tfl_unary(m, ni, SN_TFL_OP_RELU, 0, err);
    case SN_OP_CLIP: return sn__tfl_clip(m, ni, err);
    case SN_OP_SIGMOID: return sn__tfl_unary(m, ni, SN_TFL_OP_LOGISTIC, 0, err);
    case SN_OP_TANH: return sn__tfl_unary(m, ni, SN_TFL_OP_TANH, 0, err);
    case SN_OP_HARD_SWISH:
        return sn__tfl_unary(m, ni, SN_TFL_OP_HARD_SWISH, SN_TFL_OPT_HARD_SWISH, err);
    case SN_OP_LEAKY_RELU: {
        sn_status s = sn__tfl_unary(m, ni, SN_TFL_OP_LEAKY_RELU, SN_TFL_OPT_LEAKY_RELU, err);
        if (s == SN_OK)
            sn_tfl_op_opt_f(m, m->n_ops - 1, SN_TFL_LEAKY_RELU_ALPHA,
                            sn_node_attr_float(n, "alpha", 0.01f));
        return s;
    }
    case SN_OP_SOFTMAX: return sn__tfl_softmax(m, ni, err);
    case SN_OP_CONCAT: return sn__tfl_concat(m, ni, err);
    case SN_OP_FLATTEN:
    case SN_OP_RESHAPE:
    case SN_OP_IDENTITY: return sn__tfl_reshape(m, ni, err);
    case SN_OP_TRANSPOSE: return sn__tfl_transpose(m, ni, err);
    case SN_OP_SLICE: return sn__tfl_slice(m, ni, err);
    default:
        return sn__tfl_refuse(m, ni, err, "no TFLite lowering for this op%s",
                              n->op == SN_OP_BATCHNORM || n->op == SN_OP_BIAS_ADD
                                  ? " with non-constant parameters"
                                  : "");
    }
}
