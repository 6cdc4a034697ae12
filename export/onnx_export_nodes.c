/*
 * onnx_export_nodes.c - each Sentinel node as the standard ONNX ops it stands for:
 *
 *   FusedConv    Conv, then Add (the residual Z), then the activation's op(s)
 *   Gemm         Flatten (when flatten_a), Gemm, then the activation's op(s)
 *   BiasAdd      Add of the bias shaped [C,1,...]
 *   SiLU         Sigmoid, Mul;  HardSwish before opset 14: HardSigmoid(1/6, 1/2), Mul
 *   Clip         Clip with min / max inputs (opset 11 and later); an infinite bound is omitted
 *   Reshape, Pad, Slice, Resize   their attributes become int64 / float initializer inputs
 *   Resize with `sizes` and a dynamic batch: the `axes` attribute from opset 18; before that the
 *                sizes tensor is built at run time from Shape(X)[0:2] and the fixed H, W
 *   everything else: the ONNX op of the same name and attributes
 * Intermediate tensors get fresh names "<output>/<what>_<n>".
 */
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "onnx_writer.h"
#include "ops/nn_op_util.h"
#include "passes/pass_util.h"
#include "resize.h"

static const char *sn__ow_in(sn__ow *w, const sn_node *n, int i) {
    if (i >= n->n_inputs || n->inputs[i] < 0) return "";
    int t = n->inputs[i];
    return w->g->tensors[t].flags & SN_TENSOR_CONST ? sn__ow_const(w, t) : w->g->tensors[t].name;
}

static const char *sn__ow_scalar(sn__ow *w, const char *base, const char *what, float v) {
    return sn__ow_init_f32(w, sn__ow_name(w, base, what), NULL, 0, &v);
}

/* Copy integer attribute `name` of n to the ONNX node when present. */
static void sn__ow_copy_ints(sn__ow *w, Onnx__NodeProto *o, const sn_node *n, const char *name) {
    int c = 0;
    const int64_t *v = sn_node_attr_ints(n, name, &c);
    if (v || sn_node_attr(n, name)) sn__ow_attr_ints(w, o, name, v, c);
}

static void sn__ow_copy_int(sn__ow *w, Onnx__NodeProto *o, const sn_node *n, const char *name) {
    if (sn_node_attr(n, name)) sn__ow_attr_int(w, o, name, sn_node_attr_int(n, name, 0));
}

/* out = act(in), named after node `name`. */
static void sn__ow_act(sn__ow *w, const char *name, sn_activation act, float alpha, float beta,
                       const char *in, const char *out) {
    Onnx__NodeProto *o;
    const char *t;
    switch (act) {
    case SN_ACT_NONE: sn__ow_node(w, "Identity", name, &in, 1, out); break;
    case SN_ACT_RELU: sn__ow_node(w, "Relu", name, &in, 1, out); break;
    case SN_ACT_SIGMOID: sn__ow_node(w, "Sigmoid", name, &in, 1, out); break;
    case SN_ACT_TANH: sn__ow_node(w, "Tanh", name, &in, 1, out); break;
    case SN_ACT_CLIP: {
        const char *ins[3] = {in, "", ""};
        if (alpha != -INFINITY) ins[1] = sn__ow_scalar(w, out, "min", alpha);
        if (beta != INFINITY) ins[2] = sn__ow_scalar(w, out, "max", beta);
        sn__ow_node(w, "Clip", name, ins, beta != INFINITY ? 3 : alpha != -INFINITY ? 2 : 1, out);
        break;
    }
    case SN_ACT_LEAKY_RELU:
        o = sn__ow_node(w, "LeakyRelu", name, &in, 1, out);
        sn__ow_attr_float(w, o, "alpha", alpha);
        break;
    case SN_ACT_HARD_SIGMOID:
        o = sn__ow_node(w, "HardSigmoid", name, &in, 1, out);
        sn__ow_attr_float(w, o, "alpha", alpha);
        sn__ow_attr_float(w, o, "beta", beta);
        break;
    case SN_ACT_HARD_SWISH:
        if (w->opset >= 14) {
            sn__ow_node(w, "HardSwish", name, &in, 1, out);
            break;
        }
        t = sn__ow_name(w, out, "hard_sigmoid");
        o = sn__ow_node(w, "HardSigmoid", name, &in, 1, t);
        sn__ow_attr_float(w, o, "alpha", 1.0f / 6.0f);
        sn__ow_attr_float(w, o, "beta", 0.5f);
        sn__ow_node(w, "Mul", name, (const char *[]){in, t}, 2, out);
        break;
    case SN_ACT_SILU:
        t = sn__ow_name(w, out, "sigmoid");
        sn__ow_node(w, "Sigmoid", name, &in, 1, t);
        sn__ow_node(w, "Mul", name, (const char *[]){in, t}, 2, out);
        break;
    default:
        w->status = sn_errorf(w->err, SN_ERR_UNSUPPORTED, "node '%s': activation %d", name, act);
    }
}

