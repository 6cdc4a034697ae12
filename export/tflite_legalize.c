/*
 * tflite_legalize.c - rewriting a clone of the graph into ops that map one to one onto TFLite.
 *
 * After this pass every Sentinel tensor is exactly one TFLite tensor, which is what int8
 * calibration needs: it runs this graph on the CPU engine and reads the range of every tensor,
 * including ones the optimiser had fused away (a conv's output before its activation, the conv
 * before a residual Add). The rewrites:
 *   FusedConv / Gemm with a residual or activation   conv, then Add(residual), then the act
 *   BatchNormalization                               Mul(scale') + Add(shift') per channel
 *   BiasAdd                                          Add of the bias shaped [C,1,1]
 *   HardSigmoid(a, b)                                Mul(6a), Add(6b), Clip(0,6), Mul(1/6)
 *   SiLU                                             Sigmoid, Mul with the input
 *   Div by a constant                                Mul by its reciprocal
 *   Gemm alpha / beta                                folded into B and C
 * Relu-family activations are fused back into the op before them when lowering, where TFLite
 * supports that (tflite_fuse.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_util.h"
#include "ops/nn_op_util.h"
#include "passes/pass_util.h"
#include "tflite_export.h"

/* A fresh activation tensor named after `base` plus a suffix (unique). */
static sn_status sn__lg_tensor(sn_graph *g, const char *base, const char *suffix, int *out,
                               sn_error *err) {
    char name[256];
    snprintf(name, sizeof name, "%.200s%s", base, suffix);
    for (int k = 1; sn_graph_find_tensor(g, name) >= 0; k++)
        snprintf(name, sizeof name, "%.200s%s_%d", base, suffix, k);
    sn_status s = sn_graph_add_tensor(g, name, SN_DTYPE_F32, NULL, out);
    return s == SN_OK ? SN_OK : sn_errorf(err, s, "legalize for TFLite: adding tensor '%s'", name);
}

static sn_status sn__lg_node(sn_graph *g, sn_op op, const char *name, const int *in, int n_in,
                             int out, const sn_attr *attrs, int n_attrs, sn_error *err) {
    int idx;
    sn_status s = sn_graph_add_node(g, op, name, in, n_in, &out, 1, attrs, n_attrs, &idx);
    return s == SN_OK ? SN_OK
                      : sn_errorf(err, s, "legalize for TFLite: adding a %s node after '%s'",
                                  sn_op_name(op), name);
}

/* A float constant of `n` copies of v... or of the given values, shaped for broadcasting along
 * axis 1 of a rank-`rank` tensor ([C,1,1] for rank 4; [C] for rank 2); n == 1 gives [1]. */
static sn_status sn__lg_const(sn_graph *g, const char *base, const float *v, int64_t n, int rank,
                              int *out, sn_error *err) {
    float *d = malloc(sizeof(float) * (size_t)n);
    if (!d) return sn__pass_oom(err, "legalize");
    memcpy(d, v, sizeof(float) * (size_t)n);
    int64_t dims[SN_MAX_RANK] = {n};
    int r = n == 1 ? 1 : (rank >= 2 ? rank - 1 : 1);
    for (int i = 1; i < r; i++) dims[i] = 1;
    sn_shape s = sn_shape_make(r, dims);
    return sn__add_const_f32(g, base, &s, &d, out, err);
}

static sn_status sn__lg_scalar(sn_graph *g, const char *base, float v, int *out, sn_error *err) {
    return sn__lg_const(g, base, &v, 1, 1, out, err);
}

