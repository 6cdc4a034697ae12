/*
 * onnx_io.c - the graph's inputs and outputs. Inputs that are also initializers are constants
 * (older exporters list every weight as an input too). A real input must be a float tensor with
 * a known shape, where only dim 0 may be symbolic: it becomes Sentinel's dynamic batch. Outputs
 * keep their ONNX names, and every shape the model declares (outputs and value_info) is checked
 * against what Sentinel infers, so a contradiction is an error rather than a wrong model.
 */
#include <stdio.h>
#include <string.h>

#include "onnx_internal.h"

/* The tensor type of a ValueInfoProto, or NULL with an explanation. */
static const Onnx__TypeProto__Tensor *sn__tensor_type(const Onnx__ValueInfoProto *vi,
                                                       const char **why) {
    if (!vi->type) {
        *why = "has no type";
        return NULL;
    }
    if (vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !vi->type->tensor_type) {
        *why = "is not a tensor (a sequence, map, optional or sparse tensor)";
        return NULL;
    }
    return vi->type->tensor_type;
}

static sn_status sn__input(sn__ox_ctx *c, const Onnx__ValueInfoProto *vi, int index) {
    const char *name = vi->name ? vi->name : "";
    const char *why = NULL;
    if (!*name) return sn_errorf(c->err, SN_ERR_FORMAT, "ONNX graph input %d has no name", index);
    sn__ox_value *existing = sn__ox_find(c, name);
    if (existing) {
        if (existing->c) return SN_OK; /* an initializer: a constant, not an input */
        return sn_errorf(c->err, SN_ERR_FORMAT, "ONNX graph input '%s' is listed twice", name);
    }
    const Onnx__TypeProto__Tensor *tt = sn__tensor_type(vi, &why);
    if (!tt)
        return sn_errorf(c->err, SN_ERR_UNSUPPORTED, "ONNX graph input '%s' %s", name, why);
    int32_t et = tt->has_elem_type ? tt->elem_type : 0;
    if (et != SN__OX_T_FLOAT)
        return sn_errorf(c->err, SN_ERR_UNSUPPORTED, "ONNX graph input '%s' is %s; Sentinel models "
                         "take float32 inputs", name, sn__ox_type_name(et));
    if (!tt->shape)
        return sn_errorf(c->err, SN_ERR_UNSUPPORTED, "ONNX graph input '%s' has no shape; Sentinel "
                         "needs every dim but the batch to be fixed", name);
    if (tt->shape->n_dim > SN_MAX_RANK)
        return sn_errorf(c->err, SN_ERR_UNSUPPORTED, "ONNX graph input '%s' has rank %zu (at most %d)",
                         name, tt->shape->n_dim, SN_MAX_RANK);
    sn_shape s = {.rank = (int)tt->shape->n_dim}, s1, s2;
    for (int i = 0; i < s.rank; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        bool fixed = d && d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        if (fixed && d->dim_value < 1)
            return sn_errorf(c->err, SN_ERR_FORMAT, "ONNX graph input '%s': dim %d is %lld", name, i,
                             (long long)d->dim_value);
        if (fixed && d->dim_value > ((int64_t)1 << 31))
            return sn_errorf(c->err, SN_ERR_UNSUPPORTED, "ONNX graph input '%s': dim %d is %lld, "
                             "too large", name, i, (long long)d->dim_value);
        if (!fixed && i > 0)
            return sn_errorf(c->err, SN_ERR_UNSUPPORTED, "ONNX graph input '%s': dim %d ('%s') is "
                             "dynamic; Sentinel allows only the batch (dim 0) to be - export the "
                             "model with a fixed input size", name, i,
                             d && d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                                 ? d->dim_param : "?");
        s.d[i] = fixed ? d->dim_value : SN_DIM_BATCH;
    }
    s1 = s2 = s;
    if (s.rank > 0 && s.d[0] == SN_DIM_BATCH) {
        s1.d[0] = 1;
        s2.d[0] = 2;
    }
    int t;
    sn__ox_value *v;
    sn_status st = sn_graph_add_tensor(c->g, name, SN_DTYPE_F32, &s, &t);
    if (st == SN_OK) st = sn_graph_add_input(c->g, t);
    if (st != SN_OK) return sn_errorf(c->err, st, "ONNX graph input '%s': cannot add it", name);
    /* NHWC when the last dim looks like colour channels and the second does not. */
    if (s.rank == 4)
        c->g->tensors[t].layout = s.d[3] == 3 && s.d[1] != 3 ? SN_LAYOUT_NHWC : SN_LAYOUT_NCHW;
    if ((st = sn__ox_track(c, t, &s1, &s2)) != SN_OK) return st;
    if ((st = sn__ox_define(c, name, &v)) != SN_OK) return st;
    v->tensor = t;
    return SN_OK;
}

