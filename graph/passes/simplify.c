/*
 * simplify.c - algebraic simplification.
 *
 * Nodes that pass their input through unchanged are removed: Identity; x*1, 1*x, x/1, x+0, 0+x,
 * x-0 with a constant operand of ones or zeros; Reshape, Flatten and Transpose that do not
 * change the shape or order. Chains are composed: Reshape (or Flatten) then Reshape reads the
 * first one's input directly; Transpose then Transpose becomes one Transpose with the composed
 * permutation, or nothing when they cancel. (x+0 turns -0 into +0; nothing else changes.)
 *
 * A removal must not change a shape at any batch size, so input and output are compared at
 * batch 1 and batch 2 (every batched dim scales linearly, so two sizes decide it). Removing the
 * node that produces a graph output keeps that output's tensor: its input's producer is made to
 * write it directly, when that input has no other reader. A Flatten (axis 1) in front of a Gemm
 * is taken by the Gemm (flatten_a=1 reads its A as [N, features] in place): the Flatten dies
 * when nothing else reads it, which saves a node and a copy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pass_util.h"

typedef struct sn__simp {
    sn_graph *g;
    sn_shape *s2; /* shapes at batch 2 */
    int *repl;    /* tensor -> the earlier tensor holding the same values */
    int *count;   /* readers per tensor, kept current as nodes are rewired */
    int removed, composed, flattens;
} sn__simp;

static bool sn__same(const sn__simp *c, int a, int b) {
    return sn__same_shape(c->g, a, b) && sn_shape_equal(&c->s2[a], &c->s2[b]) &&
           c->g->tensors[a].dtype == c->g->tensors[b].dtype;
}

/* Constant t holds only `v` (f32). */
static bool sn__all(const sn_graph *g, int t, float v) {
    const float *d = sn__const_f32(g, t, -1);
    if (!d) return false;
    int64_t n = sn_shape_numel(&g->tensors[t].shape);
    for (int64_t i = 0; i < n; i++)
        if (d[i] != v) return false;
    return true;
}

/* Node ni computes its input x unchanged: make its output the same tensor as x. */
static bool sn__forward(sn__simp *c, int ni, int x) {
    sn_graph *g = c->g;
    sn_node *n = &g->nodes[ni];
    int y = n->outputs[0];
    if (!(g->tensors[y].flags & SN_TENSOR_OUTPUT)) {
        c->repl[y] = x;
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] >= 0) c->count[n->inputs[k]]--;
        c->count[x] += c->count[y];
        n->dead = true;
        return true;
    }
    /* y is a graph output: x's producer writes y instead, if nothing else reads x. */
    int p = g->tensors[x].producer;
    unsigned fixed = SN_TENSOR_OUTPUT | SN_TENSOR_INPUT | SN_TENSOR_CONST;
    if (p < 0 || g->nodes[p].dead || (g->tensors[x].flags & fixed) || c->count[x] != 1 ||
        n->inputs[0] != x)
        return false;
    for (int k = 0; k < n->n_inputs; k++)
        if (k > 0 && n->inputs[k] >= 0) c->count[n->inputs[k]]--;
    sn_node *pn = &g->nodes[p];
    for (int k = 0; k < pn->n_outputs; k++)
        if (pn->outputs[k] == x) pn->outputs[k] = y;
    g->tensors[y].producer = p;
    g->tensors[x].producer = -1;
    c->count[x] = 0;
    n->dead = true;
    return true;
}

/* The permutation of a Transpose for a rank-r input (absent: reversed). */
static bool sn__perm(const sn_node *n, int r, int *perm) {
    int cnt = 0;
    const int64_t *p = sn_node_attr_ints(n, "perm", &cnt);
    if (!p) {
        if (sn_node_attr(n, "perm")) return false;
        for (int i = 0; i < r; i++) perm[i] = r - 1 - i;
        return true;
    }
    if (cnt != r) return false;
    for (int i = 0; i < r; i++) {
        if (p[i] < 0 || p[i] >= r) return false;
        perm[i] = (int)p[i];
    }
    return true;
}

static bool sn__is_identity_perm(const int *p, int r) {
    for (int i = 0; i < r; i++)
        if (p[i] != i) return false;
    return true;
}

