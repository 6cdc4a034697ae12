/*
 * kbench_device.c - the device side of `sentinel-bench kernels`: the GPU and its properties,
 * compiling and loading the cases' kernels, buffers rotated beyond L2, timing with CUDA events
 * around CUDA-graph replays, and the copy-bandwidth roofline.
 *
 * Timing a kernel: its arguments get K complete sets of buffers (inputs, weights, outputs),
 * K chosen so that K sets exceed three times the L2 cache, so a launch finds its inputs in
 * device memory, not in L2, as it would inside a network. M launches cycling through the sets
 * are captured into one CUDA graph (launch gaps shrink to the graph's); each sample is one
 * replay between two events, divided by M; the result is the median sample. Every buffer is
 * filled with random values first (never zeros: they can run faster than real data).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "half.h"
#include "kbench.h"
#include "kernel_cache.h"

#define SN__KB_ALIGN 256
#define SN__KB_BLOCK (16u << 20) /* random data is generated once in blocks of this size */
#define SN__KB_MAX_SETS 64
#define SN__KB_MAX_LAUNCHES 4096

size_t sn_kb_align(size_t n) { return (n + SN__KB_ALIGN - 1) & ~(size_t)(SN__KB_ALIGN - 1); }

size_t sn_kb_rotation_sets(const sn_kb_device *d, size_t set) {
    size_t k = set ? (3 * d->l2_bytes + set - 1) / set : 1;
    if (k < 1) k = 1;
    if (k > SN__KB_MAX_SETS) k = SN__KB_MAX_SETS;
    while (k > 1 && k * set > d->free_bytes / 4) k--;
    return k;
}

sn_status sn_kb_replicate_set(sn_kb_device *d, CUdeviceptr pool, size_t set, size_t sets, sn_error *err) {
    for (size_t s = 1; s < sets; s++) /* device-side copies: fast */
        SN_CU_CHECK(err, d->cu->cuMemcpyDtoDAsync(pool + s * set, pool, set, d->stream));
    return SN_OK;
}

sn_status sn_kb_device_open(sn_kb_device *d, sn_error *err) {
    memset(d, 0, sizeof *d);
    if (!(d->cu = sn_cuda_driver_get(err))) return err ? err->status : SN_ERR_NO_DEVICE;
    const sn_cuda_driver *cu = d->cu;
    int maj = 0, min = 0, l2 = 0;
    SN_CU_CHECK(err, cu->cuDeviceGet(&d->dev, 0));
    SN_CU_CHECK(err, cu->cuDeviceGetName(d->name, sizeof d->name, d->dev));
    SN_CU_CHECK(err, cu->cuDeviceGetAttribute(&maj, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d->dev));
    SN_CU_CHECK(err, cu->cuDeviceGetAttribute(&min, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d->dev));
    SN_CU_CHECK(err, cu->cuDeviceGetAttribute(&d->sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, d->dev));
    SN_CU_CHECK(err, cu->cuDeviceGetAttribute(&l2, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, d->dev));
    d->l2_bytes = (size_t)l2;
    /* The architecture the engine would compile for on this device. */
    sn_status st = sn_nvrtc_pick_arch(maj, min, &d->arch, err);
    if (st != SN_OK) return st;
    SN_CU_CHECK(err, cu->cuDevicePrimaryCtxRetain(&d->ctx, d->dev));
    SN_CU_CHECK(err, cu->cuCtxPushCurrent(d->ctx));
    SN_CU_CHECK(err, cu->cuStreamCreate(&d->stream, CU_STREAM_NON_BLOCKING));
    SN_CU_CHECK(err, cu->cuEventCreate(&d->ev0, CU_EVENT_DEFAULT));
    SN_CU_CHECK(err, cu->cuEventCreate(&d->ev1, CU_EVENT_DEFAULT));
    size_t total = 0;
    SN_CU_CHECK(err, cu->cuMemGetInfo(&d->free_bytes, &total));
    return SN_OK;
}

