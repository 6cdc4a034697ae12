/*
 * backend_cpu.c - the CPU executor behind sn_backend_ops.
 *
 * prepare() orders the nodes, infers concrete shapes at max_batch, classifies every tensor
 * (constant, graph input, graph output, or an intermediate that lives in the arena), plans the
 * arena from lifetimes in that order, and sizes one scratch buffer for the largest per-node need.
 * run() re-infers shapes when the batch changes (O(nodes)), then calls each node's CPU kernel
 * on sn_values that point at constants, the caller's input buffers, arena slots, or - for graph
 * outputs - straight into the caller's output buffers, which saves a copy per output.
 *
 * Threads: kernels get ctx.threads for OpenMP; sgemm runs on OpenBLAS's own thread pool, whose
 * size is process-global (openblas_set_num_threads), so the most recently created engine sets it
 * for every engine in the process.
 */
#include <cblas.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "error.h"
#include "memory_plan.h"

enum { SN__T_UNUSED, SN__T_CONST, SN__T_INPUT, SN__T_ARENA, SN__T_OUTPUT };

typedef struct sn__cpu {
    sn_backend_config cfg;
    const sn_graph *g;
    int *order, n_order;
    unsigned char *role; /* per tensor: SN__T_* */
    unsigned char *io;   /* per tensor: a graph input or output (the caller's buffers) */
    int *slot;           /* per tensor: graph input index (INPUT) or output index (OUTPUT) */
    int *first, *last;   /* per tensor: lifetime in steps of `order` (ARENA) */
    size_t *offset;      /* per tensor: arena offset (ARENA) */
    size_t *planned;     /* per tensor: bytes the plan reserved (ARENA) */
    size_t *unit;        /* per tensor: bytes at batch 1 (graph inputs and outputs) */
    sn_shape *shapes;    /* per tensor, for shapes_batch */
    sn_dtype *dtypes;
    int shapes_batch;    /* 0 when shapes are not valid for any batch */
    unsigned char *arena;
    size_t arena_bytes, naive_bytes;
    void *scratch;
    size_t scratch_bytes, scratch_peak;
    sn_value *vin, *vout;
    size_t weight_bytes;
} sn__cpu;

static sn_status sn__cpu_create(const sn_backend_config *cfg, void **state, sn_error *err) {
    sn__cpu *s = calloc(1, sizeof *s);
    if (!s) return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory creating a CPU engine");
    s->cfg = *cfg;
    openblas_set_num_threads(cfg->threads);
    *state = s;
    return SN_OK;
}

static void sn__cpu_destroy(void *state) {
    sn__cpu *s = state;
    if (!s) return;
    free(s->order);
    free(s->role);
    free(s->io);
    free(s->slot);
    free(s->first);
    free(s->last);
    free(s->offset);
    free(s->planned);
    free(s->unit);
    free(s->shapes);
    free(s->dtypes);
    free(s->arena);
    free(s->scratch);
    free(s->vin);
    free(s->vout);
    free(s);
}

static const char *sn__node_label(const sn_node *n) { return n->name[0] ? n->name : "(unnamed)"; }

/* Bytes of tensor t at the current shapes. */
static sn_status sn__tensor_bytes(const sn__cpu *s, int t, size_t *out, sn_error *err) {
    bool overflow = false;
    int64_t numel = sn_shape_numel(&s->shapes[t]);
    size_t bytes = numel < 0 ? 0 : sn_bytes_for(s->dtypes[t], numel, &overflow);
    if (numel < 0 || overflow)
        return sn_errorf(err, SN_ERR_SHAPE, "tensor '%s' has no valid size at batch %d",
                         s->g->tensors[t].name, s->shapes_batch);
    *out = bytes;
    return SN_OK;
}

/* Rounds up to the arena alignment so both buffers can be made with aligned_alloc. */
static void *sn__aligned(size_t bytes) {
    size_t a = SN_ARENA_ALIGNMENT;
    if (bytes == 0) bytes = a;
    if (bytes > SIZE_MAX - a) return NULL;
    return aligned_alloc(a, (bytes + a - 1) & ~(a - 1));
}

/* Plan the arena for the current shapes, never below what an earlier plan reserved, so a plan
 * stays valid for every batch it has been used for. */
