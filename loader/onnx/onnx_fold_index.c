/*
 * onnx_fold_index.c - import-time evaluation of the indexing and reshaping ops on constants:
 * Gather, Concat, Unsqueeze, Squeeze, Reshape, Flatten and Slice. With Shape (onnx_fold.c) these
 * are the chains exporters write to compute a Reshape's target; batch symbols ride along with
 * the elements they belong to. Unsqueeze/Squeeze's axis rules are shared with their graph forms.
 */
#include <string.h>

#include "onnx_internal.h"
#include "slice.h"

static sn__ox_const *sn__in_c(sn__ox_ctx *c, int k) {
    sn__ox_value *v = sn__ox_in(c, k);
    return v ? v->c : NULL;
}

static void sn__put(sn__ox_const *k, int64_t dst, const sn__ox_const *x, int64_t src) {
    if (k->kind == SN__OX_FLOAT) k->f[dst] = x->f[src]; else k->i[dst] = x->i[src];
    if (k->sym) k->sym[dst] = x->sym ? x->sym[src] : SN__OX_KNOWN;
}

sn_status sn__ox_fold_gather(sn__ox_ctx *c) {
    const sn__ox_const *x = sn__in_c(c, 0), *idx;
    if (!x) return sn__ox_fail(c, SN_ERR_FORMAT, "input 0 is missing");
    sn__ox_value *iv = sn__ox_in(c, 1);
    if (!iv || !iv->c || iv->c->kind != SN__OX_INT || sn__ox_const_has_sym(iv->c))
        return sn__ox_fail(c, SN_ERR_FORMAT, "indices must be a known integer tensor");
    idx = iv->c;
    int64_t axis;
    sn_status st = sn__ox_attr_int(c, "axis", 0, &axis);
    if (st != SN_OK) return st;
    if (!sn__ox_norm_axis(&axis, x->rank))
        return sn__ox_fail(c, SN_ERR_FORMAT, "axis is out of range for rank %d", x->rank);
    int rank = x->rank - 1 + idx->rank;
    if (rank > SN_MAX_RANK) return sn__ox_unsupported(c, "the result has rank %d", rank);
    int64_t d[SN_MAX_RANK], outer = 1, inner = 1, len = x->d[axis];
    int r = 0;
    for (int i = 0; i < axis; i++) outer *= (d[r++] = x->d[i]);
    for (int i = 0; i < idx->rank; i++) d[r++] = idx->d[i];
    for (int i = (int)axis + 1; i < x->rank; i++) inner *= (d[r++] = x->d[i]);
    for (int64_t j = 0; j < idx->numel; j++)
        if (idx->i[j] < -len || idx->i[j] >= len)
            return sn__ox_fail(c, SN_ERR_FORMAT, "index %lld is out of range for a dim of %lld",
                               (long long)idx->i[j], (long long)len);
    sn__ox_const *k = sn__ox_const_new(c, x->kind, x->onnx_type, rank, d);
    if (!k || (x->sym && !sn__ox_const_sym(c, k))) return c->err->status;
    int64_t e = 0;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < idx->numel; j++) {
            int64_t at = idx->i[j] < 0 ? idx->i[j] + len : idx->i[j];
            for (int64_t i = 0; i < inner; i++) sn__put(k, e++, x, (o * len + at) * inner + i);
        }
    return sn__ox_out_const(c, 0, k);
}

sn_status sn__ox_fold_concat(sn__ox_ctx *c) {
    int n = sn__ox_n_inputs(c->node);
    const sn__ox_const *x0 = sn__in_c(c, 0);
    if (!x0) return sn__ox_fail(c, SN_ERR_FORMAT, "input 0 is missing");
    int64_t axis;
    sn_status st = sn__ox_attr_int(c, "axis", 0, &axis);
    if (st != SN_OK) return st;
    if (!sn__ox_attr(c, "axis")) return sn__ox_fail(c, SN_ERR_FORMAT, "attribute 'axis' is required");
    if (!sn__ox_norm_axis(&axis, x0->rank))
        return sn__ox_fail(c, SN_ERR_FORMAT, "axis is out of range for rank %d", x0->rank);
    int64_t d[SN_MAX_RANK], outer = 1, inner = 1;
    bool sym = false;
    memcpy(d, x0->d, sizeof d);
    d[axis] = 0;
    for (int k = 0; k < n; k++) {
        const sn__ox_const *x = sn__in_c(c, k);
        if (!x || x->kind != x0->kind || x->rank != x0->rank)
            return sn__ox_fail(c, SN_ERR_FORMAT, "input %d is missing or differs in type or rank", k);
        for (int i = 0; i < x->rank; i++)
            if (i != axis && x->d[i] != x0->d[i])
                return sn__ox_fail(c, SN_ERR_SHAPE, "input %d's dim %d is %lld, input 0's is %lld",
                                   k, i, (long long)x->d[i], (long long)x0->d[i]);
        d[axis] += x->d[axis];
        sym |= x->sym != NULL;
    }
    for (int i = 0; i < axis; i++) outer *= d[i];
    for (int i = (int)axis + 1; i < x0->rank; i++) inner *= d[i];
    sn__ox_const *out = sn__ox_const_new(c, x0->kind, x0->onnx_type, x0->rank, d);
    if (!out || (sym && !sn__ox_const_sym(c, out))) return c->err->status;
    int64_t e = 0;
    for (int64_t o = 0; o < outer; o++)
        for (int k = 0; k < n; k++) {
            const sn__ox_const *x = sn__in_c(c, k);
            int64_t row = x->d[axis] * inner;
            for (int64_t i = 0; i < row; i++) sn__put(out, e++, x, o * row + i);
        }
    return sn__ox_out_const(c, 0, out);
}

