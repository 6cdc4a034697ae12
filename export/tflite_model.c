/*
 * tflite_model.c - building the exporter's in-memory TFLite model (tflite_model.h): growing
 * the tensor and operator tables, unique tensor names, constants and option fields.
 */
#include "tflite_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sn_status sn__tfl_oom(sn_error *err) {
    return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory building the TFLite model");
}

static bool sn__tfl_grow(void **p, int *cap, int need, size_t elem) {
    if (need <= *cap) return true;
    int nc = *cap ? *cap * 2 : 64;
    while (nc < need) nc *= 2;
    void *np = realloc(*p, elem * (size_t)nc);
    if (!np) return false;
    memset((char *)np + elem * (size_t)*cap, 0, elem * (size_t)(nc - *cap));
    *p = np;
    *cap = nc;
    return true;
}

sn_status sn_tfl_model_init(sn_tfl_model *m, const sn_graph *g, sn_error *err) {
    memset(m, 0, sizeof *m);
    m->g = g;
    m->map = malloc(sizeof(int) * (size_t)(g->n_tensors ? g->n_tensors : 1));
    if (!m->map) return sn__tfl_oom(err);
    for (int i = 0; i < g->n_tensors; i++) m->map[i] = -1;
    return SN_OK;
}

void sn_tfl_model_free(sn_tfl_model *m) {
    for (int i = 0; i < m->n_t; i++) {
        free(m->t[i].name);
        free(m->t[i].data);
        free(m->t[i].scale);
        free(m->t[i].zero_point);
    }
    for (int i = 0; i < m->n_ops; i++) {
        free(m->ops[i].in);
        free(m->ops[i].out);
    }
    free(m->t);
    free(m->ops);
    free(m->inputs);
    free(m->outputs);
    free(m->map);
    free(m->names);
    memset(m, 0, sizeof *m);
}

/* Names are unique, as tools that show a model expect: the exporter names tensors after the
 * graph's, and a second tensor with the same name (a transposed copy, a quantized twin) gets
 * its index as a suffix, which no other tensor has. An open-addressing set of the names keeps
 * the check O(1). */