static sn_status sn__plan(sn__cpu *s, sn_error *err) {
    int nt = s->g->n_tensors;
    sn_status st = SN_OK;
    sn_mem_request *req = malloc((size_t)(nt ? nt : 1) * sizeof *req);
    if (!req) return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory planning activations");
    for (int t = 0; t < nt; t++) {
        req[t] = (sn_mem_request){0, 0, 0};
        if (s->role[t] != SN__T_ARENA) continue;
        size_t bytes = 0;
        if ((st = sn__tensor_bytes(s, t, &bytes, err)) != SN_OK) goto done;
        if (bytes < s->planned[t]) bytes = s->planned[t];
        req[t] = (sn_mem_request){bytes, s->first[t], s->last[t]};
    }
    size_t arena, naive;
    if ((st = sn_memory_plan(req, nt, SN_ARENA_ALIGNMENT, s->offset, &arena, &naive, err)))
        goto done;
    unsigned char *mem = sn__aligned(arena);
    if (!mem) {
        st = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory for a %zu-byte activation arena",
                       arena);
        goto done;
    }
    free(s->arena);
    s->arena = mem;
    s->arena_bytes = arena;
    s->naive_bytes = naive;
    for (int t = 0; t < nt; t++) s->planned[t] = req[t].size;
done:
    free(req);
    return st;
}

/* Fill s->vin / s->vout for node n at the current shapes. Without run buffers (io == false),
 * activations get NULL data: enough for cpu_scratch. */
static sn_status sn__bind(sn__cpu *s, const sn_node *n, bool io, const void *const *inputs,
                          void *const *outputs, sn_error *err) {
    for (int k = 0; k < n->n_inputs + n->n_outputs; k++) {
        bool is_in = k < n->n_inputs;
        int t = is_in ? n->inputs[k] : n->outputs[k - n->n_inputs];
        sn_value *v = is_in ? &s->vin[k] : &s->vout[k - n->n_inputs];
        memset(v, 0, sizeof *v);
        if (t < 0) continue; /* an omitted optional input */
        const sn_tensor *tt = &s->g->tensors[t];
        v->present = true;
        v->dtype = s->dtypes[t];
        v->rank = s->shapes[t].rank;
        memcpy(v->d, s->shapes[t].d, sizeof v->d);
        switch (s->role[t]) {
        /* Kernels never write their inputs; sn_value has one non-const pointer for both. */
        case SN__T_CONST: v->data = (void *)tt->data; break;
        case SN__T_INPUT: v->data = io ? (void *)inputs[s->slot[t]] : NULL; break;
        case SN__T_OUTPUT: v->data = io ? outputs[s->slot[t]] : NULL; break;
        case SN__T_ARENA: v->data = io ? s->arena + s->offset[t] : NULL; break;
        default:
            return sn_errorf(err, SN_ERR_INTERNAL,
                             "node '%s' uses tensor '%s', which nothing produces",
                             sn__node_label(n), tt->name);
        }
    }
    return SN_OK;
}

/* Make shapes, arena and scratch valid for `batch`. Sizes only shrink with the batch, so the
 * plan made at max_batch fits; that is checked, and a tensor that grew gets a new plan. */
static sn_status sn__set_batch(sn__cpu *s, int batch, sn_error *err) {
    if (s->shapes_batch == batch) return SN_OK;
    s->shapes_batch = 0;
    sn_status st = sn_graph_infer_concrete(s->g, batch, s->shapes, s->dtypes, err);
    if (st != SN_OK) return sn_error_prefix(err, "shapes at batch %d", batch), st;
    s->shapes_batch = batch;
    bool fits = true;
    for (int t = 0; t < s->g->n_tensors; t++) {
        size_t bytes = 0;
        if (s->role[t] == SN__T_ARENA) {
            if ((st = sn__tensor_bytes(s, t, &bytes, err)) != SN_OK) goto fail;
            fits = fits && bytes <= s->planned[t];
        } else if (s->io[t]) {
            /* The caller sized its buffers as batch * (bytes at batch 1), or bytes at batch 1
             * for tensors that do not scale; anything else would overrun them. */
            if ((st = sn__tensor_bytes(s, t, &bytes, err)) != SN_OK) goto fail;
            size_t b = (size_t)batch;
            if (bytes != s->unit[t] && (bytes % b || bytes / b != s->unit[t])) {
                st = sn_errorf(err, SN_ERR_SHAPE,
                               "graph input/output '%s' is %zu bytes at batch %d but %zu at "
                               "batch 1: it does not scale with the batch",
                               s->g->tensors[t].name, bytes, batch, s->unit[t]);
                goto fail;
            }
        }
    }
    if (!fits && (st = sn__plan(s, err)) != SN_OK) goto fail;

    size_t need = 0;
    for (int i = 0; i < s->n_order; i++) {
        const sn_node *n = &s->g->nodes[s->order[i]];
        const sn_op_def *def = sn_op_get(n->op);
        if (!def->cpu_scratch) continue;
        if ((st = sn__bind(s, n, false, NULL, NULL, err)) != SN_OK) goto fail;
        size_t b = def->cpu_scratch(n, s->vin, s->vout, s->cfg.threads);
        if (b > need) need = b;
    }
    if (need > s->scratch_bytes) {
        void *mem = sn__aligned(need);
        if (!mem) {
            st = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory for %zu bytes of scratch",
                           need);
            goto fail;
        }
        free(s->scratch);
        s->scratch = mem;
        s->scratch_bytes = need;
    }
    if (need > s->scratch_peak) s->scratch_peak = need;
    return SN_OK;
