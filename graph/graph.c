/*
 * graph.c - building a graph: the arena, tensors, nodes, inputs/outputs, metadata and lookups.
 * Ordering, validation, shape inference and compaction live in graph_check.c.
 */
#include "graph.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- arena ------------------------------------------------------------------------------- */

struct sn_arena_block {
    sn_arena_block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

#define SN__ARENA_BLOCK (64 * 1024)

void *sn_graph_alloc(sn_graph *g, size_t bytes) {
    if (bytes == 0) bytes = 1;
    if (bytes > SIZE_MAX - 64) return NULL;
    size_t need = (bytes + 15) & ~(size_t)15;
    sn_arena_block *b = g->arena;
    if (!b || b->cap - b->used < need) {
        size_t cap = need > SN__ARENA_BLOCK ? need : SN__ARENA_BLOCK;
        sn_arena_block *nb = malloc(sizeof *nb + cap);
        if (!nb) return NULL;
        nb->used = 0;
        nb->cap = cap;
        /* A big one-off block goes behind the current one so the current keeps filling. */
        if (b && need > SN__ARENA_BLOCK) {
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            g->arena = nb;
        }
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += need;
    memset(p, 0, bytes);
    return p;
}

const char *sn_graph_strdup(sn_graph *g, const char *s) {
    if (!s) s = "";
    size_t n = strlen(s);
    char *p = sn_graph_alloc(g, n + 1);
    if (p) memcpy(p, s, n + 1);
    return p;
}

/* --- create / destroy -------------------------------------------------------------------- */

sn_status sn_graph_create(sn_graph **out) {
    if (!out) return SN_ERR_INVALID_ARGUMENT;
    *out = calloc(1, sizeof(sn_graph));
    return *out ? SN_OK : SN_ERR_OUT_OF_MEMORY;
}

void sn_graph_destroy(sn_graph *g) {
    if (!g) return;
    for (int i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].flags & SN_TENSOR_OWNS_DATA) free((void *)g->tensors[i].data);
    free(g->tensors);
    free(g->nodes);
    free(g->inputs);
    free(g->outputs);
    free(g->name_slots);
    sn_arena_block *b = g->arena;
    while (b) {
        sn_arena_block *n = b->next;
        free(b);
        b = n;
    }
    free(g);
}

static bool sn__grow(void **arr, int *cap, int need, size_t elem) {
    if (need <= *cap) return true;
    if (need > INT_MAX / 2) return false;
    int nc = *cap ? *cap : 16;
    while (nc < need) nc *= 2;
    void *p = realloc(*arr, (size_t)nc * elem);
    if (!p) return false;
    *arr = p;
    *cap = nc;
    return true;
}

/* --- name index -------------------------------------------------------------------------- */

static uint64_t sn__hash(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static bool sn__index_insert(sn_graph *g, int tensor) {
    if ((g->n_tensors + 1) * 2 > g->name_cap) {
        int nc = g->name_cap ? g->name_cap * 2 : 64;
        while (nc < (g->n_tensors + 1) * 2) nc *= 2;
        int *slots = calloc((size_t)nc, sizeof(int));
        if (!slots) return false;
        free(g->name_slots);
        g->name_slots = slots;
        g->name_cap = nc;
        for (int i = 0; i < g->n_tensors; i++) {
            if (i == tensor) continue;
            size_t h = sn__hash(g->tensors[i].name) & (size_t)(nc - 1);
            while (slots[h]) h = (h + 1) & (size_t)(nc - 1);
            slots[h] = i + 1;
        }
    }
    size_t mask = (size_t)g->name_cap - 1, h = sn__hash(g->tensors[tensor].name) & mask;
    while (g->name_slots[h]) h = (h + 1) & mask;
    g->name_slots[h] = tensor + 1;
    return true;
}

/* Rebuild after indices change (compaction). */
bool sn__graph_reindex(sn_graph *g);
bool sn__graph_reindex(sn_graph *g) {
    free(g->name_slots);
    g->name_slots = NULL;
    g->name_cap = 0;
    int n = g->n_tensors;
    for (int i = 0; i < n; i++) {
        g->n_tensors = i; /* insert() sizes the table from n_tensors */
        if (!sn__index_insert(g, i)) {
            g->n_tensors = n;
            return false;
        }
    }
    g->n_tensors = n;
    return true;
}

int sn_graph_find_tensor(const sn_graph *g, const char *name) {
    if (!g || !name || !g->name_cap) return -1;
    size_t mask = (size_t)g->name_cap - 1, h = sn__hash(name) & mask;
    while (g->name_slots[h]) {
        int t = g->name_slots[h] - 1;
        if (strcmp(g->tensors[t].name, name) == 0) return t;
        h = (h + 1) & mask;
    }
    return -1;
}

/* --- tensors ----------------------------------------------------------------------------- */

static sn_status sn__new_tensor(sn_graph *g, const char *name, sn_dtype dtype,
                                const sn_shape *shape, int *out_index) {
    if (!g || !name || !*name) return SN_ERR_INVALID_ARGUMENT;
    if ((int)dtype < 0 || dtype >= SN_DTYPE_COUNT) return SN_ERR_INVALID_ARGUMENT;
    if (shape && (shape->rank < 0 || shape->rank > SN_MAX_RANK)) return SN_ERR_INVALID_ARGUMENT;
    if (sn_graph_find_tensor(g, name) >= 0) return SN_ERR_GRAPH;
    if (!sn__grow((void **)&g->tensors, &g->cap_tensors, g->n_tensors + 1, sizeof(sn_tensor)))
        return SN_ERR_OUT_OF_MEMORY;
    sn_tensor *t = &g->tensors[g->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = sn_graph_strdup(g, name);
    if (!t->name) return SN_ERR_OUT_OF_MEMORY;
    t->dtype = dtype;
    t->layout = SN_LAYOUT_ANY;
    t->producer = -1;
    if (shape)
        t->shape = *shape;
    else
        t->shape.rank = -1;
    if (!sn__index_insert(g, g->n_tensors)) return SN_ERR_OUT_OF_MEMORY;
    if (out_index) *out_index = g->n_tensors;
    g->n_tensors++;
    return SN_OK;
}

sn_status sn_graph_add_tensor(sn_graph *g, const char *name, sn_dtype dtype, const sn_shape *shape,
                              int *out_index) {
    return sn__new_tensor(g, name, dtype, shape, out_index);
}

sn_status sn_graph_add_const(sn_graph *g, const char *name, sn_dtype dtype, const sn_shape *shape,
                             const void *data, size_t nbytes, bool copy, int *out_index) {
    if (!shape || (!data && nbytes)) return SN_ERR_INVALID_ARGUMENT;
    bool overflow = false;
    int64_t numel = sn_shape_numel(shape);
    if (numel < 0 || sn_bytes_for(dtype, numel, &overflow) != nbytes || overflow)
        return SN_ERR_SHAPE;
    const void *bytes = data;
    if (copy) {
        void *p = malloc(nbytes ? nbytes : 1);
        if (!p) return SN_ERR_OUT_OF_MEMORY;
        if (nbytes) memcpy(p, data, nbytes);
        bytes = p;
    }
    int idx;
    sn_status s = sn__new_tensor(g, name, dtype, shape, &idx);
    if (s != SN_OK) {
        if (copy) free((void *)bytes);
        return s;
    }
    sn_tensor *t = &g->tensors[idx];
    t->data = bytes;
    t->nbytes = nbytes;
    t->flags |= SN_TENSOR_CONST | (copy ? SN_TENSOR_OWNS_DATA : 0);
    if (out_index) *out_index = idx;
    return SN_OK;
}

sn_status sn_graph_set_const_data(sn_graph *g, int tensor, sn_dtype dtype, const sn_shape *shape,
                                  const void *data, size_t nbytes) {
    if (!g || tensor < 0 || tensor >= g->n_tensors || !shape || (!data && nbytes))
        return SN_ERR_INVALID_ARGUMENT;
    bool overflow = false;
    int64_t numel = sn_shape_numel(shape);
    if (numel < 0 || sn_bytes_for(dtype, numel, &overflow) != nbytes || overflow)
        return SN_ERR_SHAPE;
    void *p = malloc(nbytes ? nbytes : 1);
    if (!p) return SN_ERR_OUT_OF_MEMORY;
    if (nbytes) memcpy(p, data, nbytes);
    sn_tensor *t = &g->tensors[tensor];
    if (t->flags & SN_TENSOR_OWNS_DATA) free((void *)t->data);
    t->data = p;
    t->nbytes = nbytes;
    t->dtype = dtype;
    t->shape = *shape;
    t->flags |= SN_TENSOR_CONST | SN_TENSOR_OWNS_DATA;
    t->flags &= ~SN_TENSOR_BATCHED;
    t->producer = -1;
    return SN_OK;
}

/* --- nodes ------------------------------------------------------------------------------- */

static sn_status sn__copy_attr(sn_graph *g, sn_attr *dst, const sn_attr *src) {
    if (!src->name || !*src->name) return SN_ERR_INVALID_ARGUMENT;
    *dst = *src;
    dst->name = sn_graph_strdup(g, src->name);
    if (!dst->name) return SN_ERR_OUT_OF_MEMORY;
    switch (src->type) {
    case SN_ATTR_INT:
    case SN_ATTR_FLOAT: dst->n = 1; return SN_OK;
    case SN_ATTR_INTS:
    case SN_ATTR_FLOATS: {
        if (src->n < 0 || src->n > (1 << 24) || (src->n && !src->v.ints)) return SN_ERR_INVALID_ARGUMENT;
        size_t elem = src->type == SN_ATTR_INTS ? sizeof(int64_t) : sizeof(float);
        void *p = sn_graph_alloc(g, (size_t)src->n * elem);
        if (!p) return SN_ERR_OUT_OF_MEMORY;
        if (src->n) memcpy(p, src->v.ints, (size_t)src->n * elem);
        if (src->type == SN_ATTR_INTS)
            dst->v.ints = p;
        else
            dst->v.floats = p;
        return SN_OK;
    }
    case SN_ATTR_STRING: {
        const char *s = sn_graph_strdup(g, src->v.s ? src->v.s : "");
        if (!s) return SN_ERR_OUT_OF_MEMORY;
        dst->v.s = s;
        dst->n = (int)strlen(s);
        return SN_OK;
    }
    }
    return SN_ERR_INVALID_ARGUMENT;
}

sn_status sn_graph_add_node(sn_graph *g, sn_op op, const char *name, const int *inputs,
                            int n_inputs, const int *outputs, int n_outputs, const sn_attr *attrs,
                            int n_attrs, int *out_index) {
    if (!g || !sn_op_get(op) || n_inputs < 0 || n_outputs < 1 || n_attrs < 0 ||
        (n_inputs && !inputs) || !outputs || (n_attrs && !attrs))
        return SN_ERR_INVALID_ARGUMENT;
    for (int i = 0; i < n_inputs; i++)
        if (inputs[i] < -1 || inputs[i] >= g->n_tensors) return SN_ERR_INVALID_ARGUMENT;
    for (int i = 0; i < n_outputs; i++) {
        if (outputs[i] < 0 || outputs[i] >= g->n_tensors) return SN_ERR_INVALID_ARGUMENT;
        const sn_tensor *t = &g->tensors[outputs[i]];
        if (t->producer >= 0 || (t->flags & (SN_TENSOR_CONST | SN_TENSOR_INPUT))) return SN_ERR_GRAPH;
        for (int j = 0; j < i; j++)
            if (outputs[j] == outputs[i]) return SN_ERR_GRAPH;
    }
    if (!sn__grow((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof(sn_node)))
        return SN_ERR_OUT_OF_MEMORY;
    sn_node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->name = sn_graph_strdup(g, name ? name : "");
    n->inputs = sn_graph_alloc(g, sizeof(int) * (size_t)(n_inputs ? n_inputs : 1));
    n->outputs = sn_graph_alloc(g, sizeof(int) * (size_t)n_outputs);
    n->attrs = sn_graph_alloc(g, sizeof(sn_attr) * (size_t)(n_attrs ? n_attrs : 1));
    if (!n->name || !n->inputs || !n->outputs || !n->attrs) return SN_ERR_OUT_OF_MEMORY;
    if (n_inputs) memcpy(n->inputs, inputs, sizeof(int) * (size_t)n_inputs);
    memcpy(n->outputs, outputs, sizeof(int) * (size_t)n_outputs);
    for (int i = 0; i < n_attrs; i++) {
        for (int j = 0; j < i; j++)
            if (attrs[j].name && attrs[i].name && !strcmp(attrs[j].name, attrs[i].name))
                return SN_ERR_INVALID_ARGUMENT;
        sn_status s = sn__copy_attr(g, &n->attrs[i], &attrs[i]);
        if (s != SN_OK) return s;
    }
    n->n_inputs = n_inputs;
    n->n_outputs = n_outputs;
    n->n_attrs = n_attrs;
    for (int i = 0; i < n_outputs; i++) g->tensors[outputs[i]].producer = g->n_nodes;
    if (out_index) *out_index = g->n_nodes;
    g->n_nodes++;
    return SN_OK;
}

sn_status sn_graph_add_input(sn_graph *g, int tensor) {
    if (!g || tensor < 0 || tensor >= g->n_tensors) return SN_ERR_INVALID_ARGUMENT;
    sn_tensor *t = &g->tensors[tensor];
    if (t->producer >= 0 || (t->flags & (SN_TENSOR_CONST | SN_TENSOR_INPUT))) return SN_ERR_GRAPH;
    if (!sn__grow((void **)&g->inputs, &g->cap_inputs, g->n_inputs + 1, sizeof(int)))
        return SN_ERR_OUT_OF_MEMORY;
    g->inputs[g->n_inputs++] = tensor;
    t->flags |= SN_TENSOR_INPUT;
    return SN_OK;
}

sn_status sn_graph_add_output(sn_graph *g, int tensor) {
    if (!g || tensor < 0 || tensor >= g->n_tensors) return SN_ERR_INVALID_ARGUMENT;
    if (g->tensors[tensor].flags & SN_TENSOR_OUTPUT) return SN_ERR_GRAPH;
    if (!sn__grow((void **)&g->outputs, &g->cap_outputs, g->n_outputs + 1, sizeof(int)))
        return SN_ERR_OUT_OF_MEMORY;
    g->outputs[g->n_outputs++] = tensor;
    g->tensors[tensor].flags |= SN_TENSOR_OUTPUT;
    return SN_OK;
}

/* --- metadata ---------------------------------------------------------------------------- */

sn_status sn_graph_set_labels(sn_graph *g, const char *const *labels, int n) {
    if (!g || n < 0 || (n && !labels)) return SN_ERR_INVALID_ARGUMENT;
    const char **arr = sn_graph_alloc(g, sizeof(char *) * (size_t)(n ? n : 1));
    if (!arr) return SN_ERR_OUT_OF_MEMORY;
    for (int i = 0; i < n; i++)
        if (!(arr[i] = sn_graph_strdup(g, labels[i]))) return SN_ERR_OUT_OF_MEMORY;
    g->meta.labels = arr;
    g->meta.n_labels = n;
    return SN_OK;
}

sn_status sn_graph_set_prop(sn_graph *g, const char *key, const char *value) {
    if (!g || !key || !*key || !value) return SN_ERR_INVALID_ARGUMENT;
    for (int i = 0; i < g->meta.n_props; i++)
        if (!strcmp(g->meta.prop_keys[i], key)) {
            const char *v = sn_graph_strdup(g, value);
            if (!v) return SN_ERR_OUT_OF_MEMORY;
            g->meta.prop_values[i] = v;
            return SN_OK;
        }
    int n = g->meta.n_props + 1;
    const char **keys = sn_graph_alloc(g, sizeof(char *) * (size_t)n);
    const char **vals = sn_graph_alloc(g, sizeof(char *) * (size_t)n);
    if (!keys || !vals) return SN_ERR_OUT_OF_MEMORY;
    if (n > 1) {
        memcpy(keys, g->meta.prop_keys, sizeof(char *) * (size_t)(n - 1));
        memcpy(vals, g->meta.prop_values, sizeof(char *) * (size_t)(n - 1));
    }
    keys[n - 1] = sn_graph_strdup(g, key);
    vals[n - 1] = sn_graph_strdup(g, value);
    if (!keys[n - 1] || !vals[n - 1]) return SN_ERR_OUT_OF_MEMORY;
    g->meta.prop_keys = keys;
    g->meta.prop_values = vals;
    g->meta.n_props = n;
    return SN_OK;
}

/* --- attributes -------------------------------------------------------------------------- */

const sn_attr *sn_node_attr(const sn_node *n, const char *name) {
    if (!n || !name) return NULL;
    for (int i = 0; i < n->n_attrs; i++)
        if (!strcmp(n->attrs[i].name, name)) return &n->attrs[i];
    return NULL;
}

int64_t sn_node_attr_int(const sn_node *n, const char *name, int64_t dflt) {
    const sn_attr *a = sn_node_attr(n, name);
    return a && a->type == SN_ATTR_INT ? a->v.i : dflt;
}

float sn_node_attr_float(const sn_node *n, const char *name, float dflt) {
    const sn_attr *a = sn_node_attr(n, name);
    if (a && a->type == SN_ATTR_FLOAT) return a->v.f;
    return dflt;
}

const int64_t *sn_node_attr_ints(const sn_node *n, const char *name, int *count) {
    const sn_attr *a = sn_node_attr(n, name);
    if (a && a->type == SN_ATTR_INTS) {
        if (count) *count = a->n;
        return a->v.ints;
    }
    if (count) *count = 0;
    return NULL;
}

const float *sn_node_attr_floats(const sn_node *n, const char *name, int *count) {
    const sn_attr *a = sn_node_attr(n, name);
    if (a && a->type == SN_ATTR_FLOATS) {
        if (count) *count = a->n;
        return a->v.floats;
    }
    if (count) *count = 0;
    return NULL;
}

/* --- shapes ------------------------------------------------------------------------------ */

int64_t sn_shape_numel(const sn_shape *s) {
    if (!s || s->rank < 0 || s->rank > SN_MAX_RANK) return -1;
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++) {
        if (s->d[i] < 0) return -1;
        if (s->d[i] && n > INT64_MAX / s->d[i]) return -1;
        n *= s->d[i];
    }
    return n;
}

bool sn_shape_equal(const sn_shape *a, const sn_shape *b) {
    if (a->rank != b->rank) return false;
    for (int i = 0; i < a->rank; i++)
        if (a->d[i] != b->d[i]) return false;
    return true;
}

sn_shape sn_shape_make(int rank, const int64_t *dims) {
    sn_shape s;
    memset(&s, 0, sizeof s);
    s.rank = rank < 0 ? 0 : (rank > SN_MAX_RANK ? SN_MAX_RANK : rank);
    for (int i = 0; i < s.rank; i++) s.d[i] = dims[i];
    return s;
}

char *sn_shape_format(const sn_shape *s, bool batched, char *buf, size_t size) {
    if (!buf || !size) return buf;
    size_t used = 0;
    buf[0] = '\0';
    if (s->rank < 0) {
        snprintf(buf, size, "[?]");
        return buf;
    }
    used += (size_t)snprintf(buf + used, size - used, "[");
    for (int i = 0; i < s->rank && used < size; i++) {
        const char *sep = i ? "," : "";
        if (i == 0 && (batched || s->d[0] == SN_DIM_BATCH))
            used += (size_t)snprintf(buf + used, size - used, "N");
        else
            used += (size_t)snprintf(buf + used, size - used, "%s%lld", sep, (long long)s->d[i]);
    }
    if (used < size) snprintf(buf + used, size - used, "]");
    return buf;
}

size_t sn_bytes_for(sn_dtype t, int64_t numel, bool *overflow) {
    size_t es = sn_dtype_size(t);
    /* Byte counts are bounded by INT64_MAX, not SIZE_MAX: .sgraph records them as int64 and
     * every check (shape inference, the reader, the writer) must agree on what fits. */
    if (numel < 0 || !es || (uint64_t)numel > (uint64_t)INT64_MAX / es) {
        if (overflow) *overflow = true;
        return 0;
    }
    return (size_t)numel * es;
}
