/*
 * onnx_values.c - the importer's table of ONNX values (name -> Sentinel tensor and/or host
 * constant), host constants, and adding Sentinel nodes while tracking every tensor's shape at
 * batch 1 and batch 2 - which is how the importer knows, before the graph is complete, what a
 * Shape node returns and which dims follow the batch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

static uint64_t sn__hash(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

sn_status sn__ox_ctx_init(sn__ox_ctx *c, sn_graph *g, sn_onnx_report *rep, sn_error *err) {
    memset(c, 0, sizeof *c);
    c->g = g;
    c->err = err;
    c->rep = rep;
    c->node_index = -1;
    c->cap_slots = 256;
    c->slots = calloc((size_t)c->cap_slots, sizeof(int));
    if (!c->slots) return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "ONNX import: out of memory");
    return SN_OK;
}

static void sn__const_free(sn__ox_const *k) {
    if (!k) return;
    free(k->f);
    free(k->i);
    free(k->sym);
    free(k);
}

void sn__ox_ctx_free(sn__ox_ctx *c) {
    for (int i = 0; i < c->n_vals; i++) free(c->vals[i].name);
    for (int i = 0; i < c->n_consts; i++) sn__const_free(c->consts[i]);
    free(c->vals);
    free(c->slots);
    free(c->consts);
    free(c->s1);
    free(c->s2);
    memset(c, 0, sizeof *c);
}

sn__ox_value *sn__ox_find(sn__ox_ctx *c, const char *name) {
    if (!name || !*name) return NULL;
    size_t mask = (size_t)c->cap_slots - 1;
    for (size_t h = sn__hash(name) & mask;; h = (h + 1) & mask) {
        int s = c->slots[h];
        if (!s) return NULL;
        if (!strcmp(c->vals[s - 1].name, name)) return &c->vals[s - 1];
    }
}

static bool sn__rehash(sn__ox_ctx *c) {
    int cap = c->cap_slots * 2;
    int *slots = calloc((size_t)cap, sizeof(int));
    if (!slots) return false;
    for (int i = 0; i < c->n_vals; i++) {
        size_t h = sn__hash(c->vals[i].name) & ((size_t)cap - 1);
        while (slots[h]) h = (h + 1) & ((size_t)cap - 1);
        slots[h] = i + 1;
    }
    free(c->slots);
    c->slots = slots;
    c->cap_slots = cap;
    return true;
}

sn_status sn__ox_define(sn__ox_ctx *c, const char *name, sn__ox_value **out) {
    if (!name || !*name)
        return sn_errorf(c->err, SN_ERR_FORMAT, "ONNX import: a value has an empty name");
    if (sn__ox_find(c, name))
        return sn_errorf(c->err, SN_ERR_FORMAT,
                         "ONNX import: value '%s' is defined twice (a graph input, initializer or "
                         "node output may have only one definition)",
                         name);
    if (2 * (c->n_vals + 1) > c->cap_slots && !sn__rehash(c)) goto oom;
    if (c->n_vals == c->cap_vals) {
        int cap = c->cap_vals ? 2 * c->cap_vals : 64;
        sn__ox_value *v = realloc(c->vals, sizeof *v * (size_t)cap);
        if (!v) goto oom;
        c->vals = v;
        c->cap_vals = cap;
    }
    sn__ox_value *v = &c->vals[c->n_vals];
    memset(v, 0, sizeof *v);
    v->tensor = -1;
    if (!(v->name = strdup(name))) goto oom;
    size_t mask = (size_t)c->cap_slots - 1, h = sn__hash(name) & mask;
    while (c->slots[h]) h = (h + 1) & mask;
    c->slots[h] = ++c->n_vals;
    *out = v;
    return SN_OK;
oom:
    return sn_errorf(c->err, SN_ERR_OUT_OF_MEMORY, "ONNX import: out of memory");
}

sn__ox_const *sn__ox_const_new(sn__ox_ctx *c, int kind, int32_t onnx_type, int rank,
                               const int64_t *d) {
    int64_t numel = 1;
    if (rank < 0 || rank > SN_MAX_RANK) {
        sn_errorf(c->err, SN_ERR_UNSUPPORTED, "ONNX import: a tensor of rank %d (Sentinel: %d at most)",
                  rank, SN_MAX_RANK);
        return NULL;
    }
    for (int i = 0; i < rank; i++)
        if (d[i] < 0 || __builtin_mul_overflow(numel, d[i], &numel) || numel > ((int64_t)1 << 40)) {
            sn_errorf(c->err, SN_ERR_FORMAT, "ONNX import: a tensor with invalid dims");
            return NULL;
        }
    /* Data from the file is as large as the file says; what a node computes at import time may
     * be as large as its constant inputs together, or SN__OX_MAX_FOLD_ELEMS - so a tiny model
     * cannot make the importer allocate gigabytes. */
    if (c->node) {
        int64_t limit = SN__OX_MAX_FOLD_ELEMS;
        for (size_t k = 0; k < c->node->n_input; k++) {
            sn__ox_value *v = sn__ox_find(c, c->node->input[k]);
            if (v && v->c && v->c->numel > limit) limit = v->c->numel;
        }
        if (numel > limit) {
            sn__ox_unsupported(c, "evaluating it at import time would create %lld elements",
                               (long long)numel);
            return NULL;
        }
    }
    if (c->n_consts == c->cap_consts) {
        int cap = c->cap_consts ? 2 * c->cap_consts : 64;
        sn__ox_const **p = realloc(c->consts, sizeof *p * (size_t)cap);
        if (!p) goto oom;
        c->consts = p;
        c->cap_consts = cap;
    }
    sn__ox_const *k = calloc(1, sizeof *k);
    if (!k) goto oom;
    k->kind = kind;
    k->onnx_type = onnx_type;
    k->rank = rank;
    for (int i = 0; i < rank; i++) k->d[i] = d[i];
    k->numel = numel;
    size_t n = numel ? (size_t)numel : 1;
    if (kind == SN__OX_FLOAT ? !(k->f = calloc(n, sizeof(float)))
                             : !(k->i = calloc(n, sizeof(int64_t)))) {
        sn__const_free(k);
        goto oom;
    }
    c->consts[c->n_consts++] = k;
    return k;