/* Nodes computing out = act(in), named after `name`. */
static sn_status sn__lg_act(sn_graph *g, const char *name, sn_activation act, float alpha,
                            float beta, int in, int out, sn_error *err) {
    sn_status s = SN_OK;
    int c1, c2, t1, t2, t3;
    switch (act) {
    case SN_ACT_RELU: return sn__lg_node(g, SN_OP_RELU, name, &in, 1, out, NULL, 0, err);
    case SN_ACT_CLIP: {
        sn_attr a[2] = {sn_attr_float("min", alpha), sn_attr_float("max", beta)};
        return sn__lg_node(g, SN_OP_CLIP, name, &in, 1, out, a, 2, err);
    }
    case SN_ACT_LEAKY_RELU: {
        sn_attr a = sn_attr_float("alpha", alpha);
        return sn__lg_node(g, SN_OP_LEAKY_RELU, name, &in, 1, out, &a, 1, err);
    }
    case SN_ACT_SIGMOID: return sn__lg_node(g, SN_OP_SIGMOID, name, &in, 1, out, NULL, 0, err);
    case SN_ACT_TANH: return sn__lg_node(g, SN_OP_TANH, name, &in, 1, out, NULL, 0, err);
    case SN_ACT_HARD_SWISH:
        return sn__lg_node(g, SN_OP_HARD_SWISH, name, &in, 1, out, NULL, 0, err);
    case SN_ACT_HARD_SIGMOID: {
        /* max(0, min(1, a*x + b)) = relu6(6a*x + 6b) / 6: ops every TFLite backend has. */
        int c3;
        sn_attr clip[2] = {sn_attr_float("min", 0.0f), sn_attr_float("max", 6.0f)};
        if ((s = sn__lg_scalar(g, name, 6.0f * alpha, &c1, err)) == SN_OK)
            s = sn__lg_scalar(g, name, 6.0f * beta, &c2, err);
        if (s == SN_OK) s = sn__lg_scalar(g, name, 1.0f / 6.0f, &c3, err);
        if (s == SN_OK) s = sn__lg_tensor(g, name, ".scaled", &t1, err);
        if (s == SN_OK) s = sn__lg_tensor(g, name, ".shifted", &t2, err);
        if (s == SN_OK) s = sn__lg_tensor(g, name, ".relu6", &t3, err);
        if (s == SN_OK) s = sn__lg_node(g, SN_OP_MUL, name, (int[]){in, c1}, 2, t1, NULL, 0, err);
        if (s == SN_OK) s = sn__lg_node(g, SN_OP_ADD, name, (int[]){t1, c2}, 2, t2, NULL, 0, err);
        if (s == SN_OK) s = sn__lg_node(g, SN_OP_CLIP, name, &t2, 1, t3, clip, 2, err);
        if (s == SN_OK) s = sn__lg_node(g, SN_OP_MUL, name, (int[]){t3, c3}, 2, out, NULL, 0, err);
        return s;
    }
    case SN_ACT_SILU:
        if ((s = sn__lg_tensor(g, name, ".sigmoid", &t1, err)) == SN_OK)
            s = sn__lg_node(g, SN_OP_SIGMOID, name, &in, 1, t1, NULL, 0, err);
        if (s == SN_OK) s = sn__lg_node(g, SN_OP_MUL, name, (int[]){in, t1}, 2, out, NULL, 0, err);
        return s;
    default:
        return sn_errorf(err, SN_ERR_UNSUPPORTED, "node '%s': activation %d has no TFLite form",
                         name, (int)act);
    }
}

/* Node ni's output moves to a fresh tensor (returned in *t), freeing its old output tensor for
 * a new producer. */
static sn_status sn__lg_detach_output(sn_graph *g, int ni, const char *suffix, int *t,
                                      sn_error *err) {
    int old = g->nodes[ni].outputs[0];
    sn_status s = sn__lg_tensor(g, g->tensors[old].name, suffix, t, err);
    if (s != SN_OK) return s;
    g->nodes[ni].outputs[0] = *t;
    g->tensors[*t].producer = ni;
    g->tensors[old].producer = -1;
    return SN_OK;
}

