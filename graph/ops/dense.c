/*
 * dense.c - the MatMul (numpy semantics: broadcast batch dims, 1-D operands promoted and their
 * dim dropped from the result) and Gemm (transA/transB, alpha, beta, C broadcast to [M,N], the
 * fused activation attributes, and flatten_a: A of any rank >= 2 read as [d0, rest], so a
 * Flatten before a dense layer is no node at all) op definitions. Kernels are in
 * kernels/cpu/dense.c.
 */
#include "dense.h"

#include "nn_op_util.h"

static sn_status matmul_params(const sn_node *n, const sn_value *in, sn_matmul_params *p,
                               sn_value *out, sn_error *err) {
    char b1[96], b2[96];
    sn_status s = sn__nn_check_inputs(n, in, 2, err);
    if (s != SN_OK) return s;
    const sn_value *a = &in[0], *b = &in[1];
    if (a->rank < 1 || b->rank < 1)
        return sn_errorf(err, SN_ERR_SHAPE,
                         SN__NODE_FMT ": operands must be at least 1-D, got %s and %s",
                         SN__NODE_ARGS(n), sn__dims_str(a->d, a->rank, b1, sizeof b1),
                         sn__dims_str(b->d, b->rank, b2, sizeof b2));
    /* A 1-D A is a row [1,K]; a 1-D B is a column [K,1]. */
    int64_t ak = a->d[a->rank - 1], am = a->rank > 1 ? a->d[a->rank - 2] : 1;
    int64_t bk = b->rank > 1 ? b->d[b->rank - 2] : b->d[0],
            bn = b->rank > 1 ? b->d[b->rank - 1] : 1;
    if (ak != bk)
        return sn_errorf(err, SN_ERR_SHAPE,
                         SN__NODE_FMT ": inner dims differ: A %s has K=%lld, B %s has K=%lld",
                         SN__NODE_ARGS(n), sn__dims_str(a->d, a->rank, b1, sizeof b1),
                         (long long)ak, sn__dims_str(b->d, b->rank, b2, sizeof b2), (long long)bk);
    int abr = a->rank > 2 ? a->rank - 2 : 0, bbr = b->rank > 2 ? b->rank - 2 : 0;
    *p = (sn_matmul_params){.batch_rank = abr > bbr ? abr : bbr, .m = am, .n = bn, .k = ak};
    for (int d = 0; d < p->batch_rank; d++) {
        int ia = d - (p->batch_rank - abr), ib = d - (p->batch_rank - bbr);
        p->a_batch[d] = ia >= 0 ? a->d[ia] : 1;
        p->b_batch[d] = ib >= 0 ? b->d[ib] : 1;
        if (p->a_batch[d] != p->b_batch[d] && p->a_batch[d] != 1 && p->b_batch[d] != 1)
            return sn_errorf(err, SN_ERR_SHAPE,
                             SN__NODE_FMT ": batch dims of A %s and B %s do not broadcast",
                             SN__NODE_ARGS(n), sn__dims_str(a->d, a->rank, b1, sizeof b1),
                             sn__dims_str(b->d, b->rank, b2, sizeof b2));
        p->batch[d] = p->a_batch[d] > p->b_batch[d] ? p->a_batch[d] : p->b_batch[d];
    }
    if (out) {
        out->present = true;
        out->dtype = SN_DTYPE_F32;
        out->rank = 0;
        for (int d = 0; d < p->batch_rank; d++) out->d[out->rank++] = p->batch[d];
        if (a->rank > 1) out->d[out->rank++] = am;
        if (b->rank > 1) out->d[out->rank++] = bn;
    }
    return SN_OK;
}

static sn_status matmul_infer(const sn_node *n, const sn_value *in, sn_value *out, sn_error *err) {
    sn_matmul_params p;
    return matmul_params(n, in, &p, &out[0], err);
}

static sn_status matmul_run(const sn_cpu_ctx *ctx, const sn_node *n, const sn_value *in,
                            sn_value *out, sn_error *err) {
    (void)ctx;
    sn_matmul_params p;
    sn_status s = matmul_params(n, in, &p, NULL, err);
    if (s == SN_OK) sn_cpu_matmul_f32(&p, in[0].data, in[1].data, out[0].data);
    return s;
}

static double matmul_flops(const sn_node *n, const sn_value *in, const sn_value *out) {
    sn_matmul_params p;
    if (matmul_params(n, in, &p, NULL, NULL) != SN_OK) return 0.0;
    return 2.0 * (double)sn_value_numel(&out[0]) * (double)p.k;
}

