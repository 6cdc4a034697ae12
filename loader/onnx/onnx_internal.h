/*
 * onnx_internal.h - the ONNX importer's private interface, shared by the files of loader/onnx/.
 *
 * The importer walks the ONNX graph's nodes in order and keeps a table of ONNX values by name.
 * A value is either a Sentinel tensor (an activation, or a constant already placed in the graph)
 * or a constant known at import time: an initializer, a Constant node, or the result of a shape
 * computation the importer evaluated itself (Shape, Gather, Concat on i64...). Known constants
 * are kept as host arrays (f32 or i64) and become graph constants only when a Sentinel node reads
 * them; ops whose Sentinel form wants them as attributes (Reshape's shape, Pad's pads, Resize's
 * sizes, Clip's bounds) read them directly.
 *
 * Shape computations on a tensor with a dynamic batch give values that depend on the batch: each
 * i64 element then carries a symbol (SN__OX_BATCH: "the batch size"; SN__OX_UNKNOWN: some other
 * function of it), so the exporters' `Reshape(x, Concat(Shape(x)[0:1], [-1]))` becomes Reshape
 * with shape [0,-1], and anything that truly needs the batch at import time is refused.
 *
 * Each node handler either succeeds, fails outright (malformed model, shape contradiction), or
 * reports the node as unsupported with sn__ox_unsupported(): the import then goes on to list every
 * other unsupported node, skipping nodes that only depend on it, and fails at the end.
 */
#ifndef SN_ONNX_INTERNAL_H
#define SN_ONNX_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "graph.h"
#include "onnx.h"
#include "onnx.pb-c.h"

#define SN__OX_MIN_OPSET 11
#define SN__OX_MAX_OPSET 21
/* Elements an import-time evaluation may create (ConstantOfShape, Expand...): a tiny model
 * must not be able to ask for gigabytes. */
#define SN__OX_MAX_FOLD_ELEMS ((int64_t)1 << 24)

/* ONNX TensorProto.DataType values the importer knows. */
enum {
    SN__OX_T_FLOAT = 1, SN__OX_T_UINT8 = 2, SN__OX_T_INT8 = 3, SN__OX_T_UINT16 = 4,
    SN__OX_T_INT16 = 5, SN__OX_T_INT32 = 6, SN__OX_T_INT64 = 7, SN__OX_T_STRING = 8,
    SN__OX_T_BOOL = 9, SN__OX_T_FLOAT16 = 10, SN__OX_T_DOUBLE = 11, SN__OX_T_UINT32 = 12,
    SN__OX_T_UINT64 = 13, SN__OX_T_BFLOAT16 = 16
};

/* Kind of a host constant's storage. */
#define SN__OX_FLOAT 0
#define SN__OX_INT 1
/* Symbols of i64 elements that depend on the batch size. */
#define SN__OX_KNOWN 0
#define SN__OX_BATCH 1
#define SN__OX_UNKNOWN 2

typedef struct sn__ox_const {
    int kind;          /* SN__OX_FLOAT (f) or SN__OX_INT (i) */
    int32_t onnx_type; /* the ONNX data type it stands for */
    int rank;
    int64_t d[SN_MAX_RANK];
    int64_t numel;
    float *f;
    int64_t *i;
    uint8_t *sym; /* SN__OX_INT only: per element symbol; NULL when every element is known */
} sn__ox_const;

typedef struct sn__ox_value {
    char *name;
    int tensor;      /* Sentinel tensor index, -1 while there is none */
    sn__ox_const *c; /* known at import time (owned by the context's list) */
    bool poisoned;   /* produced by an unsupported node */
} sn__ox_value;

typedef struct sn__ox_ctx {
    sn_graph *g;
    sn_error *err;
    sn_onnx_report *rep;
    int64_t opset;
    const char *base_dir; /* for external data; NULL: refused */
    sn__ox_value *vals;
    int n_vals, cap_vals;
    int *slots; /* open addressing: name hash -> value index + 1 */
    int cap_slots;
    sn__ox_const **consts; /* every host constant, freed with the context */
    int n_consts, cap_consts;
    sn_shape *s1, *s2; /* each Sentinel tensor's shape at batch 1 and at batch 2 */
    int cap_shapes;
    const Onnx__NodeProto *node; /* the node being converted */
    int node_index;
    int uniq; /* counter for names the importer makes up */
    char why[768]; /* the reason given by the last sn__ox_unsupported() */
} sn__ox_ctx;

