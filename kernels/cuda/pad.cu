// pad.cu - Pad of any rank: constant (SN_MODE 0, value SN_VALUE), reflect (1: mirror without
// repeating the edge) or edge (2), one thread per output element.
// Constants: SN_RANK, SN_ODIMS / SN_IDIMS (output / input dims), SN_ISTR (input strides),
// SN_BEGIN (pads before each axis), SN_NDIM (the batch axis, 0, or -1: none; it has no pads),
// SN_PER (output elements per unit of n, or all of them), SN_MODE, SN_VALUE.
// grid ceil(total / SN_THREADS), block SN_THREADS.

extern "C" __global__ void __launch_bounds__(SN_THREADS)
    sn_pad(int n, const sn_t *__restrict__ x, sn_t *__restrict__ y) {
    constexpr int od[SN_RANK] = {SN_ODIMS};
    constexpr int id[SN_RANK] = {SN_IDIMS};
    constexpr long long is[SN_RANK] = {SN_ISTR};
    constexpr int beg[SN_RANK] = {SN_BEGIN};
    const sn_idx total = SN_NDIM >= 0 ? (sn_idx)n * SN_PER : (sn_idx)SN_PER;
    const sn_idx i = (sn_idx)blockIdx.x * SN_THREADS + threadIdx.x;
    if (i >= total) return;
    sn_idx r = i, off = 0;
    bool inside = true;
#pragma unroll
    for (int k = SN_RANK - 1; k >= 0; k--) {
        sn_idx c;
        if (k == 0) {
            c = r;
        } else {
            c = r % od[k];
            r /= od[k];
        }
        if (k == SN_NDIM) { // the batch axis is never padded
            off += c * (sn_idx)is[k];
            continue;
        }
        sn_idx s = c - beg[k];
        const sn_idx len = id[k];
        if (s < 0 || s >= len) {
#if SN_MODE == 0
            inside = false;
#elif SN_MODE == 1
            // Reflect pads are smaller than the axis (checked by the op), so one bounce does.
            s = s < 0 ? -s : 2 * (len - 1) - s;
#else
            s = s < 0 ? 0 : len - 1;
#endif
        }
        off += s * (sn_idx)is[k];
    }
#if SN_MODE == 0
    if (!inside) {
        sn_st(y + i, SN_VALUE);
        return;
    }
#endif
    y[i] = x[off];
}