fail:
    s->shapes_batch = 0;
    return st;
}

/* Roles, lifetimes and the size of the node value arrays. */
static sn_status sn__classify(sn__cpu *s, sn_error *err) {
    const sn_graph *g = s->g;
    int max_in = 1, max_out = 1;
    for (int t = 0; t < g->n_tensors; t++)
        if (g->tensors[t].flags & SN_TENSOR_CONST) s->role[t] = SN__T_CONST;
    for (int i = 0; i < g->n_inputs; i++) {
        s->role[g->inputs[i]] = SN__T_INPUT;
        s->io[g->inputs[i]] = 1;
        s->slot[g->inputs[i]] = i;
    }
    for (int i = 0; i < s->n_order; i++) {
        const sn_node *n = &g->nodes[s->order[i]];
        const sn_op_def *def = sn_op_get(n->op);
        if (!def || !def->cpu_run)
            return sn_errorf(err, SN_ERR_UNSUPPORTED, "node '%s': op %s has no CPU kernel",
                             sn__node_label(n), sn_op_name(n->op));
        if (n->n_inputs > max_in) max_in = n->n_inputs;
        if (n->n_outputs > max_out) max_out = n->n_outputs;
        for (int k = 0; k < n->n_outputs; k++) {
            int t = n->outputs[k];
            if (s->role[t] != SN__T_UNUSED)
                return sn_errorf(err, SN_ERR_GRAPH, "node '%s' writes tensor '%s', a %s",
                                 sn__node_label(n), g->tensors[t].name,
                                 s->role[t] == SN__T_CONST ? "constant" : "graph input or "
                                                                          "another node's output");
            s->role[t] = SN__T_ARENA;
            s->first[t] = s->last[t] = i;
        }
        for (int k = 0; k < n->n_inputs; k++) {
            int t = n->inputs[k];
            if (t >= 0 && s->role[t] == SN__T_ARENA) s->last[t] = i;
        }
    }
    /* Graph outputs computed by a node are written straight into the caller's buffer; only the
     * first listing of a tensor is, repeats and outputs that are inputs or constants are copied. */
    for (int i = 0; i < g->n_outputs; i++) {
        int t = g->outputs[i];
        s->io[t] = 1;
        if (s->role[t] == SN__T_ARENA) {
            s->role[t] = SN__T_OUTPUT;
            s->slot[t] = i;
        } else if (s->role[t] == SN__T_UNUSED) {
            return sn_errorf(err, SN_ERR_GRAPH, "graph output '%s' is never computed",
                             g->tensors[t].name);
        }
    }
    s->vin = calloc((size_t)max_in, sizeof *s->vin);
    s->vout = calloc((size_t)max_out, sizeof *s->vout);
    if (!s->vin || !s->vout)
        return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory preparing a CPU engine");

    /* Weights the nodes read, each counted once. */
    unsigned char *seen = calloc((size_t)(g->n_tensors ? g->n_tensors : 1), 1);
    if (!seen) return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory preparing a CPU engine");
    for (int i = 0; i < s->n_order; i++) {
        const sn_node *n = &g->nodes[s->order[i]];
        for (int k = 0; k < n->n_inputs; k++) {
            int t = n->inputs[k];
            if (t < 0 || s->role[t] != SN__T_CONST || seen[t]) continue;
            seen[t] = 1;
            s->weight_bytes += g->tensors[t].nbytes;
        }
    }
    free(seen);
    return SN_OK;
}

