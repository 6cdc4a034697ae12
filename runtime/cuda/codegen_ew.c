/*
 * codegen_ew.c - code generation for the elementwise families: the standalone activations (as a
 * one-step chain of elementwise.cu), BiasAdd and BatchNormalization (a per-channel affine with
 * the statistics folded on the host, as the CPU kernel folds them), and Add/Sub/Mul/Div with
 * numpy broadcasting (binary.cu).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codegen_util.h"

/* The standalone activation ops as sn_activation with their parameters. */
bool sn__cg_unary_act(const sn_node *n, sn_activation *act, float *a, float *b) {
    *a = 0.0f;
    *b = 0.0f;
    switch (n->op) {
    case SN_OP_RELU: *act = SN_ACT_RELU; return true;
    case SN_OP_SIGMOID: *act = SN_ACT_SIGMOID; return true;
    case SN_OP_TANH: *act = SN_ACT_TANH; return true;
    case SN_OP_HARD_SWISH: *act = SN_ACT_HARD_SWISH; return true;
    case SN_OP_SILU: *act = SN_ACT_SILU; return true;
    case SN_OP_IDENTITY: *act = SN_ACT_NONE; return true;
    case SN_OP_CLIP:
        *act = SN_ACT_CLIP;
        *a = sn_node_attr_float(n, "min", -INFINITY);
        *b = sn_node_attr_float(n, "max", INFINITY);
        return true;
    case SN_OP_LEAKY_RELU:
        *act = SN_ACT_LEAKY_RELU;
        *a = sn_node_attr_float(n, "alpha", 0.01f);
        return true;
    case SN_OP_HARD_SIGMOID:
        *act = SN_ACT_HARD_SIGMOID;
        *a = sn_node_attr_float(n, "alpha", 0.2f);
        *b = sn_node_attr_float(n, "beta", 0.5f);
        return true;
    default: return false;
    }
}

/* #define SN_EW_CHAIN(v) v = sn_activate(act, v, a, b); (one step; chains of several nodes are
 * the same text repeated). */
static void sn__def_chain(sn__src *s, sn_activation act, float a, float b) {
    uint32_t ua, ub;
    memcpy(&ua, &a, 4);
    memcpy(&ub, &b, 4);
    sn__cg_src_printf(s,
                      "#define SN_EW_CHAIN(v) v = sn_activate(%d, v, __int_as_float(0x%08x), "
                      "__int_as_float(0x%08x));\n",
                      (int)act, ua, ub);
}

sn_status sn__cg_gen_activation(const sn_cuda_codegen_ctx *ctx, const sn_node *n, sn_cuda_kernel *k,
                                sn_error *err) {
    sn_activation act;
    float a, b;
    sn__cg_unary_act(n, &act, &a, &b);
    int y = n->outputs[0], nd;
    sn__src s;
    sn__cg_kernel_begin(k, &s, ctx, "elementwise.cu", "sn_ew_chain", sn__cg_max_elems(ctx, y),
                        "node '%s' (%s)", sn__cg_node_name(n), sn_op_name(n->op));
    sn__cg_def_int(&s, "SN_EW_CHAIN_KERNEL", 1);
    sn__cg_def_int(&s, "SN_BATCHED", sn__cg_batched(ctx, y));
    sn__cg_def_int(&s, "SN_PER", sn__cg_per(ctx, y, &nd));
    sn__cg_def_int(&s, "SN_THREADS", SN__THREADS);
    sn__def_chain(&s, act, a, b);
    sn__cg_arg(k, SN_CUDA_ARG_BATCH, 0);
    sn__cg_arg(k, SN_CUDA_ARG_INPUT, 0);
    sn__cg_arg(k, SN_CUDA_ARG_OUTPUT, 0);
    sn__cg_grid_over(k, ctx, y);
    return sn__cg_kernel_end(k, &s, err);
}

/* A constant f32 tensor's data with `count` elements, or NULL. */
static const float *sn__const_f32(const sn_graph *g, int t, int64_t count) {
    if (t < 0) return NULL;
    const sn_tensor *x = &g->tensors[t];
    if (!(x->flags & SN_TENSOR_CONST) || x->dtype != SN_DTYPE_F32 || !x->data ||
        sn_shape_numel(&x->shape) != count)
        return NULL;
    return x->data;
}