sn_status sn__ox_unsqueeze_dims(sn__ox_ctx *c, int rank, const int64_t *din, int *rank_out,
                                int64_t *dout) {
    int64_t axes[SN_MAX_RANK];
    int n = 0;
    const int64_t *a = NULL;
    sn_status st;
    /* Axes count in the output's rank, which is only known once we know how many there are. */
    if (c->opset < 13) {
        if ((st = sn__ox_attr_ints(c, "axes", SN_MAX_RANK, &a, &n)) != SN_OK) return st;
    } else {
        const sn__ox_const *k;
        if ((st = sn__ox_in_ints(c, 1, "axes", SN_MAX_RANK, false, &k)) != SN_OK) return st;
        a = k->i;
        n = (int)k->numel;
    }
    int ro = rank + n;
    if (!a || n == 0 || ro > SN_MAX_RANK)
        return sn__ox_fail(c, SN_ERR_FORMAT, "needs 1 to %d axes", SN_MAX_RANK - rank);
    bool ins[SN_MAX_RANK] = {false};
    for (int i = 0; i < n; i++) {
        axes[i] = a[i];
        if (!sn__ox_norm_axis(&axes[i], ro) || ins[axes[i]])
            return sn__ox_fail(c, SN_ERR_FORMAT, "axis %lld is out of range or repeated",
                               (long long)a[i]);
        ins[axes[i]] = true;
    }
    for (int i = 0, j = 0; i < ro; i++) dout[i] = ins[i] ? 1 : din[j++];
    *rank_out = ro;
    return SN_OK;
}

sn_status sn__ox_squeeze_dims(sn__ox_ctx *c, int rank, const int64_t *din, int *rank_out,
                              int64_t *dout, bool *squeezed) {
    int64_t axes[SN_MAX_RANK];
    int n = 0;
    bool given;
    sn_status st = sn__ox_axes(c, 13, 1, rank, axes, &n, &given);
    if (st != SN_OK) return st;
    for (int i = 0; i < rank; i++) squeezed[i] = !given && din[i] == 1;
    for (int i = 0; i < n; i++) {
        if (din[axes[i]] != 1)
            return sn__ox_fail(c, SN_ERR_SHAPE, "cannot squeeze axis %lld of size %lld",
                               (long long)axes[i], (long long)din[axes[i]]);
        squeezed[axes[i]] = true;
    }
    int r = 0;
    for (int i = 0; i < rank; i++)
        if (!squeezed[i]) dout[r++] = din[i];
    *rank_out = r;
    return SN_OK;
}

sn_status sn__ox_fold_unsqueeze(sn__ox_ctx *c) {
    const sn__ox_const *x = sn__in_c(c, 0);
    if (!x) return sn__ox_fail(c, SN_ERR_FORMAT, "input 0 is missing");
    int r;
    int64_t d[SN_MAX_RANK];
    sn_status st = sn__ox_unsqueeze_dims(c, x->rank, x->d, &r, d);
    if (st != SN_OK) return st;
    sn__ox_const *k = sn__ox_const_reshaped(c, x, r, d);
    return k ? sn__ox_out_const(c, 0, k) : c->err->status;
}

sn_status sn__ox_fold_squeeze(sn__ox_ctx *c) {
    const sn__ox_const *x = sn__in_c(c, 0);
    if (!x) return sn__ox_fail(c, SN_ERR_FORMAT, "input 0 is missing");
    int r;
    int64_t d[SN_MAX_RANK];
    bool sq[SN_MAX_RANK];
    sn_status st = sn__ox_squeeze_dims(c, x->rank, x->d, &r, d, sq);
    if (st != SN_OK) return st;
    sn__ox_const *k = sn__ox_const_reshaped(c, x, r, d);
    return k ? sn__ox_out_const(c, 0, k) : c->err->status;
}