/* --- values (onnx_values.c) -------------------------------------------------------------- */
sn_status sn__ox_ctx_init(sn__ox_ctx *c, sn_graph *g, sn_onnx_report *rep, sn_error *err);
void sn__ox_ctx_free(sn__ox_ctx *c);
sn__ox_value *sn__ox_find(sn__ox_ctx *c, const char *name);
/* A new value; SN_ERR_FORMAT if the name is already defined (SSA violation). */
sn_status sn__ox_define(sn__ox_ctx *c, const char *name, sn__ox_value **out);
/* A fresh host constant (zeroed, owned by the context); NULL with an error set on failure. */
sn__ox_const *sn__ox_const_new(sn__ox_ctx *c, int kind, int32_t onnx_type, int rank,
                               const int64_t *d);
bool sn__ox_const_has_sym(const sn__ox_const *k);
/* Give k a symbol array (all SN__OX_KNOWN) if it has none; false on OOM (error set). */
bool sn__ox_const_sym(sn__ox_ctx *c, sn__ox_const *k);
/* A copy of src with other dims of the same element count (symbols included). */
sn__ox_const *sn__ox_const_reshaped(sn__ox_ctx *c, const sn__ox_const *src, int rank,
                                    const int64_t *d);
/* The Sentinel tensor of a value, placing a host constant in the graph on first use. */
sn_status sn__ox_tensor_of(sn__ox_ctx *c, sn__ox_value *v, int *tensor);
/* A tensor name derived from `base` that is not used yet (arena string). */
const char *sn__ox_fresh_name(sn__ox_ctx *c, const char *base, const char *suffix);
/* Add a Sentinel node with one new output tensor named out_name and infer its shape at batch 1
 * and 2 (the importer's view of batch dependence); shape errors name the ONNX node. */
sn_status sn__ox_emit(sn__ox_ctx *c, sn_op op, const int *inputs, int n_inputs,
                      const sn_attr *attrs, int n_attrs, const char *out_name, int *out_tensor);
/* The shape of a Sentinel tensor at batch 1, and whether dim 0 is the batch. */
const sn_shape *sn__ox_shape(const sn__ox_ctx *c, int tensor);
bool sn__ox_batched(const sn__ox_ctx *c, int tensor);
/* Record a tensor's shapes (graph inputs and constants). */
sn_status sn__ox_track(sn__ox_ctx *c, int tensor, const sn_shape *s1, const sn_shape *s2);
/* The dims of any value as a symbolic i64 vector (what Shape returns): batch dim -> SN__OX_BATCH,
 * other batch-dependent dims -> SN__OX_UNKNOWN. */
void sn__ox_value_dims(const sn__ox_ctx *c, const sn__ox_value *v, int *rank, int64_t *d,
                       uint8_t *sym);

/* --- node inputs, outputs and attributes (onnx_node.c) ---------------------------------- */
/* Number of inputs counting only up to the last non-empty name. */
int sn__ox_n_inputs(const Onnx__NodeProto *n);
/* Input k's value; NULL when omitted (empty name or past the end). A name that was never
 * defined is SN_ERR_FORMAT ("dangling"); callers go through sn__ox_inputs_ok first. */
