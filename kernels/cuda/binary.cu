// binary.cu - Add, Sub, Mul, Div with numpy broadcasting, then an optional activation chain
// (SN_EW_CHAIN, as elementwise.cu): y = chain(a op b). One thread per output element.
//
// The output has SN_RANK dims SN_DIMS; the one at index SN_NDIM (or none, -1) is the batch and
// comes at run time as n. SN_ASTR / SN_BSTR are a's and b's element strides per output dim (0
// where that operand is broadcast), so no shape arithmetic happens at run time but the divisions
// by constant dims.
// Constants: SN_OP (0 add, 1 sub, 2 mul, 3 div), SN_RANK, SN_DIMS, SN_NDIM, SN_ASTR, SN_BSTR,
// SN_PER (elements per unit of n; the whole tensor when SN_NDIM is -1).
// grid ceil(total / SN_THREADS), block SN_THREADS.

#ifndef SN_EW_CHAIN
#define SN_EW_CHAIN(v)
#endif

extern "C" __global__ void __launch_bounds__(SN_THREADS)
    sn_binary(int n, const sn_t *__restrict__ a, const sn_t *__restrict__ b, sn_t *__restrict__ y) {
    constexpr int dims[SN_RANK] = {SN_DIMS};
    constexpr long long as[SN_RANK] = {SN_ASTR};
    constexpr long long bs[SN_RANK] = {SN_BSTR};
    const sn_idx total = SN_NDIM >= 0 ? (sn_idx)n * SN_PER : (sn_idx)SN_PER;
    const sn_idx i = (sn_idx)blockIdx.x * SN_THREADS + threadIdx.x;
    if (i >= total) return;
    sn_idx r = i, ia = 0, ib = 0;
#pragma unroll
    for (int k = SN_RANK - 1; k >= 1; k--) {
        const sn_idx d = k == SN_NDIM ? (sn_idx)n : (sn_idx)dims[k];
        const sn_idx c = r % d;
        r /= d;
        ia += c * (sn_idx)as[k];
        ib += c * (sn_idx)bs[k];
    }
    ia += r * (sn_idx)as[0];
    ib += r * (sn_idx)bs[0];
    const float x0 = sn_ld(a + ia), x1 = sn_ld(b + ib);
#if SN_OP == 0
    float v = x0 + x1;
#elif SN_OP == 1
    float v = x0 - x1;
#elif SN_OP == 2
    float v = x0 * x1;
#else
    float v = x0 / x1;
#endif
    SN_EW_CHAIN(v)
    sn_st(y + i, v);
}
