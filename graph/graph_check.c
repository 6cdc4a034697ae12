/*
 * graph_check.c - whole-graph algorithms: topological order, structural validation, shape
 * inference (through each op's infer function) and compaction after passes remove nodes.
 *
 * Everything here must stay safe on graphs read from hostile files: indices are checked before
 * use, and work is linear in nodes + edges so a crafted graph cannot make it hang.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"

bool sn__graph_reindex(sn_graph *g); /* graph.c */

static const char *sn__tname(const sn_graph *g, int t) {
    return t >= 0 && t < g->n_tensors ? g->tensors[t].name : "?";
}

sn_status sn_graph_topo_order(const sn_graph *g, int **order_out, int *count_out, sn_error *err) {
    if (!g || !order_out || !count_out) return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "topo order: NULL argument");
    *order_out = NULL;
    *count_out = 0;
    int nn = g->n_nodes, nt = g->n_tensors;
    /* Consumers as CSR: for each tensor, the live nodes that read it. */
    int *indeg = calloc((size_t)nn + 1, sizeof(int));
    int *cstart = calloc((size_t)nt + 1, sizeof(int));
    int *order = malloc(sizeof(int) * ((size_t)nn + 1));
    int *cons = NULL, *fill = NULL;
    sn_status st = SN_OK;
    if (!indeg || !cstart || !order) goto oom;
    size_t edges = 0;
    for (int i = 0; i < nn; i++) {
        const sn_node *n = &g->nodes[i];
        if (n->dead) continue;
        for (int k = 0; k < n->n_inputs; k++) {
            int t = n->inputs[k];
            if (t == -1) continue;
            if (t < 0 || t >= nt) {
                st = sn_errorf(err, SN_ERR_GRAPH, "node %d '%s' (%s): input %d refers to tensor %d, out of range [0,%d)",
                               i, n->name, sn_op_name(n->op), k, t, nt);
                goto done;
            }
            int p = g->tensors[t].producer;
            if (p < 0) {
                if (!(g->tensors[t].flags & (SN_TENSOR_CONST | SN_TENSOR_INPUT))) {
                    st = sn_errorf(err, SN_ERR_GRAPH,
                                   "node %d '%s' (%s) reads tensor '%s', which is not a graph input, not a constant and not produced by any node",
                                   i, n->name, sn_op_name(n->op), g->tensors[t].name);
                    goto done;
                }
                continue;
            }
            if (p >= nn || g->nodes[p].dead) {
                st = sn_errorf(err, SN_ERR_GRAPH, "node %d '%s' reads tensor '%s' whose producer %d is missing",
                               i, n->name, g->tensors[t].name, p);
                goto done;
            }
            cstart[t + 1]++;
            indeg[i]++;
            edges++;
        }
    }
    for (int t = 0; t < nt; t++) cstart[t + 1] += cstart[t];
    cons = malloc(sizeof(int) * (edges + 1));
    fill = calloc((size_t)nt + 1, sizeof(int));
    if (!cons || !fill) goto oom;
    for (int i = 0; i < nn; i++) {
        const sn_node *n = &g->nodes[i];
        if (n->dead) continue;
        for (int k = 0; k < n->n_inputs; k++) {
            int t = n->inputs[k];
            if (t < 0 || g->tensors[t].producer < 0) continue;
            cons[cstart[t] + fill[t]++] = i;
        }
    }
    /* Kahn's algorithm; `order` doubles as the queue. Ready nodes are taken in index order. */
    int head = 0, tail = 0, live = 0;
    for (int i = 0; i < nn; i++) {
        if (g->nodes[i].dead) continue;
        live++;
        if (indeg[i] == 0) order[tail++] = i;
    }
    while (head < tail) {
        const sn_node *n = &g->nodes[order[head++]];
        for (int k = 0; k < n->n_outputs; k++) {
            int t = n->outputs[k];
            if (t < 0 || t >= nt) continue;
            for (int c = cstart[t]; c < cstart[t + 1]; c++)
                if (--indeg[cons[c]] == 0) order[tail++] = cons[c];
        }
    }
    if (tail != live) {
        int bad = -1;
        for (int i = 0; i < nn && bad < 0; i++)
            if (!g->nodes[i].dead && indeg[i] > 0) bad = i;
        st = sn_errorf(err, SN_ERR_GRAPH, "graph has a cycle: node %d '%s' (%s) depends on its own output",
                       bad, bad >= 0 ? g->nodes[bad].name : "?", bad >= 0 ? sn_op_name(g->nodes[bad].op) : "?");
        goto done;
    }
    *order_out = order;
    *count_out = live;
    order = NULL;
    goto done;
