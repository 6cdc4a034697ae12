/*
 * fold_batchnorm.c - folds an inference BatchNormalization into the Conv, FusedConv or Gemm that
 * feeds it.
 *
 * BN computes y = (x - mean) * s + beta with s = scale / sqrt(var + eps), per channel. After a
 * conv with weights W[M,...] and bias B[M] that is a conv with W'[m] = W[m] * s[m] and
 * B'[m] = (B[m] - mean[m]) * s[m] + beta[m]. After Gemm (y = alpha*A*B + beta_g*C, features
 * along the output's dim 1) the columns of B (rows when transB) scale by s and the new bias is
 * C' = (beta_g*C - mean) * s + beta with beta_g set to 1. s and the new bias are computed in
 * double so the only rounding left is that of the final f32 values.
 *
 * Conditions: BN's parameters, the weights and any bias are f32 constants; the producer applies
 * no activation and has no residual input yet (those come after the BN); its output is read by
 * the BN alone and is not a graph output; a Gemm's C must not vary along the rows. The producer
 * takes over the BN's output tensor, so the graph's interface is unchanged.
 *
 * Conv weights and biases that the graph owns and that this conv alone reads are rescaled in
 * place (keeping their names): for ResNet-50 that is 94 MB not allocated, page-faulted and
 * copied. Anything else - borrowed from a file mapping, or shared with another node - gets new
 * constants, and dce drops the old ones once nothing reads them.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "pass_util.h"

/* s[c] and the shift -mean[c]*s[c] + beta[c] of the BN node, in double; false if its
 * parameters are not usable constants for c channels. */
static bool sn__bn_affine(const sn_graph *g, const sn_node *bn, int64_t c, double *s, double *t) {
    const float *scale = sn__const_f32(g, bn->inputs[1], c),
                *beta = sn__const_f32(g, bn->inputs[2], c);
    const float *mean = sn__const_f32(g, bn->inputs[3], c),
                *var = sn__const_f32(g, bn->inputs[4], c);
    if (!scale || !beta || !mean || !var) return false;
    double eps = sn_node_attr_float(bn, "epsilon", 1e-5f);
    for (int64_t i = 0; i < c; i++) {
        double v = (double)var[i] + eps;
        if (!(v > 0.0) || !isfinite(v)) return false; /* the unfolded BN gives inf/NaN: keep it */
        s[i] = (double)scale[i] / sqrt(v);
        t[i] = (double)beta[i] - (double)mean[i] * s[i];
    }
    return true;
}

/* Conv or FusedConv p followed by BN node b. Returns 1 when folded, 0 when not applicable. */
static int sn__fold_conv(sn_graph *g, sn__uses *u, int pi, int bi, sn_error *err, sn_status *st) {
    const sn_node *p = &g->nodes[pi], *b = &g->nodes[bi];
    if (p->op == SN_OP_FUSED_CONV &&
        (sn__fused_activation(p) != SN_ACT_NONE || (p->n_inputs > 3 && p->inputs[3] >= 0)))
        return 0;
    /* Both in one layout, so the BN's channels are the conv's. OIHW and OHWI weights both keep
     * an output channel's taps in one row, scaled alike. */
    if (sn_node_attr_int(p, "layout", SN_LAYOUT_NCHW) !=
        sn_node_attr_int(b, "layout", SN_LAYOUT_NCHW))
        return 0;
    int w_t = p->inputs[1], bias_t = p->n_inputs > 2 ? p->inputs[2] : -1;
    /* Copies: adding constants may move the tensor table. */
    const sn_shape wshape = g->tensors[w_t].shape;
    if (wshape.rank != 4) return 0;
    int64_t m = wshape.d[0], numel = sn_shape_numel(&wshape);
    const float *w = sn__const_f32(g, w_t, numel);
    const float *bias = bias_t >= 0 ? sn__const_f32(g, bias_t, m) : NULL;
    if (!w || m < 1 || (bias_t >= 0 && !bias)) return 0;
    /* Weights only this conv reads and the graph owns are rescaled where they are. */
    float *w_here = sn__writable_f32(g, u, w_t), *b_here = sn__writable_f32(g, u, bias_t);
    double *s = malloc(sizeof(double) * (size_t)m * 2);
    float *nw = w_here ? NULL : sn__alloc_f32(numel);
    float *nb = b_here ? NULL : malloc(sizeof(float) * (size_t)m);
    int done = 0;
    if (!s || (!w_here && !nw) || (!b_here && !nb)) {
        *st = sn__pass_oom(err, "fold_batchnorm");
        goto out;
    }
    if (!sn__bn_affine(g, b, m, s, s + m)) goto out;
    float *dw = w_here ? w_here : nw, *db = b_here ? b_here : nb;
    int64_t per = numel / m;
    for (int64_t o = 0; o < m; o++) {
        for (int64_t k = 0; k < per; k++) dw[o * per + k] = (float)((double)w[o * per + k] * s[o]);
        db[o] = (float)((bias ? (double)bias[o] * s[o] : 0.0) + s[m + o]);
    }
    char base[160];
    int wi = w_t, bi2 = bias_t;
    const char *pname = p->name[0] ? p->name : "conv";
    snprintf(base, sizeof base, "%.140s.weight_bn", pname);
    if (!w_here && (*st = sn__add_const_f32(g, base, &wshape, &nw, &wi, err)) != SN_OK) goto out;
    snprintf(base, sizeof base, "%.140s.bias_bn", pname);
    sn_shape bs = sn_shape_make(1, &m);
    if (!b_here && (*st = sn__add_const_f32(g, base, &bs, &nb, &bi2, err)) != SN_OK) goto out;
    int ins[4] = {g->nodes[pi].inputs[0], wi, bi2, -1};
    int n_in = g->nodes[pi].n_inputs > 3 ? 4 : 3;
    if ((*st = sn__node_set_inputs(g, pi, ins, n_in, err)) != SN_OK) goto out;
    /* The replaced tensors lose this reader (a shared weight may become writable). */
    if (wi != w_t) u->count[w_t]--;
    if (bias_t >= 0 && bi2 != bias_t) u->count[bias_t]--;
    done = 1;
out:
    free(s), free(nw), free(nb);
    return done;
}