/* FusedConv / Conv / Gemm: split off the residual Z and the activation. */
static sn_status sn__lg_fused(sn_graph *g, int ni, sn_error *err) {
    const sn_node *n = &g->nodes[ni];
    sn_activation act;
    float alpha, beta;
    /* The op definitions' reader, so absent parameters get the same defaults as on the CPU. */
    sn_status s = sn__nn_act_read(n, &act, &alpha, &beta, err);
    if (s != SN_OK) return s;
    int z = n->op == SN_OP_FUSED_CONV && n->n_inputs > 3 ? n->inputs[3] : -1;
    if (act == SN_ACT_NONE && z < 0) return SN_OK;
    char name[200];
    snprintf(name, sizeof name, "%s", sn__export_node_name(g, ni));
    int out = n->outputs[0], x;
    s = sn__lg_detach_output(g, ni, ".conv", &x, err);
    if (s != SN_OK) return s;
    sn__node_del_attr(g, ni, "activation");
    sn__node_del_attr(g, ni, "act_alpha");
    sn__node_del_attr(g, ni, "act_beta");
    if (z >= 0) {
        int ins[3] = {g->nodes[ni].inputs[0], g->nodes[ni].inputs[1], g->nodes[ni].inputs[2]};
        if ((s = sn__node_set_inputs(g, ni, ins, 3, err)) != SN_OK) return s;
        int sum = out;
        if (act != SN_ACT_NONE && (s = sn__lg_tensor(g, name, ".add", &sum, err)) != SN_OK)
            return s;
        if ((s = sn__lg_node(g, SN_OP_ADD, name, (int[]){x, z}, 2, sum, NULL, 0, err)) != SN_OK)
            return s;
        x = sum;
    }
    return act == SN_ACT_NONE ? SN_OK : sn__lg_act(g, name, act, alpha, beta, x, out, err);
}

/* Gemm: alpha into a scaled copy of a constant B, beta into a scaled copy of a constant C. */
static sn_status sn__lg_gemm_scales(sn_graph *g, int ni, sn_error *err) {
    const sn_node *n = &g->nodes[ni];
    float alpha = sn_node_attr_float(n, "alpha", 1.0f), beta = sn_node_attr_float(n, "beta", 1.0f);
    int ins[3] = {n->inputs[0], n->inputs[1], n->n_inputs > 2 ? n->inputs[2] : -1};
    for (int k = 1; k <= 2; k++) {
        float f = k == 1 ? alpha : beta;
        if (f == 1.0f || ins[k] < 0) continue;
        const sn_tensor *t = &g->tensors[ins[k]];
        const float *d = sn__const_f32(g, ins[k], -1);
        if (!d) continue; /* lowering refuses a non-constant B or C */
        int64_t cnt = sn_shape_numel(&t->shape);
        float *nd = malloc(sizeof(float) * (size_t)(cnt ? cnt : 1));
        if (!nd) return sn__pass_oom(err, "legalize");
        for (int64_t i = 0; i < cnt; i++) nd[i] = d[i] * f;
        sn_shape sh = t->shape;
        sn_status s = sn__add_const_f32(g, t->name, &sh, &nd, &ins[k], err);
        if (s != SN_OK) return s;
        sn__node_del_attr(g, ni, k == 1 ? "alpha" : "beta");
    }
    return sn__node_set_inputs(g, ni, ins, g->nodes[ni].n_inputs, err);
}

/* BatchNormalization -> Mul + Add; BiasAdd -> Add; Div(x, const) -> Mul. The node dies and the
 * new ones write its output. */
