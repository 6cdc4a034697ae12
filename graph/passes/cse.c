/*
 * cse.c - common-subexpression elimination: two live nodes with the same op, the same inputs
 * (after earlier merges) and the same attributes compute the same values, so readers of the
 * second are pointed at the first's outputs and the second dies.
 *
 * One sweep in topological order with a hash table keyed on (op, inputs, attributes) merges
 * whole duplicate chains. Attributes compare by name, type and value, in any order. Graph
 * outputs keep their tensors: when the duplicate produces one, it survives in place of the
 * first node instead; when both do, neither is merged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "pass_util.h"

static uint64_t sn__mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdull;
}

static uint64_t sn__bytes_hash(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

/* Order-independent: the attribute hashes are summed. */
static uint64_t sn__attr_hash(const sn_attr *a) {
    uint64_t h = sn__bytes_hash(1469598103934665603ull, a->name, strlen(a->name));
    h = sn__mix(h, (uint64_t)a->type);
    switch (a->type) {
    case SN_ATTR_INT: return sn__mix(h, (uint64_t)a->v.i);
    case SN_ATTR_FLOAT: return sn__bytes_hash(h, &a->v.f, sizeof a->v.f);
    case SN_ATTR_INTS: return sn__bytes_hash(h, a->v.ints, sizeof(int64_t) * (size_t)a->n);
    case SN_ATTR_FLOATS: return sn__bytes_hash(h, a->v.floats, sizeof(float) * (size_t)a->n);
    case SN_ATTR_STRING: return sn__bytes_hash(h, a->v.s, (size_t)a->n);
    }
    return h;
}

static uint64_t sn__node_hash(const sn_node *n) {
    uint64_t h = sn__mix(0x51ed270b27a4f1c3ull, (uint64_t)n->op);
    h = sn__mix(h, (uint64_t)n->n_outputs);
    for (int k = 0; k < n->n_inputs; k++) h = sn__mix(h, (uint64_t)(int64_t)n->inputs[k]);
    uint64_t ah = 0;
    for (int a = 0; a < n->n_attrs; a++) ah += sn__attr_hash(&n->attrs[a]);
    return sn__mix(h, ah);
}

static bool sn__attr_equal(const sn_attr *a, const sn_attr *b) {
    if (a->type != b->type || a->n != b->n || strcmp(a->name, b->name)) return false;
    switch (a->type) {
    case SN_ATTR_INT: return a->v.i == b->v.i;
    case SN_ATTR_FLOAT: return !memcmp(&a->v.f, &b->v.f, sizeof a->v.f);
    case SN_ATTR_INTS:
        return !a->n || !memcmp(a->v.ints, b->v.ints, sizeof(int64_t) * (size_t)a->n);
    case SN_ATTR_FLOATS:
        return !a->n || !memcmp(a->v.floats, b->v.floats, sizeof(float) * (size_t)a->n);
    case SN_ATTR_STRING: return !memcmp(a->v.s, b->v.s, (size_t)a->n);
    }
    return false;
}

static bool sn__node_equal(const sn_node *a, const sn_node *b) {
    if (a->op != b->op || a->n_inputs != b->n_inputs || a->n_outputs != b->n_outputs ||
        a->n_attrs != b->n_attrs)
        return false;
    if (memcmp(a->inputs, b->inputs, sizeof(int) * (size_t)a->n_inputs)) return false;
    for (int i = 0; i < a->n_attrs; i++) {
        const sn_attr *o = sn_node_attr(b, a->attrs[i].name);
        if (!o || !sn__attr_equal(&a->attrs[i], o)) return false;
    }
    return true;
}

static bool sn__has_output(const sn_graph *g, const sn_node *n) {
    for (int k = 0; k < n->n_outputs; k++)
        if (g->tensors[n->outputs[k]].flags & SN_TENSOR_OUTPUT) return true;
    return false;
}

/* The tensor t finally stands for (a kept node may itself have been replaced later). */
static int sn__resolve(const int *repl, int t) {
    while (repl[t] != t) t = repl[t];
    return t;
}

sn_status sn_pass_cse(sn_graph *g, sn_pass_report *r, sn_error *err) {
    sn__report_begin(r, "cse", g);
    int *order = NULL, count = 0, merged = 0;
    sn_status st = sn_graph_topo_order(g, &order, &count, err);
    if (st != SN_OK) return st;
    int cap = 16;
    while (cap < 2 * count) cap *= 2;
    int *slots = calloc((size_t)cap, sizeof(int));                /* node index + 1, 0 = empty */
    int *repl = malloc(sizeof(int) * ((size_t)g->n_tensors + 1)); /* tensor -> its survivor */
    if (!slots || !repl) {
        free(order), free(slots), free(repl);
        return sn__pass_oom(err, "cse");
    }
    for (int t = 0; t < g->n_tensors; t++) repl[t] = t;
    for (int oi = 0; oi < count; oi++) {
        int ni = order[oi];
        sn_node *n = &g->nodes[ni];
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] >= 0) n->inputs[k] = sn__resolve(repl, n->inputs[k]);
        size_t mask = (size_t)cap - 1, h = (size_t)sn__node_hash(n) & mask;
        int found = -1;
        for (; slots[h]; h = (h + 1) & mask)
            if (sn__node_equal(&g->nodes[slots[h] - 1], n)) {
                found = slots[h] - 1;
                break;
            }
        if (found < 0) {
            slots[h] = ni + 1;
            continue;
        }
        /* Keep whichever produces a graph output; merge neither when both do. */
        sn_node *first = &g->nodes[found];
        bool fo = sn__has_output(g, first), no = sn__has_output(g, n);
        if (fo && no) continue;
        sn_node *keep = no ? n : first, *drop = no ? first : n;
        for (int k = 0; k < n->n_outputs; k++) repl[drop->outputs[k]] = keep->outputs[k];
        drop->dead = true;
        if (no) slots[h] = ni + 1;
        merged++;
    }
    /* A kept duplicate (no) may replace a node whose readers were already visited. */
    for (int i = 0; i < g->n_nodes && merged; i++) {
        sn_node *n = &g->nodes[i];
        if (n->dead) continue;
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] >= 0) n->inputs[k] = sn__resolve(repl, n->inputs[k]);
    }
    free(order), free(slots), free(repl);
    if (r) snprintf(r->detail, sizeof r->detail, "merged %d duplicate nodes", merged);
    sn__report_end(r, g, merged);
    return st;
}
