/*
 * export.h - writing a Sentinel graph in other runtimes' formats: ONNX (ONNX Runtime, TensorRT,
 * OpenVINO, CoreML converters) and TFLite (LiteRT on Android and iOS, Edge TPU compilers,
 * microcontrollers), float or quantized.
 *
 * Exporters take a valid graph with inferred shapes - the optimised one, usually - and never
 * modify it. A graph the target format cannot express is refused with SN_ERR_UNSUPPORTED and a
 * message naming the node, its op and the reason ("node 'up1' (Resize): TFLite has no
 * nearest-neighbour mode matching coord_mode asymmetric with nearest_mode ceil").
 *
 * Conventions of the TFLite files: activations are NHWC, so an NCHW image input
 * [N,3,224,224] becomes [N,224,224,3] (and 4-D outputs are NHWC too); 2-D tensors such as
 * logits are unchanged. The batch is dynamic (shape_signature -1) when the graph's is. Labels,
 * preprocessing and properties go into the model's metadata entries (see docs/export.md).
 */
#ifndef SN_EXPORT_H
#define SN_EXPORT_H

#include <stddef.h>

#include "graph.h"

/* Samples of a single-input model's input for int8 calibration: count samples of
 * sample_floats floats each, in the graph's input layout (NCHW for images). */
typedef struct sn_calibration {
    int count;
    size_t sample_floats;
    float *data; /* malloc'ed, count * sample_floats */
} sn_calibration;

/* Load calibration samples from a folder (not recursive; sorted by name): JPEG/PNG images are
 * decoded and preprocessed as the graph's metadata says (loader/preprocess.h), .npy files hold
 * one sample ([C,H,W] or [1,C,H,W]) or several ([N,C,H,W]) of the graph's single input. Other
 * files are ignored. At most max_samples samples are kept (0: no limit). A folder without any
 * usable sample, or a file that fails to load, is an error naming the file. */
sn_status sn_calibration_load_dir(const sn_graph *g, const char *dir, int max_samples,
                                  sn_calibration *out, sn_error *err);
void sn_calibration_free(sn_calibration *c);

typedef enum sn_tflite_quant {
    SN_TFLITE_FLOAT = 0, /* float32 weights and activations */
    SN_TFLITE_FP16 = 1,  /* float16 weights, DEQUANTIZE'd to float32 when the model loads */
    SN_TFLITE_INT8 = 2   /* int8 weights (per channel) and activations (per tensor), int32
                            biases (corrected for the weights' rounding); float input and
                            output through QUANTIZE / DEQUANTIZE */
} sn_tflite_quant;

/* How int8 calibration picks each activation's range (the model's input and outputs always
 * keep their min/max; see docs/export.md for measurements). */
typedef enum sn_tflite_ranges {
    SN_TFLITE_RANGES_MSE = 0,   /* the range minimising the squared int8 error over a histogram
                                   of the calibration values: clips rare large values */
    SN_TFLITE_RANGES_MINMAX = 1 /* the extremes seen (TFLite's converter): clips nothing seen */
} sn_tflite_ranges;

/* Options that can grow: start from SN_TFLITE_OPTIONS_INIT. */
typedef struct sn_tflite_options {
    size_t size;
    sn_tflite_quant quant;
    const sn_calibration *calibration; /* required for SN_TFLITE_INT8 */
    int threads;                       /* CPU threads for calibration; 0 = all cores */
    sn_tflite_ranges ranges;           /* SN_TFLITE_INT8: activation ranges */
} sn_tflite_options;
#define SN_TFLITE_OPTIONS_INIT                                                                     \
    { sizeof(sn_tflite_options), SN_TFLITE_FLOAT, NULL, 0, SN_TFLITE_RANGES_MSE }

/* A TFLite FlatBuffer (malloc'ed; the caller frees). */
sn_status sn_export_tflite(const sn_graph *g, const sn_tflite_options *opt, void **data,
                           size_t *size, sn_error *err);

#define SN_ONNX_OPSET_MIN 13
#define SN_ONNX_OPSET_MAX 21
#define SN_ONNX_OPSET_DEFAULT 17

typedef struct sn_onnx_export_options {
    size_t size;
    int opset; /* SN_ONNX_OPSET_MIN..SN_ONNX_OPSET_MAX; 0 = SN_ONNX_OPSET_DEFAULT */
} sn_onnx_export_options;
#define SN_ONNX_EXPORT_OPTIONS_INIT                                                                \
    { sizeof(sn_onnx_export_options), 0 }

/* A serialised ONNX ModelProto (malloc'ed; the caller frees). */
sn_status sn_export_onnx(const sn_graph *g, const sn_onnx_export_options *opt, void **data,
                         size_t *size, sn_error *err);

/* Write bytes to `path` atomically: a temporary file beside it, fsync'ed and renamed over it,
 * so a failure never leaves a partial file there. */
sn_status sn_export_write_file(const char *path, const void *data, size_t size, sn_error *err);

#endif