/* BiasAdd (shift = B) and BatchNormalization (scale and shift folded from constant
 * statistics): y = x * scale[c] + shift[c]. */
sn_status sn__cg_gen_affine(const sn_cuda_codegen_ctx *ctx, const sn_node *n, sn_cuda_kernel *k,
                            sn_error *err) {
    int x = n->inputs[0], y = n->outputs[0], nd;
    const sn_shape *xs = sn__cg_shape(ctx, x);
    if (xs->rank < 2)
        return sn_errorf(err, SN_ERR_UNSUPPORTED, "%s node '%s': input of rank %d",
                         sn_op_name(n->op), sn__cg_node_name(n), xs->rank);
    int64_t ch = xs->d[1], inner = 1;
    for (int i = 2; i < xs->rank; i++) inner *= xs->d[i];
    bool bn = n->op == SN_OP_BATCHNORM;
    const float *p[4] = {NULL, NULL, NULL, NULL};
    for (int i = 0; i < (bn ? 4 : 1); i++) {
        p[i] = sn__const_f32(ctx->g, n->inputs[1 + i], ch);
        if (!p[i])
            return sn_errorf(err, SN_ERR_UNSUPPORTED,
                             "%s node '%s': input %d must be a constant f32 vector of %lld "
                             "values on the GPU",
                             sn_op_name(n->op), sn__cg_node_name(n), 1 + i, (long long)ch);
    }
    sn__src s;
    sn__cg_kernel_begin(k, &s, ctx, "elementwise.cu", "sn_ew_affine", sn__cg_max_elems(ctx, y),
                        "node '%s' (%s)", sn__cg_node_name(n), sn_op_name(n->op));
    sn__cg_def_int(&s, "SN_EW_AFFINE", 1);
    sn__cg_def_int(&s, "SN_BATCHED", sn__cg_batched(ctx, y));
    sn__cg_def_int(&s, "SN_PER", sn__cg_per(ctx, y, &nd));
    sn__cg_def_int(&s, "SN_INNER", inner);
    sn__cg_def_int(&s, "SN_CH", ch);
    sn__cg_def_int(&s, "SN_HAS_SCALE", bn);
    sn__cg_def_int(&s, "SN_HAS_SHIFT", 1);
    sn__cg_def_int(&s, "SN_THREADS", SN__THREADS);
    size_t bytes = (size_t)ch * sizeof(float);
    k->aux[0].data = malloc(bytes);
    k->aux[1].data = malloc(bytes);
    k->n_aux = 2;
    k->aux[0].bytes = k->aux[1].bytes = bytes;
    if (!k->aux[0].data || !k->aux[1].data) {
        free(s.buf);
        return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory generating %s", k->label);
    }
    float *scale = k->aux[0].data, *shift = k->aux[1].data;
    float eps = sn_node_attr_float(n, "epsilon", 1e-5f);
    for (int64_t c = 0; c < ch; c++) {
        if (bn) { /* the CPU kernel's formula (kernels/cpu/norm.c) */
            scale[c] = p[0][c] / sqrtf(p[3][c] + eps);
            shift[c] = p[1][c] - p[2][c] * scale[c];
        } else {
            scale[c] = 1.0f;
            shift[c] = p[0][c];
        }
    }
    sn__cg_arg(k, SN_CUDA_ARG_BATCH, 0);
    sn__cg_arg(k, SN_CUDA_ARG_INPUT, 0);
    sn__cg_arg(k, SN_CUDA_ARG_AUX, 0);
    sn__cg_arg(k, SN_CUDA_ARG_AUX, 1);
    sn__cg_arg(k, SN_CUDA_ARG_OUTPUT, 0);
    sn__cg_grid_over(k, ctx, y);
    return sn__cg_kernel_end(k, &s, err);
}

/* Row-major strides of shape s, as seen from an output of rank r (numpy broadcasting: s's dims
 * align to the right; a dim of 1 that the output widens gets stride 0). */
