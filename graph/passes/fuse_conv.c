/*
 * fuse_conv.c - epilogue fusion into FusedConv and Gemm.
 *
 * Every Conv becomes a FusedConv (the same op when nothing is fused, so backends meet one conv
 * op), which then absorbs, in the order FusedConv applies them (y = act(conv + B + Z)):
 *   - a bias: BiasAdd with a constant [M] vector, or Add of a constant that broadcasts per
 *     channel ([1,M,1,1], [M,1,1]; [1,1,1,M] or [M] for an NHWC conv) or is a single value -
 *     folded into B;
 *   - a residual: Add whose other operand is any tensor of exactly the output's shape at every
 *     batch - it becomes input Z (an Add that broadcasts is left alone);
 *   - an activation (Relu, Clip, LeakyRelu, Sigmoid, Tanh, HardSigmoid, HardSwish, SiLU) - into
 *     the activation/act_alpha/act_beta attributes.
 * Gemm absorbs a bias (BiasAdd, or Add of a constant [N], [1,N] or single value, into C with
 * beta set to 1, when C is absent, constant and the same for every row) and an activation.
 *
 * The tensor between the two nodes must be read by the second alone and not be a graph output;
 * the fused node takes over the second node's output tensor. Folded biases are new constants.
 */
#include <stdio.h>
#include <stdlib.h>

#include "pass_util.h"

typedef struct sn__fuse_stats {
    int convs, biases, residuals, acts, gemm_biases, gemm_acts;
} sn__fuse_stats;

/* The constant added per output channel (m values along `axis` of the output: 1 of an NCHW
 * output, 3 of an NHWC one) or per Gemm column (axis 1 of rank 2): its data and whether it
 * holds one value for all. NULL when the tensor is not such a constant. */
static const float *sn__bias_const(const sn_graph *g, int k, int out_rank, int axis, int64_t m,
                                   bool *scalar) {
    const sn_shape *s = &g->tensors[k].shape;
    int64_t numel = sn_shape_numel(s);
    const float *d = sn__const_f32(g, k, numel);
    if (!d || s->rank > out_rank) return NULL;
    *scalar = numel == 1;
    if (numel == 1) return d;
    if (numel != m) return NULL;
    /* Broadcasting aligns dims from the right: the m values must land on the channel axis of
     * the output (of [N,M,H,W], [N,H,W,M] or [N,M]), every other dim must be 1. */
    int at = axis - (out_rank - s->rank);
    if (at < 0) return NULL;
    for (int i = 0; i < s->rank; i++)
        if (i != at && s->d[i] != 1) return NULL;
    return d;
}

/* Node ui adds a constant bias to t (BiasAdd in the same layout, or Add with a constant
 * operand) along `axis`; its data. */
static const float *sn__added_bias(const sn_graph *g, int ui, int t, int out_rank, int axis,
                                   int64_t m, bool *scalar) {
    const sn_node *u = &g->nodes[ui];
    if (u->op == SN_OP_BIAS_ADD) {
        *scalar = false;
        int bias_axis =
            sn_node_attr_int(u, "layout", SN_LAYOUT_NCHW) == SN_LAYOUT_NHWC ? 3 : 1;
        return u->inputs[0] == t && bias_axis == axis ? sn__const_f32(g, u->inputs[1], m) : NULL;
    }
    if (u->op != SN_OP_ADD || u->inputs[0] == u->inputs[1]) return NULL;
    int k = u->inputs[0] == t ? u->inputs[1] : u->inputs[0];
    return sn__bias_const(g, k, out_rank, axis, m, scalar);
}

/* old (may be NULL: zero) plus add (one value when scalar), times beta for old; a new constant
 * [m] named after node pi. */
