/*
 * onnx_writer.h - the ONNX exporter's state, private to export/onnx_*.c: the protobuf-c
 * messages being built (all memory in one arena freed at the end, weights referenced in place
 * rather than copied) and helpers to add nodes, attributes and initializers.
 *
 * onnx_writer.c implements these; onnx_export.c assembles the ModelProto (inputs, outputs, opset,
 * metadata) and serialises it; onnx_export_nodes.c writes each Sentinel node as the standard
 * ONNX ops it stands for.
 */
#ifndef SN_ONNX_WRITER_H
#define SN_ONNX_WRITER_H

#include <stdbool.h>

#include "export.h"
#include "onnx.pb-c.h"

typedef struct sn__ow_block sn__ow_block;

typedef struct sn__ow {
    const sn_graph *g;
    int opset;
    sn_error *err;
    sn_status status;    /* first failure (sticky) */
    sn__ow_block *arena; /* every message, array and string of the model */
    Onnx__NodeProto **nodes;
    size_t n_nodes, cap_nodes;
    Onnx__TensorProto **inits;
    size_t n_inits, cap_inits;
    bool *const_done;        /* per graph tensor: its initializer was added */
    unsigned serial;         /* makes generated names unique */
    const char **node_names; /* hash set of node names used (ONNX Runtime wants them unique) */
    size_t n_node_names, cap_node_names;
} sn__ow;

/* Releases everything the writer holds (not the packed model). */
void sn__ow_free(sn__ow *w);

/* Arena allocation (zeroed); NULL after OOM, which also sets w->status. */
void *sn__ow_alloc(sn__ow *w, size_t bytes);
char *sn__ow_strdup(sn__ow *w, const char *s);
/* A fresh tensor name "<base>/<what>_<n>" no graph tensor uses. */
const char *sn__ow_name(sn__ow *w, const char *base, const char *what);

/* Append a node; in[i] may be "" for an omitted optional input. NULL after a failure. */
Onnx__NodeProto *sn__ow_node(sn__ow *w, const char *op, const char *name, const char *const *in,
                             int n_in, const char *out);
void sn__ow_attr_int(sn__ow *w, Onnx__NodeProto *n, const char *name, int64_t v);
void sn__ow_attr_float(sn__ow *w, Onnx__NodeProto *n, const char *name, float v);
void sn__ow_attr_ints(sn__ow *w, Onnx__NodeProto *n, const char *name, const int64_t *v, int count);
void sn__ow_attr_string(sn__ow *w, Onnx__NodeProto *n, const char *name, const char *v);

/* ONNX TensorProto.DataType of a Sentinel dtype (UNDEFINED when ONNX has none). */
int32_t sn__ow_dtype(sn_dtype t);

/* The graph constant t as an initializer (added once; its bytes are not copied). Returns its
 * name, or NULL after a failure. */
const char *sn__ow_const(sn__ow *w, int t);
/* New initializers (data copied); return the name. */
const char *sn__ow_init_f32(sn__ow *w, const char *name, const int64_t *dims, int rank,
                            const float *data);
const char *sn__ow_init_i64(sn__ow *w, const char *name, const int64_t *dims, int rank,
                            const int64_t *data);

/* SN_ERR_UNSUPPORTED naming node ni; records it as the writer's failure. */
sn_status sn__ow_refuse(sn__ow *w, int ni, const char *fmt, ...) SN_PRINTF(3, 4);

/* Write node ni of w->g (onnx_export_nodes.c). */
sn_status sn__ow_node_emit(sn__ow *w, int ni);

#endif
