/*
 * codegen_nn.c - code generation for the compute-heavy op families: FusedConv / Conv (implicit
 * GEMM, direct, depthwise), the pools, Gemm / MatMul, Softmax and Resize. Attributes are read
 * through the op definitions' own helpers (graph/ops/nn_op_util.h), so the GPU sees exactly the
 * geometry and defaults the CPU backend does.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codegen_util.h"
#include "nn_op_util.h"
#include "resize.h"

/* --- convolution --------------------------------------------------------------------------- */

typedef struct sn__conv_geom {
    int64_t c, h, w, m, g, cg, mg, kdim;
    sn_window2d win;
    sn_activation act;
    float alpha, beta;
    bool bias, res;
} sn__conv_geom;

static sn_status sn__conv_geom_read(const sn_cuda_codegen_ctx *ctx, const sn_node *n,
                                    sn__conv_geom *q, sn_error *err) {
    const sn_shape *x = sn__cg_shape(ctx, n->inputs[0]), *w = sn__cg_shape(ctx, n->inputs[1]);
    if (x->rank != 4 || w->rank != 4)
        return sn_errorf(err, SN_ERR_UNSUPPORTED, "%s node '%s': only 2-D convolutions",
                         sn_op_name(n->op), sn__cg_node_name(n));
    sn_status st = sn__cg_check_batch_dim(ctx, n, n->inputs[0], err);
    if (st != SN_OK) return st;
    int64_t group = sn_node_attr_int(n, "group", 1);
    *q = (sn__conv_geom){.c = x->d[1], .h = x->d[2], .w = x->d[3], .m = w->d[0], .g = group};
    if (group < 1 || q->c % group || q->m % group || w->d[1] != q->c / group)
        return sn_errorf(err, SN_ERR_SHAPE, "%s node '%s': bad group %lld", sn_op_name(n->op),
                         sn__cg_node_name(n), (long long)group);
    q->cg = q->c / group;
    q->mg = q->m / group;
    q->kdim = q->cg * w->d[2] * w->d[3];
    st = sn__nn_window_read(n, q->h, q->w, w->d[2], w->d[3], (sn_window_rules){.dilations = true},
                            &q->win, err);
    if (st != SN_OK) return st;
    q->act = SN_ACT_NONE;
    q->alpha = q->beta = 0.0f;
    if (n->op == SN_OP_FUSED_CONV) {
        st = sn__nn_act_read(n, &q->act, &q->alpha, &q->beta, err);
        if (st != SN_OK) return st;
    }
    q->bias = n->n_inputs > 2 && n->inputs[2] >= 0;
    q->res = n->op == SN_OP_FUSED_CONV && n->n_inputs > 3 && n->inputs[3] >= 0;
    return SN_OK;
}

unsigned sn_cuda_conv_variants(const sn_cuda_codegen_ctx *ctx, int node) {
    const sn_node *n = &ctx->g->nodes[node];
    sn__conv_geom q;
    if (sn__conv_geom_read(ctx, n, &q, NULL) != SN_OK) return 0;
    unsigned v = 1u << SN_CONV_IGEMM | 1u << SN_CONV_DIRECT;
    if (q.cg == 1) v |= 1u << SN_CONV_DEPTHWISE;
    return v;
}

