/*
 * layout_util.c - the layout pass's state, edge transposes and constant rewrites (see
 * layout_util.h).
 */
#include "layout_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sn_status sn__layout_init(sn__layout *L, sn_graph *g, sn_error *err) {
    memset(L, 0, sizeof *L);
    L->g = g;
    L->err = err;
    L->nt = g->n_tensors;
    size_t n = (size_t)L->nt + 1;
    L->stored = calloc(n, sizeof(bool));
    L->pre = calloc(n, sizeof(bool));
    L->nhwc = malloc(n * sizeof(int));
    L->nchw = malloc(n * sizeof(int));
    L->perm_const = malloc(n * sizeof(int));
    if (!L->stored || !L->pre || !L->nhwc || !L->nchw || !L->perm_const) {
        sn__layout_free(L);
        return sn__pass_oom(err, "layout");
    }
    for (int t = 0; t < L->nt; t++) {
        bool is = g->tensors[t].layout == SN_LAYOUT_NHWC && !(g->tensors[t].flags &
                                                              (SN_TENSOR_CONST | SN_TENSOR_INPUT));
        L->stored[t] = L->pre[t] = is;
        L->nhwc[t] = is ? t : -1;
        L->nchw[t] = is ? -1 : t;
        L->perm_const[t] = -1;
    }
    /* A node made NHWC elsewhere (an importer) writes NHWC data even when its output carries no
     * mark; its readers must be left alone too. */
    for (int i = 0; i < g->n_nodes; i++) {
        const sn_node *n = &g->nodes[i];
        if (n->dead || n->op == SN_OP_GEMM ||
            sn_node_attr_int(n, "layout", SN_LAYOUT_NCHW) != SN_LAYOUT_NHWC)
            continue;
        int y = n->outputs[0];
        if (y < 0 || y >= L->nt || (g->tensors[y].flags & SN_TENSOR_OUTPUT)) continue;
        L->stored[y] = L->pre[y] = true;
        L->nhwc[y] = y;
        L->nchw[y] = -1;
    }
    return SN_OK;
}

void sn__layout_free(sn__layout *L) {
    free(L->stored), free(L->pre), free(L->nhwc), free(L->nchw), free(L->perm_const);
    L->stored = L->pre = NULL;
    L->nhwc = L->nchw = L->perm_const = NULL;
}

static sn_shape sn__to_nhwc_shape(sn_shape s) {
    sn_shape p = s;
    p.d[1] = s.d[2], p.d[2] = s.d[3], p.d[3] = s.d[1];
    return p;
}

sn_shape sn__layout_shape(const sn__layout *L, int t) {
    sn_shape s = sn__shape1(L->g, t);
    /* a tensor converted in place has its shape permuted already */
    if (t < L->nt && L->stored[t] && s.rank == 4) {
        sn_shape q = s;
        q.d[1] = s.d[3], q.d[2] = s.d[1], q.d[3] = s.d[2];
        return q;
    }
    return s;
}

/* A new activation tensor named after `base` with `suffix`, of shape s (batch-1) and the
 * batched flag of `like`. */
static sn_status sn__new_tensor(sn__layout *L, int like, const char *suffix, const sn_shape *s,
                                sn_layout layout, int *out) {
    sn_graph *g = L->g;
    char name[256];
    snprintf(name, sizeof name, "%.200s%s", g->tensors[like].name, suffix);
    for (int k = 1; sn_graph_find_tensor(g, name) >= 0; k++)
        snprintf(name, sizeof name, "%.200s%s_%d", g->tensors[like].name, suffix, k);
    sn_dtype dt = g->tensors[like].dtype;
    bool batched = sn__batched(g, like);
    sn_status st = sn_graph_add_tensor(g, name, dt, s, out);
    if (st != SN_OK) return sn_errorf(L->err, st, "layout: adding tensor '%s'", name);
    g->tensors[*out].layout = layout;
    if (batched) g->tensors[*out].flags |= SN_TENSOR_BATCHED;
    return SN_OK;
}