static sn_status sn__new_bias(sn_graph *g, int pi, const float *old, int64_t old_n, double beta,
                              const float *add, bool scalar, int64_t m, int *out, sn_error *err) {
    float *b = malloc(sizeof(float) * (size_t)m);
    if (!b) return sn__pass_oom(err, "fuse_conv");
    for (int64_t i = 0; i < m; i++) {
        double v = old ? beta * (double)old[old_n == 1 ? 0 : i] : 0.0;
        b[i] = (float)(v + (double)add[scalar ? 0 : i]);
    }
    char base[160];
    snprintf(base, sizeof base, "%.140s.bias_fused",
             g->nodes[pi].name[0] ? g->nodes[pi].name : "node");
    sn_shape s = sn_shape_make(1, &m);
    return sn__add_const_f32(g, base, &s, &b, out, err);
}

static sn_status sn__set_act(sn_graph *g, int pi, const sn_node *u, sn_error *err) {
    sn_activation act;
    float alpha, beta;
    sn__node_activation(u, &act, &alpha, &beta);
    sn_status st = sn__node_set_int(g, pi, "activation", act, err);
    sn__node_del_attr(g, pi, "act_alpha");
    sn__node_del_attr(g, pi, "act_beta");
    if (st == SN_OK &&
        (act == SN_ACT_CLIP || act == SN_ACT_LEAKY_RELU || act == SN_ACT_HARD_SIGMOID))
        st = sn__node_set_float(g, pi, "act_alpha", alpha, err);
    if (st == SN_OK && (act == SN_ACT_CLIP || act == SN_ACT_HARD_SIGMOID))
        st = sn__node_set_float(g, pi, "act_beta", beta, err);
    return st;
}

/* One absorption step into FusedConv ci; 1 when something was fused. */
static int sn__conv_step(sn_graph *g, int ci, sn__uses *u, sn__fuse_stats *fs, sn_error *err,
                         sn_status *st) {
    const sn_node *c = &g->nodes[ci];
    int t = c->outputs[0], ui = sn__sole_user(g, u, t);
    if (ui < 0 || g->tensors[t].shape.rank != 4) return 0;
    const sn_node *un = &g->nodes[ui];
    const int axis = sn_node_attr_int(c, "layout", SN_LAYOUT_NCHW) == SN_LAYOUT_NHWC ? 3 : 1;
    int64_t m = g->tensors[t].shape.d[axis];
    bool has_z = c->n_inputs > 3 && c->inputs[3] >= 0;
    if (sn__fused_activation(c) != SN_ACT_NONE) return 0;
    sn_activation a;
    float al, be;
    if (sn__node_activation(un, &a, &al, &be)) {
        if ((*st = sn__set_act(g, ci, un, err)) != SN_OK) return 0;
        fs->acts++;
        sn__absorb(g, ci, ui);
        return 1;
    }
    bool scalar = false;
    const float *add = sn__added_bias(g, ui, t, 4, axis, m, &scalar);
    int bias_t = c->n_inputs > 2 ? c->inputs[2] : -1;
    if (add && sn__same_shape(g, t, un->outputs[0])) {
        const float *old = bias_t >= 0 ? sn__const_f32(g, bias_t, m) : NULL;
        if (bias_t >= 0 && !old) return 0;
        int nb;
        if ((*st = sn__new_bias(g, ci, old, m, 1.0, add, scalar, m, &nb, err)) != SN_OK) return 0;
        int ins[4] = {g->nodes[ci].inputs[0], g->nodes[ci].inputs[1], nb,
                      has_z ? g->nodes[ci].inputs[3] : -1};
        if ((*st = sn__node_set_inputs(g, ci, ins, has_z ? 4 : 3, err)) != SN_OK) return 0;
        fs->biases++;
        sn__absorb(g, ci, ui);
        return 1;
    }
    if (un->op == SN_OP_ADD && !has_z && un->inputs[0] != un->inputs[1]) {
        int z = un->inputs[0] == t ? un->inputs[1] : un->inputs[0];
        if (!sn__same_shape(g, z, t) || !sn__same_shape(g, t, un->outputs[0])) return 0;
        if (g->tensors[z].dtype != SN_DTYPE_F32) return 0;
        int ins[4] = {c->inputs[0], c->inputs[1], bias_t, z};
        if ((*st = sn__node_set_inputs(g, ci, ins, 4, err)) != SN_OK) return 0;
        /* z is now read by the conv instead of the Add. */
        if (z < u->n && u->user[z] == ui) u->user[z] = ci;
        fs->residuals++;
        sn__absorb(g, ci, ui);
        return 1;
    }
    return 0;
}

