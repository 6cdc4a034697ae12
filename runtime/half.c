/*
 * half.c - host conversions between float and the 16-bit storage types (half.h), in integer
 * arithmetic so the result never depends on the host's floating-point environment.
 */
#include "half.h"

#include <string.h>

static uint32_t sn__bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float sn__float(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

uint16_t sn_f32_to_f16(float f) {
    uint32_t u = sn__bits(f), sign = (u >> 16) & 0x8000u, abs = u & 0x7fffffffu;
    if (abs > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((abs >> 13) & 0x3ffu)); /* NaN */
    if (abs >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* rounds past 65504: inf */
    if (abs < 0x38800000u) {
        /* Subnormal half (or zero): the value in units of 2^-24, rounded to nearest even. */
        if (abs < 0x33000000u) return (uint16_t)sign; /* below half the smallest subnormal */
        uint32_t e = abs >> 23, m = (abs & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126 - e; /* 14..24: value = m * 2^(e-150) = (m >> shift) * 2^-24 */
        uint32_t q = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1))) q++;
        return (uint16_t)(sign | q);
    }
    /* Normal: rebias the exponent (127 -> 15), keep 10 mantissa bits, round to nearest even
     * (a carry into the exponent is the right result, up to infinity). */
    uint32_t v = abs - 0x38000000u;
    uint32_t q = v >> 13, rem = v & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (q & 1))) q++;
    return (uint16_t)(sign | q);
}

float sn_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0x1f) return sn__float(sign | 0x7f800000u | (m << 13));
    if (e != 0) return sn__float(sign | ((e + 112) << 23) | (m << 13));
    if (m == 0) return sn__float(sign);
    /* Subnormal: normalise. */
    int shift = 0;
    while (!(m & 0x400u)) {
        m <<= 1;
        shift++;
    }
    return sn__float(sign | ((uint32_t)(113 - shift) << 23) | ((m & 0x3ffu) << 13));
}

uint16_t sn_f32_to_bf16(float f) {
    uint32_t u = sn__bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

float sn_bf16_to_f32(uint16_t h) { return sn__float((uint32_t)h << 16); }

void sn_f32_to_half_array(const float *x, size_t n, int bf16, uint16_t *y) {
    if (bf16)
        for (size_t i = 0; i < n; i++) y[i] = sn_f32_to_bf16(x[i]);
    else
        for (size_t i = 0; i < n; i++) y[i] = sn_f32_to_f16(x[i]);
}
