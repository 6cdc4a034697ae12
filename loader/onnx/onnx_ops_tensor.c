/*
 * onnx_ops_tensor.c - ONNX's tensor-manipulation ops on run-time tensors, to Sentinel nodes:
 * Concat, Flatten, Transpose, Reshape (its shape input must be known at import time; a batch
 * size from Shape becomes Reshape's 0 = "copy the input's dim"), Squeeze and Unsqueeze (Reshapes
 * with the batch left free as -1), Slice, Split (a Slice per output) and Gather with constant
 * indices (Slices, a Concat, and a Reshape dropping the axis for a scalar index).
 */
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

/* A Reshape of tensor x to dims d (batch-1 values); when x is batched, the batch lands at
 * output position batch_pos and is written as -1 there, so the node works for every batch. */
static sn_status sn__reshape_to(sn__ox_ctx *c, int x, int rank, const int64_t *d, int batch_pos,
                                const char *name, int *out) {
    int64_t shape[SN_MAX_RANK];
    for (int i = 0; i < rank; i++) shape[i] = d[i];
    if (sn__ox_batched(c, x)) {
        if (batch_pos < 0) return sn__ox_unsupported(c, "the batch dim would be removed or merged");
        shape[batch_pos] = -1;
    }
    sn_attr a = sn_attr_ints("shape", shape, rank);
    return sn__ox_emit(c, SN_OP_RESHAPE, &x, 1, &a, 1, name, out);
}

sn_status sn__ox_concat(sn__ox_ctx *c) {
    int n = sn__ox_n_inputs(c->node), out;
    int64_t axis;
    sn_status st = sn__ox_attr_int(c, "axis", 0, &axis);
    if (st != SN_OK) return st;
    if (!sn__ox_attr(c, "axis")) return sn__ox_fail(c, SN_ERR_FORMAT, "attribute 'axis' is required");
    int *in = calloc((size_t)n + 1, sizeof *in);
    if (!in) return sn_errorf(c->err, SN_ERR_OUT_OF_MEMORY, "ONNX import: out of memory");
    for (int k = 0; k < n && st == SN_OK; k++) st = sn__ox_in_tensor(c, k, &in[k]);
    sn_attr a = sn_attr_int("axis", axis);
    if (st == SN_OK) st = sn__ox_emit(c, SN_OP_CONCAT, in, n, &a, 1, sn__ox_out_name(c, 0), &out);
    free(in);
    return st == SN_OK ? sn__ox_out_tensor(c, 0, out) : st;
}

sn_status sn__ox_flatten(sn__ox_ctx *c) {
    int x, out;
    int64_t axis;
    sn_status st = sn__ox_in_tensor(c, 0, &x);
    if (st == SN_OK) st = sn__ox_attr_int(c, "axis", 1, &axis);
    if (st != SN_OK) return st;
    sn_attr a = sn_attr_int("axis", axis);
    st = sn__ox_emit(c, SN_OP_FLATTEN, &x, 1, &a, 1, sn__ox_out_name(c, 0), &out);
    return st == SN_OK ? sn__ox_out_tensor(c, 0, out) : st;
}

sn_status sn__ox_transpose(sn__ox_ctx *c) {
    int x, out, n;
    const int64_t *perm;
    sn_status st = sn__ox_in_tensor(c, 0, &x);
    if (st == SN_OK) st = sn__ox_attr_ints(c, "perm", SN_MAX_RANK, &perm, &n);
    if (st != SN_OK) return st;
    sn_attr a = sn_attr_ints("perm", perm, n);
    st = sn__ox_emit(c, SN_OP_TRANSPOSE, &x, 1, perm ? &a : NULL, perm ? 1 : 0,
                     sn__ox_out_name(c, 0), &out);
    return st == SN_OK ? sn__ox_out_tensor(c, 0, out) : st;
}

sn_status sn__ox_reshape(sn__ox_ctx *c) {
    int x, out;
    const sn__ox_const *k;
    int64_t allowzero, shape[SN_MAX_RANK];
    sn_status st = sn__ox_in_tensor(c, 0, &x);
    if (st == SN_OK) st = sn__ox_in_ints(c, 1, "shape", SN_MAX_RANK, true, &k);
    if (st == SN_OK) st = sn__ox_attr_int(c, "allowzero", 0, &allowzero);
    if (st != SN_OK) return st;
    for (int i = 0; i < k->numel; i++) {
        uint8_t s = k->sym ? k->sym[i] : SN__OX_KNOWN;
        shape[i] = k->i[i];
        if (s == SN__OX_BATCH && i == 0 && sn__ox_batched(c, x)) {
            shape[i] = 0; /* the input's batch, whatever it is at run time */
        } else if (s != SN__OX_KNOWN) {
            return sn__ox_unsupported(c, "shape[%d] depends on the batch size in a way Sentinel "
                                         "cannot express (only 'the batch' in dim 0 is)", i);
        } else if (shape[i] == 0 && allowzero) {
            return sn__ox_unsupported(c, "allowzero=1 with a 0 in the shape (an empty tensor)");
        }
    }
    sn_attr a = sn_attr_ints("shape", shape, (int)k->numel);
    st = sn__ox_emit(c, SN_OP_RESHAPE, &x, 1, &a, 1, sn__ox_out_name(c, 0), &out);
    return st == SN_OK ? sn__ox_out_tensor(c, 0, out) : st;
}

