/*
 * passes_randgraph.c - random small graphs for the optimisation passes' property test
 * (passes_support.h). Each step picks a pattern the passes rewrite (or must refuse to), so a few
 * hundred seeds cover fusions, folds and their corner cases: grouped/strided/dilated convs,
 * BatchNorm after Conv and FusedConv, biases as BiasAdd or broadcasting Add, all activations
 * with random parameters, residual Adds (and Adds that broadcast and so must not fuse),
 * constant-only subgraphs, duplicates, pass-through nodes, dead branches, extra outputs, and
 * the pools, Concat, Pad, Softmax and Resize whose attributes the layout pass remaps.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes_support.h"

typedef struct sn__gen {
    sn_graph *g;
    sn_rng r;
    int counter;
    sn_status st;
    sn_error *err;
    int pool[64]; /* rank-4 activations built so far */
    int npool;
} sn__gen;

static int sn__ri(sn__gen *q, int lo, int hi) { /* [lo, hi] */
    return lo + (int)(sn_rng_u64(&q->r) % (uint64_t)(hi - lo + 1));
}
static bool sn__chance(sn__gen *q, double p) { return sn_rng_uniform(&q->r, 0, 1) < p; }

static sn_shape sn__sh(const sn__gen *q, int t) {
    sn_shape s = q->g->tensors[t].shape;
    if (s.rank > 0 && s.d[0] == SN_DIM_BATCH) s.d[0] = 1;
    return s;
}

static int sn__const(sn__gen *q, int rank, const int64_t *dims, float lo, float hi) {
    if (q->st != SN_OK) return -1;
    sn_shape s = sn_shape_make(rank, dims);
    int64_t n = sn_shape_numel(&s);
    float *buf = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    if (!buf) {
        q->st = sn_errorf(q->err, SN_ERR_OUT_OF_MEMORY, "random graph: constant of %lld elements",
                          (long long)n);
        return -1;
    }
    sn_rng_fill(&q->r, buf, (size_t)n, lo, hi);
    char name[32];
    snprintf(name, sizeof name, "c%d", q->counter++);
    int t = -1;
    q->st =
        sn_graph_add_const(q->g, name, SN_DTYPE_F32, &s, buf, (size_t)n * sizeof(float), true, &t);
    free(buf);
    return t;
}

static int sn__fill_const(sn__gen *q, int rank, const int64_t *dims, float v) {
    int t = sn__const(q, rank, dims, 1, 2);
    if (t >= 0) {
        float *d = (float *)q->g->tensors[t].data; /* graph-owned copy made just above */
        int64_t n = sn_shape_numel(&q->g->tensors[t].shape);
        for (int64_t i = 0; i < n; i++) d[i] = v;
    }
    return t;
}

static int sn__node(sn__gen *q, sn_op op, const int *ins, int n, const sn_attr *attrs, int na) {
    if (q->st != SN_OK) return -1;
    char name[32];
    snprintf(name, sizeof name, "t%d", q->counter++);
    int y = -1;
    q->st = sn_graph_add_tensor(q->g, name, SN_DTYPE_F32, NULL, &y);
    if (q->st == SN_OK) q->st = sn_graph_add_node(q->g, op, name, ins, n, &y, 1, attrs, na, NULL);
    if (q->st == SN_OK) q->st = sn_graph_infer_shapes(q->g, q->err);
    if (q->st != SN_OK) {
        if (q->err && !q->err->message[0])
            sn_errorf(q->err, q->st, "random graph: adding a %s node failed", sn_op_name(op));
        return -1;
    }
    return y;
}

static int sn__unary(sn__gen *q, sn_op op, int x) { return sn__node(q, op, &x, 1, NULL, 0); }

static int sn__activation(sn__gen *q, int x) {
    static const sn_op ops[] = {SN_OP_RELU, SN_OP_CLIP,         SN_OP_LEAKY_RELU, SN_OP_SIGMOID,
                                SN_OP_TANH, SN_OP_HARD_SIGMOID, SN_OP_HARD_SWISH, SN_OP_SILU};
    sn_op op = ops[sn__ri(q, 0, 7)];
    sn_attr a[2];
    int na = 0;
    if (op == SN_OP_CLIP) {
        if (sn__chance(q, 0.8)) a[na++] = sn_attr_float("min", (float)sn_rng_uniform(&q->r, -1, 0));
        if (sn__chance(q, 0.8))
            a[na++] = sn_attr_float("max", (float)sn_rng_uniform(&q->r, 0.2, 3));
    } else if (op == SN_OP_LEAKY_RELU && sn__chance(q, 0.7)) {
        a[na++] = sn_attr_float("alpha", (float)sn_rng_uniform(&q->r, 0.01, 0.5));
    } else if (op == SN_OP_HARD_SIGMOID && sn__chance(q, 0.7)) {
        a[na++] = sn_attr_float("alpha", (float)sn_rng_uniform(&q->r, 0.1, 0.5));
        a[na++] = sn_attr_float("beta", (float)sn_rng_uniform(&q->r, 0.3, 0.7));
    }
    return sn__node(q, op, &x, 1, a, na);
}