/* A Transpose node src -> dst with perm (0,2,3,1) (to NHWC) or (0,3,1,2) (to NCHW), named
 * after the logical tensor t it transposes. */
static sn_status sn__add_transpose(sn__layout *L, int t, int src, int dst, bool to_nhwc) {
    static const int64_t to_nhwc_perm[4] = {0, 2, 3, 1}, to_nchw_perm[4] = {0, 3, 1, 2};
    sn_attr a = sn_attr_ints("perm", to_nhwc ? to_nhwc_perm : to_nchw_perm, 4);
    char name[256];
    snprintf(name, sizeof name, "%.200s.%s", L->g->tensors[t].name,
             to_nhwc ? "to_nhwc" : "to_nchw");
    sn_status st = sn_graph_add_node(L->g, SN_OP_TRANSPOSE, name, &src, 1, &dst, 1, &a, 1, NULL);
    if (st != SN_OK) return sn_errorf(L->err, st, "layout: adding Transpose '%s'", name);
    return SN_OK;
}

sn_status sn__layout_to_nhwc(sn__layout *L, int t, int *out) {
    if (t >= L->nt) return sn_errorf(L->err, SN_ERR_INTERNAL, "layout: tensor %d is new", t);
    if (L->nhwc[t] >= 0) {
        *out = L->nhwc[t];
        return SN_OK;
    }
    sn_shape s = sn__to_nhwc_shape(sn__layout_shape(L, t));
    int y;
    sn_status st = sn__new_tensor(L, t, ".nhwc", &s, SN_LAYOUT_NHWC, &y);
    if (st == SN_OK) st = sn__add_transpose(L, t, L->nchw[t], y, true);
    if (st != SN_OK) return st;
    L->nhwc[t] = *out = y;
    L->in_transposes++;
    return SN_OK;
}

sn_status sn__layout_to_nchw(sn__layout *L, int t, int *out) {
    if (t >= L->nt) return sn_errorf(L->err, SN_ERR_INTERNAL, "layout: tensor %d is new", t);
    if (L->nchw[t] >= 0) {
        *out = L->nchw[t];
        return SN_OK;
    }
    sn_shape s = sn__layout_shape(L, t);
    int y;
    sn_status st = sn__new_tensor(L, t, ".nchw", &s, SN_LAYOUT_NCHW, &y);
    if (st == SN_OK) st = sn__add_transpose(L, t, L->nhwc[t], y, false);
    if (st != SN_OK) return st;
    L->nchw[t] = *out = y;
    L->out_transposes++;
    return SN_OK;
}

sn_status sn__layout_convert_output(sn__layout *L, int ni, int k) {
    sn_graph *g = L->g;
    int y = g->nodes[ni].outputs[k];
    sn_shape s = sn__to_nhwc_shape(sn__layout_shape(L, y));
    if (!(g->tensors[y].flags & SN_TENSOR_OUTPUT)) {
        g->tensors[y].shape = s;
        g->tensors[y].layout = SN_LAYOUT_NHWC;
        L->stored[y] = true;
        L->nhwc[y] = y;
        L->nchw[y] = -1;
        return SN_OK;
    }
    /* The graph output keeps its tensor (name, shape, NCHW data): the node writes a twin. */
    int twin;
    sn_status st = sn__new_tensor(L, y, ".nhwc", &s, SN_LAYOUT_NHWC, &twin);
    if (st != SN_OK) return st;
    g->nodes[ni].outputs[k] = twin;
    g->tensors[twin].producer = ni;
    g->tensors[y].producer = -1;
    if ((st = sn__add_transpose(L, y, twin, y, false)) != SN_OK) return st;
    L->nhwc[y] = twin;
    L->nchw[y] = y;
    L->out_transposes++;
    return SN_OK;
}

/* dst[a, c, d, b] = src[a, b, c, d] for src dims d4: NCHW -> NHWC, OIHW -> OHWI. */
static void sn__permute4(const float *src, const int64_t *d4, float *dst) {
    const int64_t A = d4[0], B = d4[1], C = d4[2], D = d4[3];
    for (int64_t a = 0; a < A; a++)
        for (int64_t b = 0; b < B; b++)
            for (int64_t c = 0; c < C; c++)
                for (int64_t d = 0; d < D; d++)
                    dst[((a * C + c) * D + d) * B + b] = src[((a * B + b) * C + c) * D + d];
}

