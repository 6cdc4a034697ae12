/*
 * onnx.h - importing ONNX models (protobuf, opsets 11 to 21) as Sentinel graphs.
 *
 * The protobuf is decoded by protobuf-c with C code generated at build time from the onnx.proto
 * that libonnx-dev installs; everything the importer does lives in loader/onnx/. A model is
 * either imported whole or refused: when some of its nodes use ops (or attribute values) that
 * Sentinel lacks, the import fails with SN_ERR_UNSUPPORTED and the report lists every one of
 * them with its node name, op, domain and opset - there is never a partial model.
 *
 * What is supported, and how each ONNX op maps onto Sentinel's op set, is documented in
 * docs/onnx.md.
 */
#ifndef SN_ONNX_H
#define SN_ONNX_H

#include <stddef.h>
#include <stdint.h>

#include "graph.h"

/* Options that can grow: start from SN_ONNX_OPTIONS_INIT. */
typedef struct sn_onnx_options {
    size_t size;
    /* Folder that external-data paths are relative to (and must stay inside). NULL: the
     * model file's folder for sn_onnx_import_file; for sn_onnx_import_memory, external data is
     * then refused. */
    const char *base_dir;
} sn_onnx_options;
#define SN_ONNX_OPTIONS_INIT {sizeof(sn_onnx_options), NULL}

/* One node the importer cannot convert. */
typedef struct sn_onnx_unsupported {
    char *op_type;
    char *domain;    /* "" for the default ONNX domain */
    char *node_name; /* "" when the node has none; then `node_index` identifies it */
    int node_index;
    int64_t opset;   /* the model's opset for the node's domain (0 when it imports none) */
    char *reason;    /* why: "no such op in Sentinel", "mode 'cubic' is not supported", ... */
} sn_onnx_unsupported;

/* What an import found, filled whether it succeeds or not. */
typedef struct sn_onnx_report {
    int64_t ir_version;
    int64_t opset;        /* default-domain opset */
    int onnx_nodes;       /* nodes in the ONNX graph */
    int folded_nodes;     /* nodes evaluated at import time (shape computations, Constant...) */
    int initializers;
    int n_unsupported;
    sn_onnx_unsupported *unsupported; /* every node that cannot be converted */
    /* Metadata the import left out, and why ("metadata 'sentinel.preprocess' ignored: ..."):
     * an entry that does not validate never fails the import, it is dropped whole. */
    int n_warnings;
    char **warnings;
} sn_onnx_report;

void sn_onnx_report_free(sn_onnx_report *r);
/* One entry as a line: "Elu (node 'act3', opset 13): no such op in Sentinel"; returns what
 * snprintf returns. */
int sn_onnx_unsupported_format(const sn_onnx_unsupported *u, char *buf, size_t size);

/* Import an ONNX model. On success *out is a new graph that has passed sn_graph_validate and
 * sn_graph_infer_shapes (it owns all its constant data); it is not optimised. The model's
 * metadata_props become its metadata: "sentinel.labels" and "sentinel.preprocess" (as
 * sn_export_onnx writes them, docs/export.md) its labels and preprocessing, other keys its
 * properties; entries that do not validate are left out with a warning in the report. `report`
 * and `opt` may be NULL. Errors: SN_ERR_FORMAT (malformed protobuf, bad tensors, dangling names),
 * SN_ERR_VERSION (opset outside 11..21), SN_ERR_UNSUPPORTED (see the report), SN_ERR_SHAPE
 * (shape contradictions), SN_ERR_IO (files). */
sn_status sn_onnx_import_file(const char *path, const sn_onnx_options *opt, sn_graph **out,
                              sn_onnx_report *report, sn_error *err);
sn_status sn_onnx_import_memory(const void *data, size_t size, const sn_onnx_options *opt,
                                sn_graph **out, sn_onnx_report *report, sn_error *err);

/* Whether bytes look like an ONNX model rather than a .sgraph file (a cheap sniff of the first
 * protobuf field: ModelProto starts with ir_version or another known field). */
int sn_onnx_sniff(const void *data, size_t size);

#endif