/* A conv on x with cout channels (0: random); same=true keeps the spatial size. */
static int sn__conv(sn__gen *q, int x, int cout, bool same) {
    if (q->st != SN_OK) return -1;
    sn_shape s = sn__sh(q, x);
    int64_t c = s.d[1], h = s.d[2], w = s.d[3];
    int64_t m = cout ? cout : sn__ri(q, 1, 8), group = 1;
    if (sn__chance(q, 0.3)) {
        if (sn__chance(q, 0.5) && !cout) m = c; /* depthwise */
        for (int64_t gr = c; gr >= 1; gr--)
            if (c % gr == 0 && m % gr == 0 && (gr == c || sn__chance(q, 0.5))) {
                group = gr;
                break;
            }
    }
    int64_t k = sn__chance(q, 0.6) ? 3 : 1, stride = same ? 1 : sn__ri(q, 1, 2);
    int64_t dil = (k == 3 && sn__chance(q, 0.2)) ? 2 : 1,
            pad = same ? dil * (k / 2) : sn__ri(q, 0, (int)(k / 2));
    if ((h + 2 * pad - dil * (k - 1) - 1) < 0 || (w + 2 * pad - dil * (k - 1) - 1) < 0)
        k = 1, dil = 1, pad = 0;
    int64_t wd[4] = {m, c / group, k, k};
    float a = (float)sqrt(3.0 / (double)(c / group * k * k));
    int ins[3] = {x, sn__const(q, 4, wd, -a, a), -1};
    int n_in = 2;
    if (sn__chance(q, 0.5)) {
        n_in = 3;
        if (sn__chance(q, 0.3)) { /* a bias computed from constants: folded first */
            int parts[2] = {sn__const(q, 1, &m, -0.5f, 0.5f), sn__const(q, 1, &m, -0.5f, 0.5f)};
            ins[2] = sn__node(q, SN_OP_ADD, parts, 2, NULL, 0);
        } else {
            ins[2] = sn__const(q, 1, &m, -0.5f, 0.5f);
        }
    }
    int64_t st2[2] = {stride, stride}, pads[4] = {pad, pad, pad, pad}, dl[2] = {dil, dil};
    sn_attr at[4] = {sn_attr_ints("strides", st2, 2), sn_attr_ints("pads", pads, 4),
                     sn_attr_ints("dilations", dl, 2), sn_attr_int("group", group)};
    sn_op op = sn__chance(q, 0.15) ? SN_OP_FUSED_CONV : SN_OP_CONV;
    return sn__node(q, op, ins, n_in, at, 4);
}

static int sn__bn(sn__gen *q, int x) {
    if (q->st != SN_OK) return -1;
    int64_t c = sn__sh(q, x).d[1];
    int ins[5] = {x, sn__const(q, 1, &c, 0.5f, 1.5f), sn__const(q, 1, &c, -0.5f, 0.5f),
                  sn__const(q, 1, &c, -0.5f, 0.5f), sn__const(q, 1, &c, 0.2f, 2.0f)};
    sn_attr eps = sn_attr_float("epsilon", (float)sn_rng_uniform(&q->r, 1e-5, 1e-2));
    return sn__node(q, SN_OP_BATCHNORM, ins, 5, &eps, sn__chance(q, 0.5));
}

/* A constant bias added to x in one of the ways the fusion pass must handle (or refuse). */
static int sn__add_const(sn__gen *q, int x) {
    if (q->st != SN_OK) return -1;
    sn_shape s = sn__sh(q, x);
    int64_t c = s.d[1], w = s.rank == 4 ? s.d[3] : 1;
    int64_t d4[4] = {1, c, 1, 1}, d3[3] = {c, 1, 1}, one = 1;
    int k, pick = sn__ri(q, 0, 4);
    if (pick == 0 && s.rank == 4)
        k = sn__const(q, 4, d4, -0.5f, 0.5f);
    else if (pick == 1 && s.rank == 4)
        k = sn__const(q, 3, d3, -0.5f, 0.5f);
    else if (pick == 2)
        k = sn__const(q, 1, &one, -0.5f, 0.5f);
    else if (pick == 3 && s.rank == 4)
        k = sn__const(q, 1, &w, -0.5f, 0.5f); /* along W */
    else {                                    /* BiasAdd */
        int ins[2] = {x, sn__const(q, 1, &c, -0.5f, 0.5f)};
        return sn__node(q, SN_OP_BIAS_ADD, ins, 2, NULL, 0);
    }
    int ins[2] = {x, k};
    if (sn__chance(q, 0.5)) ins[0] = k, ins[1] = x;
    return sn__node(q, SN_OP_ADD, ins, 2, NULL, 0);
}