/* Reshape or Flatten n reading the output of another Reshape or Flatten z: read z's input. */
static bool sn__compose_reshape(sn__simp *c, int ni, int zi) {
    sn_graph *g = c->g;
    const sn_node *n = &g->nodes[ni], *z = &g->nodes[zi];
    if (n->op != SN_OP_RESHAPE || (z->op != SN_OP_RESHAPE && z->op != SN_OP_FLATTEN)) return false;
    int cnt = 0, zcnt = 0;
    const int64_t *s = sn_node_attr_ints(n, "shape", &cnt);
    const int64_t *zs = z->op == SN_OP_RESHAPE ? sn_node_attr_ints(z, "shape", &zcnt) : NULL;
    int x = z->inputs[0];
    if (!s || x < 0) return false;
    /* A 0 copies a dim of the input, which must then be the same dim of x. */
    for (int i = 0; i < cnt; i++)
        if (s[i] == 0 && !(zs && i < zcnt && zs[i] == 0 && i < g->tensors[x].shape.rank))
            return false;
    c->count[n->inputs[0]]--;
    c->count[x]++;
    g->nodes[ni].inputs[0] = x;
    return true;
}

/* Transpose n of Transpose z: one Transpose of z's input (or none). */
static sn_status sn__compose_transpose(sn__simp *c, int ni, int zi, bool *done, sn_error *err) {
    sn_graph *g = c->g;
    const sn_node *n = &g->nodes[ni], *z = &g->nodes[zi];
    *done = false;
    int x = z->inputs[0], r = g->tensors[x].shape.rank, p1[SN_MAX_RANK], p2[SN_MAX_RANK];
    if (z->op != SN_OP_TRANSPOSE || r < 0 || !sn__perm(z, r, p1) || !sn__perm(n, r, p2))
        return SN_OK;
    int64_t comp[SN_MAX_RANK];
    int ci[SN_MAX_RANK];
    for (int i = 0; i < r; i++) ci[i] = p1[p2[i]], comp[i] = ci[i];
    if (sn__is_identity_perm(ci, r)) {
        *done = sn__forward(c, ni, x);
        if (*done) c->removed++;
        return SN_OK;
    }
    sn_attr a = sn_attr_ints("perm", comp, r);
    sn_attr *na = sn_graph_alloc(g, sizeof(sn_attr));
    int64_t *vals = sn_graph_alloc(g, sizeof(int64_t) * (size_t)(r ? r : 1));
    const char *nm = sn_graph_strdup(g, "perm");
    if (!na || !vals || !nm) return sn__pass_oom(err, "simplify");
    memcpy(vals, comp, sizeof(int64_t) * (size_t)r);
    *na = a;
    na->name = nm;
    na->v.ints = vals;
    g->nodes[ni].attrs = na;
    g->nodes[ni].n_attrs = 1;
    c->count[g->nodes[ni].inputs[0]]--;
    c->count[x]++;
    g->nodes[ni].inputs[0] = x;
    *done = true;
    c->composed++;
    return SN_OK;
}

/* Gemm ni reading a Flatten (axis 1) of a rank >= 2 tensor reads that tensor with
 * flatten_a=1 instead; the Flatten dies once nothing reads it. */
static sn_status sn__gemm_takes_flatten(sn__simp *c, int ni, int zi, sn_error *err) {
    sn_graph *g = c->g;
    const sn_node *z = &g->nodes[zi];
    int x = z->inputs[0], f = z->outputs[0], r = g->tensors[x].shape.rank;
    int64_t axis = sn_node_attr_int(z, "axis", 1);
    if (z->op != SN_OP_FLATTEN || r < 2 || (axis != 1 && axis != 1 - r) ||
        g->nodes[ni].inputs[0] != f || sn_node_attr_int(&g->nodes[ni], "transA", 0) != 0)
        return SN_OK;
    sn_status st = sn__node_set_int(g, ni, "flatten_a", 1, err);
    if (st != SN_OK) return st;
    g->nodes[ni].inputs[0] = x;
    c->count[f]--;
    c->count[x]++;
    if (c->count[f] == 0 && !(g->tensors[f].flags & SN_TENSOR_OUTPUT)) {
        g->nodes[zi].dead = true;
        c->count[x]--;
    }
    c->flattens++;
    return SN_OK;
}

