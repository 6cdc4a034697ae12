/*
 * backend_cuda.c - the CUDA backend behind sn_backend_ops: opening the device, and prepare():
 * plan device memory (gpu_plan.c), generate a kernel per node (codegen.c), compile them all at
 * once through the disk cache (kernel_cache.c, compile_pool.c), load them, upload the weights
 * once (converted to the storage type), and allocate the arena, the device input and output
 * blocks and the pinned staging ring. Running batches is cuda_exec.c.
 *
 * Every entry point makes the device's primary context current for its duration (push / pop),
 * so an engine may be used from any thread; the engine serialises calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_engine.h"
#include "half.h"

static size_t sn__align(size_t n) { return (n + SN_GPU_ALIGN - 1) & ~(size_t)(SN_GPU_ALIGN - 1); }

size_t sn__cuda_in_bytes(const sn__cuda *s, int i, int batch) {
    return s->in_unit[i] * (s->in_batched[i] ? (size_t)batch : 1);
}

size_t sn__cuda_out_bytes(const sn__cuda *s, int i, int batch) {
    return s->out_unit[i] * (s->out_batched[i] ? (size_t)batch : 1);
}

size_t sn__cuda_pack(const sn__cuda *s, bool inputs, int batch, size_t *offsets) {
    int n = inputs ? s->g->n_inputs : s->g->n_outputs;
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        if (offsets) offsets[i] = at;
        at += sn__align(inputs ? sn__cuda_in_bytes(s, i, batch) : sn__cuda_out_bytes(s, i, batch));
    }
    return at;
}

/* cuMemAlloc with the bytes asked for, and what is free, in the message on failure. */
sn_status sn__cuda_dev_alloc(sn__cuda *s, CUdeviceptr *p, size_t bytes, const char *what,
                             sn_error *err) {
    *p = 0;
    if (bytes == 0) return SN_OK;
    CUresult r = s->cu->cuMemAlloc(p, bytes);
    if (r == CUDA_SUCCESS) return SN_OK;
    *p = 0;
    size_t free_b = 0, total = 0;
    if (s->cu->cuMemGetInfo(&free_b, &total) != CUDA_SUCCESS) free_b = total = 0;
    if (r == CUDA_ERROR_OUT_OF_MEMORY)
        return sn_errorf(err, SN_ERR_OUT_OF_MEMORY,
                         "GPU out of memory: the %s needs %zu bytes; %zu of %zu bytes are free "
                         "on %s",
                         what, bytes, free_b, total, s->device_name);
    return sn__cuda_check(SN_CUDA_LIB_DRIVER, r, "cuMemAlloc", __FILE__, __LINE__, err);
}

sn_status sn__cuda_host_alloc(sn__cuda *s, void **p, size_t bytes, const char *what,
                              sn_error *err) {
    *p = NULL;
    CUresult r = s->cu->cuMemHostAlloc(p, bytes ? bytes : SN_GPU_ALIGN, 0);
    if (r == CUDA_SUCCESS) return SN_OK;
    *p = NULL;
    if (r == CUDA_ERROR_OUT_OF_MEMORY)
        return sn_errorf(err, SN_ERR_OUT_OF_MEMORY,
                         "out of pinned host memory: the %s needs %zu bytes", what, bytes);
    return sn__cuda_check(SN_CUDA_LIB_DRIVER, r, "cuMemHostAlloc", __FILE__, __LINE__, err);
}