sn__ox_value *sn__ox_in(sn__ox_ctx *c, int k);
/* The Sentinel tensor of input k (required). */
sn_status sn__ox_in_tensor(sn__ox_ctx *c, int k, int *tensor);
/* Define output k of the current node as a Sentinel tensor / a host constant. */
sn_status sn__ox_out_tensor(sn__ox_ctx *c, int k, int tensor);
sn_status sn__ox_out_const(sn__ox_ctx *c, int k, sn__ox_const *k_const);
/* Name for output k of the current node (the ONNX name) or a made-up one when it is empty. */
const char *sn__ox_out_name(sn__ox_ctx *c, int k);
/* Mark the current node unsupported (recorded in the report) and return SN_ERR_UNSUPPORTED. */
sn_status sn__ox_unsupported(sn__ox_ctx *c, const char *fmt, ...) SN_PRINTF(2, 3);
/* An error about the current node: "ONNX node 'name' (Op): ..." */
sn_status sn__ox_fail(sn__ox_ctx *c, sn_status s, const char *fmt, ...) SN_PRINTF(3, 4);

const Onnx__AttributeProto *sn__ox_attr(const sn__ox_ctx *c, const char *name);
sn_status sn__ox_attr_int(sn__ox_ctx *c, const char *name, int64_t dflt, int64_t *out);
sn_status sn__ox_attr_float(sn__ox_ctx *c, const char *name, float dflt, float *out);
/* ints/floats: *out NULL and *count 0 when absent; more than max values is an error. */
sn_status sn__ox_attr_ints(sn__ox_ctx *c, const char *name, int max, const int64_t **out,
                           int *count);
sn_status sn__ox_attr_floats(sn__ox_ctx *c, const char *name, int max, const float **out,
                             int *count);
/* A string attribute copied into buf (NUL-terminated); dflt when absent. */
sn_status sn__ox_attr_string(sn__ox_ctx *c, const char *name, const char *dflt, char *buf,
                             size_t size);

/* A host constant input as int64 values (it must exist, be INT and fully known unless
 * allow_sym); count <= max. */
sn_status sn__ox_in_ints(sn__ox_ctx *c, int k, const char *what, int max, bool allow_sym,
                         const sn__ox_const **out);

/* --- tensors (onnx_tensor.c) ------------------------------------------------------------- */
/* Decode a TensorProto (inline or external data) into a new host constant. */
sn_status sn__ox_tensor_decode(sn__ox_ctx *c, const Onnx__TensorProto *t, const char *what,
                               sn__ox_const **out);
const char *sn__ox_type_name(int32_t onnx_type);
/* The storage kind of an ONNX data type; -1 when the importer cannot hold it. */
int sn__ox_type_kind(int32_t onnx_type);

/* --- guard (onnx_guard.c) ---------------------------------------------------------------- */
/* Refuse protobuf bytes whose messages nest deeper than protobuf-c should recurse. */
sn_status sn__ox_check_nesting(const uint8_t *data, size_t size, sn_error *err);

/* --- graph inputs/outputs (onnx_io.c) ---------------------------------------------------- */
sn_status sn__ox_graph_inputs(sn__ox_ctx *c, const Onnx__GraphProto *gp);
sn_status sn__ox_graph_outputs(sn__ox_ctx *c, const Onnx__GraphProto *gp);

/* --- ops (onnx_ops.c and the op family files) -------------------------------------------- */
typedef sn_status (*sn__ox_handler)(sn__ox_ctx *c);
typedef struct sn__ox_op {
    const char *op_type;
    /* Evaluates the node at import time when every present input is a host constant (NULL:
     * never); returns SN_ERR_NOT_FOUND to decline and let `graph` handle it. */
    sn__ox_handler host;
    /* Converts the node to Sentinel nodes (NULL: only possible on constants). */
    sn__ox_handler graph;
} sn__ox_op;
const sn__ox_op *sn__ox_op_find(const char *op_type);
/* The names of all supported op types, for documentation and messages. */
int sn__ox_op_count(void);
const char *sn__ox_op_name(int i);

/* Handlers, by family. */
sn_status sn__ox_conv(sn__ox_ctx *c);
sn_status sn__ox_pool(sn__ox_ctx *c);
sn_status sn__ox_global_pool(sn__ox_ctx *c);
sn_status sn__ox_reduce_mean(sn__ox_ctx *c);
sn_status sn__ox_batchnorm(sn__ox_ctx *c);
sn_status sn__ox_gemm(sn__ox_ctx *c);
sn_status sn__ox_matmul(sn__ox_ctx *c);

