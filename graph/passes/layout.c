/*
 * layout.c - sn_pass_layout: converts an NCHW graph to channels-last (NHWC), the layout the CPU
 * kernels' channels-last paths (and most GPU convolution libraries) prefer.
 *
 * Nodes are visited in topological order and converted where that needs no transpose inside
 * the graph:
 *   - Conv, FusedConv, the pools, BatchNormalization, BiasAdd and Resize on 4-D tensors always
 *     convert: they get layout=NHWC, and a conv's weights become a new OHWI constant;
 *   - activations, Identity and Add/Sub/Mul/Div on 4-D tensors, Concat, Pad and Softmax convert
 *     when one of their 4-D inputs is already NHWC; constant operands are permuted (a [C,1,1]
 *     bias becomes [1,1,1,C]), Concat's and Softmax's axis and Pad's pads are remapped;
 *   - a Gemm reading a 4-D NHWC A through flatten_a (or through a Flatten, which it then takes
 *     over) gets its B's K rows reordered, so the flattening order changes for free; a Flatten
 *     or Reshape of a tensor with H*W == 1 or C == 1 reads the NHWC data as it is, since the
 *     order of elements is the same;
 *   - every other reader of an NHWC tensor gets a Transpose back to NCHW, made once per tensor,
 *     and so does a graph output (it keeps its tensor, name and NCHW data).
 * A converted node reading an NCHW tensor - a graph input - gets a Transpose to NHWC, once per
 * tensor. On the zoo's CNNs that leaves one Transpose, after the input.
 *
 * Converted tensors are stored with their shapes permuted and their layout marked NHWC. Those
 * marks make the pass idempotent: a node reading a tensor an earlier run converted, or one that
 * already has layout=NHWC, is left as it is. Asking for NCHW (or any) changes nothing; an NHWC
 * graph is not converted back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout_util.h"

/* Ops whose meaning depends on the layout and that take the `layout` attribute. */
static bool sn__layout_aware(sn_op op) {
    switch (op) {
    case SN_OP_CONV:
    case SN_OP_FUSED_CONV:
    case SN_OP_MAX_POOL:
    case SN_OP_AVG_POOL:
    case SN_OP_GLOBAL_AVG_POOL:
    case SN_OP_BATCHNORM:
    case SN_OP_BIAS_ADD:
    case SN_OP_RESIZE: return true;
    default: return false;
    }
}

/* Ops that compute elementwise on tensors as stored, with numpy broadcasting. */
static bool sn__elementwise(sn_op op) {
    sn_activation a;
    float al, be;
    sn_node n = {.op = op};
    return op == SN_OP_IDENTITY || op == SN_OP_ADD || op == SN_OP_SUB || op == SN_OP_MUL ||
           op == SN_OP_DIV || sn__node_activation(&n, &a, &al, &be);
}

static bool sn__is_const(const sn_graph *g, int t) {
    return t >= 0 && (g->tensors[t].flags & SN_TENSOR_CONST);
}

static int sn__rank(const sn__layout *L, int t) { return sn__layout_shape(L, t).rank; }

/* Node reads a tensor an earlier run converted, or was converted itself. */
static bool sn__done_before(const sn__layout *L, const sn_node *n) {
    if (sn__layout_aware(n->op) || n->op == SN_OP_GEMM)
        if (sn_node_attr_int(n, "layout", SN_LAYOUT_NCHW) == SN_LAYOUT_NHWC) return true;
    for (int k = 0; k < n->n_inputs; k++)
        if (n->inputs[k] >= 0 && n->inputs[k] < L->nt && L->pre[n->inputs[k]]) return true;
    return false;
}

/* Any reader of an NHWC tensor that stays NCHW reads a transposed copy. */
static sn_status sn__keep_nchw(sn__layout *L, int ni) {
    for (int k = 0; k < L->g->nodes[ni].n_inputs; k++) {
        int t = L->g->nodes[ni].inputs[k], c;
        if (t < 0 || t >= L->nt || !L->stored[t]) continue;
        sn_status st = sn__layout_to_nchw(L, t, &c);
        if (st != SN_OK) return st;
        L->g->nodes[ni].inputs[k] = c;
    }
    return SN_OK;
}

