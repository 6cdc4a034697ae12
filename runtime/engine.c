/*
 * engine.c - sn_engine: argument checking, device choice, per-sample buffer sizes, and the mutex
 * that serialises runs. The work itself is done by a backend (backend.h).
 *
 * Device choice: SN_DEVICE_CPU takes the CPU backend. SN_DEVICE_GPU and SN_DEVICE_AUTO probe
 * the CUDA driver first and take the CUDA backend (in builds with the toolkit). When there is no
 * usable GPU, or the GPU backend fails to start or prepare, AUTO falls back to the CPU and keeps
 * the reason, and GPU fails with it.
 *
 * Optimisation: unless the options say optimize=0, the engine runs its own copy of the model's
 * graph (sn_graph_clone) put through sn_graph_optimize, in the layout the options or the
 * backend ask for. The copy borrows the weights the model maps from its file, which the model
 * keeps alive since it must outlive the engine anyway; only rewritten weights are new. The
 * interface (inputs, outputs, their names, shapes and layouts) is the model's either way.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "error.h"
#include "model.h"
#include "passes/pass.h"

/* More threads than this is a caller's mistake, not a machine. */
#define SN__MAX_THREADS 4096

/* The GPU backend, when the build has one (SENTINEL_HAVE_CUDA: runtime/cuda/). */
static const sn_backend_ops *sn__gpu_backend(void) {
#ifdef SENTINEL_HAVE_CUDA
    return &sn_backend_cuda;
#else
    return NULL;
#endif
}

/* Copy the fields a caller's (possibly older, smaller) options struct actually has. */
static sn_status sn__options(const sn_engine_options *in, sn_engine_options *o, sn_error *err) {
    const sn_engine_options defaults = SN_ENGINE_OPTIONS_INIT;
    *o = defaults;
    if (!in) return SN_OK;
    if (in->size < sizeof in->size)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         "engine options: size is %zu; initialise them with SN_ENGINE_OPTIONS_INIT",
                         in->size);
#define SN__TAKE(field)                                                                         \
    if (in->size >= offsetof(sn_engine_options, field) + sizeof in->field) o->field = in->field
    SN__TAKE(device);
    SN__TAKE(threads);
    SN__TAKE(max_batch);
    SN__TAKE(gpu_index);
    SN__TAKE(optimize);
    SN__TAKE(layout);
    SN__TAKE(precision);
#undef SN__TAKE
    if ((int)o->precision < SN_PRECISION_FP32 || (int)o->precision > SN_PRECISION_BF16)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         "engine options: unknown precision %d (0 fp32, 1 tf32, 2 fp16, 3 bf16)",
                         (int)o->precision);
    if (o->device != SN_DEVICE_AUTO && o->device != SN_DEVICE_CPU && o->device != SN_DEVICE_GPU)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "engine options: unknown device %d",
                         (int)o->device);
    if (o->threads < 0 || o->threads > SN__MAX_THREADS)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         "engine options: threads %d is outside 0..%d (0 = all cores)", o->threads,
                         SN__MAX_THREADS);
    if (o->max_batch < 0)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         "engine options: max_batch %d is negative (0 = 1)", o->max_batch);
    if (o->gpu_index < 0)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "engine options: gpu_index %d is negative",
                         o->gpu_index);
    if (o->optimize != 0 && o->optimize != 1)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "engine options: optimize %d is not 0 or 1",
                         o->optimize);
    if (o->layout != SN_LAYOUT_ANY && o->layout != SN_LAYOUT_NCHW && o->layout != SN_LAYOUT_NHWC)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         "engine options: unknown layout %d (0 any, 1 NCHW, 2 NHWC)",
                         (int)o->layout);
    if (!o->optimize && o->layout == SN_LAYOUT_NHWC)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         "engine options: layout NHWC needs optimize=1 (the conversion is an "
                         "optimisation pass)");
    return SN_OK;
}

