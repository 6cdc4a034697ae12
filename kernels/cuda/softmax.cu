// softmax.cu - Softmax along one axis of a tensor viewed as [outer, SN_LEN, SN_INNER]:
// y = exp(x - max) / sum(exp(x - max)), in float.
//   SN_INNER == 1  one block per row: block-wide max and sum (warp shuffles, then shared
//                  memory), so a long row (1000 classes) is read by all the block's threads.
//                  grid outer, block SN_THREADS.
//   SN_INNER > 1   one thread per (outer, inner) column, looping over the axis.
//                  grid ceil(outer*SN_INNER / SN_THREADS), block SN_THREADS.
// outer = n * SN_OUTER when SN_BATCHED (the axis is not the batch), else SN_OUTER.

#if SN_BATCHED
#define SN_ROWS(n) ((sn_idx)(n)*SN_OUTER)
#else
#define SN_ROWS(n) ((sn_idx)SN_OUTER)
#endif

#if SN_INNER == 1
// Block-wide reduction of one value per thread; every thread gets the result.
static __device__ __forceinline__ float sn_block_reduce(float v, bool is_max, float *smem) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        const float u = __shfl_xor_sync(0xffffffffu, v, o);
        v = is_max ? fmaxf(v, u) : v + u;
    }
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    __syncthreads(); // smem may still be read from the previous reduction
    if (lane == 0) smem[warp] = v;
    __syncthreads();
    v = lane < SN_THREADS / 32 ? smem[lane] : (is_max ? -3.402823466e+38f : 0.0f);
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        const float u = __shfl_xor_sync(0xffffffffu, v, o);
        v = is_max ? fmaxf(v, u) : v + u;
    }
    return v;
}

extern "C" __global__ void __launch_bounds__(SN_THREADS)
    sn_softmax(int n, const sn_t *__restrict__ x, sn_t *__restrict__ y) {
    __shared__ float smem[32];
    const sn_idx row = blockIdx.x;
    if (row >= SN_ROWS(n)) return;
    const sn_t *xr = x + row * SN_LEN;
    sn_t *yr = y + row * SN_LEN;
    float m = -3.402823466e+38f;
    for (int k = threadIdx.x; k < SN_LEN; k += SN_THREADS) m = fmaxf(m, sn_ld(xr + k));
    m = sn_block_reduce(m, true, smem);
    float s = 0.0f;
    for (int k = threadIdx.x; k < SN_LEN; k += SN_THREADS) s += expf(sn_ld(xr + k) - m);
    s = sn_block_reduce(s, false, smem);
    const float inv = 1.0f / s;
    for (int k = threadIdx.x; k < SN_LEN; k += SN_THREADS)
        sn_st(yr + k, expf(sn_ld(xr + k) - m) * inv);
}
#else
extern "C" __global__ void __launch_bounds__(SN_THREADS)
    sn_softmax(int n, const sn_t *__restrict__ x, sn_t *__restrict__ y) {
    const sn_idx i = (sn_idx)blockIdx.x * SN_THREADS + threadIdx.x;
    if (i >= SN_ROWS(n) * SN_INNER) return;
    const sn_idx base = (i / SN_INNER) * SN_LEN * SN_INNER + i % SN_INNER;
    float m = -3.402823466e+38f;
    for (int k = 0; k < SN_LEN; k++) m = fmaxf(m, sn_ld(x + base + (sn_idx)k * SN_INNER));
    float s = 0.0f;
    for (int k = 0; k < SN_LEN; k++) s += expf(sn_ld(x + base + (sn_idx)k * SN_INNER) - m);
    const float inv = 1.0f / s;
    for (int k = 0; k < SN_LEN; k++)
        sn_st(y + base + (sn_idx)k * SN_INNER,
              expf(sn_ld(x + base + (sn_idx)k * SN_INNER) - m) * inv);
}
#endif
