/*
 * cuda_exec.c - running one batch on the CUDA backend.
 *
 * Staged run (sn_engine_run): the caller's inputs are packed into a pinned slot of the staging
 * ring, one H2D copy on the copy stream moves them to the device input block; the compute stream
 * waits for it (an event), runs every step - replaying a CUDA graph captured the first time this
 * batch size ran - and the copy stream waits for that (an event) before one D2H copy of the
 * whole output block into the slot, which is then unpacked into the caller's outputs. Kernel
 * arguments point at fixed device addresses (arena, weights, blocks at this batch's offsets),
 * which is what makes a graph captured once valid for every later run of that batch size.
 * The upload and the forward pass with its download are shared with cuda_images.c, whose batch
 * arrives as 8-bit pixels instead; both count their copies and bytes for sn_engine_stats.
 *
 * Device run (sn_engine_run_device): the same steps enqueued on the caller's stream, reading
 * and writing the caller's device pointers, with no staging and no graph (the pointers change).
 * It returns without waiting; an event orders it against the engine's next run of either kind,
 * since both use the one arena.
 */
#include <stdint.h>
#include <string.h>

#include "cuda_engine.h"

CUdeviceptr sn__cuda_tensor_ptr(const sn__cuda *s, int t) {
    int r = s->plan.root[t];
    switch (s->plan.role[r]) {
    case SN_GT_CONST: return s->wptr[r];
    case SN_GT_ARENA: return s->arena + s->plan.offset[r];
    case SN_GT_INPUT: return s->io.in[s->plan.slot[r]];
    case SN_GT_OUTPUT: return s->io.out[s->plan.slot[r]];
    default: return 0;
    }
}

/* Pointer argument `arg` (INPUT or OUTPUT `index`) of a step. */
static CUdeviceptr sn__step_ptr(const sn__cuda *s, const sn__step *p, sn_cuda_arg arg) {
    const bool in = arg.kind == SN_CUDA_ARG_INPUT;
    switch (p->kind) {
    case SN__STEP_NODE: {
        const sn_node *n = &s->g->nodes[p->node];
        int t = in ? (arg.index < n->n_inputs ? n->inputs[arg.index] : -1)
                   : (arg.index < n->n_outputs ? n->outputs[arg.index] : -1);
        return t < 0 ? 0 : sn__cuda_tensor_ptr(s, t);
    }
    case SN__STEP_CAST_IN: return in ? s->io.in[p->io] : sn__cuda_tensor_ptr(s, p->tensor);
    case SN__STEP_CAST_OUT: return in ? sn__cuda_tensor_ptr(s, p->tensor) : s->io.out[p->io];
    case SN__STEP_PREPROCESS: return in ? s->img_dev : sn__cuda_tensor_ptr(s, p->tensor);
    default: return 0;
    }
}

sn_status sn__cuda_launch(sn__cuda *s, const sn__step *p, int batch, CUstream stream,
                          sn_error *err) {
    const sn_cuda_driver *cu = s->cu;
    if (p->kind == SN__STEP_COPY_OUT) {
        size_t bytes = sn__cuda_out_bytes(s, p->io, batch);
        if (bytes)
            SN_CU_CHECK(err, cu->cuMemcpyDtoDAsync(s->io.out[p->io],
                                                   sn__cuda_tensor_ptr(s, p->tensor), bytes,
                                                   stream));
        return SN_OK;
    }
    const sn_cuda_kernel *k = &p->k;
    /* One 8-byte slot per argument (the driver reads an int's 4 bytes from its start), and a
     * NULL after the last pointer, which the driver does not need but a tool may read to. */
    union {
        CUdeviceptr p;
        int i;
    } vals[SN_CUDA_MAX_ARGS];
    void *params[SN_CUDA_MAX_ARGS + 1];
    memset(vals, 0, sizeof vals);
    memset(params, 0, sizeof params);
    for (int a = 0; a < k->n_args; a++) {
        sn_cuda_arg arg = k->args[a];
        params[a] = &vals[a];
        switch (arg.kind) {
        case SN_CUDA_ARG_BATCH: vals[a].i = batch; break;
        case SN_CUDA_ARG_IMM: vals[a].i = arg.index; break;
        case SN_CUDA_ARG_INPUT:
        case SN_CUDA_ARG_OUTPUT: vals[a].p = sn__step_ptr(s, p, arg); break;
        case SN_CUDA_ARG_AUX: vals[a].p = p->aux[arg.index]; break;
        default: vals[a].p = 0; break;
        }
    }
    int64_t gx = sn_grid_dim_eval(k->grid[0], batch), gy = sn_grid_dim_eval(k->grid[1], batch),
            gz = sn_grid_dim_eval(k->grid[2], batch);
    if (gx <= 0 || gy <= 0 || gz <= 0) return SN_OK; /* nothing to compute */
    if (gx > 0x7fffffff || gy > 65535 || gz > 65535)
        return sn_errorf(err, SN_ERR_UNSUPPORTED,
                         "%s: grid %lldx%lldx%lld at batch %d is too "
                         "large for one launch",
                         k->label, (long long)gx, (long long)gy, (long long)gz, batch);
    CUresult r = cu->cuLaunchKernel(p->fn, (unsigned)gx, (unsigned)gy, (unsigned)gz,
                                    (unsigned)k->block, 1, 1, 0, stream, params, NULL);
    if (r != CUDA_SUCCESS) {
        sn_status st =
            sn__cuda_check(SN_CUDA_LIB_DRIVER, r, "cuLaunchKernel", __FILE__, __LINE__, err);
        return sn_error_prefix(err, "%s", k->label), st;
    }
    return SN_OK;
}