/* x with a pass-through node (or chain) appended. */
static int sn__passthrough(sn__gen *q, int x) {
    if (q->st != SN_OK) return -1;
    sn_shape s = sn__sh(q, x);
    int64_t c = s.d[1], h = s.d[2], w = s.d[3], one = 1, d4[4] = {1, c, 1, 1};
    switch (sn__ri(q, 0, 5)) {
    case 0: return sn__unary(q, SN_OP_IDENTITY, x);
    case 1: {
        int ins[2] = {x, sn__fill_const(q, 1, &one, 1.0f)};
        return sn__node(q, sn__chance(q, 0.5) ? SN_OP_MUL : SN_OP_DIV, ins, 2, NULL, 0);
    }
    case 2: {
        int ins[2] = {sn__fill_const(q, 4, d4, 0.0f), x};
        return sn__node(q, SN_OP_ADD, ins, 2, NULL, 0);
    }
    case 3: { /* Reshape chain back to [N,C,H,W] */
        int64_t r1[3] = {0, c * h, w}, r2[4] = {-1, c, h, w};
        if (sn__chance(q, 0.5)) r1[0] = -1, r1[1] = c, r1[2] = h * w;
        sn_attr a1 = sn_attr_ints("shape", r1, 3), a2 = sn_attr_ints("shape", r2, 4);
        if (sn__chance(q, 0.5)) r2[0] = 0;
        int y = sn__node(q, SN_OP_RESHAPE, &x, 1, &a1, 1);
        return sn__node(q, SN_OP_RESHAPE, &y, 1, &a2, 1);
    }
    default: { /* Transpose chain that ends in NCHW: p, then q, then (p.q)^-1 or p^-1 */
        int64_t p[4] = {0, 1, 2, 3}, qq[4] = {0, 1, 2, 3}, inv[4];
        for (int i = 3; i > 1; i--) {
            int j = sn__ri(q, 1, i);
            int64_t t = p[i];
            p[i] = p[j], p[j] = t;
        }
        bool three = sn__chance(q, 0.5);
        if (three) {
            int64_t t = qq[1];
            qq[1] = qq[3], qq[3] = t;
        }
        int64_t comp[4];
        for (int i = 0; i < 4; i++) comp[i] = p[three ? qq[i] : i];
        for (int i = 0; i < 4; i++) inv[comp[i]] = i;
        sn_attr a = sn_attr_ints("perm", p, 4);
        int y = sn__node(q, SN_OP_TRANSPOSE, &x, 1, &a, 1);
        if (three) {
            a = sn_attr_ints("perm", qq, 4);
            y = sn__node(q, SN_OP_TRANSPOSE, &y, 1, &a, 1);
        }
        a = sn_attr_ints("perm", inv, 4);
        return sn__node(q, SN_OP_TRANSPOSE, &y, 1, &a, 1);
    }
    }
}

/* One of the ops the layout pass rewrites: a pool, GlobalAveragePool, Concat (with a conv of
 * x, along channels or a spatial axis), Pad, Softmax or Resize. */