static uint64_t sn__tfl_hash(const char *s) {
    uint64_t h = 1469598103934665603ull;
    while (*s) h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

/* Makes room in the name set for one more tensor, rebuilding it from the tensors (also after
 * compaction renumbered them). */
static bool sn__tfl_names_ready(sn_tfl_model *m) {
    if (m->name_cap && (size_t)(m->n_t + 1) * 2 <= m->name_cap) return true;
    size_t cap = 256;
    while ((size_t)(m->n_t + 1) * 2 > cap) cap *= 2;
    int *slots = calloc(cap, sizeof *slots);
    if (!slots) return false;
    for (int i = 0; i < m->n_t; i++) {
        size_t j = sn__tfl_hash(m->t[i].name) & (cap - 1);
        while (slots[j]) j = (j + 1) & (cap - 1);
        slots[j] = i + 1;
    }
    free(m->names);
    m->names = slots;
    m->name_cap = cap;
    return true;
}

static bool sn__tfl_name_taken(const sn_tfl_model *m, const char *name) {
    for (size_t j = sn__tfl_hash(name) & (m->name_cap - 1); m->names[j];
         j = (j + 1) & (m->name_cap - 1))
        if (!strcmp(m->t[m->names[j] - 1].name, name)) return true;
    return false;
}

static void sn__tfl_name_add(sn_tfl_model *m, int k) {
    size_t j = sn__tfl_hash(m->t[k].name) & (m->name_cap - 1);
    while (m->names[j]) j = (j + 1) & (m->name_cap - 1);
    m->names[j] = k + 1;
}

static int sn__tfl_new_tensor(sn_tfl_model *m, const char *name, sn_error *err) {
    if (!sn__tfl_grow((void **)&m->t, &m->cap_t, m->n_t + 1, sizeof *m->t) ||
        !sn__tfl_names_ready(m)) {
        sn__tfl_oom(err);
        return -1;
    }
    char buf[300];
    if (!name || !*name) name = "tensor";
    snprintf(buf, sizeof buf, "%.290s", name);
    for (int k = m->n_t; sn__tfl_name_taken(m, buf); k++)
        snprintf(buf, sizeof buf, "%.250s_%d", name, k);
    sn_tfl_tensor *t = &m->t[m->n_t];
    memset(t, 0, sizeof *t);
    t->name = strdup(buf);
    if (!t->name) {
        sn__tfl_oom(err);
        return -1;
    }
    sn__tfl_name_add(m, m->n_t);
    t->src = -1;
    t->type = SN_TFL_FLOAT32;
    return m->n_t++;
}

int sn_tfl_add_tensor(sn_tfl_model *m, const char *name, int rank, const int32_t *shape,
                      bool batched, int src, sn_error *err) {
    int k = sn__tfl_new_tensor(m, name, err);
    if (k < 0) return -1;
    sn_tfl_tensor *t = &m->t[k];
    t->rank = rank;
    for (int i = 0; i < rank; i++) t->shape[i] = shape[i];
    t->batched = batched && rank > 0;
    t->src = src;
    return k;
}

int sn_tfl_add_const(sn_tfl_model *m, const char *name, int type, int rank, const int32_t *shape,
                     void *data, size_t nbytes, sn_tfl_role role, sn_error *err) {
    int k = sn__tfl_new_tensor(m, name, err);
    if (k < 0) {
        free(data);
        return -1;
    }
    sn_tfl_tensor *t = &m->t[k];
    t->type = type;
    t->rank = rank;
    for (int i = 0; i < rank; i++) t->shape[i] = shape[i];
    t->data = data;
    t->nbytes = nbytes;
    t->role = role;
    return k;
}

int sn_tfl_const_i32(sn_tfl_model *m, const char *name, const int32_t *v, int n, sn_error *err) {
    int32_t *d = malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
    if (!d) {
        sn__tfl_oom(err);
        return -1;
    }
    if (n) memcpy(d, v, sizeof(int32_t) * (size_t)n);
    int32_t shape[1] = {n};
    return sn_tfl_add_const(m, name, SN_TFL_INT32, 1, shape, d, sizeof(int32_t) * (size_t)n,
                            SN_TFL_ROLE_NONE, err);
}

int sn_tfl_const_f32_scalar(sn_tfl_model *m, const char *name, float v, sn_tfl_role role,
                            sn_error *err) {
    float *d = malloc(sizeof(float));
    if (!d) {
        sn__tfl_oom(err);
        return -1;
    }
    *d = v;
    int32_t shape[1] = {1};
    return sn_tfl_add_const(m, name, SN_TFL_FLOAT32, 1, shape, d, sizeof(float), role, err);
}

int sn_tfl_add_op(sn_tfl_model *m, int code, int node, const int *in, int n_in, const int *out,
                  int n_out, sn_error *err) {
    if (!sn__tfl_grow((void **)&m->ops, &m->cap_ops, m->n_ops + 1, sizeof *m->ops)) {
        sn__tfl_oom(err);
        return -1;
    }
    sn_tfl_op *o = &m->ops[m->n_ops];
    memset(o, 0, sizeof *o);
    o->in = malloc(sizeof(int) * (size_t)(n_in ? n_in : 1));
    o->out = malloc(sizeof(int) * (size_t)(n_out ? n_out : 1));
    if (!o->in || !o->out) {
        free(o->in);
        free(o->out);
        sn__tfl_oom(err);
        return -1;
    }
    if (n_in) memcpy(o->in, in, sizeof(int) * (size_t)n_in);
    if (n_out) memcpy(o->out, out, sizeof(int) * (size_t)n_out);
    o->code = code;
    o->version = 1;
    o->n_in = n_in;
    o->n_out = n_out;
    o->node = node;
    return m->n_ops++;
}

sn_status sn_tfl_ops_to_front(sn_tfl_model *m, int first, int n, sn_error *err) {
    if (n <= 0) return SN_OK;
    sn_tfl_op *tmp = malloc(sizeof *tmp * (size_t)n);
    if (!tmp) return sn__tfl_oom(err);
    memcpy(tmp, m->ops + first, sizeof *tmp * (size_t)n);
    memmove(m->ops + n, m->ops, sizeof *tmp * (size_t)first);
    memcpy(m->ops, tmp, sizeof *tmp * (size_t)n);
    free(tmp);
    return SN_OK;
}

void sn_tfl_op_options(sn_tfl_model *m, int op, int opt_type) { m->ops[op].opt_type = opt_type; }

static void sn__tfl_opt(sn_tfl_model *m, int op, int slot, char kind, int32_t i, float f) {
    sn_tfl_op *o = &m->ops[op];
    for (int k = 0; k < o->n_opts; k++)
        if (o->opts[k].slot == slot) {
            o->opts[k] = (sn_tfl_opt){slot, kind, i, f};
            return;
        }
    if (o->n_opts < SN_TFL_MAX_OPTS) o->opts[o->n_opts++] = (sn_tfl_opt){slot, kind, i, f};
}

void sn_tfl_op_opt_i(sn_tfl_model *m, int op, int slot, int32_t v) {
    sn__tfl_opt(m, op, slot, 'i', v, 0.0f);
}
void sn_tfl_op_opt_b(sn_tfl_model *m, int op, int slot, int32_t v) {
    sn__tfl_opt(m, op, slot, 'b', v, 0.0f);
}
void sn_tfl_op_opt_f(sn_tfl_model *m, int op, int slot, float v) {
    sn__tfl_opt(m, op, slot, 'f', 0, v);
}

int sn_tfl_act_slot(int opt_type) {
    switch (opt_type) {
    case SN_TFL_OPT_CONV_2D: return SN_TFL_CONV_ACT;
    case SN_TFL_OPT_DEPTHWISE_CONV_2D: return SN_TFL_DW_ACT;
    case SN_TFL_OPT_FULLY_CONNECTED: return SN_TFL_FC_ACT;
    case SN_TFL_OPT_ADD:
    case SN_TFL_OPT_SUB:
    case SN_TFL_OPT_MUL:
    case SN_TFL_OPT_DIV: return SN_TFL_BINARY_ACT;
    default: return -1;
    }
}

int64_t sn_tfl_numel(const sn_tfl_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++) n *= t->shape[i];
    return n;
}

