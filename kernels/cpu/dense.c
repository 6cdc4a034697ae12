/*
 * dense.c - Gemm and MatMul through cblas_sgemm. Gemm's C term and activation are one pass over
 * each output row after the product (sn_cpu_bias_act_f32), rather than pre-filling y with C. A
 * MatMul whose right operand is shared by every batch folds the batch into the rows of a single
 * sgemm; other batches run one sgemm each. sgemm is never called inside an OpenMP region.
 */
#include "dense.h"

#include <cblas.h>
#include <limits.h>

#include "conv.h"

#define SN__PAR_MIN_WORK ((int64_t)1 << 15) /* below this many elements, forking costs more */

void sn_cpu_gemm_f32(const sn_gemm_params *p, const float *a, const float *b, const float *c,
                     float *y, int threads) {
    const int nt = threads > 0 ? threads : 1;
    cblas_sgemm(CblasRowMajor, p->trans_a ? CblasTrans : CblasNoTrans,
                p->trans_b ? CblasTrans : CblasNoTrans, (blasint)p->m, (blasint)p->n,
                (blasint)p->k, p->alpha, a, (blasint)(p->trans_a ? p->m : p->k), b,
                (blasint)(p->trans_b ? p->k : p->n), 0.0f, y, (blasint)p->n);
    /* beta == 0 drops C entirely (as in BLAS), so an inf in C cannot turn into NaN. */
    if (p->beta == 0.0f) c = NULL;
    if (!c && p->act == SN_ACT_NONE) return;
#pragma omp parallel for num_threads(nt) schedule(static) \
    if (nt > 1 && p->m * p->n >= SN__PAR_MIN_WORK)
    for (int64_t i = 0; i < p->m; i++) {
        float *yr = y + i * p->n;
        const float *cr = c ? c + (p->c_rows == 1 ? 0 : i * p->c_cols) : NULL;
        if (cr && p->c_cols == p->n && p->n > 1)
            sn_cpu_bias_act_f32(yr, p->n, 0.0f, cr, p->beta, p->act, p->act_alpha, p->act_beta);
        else
            sn_cpu_bias_act_f32(yr, p->n, cr ? p->beta * cr[0] : 0.0f, NULL, 1.0f, p->act,
                                p->act_alpha, p->act_beta);
    }
}

static void matmul_one(const sn_matmul_params *p, int64_t rows, const float *a, const float *b,
                       float *y) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)rows, (blasint)p->n,
                (blasint)p->k, 1.0f, a, (blasint)p->k, b, (blasint)p->n, 0.0f, y, (blasint)p->n);
}

void sn_cpu_matmul_f32(const sn_matmul_params *p, const float *a, const float *b, float *y) {
    int64_t count = 1, b_count = 1;
    for (int d = 0; d < p->batch_rank; d++) {
        count *= p->batch[d];
        b_count *= p->b_batch[d];
    }
    const int64_t a_mat = p->m * p->k, b_mat = p->k * p->n, y_mat = p->m * p->n;
    /* B shared by all batches: A's batches are then exactly y's, contiguous, so they stack. */
    if (b_count == 1 && count * p->m <= INT_MAX) {
        matmul_one(p, count * p->m, a, b, y);
        return;
    }
    /* Strides in matrices of each operand's batch dims; 0 where the operand broadcasts. */
    int64_t sa[SN_MAX_RANK], sb[SN_MAX_RANK], idx[SN_MAX_RANK] = {0};
    int64_t ra = 1, rb = 1;
    for (int d = p->batch_rank - 1; d >= 0; d--) {
        sa[d] = p->a_batch[d] == 1 ? 0 : ra;
        sb[d] = p->b_batch[d] == 1 ? 0 : rb;
        ra *= p->a_batch[d];
        rb *= p->b_batch[d];
    }
    int64_t oa = 0, ob = 0;
    for (int64_t i = 0; i < count; i++) {
        matmul_one(p, p->m, a + oa * a_mat, b + ob * b_mat, y + i * y_mat);
        for (int d = p->batch_rank - 1; d >= 0; d--) { /* odometer step over the batch index */
            oa += sa[d];
            ob += sb[d];
            if (++idx[d] < p->batch[d]) break;
            oa -= sa[d] * p->batch[d];
            ob -= sb[d] * p->batch[d];
            idx[d] = 0;
        }
    }
}
