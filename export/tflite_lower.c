/*
 * tflite_lower.c - lowering a legalized graph to the in-memory TFLite model: the driver (graph
 * inputs, nodes in topological order, graph outputs) and the layout helpers the per-op lowerings
 * share (tflite_lower_nn.c, tflite_lower_ops.c).
 *
 * Layout: a 4-D activation is NCHW in Sentinel and NHWC in TFLite; every other tensor keeps its
 * dims. A TFLite dim i of a 4-D activation is Sentinel dim perm[i] with perm = {0,2,3,1}. Ops
 * whose meaning depends on the memory order (Flatten, Reshape) move data back to NCHW order
 * first, with a TRANSPOSE that is left out when it would not move any element.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_util.h"
#include "passes/pass_util.h"
#include "tflite_lower.h"

const int sn__tfl_nhwc_perm[4] = {0, 2, 3, 1}; /* TFLite dim i <- Sentinel dim perm[i] */
const int sn__tfl_nchw_perm[4] = {0, 3, 1, 2}; /* NHWC -> NCHW for TRANSPOSE */

sn_status sn__tfl_refuse(const sn_tfl_model *m, int ni, sn_error *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sn_status s = sn__export_refusev(m->g, ni, err, fmt, ap);
    va_end(ap);
    return s;
}

bool sn__tfl_is_nhwc(const sn_graph *g, int t) {
    return !(g->tensors[t].flags & SN_TENSOR_CONST) && g->tensors[t].shape.rank == 4;
}

int sn__tfl_act_tensor(sn_tfl_model *m, int t, sn_error *err) {
    if (m->map[t] >= 0) return m->map[t];
    const sn_graph *g = m->g;
    sn_shape s = sn__shape1(g, t);
    int32_t shape[SN_MAX_RANK];
    for (int i = 0; i < s.rank; i++) {
        int src = s.rank == 4 ? sn__tfl_nhwc_perm[i] : i;
        if (s.d[src] < 0 || s.d[src] > INT32_MAX) {
            sn_errorf(err, SN_ERR_UNSUPPORTED, "tensor '%s': dim %lld does not fit TFLite's int32",
                      g->tensors[t].name, (long long)s.d[src]);
            return -1;
        }
        shape[i] = (int32_t)s.d[src];
    }
    int k = sn_tfl_add_tensor(m, g->tensors[t].name, s.rank, shape, sn__batched(g, t), t, err);
    if (k >= 0) m->map[t] = k;
    return k;
}

/* Elements of constant data permuted: out dim i is in dim perm[i]. */
static void sn__tfl_permute(const float *in, const int32_t *in_dims, int rank, const int *perm,
                            float *out) {
    int64_t in_stride[SN_MAX_RANK], n = 1;
    for (int i = rank - 1; i >= 0; i--) {
        in_stride[i] = n;
        n *= in_dims[i];
    }
    int64_t idx[SN_MAX_RANK] = {0};
    for (int64_t o = 0; o < n; o++) {
        int64_t src = 0;
        for (int i = 0; i < rank; i++) src += idx[i] * in_stride[perm[i]];
        out[o] = in[src];
        for (int i = rank - 1; i >= 0; i--) {
            if (++idx[i] < in_dims[perm[i]]) break;
            idx[i] = 0;
        }
    }
}

int sn__tfl_operand_const(sn_tfl_model *m, int t, int other_rank, sn_tfl_role role, sn_error *err) {
    const sn_tensor *x = &m->g->tensors[t];
    int64_t n = sn_shape_numel(&x->shape);
    const float *d = x->dtype == SN_DTYPE_F32 ? x->data : NULL;
    if (!d || n < 0 || x->shape.rank > SN_MAX_RANK) {
        sn_errorf(err, SN_ERR_UNSUPPORTED,
                  "constant '%s' is %s; the TFLite exporter writes f32 "
                  "constants",
                  x->name, sn_dtype_name(x->dtype));
        return -1;
    }
    int rank = x->shape.rank;
    int32_t dims[SN_MAX_RANK];
    for (int i = 0; i < rank; i++) {
        if (x->shape.d[i] > INT32_MAX) {
            sn_errorf(err, SN_ERR_UNSUPPORTED, "constant '%s' is too large for TFLite", x->name);
            return -1;
        }
        dims[i] = (int32_t)x->shape.d[i];
    }
    float *out = malloc(sizeof(float) * (size_t)(n ? n : 1));
    if (!out) {
        sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory copying constant '%s'", x->name);
        return -1;
    }
    int32_t shape[SN_MAX_RANK];
    if (other_rank == 4 && rank <= 4 && n > 1) {
        /* Broadcasting aligns dims from the right: pad to [a,b,c,d] NCHW, then store NHWC. */
        int32_t full[4] = {1, 1, 1, 1};
        for (int i = 0; i < rank; i++) full[4 - rank + i] = dims[i];
        sn__tfl_permute(d, full, 4, sn__tfl_nhwc_perm, out);
        for (int i = 0; i < 4; i++) shape[i] = full[sn__tfl_nhwc_perm[i]];
        rank = 4;
    } else {
        memcpy(out, d, sizeof(float) * (size_t)n);
        memcpy(shape, dims, sizeof(int32_t) * (size_t)rank);
    }
    return sn_tfl_add_const(m, x->name, SN_TFL_FLOAT32, rank, shape, out, sizeof(float) * (size_t)n,
                            role, err);
}

