/*
 * sentinel.h - the one public header of the Sentinel inference runtime.
 *
 * Everything a program needs to load a model, build an engine for a device and run batches
 * lives here. Handles are opaque; every function returns an sn_status and fills out-parameters;
 * whoever creates a handle destroys it. Details of a failure (the byte offset of a bad field in a
 * model file, the op that rejected a shape) are written to an optional sn_error the caller owns.
 *
 * Thread safety: there is no global state. A model may be shared by any number of engines and
 * threads once loaded (it is read-only). An engine serialises concurrent sn_engine_run calls.
 */
#ifndef SENTINEL_H
#define SENTINEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SN_VERSION_MAJOR 0
#define SN_VERSION_MINOR 1
#define SN_VERSION_PATCH 0

/* One X-macro list builds the status enum and its strings, so they cannot drift. */
#define SN_STATUS_LIST(X)                                                                     \
    X(SN_OK, "ok")                                                                            \
    X(SN_ERR_INVALID_ARGUMENT, "invalid argument")                                            \
    X(SN_ERR_IO, "input/output error")                                                        \
    X(SN_ERR_FORMAT, "malformed file")                                                        \
    X(SN_ERR_VERSION, "unsupported format version")                                           \
    X(SN_ERR_OUT_OF_MEMORY, "out of memory")                                                  \
    X(SN_ERR_UNSUPPORTED, "unsupported operation or feature")                                 \
    X(SN_ERR_SHAPE, "shape mismatch")                                                         \
    X(SN_ERR_GRAPH, "invalid graph")                                                          \
    X(SN_ERR_NO_DEVICE, "no usable device")                                                   \
    X(SN_ERR_DEVICE, "device error")                                                          \
    X(SN_ERR_NOT_FOUND, "not found")                                                          \
    X(SN_ERR_INTERNAL, "internal error")

typedef enum sn_status {
#define SN__STATUS_ENUM(name, str) name,
    SN_STATUS_LIST(SN__STATUS_ENUM)
#undef SN__STATUS_ENUM
    SN_STATUS_COUNT
} sn_status;

/* A static, never-NULL English description of a status. */
const char *sn_status_string(sn_status s);

/* A caller-owned error record. Functions that take one fill it on failure (when non-NULL) with
 * the status and a message that names the file, offset, node or call at fault. */
#define SN_ERROR_MESSAGE_SIZE 1024
typedef struct sn_error {
    sn_status status;
    char message[SN_ERROR_MESSAGE_SIZE];
} sn_error;

typedef enum sn_dtype {
    SN_DTYPE_F32 = 0,
    SN_DTYPE_F16 = 1,
    SN_DTYPE_BF16 = 2,
    SN_DTYPE_I8 = 3,
    SN_DTYPE_U8 = 4,
    SN_DTYPE_I32 = 5,
    SN_DTYPE_I64 = 6,
    SN_DTYPE_COUNT
} sn_dtype;

const char *sn_dtype_name(sn_dtype t);
size_t sn_dtype_size(sn_dtype t); /* bytes per element; 0 for an invalid dtype */

typedef enum sn_layout {
    SN_LAYOUT_ANY = 0, /* not an image tensor, or layout does not matter */
    SN_LAYOUT_NCHW = 1,
    SN_LAYOUT_NHWC = 2
} sn_layout;

typedef enum sn_device {
    SN_DEVICE_AUTO = 0, /* the GPU when a usable one exists, else the CPU */
    SN_DEVICE_CPU = 1,
    SN_DEVICE_GPU = 2
} sn_device;

#define SN_MAX_RANK 8
#define SN_DIM_BATCH (-1) /* marks the dynamic batch dimension in a declared shape */

/* Description of a model input or output. dims[0] == SN_DIM_BATCH when the batch is dynamic. */
typedef struct sn_tensor_info {
    const char *name; /* owned by the model */
    sn_dtype dtype;
    sn_layout layout;
    int rank;
    int64_t dims[SN_MAX_RANK];
} sn_tensor_info;

typedef enum sn_channel_order { SN_CHANNELS_RGB = 0, SN_CHANNELS_BGR = 1 } sn_channel_order;

typedef enum sn_resize_mode {
    SN_RESIZE_STRETCH = 0,     /* resize both sides to the input size */
    SN_RESIZE_SHORTER_CROP = 1 /* resize the shorter side to resize_shorter, centre-crop */
} sn_resize_mode;

/* The largest image side, in pixels, that preprocessing accepts (input or output). */
#define SN_PREPROCESS_MAX_SIDE 16384

/* How an 8-bit image becomes the model's input: x = (pixel/255 - mean[c]) / std[c]. */
typedef struct sn_preprocess {
    int present;        /* 0 when the model carries no preprocessing metadata */
    int width, height;  /* the network's input size */
    int resize_shorter; /* for SN_RESIZE_SHORTER_CROP: the shorter side before the crop */
    sn_resize_mode resize;
    sn_channel_order channels;
    float mean[3], std[3];
} sn_preprocess;