sn_status sn__ox_unsqueeze(sn__ox_ctx *c) {
    int x, out, r;
    int64_t d[SN_MAX_RANK];
    sn_status st = sn__ox_in_tensor(c, 0, &x);
    if (st != SN_OK) return st;
    const sn_shape *s = sn__ox_shape(c, x);
    if ((st = sn__ox_unsqueeze_dims(c, s->rank, s->d, &r, d)) != SN_OK) return st;
    /* The batch (input dim 0) lands on the first output position that is not a new axis:
     * find it by running the axis rule on dims that cannot be mistaken for inserted 1s. */
    int bp = -1, rr;
    int64_t probe[SN_MAX_RANK], tmp[SN_MAX_RANK];
    for (int i = 0; i < s->rank; i++) probe[i] = i + 2;
    if ((st = sn__ox_unsqueeze_dims(c, s->rank, probe, &rr, tmp)) != SN_OK) return st;
    for (int i = 0; i < rr && bp < 0; i++)
        if (tmp[i] == 2) bp = i;
    st = sn__reshape_to(c, x, r, d, bp, sn__ox_out_name(c, 0), &out);
    return st == SN_OK ? sn__ox_out_tensor(c, 0, out) : st;
}

sn_status sn__ox_squeeze(sn__ox_ctx *c) {
    int x, out, r;
    int64_t d[SN_MAX_RANK];
    bool sq[SN_MAX_RANK];
    sn_status st = sn__ox_in_tensor(c, 0, &x);
    if (st != SN_OK) return st;
    const sn_shape *s = sn__ox_shape(c, x);
    if ((st = sn__ox_squeeze_dims(c, s->rank, s->d, &r, d, sq)) != SN_OK) return st;
    if (sn__ox_batched(c, x) && sq[0])
        return sn__ox_unsupported(c, "squeezing the batch dim");
    st = sn__reshape_to(c, x, r, d, 0, sn__ox_out_name(c, 0), &out);
    return st == SN_OK ? sn__ox_out_tensor(c, 0, out) : st;
}

/* One Slice node on one axis: [start, end) with step 1. */
static sn_status sn__slice1(sn__ox_ctx *c, int x, int64_t axis, int64_t start, int64_t end,
                            const char *name, int *out) {
    sn_attr a[] = {sn_attr_ints("starts", &start, 1), sn_attr_ints("ends", &end, 1),
                   sn_attr_ints("axes", &axis, 1)};
    return sn__ox_emit(c, SN_OP_SLICE, &x, 1, a, 3, name, out);
}

sn_status sn__ox_slice(sn__ox_ctx *c) {
    int x, out;
    sn_status st = sn__ox_in_tensor(c, 0, &x);
    if (st != SN_OK) return st;
    const sn_shape *s = sn__ox_shape(c, x);
    int64_t first[SN_MAX_RANK], step[SN_MAX_RANK], d[SN_MAX_RANK];
    /* Validates the inputs; Sentinel's Slice re-resolves them for each batch size. */
    if ((st = sn__ox_slice_params(c, s->rank, s->d, first, step, d)) != SN_OK) return st;
    const sn__ox_const *starts = sn__ox_in(c, 1)->c, *ends = sn__ox_in(c, 2)->c;
    sn__ox_value *av = sn__ox_in(c, 3), *sv = sn__ox_in(c, 4);
    sn_attr a[4] = {sn_attr_ints("starts", starts->i, (int)starts->numel),
                    sn_attr_ints("ends", ends->i, (int)ends->numel)};
    int na = 2;
    if (av) a[na++] = sn_attr_ints("axes", av->c->i, (int)av->c->numel);
    if (sv) a[na++] = sn_attr_ints("steps", sv->c->i, (int)sv->c->numel);
    st = sn__ox_emit(c, SN_OP_SLICE, &x, 1, a, na, sn__ox_out_name(c, 0), &out);
    return st == SN_OK ? sn__ox_out_tensor(c, 0, out) : st;
}

