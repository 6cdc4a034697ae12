// resize.cu - Resize of H and W of NCHW tensors, nearest (SN_LINEAR 0) or bilinear (1).
// Source taps and weights per output row and column are computed by the engine with the CPU
// backend's own coordinate functions (kernels/cpu/resize.h, in double) and uploaded once:
// itab = [i0_h[OH], i1_h[OH], i0_w[OW], i1_w[OW]] (int), ftab = [w0_h, w1_h, w0_w, w1_w]
// (float), so both backends pick the same pixels; the blend is the CPU kernel's formula.
// Constants: SN_C, SN_IH, SN_IW, SN_OH, SN_OW, SN_LINEAR.
// grid ceil(N*C*OH*OW / SN_THREADS), block SN_THREADS.

extern "C" __global__ void __launch_bounds__(SN_THREADS)
    sn_resize(int n, const sn_t *__restrict__ x, const int *__restrict__ itab,
              const float *__restrict__ ftab, sn_t *__restrict__ y) {
    const sn_idx i = (sn_idx)blockIdx.x * SN_THREADS + threadIdx.x;
    if (i >= (sn_idx)n * SN_C * SN_OH * SN_OW) return;
    const int ox = (int)(i % SN_OW), oy = (int)((i / SN_OW) % SN_OH);
    const sn_idx plane = i / ((sn_idx)SN_OH * SN_OW);
    const sn_t *xp = x + plane * ((sn_idx)SN_IH * SN_IW);
    const int y0 = __ldg(itab + oy), x0 = __ldg(itab + 2 * SN_OH + ox);
#if SN_LINEAR
    const int y1 = __ldg(itab + SN_OH + oy), x1 = __ldg(itab + 2 * SN_OH + SN_OW + ox);
    const float wy0 = __ldg(ftab + oy), wy1 = __ldg(ftab + SN_OH + oy);
    const float wx0 = __ldg(ftab + 2 * SN_OH + ox), wx1 = __ldg(ftab + 2 * SN_OH + SN_OW + ox);
    const sn_t *r0 = xp + y0 * SN_IW, *r1 = xp + y1 * SN_IW;
    const float v = wy0 * (wx0 * sn_ld(r0 + x0) + wx1 * sn_ld(r0 + x1)) +
                    wy1 * (wx0 * sn_ld(r1 + x0) + wx1 * sn_ld(r1 + x1));
    sn_st(y + i, v);
#else
    y[i] = xp[y0 * SN_IW + x0];
#endif
}
