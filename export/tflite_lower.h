/*
 * tflite_lower.h - helpers shared by the lowering files (tflite_lower.c: driver and layout;
 * tflite_lower_nn.c: conv, pools, dense, pad, resize; tflite_lower_ops.c: elementwise,
 * activations, shape ops; tflite_fuse.c: activation fusion and cleanup).
 */
#ifndef SN_TFLITE_LOWER_H
#define SN_TFLITE_LOWER_H

#include <stdbool.h>

#include "tflite_export.h"

extern const int sn__tfl_nhwc_perm[4]; /* TFLite dim i of a 4-D activation <- Sentinel dim */
extern const int sn__tfl_nchw_perm[4]; /* the TRANSPOSE perm from NHWC back to NCHW */

/* SN_ERR_UNSUPPORTED naming node ni and its op, with the reason. */
sn_status sn__tfl_refuse(const sn_tfl_model *m, int ni, sn_error *err, const char *fmt, ...)
    SN_PRINTF(4, 5);

/* Graph tensor t is an activation stored NHWC in TFLite (4-D, not a constant). */
bool sn__tfl_is_nhwc(const sn_graph *g, int t);
/* The TFLite tensor of graph activation t (made on first use), or -1 with err set. */
int sn__tfl_act_tensor(sn_tfl_model *m, int t, sn_error *err);
/* Graph constant t (f32) as a TFLite constant; against a 4-D activation (other_rank 4) its
 * NCHW broadcast shape is stored NHWC. -1 with err set on failure. */
int sn__tfl_operand_const(sn_tfl_model *m, int t, int other_rank, sn_tfl_role role, sn_error *err);
/* Whether permuting dims by perm moves no element. */
bool sn__tfl_perm_is_trivial(const int32_t *dims, int rank, const int *perm);
/* TRANSPOSE of TFLite tensor x by perm into a new tensor (returned), for node ni. */
int sn__tfl_emit_transpose(sn_tfl_model *m, int ni, int x, const int *perm, sn_error *err);
/* The same into the existing tensor y (returned); -1 with err set on failure. */
int sn__tfl_emit_transpose_to(sn_tfl_model *m, int ni, int x, const int *perm, int y,
                              sn_error *err);
/* RESHAPE of x into the existing tensor y (its shape, -1 for a batched dim 0). */
int sn__tfl_emit_reshape(sn_tfl_model *m, int ni, int x, int y, sn_error *err);
/* Graph activation t as a TFLite tensor whose memory order is Sentinel's (NCHW): t itself,
 * or a transposed copy when the NHWC order differs. */
int sn__tfl_to_nchw_order(sn_tfl_model *m, int ni, int t, sn_error *err);

/* Lower node ni of m->g (dispatch in tflite_lower_ops.c). */
sn_status sn__tfl_lower_node(sn_tfl_model *m, int ni, sn_error *err);
sn_status sn__tfl_lower_conv(sn_tfl_model *m, int ni, sn_error *err);
sn_status sn__tfl_lower_pool(sn_tfl_model *m, int ni, sn_error *err);
sn_status sn__tfl_lower_dense(sn_tfl_model *m, int ni, sn_error *err); /* Gemm, MatMul */
sn_status sn__tfl_lower_pad(sn_tfl_model *m, int ni, sn_error *err);
sn_status sn__tfl_lower_resize(sn_tfl_model *m, int ni, sn_error *err);

/* Fuse RELU / RELU6 / RELU_N1_TO_1 into the op before them where TFLite allows it, then drop
 * dead operators and unreferenced tensors. */
void sn__tfl_fuse_activations(sn_tfl_model *m);

#endif