static sn_status sn__cpu_prepare(void *state, const sn_graph *g, sn_error *err) {
    sn__cpu *s = state;
    s->g = g;
    sn_status st = sn_graph_topo_order(g, &s->order, &s->n_order, err);
    if (st != SN_OK) return st;
    size_t nt = (size_t)(g->n_tensors ? g->n_tensors : 1);
    s->role = calloc(nt, sizeof *s->role);
    s->io = calloc(nt, sizeof *s->io);
    s->slot = calloc(nt, sizeof *s->slot);
    s->first = calloc(nt, sizeof *s->first);
    s->last = calloc(nt, sizeof *s->last);
    s->offset = calloc(nt, sizeof *s->offset);
    s->planned = calloc(nt, sizeof *s->planned);
    s->unit = calloc(nt, sizeof *s->unit);
    s->shapes = calloc(nt, sizeof *s->shapes);
    s->dtypes = calloc(nt, sizeof *s->dtypes);
    if (!s->role || !s->io || !s->slot || !s->first || !s->last || !s->offset || !s->planned ||
        !s->unit || !s->shapes || !s->dtypes)
        return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory preparing a CPU engine");
    if ((st = sn__classify(s, err)) != SN_OK) return st;
    /* Per-sample sizes of the caller's buffers, against which every batch is checked. */
    st = sn_graph_infer_concrete(g, 1, s->shapes, s->dtypes, err);
    if (st != SN_OK) return sn_error_prefix(err, "shapes at batch 1"), st;
    s->shapes_batch = 1;
    for (int t = 0; t < g->n_tensors; t++)
        if (s->io[t] && (st = sn__tensor_bytes(s, t, &s->unit[t], err)) != SN_OK) return st;
    st = sn_graph_infer_concrete(g, s->cfg.max_batch, s->shapes, s->dtypes, err);
    if (st != SN_OK) return sn_error_prefix(err, "shapes at batch %d", s->cfg.max_batch), st;
    s->shapes_batch = s->cfg.max_batch;
    if ((st = sn__plan(s, err)) != SN_OK) return st;
    /* Computes the scratch for max_batch (shapes_batch is reset to force it). */
    s->shapes_batch = 0;
    return sn__set_batch(s, s->cfg.max_batch, err);
}

static sn_status sn__cpu_run(void *state, int batch, const void *const *inputs,
                             void *const *outputs, sn_error *err) {
    sn__cpu *s = state;
    const sn_graph *g = s->g;
    sn_status st = sn__set_batch(s, batch, err);
    if (st != SN_OK) return st;
    sn_cpu_ctx ctx = {s->cfg.threads, s->scratch, s->scratch_bytes};
    for (int i = 0; i < s->n_order; i++) {
        const sn_node *n = &g->nodes[s->order[i]];
        if ((st = sn__bind(s, n, true, inputs, outputs, err)) != SN_OK) return st;
        st = sn_op_get(n->op)->cpu_run(&ctx, n, s->vin, s->vout, err);
        if (st != SN_OK) {
            if (err && err->status != st) sn_errorf(err, st, "%s", sn_status_string(st));
            return sn_error_prefix(err, "node '%s' (%s)", sn__node_label(n), sn_op_name(n->op)),
                   st;
        }
    }
    for (int i = 0; i < g->n_outputs; i++) {
        int t = g->outputs[i];
        const void *src;
        switch (s->role[t]) {
        case SN__T_OUTPUT:
            if (s->slot[t] == i) continue;
            src = outputs[s->slot[t]];
            break;
        case SN__T_INPUT: src = inputs[s->slot[t]]; break;
        case SN__T_CONST: src = g->tensors[t].data; break;
        default: return sn_errorf(err, SN_ERR_INTERNAL, "output %d has no value", i);
        }
        size_t bytes = 0;
        if ((st = sn__tensor_bytes(s, t, &bytes, err)) != SN_OK) return st;
        memcpy(outputs[i], src, bytes);
    }
    return SN_OK;
}

static void sn__cpu_stats(const void *state, sn_engine_stats *out) {
    const sn__cpu *s = state;
    out->activation_bytes = s->arena_bytes;
    out->naive_bytes = s->naive_bytes;
    out->weight_bytes = s->weight_bytes;
    out->scratch_bytes = s->scratch_peak;
    out->threads = s->cfg.threads;
}

const sn_backend_ops sn_backend_cpu = {
    .name = "cpu",
    .device = SN_DEVICE_CPU,
    /* NCHW: NHWC measured no clear gain with these kernels on the zoo's CNNs (docs/api.md) */
    .layout = SN_LAYOUT_NCHW,
    .create = sn__cpu_create,
    .destroy = sn__cpu_destroy,
    .prepare = sn__cpu_prepare,
    .run = sn__cpu_run,
    .stats = sn__cpu_stats,
};
