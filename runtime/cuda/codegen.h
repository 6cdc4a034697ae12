/*
 * codegen.h - from a graph node to CUDA kernels: which template (kernels/cuda/), which
 * compile-time constants, which entry point, how to launch it and what to pass it.
 *
 * Every shape, stride, pad, activation and the storage type become #defines in front of the
 * template, so each node gets a kernel specialised for it; only the batch size n is a run-time
 * argument (a node's kernel serves every batch up to the engine's max_batch). The source of a
 * kernel is complete: `#define`s, then `#line 1 "common.cuh"` and that file, then `#line 1
 * "<template>"` and the template, so NVRTC's messages point into the real files.
 *
 * Layout: NCHW only (a node with layout NHWC is SN_ERR_UNSUPPORTED). Activations are dense and
 * row-major in the engine's storage type; weights are uploaded in it too.
 */
#ifndef SN_CUDA_CODEGEN_H
#define SN_CUDA_CODEGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph.h"

/* How the GPU computes: the storage type of activations and weights, and the math. Every kernel
 * accumulates in fp32. */
typedef enum sn_gpu_precision {
    SN_GPU_FP32 = 0, /* fp32 storage, fp32 products */
    SN_GPU_TF32 = 1, /* fp32 storage, conv/dense operands rounded to TF32 */
    SN_GPU_FP16 = 2, /* IEEE half storage */
    SN_GPU_BF16 = 3  /* bfloat16 storage */
} sn_gpu_precision;

const char *sn_gpu_precision_name(sn_gpu_precision p);
/* Bytes per stored element: 4 or 2. */
size_t sn_gpu_precision_size(sn_gpu_precision p);

/* What a kernel argument is bound to at launch. */
typedef enum sn_cuda_arg_kind {
    SN_CUDA_ARG_BATCH = 0,  /* int: the batch n */
    SN_CUDA_ARG_INPUT = 1,  /* device pointer of the node's input `index` (NULL when omitted) */
    SN_CUDA_ARG_OUTPUT = 2, /* device pointer of the node's output `index` */
    SN_CUDA_ARG_AUX = 3,    /* device pointer of this kernel's aux buffer `index` */
    SN_CUDA_ARG_NULL = 4,   /* a NULL pointer (an unused optional operand) */
    SN_CUDA_ARG_IMM = 5     /* int: the value `index` itself */
} sn_cuda_arg_kind;

typedef struct sn_cuda_arg {
    sn_cuda_arg_kind kind;
    int index;
} sn_cuda_arg;

/* One grid dimension for batch n: ceil(mul * n / div) + add. */
typedef struct sn_grid_dim {
    int64_t mul, div, add;
} sn_grid_dim;

static inline int64_t sn_grid_dim_eval(sn_grid_dim d, int n) {
    return (d.mul * (int64_t)n + d.div - 1) / d.div + d.add;
}

/* Host data a kernel reads (folded BatchNorm scales, resize tables), uploaded once. */
typedef struct sn_cuda_aux {
    void *data; /* malloc'ed */
    size_t bytes;
} sn_cuda_aux;

#define SN_CUDA_MAX_ARGS 8
#define SN_CUDA_MAX_AUX 2

typedef struct sn_cuda_kernel {
    char *source;              /* malloc'ed, complete */
    const char *template_name; /* "fused_conv.cu" (static) */
    const char *entry;         /* extern "C" name (static) */
    char label[192];           /* for messages and listings */
    sn_grid_dim grid[3];
    int block; /* threads per block (x only) */
    sn_cuda_arg args[SN_CUDA_MAX_ARGS];
    int n_args;
    sn_cuda_aux aux[SN_CUDA_MAX_AUX];
    int n_aux;
} sn_cuda_kernel;

/* How a node runs on the GPU. */
typedef enum sn_cuda_node_kind {
    SN_CUDA_NODE_KERNELS = 0, /* launch kernels[0..n) in order */
    SN_CUDA_NODE_ALIAS = 1    /* output 0 is input 0's bytes, unchanged (Reshape, Flatten,
                               * Identity): no kernel; the engine aliases or copies */
} sn_cuda_node_kind;

/* Conv kernel variants (sn_cuda_codegen_node's `variant` for FusedConv / Conv). */
typedef enum sn_conv_variant {
    SN_CONV_AUTO = -1,
    SN_CONV_IGEMM = 0,
    SN_CONV_DIRECT = 1,
    SN_CONV_DEPTHWISE = 2 /* only when every group has one input channel */
} sn_conv_variant;

typedef struct sn_cuda_codegen_ctx {
    const sn_graph *g; /* shapes inferred (SN_TENSOR_BATCHED says what scales) */
    int max_batch;     /* decides 64-bit indexing */
    sn_gpu_precision precision;
    sn_shape *shapes; /* every tensor's concrete shape at batch 1 (owned) */
} sn_cuda_codegen_ctx;

/* Fill a context for g (its concrete batch-1 shapes); release with sn_cuda_codegen_ctx_free. */
sn_status sn_cuda_codegen_ctx_init(sn_cuda_codegen_ctx *ctx, const sn_graph *g, int max_batch,
                                   sn_gpu_precision precision, sn_error *err);
void sn_cuda_codegen_ctx_free(sn_cuda_codegen_ctx *ctx);

/* The kernels of node `node`. *kernels receives a malloc'ed array of *count kernels (free with
 * sn_cuda_kernels_free), empty for SN_CUDA_NODE_ALIAS. `variant` picks a conv variant (AUTO for
 * the heuristic); other ops ignore it. SN_ERR_UNSUPPORTED names the node and what is missing. */
sn_status sn_cuda_codegen_node(const sn_cuda_codegen_ctx *ctx, int node, int variant,
                               sn_cuda_node_kind *kind, sn_cuda_kernel **kernels, int *count,
                               sn_error *err);

/* The conv variants that can run node `node` (a FusedConv or Conv): bit v set for variant v. */
unsigned sn_cuda_conv_variants(const sn_cuda_codegen_ctx *ctx, int node);

/* A cast between the host's f32 and the storage type for tensor t (a graph input when to_device,
 * else a graph output): argument 0 is n, 1 the source, 2 the destination (both AUX-free:
 * bound as INPUT 0 and OUTPUT 0). */
sn_status sn_cuda_codegen_cast(const sn_cuda_codegen_ctx *ctx, int tensor, bool to_device,
                               sn_cuda_kernel *out, sn_error *err);

/* The batch preprocessing kernel (preprocess.cu): n 8-bit RGB images, each at its own size,
 * packed with their descriptors in one buffer (the format is in preprocess.cu), into a model
 * input [n,3,H,W] (NCHW) or [n,H,W,3] (NHWC) of the precision's storage type, as p says.
 * Specialised only on what is fixed per engine (output size, layout, storage type, resize mode
 * and shorter side, channel order, mean/std), so one compiled kernel serves every image size.
 * Args: (n, packed buffer (INPUT 0), output (OUTPUT 0)); one thread per output pixel.
 * p must be valid (sn_preprocess_validate); max_batch decides 64-bit indexing. */
sn_status sn_cuda_codegen_preprocess(const sn_preprocess *p, sn_layout layout, int max_batch,
                                     sn_gpu_precision precision, sn_cuda_kernel *out,
                                     sn_error *err);

/* The packed buffer's descriptor: four 64-bit integers per image, before any pixel. */
#define SN_CUDA_IMAGE_DESC_BYTES 32

void sn_cuda_kernel_clear(sn_cuda_kernel *k);
void sn_cuda_kernels_free(sn_cuda_kernel *k, int count);

#endif
