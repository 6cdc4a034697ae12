// layout.cu - data movement as a strided gather: y[o] = x[SN_BASE + sum_k o_k * S[k]].
// Transpose (S[k] = the input stride of axis perm[k]) and Slice (S[k] = step_k times the input
// stride of axis k, SN_BASE the offset of the starts; steps may be negative) are both this.
// One thread per output element, the division by constant dims unrolled.
// Constants: SN_RANK, SN_DIMS (output dims; entry SN_NDIM, or none when -1, is the batch n),
// SN_STRIDES (S), SN_BASE, SN_PER (output elements per unit of n, or all of them).
// grid ceil(total / SN_THREADS), block SN_THREADS.

extern "C" __global__ void __launch_bounds__(SN_THREADS)
    sn_gather(int n, const sn_t *__restrict__ x, sn_t *__restrict__ y) {
    constexpr int dims[SN_RANK] = {SN_DIMS};
    constexpr long long st[SN_RANK] = {SN_STRIDES};
    const sn_idx total = SN_NDIM >= 0 ? (sn_idx)n * SN_PER : (sn_idx)SN_PER;
    const sn_idx i = (sn_idx)blockIdx.x * SN_THREADS + threadIdx.x;
    if (i >= total) return;
    sn_idx r = i, off = (sn_idx)SN_BASE;
#pragma unroll
    for (int k = SN_RANK - 1; k >= 1; k--) {
        const sn_idx d = k == SN_NDIM ? (sn_idx)n : (sn_idx)dims[k];
        off += (r % d) * (sn_idx)st[k];
        r /= d;
    }
    off += r * (sn_idx)st[0];
    y[i] = x[off]; // a bit copy: no conversion, any 2-byte or 4-byte storage type
}
