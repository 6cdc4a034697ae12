/*
 * onnx_fold.c - import-time evaluation of the value-producing ops exporters emit around shapes:
 * Constant, ConstantOfShape, Shape, Size, Cast, Identity/Dropout, elementwise arithmetic
 * (Add, Sub, Mul, Div, Neg), Range and Expand. Their results are host constants, so the Sentinel
 * graph never sees them; i64 results keep track of elements that depend on the batch size.
 */
#include <math.h>
#include <string.h>

#include "binary.h"
#include "onnx_internal.h"

/* Element count of dims, false when a dim is negative or the count passes the fold limit. */
static bool sn__fold_numel(int r, const int64_t *d, int64_t *n) {
    *n = 1;
    for (int i = 0; i < r; i++)
        if (d[i] < 0 || __builtin_mul_overflow(*n, d[i], n) || *n > SN__OX_MAX_FOLD_ELEMS)
            return false;
    return true;
}

static sn__ox_const *sn__in_c(sn__ox_ctx *c, int k) {
    sn__ox_value *v = sn__ox_in(c, k);
    return v ? v->c : NULL;
}

sn_status sn__ox_fold_constant(sn__ox_ctx *c) {
    static const char *const unsupported[] = {"sparse_value", "value_string", "value_strings"};
    for (int i = 0; i < 3; i++)
        if (sn__ox_attr(c, unsupported[i]))
            return sn__ox_unsupported(c, "a Constant given as '%s' is not supported", unsupported[i]);
    const Onnx__AttributeProto *a;
    sn__ox_const *k = NULL;
    sn_status st;
    if ((a = sn__ox_attr(c, "value"))) {
        if (!a->t) return sn__ox_fail(c, SN_ERR_FORMAT, "attribute 'value' holds no tensor");
        st = sn__ox_tensor_decode(c, a->t, sn__ox_out_name(c, 0), &k);
        if (st != SN_OK) return st == SN_ERR_UNSUPPORTED ? sn__ox_unsupported(c, "%s", c->err->message) : st;
    } else if ((a = sn__ox_attr(c, "value_float")) || (a = sn__ox_attr(c, "value_int"))) {
        bool is_f = !strcmp(a->name, "value_float");
        if (!(k = sn__ox_const_new(c, is_f ? SN__OX_FLOAT : SN__OX_INT,
                                   is_f ? SN__OX_T_FLOAT : SN__OX_T_INT64, 0, NULL)))
            return c->err->status;
        if (is_f) k->f[0] = a->f; else k->i[0] = a->i;
    } else if ((a = sn__ox_attr(c, "value_floats")) || (a = sn__ox_attr(c, "value_ints"))) {
        bool is_f = !strcmp(a->name, "value_floats");
        int64_t n = is_f ? (int64_t)a->n_floats : (int64_t)a->n_ints;
        if (!(k = sn__ox_const_new(c, is_f ? SN__OX_FLOAT : SN__OX_INT,
                                   is_f ? SN__OX_T_FLOAT : SN__OX_T_INT64, 1, &n)))
            return c->err->status;
        if (n) {
            if (is_f) memcpy(k->f, a->floats, (size_t)n * sizeof(float));
            else memcpy(k->i, a->ints, (size_t)n * sizeof(int64_t));
        }
    } else {
        return sn__ox_fail(c, SN_ERR_FORMAT, "a Constant needs one of value, value_float(s), "
                           "value_int(s)");
    }
    return sn__ox_out_const(c, 0, k);
}

sn_status sn__ox_fold_constant_of_shape(sn__ox_ctx *c) {
    const sn__ox_const *shape;
    sn_status st = sn__ox_in_ints(c, 0, "shape", SN_MAX_RANK, false, &shape);
    if (st != SN_OK) return st;
    int64_t numel = 1;
    for (int i = 0; i < shape->numel; i++)
        if (shape->i[i] < 0 || __builtin_mul_overflow(numel, shape->i[i], &numel) ||
            numel > SN__OX_MAX_FOLD_ELEMS)
            return sn__ox_unsupported(c, "the shape asks for a negative or over-large tensor");
    int kind = SN__OX_FLOAT;
    int32_t type = SN__OX_T_FLOAT;
    float fv = 0.0f;
    int64_t iv = 0;
    const Onnx__AttributeProto *a = sn__ox_attr(c, "value");
    if (a) {
        sn__ox_const *v;
        if (!a->t) return sn__ox_fail(c, SN_ERR_FORMAT, "attribute 'value' holds no tensor");
        if ((st = sn__ox_tensor_decode(c, a->t, "value", &v)) != SN_OK) return st;
        if (v->numel != 1) return sn__ox_fail(c, SN_ERR_FORMAT, "attribute 'value' must hold one value");
        kind = v->kind;
        type = v->onnx_type;
        if (kind == SN__OX_FLOAT) fv = v->f[0]; else iv = v->i[0];
    }
    sn__ox_const *k = sn__ox_const_new(c, kind, type, (int)shape->numel, shape->i);
    if (!k) return c->err->status;
    for (int64_t e = 0; e < k->numel; e++)
        if (kind == SN__OX_FLOAT) k->f[e] = fv; else k->i[e] = iv;
    return sn__ox_out_const(c, 0, k);
}

