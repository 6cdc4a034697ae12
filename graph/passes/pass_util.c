/*
 * pass_util.c - helpers shared by the optimisation passes (see pass_util.h).
 */
#include "pass_util.h"

#include <math.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sn_status sn__pass_oom(sn_error *err, const char *pass) {
    return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "optimisation pass %s: out of memory", pass);
}

sn_status sn__uses_build(const sn_graph *g, sn__uses *u, sn_error *err) {
    u->n = g->n_tensors;
    u->count = calloc((size_t)u->n + 1, sizeof(int));
    u->user = malloc(((size_t)u->n + 1) * sizeof(int));
    if (!u->count || !u->user) {
        sn__uses_free(u);
        return sn__pass_oom(err, "uses");
    }
    for (int t = 0; t < u->n; t++) u->user[t] = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const sn_node *n = &g->nodes[i];
        if (n->dead) continue;
        for (int k = 0; k < n->n_inputs; k++) {
            int t = n->inputs[k];
            if (t < 0 || t >= u->n) continue;
            u->count[t]++;
            u->user[t] = i;
        }
    }
    return SN_OK;
}

void sn__uses_free(sn__uses *u) {
    free(u->count);
    free(u->user);
    u->count = u->user = NULL;
    u->n = 0;
}

int sn__sole_user(const sn_graph *g, const sn__uses *u, int t) {
    if (t < 0 || t >= u->n || u->count[t] != 1) return -1;
    if (g->tensors[t].flags & SN_TENSOR_OUTPUT) return -1;
    return u->user[t];
}

int sn__live_nodes(const sn_graph *g) {
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) n += !g->nodes[i].dead;
    return n;
}

const float *sn__const_f32(const sn_graph *g, int t, int64_t numel) {
    if (t < 0 || t >= g->n_tensors) return NULL;
    const sn_tensor *x = &g->tensors[t];
    if (!(x->flags & SN_TENSOR_CONST) || x->dtype != SN_DTYPE_F32 || !x->data) return NULL;
    int64_t have = sn_shape_numel(&x->shape);
    if (have < 0 || (numel >= 0 && have != numel)) return NULL;
    if (x->nbytes != (size_t)have * sizeof(float)) return NULL;
    return x->data;
}

float *sn__alloc_f32(int64_t n) {
    size_t bytes = (size_t)(n > 0 ? n : 1) * sizeof(float);
    const size_t huge = (size_t)2 << 20;
    if (bytes < 2 * huge) return malloc(bytes);
    /* Big weights: 2 MiB-aligned and marked for transparent huge pages, so writing them costs
     * a few page faults instead of one per 4 KiB (most of the time of folding BatchNorms into
     * ResNet-50 when its weights are borrowed from a file). free() releases it. */
    size_t rounded = (bytes + huge - 1) & ~(huge - 1);
    void *p = aligned_alloc(huge, rounded);
#ifdef MADV_HUGEPAGE
    if (p) (void)madvise(p, rounded, MADV_HUGEPAGE);
#endif
    return p;
}

float *sn__writable_f32(const sn_graph *g, const sn__uses *u, int t) {
    if (t < 0 || t >= u->n || u->count[t] != 1) return NULL;
    const sn_tensor *x = &g->tensors[t];
    if (!(x->flags & SN_TENSOR_OWNS_DATA) || (x->flags & SN_TENSOR_OUTPUT)) return NULL;
    return (float *)sn__const_f32(g, t, -1); /* owned: malloc'ed by the graph, so writable */
}

sn_status sn__add_const_f32(sn_graph *g, const char *base, const sn_shape *shape, float **datap,
                            int *out_index, sn_error *err) {
    float *data = *datap;
    *datap = NULL;
    char name[256];
    snprintf(name, sizeof name, "%s", base);
    for (int k = 1; sn_graph_find_tensor(g, name) >= 0; k++)
        snprintf(name, sizeof name, "%.200s_%d", base, k);
    int64_t numel = sn_shape_numel(shape);
    /* Borrowed, then owned: the graph frees OWNS_DATA tensors with free(), and this saves
     * copying weights the caller has just computed. */
    sn_status s = numel < 0 ? SN_ERR_SHAPE
                            : sn_graph_add_const(g, name, SN_DTYPE_F32, shape, data,
                                                 (size_t)numel * sizeof(float), false, out_index);
    if (s != SN_OK) {
        free(data);
        return sn_errorf(err, s, "adding constant '%s': %s", name, sn_status_string(s));
    }
    g->tensors[*out_index].flags |= SN_TENSOR_OWNS_DATA;
    return SN_OK;
}

sn_status sn__node_set_inputs(sn_graph *g, int ni, const int *inputs, int n, sn_error *err) {
    int *p = sn_graph_alloc(g, sizeof(int) * (size_t)(n ? n : 1));
    if (!p) return sn__pass_oom(err, "edit");
    memcpy(p, inputs, sizeof(int) * (size_t)n);
    g->nodes[ni].inputs = p;
    g->nodes[ni].n_inputs = n;
    return SN_OK;
}