/* Picks the backend. For AUTO without a usable GPU, records why in e->fallback. */
static sn_status sn__choose_backend(sn_engine *e, const sn_engine_options *o, sn_error *err) {
    if (o->device == SN_DEVICE_CPU) {
        e->ops = &sn_backend_cpu;
        return SN_OK;
    }
    sn_error probe = {0};
    int count = 0;
    sn_status st = sn_gpu_probe(&count, &probe);
    if (st == SN_OK && o->gpu_index >= count)
        st = sn_errorf(&probe, SN_ERR_NO_DEVICE, "GPU %d requested but the driver reports %d",
                       o->gpu_index, count);
    const sn_backend_ops *gpu = sn__gpu_backend();
    if (st == SN_OK && !gpu)
        st = sn_errorf(&probe, SN_ERR_UNSUPPORTED, "GPU backend not built in this version");
    if (st == SN_OK) {
        e->ops = gpu;
        return SN_OK;
    }
    if (o->device == SN_DEVICE_GPU)
        return sn_errorf(err, st, "SN_DEVICE_GPU requested but unusable: %s", probe.message);
    memcpy(e->fallback_buf, probe.message, sizeof e->fallback_buf);
    e->fallback_buf[sizeof e->fallback_buf - 1] = '\0';
    e->fallback = e->fallback_buf;
    e->ops = &sn_backend_cpu;
    return SN_OK;
}

/* Per-sample bytes of every graph input and output, and whether each scales with the batch. */
static sn_status sn__io_sizes(sn_engine *e, const sn_graph *g, sn_error *err) {
    sn_status st = SN_OK;
    size_t nt = (size_t)(g->n_tensors ? g->n_tensors : 1);
    size_t nin = (size_t)(g->n_inputs ? g->n_inputs : 1);
    size_t nout = (size_t)(g->n_outputs ? g->n_outputs : 1);
    sn_shape *one = calloc(nt, sizeof *one), *two = calloc(nt, sizeof *two); /* at 1 / max */
    sn_dtype *dt = calloc(nt, sizeof *dt);
    e->in_bytes = calloc(nin, sizeof *e->in_bytes);
    e->out_bytes = calloc(nout, sizeof *e->out_bytes);
    e->in_batched = calloc(nin, sizeof *e->in_batched);
    e->out_batched = calloc(nout, sizeof *e->out_batched);
    if (!one || !two || !dt || !e->in_bytes || !e->out_bytes || !e->in_batched || !e->out_batched) {
        st = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory creating an engine");
        goto done;
    }
    /* Comparing batch 1 with max_batch tells which buffers scale (shapes are linear in the
     * batch). With max_batch 1 every buffer holds one sample, and graphs whose shapes are fixed
     * at batch 1 (a Reshape to [1,-1]) need no other batch to be valid. */
    if ((st = sn_graph_infer_concrete(g, 1, one, dt, err)) != SN_OK) goto done;
    if (e->max_batch == 1)
        memcpy(two, one, nt * sizeof *one);
    else if ((st = sn_graph_infer_concrete(g, e->max_batch, two, NULL, err)) != SN_OK)
        goto done;
    for (int k = 0; k < g->n_inputs + g->n_outputs; k++) {
        bool is_in = k < g->n_inputs;
        int t = is_in ? g->inputs[k] : g->outputs[k - g->n_inputs];
        bool overflow = false;
        int64_t numel = sn_shape_numel(&one[t]);
        size_t bytes = numel < 0 ? 0 : sn_bytes_for(dt[t], numel, &overflow);
        if (numel < 0 || overflow) {
            st = sn_errorf(err, SN_ERR_SHAPE, "graph %s '%s' has no valid size",
                           is_in ? "input" : "output", g->tensors[t].name);
            goto done;
        }
        bool batched = sn_shape_numel(&two[t]) != numel;
        if (is_in) {
            e->in_bytes[k] = bytes;
            e->in_batched[k] = batched;
        } else {
            e->out_bytes[k - g->n_inputs] = bytes;
            e->out_batched[k - g->n_inputs] = batched;
        }
    }
done:
    free(one);
    free(two);
    free(dt);
    return st;
}