sn_status sn__cg_gen_conv(const sn_cuda_codegen_ctx *ctx, const sn_node *n, int variant,
                          sn_cuda_kernel *k, sn_error *err) {
    sn__conv_geom q;
    sn_status st = sn__conv_geom_read(ctx, n, &q, err);
    if (st != SN_OK) return st;
    if (variant == SN_CONV_AUTO) {
        /* GEMM tiles need a few dozen channels per group and a K of some depth to fill. */
        variant = q.cg == 1                 ? SN_CONV_DEPTHWISE
                  : q.mg < 8 || q.kdim < 16 ? SN_CONV_DIRECT
                                            : SN_CONV_IGEMM;
    }
    if (variant == SN_CONV_DEPTHWISE && q.cg != 1)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         "%s node '%s': the depthwise kernel needs one input channel per group",
                         sn_op_name(n->op), sn__cg_node_name(n));
    const int y = n->outputs[0];
    int64_t elems = sn__cg_max_elems(ctx, y);
    if (sn__cg_max_elems(ctx, n->inputs[0]) > elems) elems = sn__cg_max_elems(ctx, n->inputs[0]);
    static const char *const tmpl[] = {"fused_conv.cu", "fused_conv.cu", "depthwise_conv.cu"};
    static const char *const entry[] = {"sn_conv_igemm", "sn_conv_direct", "sn_conv_depthwise"};
    static const char *const vname[] = {"implicit GEMM", "direct", "depthwise"};
    if (variant < 0 || variant > SN_CONV_DEPTHWISE)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "unknown conv variant %d", variant);
    sn__src s;
    sn__cg_kernel_begin(k, &s, ctx, tmpl[variant], entry[variant], elems, "node '%s' (%s, %s)",
                        sn__cg_node_name(n), sn_op_name(n->op), vname[variant]);
    sn__cg_def_int(&s, "SN_C", q.c);
    sn__cg_def_int(&s, "SN_H", q.h);
    sn__cg_def_int(&s, "SN_W", q.w);
    sn__cg_def_int(&s, "SN_M", q.m);
    sn__cg_def_int(&s, "SN_G", q.g);
    sn__cg_def_int(&s, "SN_KH", q.win.kh);
    sn__cg_def_int(&s, "SN_KW", q.win.kw);
    sn__cg_def_int(&s, "SN_SH", q.win.sh);
    sn__cg_def_int(&s, "SN_SW", q.win.sw);
    sn__cg_def_int(&s, "SN_DH", q.win.dh);
    sn__cg_def_int(&s, "SN_DW", q.win.dw);
    sn__cg_def_int(&s, "SN_PT", q.win.pt);
    sn__cg_def_int(&s, "SN_PL", q.win.pl);
    sn__cg_def_int(&s, "SN_OH", q.win.oh);
    sn__cg_def_int(&s, "SN_OW", q.win.ow);
    sn__cg_def_int(&s, "SN_HAS_BIAS", q.bias);
    sn__cg_def_int(&s, "SN_HAS_RES", q.res);
    sn__cg_def_int(&s, "SN_ACT", q.act);
    sn__cg_def_float(&s, "SN_ACT_ALPHA", q.alpha);
    sn__cg_def_float(&s, "SN_ACT_BETA", q.beta);
    const int64_t ohw = q.win.oh * q.win.ow;
    if (variant == SN_CONV_IGEMM) {
        const int bm = q.mg <= 32 ? 32 : 64, bn = 64, bk = 16;
        sn__cg_def_int(&s, "SN_CONV_IGEMM", 1);
        sn__cg_def_int(&s, "SN_BM", bm);
        sn__cg_def_int(&s, "SN_BN", bn);
        sn__cg_def_int(&s, "SN_BK", bk);
        k->block = bm * bn / 16;
        k->grid[0] = (sn_grid_dim){ohw, bn, 0};
        k->grid[1] = (sn_grid_dim){0, 1, (q.mg + bm - 1) / bm};
        k->grid[2] = (sn_grid_dim){0, 1, q.g};
    } else if (variant == SN_CONV_DIRECT) {
        sn__cg_def_int(&s, "SN_CONV_DIRECT", 1);
        sn__cg_def_int(&s, "SN_THREADS", SN__THREADS);
        sn__cg_grid_1d(k, q.m * ohw, 0, SN__THREADS);
    } else {
        /* Adjacent outputs share input columns when the stride is 1; with wider strides one
         * output per thread already reads distinct columns. */
        const int vec = q.win.sw == 1 && q.win.ow >= 4 ? 4 : 1;
        sn__cg_def_int(&s, "SN_VEC", vec);
        sn__cg_def_int(&s, "SN_THREADS", SN__THREADS);
        sn__cg_grid_1d(k, q.m * q.win.oh * ((q.win.ow + vec - 1) / vec), 0, SN__THREADS);
    }
    sn__cg_arg(k, SN_CUDA_ARG_BATCH, 0);
    sn__cg_arg(k, SN_CUDA_ARG_INPUT, 0);
    sn__cg_arg(k, SN_CUDA_ARG_INPUT, 1);
    sn__cg_arg(k, q.bias ? SN_CUDA_ARG_INPUT : SN_CUDA_ARG_NULL, 2);
    sn__cg_arg(k, q.res ? SN_CUDA_ARG_INPUT : SN_CUDA_ARG_NULL, 3);
    sn__cg_arg(k, SN_CUDA_ARG_OUTPUT, 0);
    return sn__cg_kernel_end(k, &s, err);
}