/* Whether permuting dims by perm moves no element: the non-unit dims keep their order. */
bool sn__tfl_perm_is_trivial(const int32_t *dims, int rank, const int *perm) {
    int last = -1;
    for (int i = 0; i < rank; i++) {
        if (dims[perm[i]] == 1) continue;
        if (perm[i] < last) return false;
        last = perm[i];
    }
    return true;
}

int sn__tfl_emit_transpose_to(sn_tfl_model *m, int ni, int x, const int *perm, int y,
                              sn_error *err) {
    int32_t p32[SN_MAX_RANK];
    for (int i = 0; i < m->t[x].rank; i++) p32[i] = perm[i];
    int pc = sn_tfl_const_i32(m, "perm", p32, m->t[x].rank, err);
    if (pc < 0 || sn_tfl_add_op(m, SN_TFL_OP_TRANSPOSE, ni, (int[]){x, pc}, 2, &y, 1, err) < 0)
        return -1;
    sn_tfl_op_options(m, m->n_ops - 1, SN_TFL_OPT_TRANSPOSE);
    return y;
}

int sn__tfl_emit_transpose(sn_tfl_model *m, int ni, int x, const int *perm, sn_error *err) {
    const sn_tfl_tensor *t = &m->t[x];
    if (t->batched && perm[0] != 0) {
        sn_errorf(err, SN_ERR_UNSUPPORTED, "tensor '%s': moving the batch dim is not supported",
                  t->name);
        return -1;
    }
    int32_t shape[SN_MAX_RANK];
    for (int i = 0; i < t->rank; i++) shape[i] = t->shape[perm[i]];
    char name[300];
    snprintf(name, sizeof name, "%s/transposed", t->name);
    int y = sn_tfl_add_tensor(m, name, t->rank, shape, t->batched, t->src, err);
    return y < 0 ? -1 : sn__tfl_emit_transpose_to(m, ni, x, perm, y, err);
}

int sn__tfl_emit_reshape(sn_tfl_model *m, int ni, int x, int y, sn_error *err) {
    const sn_tfl_tensor *t = &m->t[y];
    int32_t shape[SN_MAX_RANK];
    for (int i = 0; i < t->rank; i++) shape[i] = i == 0 && t->batched ? -1 : t->shape[i];
    int sc = sn_tfl_const_i32(m, "shape", shape, t->rank, err);
    if (sc < 0 || sn_tfl_add_op(m, SN_TFL_OP_RESHAPE, ni, (int[]){x, sc}, 2, &y, 1, err) < 0)
        return -1;
    sn_tfl_op_options(m, m->n_ops - 1, SN_TFL_OPT_RESHAPE);
    return y;
}

int sn__tfl_to_nchw_order(sn_tfl_model *m, int ni, int t, sn_error *err) {
    int x = sn__tfl_act_tensor(m, t, err);
    if (x < 0 || !sn__tfl_is_nhwc(m->g, t) ||
        sn__tfl_perm_is_trivial(m->t[x].shape, 4, sn__tfl_nchw_perm))
        return x;
    return sn__tfl_emit_transpose(m, ni, x, sn__tfl_nchw_perm, err);
}

sn_status sn__tfl_lower(sn_tfl_model *m, sn_error *err) {
    const sn_graph *g = m->g;
    int *order = NULL, count = 0;
    sn_status s = sn_graph_topo_order(g, &order, &count, err);
    if (s != SN_OK) return s;
    m->inputs = malloc(sizeof(int) * (size_t)(g->n_inputs + 1));
    m->outputs = malloc(sizeof(int) * (size_t)(g->n_outputs + 1));
    if (!m->inputs || !m->outputs) {
        s = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory lowering to TFLite");
        goto done;
    }
    for (int i = 0; i < g->n_inputs; i++) {
        const sn_tensor *t = &g->tensors[g->inputs[i]];
        if (t->dtype != SN_DTYPE_F32) {
            s = sn_errorf(err, SN_ERR_UNSUPPORTED,
                          "graph input '%s' is %s; the TFLite exporter "
                          "writes f32 inputs",
                          t->name, sn_dtype_name(t->dtype));
            goto done;
        }
        if ((m->inputs[i] = sn__tfl_act_tensor(m, g->inputs[i], err)) < 0) {
            s = err ? err->status : SN_ERR_INTERNAL;
            goto done;
        }
        m->n_inputs++;
    }
    for (int k = 0; k < count && s == SN_OK; k++) s = sn__tfl_lower_node(m, order[k], err);
    for (int i = 0; i < g->n_outputs && s == SN_OK; i++) {
        int t = g->outputs[i];
        if (g->tensors[t].flags & (SN_TENSOR_CONST | SN_TENSOR_INPUT) || m->map[t] < 0) {
            s = sn_errorf(err, SN_ERR_UNSUPPORTED,
                          "graph output '%s' is %s; TFLite outputs "
                          "must be computed by an operator",
                          g->tensors[t].name,
                          g->tensors[t].flags & SN_TENSOR_CONST ? "a constant" : "a graph input");
            break;
        }
        m->outputs[m->n_outputs++] = m->map[t];
    }
    if (s == SN_OK) sn__tfl_fuse_activations(m);
done:
    free(order);
    return s;
}