static void sn__bcast_strides(const sn_shape *s, const sn_shape *out, int64_t *st) {
    int r = out->rank, off = r - s->rank;
    int64_t acc = 1;
    for (int i = r - 1; i >= 0; i--) {
        int j = i - off;
        if (j < 0) {
            st[i] = 0;
            continue;
        }
        st[i] = s->d[j] == 1 && out->d[i] != 1 ? 0 : acc;
        acc *= s->d[j];
    }
}

sn_status sn__cg_gen_binary(const sn_cuda_codegen_ctx *ctx, const sn_node *n, sn_cuda_kernel *k,
                            sn_error *err) {
    int a = n->inputs[0], b = n->inputs[1], y = n->outputs[0], nd;
    const sn_shape *ys = sn__cg_shape(ctx, y);
    int64_t as[SN_MAX_RANK], bs[SN_MAX_RANK], dims[SN_MAX_RANK];
    sn__bcast_strides(sn__cg_shape(ctx, a), ys, as);
    sn__bcast_strides(sn__cg_shape(ctx, b), ys, bs);
    /* A batched operand of lower rank than the output cannot carry the batch in its dim 0. */
    int r = ys->rank < 1 ? 1 : ys->rank;
    for (int i = 0; i < r; i++) dims[i] = ys->rank ? ys->d[i] : 1;
    if (ys->rank == 0) as[0] = bs[0] = 0;
    int64_t per = sn__cg_per(ctx, y, &nd);
    if (nd == 0) {
        /* At batch n an operand that scales has n in its dim 0, which lines up with the
         * output's dim 0 only when ranks agree; at batch 1 its stride there is unused. */
        for (int i = 0; i < 2; i++) {
            int t = n->inputs[i];
            int64_t *st = i ? bs : as;
            if (!sn__cg_batched(ctx, t)) {
                st[0] = 0;
                continue;
            }
            if (sn__cg_shape(ctx, t)->rank != ys->rank || sn__cg_shape(ctx, t)->d[0] != 1)
                return sn_errorf(err, SN_ERR_UNSUPPORTED,
                                 "%s node '%s': operand %d scales with the batch but is not "
                                 "of the output's rank",
                                 sn_op_name(n->op), sn__cg_node_name(n), i);
            st[0] = sn_shape_numel(sn__cg_shape(ctx, t));
        }
    }
    int op = n->op == SN_OP_ADD ? 0 : n->op == SN_OP_SUB ? 1 : n->op == SN_OP_MUL ? 2 : 3;
    int64_t elems = sn__cg_max_elems(ctx, y);
    if (sn__cg_max_elems(ctx, a) > elems) elems = sn__cg_max_elems(ctx, a);
    if (sn__cg_max_elems(ctx, b) > elems) elems = sn__cg_max_elems(ctx, b);
    sn__src s;
    sn__cg_kernel_begin(k, &s, ctx, "binary.cu", "sn_binary", elems, "node '%s' (%s)",
                        sn__cg_node_name(n), sn_op_name(n->op));
    sn__cg_def_int(&s, "SN_OP", op);
    sn__cg_def_int(&s, "SN_RANK", r);
    sn__cg_def_list(&s, "SN_DIMS", dims, r);
    sn__cg_def_int(&s, "SN_NDIM", nd);
    sn__cg_def_list(&s, "SN_ASTR", as, r);
    sn__cg_def_list(&s, "SN_BSTR", bs, r);
    sn__cg_def_int(&s, "SN_PER", per);
    sn__cg_def_int(&s, "SN_THREADS", SN__THREADS);
    sn__cg_arg(k, SN_CUDA_ARG_BATCH, 0);
    sn__cg_arg(k, SN_CUDA_ARG_INPUT, 0);
    sn__cg_arg(k, SN_CUDA_ARG_INPUT, 1);
    sn__cg_arg(k, SN_CUDA_ARG_OUTPUT, 0);
    sn__cg_grid_over(k, ctx, y);
    return sn__cg_kernel_end(k, &s, err);
}