oom:
    sn_errorf(c->err, SN_ERR_OUT_OF_MEMORY, "ONNX import: out of memory for a %lld-element tensor",
              (long long)numel);
    return NULL;
}

bool sn__ox_const_has_sym(const sn__ox_const *k) {
    if (!k->sym) return false;
    for (int64_t i = 0; i < k->numel; i++)
        if (k->sym[i] != SN__OX_KNOWN) return true;
    return false;
}

bool sn__ox_const_sym(sn__ox_ctx *c, sn__ox_const *k) {
    if (k->sym) return true;
    if (!(k->sym = calloc(k->numel ? (size_t)k->numel : 1, 1))) {
        sn_errorf(c->err, SN_ERR_OUT_OF_MEMORY, "ONNX import: out of memory");
        return false;
    }
    return true;
}

sn__ox_const *sn__ox_const_reshaped(sn__ox_ctx *c, const sn__ox_const *src, int rank,
                                    const int64_t *d) {
    sn__ox_const *k = sn__ox_const_new(c, src->kind, src->onnx_type, rank, d);
    if (!k) return NULL;
    if (k->numel != src->numel) {
        sn_errorf(c->err, SN_ERR_INTERNAL, "ONNX import: reshaping a constant changed its size");
        return NULL;
    }
    size_t n = (size_t)k->numel;
    if (n) {
        if (k->kind == SN__OX_FLOAT)
            memcpy(k->f, src->f, n * sizeof(float));
        else
            memcpy(k->i, src->i, n * sizeof(int64_t));
    }
    if (src->sym) {
        if (!sn__ox_const_sym(c, k)) return NULL;
        if (n) memcpy(k->sym, src->sym, n);
    }
    return k;
}