static sn_status sn__ow_conv(sn__ow *w, int ni, const char *out) {
    const sn_node *n = &w->g->nodes[ni];
    sn_activation act;
    float alpha, beta;
    if (sn__nn_act_read(n, &act, &alpha, &beta, w->err) != SN_OK) return w->status = w->err->status;
    const char *z = n->op == SN_OP_FUSED_CONV ? sn__ow_in(w, n, 3) : "";
    const char *conv_out = act != SN_ACT_NONE || z[0] ? sn__ow_name(w, out, "conv") : out;
    const char *ins[3] = {sn__ow_in(w, n, 0), sn__ow_in(w, n, 1), sn__ow_in(w, n, 2)};
    Onnx__NodeProto *o = sn__ow_node(w, "Conv", n->name, ins, ins[2][0] ? 3 : 2, conv_out);
    const sn_shape *ws = &w->g->tensors[n->inputs[1]].shape;
    sn__ow_attr_ints(w, o, "kernel_shape", ws->d + 2, 2);
    sn__ow_copy_ints(w, o, n, "strides");
    sn__ow_copy_ints(w, o, n, "pads");
    sn__ow_copy_ints(w, o, n, "dilations");
    sn__ow_copy_int(w, o, n, "group");
    const char *x = conv_out;
    if (z[0]) {
        const char *sum = act != SN_ACT_NONE ? sn__ow_name(w, out, "add") : out;
        sn__ow_node(w, "Add", n->name, (const char *[]){conv_out, z}, 2, sum);
        x = sum;
    }
    if (act != SN_ACT_NONE) sn__ow_act(w, n->name, act, alpha, beta, x, out);
    return w->status;
}

static sn_status sn__ow_gemm(sn__ow *w, int ni, const char *out) {
    const sn_node *n = &w->g->nodes[ni];
    sn_activation act;
    float alpha, beta;
    if (sn__nn_act_read(n, &act, &alpha, &beta, w->err) != SN_OK) return w->status = w->err->status;
    const char *a = sn__ow_in(w, n, 0);
    if (sn_node_attr_int(n, "flatten_a", 0)) {
        const char *f = sn__ow_name(w, a, "flattened");
        char fn[300];
        snprintf(fn, sizeof fn, "%s/flatten", n->name);
        Onnx__NodeProto *o = sn__ow_node(w, "Flatten", fn, &a, 1, f);
        sn__ow_attr_int(w, o, "axis", 1);
        a = f;
    }
    const char *ins[3] = {a, sn__ow_in(w, n, 1), sn__ow_in(w, n, 2)};
    const char *y = act != SN_ACT_NONE ? sn__ow_name(w, out, "gemm") : out;
    Onnx__NodeProto *o = sn__ow_node(w, "Gemm", n->name, ins, ins[2][0] ? 3 : 2, y);
    sn__ow_copy_int(w, o, n, "transA");
    sn__ow_copy_int(w, o, n, "transB");
    if (sn_node_attr(n, "alpha"))
        sn__ow_attr_float(w, o, "alpha", sn_node_attr_float(n, "alpha", 1));
    if (sn_node_attr(n, "beta")) sn__ow_attr_float(w, o, "beta", sn_node_attr_float(n, "beta", 1));
    if (act != SN_ACT_NONE) sn__ow_act(w, n->name, act, alpha, beta, y, out);
    return w->status;
}