static sn_status sn__lg_affine(sn_graph *g, int ni, sn_error *err) {
    const sn_node *n = &g->nodes[ni];
    int x = n->inputs[0], out = n->outputs[0], rank = g->tensors[x].shape.rank;
    char name[200];
    snprintf(name, sizeof name, "%s", sn__export_node_name(g, ni));
    sn_status s = SN_OK;
    int c1, c2;
    if (n->op == SN_OP_DIV) {
        const sn_tensor *dt = &g->tensors[n->inputs[1]];
        const float *d = sn__const_f32(g, n->inputs[1], -1);
        if (!d || n->inputs[0] == n->inputs[1]) return SN_OK;
        int64_t cnt = sn_shape_numel(&dt->shape);
        float *r = malloc(sizeof(float) * (size_t)(cnt ? cnt : 1));
        if (!r) return sn__pass_oom(err, "legalize");
        for (int64_t i = 0; i < cnt; i++) r[i] = 1.0f / d[i];
        sn_shape sh = dt->shape;
        if ((s = sn__add_const_f32(g, name, &sh, &r, &c1, err)) != SN_OK) return s;
        g->nodes[ni].dead = true;
        g->tensors[out].producer = -1;
        return sn__lg_node(g, SN_OP_MUL, name, (int[]){x, c1}, 2, out, NULL, 0, err);
    }
    int64_t c = rank >= 2 ? g->tensors[x].shape.d[1] : -1;
    const float *b = sn__const_f32(g, n->inputs[1], c);
    if (c < 1 || !b) return SN_OK; /* lowering refuses what it cannot express */
    if (n->op == SN_OP_BIAS_ADD) {
        if ((s = sn__lg_const(g, name, b, c, rank, &c1, err)) != SN_OK) return s;
        g->nodes[ni].dead = true;
        g->tensors[out].producer = -1;
        return sn__lg_node(g, SN_OP_ADD, name, (int[]){x, c1}, 2, out, NULL, 0, err);
    }
    const float *bias = sn__const_f32(g, n->inputs[2], c),
                *mean = sn__const_f32(g, n->inputs[3], c), *var = sn__const_f32(g, n->inputs[4], c);
    if (!bias || !mean || !var) return SN_OK;
    double eps = sn_node_attr_float(n, "epsilon", 1e-5f);
    float *sc = malloc(sizeof(float) * 2 * (size_t)c);
    if (!sc) return sn__pass_oom(err, "legalize");
    for (int64_t i = 0; i < c; i++) {
        double k = (double)b[i] / sqrt((double)var[i] + eps);
        sc[i] = (float)k;
        sc[c + i] = (float)((double)bias[i] - (double)mean[i] * k);
    }
    int t;
    s = sn__lg_const(g, name, sc, c, rank, &c1, err);
    if (s == SN_OK) s = sn__lg_const(g, name, sc + c, c, rank, &c2, err);
    free(sc);
    if (s == SN_OK) s = sn__lg_tensor(g, name, ".scaled", &t, err);
    if (s != SN_OK) return s;
    g->nodes[ni].dead = true;
    g->tensors[out].producer = -1;
    if ((s = sn__lg_node(g, SN_OP_MUL, name, (int[]){x, c1}, 2, t, NULL, 0, err)) != SN_OK)
        return s;
    return sn__lg_node(g, SN_OP_ADD, name, (int[]){t, c2}, 2, out, NULL, 0, err);
}

sn_status sn__tfl_legalize(sn_graph *g, sn_error *err) {
    sn_status s = SN_OK;
    int n0 = g->n_nodes; /* nodes added here are already legal */
    for (int i = 0; i < n0; i++)
        if (!g->nodes[i].dead &&
            sn_node_attr_int(&g->nodes[i], "layout", SN_LAYOUT_NCHW) != SN_LAYOUT_NCHW)
            return sn__export_refuse(g, i, err, "NHWC-layout nodes are not exported; export the "
                                     "graph as it was before its layout was converted");
    for (int i = 0; i < n0 && s == SN_OK; i++) {
        if (g->nodes[i].dead) continue;
        switch (g->nodes[i].op) {
        case SN_OP_CONV:
        case SN_OP_FUSED_CONV: s = sn__lg_fused(g, i, err); break;
        case SN_OP_GEMM:
            s = sn__lg_gemm_scales(g, i, err);
            if (s == SN_OK) s = sn__lg_fused(g, i, err);
            break;
        case SN_OP_BATCHNORM:
        case SN_OP_BIAS_ADD:
        case SN_OP_DIV: s = sn__lg_affine(g, i, err); break;
        case SN_OP_HARD_SIGMOID:
        case SN_OP_SILU: {
            sn_activation act;
            float a, b;
            sn__node_activation(&g->nodes[i], &act, &a, &b);
            int in = g->nodes[i].inputs[0], out = g->nodes[i].outputs[0];
            char name[200];
            snprintf(name, sizeof name, "%s", sn__export_node_name(g, i));
            g->nodes[i].dead = true;
            g->tensors[out].producer = -1;
            s = sn__lg_act(g, name, act, a, b, in, out, err);
            break;
        }
        default: break;
        }
    }
    if (s == SN_OK && (s = sn_graph_compact(g)) != SN_OK)
        return sn_errorf(err, s, "legalize for TFLite: compacting the graph failed");
    if (s == SN_OK) s = sn_graph_validate(g, err);
    if (s == SN_OK) s = sn_graph_infer_shapes(g, err);
    if (s != SN_OK && err && !strstr(err->message, "legalize"))
        sn_error_prefix(err, "legalize for TFLite");
    return s;
}
