/*
 * tflite_fuse.c - after lowering: a RELU, RELU6 or RELU_N1_TO_1 that is the only reader of a
 * CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, ADD, SUB, MUL or DIV output becomes that op's
 * fused_activation_function (as TFLite's converter writes it: one kernel, and for int8 one
 * requantization less), then dead operators and unreferenced tensors are dropped.
 */
#include <stdlib.h>
#include <string.h>

#include "tflite_lower.h"

static int sn__tfl_fused_code(int code) {
    switch (code) {
    case SN_TFL_OP_RELU: return SN_TFL_ACT_RELU;
    case SN_TFL_OP_RELU6: return SN_TFL_ACT_RELU6;
    case SN_TFL_OP_RELU_N1_TO_1: return SN_TFL_ACT_RELU_N1_TO_1;
    default: return -1;
    }
}

static bool sn__tfl_is_output(const sn_tfl_model *m, int t) {
    for (int i = 0; i < m->n_outputs; i++)
        if (m->outputs[i] == t) return true;
    return false;
}

/* Drops dead ops (code < 0) and tensors nothing refers to, renumbering everything. */
static void sn__tfl_compact(sn_tfl_model *m) {
    int *keep = calloc((size_t)(m->n_t ? m->n_t : 1), sizeof *keep);
    if (!keep) return; /* the model stays valid, only larger */
    int n_ops = 0;
    for (int i = 0; i < m->n_ops; i++) {
        sn_tfl_op *o = &m->ops[i];
        if (o->code < 0) {
            free(o->in);
            free(o->out);
            continue;
        }
        for (int k = 0; k < o->n_in; k++)
            if (o->in[k] >= 0) keep[o->in[k]] = 1;
        for (int k = 0; k < o->n_out; k++) keep[o->out[k]] = 1;
        m->ops[n_ops++] = *o;
    }
    m->n_ops = n_ops;
    for (int i = 0; i < m->n_inputs; i++) keep[m->inputs[i]] = 1;
    for (int i = 0; i < m->n_outputs; i++) keep[m->outputs[i]] = 1;
    int n = 0;
    for (int i = 0; i < m->n_t; i++) {
        if (!keep[i]) {
            free(m->t[i].name);
            free(m->t[i].data);
            free(m->t[i].scale);
            free(m->t[i].zero_point);
            keep[i] = -1;
            continue;
        }
        m->t[n] = m->t[i];
        keep[i] = n++;
    }
    m->n_t = n;
    for (int i = 0; i < m->n_ops; i++) {
        sn_tfl_op *o = &m->ops[i];
        for (int k = 0; k < o->n_in; k++)
            if (o->in[k] >= 0) o->in[k] = keep[o->in[k]];
        for (int k = 0; k < o->n_out; k++) o->out[k] = keep[o->out[k]];
    }
    for (int i = 0; i < m->n_inputs; i++) m->inputs[i] = keep[m->inputs[i]];
    for (int i = 0; i < m->n_outputs; i++) m->outputs[i] = keep[m->outputs[i]];
    for (int i = 0; i < m->g->n_tensors; i++)
        if (m->map[i] >= 0) m->map[i] = keep[m->map[i]];
    free(keep);
    /* The name set indexes tensors: rebuild it on the next name lookup. */
    free(m->names);
    m->names = NULL;
    m->name_cap = 0;
}

void sn__tfl_fuse_activations(sn_tfl_model *m) {
    int *readers = calloc((size_t)(m->n_t ? m->n_t : 1), sizeof *readers);
    int *producer = malloc(sizeof *producer * (size_t)(m->n_t ? m->n_t : 1));
    if (!readers || !producer) goto done; /* unfused is still correct */
    for (int i = 0; i < m->n_t; i++) producer[i] = -1;
    for (int i = 0; i < m->n_ops; i++) {
        for (int k = 0; k < m->ops[i].n_in; k++)
            if (m->ops[i].in[k] >= 0) readers[m->ops[i].in[k]]++;
        for (int k = 0; k < m->ops[i].n_out; k++) producer[m->ops[i].out[k]] = i;
    }
    for (int i = 0; i < m->n_ops; i++) {
        sn_tfl_op *u = &m->ops[i];
        int act = sn__tfl_fused_code(u->code), t = u->in[0];
        if (act < 0 || readers[t] != 1 || producer[t] < 0 || sn__tfl_is_output(m, t)) continue;
        sn_tfl_op *p = &m->ops[producer[t]];
        int slot = sn_tfl_act_slot(p->opt_type);
        if (slot < 0) continue;
        bool has_act = false;
        for (int k = 0; k < p->n_opts; k++) has_act |= p->opts[k].slot == slot && p->opts[k].i;
        if (has_act) continue;
        sn_tfl_op_opt_b(m, producer[t], slot, act);
        p->out[0] = u->out[0];
        producer[u->out[0]] = producer[t];
        u->code = -1;
    }
done:
    free(readers);
    free(producer);
    sn__tfl_compact(m);
}