static sn_status sn__ow_pool(sn__ow *w, int ni, const char *out) {
    const sn_node *n = &w->g->nodes[ni];
    const char *x = sn__ow_in(w, n, 0);
    Onnx__NodeProto *o = sn__ow_node(w, sn_op_name(n->op), n->name, &x, 1, out);
    sn__ow_copy_ints(w, o, n, "kernel_shape");
    sn__ow_copy_ints(w, o, n, "strides");
    sn__ow_copy_ints(w, o, n, "pads");
    sn__ow_copy_int(w, o, n, "ceil_mode");
    if (n->op == SN_OP_MAX_POOL)
        sn__ow_copy_ints(w, o, n, "dilations");
    else
        sn__ow_copy_int(w, o, n, "count_include_pad");
    return w->status;
}

/* An int64 attribute array as a 1-D initializer named after the output. */
static const char *sn__ow_ints_input(sn__ow *w, const sn_node *n, const char *attr,
                                     const char *out) {
    int c = 0;
    const int64_t *v = sn_node_attr_ints(n, attr, &c);
    int64_t dim = c;
    return sn__ow_init_i64(w, sn__ow_name(w, out, attr), &dim, 1, v);
}

static sn_status sn__ow_pad(sn__ow *w, int ni, const char *out) {
    const sn_node *n = &w->g->nodes[ni];
    static const char *const modes[] = {"constant", "reflect", "edge"};
    int64_t mode = sn_node_attr_int(n, "mode", 0);
    float value = sn_node_attr_float(n, "value", 0.0f);
    if (mode < 0 || mode > 2) return sn__ow_refuse(w, ni, "pad mode %lld", (long long)mode);
    const char *ins[3] = {sn__ow_in(w, n, 0), sn__ow_ints_input(w, n, "pads", out), ""};
    if (mode == 0 && value != 0.0f) ins[2] = sn__ow_scalar(w, out, "value", value);
    Onnx__NodeProto *o = sn__ow_node(w, "Pad", n->name, ins, ins[2][0] ? 3 : 2, out);
    sn__ow_attr_string(w, o, "mode", modes[mode]);
    return w->status;
}