/* The slot for attribute `name` of node ni, appending a fresh one when absent. */
static sn_attr *sn__attr_slot(sn_graph *g, int ni, const char *name) {
    sn_node *n = &g->nodes[ni];
    for (int i = 0; i < n->n_attrs; i++)
        if (!strcmp(n->attrs[i].name, name)) return &n->attrs[i];
    sn_attr *a = sn_graph_alloc(g, sizeof(sn_attr) * (size_t)(n->n_attrs + 1));
    const char *nm = sn_graph_strdup(g, name);
    if (!a || !nm) return NULL;
    if (n->n_attrs) memcpy(a, n->attrs, sizeof(sn_attr) * (size_t)n->n_attrs);
    a[n->n_attrs].name = nm;
    n->attrs = a;
    return &a[n->n_attrs++];
}

sn_status sn__node_set_int(sn_graph *g, int ni, const char *name, int64_t v, sn_error *err) {
    sn_attr *a = sn__attr_slot(g, ni, name);
    if (!a) return sn__pass_oom(err, "edit");
    a->type = SN_ATTR_INT;
    a->n = 1;
    a->v.i = v;
    return SN_OK;
}

sn_status sn__node_set_float(sn_graph *g, int ni, const char *name, float v, sn_error *err) {
    sn_attr *a = sn__attr_slot(g, ni, name);
    if (!a) return sn__pass_oom(err, "edit");
    a->type = SN_ATTR_FLOAT;
    a->n = 1;
    a->v.f = v;
    return SN_OK;
}

void sn__node_del_attr(sn_graph *g, int ni, const char *name) {
    sn_node *n = &g->nodes[ni];
    for (int i = 0; i < n->n_attrs; i++)
        if (!strcmp(n->attrs[i].name, name)) {
            memmove(&n->attrs[i], &n->attrs[i + 1], sizeof(sn_attr) * (size_t)(n->n_attrs - i - 1));
            n->n_attrs--;
            return;
        }
}

bool sn__node_activation(const sn_node *n, sn_activation *act, float *alpha, float *beta) {
    *alpha = 0.0f;
    *beta = 0.0f;
    switch (n->op) {
    case SN_OP_RELU: *act = SN_ACT_RELU; return true;
    case SN_OP_CLIP:
        *act = SN_ACT_CLIP;
        *alpha = sn_node_attr_float(n, "min", -INFINITY);
        *beta = sn_node_attr_float(n, "max", INFINITY);
        return true;
    case SN_OP_LEAKY_RELU:
        *act = SN_ACT_LEAKY_RELU;
        *alpha = sn_node_attr_float(n, "alpha", 0.01f);
        return true;
    case SN_OP_SIGMOID: *act = SN_ACT_SIGMOID; return true;
    case SN_OP_TANH: *act = SN_ACT_TANH; return true;
    case SN_OP_HARD_SIGMOID:
        *act = SN_ACT_HARD_SIGMOID;
        *alpha = sn_node_attr_float(n, "alpha", 0.2f);
        *beta = sn_node_attr_float(n, "beta", 0.5f);
        return true;
    case SN_OP_HARD_SWISH: *act = SN_ACT_HARD_SWISH; return true;
    case SN_OP_SILU: *act = SN_ACT_SILU; return true;
    default: return false;
    }
}

sn_activation sn__fused_activation(const sn_node *n) {
    return (sn_activation)sn_node_attr_int(n, "activation", SN_ACT_NONE);
}

sn_shape sn__shape1(const sn_graph *g, int t) {
    sn_shape s = g->tensors[t].shape;
    if (s.rank > 0 && s.d[0] == SN_DIM_BATCH) s.d[0] = 1; /* a graph input's dynamic batch */
    return s;
}

bool sn__batched(const sn_graph *g, int t) {
    const sn_tensor *x = &g->tensors[t];
    return (x->flags & SN_TENSOR_BATCHED) || (x->shape.rank > 0 && x->shape.d[0] == SN_DIM_BATCH);
}

bool sn__same_shape(const sn_graph *g, int a, int b) {
    sn_shape x = sn__shape1(g, a), y = sn__shape1(g, b);
    if (x.rank < 0 || !sn_shape_equal(&x, &y)) return false;
    return sn__batched(g, a) == sn__batched(g, b);
}

void sn__report_begin(sn_pass_report *r, const char *pass, const sn_graph *g) {
    if (!r) return;
    memset(r, 0, sizeof *r);
    r->pass = pass;
    r->nodes_before = sn__live_nodes(g);
}

void sn__report_end(sn_pass_report *r, const sn_graph *g, int changes) {
    if (!r) return;
    r->nodes_after = sn__live_nodes(g);
    r->changes = changes;
}

void sn__absorb(sn_graph *g, int pi, int ui) {
    int old = g->nodes[pi].outputs[0], y = g->nodes[ui].outputs[0];
    g->nodes[ui].dead = true;
    g->nodes[pi].outputs[0] = y;
    g->tensors[y].producer = pi;
    g->tensors[old].producer = -1;
}
