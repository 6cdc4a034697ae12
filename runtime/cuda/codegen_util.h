/*
 * codegen_util.h - private helpers of the CUDA code generator (codegen.c, codegen_nn.c): a
 * growable source text, #define writers, and the start and end of every kernel's source.
 */
#ifndef SN_CUDA_CODEGEN_UTIL_H
#define SN_CUDA_CODEGEN_UTIL_H

#include "codegen.h"
#include "error.h"

/* Appends; on allocation failure it sets `failed` and keeps what it had. */
typedef struct sn__src {
    char *buf;
    size_t len, cap;
    bool failed;
} sn__src;

void sn__cg_src_printf(sn__src *s, const char *fmt, ...) SN_PRINTF(2, 3);
/* #define NAME value */
void sn__cg_def_int(sn__src *s, const char *name, int64_t v);
/* #define NAME __int_as_float(0x...): the exact bits of v, infinities included. */
void sn__cg_def_float(sn__src *s, const char *name, float v);
/* #define NAME a,b,c (for constexpr arrays) */
void sn__cg_def_list(sn__src *s, const char *name, const int64_t *v, int n);

/* Starts a kernel: label, template, entry, and the defines every template reads (dtype, TF32,
 * 64-bit indexing when any of the `elems` counts reaches 2^31). */
void sn__cg_kernel_begin(sn_cuda_kernel *k, sn__src *s, const sn_cuda_codegen_ctx *ctx,
                         const char *template_name, const char *entry, int64_t max_elems,
                         const char *label_fmt, ...) SN_PRINTF(7, 8);
/* Appends common.cuh and the template and hands the text to k->source. */
sn_status sn__cg_kernel_end(sn_cuda_kernel *k, sn__src *s, sn_error *err);

void sn__cg_arg(sn_cuda_kernel *k, sn_cuda_arg_kind kind, int index);
/* A 1-D launch over `per` elements per unit of n (or `fixed` elements in all when per is 0). */
void sn__cg_grid_1d(sn_cuda_kernel *k, int64_t per, int64_t fixed, int block);

/* Batch-1 shape and whether dim 0 is the batch, for tensor t. */
const sn_shape *sn__cg_shape(const sn_cuda_codegen_ctx *ctx, int t);
bool sn__cg_batched(const sn_cuda_codegen_ctx *ctx, int t);
/* Elements of t at max_batch (for the 64-bit index decision). */
int64_t sn__cg_max_elems(const sn_cuda_codegen_ctx *ctx, int t);
/* A batched tensor whose dim 0 is not exactly the batch (1 at batch 1) is refused. */
sn_status sn__cg_check_batch_dim(const sn_cuda_codegen_ctx *ctx, const sn_node *n, int t,
                                 sn_error *err);
/* SN_ERR_UNSUPPORTED when the node asks for NHWC. */
sn_status sn__cg_check_nchw(const sn_node *n, sn_error *err);
const char *sn__cg_node_name(const sn_node *n);

/* Op families in codegen_nn.c. */
sn_status sn__cg_gen_conv(const sn_cuda_codegen_ctx *ctx, const sn_node *n, int variant,
                          sn_cuda_kernel *k, sn_error *err);
sn_status sn__cg_gen_pool(const sn_cuda_codegen_ctx *ctx, const sn_node *n, sn_cuda_kernel *k,
                          sn_error *err);
sn_status sn__cg_gen_dense(const sn_cuda_codegen_ctx *ctx, const sn_node *n, sn_cuda_kernel *k,
                           sn_error *err);
sn_status sn__cg_gen_softmax(const sn_cuda_codegen_ctx *ctx, const sn_node *n, sn_cuda_kernel *k,
                             sn_error *err);
sn_status sn__cg_gen_resize(const sn_cuda_codegen_ctx *ctx, const sn_node *n, sn_cuda_kernel *k,
                            sn_error *err);

/* Elements per unit of n when t is batched, else all of them; *ndim the batch axis or -1. */
int64_t sn__cg_per(const sn_cuda_codegen_ctx *ctx, int t, int *ndim);
/* A 1-D launch over tensor t. */
void sn__cg_grid_over(sn_cuda_kernel *k, const sn_cuda_codegen_ctx *ctx, int t);

/* Op families in codegen_ew.c. */
bool sn__cg_unary_act(const sn_node *n, sn_activation *act, float *a, float *b);
sn_status sn__cg_gen_activation(const sn_cuda_codegen_ctx *ctx, const sn_node *n, sn_cuda_kernel *k,
                                sn_error *err);
sn_status sn__cg_gen_affine(const sn_cuda_codegen_ctx *ctx, const sn_node *n, sn_cuda_kernel *k,
                            sn_error *err);
sn_status sn__cg_gen_binary(const sn_cuda_codegen_ctx *ctx, const sn_node *n, sn_cuda_kernel *k,
                            sn_error *err);

/* Op families in codegen_layout.c (Concat fills one kernel per input). */
sn_status sn__cg_gen_concat(const sn_cuda_codegen_ctx *ctx, const sn_node *n, sn_cuda_kernel *ks,
                            sn_error *err);
sn_status sn__cg_gen_transpose(const sn_cuda_codegen_ctx *ctx, const sn_node *n, sn_cuda_kernel *k,
                               sn_error *err);
sn_status sn__cg_gen_pad(const sn_cuda_codegen_ctx *ctx, const sn_node *n, sn_cuda_kernel *k,
                         sn_error *err);
/* Slice exists once its CPU kernel header (ONNX clamping rule) is in the tree. */
#if __has_include("slice.h")
#define SN__HAVE_SLICE 1
sn_status sn__cg_gen_slice(const sn_cuda_codegen_ctx *ctx, const sn_node *n, sn_cuda_kernel *k,
                           sn_error *err);
#endif

#define SN__THREADS 256

#endif