static sn_status sn__ow_resize(sn__ow *w, int ni, const char *out) {
    const sn_node *n = &w->g->nodes[ni];
    static const char *const coords[] = {"half_pixel", "asymmetric", "align_corners",
                                         "pytorch_half_pixel"};
    static const char *const nearest[] = {"round_prefer_floor", "round_prefer_ceil", "floor",
                                          "ceil"};
    int64_t mode = sn_node_attr_int(n, "mode", SN_INTERP_NEAREST);
    int64_t coord = sn_node_attr_int(n, "coord_mode", SN_COORD_HALF_PIXEL);
    int64_t near = sn_node_attr_int(n, "nearest_mode", SN_NEAREST_ROUND_PREFER_FLOOR);
    if (coord < 0 || coord > 3 || near < 0 || near > 3)
        return sn__ow_refuse(w, ni, "unknown coord_mode or nearest_mode");
    int xt = n->inputs[0], ns = 0;
    const char *ins[4] = {sn__ow_in(w, n, 0), "", "", ""}, *x = ins[0];
    const float *scales = sn_node_attr_floats(n, "scales", &ns);
    const int64_t *sizes = sn_node_attr_ints(n, "sizes", &ns);
    bool axes = false;
    if (scales) {
        int64_t four = 4;
        ins[2] = sn__ow_init_f32(w, sn__ow_name(w, out, "scales"), &four, 1, scales);
    } else if (sizes) {
        const sn_shape *xs = &w->g->tensors[xt].shape;
        bool batched = (w->g->tensors[xt].flags & SN_TENSOR_BATCHED) || xs->d[0] == SN_DIM_BATCH;
        int64_t full[4] = {sizes[0] ? sizes[0] : xs->d[0], sizes[1] ? sizes[1] : xs->d[1], sizes[2],
                           sizes[3]};
        int64_t two = 2, four = 4, zero = 0;
        if (w->opset >= 18) { /* Resize's `axes`: only H and W are given */
            ins[3] = sn__ow_init_i64(w, sn__ow_name(w, out, "sizes"), &two, 1, full + 2);
            axes = true;
        } else if (!batched) {
            ins[3] = sn__ow_init_i64(w, sn__ow_name(w, out, "sizes"), &four, 1, full);
        } else { /* sizes = concat(shape(x)[0:1], [C, H, W]) at run time */
            const char *shp = sn__ow_name(w, out, "shape"), *n0 = sn__ow_name(w, out, "batch");
            const char *sz = sn__ow_name(w, out, "sizes");
            int64_t one = 1;
            /* Helper nodes take derived names, so the Resize keeps the node's own (an import
             * names the Sentinel node after it). */
            char hn[300];
            snprintf(hn, sizeof hn, "%s/sizes", n->name);
            sn__ow_node(w, "Shape", hn, &x, 1, shp);
            const char *sl[3] = {shp,
                                 sn__ow_init_i64(w, sn__ow_name(w, out, "start"), &one, 1, &zero),
                                 sn__ow_init_i64(w, sn__ow_name(w, out, "end"), &one, 1, &one)};
            sn__ow_node(w, "Slice", hn, sl, 3, n0);
            int64_t three = 3;
            const char *cat[2] = {
                n0, sn__ow_init_i64(w, sn__ow_name(w, out, "chw"), &three, 1, full + 1)};
            Onnx__NodeProto *c = sn__ow_node(w, "Concat", hn, cat, 2, sz);
            sn__ow_attr_int(w, c, "axis", 0);
            ins[3] = sz;
        }
    } else {
        return sn__ow_refuse(w, ni, "neither scales nor sizes");
    }
    Onnx__NodeProto *o = sn__ow_node(w, "Resize", n->name, ins, sizes ? 4 : 3, out);
    sn__ow_attr_string(w, o, "mode", mode == SN_INTERP_LINEAR ? "linear" : "nearest");
    sn__ow_attr_string(w, o, "coordinate_transformation_mode", coords[coord]);
    if (mode != SN_INTERP_LINEAR) sn__ow_attr_string(w, o, "nearest_mode", nearest[near]);
    if (axes) sn__ow_attr_ints(w, o, "axes", (const int64_t[]){2, 3}, 2);
    return w->status;
}

static sn_status sn__ow_bias_add(sn__ow *w, int ni, const char *out) {
    const sn_node *n = &w->g->nodes[ni];
    const sn_tensor *b = &w->g->tensors[n->inputs[1]];
    int rank = w->g->tensors[n->inputs[0]].shape.rank;
    if (b->dtype != SN_DTYPE_F32 || !(b->flags & SN_TENSOR_CONST) || rank < 2)
        return sn__ow_refuse(w, ni, "the bias must be an f32 constant added to a [N,C,...] tensor");
    int64_t dims[SN_MAX_RANK] = {b->shape.d[0]};
    for (int i = 1; i < rank - 1; i++) dims[i] = 1;
    const char *ins[2] = {sn__ow_in(w, n, 0), sn__ow_init_f32(w, sn__ow_name(w, b->name, "bcast"),
                                                              dims, rank - 1, b->data)};
    sn__ow_node(w, "Add", n->name, ins, 2, out);
    return w->status;
}

/* Ops that map by name (Sentinel's op names are ONNX's): the inputs as they are and the listed
 * attributes copied. */