const char *sn__ox_fresh_name(sn__ox_ctx *c, const char *base, const char *suffix) {
    char buf[512];
    if (!suffix) {
        if (base && *base && sn_graph_find_tensor(c->g, base) < 0) return sn_graph_strdup(c->g, base);
        suffix = "t";
    }
    for (;;) {
        snprintf(buf, sizeof buf, "%.400s::%s%d", base && *base ? base : "onnx", suffix, c->uniq++);
        if (sn_graph_find_tensor(c->g, buf) < 0) return sn_graph_strdup(c->g, buf);
    }
}

sn_status sn__ox_track(sn__ox_ctx *c, int t, const sn_shape *s1, const sn_shape *s2) {
    if (t >= c->cap_shapes) {
        int cap = c->cap_shapes ? c->cap_shapes : 256;
        while (cap <= t) cap *= 2;
        sn_shape *a = realloc(c->s1, sizeof *a * (size_t)cap);
        if (!a) goto oom;
        c->s1 = a;
        sn_shape *b = realloc(c->s2, sizeof *b * (size_t)cap);
        if (!b) goto oom;
        c->s2 = b;
        c->cap_shapes = cap;
    }
    c->s1[t] = *s1;
    c->s2[t] = *s2;
    return SN_OK;
oom:
    return sn_errorf(c->err, SN_ERR_OUT_OF_MEMORY, "ONNX import: out of memory");
}

const sn_shape *sn__ox_shape(const sn__ox_ctx *c, int t) { return &c->s1[t]; }

bool sn__ox_batched(const sn__ox_ctx *c, int t) {
    return c->s1[t].rank > 0 && c->s1[t].d[0] != c->s2[t].d[0];
}

void sn__ox_value_dims(const sn__ox_ctx *c, const sn__ox_value *v, int *rank, int64_t *d,
                       uint8_t *sym) {
    if (v->c) {
        *rank = v->c->rank;
        for (int i = 0; i < v->c->rank; i++) {
            d[i] = v->c->d[i];
            sym[i] = SN__OX_KNOWN;
        }
        return;
    }
    const sn_shape *a = &c->s1[v->tensor], *b = &c->s2[v->tensor];
    *rank = a->rank;
    for (int i = 0; i < a->rank; i++) {
        d[i] = a->d[i];
        sym[i] = a->d[i] == b->d[i] ? SN__OX_KNOWN
                 : (i == 0 && a->d[0] == 1 && b->d[0] == 2) ? SN__OX_BATCH
                                                             : SN__OX_UNKNOWN;
    }
}

sn_status sn__ox_tensor_of(sn__ox_ctx *c, sn__ox_value *v, int *tensor) {
    if (v->tensor >= 0) {
        *tensor = v->tensor;
        return SN_OK;
    }
    sn__ox_const *k = v->c;
    if (!k) return sn_errorf(c->err, SN_ERR_INTERNAL, "ONNX import: value '%s' has no data", v->name);
    if (sn__ox_const_has_sym(k))
        return sn__ox_unsupported(c, "input '%s' is computed from the batch size, which Sentinel "
                                     "only knows at run time", v->name);
    if (k->numel == 0)
        return sn__ox_unsupported(c, "input '%s' is an empty tensor", v->name);
    sn_shape s = sn_shape_make(k->rank, k->d);
    const void *data = k->kind == SN__OX_FLOAT ? (const void *)k->f : (const void *)k->i;
    sn_dtype dt = k->kind == SN__OX_FLOAT ? SN_DTYPE_F32 : SN_DTYPE_I64;
    size_t nbytes = (size_t)k->numel * sn_dtype_size(dt);
    int t;
    sn_status st = sn_graph_add_const(c->g, sn__ox_fresh_name(c, v->name, NULL), dt, &s, data,
                                      nbytes, true, &t);
    if (st != SN_OK)
        return sn_errorf(c->err, st, "ONNX import: cannot add constant '%s' (%s)", v->name,
                         sn_status_string(st));
    if ((st = sn__ox_track(c, t, &s, &s)) != SN_OK) return st;
    v->tensor = t;
    *tensor = t;
    return SN_OK;
}

