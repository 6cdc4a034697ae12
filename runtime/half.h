/*
 * half.h - IEEE binary16 and bfloat16 conversions on the host, for uploading weights to an
 * engine with half storage and for fp16 TFLite export (and for tests). Round to nearest even,
 * like the GPU's cvt.rn; overflow gives infinity, NaN stays NaN, subnormals are exact.
 */
#ifndef SN_HALF_H
#define SN_HALF_H

#include <stddef.h>
#include <stdint.h>

uint16_t sn_f32_to_f16(float f);
float sn_f16_to_f32(uint16_t h);
uint16_t sn_f32_to_bf16(float f);
float sn_bf16_to_f32(uint16_t h);

/* n floats to 2-byte storage (bf16 when `bf16`, else f16). */
void sn_f32_to_half_array(const float *x, size_t n, int bf16, uint16_t *y);

#endif
