/*
 * activation_ops.c - op definitions of the standalone activations (Relu, Clip, LeakyRelu,
 * Sigmoid, Tanh, HardSigmoid, HardSwish, SiLU) and Identity. Each maps onto an sn_activation
 * with its alpha/beta so the kernel is the same sn_activate_array the fused kernels use.
 */
#include <math.h>

#include "elementwise.h"
#include "tensor_op_util.h"

static const sn_attr_spec sn__no_attrs[] = {{NULL, 0}};
static const sn_attr_spec sn__clip_attrs[] = {
    {"min", SN_ATTR_FLOAT}, {"max", SN_ATTR_FLOAT}, {NULL, 0}};
static const sn_attr_spec sn__leaky_attrs[] = {{"alpha", SN_ATTR_FLOAT}, {NULL, 0}};
static const sn_attr_spec sn__hsig_attrs[] = {
    {"alpha", SN_ATTR_FLOAT}, {"beta", SN_ATTR_FLOAT}, {NULL, 0}};

/* The activation and parameters a node computes (SN_ACT_NONE for Identity). */
static sn_activation sn__act_of(const sn_node *n, float *alpha, float *beta) {
    *alpha = 0.0f;
    *beta = 0.0f;
    switch (n->op) {
    case SN_OP_RELU: return SN_ACT_RELU;
    case SN_OP_CLIP:
        *alpha = sn_node_attr_float(n, "min", -INFINITY);
        *beta = sn_node_attr_float(n, "max", INFINITY);
        return SN_ACT_CLIP;
    case SN_OP_LEAKY_RELU: *alpha = sn_node_attr_float(n, "alpha", 0.01f); return SN_ACT_LEAKY_RELU;
    case SN_OP_SIGMOID: return SN_ACT_SIGMOID;
    case SN_OP_TANH: return SN_ACT_TANH;
    case SN_OP_HARD_SIGMOID:
        *alpha = sn_node_attr_float(n, "alpha", 0.2f);
        *beta = sn_node_attr_float(n, "beta", 0.5f);
        return SN_ACT_HARD_SIGMOID;
    case SN_OP_HARD_SWISH: return SN_ACT_HARD_SWISH;
    case SN_OP_SILU: return SN_ACT_SILU;
    default: return SN_ACT_NONE;
    }
}

static sn_status sn__act_infer(const sn_node *n, const sn_value *in, sn_value *out,
                               sn_error *err) {
    sn_status st = sn__check_input(n, in, 0, err);
    if (st != SN_OK) return st;
    float alpha, beta;
    sn_activation act = sn__act_of(n, &alpha, &beta);
    if (n->op != SN_OP_IDENTITY && (st = sn__require_f32(n, in, 0, err)) != SN_OK) return st;
    /* Clip's bounds may be infinite (the defaults) but not NaN; the others must be finite. */
    if (act == SN_ACT_CLIP && (isnan(alpha) || isnan(beta) || alpha > beta))
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         SN__NODE_FMT ": min (%g) must not be NaN or greater than max (%g)",
                         SN__NODE_ARGS(n), (double)alpha, (double)beta);
    if ((act == SN_ACT_LEAKY_RELU || act == SN_ACT_HARD_SIGMOID) &&
        (!isfinite(alpha) || !isfinite(beta)))
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         SN__NODE_FMT ": alpha (%g) and beta (%g) must be finite",
                         SN__NODE_ARGS(n), (double)alpha, (double)beta);
    out[0].dtype = in[0].dtype;
    out[0].rank = in[0].rank;
    for (int i = 0; i < in[0].rank; i++) out[0].d[i] = in[0].d[i];
    return SN_OK;
}

static sn_status sn__act_run(const sn_cpu_ctx *ctx, const sn_node *n, const sn_value *in,
                             sn_value *out, sn_error *err) {
    (void)err;
    float alpha, beta;
    sn_activation act = sn__act_of(n, &alpha, &beta);
    int64_t numel = sn_value_numel(&in[0]);
    if (numel == 0) return SN_OK;
    if (act == SN_ACT_NONE)
        sn_cpu_copy(in[0].data, out[0].data, (size_t)numel * sn_dtype_size(in[0].dtype),
                    ctx->threads);
    else
        sn_cpu_activation_f32(in[0].data, out[0].data, numel, act, alpha, beta, ctx->threads);
    return SN_OK;
}

/* One per element: these ops are bandwidth-bound and the count is for reporting. */
static double sn__act_flops(const sn_node *n, const sn_value *in, const sn_value *out) {
    (void)in;
    return n->op == SN_OP_IDENTITY ? 0.0 : (double)sn_value_numel(&out[0]);
}

#define SN__ACT_DEF(suffix, opname, attr_list)                                                  \
    const sn_op_def sn_op_def_##suffix = {                                                      \
        .name = opname,                                                                         \
        .min_inputs = 1,                                                                        \
        .max_inputs = 1,                                                                        \
        .n_outputs = 1,                                                                         \
        .attrs = attr_list,                                                                     \
        .infer = sn__act_infer,                                                                 \
        .cpu_run = sn__act_run,                                                                 \
        .flops = sn__act_flops,                                                                 \
    };

SN__ACT_DEF(relu, "Relu", sn__no_attrs)
SN__ACT_DEF(clip, "Clip", sn__clip_attrs)
SN__ACT_DEF(leaky_relu, "LeakyRelu", sn__leaky_attrs)
SN__ACT_DEF(sigmoid, "Sigmoid", sn__no_attrs)
SN__ACT_DEF(tanh, "Tanh", sn__no_attrs)
SN__ACT_DEF(hard_sigmoid, "HardSigmoid", sn__hsig_attrs)
SN__ACT_DEF(hard_swish, "HardSwish", sn__no_attrs)
SN__ACT_DEF(silu, "SiLU", sn__no_attrs)
SN__ACT_DEF(identity, "Identity", sn__no_attrs)
