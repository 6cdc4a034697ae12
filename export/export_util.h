/*
 * export_util.h - pieces every exporter shares: how a node is refused (export_refuse.c), and the
 * model metadata as text (export_meta.c: labels one per line, preprocessing and properties as
 * JSON objects).
 */
#ifndef SN_EXPORT_UTIL_H
#define SN_EXPORT_UTIL_H

#include <stdarg.h>

#include "graph.h"

/* The name messages give node ni: its own, or its first output's when it has none. */
const char *sn__export_node_name(const sn_graph *g, int ni);
/* SN_ERR_UNSUPPORTED with "node 'NAME' (Op): <reason>" for node ni, the form of every refusal. */
sn_status sn__export_refuse(const sn_graph *g, int ni, sn_error *err, const char *fmt, ...)
    SN_PRINTF(4, 5);
sn_status sn__export_refusev(const sn_graph *g, int ni, sn_error *err, const char *fmt,
                             va_list ap);

/* SN_ERR_UNSUPPORTED for metadata the files cannot carry faithfully: a label with a line
 * break (labels are stored one per line), and, for ONNX, a property whose key begins
 * "sentinel." (metadata_props keys the exporter and importer keep for themselves). */
sn_status sn__export_meta_check(const sn_metadata *meta, bool onnx, sn_error *err);

/* malloc'ed strings; NULL on OOM. Labels joined by '\n' ("" when there are none). */
char *sn__export_labels_text(const sn_metadata *meta);
/* {"width":224,"height":224,"resize":"shorter_crop","resize_shorter":256,"channels":"rgb",
 *  "mean":[...],"std":[...],"layout":"NCHW"}, or NULL (and *none set) when the graph has no
 *  preprocessing metadata. `layout` is the model input's layout in the exported file. */
char *sn__export_preprocess_json(const sn_preprocess *p, const char *layout, bool *none);
/* The free-form properties as one JSON object of strings. */
char *sn__export_props_json(const sn_metadata *meta);

#endif
