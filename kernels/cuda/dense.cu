// dense.cu - Gemm and MatMul: y[M,N] = act(alpha * op(A) op(B) + beta * C), fp32 accumulation.
//
// Tiled like fused_conv.cu's implicit GEMM: SN_BM x SN_BN output tiles, SN_BK-deep slices of A
// and B in shared memory, a 4 x 4 register block per thread. A is [M,K] (SN_TRANS_A: stored
// [K,M]), B is [K,N] (SN_TRANS_B: stored [N,K]), both row-major. M is the batch-dependent side:
// rows = n * SN_M when SN_M_BATCHED, else SN_M. MatMul over stacked matrices runs one grid
// z-slice per matrix (SN_ZB, or n * SN_ZB when SN_Z_BATCHED), offsetting A, B and y by
// SN_A_ZS, SN_B_ZS (0: B shared by all) and SN_Y_ZS elements.
// C (SN_HAS_C) is read at c[row * SN_C_RS + col * SN_C_CS]: strides 0 broadcast it.
// Constants: SN_K, SN_N, SN_ALPHA, SN_BETA, SN_ACT, SN_ACT_ALPHA, SN_ACT_BETA and the above.
// grid (ceil(N / SN_BN), ceil(rows / SN_BM), slices), block SN_THREADS.

#define SN_TM 4
#define SN_TN 4
#define SN_TY (SN_BM / SN_TM)
#define SN_TX (SN_BN / SN_TN)
#define SN_THREADS (SN_TX * SN_TY)
#define SN_A_ROWS (SN_THREADS / SN_BK)
#define SN_B_ROWS (SN_THREADS / SN_BN)
static_assert(SN_THREADS % SN_BK == 0 && SN_BM % SN_A_ROWS == 0, "A tile load shape");
static_assert(SN_THREADS % SN_BN == 0 && SN_BK % SN_B_ROWS == 0, "B tile load shape");

extern "C" __global__ void __launch_bounds__(SN_THREADS)
    sn_dense(int n, const sn_t *__restrict__ a, const sn_t *__restrict__ b,
             const sn_t *__restrict__ c, sn_t *__restrict__ y) {
    __shared__ float As[SN_BK][SN_BM + 4];
    __shared__ float Bs[SN_BK][SN_BN];
    const sn_idx rows = SN_M_BATCHED ? (sn_idx)n * SN_M : (sn_idx)SN_M;
    const sn_idx z = blockIdx.z;
    a += z * (sn_idx)SN_A_ZS;
    b += z * (sn_idx)SN_B_ZS;
    y += z * (sn_idx)SN_Y_ZS;
    const int tid = threadIdx.x, tx = tid % SN_TX, ty = tid / SN_TX;
    const sn_idx m0 = (sn_idx)blockIdx.y * SN_BM;
    const int n0 = blockIdx.x * SN_BN;

    float acc[SN_TM][SN_TN];
#pragma unroll
    for (int i = 0; i < SN_TM; i++)
#pragma unroll
        for (int j = 0; j < SN_TN; j++) acc[i][j] = 0.0f;

    const int ka = tid % SN_BK, ma = tid / SN_BK;
    const int nb = tid % SN_BN, kb = tid / SN_BN;
    for (int k0 = 0; k0 < SN_K; k0 += SN_BK) {
#pragma unroll
        for (int i = 0; i < SN_BM / SN_A_ROWS; i++) {
            const int mm = ma + i * SN_A_ROWS, k = k0 + ka;
            const sn_idx m = m0 + mm;
            float v = 0.0f;
            if (m < rows && k < SN_K)
                v = sn_ld(a + (SN_TRANS_A ? (sn_idx)k * rows + m : m * SN_K + k));
            As[ka][mm] = sn_mm(v);
        }
#pragma unroll
        for (int i = 0; i < SN_BK / SN_B_ROWS; i++) {
            const int kk = kb + i * SN_B_ROWS, k = k0 + kk, col = n0 + nb;
            float v = 0.0f;
            if (col < SN_N && k < SN_K)
                v = sn_ld(b + (SN_TRANS_B ? (sn_idx)col * SN_K + k : (sn_idx)k * SN_N + col));
            Bs[kk][nb] = sn_mm(v);
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < SN_BK; kk++) {
            float av[SN_TM], bv[SN_TN];
#pragma unroll
            for (int i = 0; i < SN_TM; i++) av[i] = As[kk][ty + i * SN_TY];
#pragma unroll
            for (int j = 0; j < SN_TN; j++) bv[j] = Bs[kk][tx + j * SN_TX];
#pragma unroll
            for (int i = 0; i < SN_TM; i++)
#pragma unroll
                for (int j = 0; j < SN_TN; j++) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
        }
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < SN_TM; i++) {
        const sn_idx m = m0 + ty + i * SN_TY;
        if (m >= rows) continue;
#pragma unroll
        for (int j = 0; j < SN_TN; j++) {
            const int col = n0 + tx + j * SN_TX;
            if (col >= SN_N) continue;
            float v = SN_ALPHA * acc[i][j];
#if SN_HAS_C
            v += SN_BETA * sn_ld(c + m * (sn_idx)SN_C_RS + (sn_idx)col * SN_C_CS);
#endif
            sn_st(y + m * SN_N + col, sn_activate(SN_ACT, v, SN_ACT_ALPHA, SN_ACT_BETA));
        }
    }
}
