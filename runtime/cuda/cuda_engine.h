/*
 * cuda_engine.h - the CUDA backend's per-engine state, shared by its parts:
 * backend_cuda.c (device, streams, planning, compiling, uploading: create / prepare / destroy),
 * cuda_exec.c (running a batch: staged through pinned memory with one H2D and one D2H copy
 * and a CUDA graph per batch size, or on a caller's stream with the caller's device pointers)
 * and cuda_images.c (a batch of 8-bit images: packed, uploaded in one copy, preprocessed on the
 * device by one kernel straight into the network's input, then the same forward pass).
 */
#ifndef SN_CUDA_ENGINE_H
#define SN_CUDA_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "codegen.h"
#include "cuda_api.h"
#include "gpu_plan.h"
#include "kernel_cache.h"

typedef enum sn__step_kind {
    SN__STEP_NODE = 0,     /* a kernel of a graph node */
    SN__STEP_CAST_IN = 1,  /* graph input i: f32 in the input block -> storage type */
    SN__STEP_CAST_OUT = 2, /* graph output i: storage -> f32 in the output block */
    SN__STEP_COPY_OUT = 3, /* graph output i: device-to-device copy into the output block */
    SN__STEP_PREPROCESS = 4 /* the packed image batch (img_dev) -> graph input 0's storage */
} sn__step_kind;

typedef struct sn__step {
    sn__step_kind kind;
    int node;         /* SN__STEP_NODE: the graph node */
    int tensor;       /* casts and copies: the graph tensor */
    int io;           /* casts and copies: the graph input / output index */
    sn_cuda_kernel k; /* launch shape and arguments (source freed once compiled) */
    CUmodule module;
    CUfunction fn;
    CUdeviceptr aux[SN_CUDA_MAX_AUX];
} sn__step;

/* Where the graph inputs and outputs are on the device for one run. */
typedef struct sn__io {
    CUdeviceptr *in, *out;
} sn__io;

#define SN__RING 2    /* pinned staging slots */
#define SN__MAX_IO 64 /* graph inputs / outputs a staged run takes */

typedef struct sn__cuda {
    sn_backend_config cfg;
    const sn_cuda_driver *cu;
    CUdevice dev;
    CUcontext ctx; /* the device's primary context (retained) */
    int arch;      /* what NVRTC compiles for: 10*major + minor */
    char device_name[128];
    sn_gpu_precision prec;
    CUstream copy, compute;
    CUevent h2d_done, compute_done, last_done, d2h_done[SN__RING];
    bool last_recorded;

    const sn_graph *g;
    sn_gpu_plan plan;
    sn__step *steps;
    int n_steps;
    CUdeviceptr arena, weights, io_in, io_out;
    size_t weight_bytes;
    CUdeviceptr *wptr;          /* per tensor: a constant's device copy (0 if not uploaded) */
    size_t *in_unit, *out_unit; /* per graph input / output: host bytes at batch 1 */
    bool *in_batched, *out_batched;
    size_t io_in_bytes, io_out_bytes; /* at max_batch */
    void *pinned_in[SN__RING], *pinned_out[SN__RING];
    int ring;
    sn__io io;           /* scratch for the run in progress */
    CUgraphExec *graphs; /* per batch (index batch - 1), made on first use */
    bool use_graphs;     /* SENTINEL_CUDA_GRAPHS=0 turns them off */

    /* sn_engine_run_images (cuda_images.c), when cfg.image_input */
    int first_node_step;       /* steps before it cast the f32 inputs: images skip them */
    sn__step pre;              /* the batch preprocessing kernel (preprocess.cu), compiled by
                                  the first sn_engine_run_images (fn NULL until then) */
    CUgraphExec *img_graphs;   /* per batch: the steps from first_node_step, made with `pre`
                                  (half storage; with f32 storage they are all the steps and
                                  `graphs` serves) */
    void *img_pinned;          /* the packed batch (descriptors and pixels), grown as needed */
    size_t img_pinned_bytes;
    CUdeviceptr img_dev;       /* where a packed batch lands on the device */
    size_t img_dev_bytes;

    /* Traffic of runs (sn_engine_stats); the engine's mutex guards them. */
    uint64_t uploads, upload_bytes, downloads, download_bytes;
    int kernels_compiled, kernels_cached; /* every sn__cuda_compile, summed */
} sn__cuda;