/* The input a node passes through unchanged, or -1. */
static int sn__noop_input(const sn__simp *c, const sn_node *n) {
    const sn_graph *g = c->g;
    int y = n->outputs[0], a = n->inputs[0], b = n->n_inputs > 1 ? n->inputs[1] : -1;
    switch (n->op) {
    case SN_OP_IDENTITY:
    case SN_OP_RESHAPE:
    case SN_OP_FLATTEN: return sn__same(c, a, y) ? a : -1;
    case SN_OP_TRANSPOSE: {
        int p[SN_MAX_RANK], r = g->tensors[a].shape.rank;
        return r >= 0 && sn__perm(n, r, p) && sn__is_identity_perm(p, r) ? a : -1;
    }
    case SN_OP_ADD:
    case SN_OP_MUL:
        if (sn__all(g, b, n->op == SN_OP_ADD ? 0.0f : 1.0f) && sn__same(c, a, y)) return a;
        if (sn__all(g, a, n->op == SN_OP_ADD ? 0.0f : 1.0f) && sn__same(c, b, y)) return b;
        return -1;
    case SN_OP_SUB:
    case SN_OP_DIV:
        return sn__all(g, b, n->op == SN_OP_SUB ? 0.0f : 1.0f) && sn__same(c, a, y) ? a : -1;
    default: return -1;
    }
}

sn_status sn_pass_simplify(sn_graph *g, sn_pass_report *r, sn_error *err) {
    sn__report_begin(r, "simplify", g);
    int nt = g->n_tensors, *order = NULL, count = 0;
    sn__simp c = {.g = g};
    c.s2 = malloc(sizeof(sn_shape) * ((size_t)nt + 1));
    c.repl = malloc(sizeof(int) * ((size_t)nt + 1));
    c.count = calloc((size_t)nt + 1, sizeof(int));
    sn_status st = SN_OK;
    if (!c.s2 || !c.repl || !c.count) {
        st = sn__pass_oom(err, "simplify");
        goto done;
    }
    if ((st = sn_graph_infer_concrete(g, 2, c.s2, NULL, err)) != SN_OK) goto done;
    if ((st = sn_graph_topo_order(g, &order, &count, err)) != SN_OK) goto done;
    for (int t = 0; t < nt; t++) c.repl[t] = t;
    for (int i = 0; i < g->n_nodes; i++)
        if (!g->nodes[i].dead)
            for (int k = 0; k < g->nodes[i].n_inputs; k++)
                if (g->nodes[i].inputs[k] >= 0) c.count[g->nodes[i].inputs[k]]++;
    for (int oi = 0; oi < count && st == SN_OK; oi++) {
        int ni = order[oi];
        sn_node *n = &g->nodes[ni];
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] >= 0) n->inputs[k] = c.repl[n->inputs[k]];
        if (n->n_outputs != 1 || n->n_inputs < 1 || n->inputs[0] < 0) continue;
        int x = sn__noop_input(&c, n);
        if (x >= 0) {
            c.removed += sn__forward(&c, ni, x);
            continue;
        }
        int zi = g->tensors[n->inputs[0]].producer;
        if (zi < 0 || g->nodes[zi].dead) continue;
        if (n->op == SN_OP_RESHAPE) {
            c.composed += sn__compose_reshape(&c, ni, zi);
            /* The composed Reshape may now be a no-op on its new input. */
            if ((x = sn__noop_input(&c, n)) >= 0) c.removed += sn__forward(&c, ni, x);
        } else if (n->op == SN_OP_TRANSPOSE) {
            bool done;
            st = sn__compose_transpose(&c, ni, zi, &done, err);
        } else if (n->op == SN_OP_GEMM) {
            st = sn__gemm_takes_flatten(&c, ni, zi, err);
        }
    }
    /* Readers in topological order were remapped as they were visited; graph outputs are never
     * remapped (sn__forward keeps their tensors). */
done:
    free(order), free(c.s2), free(c.repl), free(c.count);
    if (r)
        snprintf(r->detail, sizeof r->detail,
                 "removed %d pass-through nodes, composed %d chains, %d Flatten taken by Gemm",
                 c.removed, c.composed, c.flattens);
    sn__report_end(r, g, c.removed + c.composed + c.flattens);
    return st;
}
