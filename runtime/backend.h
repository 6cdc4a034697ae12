/*
 * backend.h - the private interface between an engine and the device that runs it.
 *
 * An engine (engine.c) validates arguments, serialises runs and chooses a device; everything
 * device-specific sits behind one table of function pointers, implemented by the CPU backend
 * (backend_cpu.c) and, later, a CUDA backend. A backend's state belongs to one engine, so two
 * engines never share buffers, streams or caches. The engine calls run() with its mutex held,
 * so a backend needs no locking of its own.
 */
#ifndef SN_BACKEND_H
#define SN_BACKEND_H

#include <stdbool.h>

#include "graph.h"
#include "sentinel.h"

/* What the engine asks of a backend, already validated and defaulted by the engine. */
typedef struct sn_backend_config {
    int max_batch; /* >= 1 */
    int threads;   /* >= 1: host threads for CPU work */
    int gpu_index; /* >= 0: the device to open, for GPU backends */
    int precision; /* sn_precision: storage and math on a GPU (CPU backends compute in fp32) */
    /* Whether graph input 0 is a 3-channel image sn_engine_run_images may fill, and how:
     * `image` is resolved and validated (sn_preprocess_resolve), image_layout NCHW or NHWC. */
    bool image_input;
    sn_preprocess image;
    sn_layout image_layout;
} sn_backend_config;

typedef struct sn_backend_ops {
    const char *name; /* "cpu", "cuda": for messages */
    sn_device device; /* what sn_engine_device() reports for an engine on this backend */
    sn_layout layout; /* the activation layout the engine optimises for when the caller leaves
                         sn_engine_options.layout at SN_LAYOUT_ANY */

    /* Open the device and make the per-engine state. Nothing graph-specific yet. */
    sn_status (*create)(const sn_backend_config *cfg, void **state, sn_error *err);
    /* Release everything create and prepare acquired; state may be NULL. */
    void (*destroy)(void *state);

    /* Get ready to run `g` at any batch up to cfg->max_batch: order the nodes, plan activation
     * memory, size scratch, (on a GPU) upload weights and pick kernels. Called once, before any
     * run. `g` must outlive the state and stays read-only. */
    sn_status (*prepare)(void *state, const sn_graph *g, sn_error *err);

    /* Run one batch (1 <= batch <= max_batch) from and to host memory, already checked by the
     * engine: inputs[i] / outputs[i] are non-NULL and non-overlapping, sized for `batch`.
     * Every output byte is written on success; on failure outputs are unspecified. */
    sn_status (*run)(void *state, int batch, const void *const *inputs, void *const *outputs,
                     sn_error *err);

    /* Optional (may be NULL): fill the fields of `out` the backend knows - activation_bytes,
     * naive_bytes, weight_bytes, scratch_bytes, threads, uploads, downloads and their bytes.
     * The engine fills size, runs and the image counts, and holds its mutex during the call. */
    void (*stats)(const void *state, sn_engine_stats *out);

    /* Optional (NULL: not supported): enqueue one batch on `stream` (a CUstream; NULL the
     * default stream) reading and writing the caller's device pointers, and return without
     * waiting. */
    sn_status (*run_device)(void *state, int batch, const void *const *inputs,
                            void *const *outputs, void *stream, sn_error *err);

    /* Optional (NULL: the engine preprocesses on the host into f32 and calls run): preprocess
     * n images (1 <= n <= max_batch, each checked by the engine) as cfg->image says into graph
     * input 0, run, and write outputs as run does. Only called when cfg->image_input. */
    sn_status (*run_images)(void *state, int n, const sn_image_u8 *images, void *const *outputs,
                            sn_error *err);
} sn_backend_ops;

extern const sn_backend_ops sn_backend_cpu;
#ifdef SENTINEL_HAVE_CUDA
extern const sn_backend_ops sn_backend_cuda; /* runtime/cuda/backend_cuda.c */
#endif

#endif
