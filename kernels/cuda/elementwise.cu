// elementwise.cu - one-input elementwise kernels, one thread per element:
//   SN_EW_CHAIN_KERNEL  y = f_k(...f_1(x)): a chain of activations (Relu, Clip, LeakyRelu,
//                       Sigmoid, Tanh, HardSigmoid, HardSwish, SiLU, Identity) fused into one
//                       pass; the generator writes the chain as SN_EW_CHAIN(v), a list of
//                       `v = sn_activate(...)` statements.
//   SN_EW_AFFINE        y = chain(x * scale[c] + shift[c]) with c the channel (axis 1 of NC...):
//                       BatchNormalization with folded statistics, BiasAdd (no scale). scale and
//                       shift are float buffers the engine uploads (SN_HAS_SCALE, SN_HAS_SHIFT).
//   SN_EW_CAST_IN       float -> storage type (graph inputs in half / bfloat16 engines).
//   SN_EW_CAST_OUT      storage type -> float (graph outputs).
// Constants: SN_PER (elements per sample; with SN_BATCHED 0 the whole tensor), SN_INNER and
// SN_CH (affine: elements per channel plane, channels).
// grid ceil(total / SN_THREADS), block SN_THREADS.

#ifndef SN_EW_CHAIN
#define SN_EW_CHAIN(v)
#endif

#if SN_BATCHED
#define SN_TOTAL(n) ((sn_idx)(n)*SN_PER)
#else
#define SN_TOTAL(n) ((sn_idx)SN_PER)
#endif

#if SN_EW_CHAIN_KERNEL
extern "C" __global__ void __launch_bounds__(SN_THREADS)
    sn_ew_chain(int n, const sn_t *__restrict__ x, sn_t *__restrict__ y) {
    const sn_idx i = (sn_idx)blockIdx.x * SN_THREADS + threadIdx.x;
    if (i >= SN_TOTAL(n)) return;
    float v = sn_ld(x + i);
    SN_EW_CHAIN(v)
    sn_st(y + i, v);
}
#endif

#if SN_EW_AFFINE
extern "C" __global__ void __launch_bounds__(SN_THREADS)
    sn_ew_affine(int n, const sn_t *__restrict__ x, const float *__restrict__ scale,
                 const float *__restrict__ shift, sn_t *__restrict__ y) {
    const sn_idx i = (sn_idx)blockIdx.x * SN_THREADS + threadIdx.x;
    if (i >= SN_TOTAL(n)) return;
    const int c = (int)((i / SN_INNER) % SN_CH);
    float v = sn_ld(x + i);
#if SN_HAS_SCALE
    v *= __ldg(scale + c);
#endif
#if SN_HAS_SHIFT
    v += __ldg(shift + c);
#endif
    SN_EW_CHAIN(v)
    sn_st(y + i, v);
}
#endif

#if SN_EW_CAST_IN
extern "C" __global__ void __launch_bounds__(SN_THREADS)
    sn_cast_in(int n, const float *__restrict__ x, sn_t *__restrict__ y) {
    const sn_idx i = (sn_idx)blockIdx.x * SN_THREADS + threadIdx.x;
    if (i < SN_TOTAL(n)) sn_st(y + i, __ldg(x + i));
}
#endif

#if SN_EW_CAST_OUT
extern "C" __global__ void __launch_bounds__(SN_THREADS)
    sn_cast_out(int n, const sn_t *__restrict__ x, float *__restrict__ y) {
    const sn_idx i = (sn_idx)blockIdx.x * SN_THREADS + threadIdx.x;
    if (i < SN_TOTAL(n)) y[i] = sn_ld(x + i);
}
#endif