/* --- pooling ------------------------------------------------------------------------------- */

sn_status sn__cg_gen_pool(const sn_cuda_codegen_ctx *ctx, const sn_node *n, sn_cuda_kernel *k,
                          sn_error *err) {
    const int x = n->inputs[0], y = n->outputs[0];
    const sn_shape *xs = sn__cg_shape(ctx, x);
    sn_status st = sn__cg_check_batch_dim(ctx, n, x, err);
    if (st != SN_OK) return st;
    if (xs->rank < 3 || (n->op != SN_OP_GLOBAL_AVG_POOL && xs->rank != 4))
        return sn_errorf(err, SN_ERR_UNSUPPORTED, "%s node '%s': input of rank %d",
                         sn_op_name(n->op), sn__cg_node_name(n), xs->rank);
    sn__src s;
    if (n->op == SN_OP_GLOBAL_AVG_POOL) {
        int64_t hw = 1;
        for (int i = 2; i < xs->rank; i++) hw *= xs->d[i];
        sn__cg_kernel_begin(k, &s, ctx, "pool.cu", "sn_global_avg_pool", sn__cg_max_elems(ctx, x),
                            "node '%s' (GlobalAveragePool)", sn__cg_node_name(n));
        sn__cg_def_int(&s, "SN_POOL_GLOBAL", 1);
        sn__cg_def_int(&s, "SN_C", xs->d[1]);
        sn__cg_def_int(&s, "SN_H", 1);
        sn__cg_def_int(&s, "SN_W", hw);
        sn__cg_def_int(&s, "SN_THREADS", SN__THREADS);
        k->block = SN__THREADS;
        k->grid[0] = (sn_grid_dim){xs->d[1], SN__THREADS / 32, 0};
    } else {
        const bool is_max = n->op == SN_OP_MAX_POOL;
        int cnt = 0;
        const int64_t *ks = sn_node_attr_ints(n, "kernel_shape", &cnt);
        if (!ks || cnt != 2)
            return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "%s node '%s': bad kernel_shape",
                             sn_op_name(n->op), sn__cg_node_name(n));
        sn_window_rules rules = {.dilations = is_max,
                                 .ceil_mode = sn_node_attr_int(n, "ceil_mode", 0) != 0,
                                 .pads_below_kernel = true};
        sn_window2d w;
        st = sn__nn_window_read(n, xs->d[2], xs->d[3], ks[0], ks[1], rules, &w, err);
        if (st != SN_OK) return st;
        sn__cg_kernel_begin(k, &s, ctx, "pool.cu", "sn_pool2d", sn__cg_max_elems(ctx, x),
                            "node '%s' (%s)", sn__cg_node_name(n), sn_op_name(n->op));
        sn__cg_def_int(&s, is_max ? "SN_POOL_MAX" : "SN_POOL_AVG", 1);
        sn__cg_def_int(&s, "SN_C", xs->d[1]);
        sn__cg_def_int(&s, "SN_H", xs->d[2]);
        sn__cg_def_int(&s, "SN_W", xs->d[3]);
        sn__cg_def_int(&s, "SN_KH", w.kh);
        sn__cg_def_int(&s, "SN_KW", w.kw);
        sn__cg_def_int(&s, "SN_SH", w.sh);
        sn__cg_def_int(&s, "SN_SW", w.sw);
        sn__cg_def_int(&s, "SN_DH", w.dh);
        sn__cg_def_int(&s, "SN_DW", w.dw);
        sn__cg_def_int(&s, "SN_PT", w.pt);
        sn__cg_def_int(&s, "SN_PL", w.pl);
        sn__cg_def_int(&s, "SN_PB", w.pb);
        sn__cg_def_int(&s, "SN_PR", w.pr);
        sn__cg_def_int(&s, "SN_OH", w.oh);
        sn__cg_def_int(&s, "SN_OW", w.ow);
        sn__cg_def_int(&s, "SN_COUNT_PAD", sn_node_attr_int(n, "count_include_pad", 0) != 0);
        sn__cg_def_int(&s, "SN_THREADS", SN__THREADS);
        sn__cg_grid_1d(k, xs->d[1] * w.oh * w.ow, 0, SN__THREADS);
    }
    sn__cg_arg(k, SN_CUDA_ARG_BATCH, 0);
    sn__cg_arg(k, SN_CUDA_ARG_INPUT, 0);
    sn__cg_arg(k, SN_CUDA_ARG_OUTPUT, 0);
    (void)y;
    return sn__cg_kernel_end(k, &s, err);
}