typedef struct sn_model sn_model;
typedef struct sn_engine sn_engine;

/* --- models ------------------------------------------------------------------------------ */

/* Load a .sgraph file. The file is memory-mapped and weights are used in place. */
sn_status sn_model_load_file(const char *path, sn_model **out, sn_error *err);
/* Load from memory. The bytes are copied unless SN_MODEL_LOAD_BORROW is given, in which case
 * they must outlive the model. */
#define SN_MODEL_LOAD_BORROW 1u
sn_status sn_model_load_memory(const void *data, size_t size, unsigned flags, sn_model **out,
                               sn_error *err);
void sn_model_destroy(sn_model *m);
/* Load a .sgraph file or an ONNX model, told apart by the file's first bytes. An ONNX model is
 * converted (opsets 11-21; docs/onnx.md) and optimised in memory, as sentinel-convert would. */
sn_status sn_model_load_any(const char *path, sn_model **out, sn_error *err);

int sn_model_input_count(const sn_model *m);
int sn_model_output_count(const sn_model *m);
sn_status sn_model_input_info(const sn_model *m, int index, sn_tensor_info *out);
sn_status sn_model_output_info(const sn_model *m, int index, sn_tensor_info *out);
/* Class labels from the model's metadata: count (0 if none) and the label of one class. */
int sn_model_label_count(const sn_model *m);
const char *sn_model_label(const sn_model *m, int index); /* NULL when out of range */
sn_status sn_model_preprocess(const sn_model *m, sn_preprocess *out);

/* --- engines ----------------------------------------------------------------------------- */

/* How a GPU engine stores activations and weights and computes; inputs and outputs stay f32.
 * Every kernel accumulates in fp32. */
typedef enum sn_precision {
    SN_PRECISION_FP32 = 0, /* fp32 storage and products (the default) */
    SN_PRECISION_TF32 = 1, /* fp32 storage; convolution and dense operands rounded to TF32
                              (compute capability 8.0 or later) */
    SN_PRECISION_FP16 = 2, /* IEEE half storage */
    SN_PRECISION_BF16 = 3  /* bfloat16 storage */
} sn_precision;

/* Options that can grow: always start from SN_ENGINE_OPTIONS_INIT. */
typedef struct sn_engine_options {
    size_t size;   /* sizeof(sn_engine_options), set by SN_ENGINE_OPTIONS_INIT */
    sn_device device;
    int threads;   /* CPU threads; 0 = all cores */
    int max_batch; /* the largest batch sn_engine_run will be given; 0 = 1 */
    int gpu_index; /* which GPU, for SN_DEVICE_GPU / AUTO */
    int optimize;  /* 1 (default): run an optimised copy of the model's graph (fused convs,
                      folded BatchNorms...); 0: run the graph exactly as loaded */
    sn_layout layout; /* activation layout the optimised graph computes in: SN_LAYOUT_ANY (the
                         default) lets the device choose (NCHW on the CPU), or NCHW / NHWC.
                         Inputs and outputs keep the model's layout either way. */
    sn_precision precision; /* GPU storage and math (SN_PRECISION_FP32 by default); the CPU
                               computes in fp32 whatever this says */
} sn_engine_options;

#define SN_ENGINE_OPTIONS_INIT                                                                \
    {sizeof(sn_engine_options), SN_DEVICE_AUTO, 0, 0, 0, 1, SN_LAYOUT_ANY, SN_PRECISION_FP32}

/* Build an engine for a model. The model must outlive the engine. With SN_DEVICE_AUTO and no
 * usable GPU the engine runs on the CPU; sn_engine_device() tells which, and
 * sn_engine_fallback_reason() why (NULL when no fallback happened). */
sn_status sn_engine_create(const sn_model *m, const sn_engine_options *opt, sn_engine **out,
                           sn_error *err);
void sn_engine_destroy(sn_engine *e);
sn_device sn_engine_device(const sn_engine *e);
const char *sn_engine_fallback_reason(const sn_engine *e);

/* Run one batch from host memory. inputs[i] holds `batch` contiguous samples of input i in its
 * declared dtype and layout; outputs[i] receives `batch` samples of output i. 1 <= batch <=
 * max_batch. Buffers must not overlap. */
sn_status sn_engine_run(sn_engine *e, int batch, const void *const *inputs, void *const *outputs,
                        sn_error *err);

