/*
 * model.h - the sn_model handle: a validated graph plus the bytes its weights live in.
 * Internal tools (inspect, optimize) reach the graph through sn_model_graph().
 */
#ifndef SN_MODEL_H
#define SN_MODEL_H

#include "graph.h"
#include "sgraph.h"

struct sn_model {
    sn_graph *graph;
    sn_file_map map; /* when loaded from a file */
    void *owned;     /* a private copy of in-memory bytes, when not borrowed */
};

const sn_graph *sn_model_graph(const sn_model *m);

/* Wrap a graph built in memory (the zoo, tests). The model takes ownership of g. */
sn_status sn_model_from_graph(sn_graph *g, sn_model **out, sn_error *err);

#endif
