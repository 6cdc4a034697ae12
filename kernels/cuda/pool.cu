// pool.cu - MaxPool, AveragePool and GlobalAveragePool over NCHW; fp32 arithmetic.
//
//   SN_POOL_MAX / SN_POOL_AVG  one thread per output element; window SN_KH x SN_KW, strides,
//       (max only) dilations, pads SN_PT SN_PL SN_PB SN_PR; SN_OH/SN_OW already include
//       ceil_mode. Padding never wins the max; a window with no real element gives -FLT_MAX (as
//       the CPU kernel). Average divides by the real elements, or with SN_COUNT_PAD by the
//       window clipped to the padded input (not the ceil_mode overhang), as the CPU kernel.
//       grid ceil(N*C*OH*OW / SN_THREADS), block SN_THREADS.
//   SN_POOL_GLOBAL  one warp per plane: strided partial sums, then a shuffle reduction.
//       grid ceil(N*C / (SN_THREADS/32)), block SN_THREADS.
// Constants: SN_C SN_H SN_W and the above.

#define SN_HW (SN_H * SN_W)

#if SN_POOL_MAX || SN_POOL_AVG
#define SN_OHW (SN_OH * SN_OW)
extern "C" __global__ void __launch_bounds__(SN_THREADS)
    sn_pool2d(int n, const sn_t *__restrict__ x, sn_t *__restrict__ y) {
    const sn_idx i = (sn_idx)blockIdx.x * SN_THREADS + threadIdx.x;
    if (i >= (sn_idx)n * SN_C * SN_OHW) return;
    const int r = (int)(i % SN_OHW);
    const sn_idx plane = i / SN_OHW;
    const int oh = r / SN_OW, ow = r % SN_OW;
    const int hs = oh * SN_SH - SN_PT, ws = ow * SN_SW - SN_PL;
    const sn_t *xp = x + plane * SN_HW;
#if SN_POOL_MAX
    float m = -3.402823466e+38f;
#pragma unroll
    for (int kh = 0; kh < SN_KH; kh++) {
        const int ih = hs + kh * SN_DH;
        if ((unsigned)ih >= (unsigned)SN_H) continue;
#pragma unroll
        for (int kw = 0; kw < SN_KW; kw++) {
            const int iw = ws + kw * SN_DW;
            if ((unsigned)iw >= (unsigned)SN_W) continue;
            const float v = sn_ld(xp + ih * SN_W + iw);
            m = v > m ? v : m;
        }
    }
    sn_st(y + i, m);
#else
    float s = 0.0f;
#pragma unroll
    for (int kh = 0; kh < SN_KH; kh++) {
        const int ih = hs + kh;
        if ((unsigned)ih >= (unsigned)SN_H) continue;
#pragma unroll
        for (int kw = 0; kw < SN_KW; kw++) {
            const int iw = ws + kw;
            if ((unsigned)iw < (unsigned)SN_W) s += sn_ld(xp + ih * SN_W + iw);
        }
    }
#if SN_COUNT_PAD
    const int rows = min(hs + SN_KH, SN_H + SN_PB) - hs;
    const int cols = min(ws + SN_KW, SN_W + SN_PR) - ws;
#else
    const int rows = min(hs + SN_KH, SN_H) - max(hs, 0);
    const int cols = min(ws + SN_KW, SN_W) - max(ws, 0);
#endif
    sn_st(y + i, rows * cols > 0 ? s / (float)(rows * cols) : 0.0f);
#endif
}
#endif

#if SN_POOL_GLOBAL
extern "C" __global__ void __launch_bounds__(SN_THREADS)
    sn_global_avg_pool(int n, const sn_t *__restrict__ x, sn_t *__restrict__ y) {
    const sn_idx plane = (sn_idx)blockIdx.x * (SN_THREADS / 32) + threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    if (plane >= (sn_idx)n * SN_C) return; // whole warps leave together
    const sn_t *xp = x + plane * SN_HW;
    float s = 0.0f;
    for (int k = lane; k < SN_HW; k += 32) s += sn_ld(xp + k);
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
    if (lane == 0) sn_st(y + plane, s / (float)SN_HW);
}
#endif