/* --- Gemm and MatMul ----------------------------------------------------------------------- */

typedef struct sn__gemm_geom {
    int64_t m, k, n; /* m: rows per unit of n when m_batched */
    bool m_batched, ta, tb;
    int64_t zb; /* stacked matrices (per unit of n when z_batched) */
    bool z_batched;
    int64_t a_zs, b_zs, y_zs;
} sn__gemm_geom;

static sn_status sn__gemm_geom_read(const sn_cuda_codegen_ctx *ctx, const sn_node *n,
                                    sn__gemm_geom *q, sn_error *err) {
    const int a = n->inputs[0], b = n->inputs[1];
    const sn_shape *as = sn__cg_shape(ctx, a), *bs = sn__cg_shape(ctx, b);
    const bool ab = sn__cg_batched(ctx, a), bb = sn__cg_batched(ctx, b);
    *q = (sn__gemm_geom){.zb = 1};
    sn_status st = sn__cg_check_batch_dim(ctx, n, a, err);
    if (st != SN_OK) return st;
    if (n->op == SN_OP_GEMM) {
        q->ta = sn_node_attr_int(n, "transA", 0) != 0;
        q->tb = sn_node_attr_int(n, "transB", 0) != 0;
        if (bs->rank != 2 || bb || as->rank < 2)
            return sn_errorf(err, SN_ERR_UNSUPPORTED,
                             "Gemm node '%s': B must be a fixed 2-D matrix on the GPU",
                             sn__cg_node_name(n));
        /* flatten_a (or rank 2): A is [d0, features] whatever the layout attribute says, since
         * the layout pass permuted B's rows to match. */
        int64_t feat = 1;
        for (int i = 1; i < as->rank; i++) feat *= as->d[i];
        if (q->ta && (ab || as->rank != 2))
            return sn_errorf(err, SN_ERR_UNSUPPORTED,
                             "Gemm node '%s': transA with a batch-dependent A",
                             sn__cg_node_name(n));
        q->m = q->ta ? feat : as->d[0];
        q->k = q->ta ? as->d[0] : feat;
        q->n = q->tb ? bs->d[0] : bs->d[1];
        q->m_batched = ab;
        return SN_OK;
    }
    /* MatMul: A [..., M, K] times a fixed B [K, N] (rows stacked), or both stacked alike. */
    if (as->rank < 2 || bs->rank < 2)
        return sn_errorf(err, SN_ERR_UNSUPPORTED,
                         "MatMul node '%s': 1-D operands are not supported on the GPU",
                         sn__cg_node_name(n));
    q->k = as->d[as->rank - 1];
    q->n = bs->d[bs->rank - 1];
    if (bs->rank == 2 && !bb) {
        q->m = 1;
        for (int i = 0; i < as->rank - 1; i++) q->m *= as->d[i];
        q->m_batched = ab;
        return SN_OK;
    }
    if (as->rank != bs->rank || ab != bb)
        return sn_errorf(err, SN_ERR_UNSUPPORTED,
                         "MatMul node '%s': broadcasting stacked operands is not supported on "
                         "the GPU",
                         sn__cg_node_name(n));
    for (int i = 0; i < as->rank - 2; i++) {
        if (as->d[i] != bs->d[i])
            return sn_errorf(err, SN_ERR_UNSUPPORTED,
                             "MatMul node '%s': broadcasting stacked operands is not supported "
                             "on the GPU",
                             sn__cg_node_name(n));
        q->zb *= as->d[i];
    }
    q->m = as->d[as->rank - 2];
    q->z_batched = ab;
    q->a_zs = q->m * q->k;
    q->b_zs = q->k * q->n;
    q->y_zs = q->m * q->n;
    return SN_OK;
}