oom:
    st = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "topo order: out of memory for %d nodes", nn);
done:
    free(indeg);
    free(cstart);
    free(cons);
    free(fill);
    free(order);
    return st;
}

static sn_status sn__check_node(const sn_graph *g, int i, sn_error *err) {
    const sn_node *n = &g->nodes[i];
    const sn_op_def *def = sn_op_get(n->op);
    if (!def) return sn_errorf(err, SN_ERR_GRAPH, "node %d '%s': unknown op %d", i, n->name, (int)n->op);
    if (n->n_inputs < def->min_inputs || n->n_inputs > def->max_inputs)
        return sn_errorf(err, SN_ERR_GRAPH, "node %d '%s' (%s): %d inputs, the op takes %d to %d", i, n->name,
                         def->name, n->n_inputs, def->min_inputs, def->max_inputs);
    if (n->n_outputs != def->n_outputs)
        return sn_errorf(err, SN_ERR_GRAPH, "node %d '%s' (%s): %d outputs, the op has %d", i, n->name, def->name,
                         n->n_outputs, def->n_outputs);
    for (int k = 0; k < n->n_inputs; k++) {
        int t = n->inputs[k];
        if (t < -1 || t >= g->n_tensors)
            return sn_errorf(err, SN_ERR_GRAPH, "node %d '%s' (%s): input %d refers to tensor %d, out of range", i,
                             n->name, def->name, k, t);
        if (t == -1 && k < def->min_inputs)
            return sn_errorf(err, SN_ERR_GRAPH, "node %d '%s' (%s): required input %d is missing", i, n->name,
                             def->name, k);
    }
    for (int k = 0; k < n->n_outputs; k++) {
        int t = n->outputs[k];
        if (t < 0 || t >= g->n_tensors)
            return sn_errorf(err, SN_ERR_GRAPH, "node %d '%s' (%s): output %d refers to tensor %d, out of range", i,
                             n->name, def->name, k, t);
        if (g->tensors[t].producer != i)
            return sn_errorf(err, SN_ERR_GRAPH, "node %d '%s': output tensor '%s' is also produced elsewhere", i,
                             n->name, g->tensors[t].name);
    }
    for (int a = 0; a < n->n_attrs; a++) {
        const sn_attr *at = &n->attrs[a];
        const sn_attr_spec *sp = def->attrs;
        while (sp && sp->name && strcmp(sp->name, at->name)) sp++;
        if (!sp || !sp->name)
            return sn_errorf(err, SN_ERR_GRAPH, "node %d '%s' (%s): unknown attribute '%s'", i, n->name, def->name,
                             at->name);
        if (sp->type != (int)at->type)
            return sn_errorf(err, SN_ERR_GRAPH, "node %d '%s' (%s): attribute '%s' has type %d, expected %d", i,
                             n->name, def->name, at->name, (int)at->type, sp->type);
        if (at->type == SN_ATTR_FLOAT && isnan(at->v.f))
            return sn_errorf(err, SN_ERR_GRAPH, "node %d '%s' (%s): attribute '%s' is NaN", i, n->name, def->name,
                             at->name);
    }
    return SN_OK;
}