/* Gemm p followed by BN b over its output features. */
static int sn__fold_gemm(sn_graph *g, int pi, int bi, sn_error *err, sn_status *st) {
    const sn_node *p = &g->nodes[pi], *b = &g->nodes[bi];
    if (sn__fused_activation(p) != SN_ACT_NONE) return 0;
    const sn_shape bshape = g->tensors[p->inputs[1]].shape,
                   yshape = g->tensors[p->outputs[0]].shape;
    if (bshape.rank != 2 || yshape.rank != 2) return 0;
    int64_t tb = sn_node_attr_int(p, "transB", 0), n = yshape.d[1];
    int64_t numel = sn_shape_numel(&bshape);
    const float *w = sn__const_f32(g, p->inputs[1], numel);
    if (!w || n < 1 || bshape.d[tb ? 0 : 1] != n) return 0;
    /* C may be absent, a scalar or a row: [], [1], [n], [1,1] or [1,n]. */
    int c_t = p->n_inputs > 2 ? p->inputs[2] : -1;
    const float *c = NULL;
    int64_t c_n = 0;
    if (c_t >= 0) {
        const sn_shape *cs = &g->tensors[c_t].shape;
        c_n = sn_shape_numel(cs);
        c = sn__const_f32(g, c_t, c_n);
        if (!c || cs->rank > 2 || (cs->rank == 2 && cs->d[0] != 1) || (c_n != 1 && c_n != n))
            return 0;
    }
    double beta_g = sn_node_attr_float(p, "beta", 1.0f);
    double *s = malloc(sizeof(double) * (size_t)n * 2);
    float *nw = malloc(sizeof(float) * (size_t)numel), *nc = malloc(sizeof(float) * (size_t)n);
    int done = 0;
    if (!s || !nw || !nc) {
        *st = sn__pass_oom(err, "fold_batchnorm");
        goto out;
    }
    if (!sn__bn_affine(g, b, n, s, s + n)) goto out;
    int64_t rows = bshape.d[0], cols = bshape.d[1];
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++)
            nw[i * cols + j] = (float)((double)w[i * cols + j] * s[tb ? i : j]);
    for (int64_t j = 0; j < n; j++) {
        double cv = c ? beta_g * (double)c[c_n == 1 ? 0 : j] : 0.0;
        nc[j] = (float)(cv * s[j] + s[n + j]);
    }
    char base[160];
    int wi, ci;
    snprintf(base, sizeof base, "%.140s.weight_bn", p->name[0] ? p->name : "gemm");
    if ((*st = sn__add_const_f32(g, base, &bshape, &nw, &wi, err)) != SN_OK) goto out;
    snprintf(base, sizeof base, "%.140s.bias_bn",
             g->nodes[pi].name[0] ? g->nodes[pi].name : "gemm");
    sn_shape cs = sn_shape_make(1, &n);
    if ((*st = sn__add_const_f32(g, base, &cs, &nc, &ci, err)) != SN_OK) goto out;
    int ins[3] = {g->nodes[pi].inputs[0], wi, ci};
    if ((*st = sn__node_set_inputs(g, pi, ins, 3, err)) != SN_OK) goto out;
    sn__node_del_attr(g, pi, "beta");
    done = 1;
out:
    free(s), free(nw), free(nc);
    return done;
}

sn_status sn_pass_fold_batchnorm(sn_graph *g, sn_pass_report *r, sn_error *err) {
    sn__report_begin(r, "fold_batchnorm", g);
    sn__uses u;
    sn_status st = sn__uses_build(g, &u, err);
    if (st != SN_OK) return st;
    int convs = 0, gemms = 0;
    for (int bi = 0; bi < g->n_nodes && st == SN_OK; bi++) {
        if (g->nodes[bi].dead || g->nodes[bi].op != SN_OP_BATCHNORM) continue;
        int x = g->nodes[bi].inputs[0];
        int pi = x >= 0 ? g->tensors[x].producer : -1;
        if (pi < 0 || g->nodes[pi].dead || sn__sole_user(g, &u, x) != bi) continue;
        sn_op op = g->nodes[pi].op;
        int done = 0;
        if (op == SN_OP_CONV || op == SN_OP_FUSED_CONV)
            convs += done = sn__fold_conv(g, &u, pi, bi, err, &st);
        else if (op == SN_OP_GEMM)
            gemms += done = sn__fold_gemm(g, pi, bi, err, &st);
        if (!done) continue;
        sn__absorb(g, pi, bi);
    }
    sn__uses_free(&u);
    if (r)
        snprintf(r->detail, sizeof r->detail,
                 "folded %d BatchNormalization into convs, %d into Gemm", convs, gemms);
    sn__report_end(r, g, convs + gemms);
    return st;
}