/* The NHWC form of input k (an activation, or a constant operand of an elementwise op or
 * Concat). */
static sn_status sn__input_nhwc(sn__layout *L, int ni, int k) {
    int t = L->g->nodes[ni].inputs[k], c;
    if (t < 0) return SN_OK;
    sn_status st = sn__is_const(L->g, t) ? sn__layout_image_const(L, t, &c)
                                         : sn__layout_to_nhwc(L, t, &c);
    if (st == SN_OK) L->g->nodes[ni].inputs[k] = c;
    return st;
}

/* Whether an elementwise op, Concat, Pad or Softmax can run on NHWC tensors here: its output is
 * 4-D, an input is NHWC already, and every input is a 4-D activation, a constant of rank <= 4
 * (one value for Concat's peers: none) or a single value. */
static bool sn__follows(const sn__layout *L, const sn_node *n) {
    const sn_graph *g = L->g;
    bool any = false;
    if (sn__rank(L, n->outputs[0]) != 4) return false;
    for (int k = 0; k < n->n_inputs; k++) {
        int t = n->inputs[k];
        if (t < 0 || t >= L->nt) return false;
        int r = sn__rank(L, t);
        if (sn__is_const(g, t)) {
            bool scalar = sn_shape_numel(&g->tensors[t].shape) == 1 && n->op != SN_OP_CONCAT;
            if (!scalar && (r > 4 || (n->op == SN_OP_CONCAT && r != 4) ||
                            !sn__const_f32(g, t, -1)))
                return false;
        } else {
            if (r != 4) return false;
            any |= L->stored[t];
        }
    }
    return any;
}

static sn_status sn__set_layout_attr(sn__layout *L, int ni) {
    return sn__node_set_int(L->g, ni, "layout", SN_LAYOUT_NHWC, L->err);
}

/* NCHW axis a of a rank-4 tensor, as an NHWC axis. */
static int64_t sn__axis_nhwc(int64_t a) {
    static const int64_t map[4] = {0, 3, 1, 2};
    return map[a < 0 ? a + 4 : a];
}

/* Conv-family and the other layout-aware ops. */
static sn_status sn__convert_aware(sn__layout *L, int ni, bool *done) {
    sn_graph *g = L->g;
    const sn_node *n = &g->nodes[ni];
    *done = false;
    if (n->n_inputs < 1 || n->inputs[0] < 0 || sn__rank(L, n->inputs[0]) != 4 ||
        sn__is_const(g, n->inputs[0]))
        return SN_OK;
    /* Adding a Transpose may move the node table: n is not used past this point. */
    const sn_op op = n->op;
    bool conv = op == SN_OP_CONV || op == SN_OP_FUSED_CONV;
    int w = conv ? n->inputs[1] : -1, w2 = -1;
    if (conv && (g->tensors[w].shape.rank != 4 || !sn__const_f32(g, w, -1))) return SN_OK;
    sn_status st = sn__input_nhwc(L, ni, 0);
    if (st == SN_OK && conv) st = sn__layout_ohwi_const(L, w, &w2);
    if (st == SN_OK && conv) g->nodes[ni].inputs[1] = w2;
    if (st == SN_OK && op == SN_OP_FUSED_CONV && g->nodes[ni].n_inputs > 3)
        st = sn__input_nhwc(L, ni, 3);
    if (st == SN_OK) st = sn__set_layout_attr(L, ni);
    if (st == SN_OK) st = sn__layout_convert_output(L, ni, 0);
    *done = st == SN_OK;
    return st;
}

