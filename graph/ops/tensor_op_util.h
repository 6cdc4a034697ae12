/*
 * tensor_op_util.h - small private helpers shared by the elementwise and tensor-manipulation op
 * definitions (activation_ops.c, binary.c, shape_ops.c, pad.c, resize.c): how a node is named in
 * a message, dims formatting and the common input checks.
 */
#ifndef SN_TENSOR_OP_UTIL_H
#define SN_TENSOR_OP_UTIL_H

#include <stdio.h>

#include "graph.h"

/* Every message starts by naming the node: `Add node 'res2a_add': ...`. */
#define SN__NODE_FMT "%s node '%s'"
#define SN__NODE_ARGS(n) sn_op_name((n)->op), ((n)->name ? (n)->name : "")

/* "[2,3,224,224]" (or "[]" for a scalar) into buf; returns buf. */
static inline const char *sn__dims_str(const int64_t *d, int rank, char *buf, size_t size) {
    size_t pos = 0;
    int w = snprintf(buf, size, "[");
    pos = w > 0 ? (size_t)w : 0;
    for (int i = 0; i < rank && pos < size; i++) {
        w = snprintf(buf + pos, size - pos, i ? ",%lld" : "%lld", (long long)d[i]);
        if (w < 0) break;
        pos += (size_t)w;
    }
    if (pos < size) snprintf(buf + pos, size - pos, "]");
    return buf;
}

/* Input i must be present with a sane rank and non-negative dims. */
static inline sn_status sn__check_input(const sn_node *n, const sn_value *in, int i,
                                        sn_error *err) {
    if (!in[i].present)
        return sn_errorf(err, SN_ERR_GRAPH, SN__NODE_FMT ": input %d is missing",
                         SN__NODE_ARGS(n), i);
    if (in[i].rank < 0 || in[i].rank > SN_MAX_RANK)
        return sn_errorf(err, SN_ERR_SHAPE, SN__NODE_FMT ": input %d has rank %d (max %d)",
                         SN__NODE_ARGS(n), i, in[i].rank, SN_MAX_RANK);
    for (int k = 0; k < in[i].rank; k++)
        if (in[i].d[k] < 0)
            return sn_errorf(err, SN_ERR_SHAPE, SN__NODE_FMT ": input %d has negative dim %lld",
                             SN__NODE_ARGS(n), i, (long long)in[i].d[k]);
    if ((int)in[i].dtype < 0 || in[i].dtype >= SN_DTYPE_COUNT)
        return sn_errorf(err, SN_ERR_UNSUPPORTED, SN__NODE_FMT ": input %d has invalid dtype %d",
                         SN__NODE_ARGS(n), i, (int)in[i].dtype);
    return SN_OK;
}

/* The compute ops have f32 kernels only. */
static inline sn_status sn__require_f32(const sn_node *n, const sn_value *in, int i,
                                        sn_error *err) {
    if (in[i].dtype != SN_DTYPE_F32)
        return sn_errorf(err, SN_ERR_UNSUPPORTED,
                         SN__NODE_FMT ": input %d is %s; only f32 is supported",
                         SN__NODE_ARGS(n), i, sn_dtype_name(in[i].dtype));
    return SN_OK;
}

#endif
