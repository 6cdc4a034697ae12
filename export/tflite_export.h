/*
 * tflite_export.h - the stages of the TFLite exporter, private to export/:
 *
 *   legalize   (tflite_legalize.c) a clone of the graph rewritten so every Sentinel tensor is
 *              one TFLite tensor: fused residuals and activations split out again, BatchNorm,
 *              BiasAdd, HardSigmoid, SiLU and division by a constant spelled with ops TFLite
 *              has; int8 calibration measures this graph's tensors
 *   lower      (tflite_lower*.c) the legalized graph to an in-memory TFLite model in NHWC, with
 *              relu-family activations fused back into the op before them
 *   quantize   (tflite_quant*.c) fp16 weights with DEQUANTIZE ops, or full-integer int8 from
 *              calibrated ranges
 *   write      (tflite_write.c) the FlatBuffer
 */
#ifndef SN_TFLITE_EXPORT_H
#define SN_TFLITE_EXPORT_H

#include "export.h"
#include "tflite_model.h"

sn_status sn__tfl_legalize(sn_graph *g, sn_error *err);

/* Lower m->g (legalized) into m; tflite_lower.h has the helpers. */
sn_status sn__tfl_lower(sn_tfl_model *m, sn_error *err);

/* Per-tensor ranges of the legalized graph, measured on calibration inputs. */
typedef struct sn__tfl_ranges {
    float *lo, *hi; /* per graph tensor; lo > hi when never seen */
} sn__tfl_ranges;
sn_status sn__tfl_calibrate(const sn_graph *g, const sn_calibration *cal, int threads,
                            sn__tfl_ranges *r, sn_error *err);
void sn__tfl_ranges_free(sn__tfl_ranges *r);

sn_status sn__tfl_quantize_fp16(sn_tfl_model *m, sn_error *err);
sn_status sn__tfl_quantize_int8(sn_tfl_model *m, const sn__tfl_ranges *r, sn_error *err);

/* IEEE binary16 bits of a float, rounding to nearest even (overflow to infinity). */
uint16_t sn__f32_to_f16(float f);

#endif
