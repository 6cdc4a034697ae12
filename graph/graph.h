/*
 * graph.h - Sentinel's graph IR: tensors, nodes, attributes, graph inputs/outputs, metadata.
 *
 * A graph is a flat table of tensors and a flat table of nodes that refer to tensors by index.
 * Names, attributes and index arrays live in the graph's arena, so a graph is freed in one call.
 * Constant tensors (weights) point at data that is either owned by the graph (copied in) or
 * borrowed from a mapping the caller keeps alive (the .sgraph loader's mmap).
 *
 * Shapes: a graph input declares its shape with dims[0] == SN_DIM_BATCH for a dynamic batch.
 * Intermediate tensors carry the shape at batch 1 after sn_graph_infer_shapes(), with
 * SN_TENSOR_BATCHED set when dim 0 scales with the batch. Backends re-infer concrete shapes for
 * the batch they run (sn_graph_infer_concrete) - it is cheap, O(nodes).
 */
#ifndef SN_GRAPH_H
#define SN_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "op.h"
#include "sentinel.h"

typedef struct sn_shape {
    int rank;
    int64_t d[SN_MAX_RANK];
} sn_shape;

/* Tensor flags. */
#define SN_TENSOR_CONST 0x1u      /* has data (a weight or folded constant) */
#define SN_TENSOR_INPUT 0x2u      /* a graph input */
#define SN_TENSOR_OUTPUT 0x4u     /* a graph output */
#define SN_TENSOR_OWNS_DATA 0x8u  /* data was malloc'ed by the graph and is freed with it */
#define SN_TENSOR_BATCHED 0x10u   /* dim 0 scales with the batch (set by shape inference) */

typedef struct sn_tensor {
    const char *name; /* in the graph arena; unique within a graph */
    sn_dtype dtype;
    sn_layout layout;
    sn_shape shape;
    const void *data; /* constant data, NULL for activations */
    size_t nbytes;    /* bytes of data (constants) */
    int producer;     /* index of the producing node, -1 for inputs/constants */
    unsigned flags;
} sn_tensor;

typedef enum sn_attr_type {
    SN_ATTR_INT = 1,
    SN_ATTR_FLOAT = 2,
    SN_ATTR_INTS = 3,
    SN_ATTR_FLOATS = 4,
    SN_ATTR_STRING = 5
} sn_attr_type;

typedef struct sn_attr {
    const char *name;
    sn_attr_type type;
    int n; /* element count for INTS/FLOATS; string length for STRING */
    union {
        int64_t i;
        float f;
        const int64_t *ints;
        const float *floats;
        const char *s;
    } v;
} sn_attr;

/* Convenience constructors for building attribute lists on the stack (copied by add_node). */
static inline sn_attr sn_attr_int(const char *name, int64_t v) {
    sn_attr a = {name, SN_ATTR_INT, 1, {.i = v}};
    return a;
}
static inline sn_attr sn_attr_float(const char *name, float v) {
    sn_attr a = {name, SN_ATTR_FLOAT, 1, {.f = v}};
    return a;
}
static inline sn_attr sn_attr_ints(const char *name, const int64_t *v, int n) {
    sn_attr a = {name, SN_ATTR_INTS, n, {.ints = v}};
    return a;
}
static inline sn_attr sn_attr_floats(const char *name, const float *v, int n) {
    sn_attr a = {name, SN_ATTR_FLOATS, n, {.floats = v}};
    return a;
}

typedef struct sn_node {
    const char *name; /* in the graph arena; may be empty, never NULL */
    sn_op op;
    int n_inputs, n_outputs, n_attrs;
    int *inputs; /* tensor indices; -1 for an omitted optional input */
    int *outputs;
    sn_attr *attrs;
    bool dead; /* removed by a pass; sn_graph_compact() drops it */
} sn_node;

typedef struct sn_metadata {
    int n_labels;
    const char **labels; /* in the graph arena */
    sn_preprocess preprocess;
    int n_props; /* free-form key/value strings (producer, description...) */
    const char **prop_keys;
    const char **prop_values;
} sn_metadata;

typedef struct sn_arena_block sn_arena_block;

typedef struct sn_graph {
    sn_tensor *tensors;
    int n_tensors, cap_tensors;
    sn_node *nodes;
    int n_nodes, cap_nodes;
    int *inputs; /* tensor indices of graph inputs, in order */
    int n_inputs, cap_inputs;
    int *outputs;
    int n_outputs, cap_outputs;
    sn_metadata meta;
    sn_arena_block *arena;
    int *name_slots; /* open-addressing hash of tensor names -> index + 1 (0 = empty) */
    int name_cap;
} sn_graph;