static void sn__value_of(const sn__ox_ctx *c, int t, const sn_shape *s, sn_value *v) {
    const sn_tensor *tt = &c->g->tensors[t];
    v->present = true;
    v->dtype = tt->dtype;
    v->rank = s->rank;
    memcpy(v->d, s->d, sizeof v->d);
    v->data = (tt->flags & SN_TENSOR_CONST) ? (void *)tt->data : NULL;
}

sn_status sn__ox_emit(sn__ox_ctx *c, sn_op op, const int *inputs, int n_inputs,
                      const sn_attr *attrs, int n_attrs, const char *out_name, int *out_tensor) {
    const sn_op_def *def = sn_op_get(op);
    const char *oname = c->node && c->node->name && *c->node->name ? c->node->name : "";
    char nbuf[128];
    if (!*oname && c->node) {
        snprintf(nbuf, sizeof nbuf, "%.64s_%d", c->node->op_type ? c->node->op_type : "node",
                 c->node_index);
        oname = nbuf;
    }
    if (!def || n_inputs < 0)
        return sn_errorf(c->err, SN_ERR_INTERNAL, "ONNX import: bad Sentinel node for '%s'", oname);
    int t, ni;
    const char *tname = sn__ox_fresh_name(c, out_name, NULL);
    sn_status st = tname ? sn_graph_add_tensor(c->g, tname, SN_DTYPE_F32, NULL, &t) : SN_ERR_OUT_OF_MEMORY;
    if (st == SN_OK)
        st = sn_graph_add_node(c->g, op, oname, inputs, n_inputs, &t, 1, attrs, n_attrs, &ni);
    if (st != SN_OK)
        return sn_errorf(c->err, st, "ONNX import: cannot add a %s node for '%s' (%s)", def->name,
                         oname, sn_status_string(st));
    sn_value *in = calloc((size_t)n_inputs + 1, sizeof *in), out[2];
    if (!in) return sn_errorf(c->err, SN_ERR_OUT_OF_MEMORY, "ONNX import: out of memory");
    sn_shape s[2];
    for (int b = 0; b < 2 && st == SN_OK; b++) {
        memset(in, 0, sizeof *in * ((size_t)n_inputs + 1));
        memset(out, 0, sizeof out);
        for (int k = 0; k < n_inputs; k++)
            if (inputs[k] >= 0) sn__value_of(c, inputs[k], b ? &c->s2[inputs[k]] : &c->s1[inputs[k]], &in[k]);
        out[0].present = true;
        st = def->infer(&c->g->nodes[ni], in, out, c->err);
        if (st != SN_OK) {
            sn_error_prefix(c->err, "ONNX node '%s' (%s)", oname,
                            c->node && c->node->op_type ? c->node->op_type : "?");
            break;
        }
        s[b].rank = out[0].rank;
        memcpy(s[b].d, out[0].d, sizeof s[b].d);
        if (sn_shape_numel(&s[b]) < 0)
            st = sn__ox_fail(c, SN_ERR_SHAPE, "the %s gives an invalid or overflowing shape",
                             def->name);
    }
    free(in);
    if (st != SN_OK) return st;
    c->g->tensors[t].dtype = out[0].dtype;
    if ((st = sn__ox_track(c, t, &s[0], &s[1])) != SN_OK) return st;
    *out_tensor = t;
    return SN_OK;
}