static void sn__cuda_destroy(void *state) {
    sn__cuda *s = state;
    if (!s) return;
    const sn_cuda_driver *cu = s->cu;
    if (cu && s->ctx && cu->cuCtxPushCurrent(s->ctx) == CUDA_SUCCESS) {
        if (s->compute) cu->cuStreamSynchronize(s->compute);
        if (s->copy) cu->cuStreamSynchronize(s->copy);
        for (int b = 0; s->graphs && b < s->cfg.max_batch; b++)
            if (s->graphs[b]) cu->cuGraphExecDestroy(s->graphs[b]);
        for (int b = 0; s->img_graphs && b < s->cfg.max_batch; b++)
            if (s->img_graphs[b]) cu->cuGraphExecDestroy(s->img_graphs[b]);
        for (int i = 0; i < s->n_steps; i++)
            if (s->steps[i].module) cu->cuModuleUnload(s->steps[i].module);
        if (s->pre.module) cu->cuModuleUnload(s->pre.module);
        CUdeviceptr bufs[] = {s->arena, s->weights, s->io_in, s->io_out, s->img_dev};
        for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
            if (bufs[i]) cu->cuMemFree(bufs[i]);
        if (s->img_pinned) cu->cuMemFreeHost(s->img_pinned);
        for (int r = 0; r < SN__RING; r++) {
            if (s->pinned_in[r]) cu->cuMemFreeHost(s->pinned_in[r]);
            if (s->pinned_out[r]) cu->cuMemFreeHost(s->pinned_out[r]);
            if (s->d2h_done[r]) cu->cuEventDestroy(s->d2h_done[r]);
        }
        CUevent evs[] = {s->h2d_done, s->compute_done, s->last_done};
        for (size_t i = 0; i < sizeof evs / sizeof *evs; i++)
            if (evs[i]) cu->cuEventDestroy(evs[i]);
        if (s->copy) cu->cuStreamDestroy(s->copy);
        if (s->compute) cu->cuStreamDestroy(s->compute);
        CUcontext popped;
        cu->cuCtxPopCurrent(&popped);
        cu->cuDevicePrimaryCtxRelease(s->dev);
    }
    for (int i = 0; i < s->n_steps; i++) sn_cuda_kernel_clear(&s->steps[i].k);
    sn_cuda_kernel_clear(&s->pre.k);
    free(s->steps);
    free(s->graphs);
    free(s->img_graphs);
    free(s->wptr);
    free(s->in_unit);
    free(s->out_unit);
    free(s->in_batched);
    free(s->out_batched);
    free(s->io.in);
    free(s->io.out);
    sn_gpu_plan_free(&s->plan);
    free(s);
}

static sn_status sn__cuda_create(const sn_backend_config *cfg, void **state, sn_error *err) {
    *state = NULL;
    sn__cuda *s = calloc(1, sizeof *s);
    if (!s) return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory creating a GPU engine");
    s->cfg = *cfg;
    s->prec = (sn_gpu_precision)cfg->precision;
    const char *graphs = getenv("SENTINEL_CUDA_GRAPHS");
    s->use_graphs = !graphs || strcmp(graphs, "0") != 0;
    sn_status st = SN_OK;
    CUcontext popped;
    if (!(s->cu = sn_cuda_driver_get(err))) {
        st = err ? err->status : SN_ERR_NO_DEVICE;
        goto fail;
    }
    const sn_cuda_driver *cu = s->cu;
    SN_CU_TRY(st, fail, err, cu->cuDeviceGet(&s->dev, cfg->gpu_index));
    SN_CU_TRY(st, fail, err, cu->cuDeviceGetName(s->device_name, sizeof s->device_name, s->dev));
    int maj = 0, min = 0;
    SN_CU_TRY(st, fail, err,
              cu->cuDeviceGetAttribute(&maj, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, s->dev));
    SN_CU_TRY(st, fail, err,
              cu->cuDeviceGetAttribute(&min, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, s->dev));
    if (s->prec == SN_GPU_TF32 && maj < 8) {
        st = sn_errorf(err, SN_ERR_UNSUPPORTED, "TF32 needs compute capability 8.0; %s is %d.%d",
                       s->device_name, maj, min);
        goto fail;
    }
    if ((st = sn_nvrtc_pick_arch(maj, min, &s->arch, err)) != SN_OK) goto fail;
    SN_CU_TRY(st, fail, err, cu->cuDevicePrimaryCtxRetain(&s->ctx, s->dev));
    SN_CU_TRY(st, fail_release, err, cu->cuCtxPushCurrent(s->ctx));
    SN_CU_TRY(st, fail_pop, err, cu->cuStreamCreate(&s->copy, CU_STREAM_NON_BLOCKING));
    SN_CU_TRY(st, fail_pop, err, cu->cuStreamCreate(&s->compute, CU_STREAM_NON_BLOCKING));
    SN_CU_TRY(st, fail_pop, err, cu->cuEventCreate(&s->h2d_done, CU_EVENT_DISABLE_TIMING));
    SN_CU_TRY(st, fail_pop, err, cu->cuEventCreate(&s->compute_done, CU_EVENT_DISABLE_TIMING));
    SN_CU_TRY(st, fail_pop, err, cu->cuEventCreate(&s->last_done, CU_EVENT_DISABLE_TIMING));
    for (int r = 0; r < SN__RING; r++)
        SN_CU_TRY(st, fail_pop, err, cu->cuEventCreate(&s->d2h_done[r], CU_EVENT_DISABLE_TIMING));
    cu->cuCtxPopCurrent(&popped);
    *state = s;
    return SN_OK;

fail_pop:
    s->cu->cuCtxPopCurrent(&popped);
    goto fail; /* destroy() releases the context and whatever was made in it */
fail_release:
    s->cu->cuDevicePrimaryCtxRelease(s->dev);
    s->ctx = NULL;
fail:
    if (err && !strstr(err->message, "GPU")) sn_error_prefix(err, "opening GPU %d", cfg->gpu_index);
    sn__cuda_destroy(s);
    return st;
}

