/*
 * kbench.h - `sentinel-bench kernels`: Sentinel's CUDA kernels timed one at a time at the zoo
 * models' layer shapes, against the roofline measured in the same run and against
 * cuDNN / cuBLAS for the same layer.
 *
 * It is built from the runtime's own internal pieces, unchanged: the code generator
 * (codegen.h) makes exactly the kernels an engine would for each node (and each conv variant),
 * the kernel cache (kernel_cache.h) compiles them with NVRTC, and the driver table
 * (cuda_api.h) loads and launches them with the arguments bound as cuda_exec.c binds them.
 * The parts:
 *   kbench_cases.c   which kernels: every node of each model's optimised graph (every conv
 *                    variant that applies), the element-wise nodes of the graph as loaded,
 *                    layout transposes, the f32<->half casts and the image preprocessing, with
 *                    bytes, FLOPs and identical specialisations merged;
 *   kbench_device.c  device buffers rotated beyond L2, CUDA-graph timing with events, the
 *                    copy-bandwidth roofline;
 *   kbench_vendor.c  cuBLAS (GEMM roofline per precision, dense layers) and cuDNN (conv
 *                    layers), both loaded with dlopen like the runtime's libraries;
 *   kbench_main.c    options, the loop under a time budget, the table and the JSON.
 */
#ifndef SN_KBENCH_H
#define SN_KBENCH_H

#include <stdbool.h>
#include <stddef.h>

#include "codegen.h"
#include "cuda_api.h"

/* One pointer argument of a kernel and how to size and fill it. */
typedef struct sn_kb_buf {
    int arg;           /* position in the kernel's argument list */
    size_t unit_bytes; /* bytes at batch 1, or in all when !batched */
    bool batched;
    bool constant; /* a weight: rotated like the rest, but read-only */
    size_t elem;   /* bytes per element: 4 (f32) or 2 (half); 1 for bytes (images) */
    bool images;   /* the preprocessing kernel's packed image buffer (made per batch) */
} sn_kb_buf;

typedef enum sn_kb_vendor { SN_KB_VENDOR_NONE = 0, SN_KB_VENDOR_CONV, SN_KB_VENDOR_GEMM } sn_kb_vendor;

/* The geometry cuDNN / cuBLAS need for the same layer (NCHW, OIHW; y = x W^T + b). */
typedef struct sn_kb_geom {
    int c, h, w, m, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, groups, oh, ow; /* conv */
    int in_features, out_features, trans_b;                               /* gemm */
} sn_kb_geom;

typedef struct sn_kb_case {
    char name[192];     /* "resnet50 layer1.0.conv2" */
    const char *family; /* "conv igemm", "conv direct", "conv depthwise", "dense", "pool", ... */
    const char *model;
    int layers;          /* nodes with this very kernel (merged), >= 1 */
    bool engine_choice;  /* the conv variant the engine picks for this node */
    sn_gpu_precision precision;
    sn_cuda_kernel k;    /* source freed once compiled; aux data kept */
    sn_kb_buf bufs[SN_CUDA_MAX_ARGS];
    int n_bufs;
    double flops_per_image;
    sn_kb_vendor vendor;
    sn_kb_geom geom;
    CUmodule module;
    CUfunction fn;
} sn_kb_case;

typedef struct sn_kb_cases {
    sn_kb_case *v;
    int n, cap;
} sn_kb_cases;

/* Append the kernels of every model in `models` (zoo names) in precision p. */
sn_status sn_kb_cases_add_models(sn_kb_cases *cs, const char *const *models, int n_models,
                                 sn_gpu_precision p, int max_batch, sn_error *err);
void sn_kb_cases_free(sn_kb_cases *cs);

/* --- device ------------------------------------------------------------------------------- */

typedef struct sn_kb_device {
    const sn_cuda_driver *cu;
    CUdevice dev;
    CUcontext ctx;
    CUstream stream;
    CUevent ev0, ev1;
    char name[128];
    int arch, sms;
    size_t l2_bytes, free_bytes;
} sn_kb_device;

sn_status sn_kb_device_open(sn_kb_device *d, sn_error *err);
void sn_kb_device_close(sn_kb_device *d);

/* Compile (through the kernel cache, `threads` at once) and load every case. */
sn_status sn_kb_compile(sn_kb_device *d, sn_kb_cases *cs, int threads, sn_error *err);

/* Time one case at `batch`: median microseconds per launch over `samples` CUDA-graph replays,
 * each replay launching the kernel over input sets rotated so their total exceeds L2. *bytes
 * receives the bytes one launch must move (each input read once, each output written once). */
sn_status sn_kb_time_case(sn_kb_device *d, const sn_kb_case *c, int batch, int samples,
                          double *us, double *bytes, sn_error *err);

/* Device-to-device copy bandwidth in GB/s (bytes read plus bytes written), median of repeats. */
sn_status sn_kb_copy_bandwidth(sn_kb_device *d, double *gbps, sn_error *err);

/* Operands rotate over complete copies ("sets") of one call's buffers, so that a call finds
 * them in device memory, not in L2, as it would inside a network. sn_kb_rotation_sets: how many
 * copies of a `set`-byte set exceed 3x the L2 cache within a quarter of free memory (1..64; 1
 * when set is 0). sn_kb_align: n rounded up to the alignment each buffer of a set starts at.
 * sn_kb_replicate_set: copies set 0 at `pool` into sets 1..sets-1 on d->stream. */
size_t sn_kb_rotation_sets(const sn_kb_device *d, size_t set);
size_t sn_kb_align(size_t n);
sn_status sn_kb_replicate_set(sn_kb_device *d, CUdeviceptr pool, size_t set, size_t sets, sn_error *err);

/* A buffer of `bytes` filled with uniform values in [-1, 1) stored as `elem`-byte elements
 * (4: f32, 2: f16 or bf16 as `bf16` says, 1: random bytes). */
sn_status sn_kb_fill_random(sn_kb_device *d, CUdeviceptr p, size_t bytes, size_t elem, bool bf16,
                            unsigned long long seed, sn_error *err);

/* Event timing of `launch` (which enqueues one unit of work on d->stream): median ms over
 * `samples`, after `warmup` untimed calls, each sample `reps` calls. */
typedef sn_status (*sn_kb_launch_fn)(void *arg, int rep, sn_error *err);
sn_status sn_kb_time_calls(sn_kb_device *d, sn_kb_launch_fn launch, void *arg, int warmup,
                           int samples, int reps, double *ms, sn_error *err);

/* --- cuBLAS / cuDNN ------------------------------------------------------------------------ */

typedef struct sn_kb_vendor_libs sn_kb_vendor_libs;

/* Load what is there (never fails): notes say what was not found. */
sn_kb_vendor_libs *sn_kb_vendor_open(sn_kb_device *d, char *notes, size_t notes_size);
void sn_kb_vendor_close(sn_kb_vendor_libs *v);
/* A large GEMM (8192^3 by default) in precision p: TFLOP/s, or a negative value when cuBLAS
 * is missing or the call fails (the reason in err). */
double sn_kb_vendor_gemm_peak(sn_kb_vendor_libs *v, sn_gpu_precision p, sn_error *err);
/* The same layer as `c` through cuDNN (conv) or cuBLAS (dense) at `batch`: median microseconds,
 * or a negative value with the reason in err. */
double sn_kb_vendor_time(sn_kb_vendor_libs *v, const sn_kb_case *c, int batch, sn_error *err);

#endif