void sn_kb_device_close(sn_kb_device *d) {
    const sn_cuda_driver *cu = d->cu;
    if (!cu || !d->ctx) return;
    if (d->stream) cu->cuStreamSynchronize(d->stream);
    if (d->ev0) cu->cuEventDestroy(d->ev0);
    if (d->ev1) cu->cuEventDestroy(d->ev1);
    if (d->stream) cu->cuStreamDestroy(d->stream);
    CUcontext popped;
    cu->cuCtxPopCurrent(&popped);
    cu->cuDevicePrimaryCtxRelease(d->dev);
    d->ctx = NULL;
}

sn_status sn_kb_compile(sn_kb_device *d, sn_kb_cases *cs, int threads, sn_error *err) {
    sn_kcache cache;
    sn_kcache_mode mode;
    sn_status st = sn_kcache_mode_from_env(&mode, err);
    if (st != SN_OK) return st;
    if ((st = sn_kcache_open(&cache, NULL, mode, err)) != SN_OK) return st;
    sn_cuda_program *progs = calloc((size_t)(cs->n ? cs->n : 1), sizeof *progs);
    int *of = calloc((size_t)(cs->n ? cs->n : 1), sizeof *of), n = 0;
    if (!progs || !of) {
        st = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    for (int i = 0; i < cs->n; i++) {
        if (!cs->v[i].k.source || cs->v[i].module) continue;
        progs[n] = (sn_cuda_program){.label = cs->v[i].k.label, .source = cs->v[i].k.source, .arch = d->arch};
        of[n++] = i;
    }
    if ((st = sn_kcache_build_all(&cache, progs, n, threads, err)) != SN_OK) goto done;
    for (int j = 0; j < n; j++) {
        sn_kb_case *c = &cs->v[of[j]];
        SN_CU_TRY(st, done, err, d->cu->cuModuleLoadData(&c->module, progs[j].cubin));
        SN_CU_TRY(st, done, err, d->cu->cuModuleGetFunction(&c->fn, c->module, c->k.entry));
    }
done:
    for (int j = 0; progs && j < n; j++) sn_cuda_program_clear(&progs[j]);
    free(progs);
    free(of);
    sn_kcache_close(&cache);
    return st;
}

sn_status sn_kb_fill_random(sn_kb_device *d, CUdeviceptr p, size_t bytes, size_t elem, bool bf16,
                            unsigned long long seed, sn_error *err) {
    size_t block = bytes < SN__KB_BLOCK ? bytes : SN__KB_BLOCK;
    unsigned char *h = malloc(block ? block : 1);
    if (!h) return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of host memory (%zu bytes)", block);
    uint64_t s = seed;
    if (elem == 4) {
        float *f = (float *)h;
        for (size_t i = 0; i < block / 4; i++) f[i] = sn_bench_uniform(&s);
    } else if (elem == 2) {
        uint16_t *u = (uint16_t *)h;
        for (size_t i = 0; i < block / 2; i++) {
            float f = sn_bench_uniform(&s);
            u[i] = bf16 ? sn_f32_to_bf16(f) : sn_f32_to_f16(f);
        }
    } else {
        for (size_t i = 0; i < block; i++) h[i] = (unsigned char)sn_bench_rng_next(&s);
    }
    sn_status st = SN_OK;
    for (size_t at = 0; at < bytes; at += block) {
        size_t n = bytes - at < block ? bytes - at : block;
        SN_CU_TRY(st, done, err, d->cu->cuMemcpyHtoD(p + at, h, n));
    }
    /* A copy from pageable memory may return before its DMA lands; work on the (non-blocking)
     * benchmark stream must not read the buffer earlier. */
    SN_CU_TRY(st, done, err, d->cu->cuStreamSynchronize(NULL));
done:
    free(h);
    return st;
}

static size_t sn__buf_bytes(const sn_kb_buf *b, int batch) {
    if (b->images) /* descriptors, then each image 16-byte aligned (cuda_images.c's packing) */
        return ((size_t)batch * SN_CUDA_IMAGE_DESC_BYTES + 15) / 16 * 16 +
               (size_t)batch * ((b->unit_bytes + 15) / 16 * 16);
    return b->unit_bytes * (b->batched ? (size_t)batch : 1);
}

/* The packed image batch of the preprocessing kernel: descriptors and random pixels. */
static sn_status sn__fill_images(sn_kb_device *d, CUdeviceptr p, const sn_kb_buf *b, int batch,
                                 sn_error *err) {
    size_t bytes = sn__buf_bytes(b, batch), table = ((size_t)batch * SN_CUDA_IMAGE_DESC_BYTES + 15) / 16 * 16,
           img = (b->unit_bytes + 15) / 16 * 16;
    unsigned char *h = malloc(bytes);
    if (!h) return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of host memory (%zu bytes)", bytes);
    uint64_t s = 77;
    for (size_t i = 0; i < bytes; i++) h[i] = (unsigned char)sn_bench_rng_next(&s);
    int side = (int)lround(sqrt((double)b->unit_bytes / 3));
    for (int i = 0; i < batch; i++) {
        int64_t desc[4] = {(int64_t)(table + img * (size_t)i), side, side, (int64_t)side * 3};
        memcpy(h + (size_t)i * SN_CUDA_IMAGE_DESC_BYTES, desc, sizeof desc);
    }
    sn_status st = SN_OK;
    SN_CU_TRY(st, done, err, d->cu->cuMemcpyHtoD(p, h, bytes));
    SN_CU_TRY(st, done, err, d->cu->cuStreamSynchronize(NULL)); /* as in sn_kb_fill_random */
done:
    free(h);
    return st;
}

/* Enqueue one launch of case c at `batch` with the buffers of set `set`. */
static sn_status sn__launch(sn_kb_device *d, const sn_kb_case *c, int batch, const CUdeviceptr *ptr,
                            const CUdeviceptr *aux, sn_error *err) {
    const sn_cuda_kernel *k = &c->k;
    union {
        CUdeviceptr p;
        int i;
    } vals[SN_CUDA_MAX_ARGS];
    void *params[SN_CUDA_MAX_ARGS + 1];
    memset(vals, 0, sizeof vals);
    memset(params, 0, sizeof params);
    for (int a = 0; a < k->n_args; a++) {
        params[a] = &vals[a];
        switch (k->args[a].kind) {
        case SN_CUDA_ARG_BATCH: vals[a].i = batch; break;
        case SN_CUDA_ARG_IMM: vals[a].i = k->args[a].index; break;
        case SN_CUDA_ARG_AUX: vals[a].p = aux[k->args[a].index]; break;
        case SN_CUDA_ARG_INPUT:
        case SN_CUDA_ARG_OUTPUT: vals[a].p = ptr[a]; break;
        default: vals[a].p = 0; break;
        }
    }
    int64_t gx = sn_grid_dim_eval(k->grid[0], batch), gy = sn_grid_dim_eval(k->grid[1], batch),
            gz = sn_grid_dim_eval(k->grid[2], batch);
    if (gx <= 0 || gy <= 0 || gz <= 0 || gx > 0x7fffffff || gy > 65535 || gz > 65535)
        return sn_errorf(err, SN_ERR_UNSUPPORTED, "%s: grid %lldx%lldx%lld at batch %d", k->label,
                         (long long)gx, (long long)gy, (long long)gz, batch);
    SN_CU_CHECK(err, d->cu->cuLaunchKernel(c->fn, (unsigned)gx, (unsigned)gy, (unsigned)gz,
                                           (unsigned)k->block, 1, 1, 0, d->stream, params, NULL));
    return SN_OK;
}

/* Milliseconds between d->ev0 and d->ev1 after both were recorded around work on d->stream. */
static sn_status sn__elapsed(sn_kb_device *d, double *ms, sn_error *err) {
    float f = 0;
    SN_CU_CHECK(err, d->cu->cuEventSynchronize(d->ev1));
    SN_CU_CHECK(err, d->cu->cuEventElapsedTime(&f, d->ev0, d->ev1));
    *ms = f;
    return SN_OK;
}

sn_status sn_kb_time_case(sn_kb_device *d, const sn_kb_case *c, int batch, int samples, double *us,
                          double *bytes, sn_error *err) {
    const sn_cuda_driver *cu = d->cu;
    size_t set = 0, aux_total = 0;
    *bytes = 0;
    for (int i = 0; i < c->n_bufs; i++) {
        set += sn_kb_align(sn__buf_bytes(&c->bufs[i], batch));
        *bytes += (double)sn__buf_bytes(&c->bufs[i], batch);
    }
    for (int i = 0; i < c->k.n_aux; i++) {
        aux_total += sn_kb_align(c->k.aux[i].bytes);
        *bytes += (double)c->k.aux[i].bytes;
    }
    size_t k = sn_kb_rotation_sets(d, set);
    CUdeviceptr pool = 0, auxp = 0, aux[SN_CUDA_MAX_AUX] = {0};
    CUgraph graph = NULL;
    CUgraphExec exec = NULL;
    double *ms = NULL;
    sn_status st = SN_OK;
    if (set && cu->cuMemAlloc(&pool, k * set) != CUDA_SUCCESS) {
        size_t free_b = 0, total = 0;
        cu->cuMemGetInfo(&free_b, &total);
        return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "%s at batch %d: %zu sets of %zu bytes do not fit (%zu free)",
                         c->name, batch, k, set, free_b);
    }
    if (aux_total) SN_CU_TRY(st, done, err, cu->cuMemAlloc(&auxp, aux_total));
    for (int i = 0, at = 0; i < c->k.n_aux; i++) {
        aux[i] = auxp + (size_t)at;
        SN_CU_TRY(st, done, err, cu->cuMemcpyHtoD(aux[i], c->k.aux[i].data, c->k.aux[i].bytes));
        at += (int)sn_kb_align(c->k.aux[i].bytes);
    }
    if (aux_total) SN_CU_TRY(st, done, err, cu->cuStreamSynchronize(NULL));
    /* Fill set 0, then copy it to the others. */
    size_t off = 0;
    for (int i = 0; i < c->n_bufs; i++) {
        const sn_kb_buf *b = &c->bufs[i];
        size_t n = sn__buf_bytes(b, batch);
        if (b->images) st = sn__fill_images(d, pool + off, b, batch, err);
        else st = sn_kb_fill_random(d, pool + off, n, b->elem, c->precision == SN_GPU_BF16, 1000 + (unsigned)i, err);
        if (st != SN_OK) goto done;
        off += sn_kb_align(n);
    }
    if ((st = sn_kb_replicate_set(d, pool, set, k, err)) != SN_OK) goto done;

    /* A first estimate of one launch, to size the graph at ~0.5 ms a replay. */
    CUdeviceptr ptr[SN_CUDA_MAX_ARGS] = {0};
    off = 0;
    for (int i = 0; i < c->n_bufs; i++) {
        ptr[c->bufs[i].arg] = pool + off;
        off += sn_kb_align(sn__buf_bytes(&c->bufs[i], batch));
    }
    for (int w = 0; w < 2; w++)
        if ((st = sn__launch(d, c, batch, ptr, aux, err)) != SN_OK) goto done;
    double est = 0;
    SN_CU_TRY(st, done, err, cu->cuEventRecord(d->ev0, d->stream));
    for (int w = 0; w < 3; w++)
        if ((st = sn__launch(d, c, batch, ptr, aux, err)) != SN_OK) goto done;
    SN_CU_TRY(st, done, err, cu->cuEventRecord(d->ev1, d->stream));
    if ((st = sn__elapsed(d, &est, err)) != SN_OK) goto done;
    est /= 3;
    size_t m = est > 0 ? (size_t)ceil(0.5 / est) : SN__KB_MAX_LAUNCHES;
    if (m < k) m = k;
    if (m > SN__KB_MAX_LAUNCHES) m = SN__KB_MAX_LAUNCHES;
    m = (m + k - 1) / k * k;

    SN_CU_TRY(st, done, err, cu->cuStreamBeginCapture(d->stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL));
    for (size_t l = 0; l < m && st == SN_OK; l++) {
        size_t s = l % k;
        off = 0;
        for (int i = 0; i < c->n_bufs; i++) {
            ptr[c->bufs[i].arg] = pool + s * set + off;
            off += sn_kb_align(sn__buf_bytes(&c->bufs[i], batch));
        }
        st = sn__launch(d, c, batch, ptr, aux, err);
    }
    CUresult r = cu->cuStreamEndCapture(d->stream, &graph);
    if (st != SN_OK) goto done;
    SN_CU_TRY(st, done, err, r);
    SN_CU_TRY(st, done, err, cu->cuGraphInstantiate(&exec, graph, 0));
    SN_CU_TRY(st, done, err, cu->cuGraphLaunch(exec, d->stream)); /* warm-up */
    if (!(ms = calloc((size_t)samples, sizeof *ms))) {
        st = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    for (int i = 0; i < samples; i++) {
        SN_CU_TRY(st, done, err, cu->cuEventRecord(d->ev0, d->stream));
        SN_CU_TRY(st, done, err, cu->cuGraphLaunch(exec, d->stream));
        SN_CU_TRY(st, done, err, cu->cuEventRecord(d->ev1, d->stream));
        if ((st = sn__elapsed(d, &ms[i], err)) != SN_OK) goto done;
    }
    sn_bench_sort(ms, (size_t)samples);
    *us = ms[samples / 2] * 1e3 / (double)m;
done:
    if (st != SN_OK) sn_error_prefix(err, "%s at batch %d", c->name, batch);
    cu->cuStreamSynchronize(d->stream);
    if (exec) cu->cuGraphExecDestroy(exec);
    if (graph) cu->cuGraphDestroy(graph);
    if (pool) cu->cuMemFree(pool);
    if (auxp) cu->cuMemFree(auxp);
    free(ms);
    return st;
}

sn_status sn_kb_time_calls(sn_kb_device *d, sn_kb_launch_fn launch, void *arg, int warmup,
                           int samples, int reps, double *ms, sn_error *err) {
    sn_status st = SN_OK;
    double *v = calloc((size_t)samples, sizeof *v);
    if (!v) return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < warmup && st == SN_OK; i++) st = launch(arg, i, err);
    for (int s = 0; s < samples && st == SN_OK; s++) {
        SN_CU_TRY(st, done, err, d->cu->cuEventRecord(d->ev0, d->stream));
        for (int i = 0; i < reps && st == SN_OK; i++) st = launch(arg, s * reps + i, err);
        if (st != SN_OK) break;
        SN_CU_TRY(st, done, err, d->cu->cuEventRecord(d->ev1, d->stream));
        if ((st = sn__elapsed(d, &v[s], err)) != SN_OK) break;
        v[s] /= reps;
    }
    if (st == SN_OK) {
        sn_bench_sort(v, (size_t)samples);
        *ms = v[samples / 2];
    }
done:
    d->cu->cuStreamSynchronize(d->stream);
    free(v);
    return st;
}

