/*
 * tflite_model.h - the exporter's in-memory TFLite model: tensors, operators and the graph's
 * inputs and outputs, between lowering a Sentinel graph (tflite_lower*.c) and writing the
 * FlatBuffer (tflite_write.c), with quantization (tflite_quant.c) rewriting it in between.
 *
 * Tensors hold TFLite shapes (NHWC for what Sentinel keeps as NCHW). Constants own their bytes
 * in the tensor's type; float weights keep a role (conv filter, bias...) so quantization knows
 * how to treat them. An activation remembers which Sentinel tensor of the legalized graph it
 * carries (`src`), since that is where int8 calibration measures its range.
 */
#ifndef SN_TFLITE_MODEL_H
#define SN_TFLITE_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "graph.h"
#include "tflite_schema.h"

/* What a float constant is to the op that reads it; decides its int8 quantization. */
typedef enum sn_tfl_role {
    SN_TFL_ROLE_NONE = 0,  /* an activation, or an int32 parameter (shape, axes, pads) */
    SN_TFL_ROLE_FILTER,    /* CONV_2D / FULLY_CONNECTED weights: per-channel on dim 0 */
    SN_TFL_ROLE_DW_FILTER, /* DEPTHWISE_CONV_2D weights [1,H,W,O]: per-channel on dim 3 */
    SN_TFL_ROLE_BIAS,      /* bias of the op above: int32, scale = input scale * filter scale */
    SN_TFL_ROLE_OPERAND,   /* an operand of ADD / SUB / MUL: its own per-tensor range */
    SN_TFL_ROLE_SAME_AS_IN /* MAXIMUM / MINIMUM / PADV2 value: the input's quantization */
} sn_tfl_role;

typedef struct sn_tfl_tensor {
    char *name; /* malloc'ed, unique */
    int type;   /* SN_TFL_FLOAT32... */
    int rank;
    int32_t shape[SN_MAX_RANK]; /* at batch 1 */
    bool batched;               /* dim 0 is the dynamic batch: shape_signature says -1 */
    void *data;                 /* constants: malloc'ed bytes in `type`; NULL for activations */
    size_t nbytes;
    sn_tfl_role role;
    int src; /* the legalized graph's tensor this carries, or -1 */
    /* Quantization (int8 tensors and int32 biases): n_quant scales and zero points along
     * quant_dim (1 for per-tensor). */
    int n_quant, quant_dim;
    float *scale;
    int64_t *zero_point;
} sn_tfl_tensor;

/* One field of a builtin options table. */
typedef struct sn_tfl_opt {
    int slot;
    char kind; /* 'b' byte or bool, 'i' int32, 'f' float */
    int32_t i;
    float f;
} sn_tfl_opt;

#define SN_TFL_MAX_OPTS 8

typedef struct sn_tfl_op {
    int code;    /* builtin operator */
    int version; /* operator version (1 unless the kernel needs a newer registration) */
    int n_in, n_out;
    int *in, *out; /* malloc'ed tensor indices; -1 for an omitted optional input */
    int opt_type;  /* SN_TFL_OPT_*, or NONE */
    int n_opts;
    sn_tfl_opt opts[SN_TFL_MAX_OPTS];
    int node; /* the legalized graph's node it lowers (messages), or -1 */
} sn_tfl_op;

typedef struct sn_tfl_model {
    const sn_graph *g; /* the legalized graph the model was lowered from */
    sn_tfl_tensor *t;
    int n_t, cap_t;
    sn_tfl_op *ops;
    int n_ops, cap_ops;
    int *inputs, n_inputs;
    int *outputs, n_outputs;
    int *map;   /* per graph tensor: its TFLite activation tensor, or -1 (g->n_tensors) */
    int *names; /* hash set of tensor names: index + 1, 0 = empty */
    size_t name_cap;
} sn_tfl_model;

sn_status sn_tfl_model_init(sn_tfl_model *m, const sn_graph *g, sn_error *err);
void sn_tfl_model_free(sn_tfl_model *m);

/* A new activation tensor (type FLOAT32 unless changed); returns its index or -1 (OOM, with
 * err set). The name is made unique by a suffix. */
int sn_tfl_add_tensor(sn_tfl_model *m, const char *name, int rank, const int32_t *shape,
                      bool batched, int src, sn_error *err);
/* A constant of `type` taking ownership of malloc'ed `data` (freed here on failure). */
int sn_tfl_add_const(sn_tfl_model *m, const char *name, int type, int rank, const int32_t *shape,
                     void *data, size_t nbytes, sn_tfl_role role, sn_error *err);
/* Convenience constants: a copy of n int32 values as a 1-D tensor, and a float scalar of
 * shape [1]. */
int sn_tfl_const_i32(sn_tfl_model *m, const char *name, const int32_t *v, int n, sn_error *err);
int sn_tfl_const_f32_scalar(sn_tfl_model *m, const char *name, float v, sn_tfl_role role,
                            sn_error *err);
/* Append an operator; inputs and outputs are copied. Returns its index or -1. */
int sn_tfl_add_op(sn_tfl_model *m, int code, int node, const int *in, int n_in, const int *out,
                  int n_out, sn_error *err);
/* Move the n ops from index `first` before all the others, each group keeping its order (the
 * QUANTIZE / DEQUANTIZE ops quantization appends run first). */
sn_status sn_tfl_ops_to_front(sn_tfl_model *m, int first, int n, sn_error *err);
/* Set its options table type, then add fields. */
void sn_tfl_op_options(sn_tfl_model *m, int op, int opt_type);
void sn_tfl_op_opt_i(sn_tfl_model *m, int op, int slot, int32_t v);
void sn_tfl_op_opt_b(sn_tfl_model *m, int op, int slot, int32_t v);
void sn_tfl_op_opt_f(sn_tfl_model *m, int op, int slot, float v);
/* The fused_activation_function slot of an op's options, or -1 when its options have none. */
int sn_tfl_act_slot(int opt_type);

/* Elements of a tensor at batch 1. */
int64_t sn_tfl_numel(const sn_tfl_tensor *t);
/* Name of a builtin operator, for messages. */
const char *sn_tfl_op_name(int code);

/* Serialise (tflite_write.c): a malloc'ed FlatBuffer the caller frees. */
sn_status sn_tfl_model_write(const sn_tfl_model *m, void **data, size_t *size, sn_error *err);

#endif