/* Elementwise ops, Concat, Pad, Softmax following an NHWC input. */
static sn_status sn__convert_follower(sn__layout *L, int ni, bool *done) {
    sn_graph *g = L->g;
    *done = false;
    if (!sn__follows(L, &g->nodes[ni])) return SN_OK;
    sn_status st = SN_OK;
    sn_op op = g->nodes[ni].op;
    if (op == SN_OP_CONCAT || op == SN_OP_SOFTMAX) {
        int64_t axis = sn_node_attr_int(&g->nodes[ni], "axis", op == SN_OP_SOFTMAX ? -1 : 1);
        if (axis < -4 || axis > 3) return SN_OK; /* invalid: leave it to validation */
        st = sn__node_set_int(g, ni, "axis", sn__axis_nhwc(axis), L->err);
    } else if (op == SN_OP_PAD) {
        int cnt = 0;
        const int64_t *p = sn_node_attr_ints(&g->nodes[ni], "pads", &cnt);
        if (!p || cnt != 8) return SN_OK;
        int64_t q[8] = {p[0], p[2], p[3], p[1], p[4], p[6], p[7], p[5]};
        int64_t *arr = sn_graph_alloc(g, sizeof q);
        if (!arr) return sn__pass_oom(L->err, "layout");
        memcpy(arr, q, sizeof q);
        for (int i = 0; i < g->nodes[ni].n_attrs; i++)
            if (!strcmp(g->nodes[ni].attrs[i].name, "pads")) g->nodes[ni].attrs[i].v.ints = arr;
    }
    for (int k = 0; k < g->nodes[ni].n_inputs && st == SN_OK; k++) st = sn__input_nhwc(L, ni, k);
    if (st == SN_OK) st = sn__layout_convert_output(L, ni, 0);
    *done = st == SN_OK;
    return st;
}

/* Gemm ni with flatten_a reading NHWC tensor a: reorder B's rows and mark it. */
static sn_status sn__gemm_rows(sn__layout *L, int ni, int a, bool *done) {
    sn_graph *g = L->g;
    const sn_node *n = &g->nodes[ni];
    *done = false;
    int b = n->inputs[1], nb;
    bool tb = sn_node_attr_int(n, "transB", 0) != 0;
    if (sn_node_attr_int(n, "transA", 0) != 0 || !sn__const_f32(g, b, -1)) return SN_OK;
    sn_shape as = sn__layout_shape(L, a);
    const sn_shape *bs = &g->tensors[b].shape;
    if (as.rank != 4 || bs->rank != 2 || bs->d[tb ? 1 : 0] != as.d[1] * as.d[2] * as.d[3])
        return SN_OK;
    sn_status st = sn__layout_gemm_b(L, b, tb, &as, &nb);
    if (st == SN_OK) {
        g->nodes[ni].inputs[0] = L->nhwc[a];
        g->nodes[ni].inputs[1] = nb;
        st = sn__node_set_int(g, ni, "flatten_a", 1, L->err);
    }
    if (st == SN_OK) st = sn__set_layout_attr(L, ni);
    if (st == SN_OK && nb != b) L->gemms++;
    *done = st == SN_OK;
    return st;
}

/* Flatten (axis 1) or Reshape ni of NHWC tensor x. */
static sn_status sn__convert_flatten(sn__layout *L, int ni, int x, bool *done) {
    sn_graph *g = L->g;
    const sn_node *n = &g->nodes[ni];
    *done = false;
    sn_shape s = sn__layout_shape(L, x);
    int64_t axis = sn_node_attr_int(n, "axis", 1);
    if (n->op == SN_OP_FLATTEN && axis != 1 && axis != -3) return SN_OK;
    if (n->op == SN_OP_RESHAPE) {
        int cnt = 0;
        const int64_t *shape = sn_node_attr_ints(n, "shape", &cnt);
        for (int i = 1; shape && i < cnt; i++)
            if (shape[i] == 0) return SN_OK; /* copies a dim that moves */
    }
    if (s.d[2] * s.d[3] == 1 || s.d[1] == 1) {
        g->nodes[ni].inputs[0] = L->nhwc[x]; /* the same order of elements */
        *done = true;
        return SN_OK;
    }
    if (n->op != SN_OP_FLATTEN) return SN_OK;
    /* Readers that are all Gemms taking it as A with a constant B take the 4-D tensor. */
    int f = n->outputs[0], readers = 0;
    if (g->tensors[f].flags & SN_TENSOR_OUTPUT) return SN_OK;
    for (int i = 0; i < g->n_nodes; i++) {
        const sn_node *m = &g->nodes[i];
        if (m->dead) continue;
        for (int k = 0; k < m->n_inputs; k++) {
            if (m->inputs[k] != f) continue;
            if (m->op != SN_OP_GEMM || k != 0 || m->inputs[1] == f ||
                !sn__const_f32(g, m->inputs[1], -1) || sn_node_attr_int(m, "transA", 0))
                return SN_OK;
            readers++;
        }
    }
    for (int i = 0; i < g->n_nodes && readers > 0; i++) {
        if (g->nodes[i].dead || g->nodes[i].op != SN_OP_GEMM || g->nodes[i].inputs[0] != f)
            continue;
        bool ok;
        sn_status st = sn__gemm_rows(L, i, x, &ok);
        if (st != SN_OK) return st;
        if (!ok) return sn_errorf(L->err, SN_ERR_INTERNAL, "layout: Gemm '%s' refused its A",
                                  g->nodes[i].name);
    }
    g->nodes[ni].dead = true;
    *done = true;
    return SN_OK;
}