sn_status sn__cg_gen_dense(const sn_cuda_codegen_ctx *ctx, const sn_node *n, sn_cuda_kernel *k,
                           sn_error *err) {
    sn__gemm_geom q;
    sn_status st = sn__gemm_geom_read(ctx, n, &q, err);
    if (st != SN_OK) return st;
    sn_activation act = SN_ACT_NONE;
    float aa = 0.0f, ab = 0.0f, alpha = 1.0f, beta = 1.0f;
    int64_t c_rs = 0, c_cs = 0;
    const bool has_c = n->op == SN_OP_GEMM && n->n_inputs > 2 && n->inputs[2] >= 0;
    if (n->op == SN_OP_GEMM) {
        if ((st = sn__nn_act_read(n, &act, &aa, &ab, err)) != SN_OK) return st;
        alpha = sn_node_attr_float(n, "alpha", 1.0f);
        beta = sn_node_attr_float(n, "beta", 1.0f);
    }
    if (has_c) {
        const sn_shape *cs = sn__cg_shape(ctx, n->inputs[2]);
        if (cs->rank > 2 || (sn__cg_batched(ctx, n->inputs[2]) && !q.m_batched))
            return sn_errorf(err, SN_ERR_UNSUPPORTED, "Gemm node '%s': C of rank %d",
                             sn__cg_node_name(n), cs->rank);
        int64_t cm = cs->rank == 2 ? cs->d[0] : 1, cn = cs->rank >= 1 ? cs->d[cs->rank - 1] : 1;
        /* A batch-dependent C is [rows, N] (or [rows, 1]) like the output. */
        c_rs = sn__cg_batched(ctx, n->inputs[2]) || cm != 1 ? cn : 0;
        c_cs = cn == 1 ? 0 : 1;
    }
    const int y = n->outputs[0];
    int64_t elems = sn__cg_max_elems(ctx, y);
    for (int i = 0; i < 2; i++)
        if (sn__cg_max_elems(ctx, n->inputs[i]) > elems)
            elems = sn__cg_max_elems(ctx, n->inputs[i]);
    /* Small batches leave most of a 64-row tile idle: 16-row tiles when rows stay small. */
    const int64_t max_rows = q.m * (q.m_batched ? ctx->max_batch : 1);
    const int bm = max_rows <= 16 ? 16 : 64, bn = 64, bk = 16;
    sn__src s;
    sn__cg_kernel_begin(k, &s, ctx, "dense.cu", "sn_dense", elems, "node '%s' (%s)",
                        sn__cg_node_name(n), sn_op_name(n->op));
    sn__cg_def_int(&s, "SN_M", q.m);
    sn__cg_def_int(&s, "SN_M_BATCHED", q.m_batched);
    sn__cg_def_int(&s, "SN_K", q.k);
    sn__cg_def_int(&s, "SN_N", q.n);
    sn__cg_def_int(&s, "SN_TRANS_A", q.ta);
    sn__cg_def_int(&s, "SN_TRANS_B", q.tb);
    sn__cg_def_int(&s, "SN_A_ZS", q.a_zs);
    sn__cg_def_int(&s, "SN_B_ZS", q.b_zs);
    sn__cg_def_int(&s, "SN_Y_ZS", q.y_zs);
    sn__cg_def_int(&s, "SN_HAS_C", has_c);
    sn__cg_def_int(&s, "SN_C_RS", c_rs);
    sn__cg_def_int(&s, "SN_C_CS", c_cs);
    sn__cg_def_float(&s, "SN_ALPHA", alpha);
    sn__cg_def_float(&s, "SN_BETA", beta);
    sn__cg_def_int(&s, "SN_ACT", act);
    sn__cg_def_float(&s, "SN_ACT_ALPHA", aa);
    sn__cg_def_float(&s, "SN_ACT_BETA", ab);
    sn__cg_def_int(&s, "SN_BM", bm);
    sn__cg_def_int(&s, "SN_BN", bn);
    sn__cg_def_int(&s, "SN_BK", bk);
    k->block = bm * bn / 16;
    k->grid[0] = (sn_grid_dim){0, 1, (q.n + bn - 1) / bn};
    k->grid[1] = q.m_batched ? (sn_grid_dim){q.m, bm, 0} : (sn_grid_dim){0, 1, (q.m + bm - 1) / bm};
    k->grid[2] = q.z_batched ? (sn_grid_dim){q.zb, 1, 0} : (sn_grid_dim){0, 1, q.zb};
    sn__cg_arg(k, SN_CUDA_ARG_BATCH, 0);
    sn__cg_arg(k, SN_CUDA_ARG_INPUT, 0);
    sn__cg_arg(k, SN_CUDA_ARG_INPUT, 1);
    sn__cg_arg(k, has_c ? SN_CUDA_ARG_INPUT : SN_CUDA_ARG_NULL, 2);
    sn__cg_arg(k, SN_CUDA_ARG_OUTPUT, 0);
    return sn__cg_kernel_end(k, &s, err);
}