static int sn__layout_op(sn__gen *q, int x) {
    if (q->st != SN_OK) return -1;
    sn_shape s = sn__sh(q, x);
    int64_t k2[2] = {2, 2}, s2[2] = {2, 2}, p4[4] = {0, 1, 1, 0};
    switch (sn__ri(q, 0, 6)) {
    case 0: {
        if (s.d[2] < 3 || s.d[3] < 3) return sn__activation(q, x);
        bool max = sn__chance(q, 0.5);
        sn_attr a[4] = {sn_attr_ints("kernel_shape", k2, 2), sn_attr_ints("strides", s2, 2),
                        sn_attr_ints("pads", p4, 4), sn_attr_int("ceil_mode", sn__ri(q, 0, 1))};
        return sn__node(q, max ? SN_OP_MAX_POOL : SN_OP_AVG_POOL, &x, 1, a, 4);
    }
    case 1: return sn__unary(q, SN_OP_GLOBAL_AVG_POOL, x);
    case 2: {
        int axis = sn__chance(q, 0.7) ? 1 : sn__ri(q, 2, 3);
        int ins[2] = {x, sn__conv(q, x, axis == 1 ? 0 : (int)s.d[1], true)};
        if (sn__chance(q, 0.5)) ins[0] = ins[1], ins[1] = x;
        sn_attr a = sn_attr_int("axis", sn__chance(q, 0.5) ? axis : axis - 4);
        return sn__node(q, SN_OP_CONCAT, ins, 2, &a, 1);
    }
    case 3: {
        int64_t pads[8];
        for (int i = 0; i < 8; i++) pads[i] = i % 4 == 0 ? 0 : sn__ri(q, 0, 2);
        sn_attr a[2] = {sn_attr_ints("pads", pads, 8), sn_attr_int("mode", sn__ri(q, 0, 2))};
        if (s.d[1] < 3 || s.d[2] < 3 || s.d[3] < 3) a[1] = sn_attr_int("mode", 0);
        return sn__node(q, SN_OP_PAD, &x, 1, a, 2);
    }
    case 4: {
        int axis = sn__ri(q, 1, 3); /* not the batch */
        sn_attr a = sn_attr_int("axis", sn__chance(q, 0.5) ? axis : axis - 4);
        return sn__node(q, SN_OP_SOFTMAX, &x, 1, &a, 1);
    }
    default: { /* sizes stay within 1..24 */
        float sc[4] = {1, 1, s.d[2] >= 12 ? 0.5f : 2.0f, s.d[3] >= 12 ? 0.5f : 2.0f};
        sn_attr a[2] = {sn_attr_floats("scales", sc, 4), sn_attr_int("mode", sn__ri(q, 0, 1))};
        return sn__node(q, SN_OP_RESIZE, &x, 1, a, 2);
    }
    }
}

/* One random step from x; returns the new current tensor. */
static int sn__step(sn__gen *q, int x) {
    int y, ins[2];
    switch (sn__ri(q, 0, 12)) {
    case 0:
    case 1: y = sn__conv(q, x, 0, false); break;
    case 2: y = sn__bn(q, sn__conv(q, x, 0, false)); break;
    case 3: y = sn__add_const(q, x); break;
    case 4: y = sn__activation(q, x); break;
    case 5: { /* residual block */
        int b = sn__conv(q, x, (int)sn__sh(q, x).d[1], true);
        if (sn__chance(q, 0.7)) b = sn__bn(q, b);
        if (sn__chance(q, 0.3)) b = sn__activation(q, b); /* act before the add: no Z fusion */
        ins[0] = b, ins[1] = x;
        if (sn__chance(q, 0.5)) ins[0] = x, ins[1] = b;
        y = sn__node(q, SN_OP_ADD, ins, 2, NULL, 0);
        if (sn__chance(q, 0.6)) y = sn__activation(q, y);
        break;
    }
    case 6: y = sn__passthrough(q, x); break;
    case 7: { /* duplicates: CSE merges them */
        y = sn__chance(q, 0.5) ? sn__activation(q, x) : sn__unary(q, SN_OP_RELU, x);
        if (q->st != SN_OK) return -1;
        const sn_node *last = &q->g->nodes[q->g->n_nodes - 1];
        int y2 = sn__node(q, last->op, &x, 1, last->attrs, last->n_attrs);
        ins[0] = y, ins[1] = y2;
        y = sn__node(q, SN_OP_ADD, ins, 2, NULL, 0);
        break;
    }
    case 8: { /* merge with an earlier tensor of the same shape, if any */
        y = x;
        for (int i = q->npool - 1; i >= 0; i--) {
            int e = q->pool[i];
            sn_shape se = sn__sh(q, e), sx = sn__sh(q, x);
            if (e != x && sn_shape_equal(&se, &sx)) {
                ins[0] = x, ins[1] = e;
                y = sn__node(q, SN_OP_ADD, ins, 2, NULL, 0);
                break;
            }
        }
        break;
    }
    case 9: { /* a dead branch, then carry on */
        if (sn__chance(q, 0.5))
            sn__conv(q, x, 0, false);
        else
            sn__activation(q, x);
        y = sn__activation(q, x);
        break;
    }
    case 10: { /* a constant-only subgraph added per channel */
        int cv = sn__conv(q, x, 0, false);
        if (q->st != SN_OK) return -1;
        int64_t d4[4] = {1, sn__sh(q, cv).d[1], 1, 1};
        int k[2] = {sn__const(q, 4, d4, -1, 1), sn__const(q, 4, d4, -1, 1)};
        int kc = sn__node(q, sn__chance(q, 0.5) ? SN_OP_MUL : SN_OP_SUB, k, 2, NULL, 0);
        bool swap = sn__chance(q, 0.5);
        ins[0] = swap ? kc : cv, ins[1] = swap ? cv : kc;
        y = sn__node(q, SN_OP_ADD, ins, 2, NULL, 0);
        break;
    }
    case 11: y = sn__layout_op(q, x); break;
    default:
        if (q->st == SN_OK && !(q->g->tensors[x].flags & (SN_TENSOR_OUTPUT | SN_TENSOR_INPUT)))
            q->st = sn_graph_add_output(q->g, x); /* an intermediate graph output */
        y = sn__conv(q, x, 0, false);
        break;
    }
    return y;
}

