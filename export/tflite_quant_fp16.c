/*
 * tflite_quant_fp16.c - float16 weights, as TFLite's converter writes them: every float weight
 * (filters, biases, constant operands) is stored as FLOAT16 and read through a DEQUANTIZE op
 * whose float32 output the original consumers read. Runtimes fold these DEQUANTIZE ops at load
 * time (or keep fp16 weights on a GPU delegate), so the model halves in size and computes in
 * float32. Parameters that are not weights (a MaxPool's -FLT_MAX padding, clip bounds) stay
 * float32: they are tiny, and -FLT_MAX has no float16 value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "half.h"
#include "tflite_export.h"

static bool sn__fp16_role(sn_tfl_role r) {
    return r == SN_TFL_ROLE_FILTER || r == SN_TFL_ROLE_DW_FILTER || r == SN_TFL_ROLE_BIAS ||
           r == SN_TFL_ROLE_OPERAND;
}

sn_status sn__tfl_quantize_fp16(sn_tfl_model *m, sn_error *err) {
    int n_before = m->n_ops, n_t = m->n_t;
    for (int k = 0; k < n_t; k++) {
        sn_tfl_tensor *t = &m->t[k];
        if (!t->data || t->type != SN_TFL_FLOAT32 || !sn__fp16_role(t->role)) continue;
        size_t n = t->nbytes / sizeof(float);
        uint16_t *h = malloc(sizeof(uint16_t) * (n ? n : 1));
        if (!h) return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory converting to fp16");
        const float *f = t->data;
        for (size_t i = 0; i < n; i++) h[i] = sn_f32_to_f16(f[i]);
        free(t->data);
        t->data = h;
        t->nbytes = sizeof(uint16_t) * n;
        t->type = SN_TFL_FLOAT16;
        char name[300];
        snprintf(name, sizeof name, "%s/dequantized", t->name);
        int rank = t->rank;
        int32_t shape[SN_MAX_RANK];
        memcpy(shape, t->shape, sizeof(int32_t) * (size_t)rank);
        int d = sn_tfl_add_tensor(m, name, rank, shape, false, -1, err);
        if (d < 0) return err->status;
        for (int i = 0; i < n_before; i++)
            for (int j = 0; j < m->ops[i].n_in; j++)
                if (m->ops[i].in[j] == k) m->ops[i].in[j] = d;
        if (sn_tfl_add_op(m, SN_TFL_OP_DEQUANTIZE, -1, &k, 1, &d, 1, err) < 0) return err->status;
        sn_tfl_op_options(m, m->n_ops - 1, SN_TFL_OPT_DEQUANTIZE);
    }
    /* The DEQUANTIZE ops run first. */
    return sn_tfl_ops_to_front(m, n_before, m->n_ops - n_before, err);
}