/* Kernels for every step, in execution order. */
static sn_status sn__make_steps(sn__cuda *s, sn_error *err) {
    const sn_graph *g = s->g;
    sn_cuda_codegen_ctx ctx;
    sn_status st = sn_cuda_codegen_ctx_init(&ctx, g, s->cfg.max_batch, s->prec, err);
    if (st != SN_OK) return st;
    int cap = g->n_inputs + g->n_outputs + 8;
    for (int i = 0; i < s->plan.n_order; i++) cap += g->nodes[s->plan.order[i]].n_inputs + 1;
    s->steps = calloc((size_t)cap, sizeof *s->steps);
    if (!s->steps) {
        st = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory for GPU steps");
        goto done;
    }
    for (int i = 0; s->plan.half && i < g->n_inputs; i++) {
        sn__step *p = &s->steps[s->n_steps++];
        *p = (sn__step){.kind = SN__STEP_CAST_IN, .node = -1, .tensor = g->inputs[i], .io = i};
        if ((st = sn_cuda_codegen_cast(&ctx, g->inputs[i], true, &p->k, err)) != SN_OK) goto done;
    }
    for (int i = 0; i < s->plan.n_order; i++) {
        sn_cuda_node_kind kind;
        sn_cuda_kernel *ks = NULL;
        int nk = 0;
        st = sn_cuda_codegen_node(&ctx, s->plan.order[i], SN_CONV_AUTO, &kind, &ks, &nk, err);
        if (st != SN_OK) goto done;
        for (int k = 0; k < nk && s->n_steps < cap; k++) {
            sn__step *p = &s->steps[s->n_steps++];
            *p = (sn__step){.kind = SN__STEP_NODE, .node = s->plan.order[i], .tensor = -1};
            p->k = ks[k];
            memset(&ks[k], 0, sizeof ks[k]); /* ownership moved to the step */
        }
        sn_cuda_kernels_free(ks, nk);
    }
    for (int i = 0; i < g->n_outputs; i++) {
        int t = g->outputs[i];
        if (s->plan.role[t] == SN_GT_OUTPUT && s->plan.slot[t] == i) continue;
        sn__step *p = &s->steps[s->n_steps++];
        *p = (sn__step){.node = -1, .tensor = t, .io = i};
        if (!s->plan.half) {
            p->kind = SN__STEP_COPY_OUT;
            continue;
        }
        p->kind = SN__STEP_CAST_OUT;
        if ((st = sn_cuda_codegen_cast(&ctx, t, false, &p->k, err)) != SN_OK) goto done;
    }
    /* Images are preprocessed straight into input 0's storage, so its cast is skipped. */
    s->first_node_step = s->plan.half ? g->n_inputs : 0;
done:
    sn_cuda_codegen_ctx_free(&ctx);
    return st;
}