sn_status sn_graph_validate(const sn_graph *g, sn_error *err) {
    if (!g) return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "validate: NULL graph");
    if (g->n_outputs == 0) return sn_errorf(err, SN_ERR_GRAPH, "graph has no outputs");
    for (int i = 0; i < g->n_tensors; i++) {
        const sn_tensor *t = &g->tensors[i];
        if ((int)t->dtype < 0 || t->dtype >= SN_DTYPE_COUNT)
            return sn_errorf(err, SN_ERR_GRAPH, "tensor %d '%s': invalid dtype %d", i, t->name, (int)t->dtype);
        if (t->shape.rank > SN_MAX_RANK)
            return sn_errorf(err, SN_ERR_GRAPH, "tensor %d '%s': rank %d over %d", i, t->name, t->shape.rank, SN_MAX_RANK);
        if ((t->flags & SN_TENSOR_CONST) && t->producer >= 0)
            return sn_errorf(err, SN_ERR_GRAPH, "tensor %d '%s' is a constant and also produced by node %d", i,
                             t->name, t->producer);
        if (t->producer >= g->n_nodes)
            return sn_errorf(err, SN_ERR_GRAPH, "tensor %d '%s': producer %d out of range", i, t->name, t->producer);
    }
    for (int i = 0; i < g->n_inputs; i++) {
        int t = g->inputs[i];
        if (t < 0 || t >= g->n_tensors)
            return sn_errorf(err, SN_ERR_GRAPH, "graph input %d refers to tensor %d, out of range", i, t);
        const sn_tensor *tt = &g->tensors[t];
        if (tt->shape.rank < 0)
            return sn_errorf(err, SN_ERR_GRAPH, "graph input '%s' has no declared shape", tt->name);
        for (int d = 0; d < tt->shape.rank; d++)
            if (tt->shape.d[d] < 0 && !(d == 0 && tt->shape.d[0] == SN_DIM_BATCH))
                return sn_errorf(err, SN_ERR_GRAPH, "graph input '%s': dim %d is %lld (only dim 0 may be dynamic)",
                                 tt->name, d, (long long)tt->shape.d[d]);
    }
    for (int i = 0; i < g->n_outputs; i++) {
        int t = g->outputs[i];
        if (t < 0 || t >= g->n_tensors)
            return sn_errorf(err, SN_ERR_GRAPH, "graph output %d refers to tensor %d, out of range", i, t);
        const sn_tensor *tt = &g->tensors[t];
        if (tt->producer < 0 && !(tt->flags & (SN_TENSOR_CONST | SN_TENSOR_INPUT)))
            return sn_errorf(err, SN_ERR_GRAPH, "graph output '%s' is not produced by any node", tt->name);
    }
    for (int i = 0; i < g->n_nodes; i++) {
        if (g->nodes[i].dead) continue;
        sn_status s = sn__check_node(g, i, err);
        if (s != SN_OK) return s;
    }
    int *order = NULL, count = 0;
    sn_status s = sn_graph_topo_order(g, &order, &count, err);
    free(order);
    return s;
}

