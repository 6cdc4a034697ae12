/*
 * gpu_plan.c - roles, aliases, lifetimes and arena offsets of a graph's tensors on the GPU
 * (gpu_plan.h). The offsets come from the same planner as the CPU backend's (memory_plan.c);
 * what is GPU-specific is that reshapes alias instead of copying, and that with half storage the
 * graph's f32 inputs and outputs get their own storage, filled and read by cast kernels.
 */
#include "gpu_plan.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "memory_plan.h"

static bool sn__is_alias_op(sn_op op) {
    return op == SN_OP_RESHAPE || op == SN_OP_FLATTEN || op == SN_OP_IDENTITY;
}

void sn_gpu_plan_free(sn_gpu_plan *p) {
    if (!p) return;
    free(p->order);
    free(p->role);
    free(p->root);
    free(p->slot);
    free(p->first);
    free(p->last);
    free(p->bytes);
    free(p->offset);
    memset(p, 0, sizeof *p);
}

/* A step reads tensor t: stretch its root's lifetime. */
static void sn__read(sn_gpu_plan *p, int t, int step) {
    int r = p->root[t];
    if (p->role[r] == SN_GT_ARENA && p->last[r] < step) p->last[r] = step;
}

static sn_status sn__roles(sn_gpu_plan *p, const sn_graph *g, sn_error *err) {
    for (int t = 0; t < g->n_tensors; t++) {
        p->root[t] = t;
        if (g->tensors[t].flags & SN_TENSOR_CONST) p->role[t] = SN_GT_CONST;
    }
    for (int i = 0; i < g->n_inputs; i++) {
        int t = g->inputs[i];
        p->slot[t] = i;
        p->role[t] = p->half ? SN_GT_ARENA : SN_GT_INPUT;
        p->first[t] = p->last[t] = 0;
    }
    /* Graph outputs that a node may write in place: the first listing of a node's output. */
    for (int i = g->n_outputs - 1; i >= 0; i--) p->slot[g->outputs[i]] = i;
    for (int s = 0; s < p->n_order; s++) {
        const sn_node *n = &g->nodes[p->order[s]];
        const int step = s + 1;
        for (int k = 0; k < n->n_inputs; k++) {
            int t = n->inputs[k];
            if (t < 0) continue;
            if (p->role[t] == SN_GT_UNUSED)
                return sn_errorf(err, SN_ERR_GRAPH,
                                 "node '%s' reads tensor '%s' before it is "
                                 "written",
                                 n->name, g->tensors[t].name);
            sn__read(p, t, step);
        }
        for (int k = 0; k < n->n_outputs; k++) {
            int t = n->outputs[k];
            if (p->role[t] != SN_GT_UNUSED)
                return sn_errorf(err, SN_ERR_GRAPH,
                                 "node '%s' writes tensor '%s' a second "
                                 "time (or a constant or graph input)",
                                 n->name, g->tensors[t].name);
            bool graph_out = (g->tensors[t].flags & SN_TENSOR_OUTPUT) != 0;
            if (!graph_out)
                for (int i = 0; i < g->n_outputs; i++) graph_out |= g->outputs[i] == t;
            if (k == 0 && sn__is_alias_op(n->op) && n->inputs[0] >= 0) {
                p->role[t] = SN_GT_ALIAS;
                p->root[t] = p->root[n->inputs[0]];
                continue;
            }
            p->role[t] = graph_out && !p->half ? SN_GT_OUTPUT : SN_GT_ARENA;
            p->first[t] = p->last[t] = step;
        }
    }
    /* Outputs copied or cast at the last step keep their storage alive until then. */
    for (int i = 0; i < g->n_outputs; i++) {
        int t = g->outputs[i];
        if (p->role[t] == SN_GT_UNUSED)
            return sn_errorf(err, SN_ERR_GRAPH, "graph output '%s' is never computed",
                             g->tensors[t].name);
        sn__read(p, t, p->last_step);
    }
    return SN_OK;
}

sn_status sn_gpu_plan_make(const sn_graph *g, int max_batch, size_t elem, sn_gpu_plan *p,
                           sn_error *err) {
    memset(p, 0, sizeof *p);
    p->elem = elem;
    p->half = elem == 2;
    p->n_tensors = g->n_tensors;
    sn_status st = sn_graph_topo_order(g, &p->order, &p->n_order, err);
    if (st != SN_OK) return st;
    p->last_step = p->n_order + 1;
    size_t nt = (size_t)(g->n_tensors ? g->n_tensors : 1);
    p->role = calloc(nt, sizeof *p->role);
    p->root = calloc(nt, sizeof *p->root);
    p->slot = calloc(nt, sizeof *p->slot);
    p->first = calloc(nt, sizeof *p->first);
    p->last = calloc(nt, sizeof *p->last);
    p->bytes = calloc(nt, sizeof *p->bytes);
    p->offset = calloc(nt, sizeof *p->offset);
    sn_shape *shapes = calloc(nt, sizeof *shapes);
    sn_mem_request *req = calloc(nt, sizeof *req);
    if (!p->role || !p->root || !p->slot || !p->first || !p->last || !p->bytes || !p->offset ||
        !shapes || !req) {
        st = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory planning GPU memory");
        goto done;
    }
    if ((st = sn__roles(p, g, err)) != SN_OK) goto done;
    if ((st = sn_graph_infer_concrete(g, max_batch, shapes, NULL, err)) != SN_OK) goto done;
    for (int t = 0; t < g->n_tensors; t++) {
        req[t] = (sn_mem_request){0, 0, 0};
        if (p->role[t] != SN_GT_ARENA) continue;
        int64_t numel = sn_shape_numel(&shapes[t]);
        if (numel < 0 || (uint64_t)numel > SIZE_MAX / elem) {
            st = sn_errorf(err, SN_ERR_SHAPE, "tensor '%s' has no valid size at batch %d",
                           g->tensors[t].name, max_batch);
            goto done;
        }
        p->bytes[t] = (size_t)numel * elem;
        req[t] = (sn_mem_request){p->bytes[t], p->first[t], p->last[t]};
    }
    st = sn_memory_plan(req, g->n_tensors, SN_GPU_ALIGN, p->offset, &p->arena_bytes,
                        &p->naive_bytes, err);
done:
    free(shapes);
    free(req);
    if (st != SN_OK) sn_gpu_plan_free(p);
    return st;
}
