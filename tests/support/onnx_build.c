/*
 * onnx_build.c - a small ONNX model builder on the protobuf-c structs (see onnx_build.h). Every
 * allocation is recorded and freed with the builder; repeated fields grow by reallocating into
 * the builder's list.
 */
#include "onnx_build.h"

#include "test_support.h"

#include <stdlib.h>
#include <string.h>

struct sn_ob {
    void **allocs;
    size_t n_allocs, cap_allocs;
    Onnx__ModelProto model;
    Onnx__GraphProto graph;
};

static void *sn__must(void *p) {
    if (!p) abort();
    return p;
}

void *sn_ob_alloc(sn_ob *b, size_t bytes) {
    if (b->n_allocs == b->cap_allocs) {
        b->cap_allocs = b->cap_allocs ? 2 * b->cap_allocs : 64;
        b->allocs = sn__must(realloc(b->allocs, b->cap_allocs * sizeof *b->allocs));
    }
    return b->allocs[b->n_allocs++] = sn__must(calloc(1, bytes ? bytes : 1));
}

char *sn_ob_strdup(sn_ob *b, const char *s) {
    char *p = sn_ob_alloc(b, strlen(s) + 1);
    memcpy(p, s, strlen(s) + 1);
    return p;
}

/* Append one pointer to a repeated field (the array is reallocated in the builder). */
static void sn__push(sn_ob *b, void ***arr, size_t *n, void *item) {
    void **grown = sn_ob_alloc(b, sizeof(void *) * (*n + 1));
    if (*n) memcpy(grown, *arr, sizeof(void *) * *n);
    grown[(*n)++] = item;
    *arr = grown;
}

sn_ob *sn_ob_new(int64_t opset) {
    sn_ob *b = sn__must(calloc(1, sizeof *b));
    onnx__model_proto__init(&b->model);
    onnx__graph_proto__init(&b->graph);
    b->model.has_ir_version = 1;
    b->model.ir_version = 8;
    b->model.producer_name = sn_ob_strdup(b, "sentinel-tests");
    b->model.graph = &b->graph;
    b->graph.name = sn_ob_strdup(b, "g");
    sn_ob_opset(b, "", opset);
    return b;
}

void sn_ob_free(sn_ob *b) {
    if (!b) return;
    for (size_t i = 0; i < b->n_allocs; i++) free(b->allocs[i]);
    free(b->allocs);
    free(b);
}

Onnx__ModelProto *sn_ob_model(sn_ob *b) { return &b->model; }

void sn_ob_opset(sn_ob *b, const char *domain, int64_t version) {
    Onnx__OperatorSetIdProto *o = sn_ob_alloc(b, sizeof *o);
    onnx__operator_set_id_proto__init(o);
    o->domain = sn_ob_strdup(b, domain);
    o->has_version = 1;
    o->version = version;
    sn__push(b, (void ***)&b->model.opset_import, &b->model.n_opset_import, o);
}

static Onnx__ValueInfoProto *sn__value_info(sn_ob *b, const char *name, int rank,
                                            const int64_t *dims) {
    Onnx__ValueInfoProto *vi = sn_ob_alloc(b, sizeof *vi);
    Onnx__TypeProto *tp = sn_ob_alloc(b, sizeof *tp);
    Onnx__TypeProto__Tensor *tt = sn_ob_alloc(b, sizeof *tt);
    onnx__value_info_proto__init(vi);
    onnx__type_proto__init(tp);
    onnx__type_proto__tensor__init(tt);
    vi->name = sn_ob_strdup(b, name);
    vi->type = tp;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    tt->has_elem_type = 1;
    tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    if (rank >= 0) {
        Onnx__TensorShapeProto *sp = sn_ob_alloc(b, sizeof *sp);
        onnx__tensor_shape_proto__init(sp);
        tt->shape = sp;
        for (int i = 0; i < rank; i++) {
            Onnx__TensorShapeProto__Dimension *d = sn_ob_alloc(b, sizeof *d);
            onnx__tensor_shape_proto__dimension__init(d);
            if (dims[i] >= 0) {
                d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
                d->dim_value = dims[i];
            } else {
                d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
                d->dim_param = sn_ob_strdup(b, dims[i] == -1 ? "N" : "H");
            }
            sn__push(b, (void ***)&sp->dim, &sp->n_dim, d);
        }
    }
    return vi;
}

void sn_ob_input(sn_ob *b, const char *name, int rank, const int64_t *dims) {
    sn__push(b, (void ***)&b->graph.input, &b->graph.n_input, sn__value_info(b, name, rank, dims));
}

void sn_ob_output(sn_ob *b, const char *name, int rank, const int64_t *dims) {
    sn__push(b, (void ***)&b->graph.output, &b->graph.n_output, sn__value_info(b, name, rank, dims));
}

