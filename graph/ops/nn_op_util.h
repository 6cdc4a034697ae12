/*
 * nn_op_util.h - private helpers shared by the neural-network op definitions (conv.c, pool.c,
 * dense.c, norm.c, softmax.c): the common input checks, range-checked attribute readers, the
 * 2-D window geometry of Conv and the pools, and the fused-activation attributes of FusedConv
 * and Gemm. Inference, scratch sizing and the kernels' run functions all read attributes through
 * these, so they cannot disagree about a node.
 */
#ifndef SN_NN_OP_UTIL_H
#define SN_NN_OP_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "conv.h"
#include "graph.h"
#include "tensor_op_util.h"

/* Input i when the node has it and it is not omitted, else NULL. */
static inline const sn_value *sn__nn_opt_input(const sn_node *n, const sn_value *in, int i) {
    return i < n->n_inputs && in[i].present ? &in[i] : NULL;
}

/* Inputs [0, n_required) must be present; every present input must be f32 with a valid rank
 * and dims in [1, INT32_MAX] (the kernels index with int64 but hand dims to BLAS as int). */
sn_status sn__nn_check_inputs(const sn_node *n, const sn_value *in, int n_required, sn_error *err);

/* Input i must have rank `rank`; `what` names it in the message ("X", "W"...). */
sn_status sn__nn_check_rank(const sn_node *n, const sn_value *in, int i, const char *what,
                            int rank, sn_error *err);

/* Integer / float attribute with a default, rejecting a wrong type or a value outside [lo, hi]
 * (floats: NaN). */
sn_status sn__nn_attr_int(const sn_node *n, const char *name, int64_t dflt, int64_t lo, int64_t hi,
                          int64_t *out, sn_error *err);
sn_status sn__nn_attr_float(const sn_node *n, const char *name, float dflt, float *out,
                            sn_error *err);

/* The `layout` attribute of an op with a layout-dependent meaning: SN_LAYOUT_NCHW (the default)
 * or SN_LAYOUT_NHWC; anything else is an error. */
sn_status sn__nn_attr_layout(const sn_node *n, int64_t *layout, sn_error *err);

/* A GEMM extent (often a product of dims, hence a double: no overflow) must fit an int. */
sn_status sn__nn_check_blas_dim(const sn_node *n, const char *what, double v, sn_error *err);

/* How a window's output size is computed. */
typedef struct sn_window_rules {
    bool dilations; /* the op accepts a dilations attribute */
    bool ceil_mode; /* round the output size up (a window starting in the end padding is dropped) */
    bool pads_below_kernel; /* every pad must be smaller than the kernel (pools, as in ONNX Runtime)
                             */
} sn_window_rules;

/* Reads strides[2], pads[4] and (when allowed) dilations[2], then fills win for a kh x kw kernel
 * over an h x w input. SN_ERR_INVALID_ARGUMENT for a malformed attribute, SN_ERR_SHAPE when the
 * (dilated) kernel is larger than the padded input. */
sn_status sn__nn_window_read(const sn_node *n, int64_t h, int64_t w, int64_t kh, int64_t kw,
                             sn_window_rules rules, sn_window2d *win, sn_error *err);

/* The activation, act_alpha and act_beta attributes of a fused node. When absent, alpha/beta
 * default to the standalone op's defaults: Clip -inf/+inf, LeakyRelu 0.01, HardSigmoid 0.2/0.5. */
sn_status sn__nn_act_read(const sn_node *n, sn_activation *act, float *alpha, float *beta,
                          sn_error *err);

/* Attribute specs for the fused activation, to splice into an op's attribute list. */
#define SN__NN_ACT_ATTR_SPECS                                                                  \
    {"activation", SN_ATTR_INT}, {"act_alpha", SN_ATTR_FLOAT}, {"act_beta", SN_ATTR_FLOAT}

#endif