/* Shape (opset 15: start/end select a range of dims) from the tracked shapes. */
sn_status sn__ox_fold_shape(sn__ox_ctx *c) {
    sn__ox_value *v = sn__ox_in(c, 0);
    if (!v) return sn__ox_fail(c, SN_ERR_FORMAT, "input 0 is missing");
    int rank;
    int64_t d[SN_MAX_RANK], start = 0, end = SN_MAX_RANK;
    uint8_t sym[SN_MAX_RANK];
    sn__ox_value_dims(c, v, &rank, d, sym);
    sn_status st = sn__ox_attr_int(c, "start", 0, &start);
    if (st == SN_OK) st = sn__ox_attr_int(c, "end", rank, &end);
    if (st != SN_OK) return st;
    if (start < 0) start += rank;
    if (end < 0) end += rank;
    start = start < 0 ? 0 : start > rank ? rank : start;
    end = end < start ? start : end > rank ? rank : end;
    int64_t n = end - start;
    sn__ox_const *k = sn__ox_const_new(c, SN__OX_INT, SN__OX_T_INT64, 1, &n);
    if (!k || !sn__ox_const_sym(c, k)) return c->err->status;
    for (int64_t i = 0; i < n; i++) {
        k->i[i] = d[start + i];
        k->sym[i] = sym[start + i];
    }
    return sn__ox_out_const(c, 0, k);
}

sn_status sn__ox_fold_size(sn__ox_ctx *c) {
    sn__ox_value *v = sn__ox_in(c, 0);
    if (!v) return sn__ox_fail(c, SN_ERR_FORMAT, "input 0 is missing");
    int rank;
    int64_t d[SN_MAX_RANK], numel = 1;
    uint8_t sym[SN_MAX_RANK], s = SN__OX_KNOWN;
    sn__ox_value_dims(c, v, &rank, d, sym);
    for (int i = 0; i < rank; i++) {
        numel *= d[i];
        if (sym[i] != SN__OX_KNOWN) s = SN__OX_UNKNOWN;
    }
    sn__ox_const *k = sn__ox_const_new(c, SN__OX_INT, SN__OX_T_INT64, 0, NULL);
    if (!k || !sn__ox_const_sym(c, k)) return c->err->status;
    k->i[0] = numel;
    k->sym[0] = s;
    return sn__ox_out_const(c, 0, k);
}

/* An integer value wrapped to the range of an ONNX integer type. */
static int64_t sn__wrap(int64_t v, int32_t type) {
    switch (type) {
    case SN__OX_T_UINT8: return (uint8_t)v;
    case SN__OX_T_INT8: return (int8_t)v;
    case SN__OX_T_UINT16: return (uint16_t)v;
    case SN__OX_T_INT16: return (int16_t)v;
    case SN__OX_T_INT32: return (int32_t)v;
    case SN__OX_T_UINT32: return (uint32_t)v;
    case SN__OX_T_BOOL: return v != 0;
    default: return v;
    }
}

sn_status sn__ox_fold_cast(sn__ox_ctx *c) {
    const sn__ox_const *x = sn__in_c(c, 0);
    if (!x) return sn__ox_fail(c, SN_ERR_FORMAT, "input 0 is missing");
    int64_t to;
    sn_status st = sn__ox_attr_int(c, "to", 0, &to);
    if (st != SN_OK) return st;
    int kind = sn__ox_type_kind((int32_t)to);
    if (kind < 0) return sn__ox_unsupported(c, "cast to %s", sn__ox_type_name((int32_t)to));
    sn__ox_const *k = sn__ox_const_new(c, kind, (int32_t)to, x->rank, x->d);
    if (!k) return c->err->status;
    for (int64_t e = 0; e < x->numel; e++) {
        if (kind == SN__OX_FLOAT) {
            k->f[e] = x->kind == SN__OX_FLOAT ? x->f[e] : (float)x->i[e];
        } else if (x->kind == SN__OX_INT) {
            k->i[e] = sn__wrap(x->i[e], (int32_t)to);
        } else {
            float f = x->f[e];
            k->i[e] = to == SN__OX_T_BOOL ? f != 0.0f
                      : isnan(f) ? 0
                      : f >= 9.2e18f ? INT64_MAX : f <= -9.2e18f ? INT64_MIN
                                                               : sn__wrap((int64_t)f, (int32_t)to);
        }
    }
    /* Symbols survive int -> wide int casts: Shape's output is often cast to int32 and back. */
    if (x->sym && kind == SN__OX_INT) {
        if (!sn__ox_const_sym(c, k)) return c->err->status;
        for (int64_t e = 0; e < x->numel; e++)
            k->sym[e] = x->sym[e] == SN__OX_KNOWN ? SN__OX_KNOWN
                        : (to == SN__OX_T_INT64 || to == SN__OX_T_INT32) ? x->sym[e]
                                                                         : SN__OX_UNKNOWN;
    }
    return sn__ox_out_const(c, 0, k);
}