sn_status sn__ox_graph_inputs(sn__ox_ctx *c, const Onnx__GraphProto *gp) {
    for (size_t i = 0; i < gp->n_input; i++) {
        if (!gp->input[i]) return sn_errorf(c->err, SN_ERR_FORMAT, "ONNX graph input %zu is empty", i);
        sn_status st = sn__input(c, gp->input[i], (int)i);
        if (st != SN_OK) return st;
    }
    return SN_OK;
}

/* Declared dims (those with a value) must match the inferred shape at batch 1; dim 0 of a
 * batched tensor is the batch and matches anything. */
static sn_status sn__check_declared(sn__ox_ctx *c, const Onnx__ValueInfoProto *vi, int t) {
    const char *why;
    const Onnx__TypeProto__Tensor *tt = sn__tensor_type(vi, &why);
    if (!tt || !tt->shape) return SN_OK;
    const sn_shape *s = sn__ox_shape(c, t);
    bool batched = sn__ox_batched(c, t);
    char a[160], b[160];
    bool bad = (int)tt->shape->n_dim != s->rank;
    for (int i = 0; !bad && i < s->rank; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        if (!d || d->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) continue;
        if (i == 0 && batched) continue;
        bad = d->dim_value != s->d[i];
    }
    if (!bad) return SN_OK;
    size_t pos = (size_t)snprintf(a, sizeof a, "[");
    for (size_t i = 0; i < tt->shape->n_dim && pos < sizeof a - 24; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        if (d && d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
            pos += (size_t)snprintf(a + pos, sizeof a - pos, "%s%lld", i ? "," : "", (long long)d->dim_value);
        else
            pos += (size_t)snprintf(a + pos, sizeof a - pos, "%s?", i ? "," : "");
    }
    snprintf(a + pos, sizeof a - pos, "]");
    return sn_errorf(c->err, SN_ERR_SHAPE, "ONNX value '%s' is declared with shape %s but its "
                     "producer gives %s", vi->name, a, sn_shape_format(s, batched, b, sizeof b));
}

sn_status sn__ox_graph_outputs(sn__ox_ctx *c, const Onnx__GraphProto *gp) {
    sn_status st;
    if (gp->n_output == 0) return sn_errorf(c->err, SN_ERR_FORMAT, "ONNX graph has no outputs");
    for (size_t i = 0; i < gp->n_output; i++) {
        const Onnx__ValueInfoProto *vi = gp->output[i];
        const char *name = vi && vi->name ? vi->name : "";
        sn__ox_value *v = sn__ox_find(c, name);
        if (!v)
            return sn_errorf(c->err, SN_ERR_FORMAT, "ONNX graph output '%s' is not produced by any "
                             "node, input or initializer", name);
        if (v->poisoned) continue; /* its producer is in the unsupported list */
        int t;
        if ((st = sn__ox_tensor_of(c, v, &t)) != SN_OK) {
            if (st == SN_ERR_UNSUPPORTED)
                return sn_errorf(c->err, st, "ONNX graph output '%s' depends on the batch size",
                                 name);
            return st;
        }
        /* An output must carry its own name, and appear once: alias otherwise. */
        bool dup = false;
        for (int k = 0; k < c->g->n_outputs; k++) dup |= c->g->outputs[k] == t;
        if (strcmp(c->g->tensors[t].name, name) || dup || (c->g->tensors[t].flags & SN_TENSOR_INPUT)) {
            if ((st = sn__ox_emit(c, SN_OP_IDENTITY, &t, 1, NULL, 0, name, &t)) != SN_OK) return st;
        }
        if ((st = sn_graph_add_output(c->g, t)) != SN_OK)
            return sn_errorf(c->err, st, "ONNX graph output '%s': cannot add it", name);
        if ((st = sn__check_declared(c, vi, t)) != SN_OK) return st;
    }
    for (size_t i = 0; i < gp->n_value_info; i++) {
        const Onnx__ValueInfoProto *vi = gp->value_info[i];
        sn__ox_value *v = vi && vi->name ? sn__ox_find(c, vi->name) : NULL;
        if (v && !v->poisoned && !v->c && v->tensor >= 0 &&
            (st = sn__check_declared(c, vi, v->tensor)) != SN_OK)
            return st;
    }
    return SN_OK;
}
