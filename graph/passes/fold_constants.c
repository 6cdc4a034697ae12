/*
 * fold_constants.c - constant folding: a node whose inputs are all constants is run once, at
 * optimisation time, with its own CPU kernel (def->infer for the output shapes, then
 * def->cpu_run with def->cpu_scratch bytes of scratch, on one thread), and its outputs become
 * constants. Running the real kernel means the folded values are exactly what the engine would
 * have computed.
 *
 * Left alone: nodes that produce a graph output (the engine serves outputs from buffers the
 * caller passes, so they stay computed), nodes without inputs, and results over
 * SN__FOLD_MAX_BYTES (a broadcast of two small constants could be huge; it is cheaper to compute
 * at run time than to store). A node whose kernel rejects its inputs is left for the engine to
 * report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pass_util.h"

#define SN__FOLD_MAX_BYTES ((size_t)64 << 20)
#define SN__FOLD_MAX_IO 16

static bool sn__foldable(const sn_graph *g, const sn_node *n) {
    if (n->n_inputs < 1 || n->n_inputs > SN__FOLD_MAX_IO || n->n_outputs > SN__FOLD_MAX_IO)
        return false;
    bool any = false;
    for (int k = 0; k < n->n_inputs; k++) {
        int t = n->inputs[k];
        if (t < 0) continue;
        if (!(g->tensors[t].flags & SN_TENSOR_CONST)) return false;
        any = true;
    }
    for (int k = 0; k < n->n_outputs; k++)
        if (g->tensors[n->outputs[k]].flags & SN_TENSOR_OUTPUT) return false;
    return any;
}

/* Run node ni on its constant inputs; 1 when its outputs became constants, 0 when the node
 * was left (kernel refused, too big). */
static int sn__fold_node(sn_graph *g, int ni, sn_error *err, sn_status *st) {
    const sn_node *n = &g->nodes[ni];
    const sn_op_def *def = sn_op_get(n->op);
    if (!def || !def->infer || !def->cpu_run) return 0;
    sn_value in[SN__FOLD_MAX_IO], out[SN__FOLD_MAX_IO];
    memset(in, 0, sizeof in);
    memset(out, 0, sizeof out);
    for (int k = 0; k < n->n_inputs; k++) {
        int t = n->inputs[k];
        if (t < 0) continue;
        const sn_tensor *x = &g->tensors[t];
        in[k].present = true;
        in[k].dtype = x->dtype;
        in[k].rank = x->shape.rank;
        memcpy(in[k].d, x->shape.d, sizeof in[k].d);
        in[k].data = (void *)x->data; /* kernels only read inputs */
    }
    for (int k = 0; k < n->n_outputs; k++) out[k].present = true;
    if (def->infer(n, in, out, NULL) != SN_OK) return 0;
    size_t bytes[SN__FOLD_MAX_IO], total = 0;
    for (int k = 0; k < n->n_outputs; k++) {
        bool overflow = false;
        int64_t numel = sn_value_numel(&out[k]);
        bytes[k] = numel < 0 ? 0 : sn_bytes_for(out[k].dtype, numel, &overflow);
        if (numel < 0 || overflow || bytes[k] > SN__FOLD_MAX_BYTES - total) return 0;
        total += bytes[k];
    }
    int done = 0;
    sn_cpu_ctx ctx = {.threads = 1, .scratch = NULL, .scratch_bytes = 0};
    if (def->cpu_scratch) ctx.scratch_bytes = def->cpu_scratch(n, in, out, 1);
    if (ctx.scratch_bytes > SN__FOLD_MAX_BYTES) return 0;
    if (ctx.scratch_bytes) ctx.scratch = aligned_alloc(64, (ctx.scratch_bytes + 63) & ~(size_t)63);
    for (int k = 0; k < n->n_outputs; k++) out[k].data = malloc(bytes[k] ? bytes[k] : 1);
    bool oom = ctx.scratch_bytes && !ctx.scratch;
    for (int k = 0; k < n->n_outputs; k++) oom |= !out[k].data;
    if (oom) {
        *st = sn__pass_oom(err, "fold_constants");
        goto out;
    }
    if (def->cpu_run(&ctx, n, in, out, NULL) != SN_OK) goto out;
    for (int k = 0; k < n->n_outputs; k++) {
        sn_shape s = sn_shape_make(out[k].rank, out[k].d);
        sn_status s2 = sn_graph_set_const_data(g, g->nodes[ni].outputs[k], out[k].dtype, &s,
                                               out[k].data, bytes[k]);
        if (s2 != SN_OK) {
            *st = sn_errorf(err, s2, "fold_constants: storing the value of node '%s': %s",
                            g->nodes[ni].name, sn_status_string(s2));
            goto out;
        }
    }
    g->nodes[ni].dead = true;
    done = 1;
out:
    free(ctx.scratch);
    for (int k = 0; k < n->n_outputs; k++) free(out[k].data);
    return done;
}

sn_status sn_pass_fold_constants(sn_graph *g, sn_pass_report *r, sn_error *err) {
    sn__report_begin(r, "fold_constants", g);
    int *order = NULL, count = 0, folded = 0;
    sn_status st = sn_graph_topo_order(g, &order, &count, err);
    if (st != SN_OK) return st;
    /* In topological order, so a chain of constant nodes folds in one sweep. */
    for (int i = 0; i < count && st == SN_OK; i++) {
        const sn_node *n = &g->nodes[order[i]];
        if (!n->dead && sn__foldable(g, n)) folded += sn__fold_node(g, order[i], err, &st);
    }
    free(order);
    if (r) snprintf(r->detail, sizeof r->detail, "folded %d nodes into constants", folded);
    sn__report_end(r, g, folded);
    return st;
}