/* Run one batch on device memory, GPU engines only (SN_ERR_UNSUPPORTED on the CPU): inputs[i]
 * and outputs[i] are CUDA device pointers (CUdeviceptr values) of the same sizes and layouts as
 * sn_engine_run's, and `stream` a CUstream (NULL: the default stream) of the engine's device.
 * The work is enqueued on that stream and the call returns without waiting for it; the caller
 * synchronises the stream before reading the outputs. Runs of one engine (of either kind) are
 * ordered after each other, since they share its activation memory. */
sn_status sn_engine_run_device(sn_engine *e, int batch, const void *const *inputs,
                               void *const *outputs, void *stream, sn_error *err);

/* One decoded 8-bit image: R,G,B bytes interleaved, rows top to bottom, `stride` bytes apart
 * (0 means 3*width). The engine never keeps the pointer past the call. */
typedef struct sn_image_u8 {
    int width, height;
    size_t stride;
    const uint8_t *pixels;
} sn_image_u8;

/* Preprocess n images, each at its own size, as the model's preprocessing metadata says
 * (sn_model_preprocess; without metadata: stretch to the input size, mean 0, std 1), into the
 * model's single image input ([N,3,H,W] or [N,H,W,3], f32 or the engine's precision), and run.
 * outputs as sn_engine_run. 1 <= n <= max batch. Fails with SN_ERR_INVALID_ARGUMENT (saying
 * which image and why) for a NULL/zero-sized image or a side over SN_PREPROCESS_MAX_SIDE, and
 * SN_ERR_UNSUPPORTED for a model whose inputs are not one 3-channel image.
 *
 * A CPU engine resizes and normalises on the host (the same code as the CLI's preprocessing);
 * a GPU engine sends the batch's 8-bit pixels in one host-to-device copy and preprocesses them
 * on the device, straight into the network's input: f32 values within 1e-3 of the CPU's (the
 * kernel is designed to equal them), then rounded to the engine's storage type. Its first call
 * compiles the preprocessing kernel. */
sn_status sn_engine_run_images(sn_engine *e, int n, const sn_image_u8 *images,
                               void *const *outputs, sn_error *err);

/* Bytes of one sample (batch 1) of an input or output, for sizing buffers. */
size_t sn_engine_input_bytes(const sn_engine *e, int index);
size_t sn_engine_output_bytes(const sn_engine *e, int index);

typedef struct sn_engine_stats {
    size_t size;                /* sizeof(sn_engine_stats), set by SN_ENGINE_STATS_INIT */
    size_t activation_bytes;    /* planned activation arena at max_batch */
    size_t naive_bytes;         /* the sum of all activations, without reuse, at max_batch */
    size_t weight_bytes;        /* constant data used by the engine */
    size_t scratch_bytes;       /* per-node scratch (im2col and such), at max_batch */
    uint64_t runs;              /* batches completed: sn_engine_run, _run_device, _run_images */
    int threads;                /* CPU threads used */
    int nodes;                  /* nodes the engine runs (after optimisation) */
    sn_layout layout;           /* the layout it optimised for (ANY: runs the graph as loaded) */
    double optimize_ms;         /* time sn_engine_create spent optimising (0: not optimised) */
    /* Host <-> device traffic of runs (weights uploaded at creation not included; all 0 on the
     * CPU). A staged GPU run makes one upload and one download; sn_engine_run_images uploads
     * 8-bit pixels, a quarter of the bytes of the same images as f32. */
    uint64_t uploads;           /* host-to-device copies */
    uint64_t upload_bytes;      /* bytes they moved */
    uint64_t downloads;         /* device-to-host copies */
    uint64_t download_bytes;    /* bytes they moved */
    uint64_t image_runs;        /* sn_engine_run_images calls completed (also counted in runs) */
    uint64_t images;            /* images those calls preprocessed */
    double create_ms;           /* wall time of sn_engine_create (optimising, planning,
                                   compiling or loading kernels, uploading weights) */
    /* GPU kernels built so far (at creation, and the preprocessing kernel on the first
     * sn_engine_run_images; all 0 on the CPU): each one either compiled by NVRTC or read from
     * the on-disk kernel cache, so a warm start shows kernels_compiled == 0. Identical programs
     * are built once and counted once. */
    int kernels;
    int kernels_compiled;
    int kernels_cached;
} sn_engine_stats;
#define SN_ENGINE_STATS_INIT                                                                  \
    {sizeof(sn_engine_stats), 0, 0, 0, 0, 0, 0, 0, SN_LAYOUT_ANY, 0.0, 0, 0, 0, 0, 0, 0, 0.0, 0, 0, 0}
sn_status sn_engine_get_stats(const sn_engine *e, sn_engine_stats *out);

/* Whether a usable GPU and driver exist, without building anything. On SN_ERR_NO_DEVICE the
 * error says why (no driver library, no device, driver too old...). */
sn_status sn_gpu_probe(int *device_count, sn_error *err);

const char *sn_version_string(void);

#ifdef __cplusplus
}
#endif
#endif /* SENTINEL_H */