sn_status sn_graph_infer_concrete(const sn_graph *g, int64_t batch, sn_shape *shapes, sn_dtype *dtypes,
                                  sn_error *err) {
    if (!g || batch < 1) return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "infer: bad batch %lld", (long long)batch);
    int nt = g->n_tensors;
    sn_shape *sh = shapes ? shapes : malloc(sizeof(sn_shape) * ((size_t)nt + 1));
    sn_dtype *dt = dtypes ? dtypes : malloc(sizeof(sn_dtype) * ((size_t)nt + 1));
    int *order = NULL, count = 0;
    sn_value *in = NULL, *out = NULL;
    sn_status st = SN_OK;
    if (!sh || !dt) {
        st = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "infer: out of memory");
        goto done;
    }
    for (int i = 0; i < nt; i++) {
        const sn_tensor *t = &g->tensors[i];
        dt[i] = t->dtype;
        sh[i].rank = -1;
        if (t->flags & (SN_TENSOR_CONST | SN_TENSOR_INPUT)) {
            sh[i] = t->shape;
            if ((t->flags & SN_TENSOR_INPUT) && t->shape.rank > 0 && t->shape.d[0] == SN_DIM_BATCH) sh[i].d[0] = batch;
        }
    }
    st = sn_graph_topo_order(g, &order, &count, err);
    if (st != SN_OK) goto done;
    int max_in = 1, max_out = 1;
    for (int i = 0; i < g->n_nodes; i++) {
        if (g->nodes[i].n_inputs > max_in) max_in = g->nodes[i].n_inputs;
        if (g->nodes[i].n_outputs > max_out) max_out = g->nodes[i].n_outputs;
    }
    in = malloc(sizeof(sn_value) * (size_t)max_in);
    out = malloc(sizeof(sn_value) * (size_t)max_out);
    if (!in || !out) {
        st = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "infer: out of memory");
        goto done;
    }
    for (int oi = 0; oi < count; oi++) {
        const sn_node *n = &g->nodes[order[oi]];
        const sn_op_def *def = sn_op_get(n->op);
        if (!def) {
            st = sn_errorf(err, SN_ERR_GRAPH, "node '%s': unknown op %d", n->name, (int)n->op);
            goto done;
        }
        memset(in, 0, sizeof(sn_value) * (size_t)max_in);
        memset(out, 0, sizeof(sn_value) * (size_t)max_out);
        for (int k = 0; k < n->n_inputs; k++) {
            int t = n->inputs[k];
            if (t < 0) continue;
            if (sh[t].rank < 0) {
                st = sn_errorf(err, SN_ERR_GRAPH, "node '%s' (%s): input '%s' has no shape", n->name, def->name,
                               sn__tname(g, t));
                goto done;
            }
            in[k].present = true;
            in[k].dtype = dt[t];
            in[k].rank = sh[t].rank;
            memcpy(in[k].d, sh[t].d, sizeof in[k].d);
            in[k].data = (g->tensors[t].flags & SN_TENSOR_CONST) ? (void *)g->tensors[t].data : NULL;
        }
        for (int k = 0; k < n->n_outputs; k++) out[k].present = true;
        st = def->infer(n, in, out, err);
        if (st != SN_OK) goto done;
        for (int k = 0; k < n->n_outputs; k++) {
            int t = n->outputs[k];
            if (out[k].rank < 0 || out[k].rank > SN_MAX_RANK) {
                st = sn_errorf(err, SN_ERR_INTERNAL, "node '%s' (%s): infer gave rank %d", n->name, def->name, out[k].rank);
                goto done;
            }
            sh[t].rank = out[k].rank;
            memcpy(sh[t].d, out[k].d, sizeof sh[t].d);
            dt[t] = out[k].dtype;
            /* sn_bytes_for's bound is the .sgraph reader's, so a graph that validates here can
             * always be written and read back. */
            bool ovf = false;
            sn_bytes_for(dt[t], sn_shape_numel(&sh[t]), &ovf);
            if (ovf) {
                st = sn_errorf(err, SN_ERR_SHAPE, "node '%s' (%s): output '%s' has an invalid or overflowing shape",
                               n->name, def->name, sn__tname(g, t));
                goto done;
            }
        }
    }
done:
    free(order);
    free(in);
    free(out);
    if (!shapes) free(sh);
    if (!dtypes) free(dt);
    return st;
}