sn_status sn__ox_activation(sn__ox_ctx *c);
sn_status sn__ox_clip(sn__ox_ctx *c);
sn_status sn__ox_binary(sn__ox_ctx *c);
sn_status sn__ox_sum(sn__ox_ctx *c);
sn_status sn__ox_softmax(sn__ox_ctx *c);
sn_status sn__ox_identity(sn__ox_ctx *c);

sn_status sn__ox_concat(sn__ox_ctx *c);
sn_status sn__ox_flatten(sn__ox_ctx *c);
sn_status sn__ox_reshape(sn__ox_ctx *c);
sn_status sn__ox_transpose(sn__ox_ctx *c);
sn_status sn__ox_squeeze(sn__ox_ctx *c);
sn_status sn__ox_unsqueeze(sn__ox_ctx *c);
sn_status sn__ox_pad(sn__ox_ctx *c);
sn_status sn__ox_resize(sn__ox_ctx *c);
sn_status sn__ox_slice(sn__ox_ctx *c);
sn_status sn__ox_split(sn__ox_ctx *c);
sn_status sn__ox_gather(sn__ox_ctx *c);
sn_status sn__ox_cast(sn__ox_ctx *c);

/* Import-time evaluation (onnx_fold.c, onnx_fold_index.c). */
sn_status sn__ox_fold_constant(sn__ox_ctx *c);
sn_status sn__ox_fold_constant_of_shape(sn__ox_ctx *c);
sn_status sn__ox_fold_shape(sn__ox_ctx *c);
sn_status sn__ox_fold_size(sn__ox_ctx *c);
sn_status sn__ox_fold_cast(sn__ox_ctx *c);
sn_status sn__ox_fold_identity(sn__ox_ctx *c);
sn_status sn__ox_fold_binary(sn__ox_ctx *c);
sn_status sn__ox_fold_neg(sn__ox_ctx *c);
sn_status sn__ox_fold_gather(sn__ox_ctx *c);
sn_status sn__ox_fold_concat(sn__ox_ctx *c);
sn_status sn__ox_fold_unsqueeze(sn__ox_ctx *c);
sn_status sn__ox_fold_squeeze(sn__ox_ctx *c);
sn_status sn__ox_fold_reshape(sn__ox_ctx *c);
sn_status sn__ox_fold_slice(sn__ox_ctx *c);
sn_status sn__ox_fold_flatten(sn__ox_ctx *c);
sn_status sn__ox_fold_range(sn__ox_ctx *c);
sn_status sn__ox_fold_expand(sn__ox_ctx *c);

/* Axis lists shared by the host and graph forms of Squeeze/Unsqueeze/Slice. */
sn_status sn__ox_axes(sn__ox_ctx *c, int attr_opset_below, int input_k, int rank,
                      int64_t *axes, int *n_axes, bool *given);
/* Output dims of Unsqueeze / Squeeze (axes from the attribute or input, by opset) for an input
 * of the given dims; squeezed[i] tells which input dims go. */
sn_status sn__ox_unsqueeze_dims(sn__ox_ctx *c, int rank, const int64_t *din, int *rank_out,
                                int64_t *dout);
sn_status sn__ox_squeeze_dims(sn__ox_ctx *c, int rank, const int64_t *din, int *rank_out,
                              int64_t *dout, bool *squeezed);
/* Slice's constant inputs resolved for an input of the given dims: first index, step and
 * output length of every dim. */
sn_status sn__ox_slice_params(sn__ox_ctx *c, int rank, const int64_t *din, int64_t *first,
                              int64_t *step, int64_t *dout);
/* Normalise a possibly negative axis for rank r; false when out of range. */
bool sn__ox_norm_axis(int64_t *axis, int r);

/* The model's metadata_props as g's labels, preprocessing and properties (onnx_meta.c), on the
 * finished graph before the importer adds its own properties. Entries that do not validate
 * become warnings in rep; only running out of memory fails. */
sn_status sn__ox_import_metadata(const Onnx__ModelProto *m, sn_graph *g, sn_onnx_report *rep,
                                 sn_error *err);

#endif
