// depthwise_conv.cu - FusedConv with one input channel per group (depthwise, channel multiplier
// SN_MG = M/C >= 1): y = act(conv + bias + z), NCHW, fp32 accumulation.
//
// One thread computes SN_VEC horizontally adjacent outputs of one output channel; its KH x KW
// weights are loaded once into registers and the window loops are unrolled, so the work per
// output is KH*KW fused multiply-adds from cached input rows.
// grid ceil(N*M*OH*ceil(OW/SN_VEC) / SN_THREADS), block SN_THREADS.
// Constants: as fused_conv.cu (SN_G == SN_C), plus SN_VEC.

#define SN_MG (SN_M / SN_C)
#define SN_KK (SN_KH * SN_KW)
#define SN_OHW (SN_OH * SN_OW)
#define SN_HW (SN_H * SN_W)
#define SN_OWV SN_CEIL_DIV(SN_OW, SN_VEC)

extern "C" __global__ void __launch_bounds__(SN_THREADS)
    sn_conv_depthwise(int n, const sn_t *__restrict__ x, const sn_t *__restrict__ w,
                      const sn_t *__restrict__ bias, const sn_t *__restrict__ z,
                      sn_t *__restrict__ y) {
    const sn_idx i = (sn_idx)blockIdx.x * SN_THREADS + threadIdx.x;
    if (i >= (sn_idx)n * SN_M * SN_OH * SN_OWV) return;
    const int ow0 = (int)(i % SN_OWV) * SN_VEC;
    const int oh = (int)((i / SN_OWV) % SN_OH);
    const int mc = (int)((i / ((sn_idx)SN_OWV * SN_OH)) % SN_M);
    const sn_idx ni = i / ((sn_idx)SN_OWV * SN_OH * SN_M);
    const int c = mc / SN_MG;
    const sn_t *xp = x + (ni * SN_C + c) * SN_HW;
    float wr[SN_KK];
#pragma unroll
    for (int k = 0; k < SN_KK; k++) wr[k] = sn_mm(sn_ld(w + (sn_idx)mc * SN_KK + k));
    float acc[SN_VEC];
#pragma unroll
    for (int v = 0; v < SN_VEC; v++) acc[v] = 0.0f;
    const int ih0 = oh * SN_SH - SN_PT;
#pragma unroll
    for (int kh = 0; kh < SN_KH; kh++) {
        const int ih = ih0 + kh * SN_DH;
        if ((unsigned)ih >= (unsigned)SN_H) continue;
        const sn_t *xr = xp + ih * SN_W;
#pragma unroll
        for (int v = 0; v < SN_VEC; v++) {
            const int iw0 = (ow0 + v) * SN_SW - SN_PL;
#pragma unroll
            for (int kw = 0; kw < SN_KW; kw++) {
                const int iw = iw0 + kw * SN_DW;
                if ((unsigned)iw < (unsigned)SN_W)
                    acc[v] = fmaf(wr[kh * SN_KW + kw], sn_mm(sn_ld(xr + iw)), acc[v]);
            }
        }
    }
    const sn_idx base = (ni * SN_M + mc) * SN_OHW + (sn_idx)oh * SN_OW;
#pragma unroll
    for (int v = 0; v < SN_VEC; v++) {
        if (ow0 + v >= SN_OW) break;
        float r = acc[v];
#if SN_HAS_BIAS
        r += sn_ld(bias + mc);
#endif
#if SN_HAS_RES
        r += sn_ld(z + base + ow0 + v);
#endif
        sn_st(y + base + ow0 + v, sn_activate(SN_ACT, r, SN_ACT_ALPHA, SN_ACT_BETA));
    }
}
