// preprocess.cu - 8-bit RGB images (HWC, rows of 3*src_w bytes, n images of one size, packed)
// to a model's normalised input in the storage type, NCHW or NHWC (SN_NHWC): bilinear resize
// (and centre crop) through per-column and per-row taps the engine computes on the host with
// the CPU preprocessing's geometry (loader/preprocess.c), then x = v * scale[c] + bias[c] with
// scale = 1/(255*std), bias = -mean/std, channel c read from source channel SN_SRCC<c> (RGB or
// BGR). The blend is the CPU code's: top/bottom lerps in float, then between them.
// itab = [x0[W], x1[W], y0[H], y1[H]] (int), ftab = [fx[W], fy[H]] (float).
// Constants: SN_OUT_W, SN_OUT_H, SN_NHWC, SN_SRCC0..2, SN_SCALE0..2, SN_BIAS0..2.
// grid ceil(n*H*W / SN_THREADS), block SN_THREADS: one thread per output pixel, 3 channels.

extern "C" __global__ void __launch_bounds__(SN_THREADS)
    sn_preprocess(int n, const unsigned char *__restrict__ src, int src_w, int src_h,
                  const int *__restrict__ itab, const float *__restrict__ ftab,
                  sn_t *__restrict__ y) {
    const sn_idx i = (sn_idx)blockIdx.x * SN_THREADS + threadIdx.x;
    if (i >= (sn_idx)n * SN_OUT_H * SN_OUT_W) return;
    const int x = (int)(i % SN_OUT_W), yy = (int)((i / SN_OUT_W) % SN_OUT_H);
    const sn_idx img = i / ((sn_idx)SN_OUT_W * SN_OUT_H);
    const unsigned char *im = src + img * (sn_idx)src_w * src_h * 3;
    const sn_idx stride = (sn_idx)src_w * 3;
    const unsigned char *r0 = im + __ldg(itab + 2 * SN_OUT_W + yy) * stride;
    const unsigned char *r1 = im + __ldg(itab + 2 * SN_OUT_W + SN_OUT_H + yy) * stride;
    const int a = __ldg(itab + x) * 3, b = __ldg(itab + SN_OUT_W + x) * 3;
    const float wx = __ldg(ftab + x), wy = __ldg(ftab + SN_OUT_W + yy);
    const int srcc[3] = {SN_SRCC0, SN_SRCC1, SN_SRCC2};
    const float scale[3] = {SN_SCALE0, SN_SCALE1, SN_SCALE2};
    const float bias[3] = {SN_BIAS0, SN_BIAS1, SN_BIAS2};
    const sn_idx plane = (sn_idx)SN_OUT_W * SN_OUT_H;
#pragma unroll
    for (int c = 0; c < 3; c++) {
        const int s = srcc[c];
        const float ta = (float)__ldg(r0 + a + s), tb = (float)__ldg(r0 + b + s);
        const float ba = (float)__ldg(r1 + a + s), bb = (float)__ldg(r1 + b + s);
        const float top = ta + wx * (tb - ta), bot = ba + wx * (bb - ba);
        const float v = (top + wy * (bot - top)) * scale[c] + bias[c];
#if SN_NHWC
        sn_st(y + i * 3 + c, v);
#else
        sn_st(y + img * 3 * plane + c * plane + (sn_idx)yy * SN_OUT_W + x, v);
#endif
    }
}