sn_status sn__cuda_compile(sn__cuda *s, sn__step *steps, int n_steps, sn_error *err) {
    sn_kcache cache;
    sn_kcache_mode mode;
    sn_status st = sn_kcache_mode_from_env(&mode, err);
    if (st != SN_OK) return st;
    st = sn_kcache_open(&cache, NULL, mode, err);
    if (st != SN_OK && mode == SN_KCACHE_ON) /* an unwritable cache costs time, not the run */
        st = sn_kcache_open(&cache, NULL, SN_KCACHE_OFF, err);
    if (st != SN_OK) return st;
    sn_cuda_program *progs = calloc((size_t)(n_steps ? n_steps : 1), sizeof *progs);
    int *of = calloc((size_t)(n_steps ? n_steps : 1), sizeof *of), n = 0;
    if (!progs || !of) {
        st = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory compiling kernels");
        goto done;
    }
    for (int i = 0; i < n_steps; i++) {
        if (!steps[i].k.source) continue;
        progs[n] = (sn_cuda_program){
            .label = steps[i].k.label, .source = steps[i].k.source, .arch = s->arch};
        of[n++] = i;
    }
    int threads = s->cfg.threads < 1 ? 1 : s->cfg.threads > 16 ? 16 : s->cfg.threads;
    if ((st = sn_kcache_build_all(&cache, progs, n, threads, err)) != SN_OK) goto done;
    for (int j = 0; j < n; j++) {
        sn__step *p = &steps[of[j]];
        SN_CU_TRY(st, done, err, s->cu->cuModuleLoadData(&p->module, progs[j].cubin));
        SN_CU_TRY(st, done, err, s->cu->cuModuleGetFunction(&p->fn, p->module, p->k.entry));
        free(p->k.source); /* keep launch shapes and arguments, not the text */
        p->k.source = NULL;
    }
    /* Counted once the modules load: a failed lazy compile may be retried. */
    s->kernels_compiled += cache.stats.compiles;
    s->kernels_cached += cache.stats.hits;
done:
    for (int j = 0; progs && j < n; j++) sn_cuda_program_clear(&progs[j]);
    free(progs);
    free(of);
    sn_kcache_close(&cache);
    return st;
}

/* The constants kernels read and every step's aux data, in one buffer, uploaded once. */
static sn_status sn__upload(sn__cuda *s, sn_error *err) {
    const sn_graph *g = s->g;
    size_t total = 0, elem = s->plan.elem;
    size_t *at = calloc((size_t)(g->n_tensors ? g->n_tensors : 1), sizeof *at);
    s->wptr = calloc((size_t)(g->n_tensors ? g->n_tensors : 1), sizeof *s->wptr);
    unsigned char *host = NULL;
    sn_status st = SN_OK;
    if (!at || !s->wptr) {
        st = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory uploading weights");
        goto done;
    }
    /* First pass sizes, second fills: a constant read by several kernels is uploaded once. */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < g->n_tensors; i++) at[i] = (size_t)-1;
        size_t off = 0;
        for (int i = 0; i < s->n_steps; i++) {
            sn__step *p = &s->steps[i];
            for (int a = 0; a < p->k.n_args; a++) {
                if (p->k.args[a].kind != SN_CUDA_ARG_INPUT || p->kind != SN__STEP_NODE) continue;
                int t = g->nodes[p->node].inputs[p->k.args[a].index];
                if (t < 0 || s->plan.role[s->plan.root[t]] != SN_GT_CONST) continue;
                t = s->plan.root[t];
                if (at[t] != (size_t)-1) continue;
                const sn_tensor *c = &g->tensors[t];
                size_t n = c->nbytes / sizeof(float),
                       bytes = c->dtype == SN_DTYPE_F32 ? n * elem : c->nbytes;
                at[t] = off;
                if (pass == 1) {
                    if (c->dtype == SN_DTYPE_F32 && elem == 2)
                        sn_f32_to_half_array(c->data, n, s->prec == SN_GPU_BF16,
                                             (uint16_t *)(host + off));
                    else
                        memcpy(host + off, c->data, c->nbytes);
                    s->wptr[t] = s->weights + off;
                }
                off += sn__align(bytes);
            }
            for (int a = 0; a < p->k.n_aux; a++) {
                if (pass == 1) {
                    memcpy(host + off, p->k.aux[a].data, p->k.aux[a].bytes);
                    p->aux[a] = s->weights + off;
                }
                off += sn__align(p->k.aux[a].bytes);
            }
        }
        if (pass == 0) {
            total = off;
            if (!(host = malloc(total ? total : 1))) {
                st = sn_errorf(err, SN_ERR_OUT_OF_MEMORY,
                               "out of memory staging %zu bytes of "
                               "weights",
                               total);
                goto done;
            }
            if ((st = sn__cuda_dev_alloc(s, &s->weights, total, "weights", err)) != SN_OK)
                goto done;
        }
    }
    if (total) SN_CU_TRY(st, done, err, s->cu->cuMemcpyHtoD(s->weights, host, total));
    s->weight_bytes = total;
done:
    free(at);
    free(host);
    return st;
}