sn_status sn_graph_infer_shapes(sn_graph *g, sn_error *err) {
    if (!g) return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "infer: NULL graph");
    int nt = g->n_tensors;
    sn_shape *s1 = malloc(sizeof(sn_shape) * ((size_t)nt + 1));
    sn_shape *s2 = malloc(sizeof(sn_shape) * ((size_t)nt + 1));
    sn_dtype *dt = malloc(sizeof(sn_dtype) * ((size_t)nt + 1));
    sn_status st;
    if (!s1 || !s2 || !dt) {
        st = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "infer: out of memory");
        goto done;
    }
    st = sn_graph_infer_concrete(g, 1, s1, dt, err);
    if (st == SN_OK) st = sn_graph_infer_concrete(g, 2, s2, NULL, err);
    if (st != SN_OK) goto done;
    for (int i = 0; i < nt; i++) {
        sn_tensor *t = &g->tensors[i];
        if (t->flags & (SN_TENSOR_CONST | SN_TENSOR_INPUT)) continue;
        if (s1[i].rank < 0) continue; /* not reachable from any live node */
        if (t->shape.rank >= 0 && !sn_shape_equal(&t->shape, &s1[i])) {
            /* A batched tensor's recorded shape is its shape at batch 1, printed with N. */
            bool b1 = (t->flags & SN_TENSOR_BATCHED) != 0;
            char a[128], b[128];
            st = sn_errorf(err, SN_ERR_SHAPE, "tensor '%s': declared shape %s but its producer gives %s%s",
                           t->name, sn_shape_format(&t->shape, b1, a, sizeof a),
                           sn_shape_format(&s1[i], b1, b, sizeof b), b1 ? " at batch 1" : "");
            goto done;
        }
        t->shape = s1[i];
        t->dtype = dt[i];
        bool batched = s1[i].rank > 0 && s1[i].rank == s2[i].rank && s1[i].d[0] != s2[i].d[0];
        if (batched)
            t->flags |= SN_TENSOR_BATCHED;
        else
            t->flags &= ~SN_TENSOR_BATCHED;
    }
    for (int i = 0; i < g->n_inputs; i++) {
        sn_tensor *t = &g->tensors[g->inputs[i]];
        if (t->shape.rank > 0 && t->shape.d[0] == SN_DIM_BATCH) t->flags |= SN_TENSOR_BATCHED;
    }
done:
    free(s1);
    free(s2);
    free(dt);
    return st;
}

sn_status sn_graph_compact(sn_graph *g) {
    if (!g) return SN_ERR_INVALID_ARGUMENT;
    int nt = g->n_tensors, nn = g->n_nodes;
    int *used = calloc((size_t)nt + 1, sizeof(int));
    int *nmap = malloc(sizeof(int) * ((size_t)nn + 1));
    if (!used || !nmap) {
        free(used);
        free(nmap);
        return SN_ERR_OUT_OF_MEMORY;
    }
    for (int i = 0; i < g->n_inputs; i++) used[g->inputs[i]] = 1;
    for (int i = 0; i < g->n_outputs; i++) used[g->outputs[i]] = 1;
    int live = 0;
    for (int i = 0; i < nn; i++) {
        const sn_node *n = &g->nodes[i];
        if (n->dead) {
            nmap[i] = -1;
            continue;
        }
        nmap[i] = live++;
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] >= 0) used[n->inputs[k]] = 1;
        for (int k = 0; k < n->n_outputs; k++) used[n->outputs[k]] = 1;
    }
    /* Renumber tensors: used[t] becomes new index + 1 (0 = dropped). */
    int kept = 0;
    for (int t = 0; t < nt; t++) {
        if (used[t]) {
            g->tensors[kept] = g->tensors[t];
            used[t] = ++kept;
        } else if (g->tensors[t].flags & SN_TENSOR_OWNS_DATA) {
            free((void *)g->tensors[t].data);
        }
    }
    g->n_tensors = kept;
    for (int t = 0; t < kept; t++) {
        int p = g->tensors[t].producer;
        g->tensors[t].producer = p >= 0 && p < nn ? nmap[p] : -1;
    }
    int w = 0;
    for (int i = 0; i < nn; i++) {
        if (g->nodes[i].dead) continue;
        sn_node *n = &g->nodes[i];
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] >= 0) n->inputs[k] = used[n->inputs[k]] - 1;
        for (int k = 0; k < n->n_outputs; k++) n->outputs[k] = used[n->outputs[k]] - 1;
        g->nodes[w++] = *n;
    }
    g->n_nodes = w;
    for (int i = 0; i < g->n_inputs; i++) g->inputs[i] = used[g->inputs[i]] - 1;
    for (int i = 0; i < g->n_outputs; i++) g->outputs[i] = used[g->outputs[i]] - 1;
    free(used);
    free(nmap);
    return sn__graph_reindex(g) ? SN_OK : SN_ERR_OUT_OF_MEMORY;
}
