/*
 * onnx_node.c - what a node handler reads and writes: the current ONNX node's inputs (as values,
 * tensors or host constants), its outputs, its attributes (type-checked), and the two ways a
 * handler fails: a plain error, or "unsupported", which is recorded in the import report so the
 * import can go on and list every node Sentinel cannot take.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

static const char *sn__nname(const sn__ox_ctx *c) {
    return c->node && c->node->name ? c->node->name : "";
}
static const char *sn__ntype(const sn__ox_ctx *c) {
    return c->node && c->node->op_type ? c->node->op_type : "?";
}

sn_status sn__ox_fail(sn__ox_ctx *c, sn_status s, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sn_errorf(c->err, s, "ONNX node %d '%s' (%s): %s", c->node_index, sn__nname(c),
                     sn__ntype(c), msg);
}

sn_status sn__ox_unsupported(sn__ox_ctx *c, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(c->why, sizeof c->why, "%s", msg);
    sn_errorf(c->err, SN_ERR_UNSUPPORTED, "ONNX node %d '%s' (%s): %s", c->node_index,
              sn__nname(c), sn__ntype(c), msg);
    return SN_ERR_UNSUPPORTED;
}

int sn__ox_n_inputs(const Onnx__NodeProto *n) {
    int k = (int)n->n_input;
    while (k > 0 && (!n->input[k - 1] || !n->input[k - 1][0])) k--;
    return k;
}

sn__ox_value *sn__ox_in(sn__ox_ctx *c, int k) {
    if (k < 0 || (size_t)k >= c->node->n_input) return NULL;
    return sn__ox_find(c, c->node->input[k]);
}

sn_status sn__ox_in_tensor(sn__ox_ctx *c, int k, int *tensor) {
    sn__ox_value *v = sn__ox_in(c, k);
    if (!v) return sn__ox_fail(c, SN_ERR_FORMAT, "required input %d is missing", k);
    return sn__ox_tensor_of(c, v, tensor);
}

const char *sn__ox_out_name(sn__ox_ctx *c, int k) {
    if (k >= 0 && (size_t)k < c->node->n_output && c->node->output[k] && c->node->output[k][0])
        return c->node->output[k];
    return sn__ox_fresh_name(c, sn__nname(c), "out");
}

/* Output k's value, defined now; NULL (nothing to define) when the output is unnamed. */
static sn_status sn__out_value(sn__ox_ctx *c, int k, sn__ox_value **v) {
    *v = NULL;
    if (k < 0 || (size_t)k >= c->node->n_output || !c->node->output[k] || !c->node->output[k][0])
        return SN_OK;
    return sn__ox_define(c, c->node->output[k], v);
}

sn_status sn__ox_out_tensor(sn__ox_ctx *c, int k, int tensor) {
    sn__ox_value *v;
    sn_status st = sn__out_value(c, k, &v);
    if (st == SN_OK && v) v->tensor = tensor;
    return st;
}

sn_status sn__ox_out_const(sn__ox_ctx *c, int k, sn__ox_const *kc) {
    sn__ox_value *v;
    sn_status st = sn__out_value(c, k, &v);
    if (st == SN_OK && v) v->c = kc;
    return st;
}

/* --- attributes ------------------------------------------------------------------------- */

const Onnx__AttributeProto *sn__ox_attr(const sn__ox_ctx *c, const char *name) {
    for (size_t i = 0; i < c->node->n_attribute; i++) {
        const Onnx__AttributeProto *a = c->node->attribute[i];
        if (a && a->name && !strcmp(a->name, name)) return a;
    }
    return NULL;
}

/* The attribute's declared type must be `want` (an attribute without a type field is taken at
 * its word only when the payload matches). */
static sn_status sn__attr_typed(sn__ox_ctx *c, const Onnx__AttributeProto *a, int want,
                                const char *want_name) {
    if (a->ref_attr_name && a->ref_attr_name[0])
        return sn__ox_unsupported(c, "attribute '%s' refers to a function attribute", a->name);
    if (a->has_type && (int)a->type != want)
        return sn__ox_fail(c, SN_ERR_FORMAT, "attribute '%s' has type %d, expected %s", a->name,
                           (int)a->type, want_name);
    return SN_OK;
}

sn_status sn__ox_attr_int(sn__ox_ctx *c, const char *name, int64_t dflt, int64_t *out) {
    const Onnx__AttributeProto *a = sn__ox_attr(c, name);
    *out = dflt;
    if (!a) return SN_OK;
    sn_status st = sn__attr_typed(c, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT, "INT");
    if (st == SN_OK) *out = a->i;
    return st;
}

sn_status sn__ox_attr_float(sn__ox_ctx *c, const char *name, float dflt, float *out) {
    const Onnx__AttributeProto *a = sn__ox_attr(c, name);
    *out = dflt;
    if (!a) return SN_OK;
    sn_status st = sn__attr_typed(c, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT, "FLOAT");
    if (st == SN_OK) *out = a->f;
    return st;
}