/* Steps first..n_steps-1, launched on `stream`. */
static sn_status sn__launch_from(sn__cuda *s, int first, int batch, CUstream stream,
                                 sn_error *err) {
    for (int i = first; i < s->n_steps; i++) {
        sn_status st = sn__cuda_launch(s, &s->steps[i], batch, stream, err);
        if (st != SN_OK) return st;
    }
    return SN_OK;
}

/* The compute stream's work for `batch` from step `first`, as a graph captured on first use
 * and kept in graphs[batch - 1]. */
static sn_status sn__graph_for(sn__cuda *s, int first, CUgraphExec *graphs, int batch,
                               CUgraphExec *out, sn_error *err) {
    if (graphs[batch - 1]) {
        *out = graphs[batch - 1];
        return SN_OK;
    }
    const sn_cuda_driver *cu = s->cu;
    CUgraph graph = NULL;
    SN_CU_CHECK(err, cu->cuStreamBeginCapture(s->compute, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL));
    sn_status st = sn__launch_from(s, first, batch, s->compute, err);
    /* The capture must end even after a failed launch, or the stream stays in capture mode. */
    CUresult r = cu->cuStreamEndCapture(s->compute, &graph);
    if (st != SN_OK) {
        if (graph) cu->cuGraphDestroy(graph);
        return st;
    }
    SN_CU_CHECK(err, r);
    r = cu->cuGraphInstantiate(&graphs[batch - 1], graph, 0);
    cu->cuGraphDestroy(graph);
    if (r != CUDA_SUCCESS) {
        graphs[batch - 1] = NULL;
        return sn__cuda_check(SN_CUDA_LIB_DRIVER, r, "cuGraphInstantiate", __FILE__, __LINE__, err);
    }
    *out = graphs[batch - 1];
    return SN_OK;
}

void sn__cuda_io_blocks(sn__cuda *s, int batch, size_t *in_off, size_t *out_off) {
    sn__cuda_pack(s, true, batch, in_off);
    sn__cuda_pack(s, false, batch, out_off);
    for (int i = 0; i < s->g->n_inputs; i++) s->io.in[i] = s->io_in + in_off[i];
    for (int i = 0; i < s->g->n_outputs; i++) s->io.out[i] = s->io_out + out_off[i];
}

sn_status sn__cuda_upload(sn__cuda *s, CUdeviceptr dst, const void *src, size_t bytes,
                          sn_error *err) {
    const sn_cuda_driver *cu = s->cu;
    if (bytes) {
        SN_CU_CHECK(err, cu->cuMemcpyHtoDAsync(dst, src, bytes, s->copy));
        s->uploads++;
        s->upload_bytes += bytes;
    }
    SN_CU_CHECK(err, cu->cuEventRecord(s->h2d_done, s->copy));
    SN_CU_CHECK(err, cu->cuStreamWaitEvent(s->compute, s->h2d_done, 0));
    if (s->last_recorded) SN_CU_CHECK(err, cu->cuStreamWaitEvent(s->compute, s->last_done, 0));
    return SN_OK;
}