/* The engine's own optimised copy of g, in e->layout. */
static sn_status sn__optimize(sn_engine *e, const sn_graph *g, sn_error *err) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sn_status st = sn_graph_clone(g, &e->own);
    if (st != SN_OK)
        return sn_errorf(err, st, "creating an engine: copying the graph: %s",
                         sn_status_string(st));
    sn_optimize_options oo = SN_OPTIMIZE_OPTIONS_INIT;
    oo.layout = e->layout;
    if ((st = sn_graph_optimize(e->own, &oo, NULL, NULL, err)) != SN_OK) {
        sn_error_prefix(err, "creating an engine (optimize=0 would run the graph as loaded)");
        return st;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    e->optimize_ms =
        (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    e->g = e->own;
    return SN_OK;
}

/* Create and prepare the chosen backend. Under AUTO a GPU that fails here (no NVRTC, an op
 * without a GPU kernel, out of device memory...) hands over to the CPU, keeping the reason. */
static sn_status sn__open_backend(sn_engine *e, const sn_backend_config *cfg, const sn_graph *g,
                                  bool may_fall_back, sn_error *err) {
    sn_error why = {0};
    sn_status st = e->ops->create(cfg, &e->state, &why);
    if (st == SN_OK) st = e->ops->prepare(e->state, g, &why);
    if (st == SN_OK) return SN_OK;
    if (e->state) e->ops->destroy(e->state);
    e->state = NULL;
    if (!may_fall_back || e->ops == &sn_backend_cpu) {
        if (err) *err = why;
        return st;
    }
    /* The reason keeps its start when the prefix makes it too long. */
    snprintf(e->fallback_buf, sizeof e->fallback_buf, "GPU backend failed: %.990s", why.message);
    for (char *c = e->fallback_buf; *c; c++) /* one line, even with a compiler's log in it */
        if (*c == '\n' || *c == '\r') *c = ' ';
    e->fallback = e->fallback_buf;
    e->ops = &sn_backend_cpu;
    st = e->ops->create(cfg, &e->state, err);
    if (st == SN_OK) st = e->ops->prepare(e->state, g, err);
    return st;
}

sn_status sn_engine_create(const sn_model *m, const sn_engine_options *opt, sn_engine **out,
                           sn_error *err) {
    sn_error_clear(err);
    if (out) *out = NULL;
    if (!m || !out)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "sn_engine_create: NULL %s",
                         !m ? "model" : "out");
    const sn_graph *g = sn_model_graph(m);
    if (!g) return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "sn_engine_create: model has no graph");
    sn_engine_options o;
    sn_status st = sn__options(opt, &o, err);
    if (st != SN_OK) return st;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    sn_engine *e = calloc(1, sizeof *e);
    if (!e) return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory creating an engine");
    if (pthread_mutex_init(&e->lock, NULL) != 0) {
        free(e);
        return sn_errorf(err, SN_ERR_INTERNAL, "sn_engine_create: pthread_mutex_init failed");
    }
    e->model = m;
    e->max_batch = o.max_batch ? o.max_batch : 1;
    e->threads = o.threads;
    if (e->threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        e->threads = n < 1 ? 1 : n > SN__MAX_THREADS ? SN__MAX_THREADS : (int)n;
    }
    if ((st = sn__choose_backend(e, &o, err)) != SN_OK) goto fail;
    e->g = g;
    e->layout = o.layout != SN_LAYOUT_ANY ? o.layout : e->ops->layout;
    if (o.optimize && (st = sn__optimize(e, g, err)) != SN_OK) goto fail;
    if (!o.optimize) e->layout = SN_LAYOUT_ANY; /* whatever the model's graph computes in */
    g = e->g;
    if ((st = sn__io_sizes(e, g, err)) != SN_OK) goto fail;
    sn_backend_config cfg = {.max_batch = e->max_batch,
                             .threads = e->threads,
                             .gpu_index = o.gpu_index,
                             .precision = (int)o.precision};
    sn__engine_describe_images(e, &cfg);
    if ((st = sn__open_backend(e, &cfg, g, o.device == SN_DEVICE_AUTO, err)) != SN_OK) goto fail;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    e->create_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    *out = e;
    return SN_OK;

fail:
    sn_engine_destroy(e);
    return st;
}