sn_status sn__ox_attr_ints(sn__ox_ctx *c, const char *name, int max, const int64_t **out,
                           int *count) {
    const Onnx__AttributeProto *a = sn__ox_attr(c, name);
    *out = NULL;
    *count = 0;
    if (!a) return SN_OK;
    sn_status st = sn__attr_typed(c, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS, "INTS");
    if (st != SN_OK) return st;
    if (a->n_ints > (size_t)max)
        return sn__ox_fail(c, SN_ERR_FORMAT, "attribute '%s' has %zu values (at most %d)", name,
                           a->n_ints, max);
    *out = a->ints;
    *count = (int)a->n_ints;
    return SN_OK;
}

sn_status sn__ox_attr_floats(sn__ox_ctx *c, const char *name, int max, const float **out,
                             int *count) {
    const Onnx__AttributeProto *a = sn__ox_attr(c, name);
    *out = NULL;
    *count = 0;
    if (!a) return SN_OK;
    sn_status st = sn__attr_typed(c, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS, "FLOATS");
    if (st != SN_OK) return st;
    if (a->n_floats > (size_t)max)
        return sn__ox_fail(c, SN_ERR_FORMAT, "attribute '%s' has %zu values (at most %d)", name,
                           a->n_floats, max);
    *out = a->floats;
    *count = (int)a->n_floats;
    return SN_OK;
}

sn_status sn__ox_attr_string(sn__ox_ctx *c, const char *name, const char *dflt, char *buf,
                             size_t size) {
    const Onnx__AttributeProto *a = sn__ox_attr(c, name);
    snprintf(buf, size, "%s", dflt);
    if (!a) return SN_OK;
    sn_status st = sn__attr_typed(c, a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING, "STRING");
    if (st != SN_OK) return st;
    size_t n = a->has_s ? a->s.len : 0;
    if (n >= size || (n && memchr(a->s.data, 0, n)))
        return sn__ox_fail(c, SN_ERR_FORMAT, "attribute '%s' is not a short string", name);
    if (n) memcpy(buf, a->s.data, n);
    buf[n] = 0;
    return SN_OK;
}

/* --- constant inputs -------------------------------------------------------------------- */

sn_status sn__ox_in_ints(sn__ox_ctx *c, int k, const char *what, int max, bool allow_sym,
                         const sn__ox_const **out) {
    sn__ox_value *v = sn__ox_in(c, k);
    *out = NULL;
    if (!v) return sn__ox_fail(c, SN_ERR_FORMAT, "input %d (%s) is missing", k, what);
    if (!v->c)
        return sn__ox_unsupported(c, "input %d (%s, '%s') is computed at run time; Sentinel "
                                     "needs it to be a constant",
                                  k, what, v->name);
    if (v->c->kind != SN__OX_INT)
        return sn__ox_fail(c, SN_ERR_FORMAT, "input %d (%s) is %s, expected an integer tensor", k,
                           what, sn__ox_type_name(v->c->onnx_type));
    if (v->c->rank > 1 || v->c->numel > max)
        return sn__ox_fail(c, SN_ERR_FORMAT, "input %d (%s) must be a vector of at most %d values",
                           k, what, max);
    if (!allow_sym && sn__ox_const_has_sym(v->c))
        return sn__ox_unsupported(c, "input %d (%s, '%s') depends on the batch size, which "
                                     "Sentinel only knows at run time",
                                  k, what, v->name);
    *out = v->c;
    return SN_OK;
}

bool sn__ox_norm_axis(int64_t *axis, int r) {
    if (*axis < -r || *axis >= r) return false;
    if (*axis < 0) *axis += r;
    return true;
}

sn_status sn__ox_axes(sn__ox_ctx *c, int attr_opset_below, int input_k, int rank,
                      int64_t *axes, int *n_axes, bool *given) {
    const int64_t *a = NULL;
    int n = 0;
    sn_status st;
    *given = false;
    if (c->opset < attr_opset_below) {
        if ((st = sn__ox_attr_ints(c, "axes", SN_MAX_RANK, &a, &n)) != SN_OK) return st;
        *given = a != NULL;
    } else if (sn__ox_in(c, input_k)) {
        const sn__ox_const *k;
        if ((st = sn__ox_in_ints(c, input_k, "axes", SN_MAX_RANK, false, &k)) != SN_OK) return st;
        a = k->i;
        n = (int)k->numel;
        *given = true;
    }
    bool seen[SN_MAX_RANK] = {false};
    for (int i = 0; i < n; i++) {
        int64_t x = a[i];
        if (!sn__ox_norm_axis(&x, rank) || seen[x])
            return sn__ox_fail(c, SN_ERR_FORMAT, "axes[%d] = %lld is out of range or repeated for "
                               "rank %d", i, (long long)a[i], rank);
        seen[x] = true;
        axes[i] = x;
    }
    *n_axes = n;
    return SN_OK;
}