/* --- Softmax ------------------------------------------------------------------------------- */

sn_status sn__cg_gen_softmax(const sn_cuda_codegen_ctx *ctx, const sn_node *n, sn_cuda_kernel *k,
                             sn_error *err) {
    const int x = n->inputs[0];
    const sn_shape *xs = sn__cg_shape(ctx, x);
    int r = xs->rank;
    int64_t axis = sn_node_attr_int(n, "axis", -1);
    if (axis < 0) axis += r;
    if (r < 1 || axis < 0 || axis >= r)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "Softmax node '%s': bad axis",
                         sn__cg_node_name(n));
    const bool batched = sn__cg_batched(ctx, x);
    if (batched && axis == 0)
        return sn_errorf(err, SN_ERR_UNSUPPORTED,
                         "Softmax node '%s' normalises across the batch, which the GPU kernels "
                         "do not do",
                         sn__cg_node_name(n));
    sn_status st = sn__cg_check_batch_dim(ctx, n, x, err);
    if (st != SN_OK) return st;
    int64_t outer = 1, inner = 1, len = xs->d[axis];
    for (int i = 0; i < axis; i++) outer *= xs->d[i];
    for (int i = (int)axis + 1; i < r; i++) inner *= xs->d[i];
    sn__src s;
    sn__cg_kernel_begin(k, &s, ctx, "softmax.cu", "sn_softmax", sn__cg_max_elems(ctx, x),
                        "node '%s' (Softmax)", sn__cg_node_name(n));
    sn__cg_def_int(&s, "SN_BATCHED", batched);
    sn__cg_def_int(&s, "SN_OUTER", outer);
    sn__cg_def_int(&s, "SN_LEN", len);
    sn__cg_def_int(&s, "SN_INNER", inner);
    sn__cg_def_int(&s, "SN_THREADS", SN__THREADS);
    k->block = SN__THREADS;
    if (inner == 1)
        k->grid[0] = batched ? (sn_grid_dim){outer, 1, 0} : (sn_grid_dim){0, 1, outer};
    else if (batched)
        sn__cg_grid_1d(k, outer * inner, 0, SN__THREADS);
    else
        sn__cg_grid_1d(k, 0, outer * inner, SN__THREADS);
    sn__cg_arg(k, SN_CUDA_ARG_BATCH, 0);
    sn__cg_arg(k, SN_CUDA_ARG_INPUT, 0);
    sn__cg_arg(k, SN_CUDA_ARG_OUTPUT, 0);
    return sn__cg_kernel_end(k, &s, err);
}

/* --- Resize -------------------------------------------------------------------------------- */