sn_status sn_graph_create(sn_graph **out);
void sn_graph_destroy(sn_graph *g);

/* Arena allocation tied to the graph's lifetime (zeroed, 16-byte aligned). NULL on OOM. */
void *sn_graph_alloc(sn_graph *g, size_t bytes);
const char *sn_graph_strdup(sn_graph *g, const char *s);

/* Add an activation tensor (no data). shape may be NULL (unknown until inference: rank -1).
 * Names must be unique and non-empty. */
sn_status sn_graph_add_tensor(sn_graph *g, const char *name, sn_dtype dtype, const sn_shape *shape,
                              int *out_index);
/* Add a constant. With copy=true the bytes are copied and owned by the graph; otherwise they are
 * borrowed and must outlive it. nbytes must equal the shape's element count * dtype size. */
sn_status sn_graph_add_const(sn_graph *g, const char *name, sn_dtype dtype, const sn_shape *shape,
                             const void *data, size_t nbytes, bool copy, int *out_index);
/* Replace a tensor's data with a graph-owned copy of new bytes (used by folding passes). */
sn_status sn_graph_set_const_data(sn_graph *g, int tensor, sn_dtype dtype, const sn_shape *shape,
                                  const void *data, size_t nbytes);
/* Add a node; inputs/outputs/attrs (and attribute names, arrays and strings) are copied into the
 * arena. Sets each output tensor's producer. Fails if an output already has a producer. */
sn_status sn_graph_add_node(sn_graph *g, sn_op op, const char *name, const int *inputs,
                            int n_inputs, const int *outputs, int n_outputs, const sn_attr *attrs,
                            int n_attrs, int *out_index);
sn_status sn_graph_add_input(sn_graph *g, int tensor);
sn_status sn_graph_add_output(sn_graph *g, int tensor);

/* Metadata setters (strings copied into the arena). */
sn_status sn_graph_set_labels(sn_graph *g, const char *const *labels, int n);
sn_status sn_graph_set_prop(sn_graph *g, const char *key, const char *value);

/* Lookups: -1 when absent. */
int sn_graph_find_tensor(const sn_graph *g, const char *name);
const sn_attr *sn_node_attr(const sn_node *n, const char *name);
int64_t sn_node_attr_int(const sn_node *n, const char *name, int64_t dflt);
float sn_node_attr_float(const sn_node *n, const char *name, float dflt);
/* Returns the array and its length in *count, or NULL (count 0) when absent. */
const int64_t *sn_node_attr_ints(const sn_node *n, const char *name, int *count);
const float *sn_node_attr_floats(const sn_node *n, const char *name, int *count);

/* A topological order of the live nodes (caller frees with free()). Fails with SN_ERR_GRAPH
 * naming a node on the cycle when the graph is cyclic, or a tensor read before it is produced. */
sn_status sn_graph_topo_order(const sn_graph *g, int **order, int *count, sn_error *err);

/* Structural validation: every index in range, every node's arity and attributes accepted by its
 * op definition, every graph output produced or constant, no cycle. */
sn_status sn_graph_validate(const sn_graph *g, sn_error *err);

/* Shape inference at batch 1 (and 2, to learn which tensors scale with the batch); fills every
 * tensor's shape and dtype and sets SN_TENSOR_BATCHED. Checks declared shapes for agreement. */
sn_status sn_graph_infer_shapes(sn_graph *g, sn_error *err);
/* Concrete shapes and dtypes of every tensor for one batch size, into caller arrays of
 * g->n_tensors entries (either may be NULL). Does not modify the graph. */
sn_status sn_graph_infer_concrete(const sn_graph *g, int64_t batch, sn_shape *shapes,
                                  sn_dtype *dtypes, sn_error *err);

/* Drop dead nodes and tensors no live node, input or output refers to; renumbers indices. */
sn_status sn_graph_compact(sn_graph *g);

/* Shape helpers. */
int64_t sn_shape_numel(const sn_shape *s); /* -1 if any dim is negative */
bool sn_shape_equal(const sn_shape *a, const sn_shape *b);
sn_shape sn_shape_make(int rank, const int64_t *dims);
/* Formats like "[N,3,224,224]" (batched) or "[64,3,7,7]" into buf; returns buf. */
char *sn_shape_format(const sn_shape *s, bool batched, char *buf, size_t size);

/* Bytes of a tensor at a given element count; 0 (and *overflow set) when the count is negative
 * or the bytes would pass INT64_MAX (the largest size .sgraph can record). */
size_t sn_bytes_for(sn_dtype t, int64_t numel, bool *overflow);

#endif