typedef struct sn__copy {
    sn_kb_device *d;
    CUdeviceptr src, dst;
    size_t bytes;
} sn__copy;

static sn_status sn__copy_once(void *arg, int rep, sn_error *err) {
    (void)rep;
    sn__copy *c = arg;
    SN_CU_CHECK(err, c->d->cu->cuMemcpyDtoDAsync(c->dst, c->src, c->bytes, c->d->stream));
    return SN_OK;
}

sn_status sn_kb_copy_bandwidth(sn_kb_device *d, double *gbps, sn_error *err) {
    size_t bytes = (size_t)1 << 30;
    while (bytes > (64u << 20) && 2 * bytes > d->free_bytes / 2) bytes /= 2;
    sn__copy c = {.d = d, .bytes = bytes};
    sn_status st = SN_OK;
    double ms = 0;
    SN_CU_TRY(st, done, err, d->cu->cuMemAlloc(&c.src, bytes));
    SN_CU_TRY(st, done, err, d->cu->cuMemAlloc(&c.dst, bytes));
    if ((st = sn_kb_fill_random(d, c.src, bytes, 4, false, 5, err)) != SN_OK) goto done;
    if ((st = sn_kb_time_calls(d, sn__copy_once, &c, 2, 9, 1, &ms, err)) != SN_OK) goto done;
    *gbps = 2.0 * (double)bytes / (ms * 1e-3) / 1e9;
done:
    if (c.src) d->cu->cuMemFree(c.src);
    if (c.dst) d->cu->cuMemFree(c.dst);
    return st;
}