/* Flatten, Gemm and some of BN / bias / activation over its features. */
static int sn__head(sn__gen *q, int x) {
    int f = sn__unary(q, SN_OP_FLATTEN, x);
    if (q->st != SN_OK) return -1;
    int64_t k = sn__sh(q, f).d[1], o = sn__ri(q, 1, 12), tb = sn__ri(q, 0, 1);
    int64_t bd[2] = {tb ? o : k, tb ? k : o}, row[2] = {1, o}, one = 1;
    float a = (float)sqrt(3.0 / (double)k);
    int ins[3] = {f, sn__const(q, 2, bd, -a, a), -1}, n_in = 2;
    switch (sn__ri(q, 0, 3)) {
    case 0: break;
    case 1: ins[2] = sn__const(q, 1, &o, -0.5f, 0.5f), n_in = 3; break;
    case 2: ins[2] = sn__const(q, 2, row, -0.5f, 0.5f), n_in = 3; break;
    default: ins[2] = sn__const(q, 1, &one, -0.5f, 0.5f), n_in = 3; break;
    }
    sn_attr at[3] = {sn_attr_int("transB", tb),
                     sn_attr_float("alpha", (float)sn_rng_uniform(&q->r, 0.5, 1.5)),
                     sn_attr_float("beta", (float)sn_rng_uniform(&q->r, 0.5, 1.5))};
    int y = sn__node(q, SN_OP_GEMM, ins, n_in, at, sn__chance(q, 0.5) ? 3 : 1);
    if (sn__chance(q, 0.5)) y = sn__bn(q, y);
    if (sn__chance(q, 0.5)) y = sn__add_const(q, y);
    if (sn__chance(q, 0.6)) y = sn__activation(q, y);
    return y;
}

sn_status sn_pt_random_graph(uint64_t seed, sn_graph **out, sn_error *err) {
    sn__gen q;
    memset(&q, 0, sizeof q);
    q.err = err;
    sn_rng_seed(&q.r, seed);
    *out = NULL;
    if ((q.st = sn_graph_create(&q.g)) != SN_OK) return q.st;
    int64_t dims[4] = {SN_DIM_BATCH, sn__ri(&q, 1, 4), sn__ri(&q, 4, 10), sn__ri(&q, 4, 10)};
    sn_shape s = sn_shape_make(4, dims);
    int x = -1;
    q.st = sn_graph_add_tensor(q.g, "input", SN_DTYPE_F32, &s, &x);
    if (q.st == SN_OK) q.st = sn_graph_add_input(q.g, x);
    int steps = sn__ri(&q, 2, 10);
    for (int i = 0; i < steps && q.st == SN_OK; i++) {
        if (q.npool < 64) q.pool[q.npool++] = x;
        int from = (q.npool > 1 && sn__chance(&q, 0.2)) ? q.pool[sn__ri(&q, 0, q.npool - 1)] : x;
        int y = sn__step(&q, from);
        if (y >= 0 && q.st == SN_OK) x = y;
    }
    if (q.st == SN_OK && sn__chance(&q, 0.5)) x = sn__head(&q, x);
    if (q.st == SN_OK && !(q.g->tensors[x].flags & SN_TENSOR_OUTPUT))
        q.st = sn_graph_add_output(q.g, x);
    if (q.st == SN_OK) q.st = sn_graph_validate(q.g, err);
    if (q.st == SN_OK) q.st = sn_graph_infer_shapes(q.g, err);
    if (q.st != SN_OK) {
        if (err && err->status == SN_OK)
            sn_errorf(err, q.st, "random graph %llu failed", (unsigned long long)seed);
        sn_graph_destroy(q.g);
        return q.st;
    }
    *out = q.g;
    return SN_OK;
}