static sn_status gemm_params(const sn_node *n, const sn_value *in, sn_gemm_params *p,
                             sn_error *err) {
    char b1[96], b2[96];
    int64_t ta = 0, tb = 0, flat = 0, layout = SN_LAYOUT_NCHW;
    sn_status s = sn__nn_check_inputs(n, in, 2, err);
    if (s == SN_OK) s = sn__nn_attr_int(n, "flatten_a", 0, 0, 1, &flat, err);
    if (s == SN_OK) s = sn__nn_attr_layout(n, &layout, err);
    if (s == SN_OK && !flat) s = sn__nn_check_rank(n, in, 0, "A", 2, err);
    if (s == SN_OK) s = sn__nn_check_rank(n, in, 1, "B", 2, err);
    if (s == SN_OK) s = sn__nn_attr_int(n, "transA", 0, 0, 1, &ta, err);
    if (s == SN_OK) s = sn__nn_attr_int(n, "transB", 0, 0, 1, &tb, err);
    if (s != SN_OK) return s;
    /* flatten_a reads A[d0, d1, ...] as [d0, d1*d2*...] (Flatten with axis 1, which costs
     * nothing on contiguous data). `layout` then says in which order a 4-D A's features are,
     * and so the order of B's K rows; the layout pass sets NHWC after permuting them. */
    if (flat && (in[0].rank < 2 || ta))
        return sn_errorf(err, SN_ERR_SHAPE,
                         SN__NODE_FMT ": flatten_a needs A of rank >= 2 and transA=0, got %s "
                         "with transA=%lld",
                         SN__NODE_ARGS(n), sn__dims_str(in[0].d, in[0].rank, b1, sizeof b1),
                         (long long)ta);
    if (layout == SN_LAYOUT_NHWC && (!flat || in[0].rank != 4))
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         SN__NODE_FMT ": layout NHWC needs flatten_a=1 and a 4-D A",
                         SN__NODE_ARGS(n));
    double features = 1.0;
    for (int i = 1; i < in[0].rank; i++) features *= (double)in[0].d[i];
    s = sn__nn_check_blas_dim(n, "K (the flattened features of A)", features, err);
    if (s != SN_OK) return s;
    const int64_t a[2] = {in[0].d[0], (int64_t)features}; /* exact: at most INT_MAX */
    const int64_t *b = in[1].d;
    *p = (sn_gemm_params){.m = a[ta ? 1 : 0], .k = a[ta ? 0 : 1], .n = b[tb ? 0 : 1],
                          .trans_a = ta != 0, .trans_b = tb != 0};
    if (b[tb ? 1 : 0] != p->k)
        return sn_errorf(err, SN_ERR_SHAPE,
                         SN__NODE_FMT ": inner dims differ: A %s (transA=%lld) has K=%lld, B %s "
                         "(transB=%lld) has K=%lld",
                         SN__NODE_ARGS(n), sn__dims_str(a, 2, b1, sizeof b1), (long long)ta,
                         (long long)p->k, sn__dims_str(b, 2, b2, sizeof b2), (long long)tb,
                         (long long)b[tb ? 1 : 0]);
    s = sn__nn_attr_float(n, "alpha", 1.0f, &p->alpha, err);
    if (s == SN_OK) s = sn__nn_attr_float(n, "beta", 1.0f, &p->beta, err);
    if (s == SN_OK) s = sn__nn_act_read(n, &p->act, &p->act_alpha, &p->act_beta, err);
    if (s != SN_OK) return s;
    p->c_rows = p->c_cols = 1;
    const sn_value *c = sn__nn_opt_input(n, in, 2);
    if (c) {
        p->c_rows = c->rank == 2 ? c->d[0] : 1;
        p->c_cols = c->rank >= 1 ? c->d[c->rank - 1] : 1;
        if (c->rank > 2 || (p->c_rows != 1 && p->c_rows != p->m) ||
            (p->c_cols != 1 && p->c_cols != p->n))
            return sn_errorf(err, SN_ERR_SHAPE,
                             SN__NODE_FMT ": C (input 2) %s does not broadcast to [%lld,%lld]",
                             SN__NODE_ARGS(n), sn__dims_str(c->d, c->rank, b1, sizeof b1),
                             (long long)p->m, (long long)p->n);
    }
    return SN_OK;
}

static sn_status gemm_infer(const sn_node *n, const sn_value *in, sn_value *out, sn_error *err) {
    sn_gemm_params p;
    sn_status s = gemm_params(n, in, &p, err);
    if (s != SN_OK) return s;
    out[0].present = true;
    out[0].dtype = SN_DTYPE_F32;
    out[0].rank = 2;
    out[0].d[0] = p.m;
    out[0].d[1] = p.n;
    return SN_OK;
}

static sn_status gemm_run(const sn_cpu_ctx *ctx, const sn_node *n, const sn_value *in,
                          sn_value *out, sn_error *err) {
    sn_gemm_params p;
    sn_status s = gemm_params(n, in, &p, err);
    if (s != SN_OK) return s;
    const sn_value *c = sn__nn_opt_input(n, in, 2);
    sn_cpu_gemm_f32(&p, in[0].data, in[1].data, c ? c->data : NULL, out[0].data, ctx->threads);
    return SN_OK;
}

static double gemm_flops(const sn_node *n, const sn_value *in, const sn_value *out) {
    (void)out;
    sn_gemm_params p;
    if (gemm_params(n, in, &p, NULL) != SN_OK) return 0.0;
    double mn = (double)p.m * (double)p.n;
    int epilogue = (sn__nn_opt_input(n, in, 2) != NULL) + (p.act != SN_ACT_NONE);
    return 2.0 * mn * (double)p.k + epilogue * mn;
}

static const sn_attr_spec matmul_attrs[] = {{NULL, 0}};

static const sn_attr_spec gemm_attrs[] = {
    {"transA", SN_ATTR_INT}, {"transB", SN_ATTR_INT}, {"alpha", SN_ATTR_FLOAT},
    {"beta", SN_ATTR_FLOAT}, SN__NN_ACT_ATTR_SPECS,   {"flatten_a", SN_ATTR_INT},
    {"layout", SN_ATTR_INT}, {NULL, 0},
};

const sn_op_def sn_op_def_matmul = {
    .name = "MatMul", .min_inputs = 2, .max_inputs = 2, .n_outputs = 1, .attrs = matmul_attrs,
    .infer = matmul_infer, .cpu_run = matmul_run, .flops = matmul_flops,
};

const sn_op_def sn_op_def_gemm = {
    .name = "Gemm", .min_inputs = 2, .max_inputs = 3, .n_outputs = 1, .attrs = gemm_attrs,
    .infer = gemm_infer, .cpu_run = gemm_run, .flops = gemm_flops,
};
