/*
 * clone.c - sn_graph_clone: a deep copy of a graph, so a caller can optimise (or otherwise
 * rewrite) a copy and keep the original.
 *
 * Everything in the source's arena is copied into the clone's; constants the source owns are
 * copied; constants it borrows (from a file mapping) stay borrowed, so the clone must not
 * outlive whatever keeps those bytes alive. Dead nodes are copied too: the clone is the same
 * graph, index for index.
 */
#include <stdlib.h>
#include <string.h>

#include "pass.h"

bool sn__graph_reindex(sn_graph *g); /* graph.c */

static bool sn__copy_attr(sn_graph *g, sn_attr *dst, const sn_attr *src) {
    *dst = *src;
    if (!(dst->name = sn_graph_strdup(g, src->name))) return false;
    if (src->type == SN_ATTR_INTS || src->type == SN_ATTR_FLOATS) {
        size_t bytes = (size_t)(src->n > 0 ? src->n : 0) *
                       (src->type == SN_ATTR_INTS ? sizeof(int64_t) : sizeof(float));
        void *p = sn_graph_alloc(g, bytes);
        if (!p) return false;
        if (bytes) memcpy(p, src->v.ints, bytes);
        if (src->type == SN_ATTR_INTS)
            dst->v.ints = p;
        else
            dst->v.floats = p;
    } else if (src->type == SN_ATTR_STRING) {
        char *p = sn_graph_alloc(g, (size_t)src->n + 1);
        if (!p) return false;
        memcpy(p, src->v.s, (size_t)src->n);
        dst->v.s = p;
    }
    return true;
}

static bool sn__copy_node(sn_graph *g, sn_node *dst, const sn_node *src) {
    *dst = *src;
    dst->name = sn_graph_strdup(g, src->name);
    dst->inputs = sn_graph_alloc(g, sizeof(int) * (size_t)(src->n_inputs ? src->n_inputs : 1));
    dst->outputs = sn_graph_alloc(g, sizeof(int) * (size_t)(src->n_outputs ? src->n_outputs : 1));
    dst->attrs = sn_graph_alloc(g, sizeof(sn_attr) * (size_t)(src->n_attrs ? src->n_attrs : 1));
    if (!dst->name || !dst->inputs || !dst->outputs || !dst->attrs) return false;
    memcpy(dst->inputs, src->inputs, sizeof(int) * (size_t)src->n_inputs);
    memcpy(dst->outputs, src->outputs, sizeof(int) * (size_t)src->n_outputs);
    for (int a = 0; a < src->n_attrs; a++)
        if (!sn__copy_attr(g, &dst->attrs[a], &src->attrs[a])) return false;
    return true;
}

static const char **sn__copy_strings(sn_graph *g, const char *const *src, int n) {
    const char **p = sn_graph_alloc(g, sizeof(char *) * (size_t)(n > 0 ? n : 1));
    if (!p) return NULL;
    for (int i = 0; i < n; i++)
        if (!(p[i] = sn_graph_strdup(g, src[i]))) return NULL;
    return p;
}

static void *sn__dup(const void *src, size_t n) {
    void *p = malloc(n ? n : 1);
    if (p && n) memcpy(p, src, n);
    return p;
}

sn_status sn_graph_clone(const sn_graph *src, sn_graph **out) {
    if (!out) return SN_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!src) return SN_ERR_INVALID_ARGUMENT;
    sn_graph *g = NULL;
    sn_status st = sn_graph_create(&g);
    if (st != SN_OK) return st;
    int nt = src->n_tensors, nn = src->n_nodes;
    g->tensors = malloc(sizeof(sn_tensor) * (size_t)(nt ? nt : 1));
    g->nodes = malloc(sizeof(sn_node) * (size_t)(nn ? nn : 1));
    g->inputs = sn__dup(src->inputs, sizeof(int) * (size_t)src->n_inputs);
    g->outputs = sn__dup(src->outputs, sizeof(int) * (size_t)src->n_outputs);
    if (!g->tensors || !g->nodes || !g->inputs || !g->outputs) goto oom;
    g->cap_tensors = nt ? nt : 1;
    g->cap_nodes = nn ? nn : 1;
    g->n_inputs = g->cap_inputs = src->n_inputs;
    g->n_outputs = g->cap_outputs = src->n_outputs;
    for (int t = 0; t < nt; t++) {
        sn_tensor *d = &g->tensors[t];
        *d = src->tensors[t];
        d->flags &= ~SN_TENSOR_OWNS_DATA; /* until the copy below exists */
        g->n_tensors = t + 1;
        if (!(d->name = sn_graph_strdup(g, src->tensors[t].name))) goto oom;
        if (src->tensors[t].flags & SN_TENSOR_OWNS_DATA) {
            if (!(d->data = sn__dup(src->tensors[t].data, src->tensors[t].nbytes))) goto oom;
            d->flags |= SN_TENSOR_OWNS_DATA;
        }
    }
    for (int i = 0; i < nn; i++) {
        g->n_nodes = i + 1;
        if (!sn__copy_node(g, &g->nodes[i], &src->nodes[i])) goto oom;
    }
    const sn_metadata *m = &src->meta;
    g->meta = *m;
    g->meta.labels = sn__copy_strings(g, m->labels, m->n_labels);
    g->meta.prop_keys = sn__copy_strings(g, m->prop_keys, m->n_props);
    g->meta.prop_values = sn__copy_strings(g, m->prop_values, m->n_props);
    if (!g->meta.labels || !g->meta.prop_keys || !g->meta.prop_values) goto oom;
    if (!m->n_labels) g->meta.labels = NULL;
    if (!sn__graph_reindex(g)) goto oom;
    *out = g;
    return SN_OK;
oom:
    sn_graph_destroy(g);
    return SN_ERR_OUT_OF_MEMORY;
}