sn_status sn__cg_gen_resize(const sn_cuda_codegen_ctx *ctx, const sn_node *n, sn_cuda_kernel *k,
                            sn_error *err) {
    const int x = n->inputs[0], y = n->outputs[0];
    const sn_shape *xs = sn__cg_shape(ctx, x), *ys = sn__cg_shape(ctx, y);
    sn_status st = sn__cg_check_batch_dim(ctx, n, x, err);
    if (st != SN_OK) return st;
    if (xs->rank != 4)
        return sn_errorf(err, SN_ERR_UNSUPPORTED, "Resize node '%s': input of rank %d",
                         sn__cg_node_name(n), xs->rank);
    const int64_t ih = xs->d[2], iw = xs->d[3], oh = ys->d[2], ow = ys->d[3];
    int cnt = 0;
    const float *scales = sn_node_attr_floats(n, "scales", &cnt);
    sn_resize_params p = {
        .mode = sn_node_attr_int(n, "mode", 0) ? SN_INTERP_LINEAR : SN_INTERP_NEAREST,
        .coord = (sn_resize_coord)sn_node_attr_int(n, "coord_mode", SN_COORD_HALF_PIXEL),
        .nearest =
            (sn_nearest_mode)sn_node_attr_int(n, "nearest_mode", SN_NEAREST_ROUND_PREFER_FLOOR),
        /* As graph/ops/resize.c: the scales attribute when given, else out / in. */
        .scale_h = scales && cnt == 4 ? (double)scales[2] : (double)oh / (double)ih,
        .scale_w = scales && cnt == 4 ? (double)scales[3] : (double)ow / (double)iw,
    };
    sn__src s;
    sn__cg_kernel_begin(k, &s, ctx, "resize.cu", "sn_resize", sn__cg_max_elems(ctx, y),
                        "node '%s' (Resize)", sn__cg_node_name(n));
    sn__cg_def_int(&s, "SN_C", xs->d[1]);
    sn__cg_def_int(&s, "SN_IH", ih);
    sn__cg_def_int(&s, "SN_IW", iw);
    sn__cg_def_int(&s, "SN_OH", oh);
    sn__cg_def_int(&s, "SN_OW", ow);
    sn__cg_def_int(&s, "SN_LINEAR", p.mode == SN_INTERP_LINEAR);
    sn__cg_def_int(&s, "SN_THREADS", SN__THREADS);
    k->n_aux = 2;
    k->aux[0].bytes = sizeof(int) * 2 * (size_t)(oh + ow);
    k->aux[1].bytes = sizeof(float) * 2 * (size_t)(oh + ow);
    k->aux[0].data = malloc(k->aux[0].bytes);
    k->aux[1].data = malloc(k->aux[1].bytes);
    if (!k->aux[0].data || !k->aux[1].data) {
        free(s.buf);
        return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory for resize tables");
    }
    int *it = k->aux[0].data;
    float *ft = k->aux[1].data;
    /* The CPU kernel's tables (kernels/cpu/resize.c), from its public coordinate helpers. */
    for (int axis = 0; axis < 2; axis++) {
        const int64_t in = axis ? iw : ih, out = axis ? ow : oh, at = axis ? 2 * oh : 0;
        const double scale = axis ? p.scale_w : p.scale_h;
        for (int64_t o = 0; o < out; o++) {
            double xsrc = sn_resize_source_coord(o, scale, in, out, p.coord);
            int64_t i0, i1;
            float w0 = 1.0f, w1 = 0.0f;
            if (p.mode == SN_INTERP_NEAREST) {
                i0 = i1 = sn_resize_nearest_index(xsrc, in, p.nearest);
            } else {
                if (xsrc < 0.0) xsrc = 0.0;
                if (xsrc > (double)(in - 1)) xsrc = (double)(in - 1);
                i0 = (int64_t)xsrc;
                i1 = i0 + 1 < in ? i0 + 1 : i0;
                w0 = (float)(1.0 - (xsrc - (double)i0));
                w1 = (float)(xsrc - (double)i0);
            }
            it[at + o] = (int)i0;
            it[at + out + o] = (int)i1;
            ft[at + o] = w0;
            ft[at + out + o] = w1;
        }
    }
    sn__cg_arg(k, SN_CUDA_ARG_BATCH, 0);
    sn__cg_arg(k, SN_CUDA_ARG_INPUT, 0);
    sn__cg_arg(k, SN_CUDA_ARG_AUX, 0);
    sn__cg_arg(k, SN_CUDA_ARG_AUX, 1);
    sn__cg_arg(k, SN_CUDA_ARG_OUTPUT, 0);
    sn__cg_grid_1d(k, xs->d[1] * oh * ow, 0, SN__THREADS);
    return sn__cg_kernel_end(k, &s, err);
}