const char *sn_tfl_op_name(int code) {
    switch (code) {
    case SN_TFL_OP_ADD: return "ADD";
    case SN_TFL_OP_AVERAGE_POOL_2D: return "AVERAGE_POOL_2D";
    case SN_TFL_OP_CONCATENATION: return "CONCATENATION";
    case SN_TFL_OP_CONV_2D: return "CONV_2D";
    case SN_TFL_OP_DEPTHWISE_CONV_2D: return "DEPTHWISE_CONV_2D";
    case SN_TFL_OP_DEQUANTIZE: return "DEQUANTIZE";
    case SN_TFL_OP_FULLY_CONNECTED: return "FULLY_CONNECTED";
    case SN_TFL_OP_LOGISTIC: return "LOGISTIC";
    case SN_TFL_OP_MAX_POOL_2D: return "MAX_POOL_2D";
    case SN_TFL_OP_MUL: return "MUL";
    case SN_TFL_OP_RELU: return "RELU";
    case SN_TFL_OP_RELU_N1_TO_1: return "RELU_N1_TO_1";
    case SN_TFL_OP_RELU6: return "RELU6";
    case SN_TFL_OP_RESHAPE: return "RESHAPE";
    case SN_TFL_OP_RESIZE_BILINEAR: return "RESIZE_BILINEAR";
    case SN_TFL_OP_SOFTMAX: return "SOFTMAX";
    case SN_TFL_OP_TANH: return "TANH";
    case SN_TFL_OP_PAD: return "PAD";
    case SN_TFL_OP_TRANSPOSE: return "TRANSPOSE";
    case SN_TFL_OP_MEAN: return "MEAN";
    case SN_TFL_OP_SUB: return "SUB";
    case SN_TFL_OP_STRIDED_SLICE: return "STRIDED_SLICE";
    case SN_TFL_OP_DIV: return "DIV";
    case SN_TFL_OP_MAXIMUM: return "MAXIMUM";
    case SN_TFL_OP_MINIMUM: return "MINIMUM";
    case SN_TFL_OP_PADV2: return "PADV2";
    case SN_TFL_OP_RESIZE_NEAREST_NEIGHBOR: return "RESIZE_NEAREST_NEIGHBOR";
    case SN_TFL_OP_LEAKY_RELU: return "LEAKY_RELU";
    case SN_TFL_OP_MIRROR_PAD: return "MIRROR_PAD";
    case SN_TFL_OP_QUANTIZE: return "QUANTIZE";
    case SN_TFL_OP_HARD_SWISH: return "HARD_SWISH";
    case SN_TFL_OP_BATCH_MATMUL: return "BATCH_MATMUL";
    default: return "?";
    }
}
