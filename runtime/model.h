/*
 * model.h - the sn_model handle: a validated graph plus the bytes its weights live in.
 * Internal tools (inspect, optimize) reach the graph through sn_model_graph().
 */
#ifndef SN_MODEL_H
#define SN_MODEL_H

#include "graph.h"
#include "onnx.h"
#include "sgraph.h"

struct sn_model {
    sn_graph *graph;
    sn_file_map map; /* when loaded from a file */
    void *owned;     /* a private copy of in-memory bytes, when not borrowed */
};

const sn_graph *sn_model_graph(const sn_model *m);

/* Wrap a graph built in memory (the zoo, tests). The model takes ownership of g. */
sn_status sn_model_from_graph(sn_graph *g, sn_model **out, sn_error *err);

/* sn_model_load_any, also giving the ONNX importer's report when the file is an ONNX model, so
 * a tool can show what the import left out (dropped metadata) - the public call has nowhere to
 * put it. *report is always initialised (all zero for a .sgraph file); free it with
 * sn_onnx_report_free. NULL report: as sn_model_load_any. */
sn_status sn_model_load_any_report(const char *path, sn_model **out, sn_onnx_report *report,
                                   sn_error *err);

#endif