/* One absorption step into Gemm gi. */
static int sn__gemm_step(sn_graph *g, int gi, sn__uses *u, sn__fuse_stats *fs, sn_error *err,
                         sn_status *st) {
    const sn_node *c = &g->nodes[gi];
    int t = c->outputs[0], ui = sn__sole_user(g, u, t);
    if (ui < 0 || g->tensors[t].shape.rank != 2 || sn__fused_activation(c) != SN_ACT_NONE) return 0;
    const sn_node *un = &g->nodes[ui];
    int64_t n = g->tensors[t].shape.d[1];
    sn_activation a;
    float al, be;
    if (sn__node_activation(un, &a, &al, &be)) {
        if ((*st = sn__set_act(g, gi, un, err)) != SN_OK) return 0;
        fs->gemm_acts++;
        sn__absorb(g, gi, ui);
        return 1;
    }
    bool scalar = false;
    const float *add = sn__added_bias(g, ui, t, 2, 1, n, &scalar);
    if (!add || !sn__same_shape(g, t, un->outputs[0])) return 0;
    int c_t = c->n_inputs > 2 ? c->inputs[2] : -1;
    const float *old = NULL;
    int64_t old_n = 0;
    if (c_t >= 0) {
        const sn_shape *cs = &g->tensors[c_t].shape;
        old_n = sn_shape_numel(cs);
        old = sn__const_f32(g, c_t, old_n);
        if (!old || cs->rank > 2 || (cs->rank == 2 && cs->d[0] != 1) || (old_n != 1 && old_n != n))
            return 0;
    }
    int nc;
    double beta = sn_node_attr_float(c, "beta", 1.0f);
    if ((*st = sn__new_bias(g, gi, old, old_n, beta, add, scalar, n, &nc, err)) != SN_OK) return 0;
    int ins[3] = {g->nodes[gi].inputs[0], g->nodes[gi].inputs[1], nc};
    if ((*st = sn__node_set_inputs(g, gi, ins, 3, err)) != SN_OK) return 0;
    sn__node_del_attr(g, gi, "beta");
    fs->gemm_biases++;
    sn__absorb(g, gi, ui);
    return 1;
}

sn_status sn_pass_fuse_conv(sn_graph *g, sn_pass_report *r, sn_error *err) {
    sn__report_begin(r, "fuse_conv", g);
    sn__uses u;
    sn_status st = sn__uses_build(g, &u, err);
    if (st != SN_OK) return st;
    sn__fuse_stats fs = {0};
    for (int i = 0; i < g->n_nodes && st == SN_OK; i++) {
        if (g->nodes[i].dead) continue;
        if (g->nodes[i].op == SN_OP_CONV) {
            g->nodes[i].op = SN_OP_FUSED_CONV;
            fs.convs++;
        }
        if (g->nodes[i].op == SN_OP_FUSED_CONV)
            while (st == SN_OK && sn__conv_step(g, i, &u, &fs, err, &st)) {}
        else if (g->nodes[i].op == SN_OP_GEMM)
            while (st == SN_OK && sn__gemm_step(g, i, &u, &fs, err, &st)) {}
    }
    sn__uses_free(&u);
    if (r)
        snprintf(r->detail, sizeof r->detail,
                 "%d Conv -> FusedConv; fused %d biases, %d residual adds, %d activations into "
                 "convs; %d biases, %d activations into Gemm",
                 fs.convs, fs.biases, fs.residuals, fs.acts, fs.gemm_biases, fs.gemm_acts);
    sn__report_end(r, g,
                   fs.convs + fs.biases + fs.residuals + fs.acts + fs.gemm_biases + fs.gemm_acts);
    return st;
}
