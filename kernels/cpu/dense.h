/*
 * dense.h - CPU matrix-product kernels on OpenBLAS sgemm: Gemm (transposes, alpha/beta, a
 * broadcast C and a fused activation) and numpy MatMul with broadcast batch dimensions. Shapes
 * come resolved from the op definitions in graph/ops/dense.c.
 */
#ifndef SN_CPU_DENSE_H
#define SN_CPU_DENSE_H

#include <stdbool.h>
#include <stdint.h>

#include "op.h"

/* y[m,n] = act(alpha * op(A) op(B) + beta * C) with A [m,k] ([k,m] when trans_a), B [k,n]
 * ([n,k] when trans_b), and C (may be NULL) of shape [c_rows, c_cols] with c_rows in {1, m} and
 * c_cols in {1, n}, broadcast to [m, n]. */
typedef struct sn_gemm_params {
    int64_t m, n, k;
    bool trans_a, trans_b;
    float alpha, beta;
    int64_t c_rows, c_cols;
    sn_activation act;
    float act_alpha, act_beta;
} sn_gemm_params;

/* sgemm runs with OpenBLAS's own threads; the epilogue with up to `threads` OpenMP threads. */
void sn_cpu_gemm_f32(const sn_gemm_params *p, const float *a, const float *b, const float *c,
                     float *y, int threads);

/* y[batch..., m, n] = A[a_batch..., m, k] B[b_batch..., k, n]: the batch dims are right-aligned,
 * padded with 1 to batch_rank, and each a_batch/b_batch dim equals batch's or is 1 (broadcast). */
typedef struct sn_matmul_params {
    int batch_rank;
    int64_t batch[SN_MAX_RANK], a_batch[SN_MAX_RANK], b_batch[SN_MAX_RANK];
    int64_t m, n, k;
} sn_matmul_params;

void sn_cpu_matmul_f32(const sn_matmul_params *p, const float *a, const float *b, float *y);

#endif