/* Host sizes of the graph's inputs and outputs, the device blocks, the arena and the ring. */
static sn_status sn__buffers(sn__cuda *s, sn_error *err) {
    const sn_graph *g = s->g;
    size_t ni = (size_t)(g->n_inputs ? g->n_inputs : 1),
           no = (size_t)(g->n_outputs ? g->n_outputs : 1);
    s->in_unit = calloc(ni, sizeof *s->in_unit);
    s->out_unit = calloc(no, sizeof *s->out_unit);
    s->in_batched = calloc(ni, sizeof *s->in_batched);
    s->out_batched = calloc(no, sizeof *s->out_batched);
    s->io.in = calloc(ni, sizeof *s->io.in);
    s->io.out = calloc(no, sizeof *s->io.out);
    s->graphs = calloc((size_t)s->cfg.max_batch, sizeof *s->graphs);
    sn_shape *one = calloc((size_t)(g->n_tensors ? g->n_tensors : 1), sizeof *one);
    sn_status st = SN_OK;
    if (!s->in_unit || !s->out_unit || !s->in_batched || !s->out_batched || !s->io.in ||
        !s->io.out || !s->graphs || !one) {
        st = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory preparing a GPU engine");
        goto done;
    }
    if ((st = sn_graph_infer_concrete(g, 1, one, NULL, err)) != SN_OK) goto done;
    for (int k = 0; k < g->n_inputs + g->n_outputs; k++) {
        bool in = k < g->n_inputs;
        int t = in ? g->inputs[k] : g->outputs[k - g->n_inputs];
        size_t bytes = (size_t)sn_shape_numel(&one[t]) * sizeof(float);
        bool batched = (g->tensors[t].flags & SN_TENSOR_BATCHED) != 0;
        if (in) {
            s->in_unit[k] = bytes;
            s->in_batched[k] = batched;
        } else {
            s->out_unit[k - g->n_inputs] = bytes;
            s->out_batched[k - g->n_inputs] = batched;
        }
    }
    s->io_in_bytes = sn__cuda_pack(s, true, s->cfg.max_batch, NULL);
    s->io_out_bytes = sn__cuda_pack(s, false, s->cfg.max_batch, NULL);
    if ((st = sn__cuda_dev_alloc(s, &s->arena, s->plan.arena_bytes, "activation arena", err)) ||
        (st = sn__cuda_dev_alloc(s, &s->io_in, s->io_in_bytes, "input block", err)) ||
        (st = sn__cuda_dev_alloc(s, &s->io_out, s->io_out_bytes, "output block", err)))
        goto done;
    for (int r = 0; r < SN__RING; r++)
        if ((st = sn__cuda_host_alloc(s, &s->pinned_in[r], s->io_in_bytes, "staging ring",
                                      err)) ||
            (st = sn__cuda_host_alloc(s, &s->pinned_out[r], s->io_out_bytes, "staging ring",
                                      err)))
            goto done;
done:
    free(one);
    return st;
}

static sn_status sn__cuda_prepare(void *state, const sn_graph *g, sn_error *err) {
    sn__cuda *s = state;
    s->g = g;
    CUcontext popped;
    SN_CU_CHECK(err, s->cu->cuCtxPushCurrent(s->ctx));
    sn_status st =
        sn_gpu_plan_make(g, s->cfg.max_batch, sn_gpu_precision_size(s->prec), &s->plan, err);
    if (st == SN_OK) st = sn__make_steps(s, err);
    if (st == SN_OK) st = sn__cuda_compile(s, s->steps, s->n_steps, err);
    if (st == SN_OK) st = sn__upload(s, err);
    if (st == SN_OK) st = sn__buffers(s, err);
    s->cu->cuCtxPopCurrent(&popped);
    return st;
}

static void sn__cuda_stats(const void *state, sn_engine_stats *out) {
    const sn__cuda *s = state;
    out->activation_bytes = s->plan.arena_bytes;
    out->naive_bytes = s->plan.naive_bytes;
    out->weight_bytes = s->weight_bytes;
    out->scratch_bytes = 0;
    out->uploads = s->uploads;
    out->upload_bytes = s->upload_bytes;
    out->downloads = s->downloads;
    out->download_bytes = s->download_bytes;
    out->kernels = s->kernels_compiled + s->kernels_cached;
    out->kernels_compiled = s->kernels_compiled;
    out->kernels_cached = s->kernels_cached;
}

const sn_backend_ops sn_backend_cuda = {
    .name = "cuda",
    .device = SN_DEVICE_GPU,
    .layout = SN_LAYOUT_NCHW,
    .create = sn__cuda_create,
    .destroy = sn__cuda_destroy,
    .prepare = sn__cuda_prepare,
    .run = sn__cuda_run,
    .stats = sn__cuda_stats,
    .run_device = sn__cuda_run_device,
    .run_images = sn__cuda_run_images,
};
