// common.cuh - what every Sentinel kernel template shares: the storage type, loads and stores
// that convert to and from the float every kernel computes in, the index type, TF32 rounding and
// the fused activations. The generator (runtime/cuda/codegen.c) puts its #defines first, then
// this file, then one template, into a single source for NVRTC; nothing is #included, so a
// compile needs no toolkit headers on the machine.
//
// Constants from the generator:
//   SN_DTYPE  0 float, 1 half (IEEE binary16), 2 bfloat16: how activations and weights are stored
//   SN_TF32   1: round the operands of the conv / dense inner products to TF32 (sm_80+)
//   SN_IDX64  1: index with 64-bit integers (a tensor of 2^31 or more elements at max batch)
#ifndef SN_DTYPE
#define SN_DTYPE 0
#endif
#ifndef SN_TF32
#define SN_TF32 0
#endif
#ifndef SN_IDX64
#define SN_IDX64 0
#endif

#if SN_IDX64
typedef long long sn_idx;
#else
typedef int sn_idx;
#endif

#if SN_DTYPE == 0
typedef float sn_t;
static __device__ __forceinline__ float sn_ld(const sn_t *p) { return __ldg(p); }
static __device__ __forceinline__ sn_t sn_cvt(float v) { return v; }
#elif SN_DTYPE == 1
typedef unsigned short sn_t;
static __device__ __forceinline__ float sn_ld(const sn_t *p) {
    unsigned short h = __ldg(p);
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}
static __device__ __forceinline__ sn_t sn_cvt(float v) {
    unsigned short h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(v));
    return h;
}
#elif SN_DTYPE == 2
typedef unsigned short sn_t;
static __device__ __forceinline__ float sn_ld(const sn_t *p) {
    return __uint_as_float((unsigned)__ldg(p) << 16);
}
// Round to nearest even in integer arithmetic (works on every architecture); NaN stays NaN.
static __device__ __forceinline__ sn_t sn_cvt(float v) {
    unsigned u = __float_as_uint(v);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (sn_t)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (sn_t)(u >> 16);
}
#else
#error "SN_DTYPE must be 0 (float), 1 (half) or 2 (bfloat16)"
#endif

static __device__ __forceinline__ void sn_st(sn_t *p, float v) { *p = sn_cvt(v); }

// An operand of a conv / dense inner product: TF32 keeps 10 mantissa bits (round to nearest,
// ties away, as the tensor cores' conversion does).
static __device__ __forceinline__ float sn_mm(float v) {
#if SN_TF32
    unsigned r;
    asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(v));
    return __uint_as_float(r);
#else
    return v;
#endif
}

// sn_activation (graph/op.h), same numbers.
#define SN_ACT_NONE 0
#define SN_ACT_RELU 1
#define SN_ACT_CLIP 2
#define SN_ACT_LEAKY_RELU 3
#define SN_ACT_SIGMOID 4
#define SN_ACT_TANH 5
#define SN_ACT_HARD_SIGMOID 6
#define SN_ACT_HARD_SWISH 7
#define SN_ACT_SILU 8

// The CPU backend's formulas (kernels/cpu/activation.h), so both agree up to exp's rounding.
// `act` is always a compile-time constant: the switch folds away.
static __device__ __forceinline__ float sn_activate(int act, float x, float a, float b) {
    switch (act) {
    case SN_ACT_RELU: return x > 0.0f ? x : 0.0f;
    case SN_ACT_CLIP: return x < a ? a : (x > b ? b : x);
    case SN_ACT_LEAKY_RELU: return x >= 0.0f ? x : a * x;
    case SN_ACT_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case SN_ACT_TANH: return tanhf(x);
    case SN_ACT_HARD_SIGMOID: {
        float y = a * x + b;
        return y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
    }
    case SN_ACT_HARD_SWISH: {
        float r = x + 3.0f;
        r = r < 0.0f ? 0.0f : (r > 6.0f ? 6.0f : r);
        return x * r * (1.0f / 6.0f);
    }
    case SN_ACT_SILU: return x / (1.0f + expf(-x));
    default: return x;
    }
}

// Ceiling division for launch-shaped loops.
#define SN_CEIL_DIV(a, b) (((a) + (b)-1) / (b))