sn_status sn__ox_fold_identity(sn__ox_ctx *c) {
    sn__ox_const *x = sn__in_c(c, 0);
    if (!x) return sn__ox_fail(c, SN_ERR_FORMAT, "input 0 is missing");
    return sn__ox_out_const(c, 0, x);
}

/* Symbol of a op b for elementwise integer arithmetic: x*1, x/1, x+0, x-0 keep the batch. */
static uint8_t sn__sym2(const char *op, uint8_t sa, int64_t a, uint8_t sb, int64_t b) {
    if (sa == SN__OX_KNOWN && sb == SN__OX_KNOWN) return SN__OX_KNOWN;
    if (sa == SN__OX_UNKNOWN || sb == SN__OX_UNKNOWN || (sa && sb)) return SN__OX_UNKNOWN;
    int64_t other = sa ? b : a;
    bool keeps = (!strcmp(op, "Mul") && other == 1) || (!strcmp(op, "Add") && other == 0) ||
                 (sa && !strcmp(op, "Div") && other == 1) || (sa && !strcmp(op, "Sub") && other == 0);
    return keeps ? SN__OX_BATCH : SN__OX_UNKNOWN;
}

static bool sn__int_op(const char *op, int64_t a, int64_t b, int64_t *y) {
    uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
    switch (op[0]) {
    case 'A': *y = (int64_t)(ua + ub); return true;
    case 'S': *y = (int64_t)(ua - ub); return true;
    case 'M': *y = (int64_t)(ua * ub); return true;
    default:
        if (b == 0 || (a == INT64_MIN && b == -1)) return false;
        *y = a / b;
        return true;
    }
}

sn_status sn__ox_fold_binary(sn__ox_ctx *c) {
    const sn__ox_const *a = sn__in_c(c, 0), *b = sn__in_c(c, 1);
    if (!a || !b) return sn__ox_fail(c, SN_ERR_FORMAT, "needs two inputs");
    if (a->kind != b->kind) return SN_ERR_NOT_FOUND;
    int ry;
    int64_t dy[SN_MAX_RANK], ny = 1;
    if (!sn_broadcast_shape(a->rank, a->d, b->rank, b->d, &ry, dy))
        return sn__ox_fail(c, SN_ERR_SHAPE, "constant inputs of shapes that do not broadcast");
    if (!sn__fold_numel(ry, dy, &ny)) return SN_ERR_NOT_FOUND; /* leave it to the graph */
    sn__ox_const *k = sn__ox_const_new(c, a->kind, a->onnx_type, ry, dy);
    if (!k) return c->err->status;
    const char *op = c->node->op_type;
    if (a->kind == SN__OX_FLOAT) {
        sn_binary_op bop = op[0] == 'A' ? SN_BINARY_ADD : op[0] == 'S' ? SN_BINARY_SUB
                           : op[0] == 'M' ? SN_BINARY_MUL : SN_BINARY_DIV;
        if (ny && !sn_cpu_binary_f32(bop, a->f, a->rank, a->d, b->f, b->rank, b->d, k->f, 1))
            return sn__ox_fail(c, SN_ERR_SHAPE, "constant inputs do not broadcast");
        return sn__ox_out_const(c, 0, k);
    }
    bool sym = a->sym || b->sym;
    if (sym && !sn__ox_const_sym(c, k)) return c->err->status;
    for (int64_t e = 0; e < ny; e++) {
        /* Broadcast: map the output index to each input's (right-aligned) index. */
        int64_t ia = 0, ib = 0, rem = e, sa = 1, sb = 1;
        for (int i = ry - 1; i >= 0; i--) {
            int64_t x = rem % dy[i];
            rem /= dy[i];
            int ka = i - (ry - a->rank), kb = i - (ry - b->rank);
            if (ka >= 0) {
                ia += (a->d[ka] == 1 ? 0 : x) * sa;
                sa *= a->d[ka];
            }
            if (kb >= 0) {
                ib += (b->d[kb] == 1 ? 0 : x) * sb;
                sb *= b->d[kb];
            }
        }
        if (!sn__int_op(op, a->i[ia], b->i[ib], &k->i[e]))
            return sn__ox_fail(c, SN_ERR_FORMAT, "integer division by zero or overflow");
        k->i[e] = sn__wrap(k->i[e], a->onnx_type);
        if (sym)
            k->sym[e] = sn__sym2(op, a->sym ? a->sym[ia] : 0, a->i[ia], b->sym ? b->sym[ib] : 0,
                                 b->i[ib]);
    }
    return sn__ox_out_const(c, 0, k);
}

