// fused_conv.cu - FusedConv (and Conv): y = act(conv(x, w) + bias + z) over NCHW, with groups,
// strides, dilations and asymmetric padding; fp32 accumulation whatever the storage type.
//
// Two variants, chosen by the generator:
//   SN_CONV_IGEMM  implicit GEMM: per group, [MG x K] weights times [K x P] input patches, where
//                  K = CG*KH*KW and P = N*OH*OW; tiles of SN_BM x SN_BN outputs with SN_BK-deep
//                  slices staged in shared memory (the patches are gathered on the fly, no
//                  im2col buffer), each thread accumulating a 4 x 4 block in registers.
//                  grid (ceil(P / SN_BN), ceil(MG / SN_BM), G), block SN_THREADS.
//   SN_CONV_DIRECT one thread per output element, the window loops unrolled: for convolutions
//                  too small in K or in channels per group to fill GEMM tiles.
//                  grid ceil(N*M*OH*OW / SN_THREADS), block SN_THREADS.
// Constants: SN_C SN_H SN_W (input), SN_M (output channels), SN_G (groups), SN_KH SN_KW,
// SN_SH SN_SW (strides), SN_DH SN_DW (dilations), SN_PT SN_PL (top/left pads), SN_OH SN_OW,
// SN_HAS_BIAS, SN_HAS_RES, SN_ACT, SN_ACT_ALPHA, SN_ACT_BETA.

#define SN_CG (SN_C / SN_G)
#define SN_MG (SN_M / SN_G)
#define SN_KK (SN_KH * SN_KW)
#define SN_KDIM (SN_CG * SN_KK)
#define SN_OHW (SN_OH * SN_OW)
#define SN_HW (SN_H * SN_W)

// bias + residual + activation, stored at y[off] for output channel mc.
static __device__ __forceinline__ void sn_conv_out(float v, int mc, sn_idx off,
                                                   const sn_t *__restrict__ bias,
                                                   const sn_t *__restrict__ z,
                                                   sn_t *__restrict__ y) {
#if SN_HAS_BIAS
    v += sn_ld(bias + mc);
#endif
#if SN_HAS_RES
    v += sn_ld(z + off);
#endif
    sn_st(y + off, sn_activate(SN_ACT, v, SN_ACT_ALPHA, SN_ACT_BETA));
}

#if SN_CONV_IGEMM
#define SN_TM 4
#define SN_TN 4
#define SN_TY (SN_BM / SN_TM)
#define SN_TX (SN_BN / SN_TN)
#define SN_THREADS (SN_TX * SN_TY)
#define SN_A_ROWS (SN_THREADS / SN_BK) // weight-tile rows loaded per pass
#define SN_B_ROWS (SN_THREADS / SN_BN) // patch-tile rows loaded per pass
static_assert(SN_THREADS % SN_BK == 0 && SN_BM % SN_A_ROWS == 0, "weight tile load shape");
static_assert(SN_THREADS % SN_BN == 0 && SN_BK % SN_B_ROWS == 0, "patch tile load shape");

