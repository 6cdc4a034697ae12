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
 *              ranges calibrated on the legalized graph (tflite_calibrate.c, tflite_hist.c)
 *   write      (tflite_write.c) the FlatBuffer
 */
#ifndef SN_TFLITE_EXPORT_H
#define SN_TFLITE_EXPORT_H

#include "export.h"
#include "tflite_model.h"

sn_status sn__tfl_legalize(sn_graph *g, sn_error *err);

/* Lower m->g (legalized) into m; tflite_lower.h has the helpers. */
sn_status sn__tfl_lower(sn_tfl_model *m, sn_error *err);

/* A tensor's values over the calibration samples (tflite_hist.c): extremes, a histogram of
 * nonzero magnitudes per sign on a power-of-two range that doubles (merging bins) as larger
 * values arrive - one pass, bounded memory - and sums per channel. */
#define SN__TFL_HIST_BINS 2048
typedef struct sn__tfl_hist {
    float lo, hi;   /* extremes seen, NaN ignored (lo > hi: none yet) */
    double range;   /* power of two above every |x| binned; 0 while only zeros came */
    double *bins;   /* 2 * SN__TFL_HIST_BINS: negative values by |x|, then positive ones */
    int n_chan;     /* channels (dim 1) summed, 0 for none */
    double *chan_sum, chan_count;
} sn__tfl_hist;
sn_status sn__tfl_hist_init(sn__tfl_hist *h, int n_chan, sn_error *err);
void sn__tfl_hist_free(sn__tfl_hist *h);
/* One sample's values: n_chan runs of `inner` values each (NCHW), or any n when n_chan is 0. */
void sn__tfl_hist_add(sn__tfl_hist *h, const float *x, size_t n, size_t inner);
/* The range [lo, hi] (holding 0) that minimises int8 quantization's squared error over the
 * values seen: clipping what lies outside plus rounding (step^2 / 12) inside. */
void sn__tfl_hist_mse_range(const sn__tfl_hist *h, float *lo, float *hi);

/* What calibration measured on the legalized graph's tensors (tflite_calibrate.c). */
typedef struct sn__tfl_ranges {
    int n_tensors;
    float *lo, *hi; /* per graph tensor: the range to quantize to; lo > hi when never seen */
    double **mean;  /* per graph tensor: the mean of each channel (dim 1), or NULL */
    int *n_mean;
} sn__tfl_ranges;
sn_status sn__tfl_calibrate(const sn_graph *g, const sn_calibration *cal, int threads,
                            sn_tflite_ranges ranges, sn__tfl_ranges *r, sn_error *err);
void sn__tfl_ranges_free(sn__tfl_ranges *r);

sn_status sn__tfl_quantize_fp16(sn_tfl_model *m, sn_error *err);
sn_status sn__tfl_quantize_int8(sn_tfl_model *m, const sn__tfl_ranges *r, sn_error *err);

#endif