void sn_engine_destroy(sn_engine *e) {
    if (!e) return;
    if (e->ops && e->state) e->ops->destroy(e->state);
    sn_graph_destroy(e->own); /* after the backend, which refers to it */
    free(e->in_bytes);
    free(e->out_bytes);
    free(e->in_batched);
    free(e->out_batched);
    sn__engine_images_free(e);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

sn_device sn_engine_device(const sn_engine *e) { return e ? e->ops->device : SN_DEVICE_AUTO; }

const char *sn_engine_fallback_reason(const sn_engine *e) { return e ? e->fallback : NULL; }

size_t sn_engine_input_bytes(const sn_engine *e, int index) {
    if (!e || index < 0 || index >= e->g->n_inputs) return 0;
    return e->in_bytes[index];
}

size_t sn_engine_output_bytes(const sn_engine *e, int index) {
    if (!e || index < 0 || index >= e->g->n_outputs) return 0;
    return e->out_bytes[index];
}

static bool sn__overlap(const void *a, size_t na, const void *b, size_t nb) {
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return na && nb && x < y + nb && y < x + na;
}

sn_status sn__engine_check_buffers(const sn_engine *e, int batch, bool with_inputs,
                                   const void *const *inputs, void *const *outputs,
                                   const char *fn, sn_error *err) {
    const sn_graph *g = e->g;
    const int n_in = with_inputs ? g->n_inputs : 0;
    if (n_in > 0 && !inputs)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "%s: inputs is NULL", fn);
    if (g->n_outputs > 0 && !outputs)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "%s: outputs is NULL", fn);
    for (int i = 0; i < n_in; i++)
        if (!inputs[i])
            return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "%s: inputs[%d] is NULL", fn, i);
    for (int i = 0; i < g->n_outputs; i++) {
        if (!outputs[i])
            return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "%s: outputs[%d] is NULL", fn, i);
        size_t ni = e->out_bytes[i] * (e->out_batched[i] ? (size_t)batch : 1);
        for (int j = 0; j < i; j++) {
            size_t nj = e->out_bytes[j] * (e->out_batched[j] ? (size_t)batch : 1);
            if (sn__overlap(outputs[i], ni, outputs[j], nj))
                return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                                 "%s: outputs[%d] overlaps outputs[%d]", fn, i, j);
        }
        for (int j = 0; j < n_in; j++) {
            size_t nj = e->in_bytes[j] * (e->in_batched[j] ? (size_t)batch : 1);
            if (sn__overlap(outputs[i], ni, inputs[j], nj))
                return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                                 "%s: outputs[%d] overlaps inputs[%d]", fn, i, j);
        }
    }
    return SN_OK;
}

sn_status sn_engine_run(sn_engine *e, int batch, const void *const *inputs, void *const *outputs,
                        sn_error *err) {
    sn_error_clear(err);
    if (!e) return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "sn_engine_run: engine is NULL");
    if (batch < 1 || batch > e->max_batch)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         "sn_engine_run: batch %d is outside 1..%d (the engine's max_batch)", batch,
                         e->max_batch);
    sn_status st =
        sn__engine_check_buffers(e, batch, true, inputs, outputs, "sn_engine_run", err);
    if (st != SN_OK) return st;
    pthread_mutex_lock(&e->lock);
    st = e->ops->run(e->state, batch, inputs, outputs, err);
    if (st == SN_OK) e->runs++;
    pthread_mutex_unlock(&e->lock);
    return st;
}

sn_status sn_engine_get_stats(const sn_engine *e, sn_engine_stats *out) {
    if (!e || !out || out->size < sizeof out->size) return SN_ERR_INVALID_ARGUMENT;
    sn_engine_stats s = SN_ENGINE_STATS_INIT;
    /* The lock is only for a consistent read of the counters a run updates (the backend's
     * transfer counts among them); the engine is otherwise unchanged. */
    pthread_mutex_t *lock = (pthread_mutex_t *)&e->lock;
    pthread_mutex_lock(lock);
    if (e->ops->stats) e->ops->stats(e->state, &s);
    s.runs = e->runs;
    s.image_runs = e->image_runs;
    s.images = e->images;
    pthread_mutex_unlock(lock);
    s.threads = e->threads;
    s.nodes = 0;
    for (int i = 0; i < e->g->n_nodes; i++) s.nodes += !e->g->nodes[i].dead;
    s.layout = e->layout;
    s.optimize_ms = e->optimize_ms;
    s.create_ms = e->create_ms;
    /* A caller built against an older, smaller struct gets only the fields it has. */
    size_t n = out->size < sizeof s ? out->size : sizeof s;
    s.size = out->size;
    memcpy(out, &s, n);
    return SN_OK;
}

sn_status sn_engine_run_device(sn_engine *e, int batch, const void *const *inputs,
                               void *const *outputs, void *stream, sn_error *err) {
    sn_error_clear(err);
    if (!e) return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "sn_engine_run_device: engine is NULL");
    if (!e->ops->run_device)
        return sn_errorf(err, SN_ERR_UNSUPPORTED,
                         "sn_engine_run_device: the engine runs on the %s, not a GPU",
                         e->ops->name);
    if (batch < 1 || batch > e->max_batch)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         "sn_engine_run_device: batch %d is outside 1..%d (the engine's "
                         "max_batch)", batch, e->max_batch);
    /* Device pointers cannot be checked for overlap from the host; presence can. */
    sn_status st =
        sn__engine_check_buffers(e, batch, true, inputs, outputs, "sn_engine_run_device", err);
    if (st != SN_OK) return st;
    pthread_mutex_lock(&e->lock);
    st = e->ops->run_device(e->state, batch, inputs, outputs, stream, err);
    if (st == SN_OK) e->runs++;
    pthread_mutex_unlock(&e->lock);
    return st;
}