/* Bytes of graph input / output i at `batch` on the host (f32), and the packed, 256-aligned
 * offsets of every one of them in the staging and device blocks. */
size_t sn__cuda_in_bytes(const sn__cuda *s, int i, int batch);
size_t sn__cuda_out_bytes(const sn__cuda *s, int i, int batch);
size_t sn__cuda_pack(const sn__cuda *s, bool inputs, int batch, size_t *offsets);

/* cuMemAlloc / cuMemHostAlloc of `bytes` for `what`; out of memory names the bytes asked. */
sn_status sn__cuda_dev_alloc(sn__cuda *s, CUdeviceptr *p, size_t bytes, const char *what,
                             sn_error *err);
sn_status sn__cuda_host_alloc(sn__cuda *s, void **p, size_t bytes, const char *what,
                              sn_error *err);
/* Compile the kernels of steps[0..n_steps) that have a source, all at once through the disk
 * cache ($SENTINEL_KERNEL_CACHE), load their modules and drop the sources. */
sn_status sn__cuda_compile(sn__cuda *s, sn__step *steps, int n_steps, sn_error *err);

/* cuda_exec.c */
sn_status sn__cuda_run(void *state, int batch, const void *const *inputs, void *const *outputs,
                       sn_error *err);
sn_status sn__cuda_run_device(void *state, int batch, const void *const *inputs,
                              void *const *outputs, void *stream, sn_error *err);
/* The device address of tensor t for the run in progress (s->io set). */
CUdeviceptr sn__cuda_tensor_ptr(const sn__cuda *s, int t);
/* Point s->io at the device blocks, packed for `batch`; offsets of each input and output
 * (arrays of SN__MAX_IO) when non-NULL. */
void sn__cuda_io_blocks(sn__cuda *s, int batch, size_t *in_off, size_t *out_off);
/* One H2D copy of `bytes` (counted; none when 0) on the copy stream, and the compute stream
 * ordered after it and after the engine's last device run. */
sn_status sn__cuda_upload(sn__cuda *s, CUdeviceptr dst, const void *src, size_t bytes,
                          sn_error *err);
/* One step's kernel (or copy) for `batch` on `stream`, its pointer arguments resolved for the
 * run in progress (s->io set). */
sn_status sn__cuda_launch(sn__cuda *s, const sn__step *p, int batch, CUstream stream,
                          sn_error *err);
/* On the compute stream, the steps from `first` (0, or first_node_step for images: a CUDA
 * graph kept in graphs[batch - 1] or img_graphs[batch - 1], or launches when graphs are off);
 * then one D2H copy of the output block (counted) into pinned slot `slot`, waited for, and
 * unpacked into the caller's outputs. */
sn_status sn__cuda_forward(sn__cuda *s, int first, int batch, int slot, const size_t *out_off,
                           void *const *outputs, sn_error *err);

/* cuda_images.c */
sn_status sn__cuda_run_images(void *state, int n, const sn_image_u8 *images,
                              void *const *outputs, sn_error *err);
/* The packed layout of a batch of images: descriptors, then each image's rows at a 16-byte
 * aligned offset; returns the total bytes and fills offsets[i] (n entries). */
size_t sn__cuda_images_layout(int n, const sn_image_u8 *images, size_t *offsets);
/* Pack the batch into `dst` (sized by sn__cuda_images_layout) on `threads` threads. */
void sn__cuda_images_pack(int n, const sn_image_u8 *images, const size_t *offsets, void *dst,
                          int threads);

#endif