sn_status sn__ox_fold_neg(sn__ox_ctx *c) {
    const sn__ox_const *x = sn__in_c(c, 0);
    if (!x) return sn__ox_fail(c, SN_ERR_FORMAT, "input 0 is missing");
    sn__ox_const *k = sn__ox_const_new(c, x->kind, x->onnx_type, x->rank, x->d);
    if (!k) return c->err->status;
    for (int64_t e = 0; e < x->numel; e++)
        if (x->kind == SN__OX_FLOAT) k->f[e] = -x->f[e];
        else k->i[e] = (int64_t)(0 - (uint64_t)x->i[e]);
    if (sn__ox_const_has_sym(x)) {
        if (!sn__ox_const_sym(c, k)) return c->err->status;
        for (int64_t e = 0; e < x->numel; e++) k->sym[e] = x->sym[e] ? SN__OX_UNKNOWN : 0;
    }
    return sn__ox_out_const(c, 0, k);
}

sn_status sn__ox_fold_range(sn__ox_ctx *c) {
    const sn__ox_const *s = sn__in_c(c, 0), *l = sn__in_c(c, 1), *d = sn__in_c(c, 2);
    if (!s || !l || !d || s->numel != 1 || l->numel != 1 || d->numel != 1 || s->kind != l->kind ||
        s->kind != d->kind)
        return sn__ox_fail(c, SN_ERR_FORMAT, "start, limit and delta must be scalars of one type");
    if (sn__ox_const_has_sym(s) || sn__ox_const_has_sym(l) || sn__ox_const_has_sym(d))
        return sn__ox_unsupported(c, "the range depends on the batch size");
    double start = s->kind ? (double)s->i[0] : s->f[0], limit = s->kind ? (double)l->i[0] : l->f[0],
           delta = s->kind ? (double)d->i[0] : d->f[0];
    if (delta == 0 || !isfinite(start) || !isfinite(limit) || !isfinite(delta))
        return sn__ox_fail(c, SN_ERR_FORMAT, "delta is 0 or a bound is not finite");
    double cnt = ceil((limit - start) / delta);
    if (cnt > (double)SN__OX_MAX_FOLD_ELEMS) return sn__ox_unsupported(c, "the range is too long");
    int64_t n = cnt > 0 ? (int64_t)cnt : 0;
    sn__ox_const *k = sn__ox_const_new(c, s->kind, s->onnx_type, 1, &n);
    if (!k) return c->err->status;
    for (int64_t e = 0; e < n; e++)
        if (s->kind == SN__OX_FLOAT) k->f[e] = (float)(start + (double)e * delta);
        else k->i[e] = (int64_t)((uint64_t)s->i[0] + (uint64_t)e * (uint64_t)d->i[0]);
    return sn__ox_out_const(c, 0, k);
}

sn_status sn__ox_fold_expand(sn__ox_ctx *c) {
    const sn__ox_const *x = sn__in_c(c, 0), *shape;
    if (!x) return sn__ox_fail(c, SN_ERR_FORMAT, "input 0 is missing");
    sn_status st = sn__ox_in_ints(c, 1, "shape", SN_MAX_RANK, false, &shape);
    if (st != SN_OK) return st;
    int ry;
    int64_t dy[SN_MAX_RANK], ny = 1;
    if (!sn_broadcast_shape(x->rank, x->d, (int)shape->numel, shape->i, &ry, dy))
        return sn__ox_fail(c, SN_ERR_SHAPE, "the input does not broadcast to the shape");
    if (!sn__fold_numel(ry, dy, &ny))
        return sn__ox_unsupported(c, "the expanded tensor is too large or has a negative dim");
    sn__ox_const *k = sn__ox_const_new(c, x->kind, x->onnx_type, ry, dy);
    if (!k || (x->sym && !sn__ox_const_sym(c, k))) return c->err->status;
    for (int64_t e = 0; e < ny; e++) {
        int64_t ix = 0, rem = e, sx = 1;
        for (int i = ry - 1; i >= 0; i--) {
            int64_t v = rem % dy[i];
            rem /= dy[i];
            int kx = i - (ry - x->rank);
            if (kx >= 0) {
                ix += (x->d[kx] == 1 ? 0 : v) * sx;
                sx *= x->d[kx];
            }
        }
        if (x->kind == SN__OX_FLOAT) k->f[e] = x->f[ix]; else k->i[e] = x->i[ix];
        if (x->sym) k->sym[e] = x->sym[ix];
    }
    return sn__ox_out_const(c, 0, k);
}
