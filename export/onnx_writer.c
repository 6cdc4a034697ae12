/*
 * onnx_writer.c - the ONNX exporter's building blocks (onnx_writer.h): an arena for every
 * protobuf-c message, array and string of the model; unique node and tensor names; nodes,
 * attributes and initializers (raw_data, little-endian as ONNX specifies, pointing at the
 * graph's weights rather than copying them).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_util.h"
#include "onnx_writer.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ONNX raw_data is little-endian; this writer passes host bytes through"
#endif

struct sn__ow_block {
    sn__ow_block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

void *sn__ow_alloc(sn__ow *w, size_t bytes) {
    if (w->status != SN_OK) return NULL;
    bytes = (bytes + 15) & ~(size_t)15;
    sn__ow_block *b = w->arena;
    if (!b || b->cap - b->used < bytes) {
        size_t cap = bytes > 65536 ? bytes : 65536;
        b = malloc(sizeof *b + cap);
        if (!b) {
            w->status = sn_errorf(w->err, SN_ERR_OUT_OF_MEMORY, "out of memory writing ONNX");
            return NULL;
        }
        b->cap = cap;
        b->used = 0;
        b->next = w->arena;
        w->arena = b;
    }
    void *p = b->data + b->used;
    b->used += bytes;
    memset(p, 0, bytes);
    return p;
}

char *sn__ow_strdup(sn__ow *w, const char *s) {
    size_t n = strlen(s) + 1;
    char *p = sn__ow_alloc(w, n);
    if (p) memcpy(p, s, n);
    return p;
}

const char *sn__ow_name(sn__ow *w, const char *base, const char *what) {
    char buf[300];
    do snprintf(buf, sizeof buf, "%.200s/%.60s_%u", base, what, w->serial++);
    while (sn_graph_find_tensor(w->g, buf) >= 0);
    return sn__ow_strdup(w, buf);
}

/* Append p to a growing array of pointers. */
static bool sn__ow_push(sn__ow *w, void ***arr, size_t *n, size_t *cap, void *p) {
    if (!p) return false;
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        void **na = realloc(*arr, sizeof *na * nc);
        if (!na) {
            w->status = sn_errorf(w->err, SN_ERR_OUT_OF_MEMORY, "out of memory writing ONNX");
            return false;
        }
        *arr = na;
        *cap = nc;
    }
    (*arr)[(*n)++] = p;
    return true;
}

