/*
 * op.h - the op set and the op registry.
 *
 * Each op has one definition (sn_op_def): its name as written in .sgraph files, its arity, the
 * attributes it accepts, shape/dtype inference, its CPU kernel, and optional scratch and FLOP
 * counters. Definitions live one family per file in graph/ops/; CPU kernels in kernels/cpu/.
 * Files store ops by name, so the enum's numbers are free to change.
 *
 * Attribute conventions (ONNX-like; NCHW activations unless a layout pass says otherwise):
 *   Conv        in: X[N,C,H,W], W[M,C/group,kH,kW], B[M]?   attrs: strides[2]=1,1
 *               pads[4]=0 (top,left,bottom,right), dilations[2]=1,1, group=1
 *   FusedConv   in: X, W, B?, Z? (residual, shape of the output)   attrs: Conv's +
 *               activation (sn_activation, default NONE), act_alpha, act_beta.
 *               y = act(conv(X,W) + B + Z)
 *   BiasAdd     in: X[N,C,...], B[C]                      y = x + b[c]
 *   BatchNormalization  in: X, scale[C], bias[C], mean[C], var[C]   attrs: epsilon=1e-5
 *   Relu, Sigmoid, Tanh, HardSwish, SiLU, Identity        no attrs
 *   Clip        attrs: min=-inf, max=+inf                 LeakyRelu  attrs: alpha=0.01
 *   HardSigmoid attrs: alpha=0.2, beta=0.5                y = max(0, min(1, alpha*x + beta))
 *   Add Sub Mul Div   two inputs, numpy broadcasting
 *   MaxPool     attrs: kernel_shape[2] (required), strides[2]=1,1, pads[4]=0, dilations[2]=1,1,
 *               ceil_mode=0          (padding never wins the max)
 *   AveragePool attrs: kernel_shape[2], strides, pads, ceil_mode=0, count_include_pad=0
 *   GlobalAveragePool   [N,C,H,W] -> [N,C,1,1]
 *   Concat      attrs: axis (required; negative counts from the end)
 *   Flatten     attrs: axis=1          -> [prod(d[0:axis]), prod(d[axis:])]
 *   Reshape     attrs: shape (ints; 0 copies the input dim, one -1 is inferred)
 *   Transpose   attrs: perm (ints; default reverses the dims)
 *   Pad         attrs: pads[2*rank] (all begins, then all ends; may be negative? no: >= 0),
 *               mode (0 constant, 1 reflect, 2 edge), value=0
 *   Resize      4-D NCHW, resizes H and W.  attrs: mode (0 nearest, 1 linear),
 *               scales[4] or sizes[4] (exactly one), coord_mode (sn_resize_coord, default
 *               half_pixel), nearest_mode (sn_nearest_mode, default round_prefer_floor)
 *   MatMul      numpy matmul (broadcast batch dims; 1-D operands promoted)
 *   Gemm        in: A, B, C?   attrs: transA=0, transB=0, alpha=1, beta=1, and the fused
 *               activation attrs of FusedConv (so Dense+bias+act is one node), flatten_a=0
 *               and layout (below).  y = act(alpha*A'B' + beta*C), C broadcast to [M,N]
 *   Softmax     attrs: axis=-1 (opset 13: softmax along one axis)
 *   Slice       attrs: starts, ends (ints, one per sliced axis), axes (default 0..n-1), steps
 *               (default 1, never 0); ONNX clamping; any dtype
 *
 * Layout. Conv, FusedConv, MaxPool, AveragePool, GlobalAveragePool, BatchNormalization, BiasAdd
 * and Resize take `layout` (int sn_layout: 1 NCHW, the default, or 2 NHWC). With NHWC their
 * 4-D activations (X, Z, the output) are [N,H,W,C], and a conv's W is OHWI [M,kH,kW,C/group];
 * every other attribute keeps its meaning (pads and strides are spatial; Resize's scales and
 * sizes stay in N,C,H,W order). Gemm's `flatten_a`=1 reads an A of any rank >= 2 as
 * [d0, d1*d2*...] (Flatten with axis 1; transA must be 0), and its `layout`=NHWC records that a
 * 4-D A is NHWC, so B's K rows follow (h,w,c) order. All other ops work on the tensors as
 * stored: the layout pass (graph/passes/layout.c) remaps Concat's and Softmax's axis and
 * Pad's pads when it converts their inputs.
 */
#ifndef SN_OP_H
#define SN_OP_H

#include <stdbool.h>
#include <stddef.h>

#include "sentinel.h"