/* Constant t (rank <= 4, dims padded on the left to 4) permuted into a new constant. */
static sn_status sn__permuted_const(sn__layout *L, int t, const char *suffix, int *out) {
    sn_graph *g = L->g;
    const sn_shape s = g->tensors[t].shape;
    int64_t d4[4] = {1, 1, 1, 1};
    for (int i = 0; i < s.rank; i++) d4[4 - s.rank + i] = s.d[i];
    int64_t numel = sn_shape_numel(&s);
    const float *src = sn__const_f32(g, t, numel);
    if (!src || s.rank > 4) return sn_errorf(L->err, SN_ERR_INTERNAL, "layout: bad constant");
    float *dst = sn__alloc_f32(numel);
    if (!dst) return sn__pass_oom(L->err, "layout");
    sn__permute4(src, d4, dst);
    int64_t pd[4] = {d4[0], d4[2], d4[3], d4[1]};
    sn_shape ps = sn_shape_make(4, pd);
    char base[256];
    snprintf(base, sizeof base, "%.200s%s", g->tensors[t].name, suffix);
    sn_status st = sn__add_const_f32(g, base, &ps, &dst, out, L->err);
    if (st == SN_OK) L->constants++;
    return st;
}

sn_status sn__layout_image_const(sn__layout *L, int t, int *out) {
    if (sn_shape_numel(&L->g->tensors[t].shape) == 1) {
        *out = t;
        return SN_OK;
    }
    if (t < L->nt && L->perm_const[t] >= 0) {
        *out = L->perm_const[t];
        return SN_OK;
    }
    sn_status st = sn__permuted_const(L, t, ".nhwc", out);
    if (st == SN_OK && t < L->nt) L->perm_const[t] = *out;
    return st;
}

sn_status sn__layout_ohwi_const(sn__layout *L, int t, int *out) {
    if (t < L->nt && L->perm_const[t] >= 0) {
        *out = L->perm_const[t];
        return SN_OK;
    }
    sn_status st = sn__permuted_const(L, t, ".ohwi", out);
    if (st == SN_OK && t < L->nt) L->perm_const[t] = *out;
    return st;
}

sn_status sn__layout_gemm_b(sn__layout *L, int b, bool trans_b, const sn_shape *a, int *out) {
    sn_graph *g = L->g;
    const int64_t c = a->d[1], h = a->d[2], w = a->d[3], k = c * h * w;
    *out = b;
    if (h * w == 1 || c == 1) return SN_OK;
    const sn_shape bs = g->tensors[b].shape;
    int64_t numel = sn_shape_numel(&bs);
    const float *src = sn__const_f32(g, b, numel);
    if (!src || bs.rank != 2 || bs.d[trans_b ? 1 : 0] != k)
        return sn_errorf(L->err, SN_ERR_INTERNAL, "layout: Gemm B does not match A");
    const int64_t cols = numel / k;
    float *dst = sn__alloc_f32(numel);
    if (!dst) return sn__pass_oom(L->err, "layout");
    /* feature (c,h,w) of NCHW A sits at (h,w,c) in NHWC A */
    for (int64_t ch = 0; ch < c; ch++)
        for (int64_t p = 0; p < h * w; p++) {
            const int64_t from = ch * h * w + p, to = p * c + ch;
            if (trans_b) {
                for (int64_t j = 0; j < cols; j++) dst[j * k + to] = src[j * k + from];
            } else {
                memcpy(dst + to * cols, src + from * cols, (size_t)cols * sizeof(float));
            }
        }
    char base[256];
    snprintf(base, sizeof base, "%.200s.nhwc_rows", g->tensors[b].name);
    sn_status st = sn__add_const_f32(g, base, &bs, &dst, out, L->err);
    if (st == SN_OK) L->constants++;
    return st;
}