extern "C" __global__ void __launch_bounds__(SN_THREADS)
    sn_conv_igemm(int n, const sn_t *__restrict__ x, const sn_t *__restrict__ w,
                  const sn_t *__restrict__ bias, const sn_t *__restrict__ z, sn_t *__restrict__ y) {
    // +4 keeps the k-major weight tile's column writes off a single bank.
    __shared__ float As[SN_BK][SN_BM + 4];
    __shared__ float Bs[SN_BK][SN_BN];
    const int tid = threadIdx.x;
    const int tx = tid % SN_TX, ty = tid / SN_TX;
    const int g = blockIdx.z;
    const int m0 = blockIdx.y * SN_BM;
    const sn_idx p0 = (sn_idx)blockIdx.x * SN_BN;
    const sn_idx P = (sn_idx)n * SN_OHW;

    // The patch column this thread gathers is fixed for the whole K loop.
    const int pp = tid % SN_BN, kb = tid / SN_BN;
    const sn_idx p = p0 + pp;
    const bool p_ok = p < P;
    sn_idx ni = 0;
    int oh = 0, ow = 0;
    if (p_ok) {
        ni = p / SN_OHW;
        const int r = (int)(p % SN_OHW);
        oh = r / SN_OW;
        ow = r % SN_OW;
    }
    const int ih0 = oh * SN_SH - SN_PT, iw0 = ow * SN_SW - SN_PL;
    const sn_t *xg = x + (ni * SN_C + (sn_idx)g * SN_CG) * SN_HW;
    const int ka = tid % SN_BK, ma = tid / SN_BK;
    const sn_t *wg = w + (sn_idx)g * SN_MG * SN_KDIM;

    float acc[SN_TM][SN_TN];
#pragma unroll
    for (int i = 0; i < SN_TM; i++)
#pragma unroll
        for (int j = 0; j < SN_TN; j++) acc[i][j] = 0.0f;

    for (int k0 = 0; k0 < SN_KDIM; k0 += SN_BK) {
#pragma unroll
        for (int i = 0; i < SN_BM / SN_A_ROWS; i++) {
            const int mm = ma + i * SN_A_ROWS, m = m0 + mm, k = k0 + ka;
            float v = 0.0f;
            if (m < SN_MG && k < SN_KDIM) v = sn_ld(wg + (sn_idx)m * SN_KDIM + k);
            As[ka][mm] = sn_mm(v);
        }
#pragma unroll
        for (int i = 0; i < SN_BK / SN_B_ROWS; i++) {
            const int kk = kb + i * SN_B_ROWS, k = k0 + kk;
            float v = 0.0f;
            if (p_ok && k < SN_KDIM) {
                const int c = k / SN_KK, rs = k % SN_KK;
                const int ih = ih0 + (rs / SN_KW) * SN_DH, iw = iw0 + (rs % SN_KW) * SN_DW;
                if ((unsigned)ih < (unsigned)SN_H && (unsigned)iw < (unsigned)SN_W)
                    v = sn_ld(xg + (sn_idx)c * SN_HW + ih * SN_W + iw);
            }
            Bs[kk][pp] = sn_mm(v);
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < SN_BK; kk++) {
            float a[SN_TM], b[SN_TN];
#pragma unroll
            for (int i = 0; i < SN_TM; i++) a[i] = As[kk][ty + i * SN_TY];
#pragma unroll
            for (int j = 0; j < SN_TN; j++) b[j] = Bs[kk][tx + j * SN_TX];
#pragma unroll
            for (int i = 0; i < SN_TM; i++)
#pragma unroll
                for (int j = 0; j < SN_TN; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        __syncthreads();
    }

#pragma unroll
    for (int j = 0; j < SN_TN; j++) {
        const sn_idx q = p0 + tx + j * SN_TX;
        if (q >= P) continue;
        const sn_idx qn = q / SN_OHW;
        const int r = (int)(q % SN_OHW);
#pragma unroll
        for (int i = 0; i < SN_TM; i++) {
            const int m = m0 + ty + i * SN_TY;
            if (m >= SN_MG) continue;
            const int mc = g * SN_MG + m;
            sn_conv_out(acc[i][j], mc, (qn * SN_M + mc) * SN_OHW + r, bias, z, y);
        }
    }
}
#endif // SN_CONV_IGEMM

#if SN_CONV_DIRECT
extern "C" __global__ void __launch_bounds__(SN_THREADS)
    sn_conv_direct(int n, const sn_t *__restrict__ x, const sn_t *__restrict__ w,
                   const sn_t *__restrict__ bias, const sn_t *__restrict__ z,
                   sn_t *__restrict__ y) {
    const sn_idx i = (sn_idx)blockIdx.x * SN_THREADS + threadIdx.x;
    if (i >= (sn_idx)n * SN_M * SN_OHW) return;
    const int r = (int)(i % SN_OHW);
    const int mc = (int)((i / SN_OHW) % SN_M);
    const sn_idx ni = i / ((sn_idx)SN_M * SN_OHW);
    const int oh = r / SN_OW, ow = r % SN_OW, g = mc / SN_MG;
    const int ih0 = oh * SN_SH - SN_PT, iw0 = ow * SN_SW - SN_PL;
    const sn_t *xg = x + (ni * SN_C + (sn_idx)g * SN_CG) * SN_HW;
    const sn_t *wm = w + (sn_idx)mc * SN_KDIM;
    float acc = 0.0f;
    for (int c = 0; c < SN_CG; c++) {
#pragma unroll
        for (int kh = 0; kh < SN_KH; kh++) {
            const int ih = ih0 + kh * SN_DH;
            if ((unsigned)ih >= (unsigned)SN_H) continue;
#pragma unroll
            for (int kw = 0; kw < SN_KW; kw++) {
                const int iw = iw0 + kw * SN_DW;
                if ((unsigned)iw >= (unsigned)SN_W) continue;
                acc = fmaf(sn_mm(sn_ld(wm + c * SN_KK + kh * SN_KW + kw)),
                           sn_mm(sn_ld(xg + (sn_idx)c * SN_HW + ih * SN_W + iw)), acc);
            }
        }
    }
    sn_conv_out(acc, mc, i, bias, z, y);
}
#endif // SN_CONV_DIRECT
