/*
 * binary.c - op definitions of Add, Sub, Mul and Div: two f32 inputs with numpy broadcasting
 * (any rank up to SN_MAX_RANK). The kernel and the broadcast rule are in kernels/cpu/binary.c.
 */
#include "binary.h"

#include "tensor_op_util.h"

static const sn_attr_spec sn__binary_attrs[] = {{NULL, 0}};

static sn_binary_op sn__binary_of(sn_op op) {
    switch (op) {
    case SN_OP_SUB: return SN_BINARY_SUB;
    case SN_OP_MUL: return SN_BINARY_MUL;
    case SN_OP_DIV: return SN_BINARY_DIV;
    default: return SN_BINARY_ADD;
    }
}

static sn_status sn__binary_infer(const sn_node *n, const sn_value *in, sn_value *out,
                                  sn_error *err) {
    sn_status st;
    for (int i = 0; i < 2; i++) {
        if ((st = sn__check_input(n, in, i, err)) != SN_OK) return st;
        if ((st = sn__require_f32(n, in, i, err)) != SN_OK) return st;
    }
    if (!sn_broadcast_shape(in[0].rank, in[0].d, in[1].rank, in[1].d, &out[0].rank, out[0].d)) {
        char a[160], b[160];
        return sn_errorf(err, SN_ERR_SHAPE, SN__NODE_FMT ": cannot broadcast shapes %s and %s",
                         SN__NODE_ARGS(n), sn__dims_str(in[0].d, in[0].rank, a, sizeof a),
                         sn__dims_str(in[1].d, in[1].rank, b, sizeof b));
    }
    out[0].dtype = SN_DTYPE_F32;
    return SN_OK;
}

static sn_status sn__binary_run(const sn_cpu_ctx *ctx, const sn_node *n, const sn_value *in,
                                sn_value *out, sn_error *err) {
    if (!sn_cpu_binary_f32(sn__binary_of(n->op), in[0].data, in[0].rank, in[0].d, in[1].data,
                           in[1].rank, in[1].d, out[0].data, ctx->threads))
        return sn_errorf(err, SN_ERR_INTERNAL, SN__NODE_FMT ": input shapes do not broadcast",
                         SN__NODE_ARGS(n));
    return SN_OK;
}

static double sn__binary_flops(const sn_node *n, const sn_value *in, const sn_value *out) {
    (void)n;
    (void)in;
    return (double)sn_value_numel(&out[0]);
}

#define SN__BINARY_DEF(suffix, opname)                                                          \
    const sn_op_def sn_op_def_##suffix = {                                                      \
        .name = opname,                                                                         \
        .min_inputs = 2,                                                                        \
        .max_inputs = 2,                                                                        \
        .n_outputs = 1,                                                                         \
        .attrs = sn__binary_attrs,                                                              \
        .infer = sn__binary_infer,                                                              \
        .cpu_run = sn__binary_run,                                                              \
        .flops = sn__binary_flops,                                                              \
    };

SN__BINARY_DEF(add, "Add")
SN__BINARY_DEF(sub, "Sub")
SN__BINARY_DEF(mul, "Mul")
SN__BINARY_DEF(div, "Div")