static sn_status sn__visit(sn__layout *L, int ni) {
    sn_graph *g = L->g;
    const sn_node *n = &g->nodes[ni];
    if (n->dead || sn__done_before(L, n)) return SN_OK;
    bool done = false;
    sn_status st = SN_OK;
    int x = n->n_inputs > 0 ? n->inputs[0] : -1;
    bool x_nhwc = x >= 0 && x < L->nt && L->stored[x];
    if (sn__layout_aware(n->op))
        st = sn__convert_aware(L, ni, &done);
    else if (sn__elementwise(n->op) || n->op == SN_OP_CONCAT || n->op == SN_OP_PAD ||
             n->op == SN_OP_SOFTMAX)
        st = sn__convert_follower(L, ni, &done);
    else if ((n->op == SN_OP_FLATTEN || n->op == SN_OP_RESHAPE) && x_nhwc &&
             sn__rank(L, x) == 4)
        st = sn__convert_flatten(L, ni, x, &done);
    else if (n->op == SN_OP_GEMM && x_nhwc && sn_node_attr_int(n, "flatten_a", 0))
        st = sn__gemm_rows(L, ni, x, &done);
    if (st != SN_OK) return st;
    if (done) {
        L->nodes++;
        return SN_OK;
    }
    return sn__keep_nchw(L, ni);
}

sn_status sn_pass_layout(sn_graph *g, sn_layout target, sn_pass_report *r, sn_error *err) {
    sn__report_begin(r, "layout", g);
    if (target != SN_LAYOUT_NHWC) {
        if (r) snprintf(r->detail, sizeof r->detail, "kept the graph's layout");
        sn__report_end(r, g, 0);
        return target == SN_LAYOUT_NCHW || target == SN_LAYOUT_ANY
                   ? SN_OK
                   : sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "layout pass: unknown layout %d",
                               (int)target);
    }
    sn__layout L;
    int *order = NULL, count = 0;
    sn_status st = sn__layout_init(&L, g, err);
    if (st != SN_OK) return st;
    if ((st = sn_graph_topo_order(g, &order, &count, err)) != SN_OK) goto done;
    for (int i = 0; i < count && st == SN_OK; i++) st = sn__visit(&L, order[i]);
    if (st == SN_OK && (st = sn_graph_infer_shapes(g, err)) != SN_OK)
        sn_error_prefix(err, "layout pass left an inconsistent graph");
done:
    free(order);
    if (r)
        snprintf(r->detail, sizeof r->detail,
                 "%d nodes to NHWC; %d transposes to NHWC (inputs), %d back to NCHW; %d constants "
                 "permuted, %d Gemm weights reordered",
                 L.nodes, L.in_transposes, L.out_transposes, L.constants, L.gemms);
    sn__report_end(r, g, L.nodes + L.in_transposes + L.out_transposes);
    sn__layout_free(&L);
    return st;
}