static sn_status sn__ow_plain(sn__ow *w, int ni, const char *out) {
    const sn_node *n = &w->g->nodes[ni];
    const char **ins = sn__ow_alloc(w, sizeof *ins * (size_t)(n->n_inputs + 1));
    if (!ins) return w->status;
    for (int i = 0; i < n->n_inputs; i++) ins[i] = sn__ow_in(w, n, i);
    Onnx__NodeProto *o = sn__ow_node(w, sn_op_name(n->op), n->name, ins, n->n_inputs, out);
    switch (n->op) {
    case SN_OP_CONCAT: sn__ow_attr_int(w, o, "axis", sn_node_attr_int(n, "axis", 0)); break;
    case SN_OP_FLATTEN: sn__ow_attr_int(w, o, "axis", sn_node_attr_int(n, "axis", 1)); break;
    case SN_OP_SOFTMAX: sn__ow_attr_int(w, o, "axis", sn_node_attr_int(n, "axis", -1)); break;
    case SN_OP_TRANSPOSE: sn__ow_copy_ints(w, o, n, "perm"); break;
    case SN_OP_BATCHNORM:
        sn__ow_attr_float(w, o, "epsilon", sn_node_attr_float(n, "epsilon", 1e-5f));
        break;
    default: break;
    }
    return w->status;
}

sn_status sn__ow_node_emit(sn__ow *w, int ni) {
    const sn_node *n = &w->g->nodes[ni];
    const char *out = w->g->tensors[n->outputs[0]].name;
    if (sn_node_attr_int(n, "layout", SN_LAYOUT_NCHW) != SN_LAYOUT_NCHW)
        return sn__ow_refuse(w, ni,
                             "NHWC-layout nodes are not exported; export the graph as it "
                             "was before its layout was converted");
    sn_activation act;
    float a, b;
    switch (n->op) {
    case SN_OP_CONV:
    case SN_OP_FUSED_CONV: return sn__ow_conv(w, ni, out);
    case SN_OP_GEMM: return sn__ow_gemm(w, ni, out);
    case SN_OP_MAX_POOL:
    case SN_OP_AVG_POOL: return sn__ow_pool(w, ni, out);
    case SN_OP_PAD: return sn__ow_pad(w, ni, out);
    case SN_OP_RESIZE: return sn__ow_resize(w, ni, out);
    case SN_OP_BIAS_ADD: return sn__ow_bias_add(w, ni, out);
    case SN_OP_RELU:
    case SN_OP_CLIP:
    case SN_OP_LEAKY_RELU:
    case SN_OP_SIGMOID:
    case SN_OP_TANH:
    case SN_OP_HARD_SIGMOID:
    case SN_OP_HARD_SWISH:
    case SN_OP_SILU:
        sn__node_activation(n, &act, &a, &b);
        sn__ow_act(w, n->name, act, a, b, sn__ow_in(w, n, 0), out);
        return w->status;
    case SN_OP_RESHAPE: {
        const char *ins[2] = {sn__ow_in(w, n, 0), sn__ow_ints_input(w, n, "shape", out)};
        sn__ow_node(w, "Reshape", n->name, ins, 2, out);
        return w->status;
    }
    case SN_OP_SLICE: {
        const char *ins[5] = {sn__ow_in(w, n, 0), sn__ow_ints_input(w, n, "starts", out),
                              sn__ow_ints_input(w, n, "ends", out), "", ""};
        int k = 3;
        if (sn_node_attr(n, "axes")) ins[k++] = sn__ow_ints_input(w, n, "axes", out);
        if (sn_node_attr(n, "steps")) {
            if (k == 3) ins[k++] = "";
            ins[k++] = sn__ow_ints_input(w, n, "steps", out);
        }
        sn__ow_node(w, "Slice", n->name, ins, k, out);
        return w->status;
    }
    case SN_OP_ADD:
    case SN_OP_SUB:
    case SN_OP_MUL:
    case SN_OP_DIV:
    case SN_OP_BATCHNORM:
    case SN_OP_GLOBAL_AVG_POOL:
    case SN_OP_CONCAT:
    case SN_OP_FLATTEN:
    case SN_OP_TRANSPOSE:
    case SN_OP_MATMUL:
    case SN_OP_SOFTMAX:
    case SN_OP_IDENTITY: return sn__ow_plain(w, ni, out);
    default: return sn__ow_refuse(w, ni, "no ONNX form for this op");
    }
}
