// preprocess.cu - a batch of 8-bit RGB images, each at its own size, to a model's normalised
// input in the storage type, NCHW or NHWC, in one launch (sn_engine_run_images on a GPU).
//
// The batch arrives packed in one buffer (runtime/cuda/cuda_images.c packs it): n descriptors
// of four 64-bit integers {byte offset of the image from the buffer's start, width, height, row
// stride in bytes}, then the pixels, R,G,B interleaved. One thread makes one output pixel (its
// 3 channels): it works out its image's geometry and its bilinear taps from the descriptor with
// loader/preprocess.c's formulas - integer geometry, coordinates in double, the blend in float -
// and every operation rounded on its own (the _rn intrinsics: --fmad=true would otherwise fuse
// a multiply and an add), so the f32 value is the CPU's bit for bit before the store converts
// it to the storage type.
//
// Constants: SN_OUT_W, SN_OUT_H (the network's input), SN_NHWC, SN_CROP (0: stretch to the
// input; 1: shorter side to SN_SHORTER, then a centre crop), SN_SRCC0..2 (the source channel of
// output channel c: RGB or BGR), SN_SCALE0..2 = 1/(255*std[c]), SN_BIAS0..2 = -mean[c]/std[c].
// They are tested with `if`, not `#if`: NVRTC folds them just the same, and the host build of
// this file in the tests (tests/support/image_cases.c, SN_HOST_EMULATION) can bind them to
// variables and run every configuration.
// grid ceil(n*H*W / SN_THREADS), block SN_THREADS.

// Python's round(r / 2), half to even: where torchvision's CenterCrop starts.
static __device__ __forceinline__ int sn_half_even(int r) {
    const int lo = r / 2;
    return r % 2 == 0 || lo % 2 == 0 ? lo : lo + 1;
}

// The resized size (rw x rh) and the crop's start (x0, y0) for a w x h source.
static __device__ __forceinline__ void sn_geometry(int w, int h, int *rw, int *rh, int *x0,
                                                   int *y0) {
    if (SN_CROP) {
        // Capped as on the CPU, so a 1-pixel strip cannot overflow an int.
        const long long cap = 1LL << 30, s = SN_SHORTER;
        if (w <= h) {
            const long long l = s * h / w;
            *rw = (int)s;
            *rh = (int)(l < cap ? l : cap);
        } else {
            const long long l = s * w / h;
            *rh = (int)s;
            *rw = (int)(l < cap ? l : cap);
        }
        *x0 = sn_half_even(*rw - (int)SN_OUT_W);
        *y0 = sn_half_even(*rh - (int)SN_OUT_H);
    } else {
        *rw = (int)SN_OUT_W;
        *rh = (int)SN_OUT_H;
        *x0 = *y0 = 0;
    }
}

// The two source taps and the weight of the second for position `pos` of a `resized`-pixel
// axis drawn from a `src`-pixel one: half-pixel centres, clamped to the edge.
static __device__ __forceinline__ void sn_tap(int pos, int resized, int src, int *i0, int *i1,
                                              float *f) {
    const double scale = __ddiv_rn((double)src, (double)resized);
    double s = __dsub_rn(__dmul_rn(__dadd_rn((double)pos, 0.5), scale), 0.5);
    if (s < 0) s = 0;
    if (s > src - 1) s = src - 1;
    const int a = (int)s;
    *i0 = a;
    *i1 = a + 1 < src ? a + 1 : a;
    *f = __double2float_rn(__dsub_rn(s, (double)a));
}

// Output pixel i (of n*H*W) of the batch.
static __device__ __forceinline__ void sn_preprocess_pixel(const unsigned char *__restrict__ packed,
                                                           sn_idx i, sn_t *__restrict__ y) {
    const int x = (int)(i % SN_OUT_W), yy = (int)((i / SN_OUT_W) % SN_OUT_H);
    const sn_idx img = i / ((sn_idx)SN_OUT_W * SN_OUT_H);
    const long long *d = (const long long *)packed + 4 * img;
    const long long off = __ldg(d), stride = __ldg(d + 3);
    const int w = (int)__ldg(d + 1), h = (int)__ldg(d + 2);
    int rw, rh, cx, cy, xa, xb, ya, yb;
    float wx, wy;
    sn_geometry(w, h, &rw, &rh, &cx, &cy);
    sn_tap(cx + x, rw, w, &xa, &xb, &wx);
    sn_tap(cy + yy, rh, h, &ya, &yb, &wy);
    const unsigned char *r0 = packed + off + ya * stride, *r1 = packed + off + yb * stride;
    const int srcc[3] = {SN_SRCC0, SN_SRCC1, SN_SRCC2};
    const float scale[3] = {SN_SCALE0, SN_SCALE1, SN_SCALE2};
    const float bias[3] = {SN_BIAS0, SN_BIAS1, SN_BIAS2};
    const sn_idx plane = (sn_idx)SN_OUT_W * SN_OUT_H;
#pragma unroll
    for (int c = 0; c < 3; c++) {
        const int s = srcc[c];
        const float ta = (float)__ldg(r0 + 3 * xa + s), tb = (float)__ldg(r0 + 3 * xb + s);
        const float ba = (float)__ldg(r1 + 3 * xa + s), bb = (float)__ldg(r1 + 3 * xb + s);
        const float top = __fadd_rn(ta, __fmul_rn(wx, __fsub_rn(tb, ta)));
        const float bot = __fadd_rn(ba, __fmul_rn(wx, __fsub_rn(bb, ba)));
        const float v = __fadd_rn(top, __fmul_rn(wy, __fsub_rn(bot, top)));
        const float o = __fadd_rn(__fmul_rn(v, scale[c]), bias[c]);
        if (SN_NHWC)
            sn_st(y + i * 3 + c, o);
        else
            sn_st(y + img * 3 * plane + c * plane + (sn_idx)yy * SN_OUT_W + x, o);
    }
}

#ifndef SN_HOST_EMULATION
extern "C" __global__ void __launch_bounds__(SN_THREADS)
    sn_preprocess(int n, const unsigned char *__restrict__ packed, sn_t *__restrict__ y) {
    const sn_idx i = (sn_idx)blockIdx.x * SN_THREADS + threadIdx.x;
    if (i >= (sn_idx)n * SN_OUT_H * SN_OUT_W) return;
    sn_preprocess_pixel(packed, i, y);
}
#endif