sn_status sn__ox_fold_reshape(sn__ox_ctx *c) {
    const sn__ox_const *x = sn__in_c(c, 0), *shape;
    if (!x) return sn__ox_fail(c, SN_ERR_FORMAT, "input 0 is missing");
    sn_status st = sn__ox_in_ints(c, 1, "shape", SN_MAX_RANK, false, &shape);
    if (st != SN_OK) return st;
    int64_t allowzero, d[SN_MAX_RANK], known = 1;
    if ((st = sn__ox_attr_int(c, "allowzero", 0, &allowzero)) != SN_OK) return st;
    int infer = -1;
    for (int i = 0; i < shape->numel; i++) {
        d[i] = shape->i[i];
        if (d[i] == 0 && !allowzero) {
            if (i >= x->rank) return sn__ox_fail(c, SN_ERR_SHAPE, "shape[%d] is 0 past the input's rank", i);
            d[i] = x->d[i];
        }
        if (d[i] == -1 && infer < 0) {
            infer = i;
            continue;
        }
        if (d[i] < 0 || __builtin_mul_overflow(known, d[i], &known))
            return sn__ox_fail(c, SN_ERR_SHAPE, "invalid shape[%d] = %lld", i, (long long)shape->i[i]);
    }
    if (infer >= 0) {
        if (known == 0 || x->numel % known)
            return sn__ox_fail(c, SN_ERR_SHAPE, "cannot infer the -1 dim for %lld elements",
                               (long long)x->numel);
        d[infer] = x->numel / known;
    } else if (known != x->numel) {
        return sn__ox_fail(c, SN_ERR_SHAPE, "the shape has %lld elements, the input %lld",
                           (long long)known, (long long)x->numel);
    }
    sn__ox_const *k = sn__ox_const_reshaped(c, x, (int)shape->numel, d);
    return k ? sn__ox_out_const(c, 0, k) : c->err->status;
}

sn_status sn__ox_fold_flatten(sn__ox_ctx *c) {
    const sn__ox_const *x = sn__in_c(c, 0);
    if (!x) return sn__ox_fail(c, SN_ERR_FORMAT, "input 0 is missing");
    int64_t axis, d[2] = {1, 1};
    sn_status st = sn__ox_attr_int(c, "axis", 1, &axis);
    if (st != SN_OK) return st;
    if (axis < 0) axis += x->rank;
    if (axis < 0 || axis > x->rank) return sn__ox_fail(c, SN_ERR_FORMAT, "axis is out of range");
    for (int i = 0; i < x->rank; i++) d[i >= axis] *= x->d[i];
    sn__ox_const *k = sn__ox_const_reshaped(c, x, 2, d);
    return k ? sn__ox_out_const(c, 0, k) : c->err->status;
}

sn_status sn__ox_slice_params(sn__ox_ctx *c, int rank, const int64_t *din, int64_t *first,
                              int64_t *step, int64_t *dout) {
    const sn__ox_const *starts, *ends, *axes = NULL, *steps = NULL;
    sn_status st = sn__ox_in_ints(c, 1, "starts", SN_MAX_RANK, false, &starts);
    if (st == SN_OK) st = sn__ox_in_ints(c, 2, "ends", SN_MAX_RANK, false, &ends);
    if (st == SN_OK && sn__ox_in(c, 3)) st = sn__ox_in_ints(c, 3, "axes", SN_MAX_RANK, false, &axes);
    if (st == SN_OK && sn__ox_in(c, 4)) st = sn__ox_in_ints(c, 4, "steps", SN_MAX_RANK, false, &steps);
    if (st != SN_OK) return st;
    int n = (int)starts->numel;
    if (ends->numel != n || (axes && axes->numel != n) || (steps && steps->numel != n) || n > rank)
        return sn__ox_fail(c, SN_ERR_FORMAT, "starts, ends, axes and steps differ in length");
    bool seen[SN_MAX_RANK] = {false};
    for (int i = 0; i < rank; i++) {
        first[i] = 0;
        step[i] = 1;
        dout[i] = din[i];
    }
    for (int i = 0; i < n; i++) {
        int64_t a = axes ? axes->i[i] : i, s = steps ? steps->i[i] : 1;
        if (!sn__ox_norm_axis(&a, rank) || seen[a] || s == 0)
            return sn__ox_fail(c, SN_ERR_FORMAT, "slice %d: axis out of range or repeated, or step 0", i);
        seen[a] = true;
        step[a] = s;
        sn_slice_axis(din[a], starts->i[i], ends->i[i], s, &first[a], &dout[a]);
    }
    return SN_OK;
}

sn_status sn__ox_fold_slice(sn__ox_ctx *c) {
    const sn__ox_const *x = sn__in_c(c, 0);
    if (!x) return sn__ox_fail(c, SN_ERR_FORMAT, "input 0 is missing");
    int64_t first[SN_MAX_RANK], step[SN_MAX_RANK], d[SN_MAX_RANK], xs[SN_MAX_RANK];
    sn_status st = sn__ox_slice_params(c, x->rank, x->d, first, step, d);
    if (st != SN_OK) return st;
    sn__ox_const *k = sn__ox_const_new(c, x->kind, x->onnx_type, x->rank, d);
    if (!k || (x->sym && !sn__ox_const_sym(c, k))) return c->err->status;
    int64_t stride = 1;
    for (int i = x->rank - 1; i >= 0; i--) {
        xs[i] = stride;
        stride *= x->d[i];
    }
    for (int64_t e = 0; e < k->numel; e++) {
        int64_t rem = e, at = 0;
        for (int i = x->rank - 1; i >= 0; i--) {
            at += (first[i] + (rem % d[i]) * step[i]) * xs[i];
            rem /= d[i];
        }
        sn__put(k, e, x, at);
    }
    return sn__ox_out_const(c, 0, k);
}