static uint64_t sn__ow_hash(const char *s) {
    uint64_t h = 1469598103934665603ull;
    while (*s) h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static bool sn__ow_name_used(const sn__ow *w, const char *s) {
    if (!w->cap_node_names) return false;
    for (size_t j = sn__ow_hash(s) & (w->cap_node_names - 1); w->node_names[j];
         j = (j + 1) & (w->cap_node_names - 1))
        if (!strcmp(w->node_names[j], s)) return true;
    return false;
}

/* A node name no earlier node has (empty names stay empty): Sentinel's need not be unique, and
 * one Sentinel node may become several ONNX nodes. */
static char *sn__ow_node_name(sn__ow *w, const char *name) {
    if (!name || !*name) return sn__ow_strdup(w, "");
    if ((w->n_node_names + 1) * 2 > w->cap_node_names) {
        size_t cap = w->cap_node_names ? w->cap_node_names * 2 : 1024;
        const char **slots = calloc(cap, sizeof *slots);
        if (!slots) {
            w->status = sn_errorf(w->err, SN_ERR_OUT_OF_MEMORY, "out of memory writing ONNX");
            return NULL;
        }
        for (size_t i = 0; i < w->cap_node_names; i++) {
            if (!w->node_names[i]) continue;
            size_t j = sn__ow_hash(w->node_names[i]) & (cap - 1);
            while (slots[j]) j = (j + 1) & (cap - 1);
            slots[j] = w->node_names[i];
        }
        free(w->node_names);
        w->node_names = slots;
        w->cap_node_names = cap;
    }
    char buf[300];
    snprintf(buf, sizeof buf, "%.290s", name);
    for (unsigned k = 1; sn__ow_name_used(w, buf); k++)
        snprintf(buf, sizeof buf, "%.280s_%u", name, k);
    char *s = sn__ow_strdup(w, buf);
    if (!s) return NULL;
    size_t j = sn__ow_hash(s) & (w->cap_node_names - 1);
    while (w->node_names[j]) j = (j + 1) & (w->cap_node_names - 1);
    w->node_names[j] = s;
    w->n_node_names++;
    return s;
}

Onnx__NodeProto *sn__ow_node(sn__ow *w, const char *op, const char *name, const char *const *in,
                             int n_in, const char *out) {
    Onnx__NodeProto *n = sn__ow_alloc(w, sizeof *n);
    char **ins = sn__ow_alloc(w, sizeof(char *) * (size_t)(n_in ? n_in : 1));
    char **outs = sn__ow_alloc(w, sizeof(char *));
    if (!n || !ins || !outs) return NULL;
    *n = (Onnx__NodeProto)ONNX__NODE_PROTO__INIT;
    for (int i = 0; i < n_in; i++) ins[i] = sn__ow_strdup(w, in[i] ? in[i] : "");
    outs[0] = sn__ow_strdup(w, out);
    n->n_input = (size_t)n_in;
    n->input = ins;
    n->n_output = 1;
    n->output = outs;
    n->op_type = sn__ow_strdup(w, op);
    n->name = sn__ow_node_name(w, name);
    if (w->status != SN_OK || !sn__ow_push(w, (void ***)&w->nodes, &w->n_nodes, &w->cap_nodes, n))
        return NULL;
    return n;
}

static Onnx__AttributeProto *sn__ow_attr(sn__ow *w, Onnx__NodeProto *n, const char *name,
                                         Onnx__AttributeProto__AttributeType type) {
    if (!n) return NULL;
    Onnx__AttributeProto *a = sn__ow_alloc(w, sizeof *a);
    Onnx__AttributeProto **arr = sn__ow_alloc(w, sizeof *arr * (n->n_attribute + 1));
    if (!a || !arr) return NULL;
    *a = (Onnx__AttributeProto)ONNX__ATTRIBUTE_PROTO__INIT;
    a->name = sn__ow_strdup(w, name);
    a->has_type = 1;
    a->type = type;
    if (n->n_attribute) memcpy(arr, n->attribute, sizeof *arr * n->n_attribute);
    arr[n->n_attribute++] = a;
    n->attribute = arr;
    return a;
}

void sn__ow_attr_int(sn__ow *w, Onnx__NodeProto *n, const char *name, int64_t v) {
    Onnx__AttributeProto *a = sn__ow_attr(w, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    if (a) a->has_i = 1, a->i = v;
}

void sn__ow_attr_float(sn__ow *w, Onnx__NodeProto *n, const char *name, float v) {
    Onnx__AttributeProto *a = sn__ow_attr(w, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    if (a) a->has_f = 1, a->f = v;
}

void sn__ow_attr_ints(sn__ow *w, Onnx__NodeProto *n, const char *name, const int64_t *v,
                      int count) {
    Onnx__AttributeProto *a = sn__ow_attr(w, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    int64_t *p = a ? sn__ow_alloc(w, sizeof *p * (size_t)(count ? count : 1)) : NULL;
    if (!p) return;
    if (count) memcpy(p, v, sizeof *p * (size_t)count);
    a->n_ints = (size_t)count;
    a->ints = p;
}

void sn__ow_attr_string(sn__ow *w, Onnx__NodeProto *n, const char *name, const char *v) {
    Onnx__AttributeProto *a =
        sn__ow_attr(w, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    char *s = a ? sn__ow_strdup(w, v) : NULL;
    if (!s) return;
    a->has_s = 1;
    a->s.len = strlen(s);
    a->s.data = (uint8_t *)s;
}

/* ONNX TensorProto.DataType of a Sentinel dtype. */
int32_t sn__ow_dtype(sn_dtype t) {
    switch (t) {
    case SN_DTYPE_F32: return ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    case SN_DTYPE_F16: return ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16;
    case SN_DTYPE_BF16: return ONNX__TENSOR_PROTO__DATA_TYPE__BFLOAT16;
    case SN_DTYPE_I8: return ONNX__TENSOR_PROTO__DATA_TYPE__INT8;
    case SN_DTYPE_U8: return ONNX__TENSOR_PROTO__DATA_TYPE__UINT8;
    case SN_DTYPE_I32: return ONNX__TENSOR_PROTO__DATA_TYPE__INT32;
    case SN_DTYPE_I64: return ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    default: return ONNX__TENSOR_PROTO__DATA_TYPE__UNDEFINED;
    }
}

/* An initializer over `bytes` (not copied: they must outlive the serialisation). */
static const char *sn__ow_init(sn__ow *w, const char *name, int32_t type, const int64_t *dims,
                               int rank, const void *bytes, size_t nbytes) {
    Onnx__TensorProto *t = sn__ow_alloc(w, sizeof *t);
    int64_t *d = sn__ow_alloc(w, sizeof *d * (size_t)(rank ? rank : 1));
    if (!t || !d) return NULL;
    *t = (Onnx__TensorProto)ONNX__TENSOR_PROTO__INIT;
    if (rank) memcpy(d, dims, sizeof *d * (size_t)rank);
    t->n_dims = (size_t)rank;
    t->dims = d;
    t->has_data_type = 1;
    t->data_type = type;
    t->name = sn__ow_strdup(w, name);
    t->has_raw_data = 1;
    t->raw_data.len = nbytes;
    t->raw_data.data = (uint8_t *)bytes;
    if (!sn__ow_push(w, (void ***)&w->inits, &w->n_inits, &w->cap_inits, t)) return NULL;
    return t->name;
}

const char *sn__ow_const(sn__ow *w, int t) {
    const sn_tensor *x = &w->g->tensors[t];
    if (w->const_done[t]) return x->name;
    int32_t type = sn__ow_dtype(x->dtype);
    if (type == ONNX__TENSOR_PROTO__DATA_TYPE__UNDEFINED) {
        w->status = sn_errorf(w->err, SN_ERR_UNSUPPORTED,
                              "constant '%s' has dtype %s, which the "
                              "ONNX exporter does not write",
                              x->name, sn_dtype_name(x->dtype));
        return NULL;
    }
    if (!sn__ow_init(w, x->name, type, x->shape.d, x->shape.rank, x->data, x->nbytes)) return NULL;
    w->const_done[t] = true;
    return x->name;
}

const char *sn__ow_init_f32(sn__ow *w, const char *name, const int64_t *dims, int rank,
                            const float *data) {
    int64_t n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    float *copy = sn__ow_alloc(w, sizeof(float) * (size_t)(n ? n : 1));
    if (!copy) return NULL;
    memcpy(copy, data, sizeof(float) * (size_t)n);
    return sn__ow_init(w, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, dims, rank, copy,
                       sizeof(float) * (size_t)n);
}

const char *sn__ow_init_i64(sn__ow *w, const char *name, const int64_t *dims, int rank,
                            const int64_t *data) {
    int64_t n = 1;
    for (int i = 0; i < rank; i++) n *= dims[i];
    int64_t *copy = sn__ow_alloc(w, sizeof(int64_t) * (size_t)(n ? n : 1));
    if (!copy) return NULL;
    memcpy(copy, data, sizeof(int64_t) * (size_t)n);
    return sn__ow_init(w, name, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, dims, rank, copy,
                       sizeof(int64_t) * (size_t)n);
}

sn_status sn__ow_refuse(sn__ow *w, int ni, const char *fmt, ...) {
    if (w->status != SN_OK) return w->status; /* the first failure is the one reported */
    va_list ap;
    va_start(ap, fmt);
    w->status = sn__export_refusev(w->g, ni, w->err, fmt, ap);
    va_end(ap);
    return w->status;
}

void sn__ow_free(sn__ow *w) {
    free(w->const_done);
    free(w->nodes);
    free(w->inits);
    free(w->node_names);
    while (w->arena) {
        sn__ow_block *next = w->arena->next;
        free(w->arena);
        w->arena = next;
    }
}