static Onnx__TensorProto *sn__init(sn_ob *b, const char *name, int32_t type, int rank,
                                   const int64_t *dims, const void *data, size_t esize) {
    Onnx__TensorProto *t = sn_ob_alloc(b, sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = sn_ob_strdup(b, name);
    t->has_data_type = 1;
    t->data_type = type;
    t->n_dims = (size_t)rank;
    t->dims = sn_ob_alloc(b, sizeof(int64_t) * (size_t)(rank ? rank : 1));
    size_t n = 1;
    for (int i = 0; i < rank; i++) {
        t->dims[i] = dims[i];
        n *= (size_t)dims[i];
    }
    t->has_raw_data = 1;
    t->raw_data.len = n * esize;
    t->raw_data.data = sn_ob_alloc(b, n * esize);
    if (n) memcpy(t->raw_data.data, data, n * esize);
    sn__push(b, (void ***)&b->graph.initializer, &b->graph.n_initializer, t);
    return t;
}

Onnx__TensorProto *sn_ob_init_f32(sn_ob *b, const char *name, int rank, const int64_t *dims,
                                  const float *data) {
    return sn__init(b, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, rank, dims, data, 4);
}

Onnx__TensorProto *sn_ob_init_i64(sn_ob *b, const char *name, int rank, const int64_t *dims,
                                  const int64_t *data) {
    return sn__init(b, name, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, rank, dims, data, 8);
}

Onnx__NodeProto *sn_ob_node(sn_ob *b, const char *op, const char *name, int n_in,
                            const char *const *in, int n_out, const char *const *out) {
    Onnx__NodeProto *n = sn_ob_alloc(b, sizeof *n);
    onnx__node_proto__init(n);
    n->op_type = sn_ob_strdup(b, op);
    n->name = sn_ob_strdup(b, name);
    n->domain = sn_ob_strdup(b, "");
    for (int i = 0; i < n_in; i++) sn__push(b, (void ***)&n->input, &n->n_input, sn_ob_strdup(b, in[i]));
    for (int i = 0; i < n_out; i++)
        sn__push(b, (void ***)&n->output, &n->n_output, sn_ob_strdup(b, out[i]));
    sn__push(b, (void ***)&b->graph.node, &b->graph.n_node, n);
    return n;
}

static Onnx__AttributeProto *sn__attr(sn_ob *b, Onnx__NodeProto *n, const char *name,
                                      Onnx__AttributeProto__AttributeType type) {
    Onnx__AttributeProto *a = sn_ob_alloc(b, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = sn_ob_strdup(b, name);
    a->has_type = 1;
    a->type = type;
    sn__push(b, (void ***)&n->attribute, &n->n_attribute, a);
    return a;
}

void sn_ob_attr_int(sn_ob *b, Onnx__NodeProto *n, const char *name, int64_t v) {
    Onnx__AttributeProto *a = sn__attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->has_i = 1;
    a->i = v;
}

void sn_ob_attr_float(sn_ob *b, Onnx__NodeProto *n, const char *name, float v) {
    Onnx__AttributeProto *a = sn__attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->has_f = 1;
    a->f = v;
}

void sn_ob_attr_ints(sn_ob *b, Onnx__NodeProto *n, const char *name, int count, const int64_t *v) {
    Onnx__AttributeProto *a = sn__attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->n_ints = (size_t)count;
    a->ints = sn_ob_alloc(b, sizeof(int64_t) * (size_t)(count ? count : 1));
    if (count) memcpy(a->ints, v, sizeof(int64_t) * (size_t)count);
}

void sn_ob_attr_string(sn_ob *b, Onnx__NodeProto *n, const char *name, const char *v) {
    Onnx__AttributeProto *a = sn__attr(b, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    a->has_s = 1;
    a->s.len = strlen(v);
    a->s.data = (uint8_t *)sn_ob_strdup(b, v);
}

void *sn_ob_pack(sn_ob *b, size_t *size) {
    *size = onnx__model_proto__get_packed_size(&b->model);
    uint8_t *buf = sn__must(malloc(*size ? *size : 1));
    onnx__model_proto__pack(&b->model, buf);
    return buf;
}

sn_ob *sn_ob_tiny(int64_t opset, uint64_t seed) {
    static const int64_t xd[4] = {-1, 3, 8, 8}, wd[4] = {4, 3, 3, 3}, yd[4] = {-1, 4, 8, 8};
    sn_ob *b = sn_ob_new(opset);
    float w[108];
    sn_rng r;
    sn_rng_seed(&r, seed);
    sn_rng_fill(&r, w, 108, -0.5f, 0.5f);
    sn_ob_input(b, "x", 4, xd);
    sn_ob_init_f32(b, "W", 4, wd, w);
    const char *ci[] = {"x", "W"}, *co[] = {"c"}, *ri[] = {"c"}, *ro[] = {"y"};
    Onnx__NodeProto *conv = sn_ob_node(b, "Conv", "conv1", 2, ci, 1, co);
    int64_t pads[4] = {1, 1, 1, 1};
    sn_ob_attr_ints(b, conv, "pads", 4, pads);
    sn_ob_node(b, "Relu", "relu1", 1, ri, 1, ro);
    sn_ob_output(b, "y", 4, yd);
    return b;
}
