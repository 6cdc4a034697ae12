/*
 * dce.c - dead-code elimination: nodes no graph output depends on are marked dead, then the
 * graph is compacted, which drops them with every tensor nothing refers to any more - the
 * constants other passes replaced (old conv weights after a BatchNorm fold, folded BN
 * parameters) among them. The report counts the constant bytes dropped.
 *
 * Graph inputs always stay, used or not: they are the model's interface.
 */
#include <stdlib.h>
#include <stdio.h>

#include "pass_util.h"

sn_status sn_pass_dce(sn_graph *g, sn_pass_report *r, sn_error *err) {
    sn__report_begin(r, "dce", g);
    int nn = g->n_nodes, nt = g->n_tensors;
    char *needed = calloc((size_t)nt + 1, 1);
    char *live = calloc((size_t)nn + 1, 1);
    int *stack = malloc(sizeof(int) * ((size_t)nn + 1));
    if (!needed || !live || !stack) {
        free(needed), free(live), free(stack);
        return sn__pass_oom(err, "dce");
    }
    /* Walk back from the outputs through producers; each node is pushed at most once. */
    int top = 0;
    for (int i = 0; i < g->n_outputs; i++) {
        int t = g->outputs[i];
        if (t < 0 || t >= nt || needed[t]) continue;
        needed[t] = 1;
        int p = g->tensors[t].producer;
        if (p >= 0 && p < nn && !g->nodes[p].dead && !live[p]) live[p] = 1, stack[top++] = p;
    }
    while (top > 0) {
        const sn_node *n = &g->nodes[stack[--top]];
        for (int k = 0; k < n->n_inputs; k++) {
            int t = n->inputs[k];
            if (t < 0 || t >= nt || needed[t]) continue;
            needed[t] = 1;
            int p = g->tensors[t].producer;
            if (p >= 0 && p < nn && !g->nodes[p].dead && !live[p]) live[p] = 1, stack[top++] = p;
        }
    }
    int removed = 0, consts = 0;
    size_t bytes = 0;
    for (int i = 0; i < nn; i++)
        if (!g->nodes[i].dead && !live[i]) g->nodes[i].dead = true, removed++;
    /* Constants compaction will drop: no live node reads them and they are not outputs. */
    for (int t = 0; t < nt; t++) {
        const sn_tensor *x = &g->tensors[t];
        if ((x->flags & SN_TENSOR_CONST) && !needed[t] && !(x->flags & SN_TENSOR_OUTPUT))
            consts++, bytes += x->nbytes;
    }
    free(needed), free(live), free(stack);
    int before = g->n_tensors;
    sn_status s = sn_graph_compact(g);
    if (s != SN_OK) return sn_errorf(err, s, "dce: compacting the graph: %s", sn_status_string(s));
    if (r) {
        r->weight_bytes_removed = bytes;
        snprintf(r->detail, sizeof r->detail,
                 "removed %d nodes, %d constants (%zu bytes), %d tensors", removed, consts, bytes,
                 before - g->n_tensors);
    }
    /* Tensors dropped alone (orphans of other rewrites) are no change to what runs. */
    sn__report_end(r, g, removed + consts);
    return SN_OK;
}