sn_status sn__cuda_forward(sn__cuda *s, int first, int batch, int slot, const size_t *out_off,
                           void *const *outputs, sn_error *err) {
    const sn_cuda_driver *cu = s->cu;
    CUgraphExec *graphs = first ? s->img_graphs : s->graphs;
    const size_t out_total = sn__cuda_pack(s, false, batch, NULL);
    unsigned char *pout = s->pinned_out[slot];
    sn_status st;
    if (s->use_graphs) {
        CUgraphExec exec = NULL;
        if ((st = sn__graph_for(s, first, graphs, batch, &exec, err)) != SN_OK) return st;
        SN_CU_CHECK(err, cu->cuGraphLaunch(exec, s->compute));
    } else if ((st = sn__launch_from(s, first, batch, s->compute, err)) != SN_OK) {
        return st;
    }
    SN_CU_CHECK(err, cu->cuEventRecord(s->compute_done, s->compute));
    SN_CU_CHECK(err, cu->cuStreamWaitEvent(s->copy, s->compute_done, 0));
    if (out_total) {
        SN_CU_CHECK(err, cu->cuMemcpyDtoHAsync(pout, s->io_out, out_total, s->copy));
        s->downloads++;
        s->download_bytes += out_total;
    }
    SN_CU_CHECK(err, cu->cuEventRecord(s->d2h_done[slot], s->copy));
    /* Kernel faults surface here, at the first wait after them. */
    SN_CU_CHECK(err, cu->cuEventSynchronize(s->d2h_done[slot]));
    for (int i = 0; i < s->g->n_outputs; i++)
        memcpy(outputs[i], pout + out_off[i], sn__cuda_out_bytes(s, i, batch));
    s->last_recorded = false; /* everything before is complete */
    return SN_OK;
}

static sn_status sn__staged(sn__cuda *s, int batch, const void *const *inputs, void *const *outputs,
                            sn_error *err) {
    const sn_cuda_driver *cu = s->cu;
    const sn_graph *g = s->g;
    size_t in_off[SN__MAX_IO], out_off[SN__MAX_IO];
    if (g->n_inputs > SN__MAX_IO || g->n_outputs > SN__MAX_IO)
        return sn_errorf(err, SN_ERR_UNSUPPORTED,
                         "the GPU engine takes at most %d graph inputs and %d outputs",
                         SN__MAX_IO, SN__MAX_IO);
    sn__cuda_io_blocks(s, batch, in_off, out_off);
    size_t in_total = sn__cuda_pack(s, true, batch, NULL);
    const int slot = s->ring;
    s->ring = (s->ring + 1) % SN__RING;
    unsigned char *pin = s->pinned_in[slot];

    /* The slot's previous D2H has finished before its bytes are reused. */
    SN_CU_CHECK(err, cu->cuEventSynchronize(s->d2h_done[slot]));
    for (int i = 0; i < g->n_inputs; i++)
        memcpy(pin + in_off[i], inputs[i], sn__cuda_in_bytes(s, i, batch));
    sn_status st = sn__cuda_upload(s, s->io_in, pin, in_total, err);
    if (st != SN_OK) return st;
    return sn__cuda_forward(s, 0, batch, slot, out_off, outputs, err);
}

sn_status sn__cuda_run(void *state, int batch, const void *const *inputs, void *const *outputs,
                       sn_error *err) {
    sn__cuda *s = state;
    CUcontext popped;
    SN_CU_CHECK(err, s->cu->cuCtxPushCurrent(s->ctx));
    sn_status st = sn__staged(s, batch, inputs, outputs, err);
    s->cu->cuCtxPopCurrent(&popped);
    return st;
}

sn_status sn__cuda_run_device(void *state, int batch, const void *const *inputs,
                              void *const *outputs, void *stream, sn_error *err) {
    sn__cuda *s = state;
    const sn_cuda_driver *cu = s->cu;
    CUstream cs = (CUstream)stream;
    CUcontext popped;
    SN_CU_CHECK(err, cu->cuCtxPushCurrent(s->ctx));
    for (int i = 0; i < s->g->n_inputs; i++) s->io.in[i] = (CUdeviceptr)(uintptr_t)inputs[i];
    for (int i = 0; i < s->g->n_outputs; i++) s->io.out[i] = (CUdeviceptr)(uintptr_t)outputs[i];
    sn_status st = SN_OK;
    CUresult r = CUDA_SUCCESS;
    /* A previous device run on another stream may still be using the arena. */
    if (s->last_recorded) r = cu->cuStreamWaitEvent(cs, s->last_done, 0);
    if (r != CUDA_SUCCESS)
        st = sn__cuda_check(SN_CUDA_LIB_DRIVER, r, "cuStreamWaitEvent", __FILE__, __LINE__, err);
    if (st == SN_OK) st = sn__launch_from(s, 0, batch, cs, err);
    if (st == SN_OK && (r = cu->cuEventRecord(s->last_done, cs)) != CUDA_SUCCESS)
        st = sn__cuda_check(SN_CUDA_LIB_DRIVER, r, "cuEventRecord", __FILE__, __LINE__, err);
    if (st == SN_OK) s->last_recorded = true;
    cu->cuCtxPopCurrent(&popped);
    return st;
}
