/*
 * layout_util.h - private helpers of the layout pass (layout.c): the state of a conversion
 * (which tensors are stored NHWC, which transposed copies exist), transposes inserted at the
 * graph's edges, and constants rewritten for channels-last nodes.
 *
 * Every tensor of the original graph is a logical NCHW value. Converting a node leaves its
 * output tensor where it is but stores it NHWC (its shape permuted to [N,H,W,C] and its layout
 * marked); a graph output keeps its NCHW tensor and name, written by a Transpose from an NHWC
 * twin. A reader that needs the other layout gets a Transpose, made once per tensor.
 */
#ifndef SN_LAYOUT_UTIL_H
#define SN_LAYOUT_UTIL_H

#include <stdbool.h>

#include "pass_util.h"

typedef struct sn__layout {
    sn_graph *g;
    int nt;          /* tensors of the graph before the pass: the logical values */
    bool *stored;    /* nt: the tensor itself is now stored NHWC */
    bool *pre;       /* nt: it already was (an earlier run converted it) */
    int *nhwc;       /* nt: a tensor holding its NHWC data, or -1 */
    int *nchw;       /* nt: a tensor holding its NCHW data, or -1 */
    int *perm_const; /* nt: the NHWC form of a constant operand (or OHWI weights), or -1 */
    sn_error *err;
    int nodes, in_transposes, out_transposes, constants, gemms;
} sn__layout;

sn_status sn__layout_init(sn__layout *L, sn_graph *g, sn_error *err);
void sn__layout_free(sn__layout *L);

/* The batch-1 NCHW shape of tensor t as the original graph had it. */
sn_shape sn__layout_shape(const sn__layout *L, int t);

/* A tensor holding t's data NHWC / NCHW, adding a Transpose the first time it is needed. */
sn_status sn__layout_to_nhwc(sn__layout *L, int t, int *out);
sn_status sn__layout_to_nchw(sn__layout *L, int t, int *out);

/* Output k of node ni becomes NHWC: in place, or through a twin and a Transpose back when it is
 * a graph output. */
sn_status sn__layout_convert_output(sn__layout *L, int ni, int k);

/* An f32 constant of rank <= 4 broadcast against a 4-D NCHW tensor, as a 4-D constant broadcast
 * against its NHWC form (a single value stays as it is). */
sn_status sn__layout_image_const(sn__layout *L, int t, int *out);
/* Conv weights OIHW as OHWI. */
sn_status sn__layout_ohwi_const(sn__layout *L, int t, int *out);
/* Gemm's B (transB or not) with its K rows reordered from (c,h,w) to (h,w,c) for an A of NCHW
 * shape a; *out is b itself when the order does not change (h*w == 1 or c == 1). */
sn_status sn__layout_gemm_b(sn__layout *L, int b, bool trans_b, const sn_shape *a, int *out);

#endif