/* X(ENUM_SUFFIX, "FileName", def_suffix) */
#define SN_OP_LIST(X)                                                                         \
    X(CONV, "Conv", conv)                                                                     \
    X(FUSED_CONV, "FusedConv", fused_conv)                                                    \
    X(BIAS_ADD, "BiasAdd", bias_add)                                                          \
    X(BATCHNORM, "BatchNormalization", batchnorm)                                             \
    X(RELU, "Relu", relu)                                                                     \
    X(CLIP, "Clip", clip)                                                                     \
    X(LEAKY_RELU, "LeakyRelu", leaky_relu)                                                    \
    X(SIGMOID, "Sigmoid", sigmoid)                                                            \
    X(TANH, "Tanh", tanh)                                                                     \
    X(HARD_SIGMOID, "HardSigmoid", hard_sigmoid)                                              \
    X(HARD_SWISH, "HardSwish", hard_swish)                                                    \
    X(SILU, "SiLU", silu)                                                                     \
    X(ADD, "Add", add)                                                                        \
    X(SUB, "Sub", sub)                                                                        \
    X(MUL, "Mul", mul)                                                                        \
    X(DIV, "Div", div)                                                                        \
    X(MAX_POOL, "MaxPool", max_pool)                                                          \
    X(AVG_POOL, "AveragePool", avg_pool)                                                      \
    X(GLOBAL_AVG_POOL, "GlobalAveragePool", global_avg_pool)                                  \
    X(CONCAT, "Concat", concat)                                                               \
    X(FLATTEN, "Flatten", flatten)                                                            \
    X(RESHAPE, "Reshape", reshape)                                                            \
    X(TRANSPOSE, "Transpose", transpose)                                                      \
    X(PAD, "Pad", pad)                                                                        \
    X(RESIZE, "Resize", resize)                                                               \
    X(MATMUL, "MatMul", matmul)                                                               \
    X(GEMM, "Gemm", gemm)                                                                     \
    X(SOFTMAX, "Softmax", softmax)                                                            \
    X(IDENTITY, "Identity", identity)                                                         \
    X(SLICE, "Slice", slice)

typedef enum sn_op {
#define SN__OP_ENUM(e, name, def) SN_OP_##e,
    SN_OP_LIST(SN__OP_ENUM)
#undef SN__OP_ENUM
    SN_OP_COUNT
} sn_op;

/* Activations a fused node can apply after its sum. Stored as an int attribute. */
typedef enum sn_activation {
    SN_ACT_NONE = 0,
    SN_ACT_RELU = 1,
    SN_ACT_CLIP = 2,         /* min(max(x, alpha), beta); ReLU6 is alpha=0, beta=6 */
    SN_ACT_LEAKY_RELU = 3,   /* x >= 0 ? x : alpha*x */
    SN_ACT_SIGMOID = 4,
    SN_ACT_TANH = 5,
    SN_ACT_HARD_SIGMOID = 6, /* max(0, min(1, alpha*x + beta)) */
    SN_ACT_HARD_SWISH = 7,   /* x * relu6(x+3) / 6 */
    SN_ACT_SILU = 8,         /* x * sigmoid(x) */
    SN_ACT_COUNT
} sn_activation;

const char *sn_activation_name(sn_activation a);

typedef enum sn_resize_coord {
    SN_COORD_HALF_PIXEL = 0,
    SN_COORD_ASYMMETRIC = 1,
    SN_COORD_ALIGN_CORNERS = 2,
    SN_COORD_PYTORCH_HALF_PIXEL = 3
} sn_resize_coord;

typedef enum sn_nearest_mode {
    SN_NEAREST_ROUND_PREFER_FLOOR = 0,
    SN_NEAREST_ROUND_PREFER_CEIL = 1,
    SN_NEAREST_FLOOR = 2,
    SN_NEAREST_CEIL = 3
} sn_nearest_mode;

struct sn_node;
struct sn_shape;

/* A tensor as a kernel or an inference function sees it. For inputs, data is non-NULL when the
 * value is known (a constant, or an activation at run time); `present` is false for an omitted
 * optional input. Activations are dense, row-major, in the dtype given. */
typedef struct sn_value {
    bool present;
    sn_dtype dtype;
    int rank;
    int64_t d[SN_MAX_RANK];
    void *data;
} sn_value;

typedef struct sn_cpu_ctx {
    int threads;          /* threads the kernel may use (OpenMP / OpenBLAS) */
    void *scratch;        /* cpu_scratch() bytes, 64-byte aligned, uninitialised */
    size_t scratch_bytes;
} sn_cpu_ctx;

typedef struct sn_attr_spec {
    const char *name;
    int type; /* sn_attr_type */
} sn_attr_spec;

typedef struct sn_op_def {
    const char *name;
    int min_inputs, max_inputs, n_outputs;
    const sn_attr_spec *attrs; /* accepted attributes, terminated by {NULL, 0} */
    /* Check attributes and input shapes/dtypes; fill out[i].dtype/rank/d. Input data is
     * available for constants (e.g. to fold); out[].data is NULL and must not be written. */
    sn_status (*infer)(const struct sn_node *n, const sn_value *in, sn_value *out,
                       struct sn_error *err);
    /* Compute out[] from in[]; shapes are the inferred ones. Never called with an f32 op given
     * other dtypes unless the op's infer accepted them. */
    sn_status (*cpu_run)(const sn_cpu_ctx *ctx, const struct sn_node *n, const sn_value *in,
                         sn_value *out, struct sn_error *err);
    /* Optional: scratch bytes cpu_run needs for these shapes and thread count. */
    size_t (*cpu_scratch)(const struct sn_node *n, const sn_value *in, const sn_value *out,
                          int threads);
    /* Optional: floating-point operations (a multiply-add counts 2) for these shapes; when NULL
     * the count is the number of output elements. */
    double (*flops)(const struct sn_node *n, const sn_value *in, const sn_value *out);
} sn_op_def;

/* NULL when op is out of range. */
const sn_op_def *sn_op_get(sn_op op);
const char *sn_op_name(sn_op op);
/* SN_OP_COUNT when the name is unknown. */
sn_op sn_op_from_name(const char *name);

/* Element count of a value (product of dims; 1 for rank 0). */
int64_t sn_value_numel(const sn_value *v);

#endif