sn_status sn__ox_split(sn__ox_ctx *c) {
    int x;
    int64_t axis, parts = (int64_t)c->node->n_output, num_outputs = 0;
    sn_status st = sn__ox_in_tensor(c, 0, &x);
    if (st == SN_OK) st = sn__ox_attr_int(c, "axis", 0, &axis);
    if (st == SN_OK && c->opset >= 18) st = sn__ox_attr_int(c, "num_outputs", 0, &num_outputs);
    if (st != SN_OK) return st;
    const sn_shape *s = sn__ox_shape(c, x);
    if (!sn__ox_norm_axis(&axis, s->rank))
        return sn__ox_fail(c, SN_ERR_FORMAT, "axis is out of range for rank %d", s->rank);
    if (axis == 0 && sn__ox_batched(c, x)) return sn__ox_unsupported(c, "splitting the batch dim");
    if (parts < 1 || parts > 4096) return sn__ox_fail(c, SN_ERR_FORMAT, "%lld outputs", (long long)parts);
    const int64_t *split = NULL;
    int n = 0;
    if (c->opset < 13) {
        if ((st = sn__ox_attr_ints(c, "split", 4096, &split, &n)) != SN_OK) return st;
    } else if (sn__ox_in(c, 1)) {
        const sn__ox_const *k;
        if ((st = sn__ox_in_ints(c, 1, "split", 4096, false, &k)) != SN_OK) return st;
        split = k->i;
        n = (int)k->numel;
    }
    const int64_t dim = s->d[axis];
    int64_t chunk = (dim + parts - 1) / parts, sum = 0;
    if (split && n != parts) return sn__ox_fail(c, SN_ERR_FORMAT, "split has %d sizes for %lld outputs", n, (long long)parts);
    for (int64_t k = 0; split && k < parts; k++) {
        if (split[k] < 0 || split[k] > dim)
            return sn__ox_fail(c, SN_ERR_FORMAT, "split size %lld is negative or larger than the "
                               "axis (%lld)", (long long)split[k], (long long)dim);
        sum += split[k];
    }
    if (split && sum != dim)
        return sn__ox_fail(c, SN_ERR_SHAPE, "split sizes add up to %lld, the axis has %lld",
                           (long long)sum, (long long)dim);
    if (!split && !num_outputs && dim % parts)
        return sn__ox_fail(c, SN_ERR_SHAPE, "an axis of %lld does not split into %lld equal parts",
                           (long long)dim, (long long)parts);
    int64_t at = 0;
    for (int64_t k = 0; k < parts; k++) {
        int64_t len = split ? split[k] : chunk;
        if (at + len > dim) len = dim - at;
        int out;
        if ((st = sn__slice1(c, x, axis, at, at + len, sn__ox_out_name(c, (int)k), &out)) != SN_OK)
            return st;
        if ((st = sn__ox_out_tensor(c, (int)k, out)) != SN_OK) return st;
        at += len;
    }
    return SN_OK;
}

sn_status sn__ox_gather(sn__ox_ctx *c) {
    int x, out;
    int64_t axis;
    sn_status st = sn__ox_in_tensor(c, 0, &x);
    if (st == SN_OK) st = sn__ox_attr_int(c, "axis", 0, &axis);
    if (st != SN_OK) return st;
    sn__ox_value *iv = sn__ox_in(c, 1);
    if (!iv) return sn__ox_fail(c, SN_ERR_FORMAT, "indices are missing");
    if (!iv->c || iv->c->kind != SN__OX_INT || sn__ox_const_has_sym(iv->c) || iv->c->rank > 1 ||
        iv->c->numel < 1 || iv->c->numel > 64)
        return sn__ox_unsupported(c, "Gather on a run-time tensor needs constant indices (a scalar "
                                     "or up to 64 of them)");
    const sn_shape *s = sn__ox_shape(c, x);
    const int r = s->rank;
    if (!sn__ox_norm_axis(&axis, r)) return sn__ox_fail(c, SN_ERR_FORMAT, "axis is out of range");
    if (axis == 0 && sn__ox_batched(c, x)) return sn__ox_unsupported(c, "gathering along the batch dim");
    const sn__ox_const *idx = iv->c;
    const int64_t len = s->d[axis];
    const char *name = sn__ox_out_name(c, 0);
    int parts[64];
    for (int64_t j = 0; j < idx->numel; j++) {
        int64_t at = idx->i[j] < 0 ? idx->i[j] + len : idx->i[j];
        if (at < 0 || at >= len)
            return sn__ox_fail(c, SN_ERR_FORMAT, "index %lld is out of range for a dim of %lld",
                               (long long)idx->i[j], (long long)len);
        bool last = idx->rank == 1 && idx->numel == 1;
        if ((st = sn__slice1(c, x, axis, at, at + 1, last ? name : sn__ox_fresh_name(c, name, "g"),
                             &parts[j])) != SN_OK)
            return st;
    }
    if (idx->rank == 0) { /* the axis goes away */
        int64_t d[SN_MAX_RANK];
        int rr = 0;
        for (int i = 0; i < r; i++)
            if (i != axis) d[rr++] = s->d[i];
        st = sn__reshape_to(c, parts[0], rr, d, sn__ox_batched(c, x) ? 0 : -1, name, &out);
    } else if (idx->numel == 1) {
        out = parts[0];
    } else {
        sn_attr a = sn_attr_int("axis", axis);
        st = sn__ox_emit(c, SN_OP_CONCAT, parts, (int)idx->numel, &a, 1, name, &out);
    }
    return st == SN_OK ? sn__ox_out_tensor(c, 0, out) : st;
}
