/*
 * shape_ops.c - op definitions of Concat, Flatten, Reshape and Transpose. They move data and
 * never look at it, so they accept every dtype. Inference runs again for each batch size (the
 * runtime re-infers concrete shapes per run), so Reshape's 0 ("copy this input dim") and -1
 * ("whatever is left") are resolved here against the actual input every time.
 */
#include "shape_ops.h"

#include "elementwise.h"
#include "tensor_op_util.h"

#define SN__CONCAT_MAX_INPUTS 4096
#define SN__CONCAT_GROUP 32 /* inputs handed to the kernel per call (stack arrays) */

static const sn_attr_spec sn__concat_attrs[] = {{"axis", SN_ATTR_INT}, {NULL, 0}};
static const sn_attr_spec sn__flatten_attrs[] = {{"axis", SN_ATTR_INT}, {NULL, 0}};
static const sn_attr_spec sn__reshape_attrs[] = {{"shape", SN_ATTR_INTS}, {NULL, 0}};
static const sn_attr_spec sn__transpose_attrs[] = {{"perm", SN_ATTR_INTS}, {NULL, 0}};

/* Product of dims with overflow detection (int64). */
static bool sn__prod(const int64_t *d, int from, int to, int64_t *out) {
    int64_t p = 1;
    for (int i = from; i < to; i++)
        if (__builtin_mul_overflow(p, d[i], &p)) return false;
    *out = p;
    return true;
}

static double sn__no_flops(const sn_node *n, const sn_value *in, const sn_value *out) {
    (void)n;
    (void)in;
    (void)out;
    return 0.0; /* pure data movement */
}

/* Reshape and Flatten: the bytes are unchanged. */
static sn_status sn__copy_run(const sn_cpu_ctx *ctx, const sn_node *n, const sn_value *in,
                              sn_value *out, sn_error *err) {
    (void)n;
    (void)err;
    sn_cpu_copy(in[0].data, out[0].data,
                (size_t)sn_value_numel(&in[0]) * sn_dtype_size(in[0].dtype), ctx->threads);
    return SN_OK;
}

/* --- Concat ----------------------------------------------------------------------------- */

static sn_status sn__concat_infer(const sn_node *n, const sn_value *in, sn_value *out,
                                  sn_error *err) {
    sn_status st;
    char a[160], b[160];
    for (int i = 0; i < n->n_inputs; i++)
        if ((st = sn__check_input(n, in, i, err)) != SN_OK) return st;
    const int r = in[0].rank;
    if (!sn_node_attr(n, "axis"))
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, SN__NODE_FMT ": attribute 'axis' is required",
                         SN__NODE_ARGS(n));
    int64_t axis = sn_node_attr_int(n, "axis", 0);
    if (r == 0 || axis < -r || axis >= r)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         SN__NODE_FMT ": axis %lld is out of range for rank %d inputs",
                         SN__NODE_ARGS(n), (long long)axis, r);
    if (axis < 0) axis += r;
    out[0].dtype = in[0].dtype;
    out[0].rank = r;
    for (int k = 0; k < r; k++) out[0].d[k] = in[0].d[k];
    for (int i = 1; i < n->n_inputs; i++) {
        if (in[i].dtype != in[0].dtype)
            return sn_errorf(err, SN_ERR_UNSUPPORTED, SN__NODE_FMT ": input %d is %s but input 0 is %s",
                             SN__NODE_ARGS(n), i, sn_dtype_name(in[i].dtype),
                             sn_dtype_name(in[0].dtype));
        bool ok = in[i].rank == r;
        for (int k = 0; ok && k < r; k++) ok = k == axis || in[i].d[k] == in[0].d[k];
        if (!ok)
            return sn_errorf(err, SN_ERR_SHAPE,
                             SN__NODE_FMT ": input %d has shape %s, which does not match input 0 "
                             "%s outside axis %lld",
                             SN__NODE_ARGS(n), i, sn__dims_str(in[i].d, in[i].rank, a, sizeof a),
                             sn__dims_str(in[0].d, r, b, sizeof b), (long long)axis);
        out[0].d[axis] += in[i].d[axis];
    }
    return SN_OK;
}

static sn_status sn__concat_run(const sn_cpu_ctx *ctx, const sn_node *n, const sn_value *in,
                                sn_value *out, sn_error *err) {
    (void)err;
    const int r = out[0].rank;
    int64_t axis = sn_node_attr_int(n, "axis", 0);
    if (axis < 0) axis += r;
    int64_t outer = 1, inner = 1, offset = 0;
    for (int k = 0; k < axis; k++) outer *= out[0].d[k];
    for (int k = (int)axis + 1; k < r; k++) inner *= out[0].d[k];
    const size_t esize = sn_dtype_size(out[0].dtype);
    for (int g = 0; g < n->n_inputs; g += SN__CONCAT_GROUP) {
        const void *x[SN__CONCAT_GROUP];
        int64_t len[SN__CONCAT_GROUP], sum = 0;
        int cnt = n->n_inputs - g < SN__CONCAT_GROUP ? n->n_inputs - g : SN__CONCAT_GROUP;
        for (int i = 0; i < cnt; i++) {
            x[i] = in[g + i].data;
            len[i] = in[g + i].d[axis];
            sum += len[i];
        }
        sn_cpu_concat(cnt, x, len, outer, inner, esize, out[0].data, out[0].d[axis], offset,
                      ctx->threads);
        offset += sum;
    }
    return SN_OK;
}

/* --- Flatten ---------------------------------------------------------------------------- */

static sn_status sn__flatten_infer(const sn_node *n, const sn_value *in, sn_value *out,
                                   sn_error *err) {
    sn_status st = sn__check_input(n, in, 0, err);
    if (st != SN_OK) return st;
    const int r = in[0].rank;
    int64_t axis = sn_node_attr_int(n, "axis", 1);
    if (axis < -r || axis > r)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         SN__NODE_FMT ": axis %lld is out of range for a rank %d input",
                         SN__NODE_ARGS(n), (long long)axis, r);
    if (axis < 0) axis += r;
    out[0].dtype = in[0].dtype;
    out[0].rank = 2;
    if (!sn__prod(in[0].d, 0, (int)axis, &out[0].d[0]) ||
        !sn__prod(in[0].d, (int)axis, r, &out[0].d[1]))
        return sn_errorf(err, SN_ERR_SHAPE, SN__NODE_FMT ": element count overflows",
                         SN__NODE_ARGS(n));
    return SN_OK;
}

/* --- Reshape ---------------------------------------------------------------------------- */

static sn_status sn__reshape_infer(const sn_node *n, const sn_value *in, sn_value *out,
                                   sn_error *err) {
    sn_status st = sn__check_input(n, in, 0, err);
    if (st != SN_OK) return st;
    char a[160], b[160];
    int cnt = 0;
    const int64_t *shape = sn_node_attr_ints(n, "shape", &cnt);
    if (!shape && !sn_node_attr(n, "shape"))
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, SN__NODE_FMT ": attribute 'shape' is required",
                         SN__NODE_ARGS(n));
    if (cnt < 0 || cnt > SN_MAX_RANK)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, SN__NODE_FMT ": shape has %d dims (max %d)",
                         SN__NODE_ARGS(n), cnt, SN_MAX_RANK);
    int64_t in_numel, known = 1;
    if (!sn__prod(in[0].d, 0, in[0].rank, &in_numel))
        return sn_errorf(err, SN_ERR_SHAPE, SN__NODE_FMT ": element count overflows",
                         SN__NODE_ARGS(n));
    int infer_at = -1;
    for (int i = 0; i < cnt; i++) {
        int64_t v = shape[i];
        if (v == 0) {
            if (i >= in[0].rank)
                return sn_errorf(err, SN_ERR_SHAPE,
                                 SN__NODE_FMT ": shape[%d] is 0 (copy input dim) but the input "
                                 "%s has rank %d",
                                 SN__NODE_ARGS(n), i, sn__dims_str(in[0].d, in[0].rank, a, sizeof a),
                                 in[0].rank);
            v = in[0].d[i];
        } else if (v == -1) {
            if (infer_at >= 0)
                return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                                 SN__NODE_FMT ": shape has more than one -1 (dims %d and %d)",
                                 SN__NODE_ARGS(n), infer_at, i);
            infer_at = i;
            continue;
        } else if (v < -1) {
            return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, SN__NODE_FMT ": shape[%d] is %lld",
                             SN__NODE_ARGS(n), i, (long long)v);
        }
        out[0].d[i] = v;
        if (__builtin_mul_overflow(known, v, &known))
            return sn_errorf(err, SN_ERR_SHAPE, SN__NODE_FMT ": element count overflows",
                             SN__NODE_ARGS(n));
    }
    if (infer_at >= 0) {
        if (known == 0 || in_numel % known != 0) {
            out[0].d[infer_at] = -1;
            return sn_errorf(err, SN_ERR_SHAPE,
                             SN__NODE_FMT ": cannot reshape %s (%lld elements) to %s: the -1 "
                             "dim cannot be inferred",
                             SN__NODE_ARGS(n), sn__dims_str(in[0].d, in[0].rank, a, sizeof a),
                             (long long)in_numel, sn__dims_str(out[0].d, cnt, b, sizeof b));
        }
        out[0].d[infer_at] = in_numel / known;
    } else if (known != in_numel) {
        return sn_errorf(err, SN_ERR_SHAPE,
                         SN__NODE_FMT ": cannot reshape %s (%lld elements) to %s (%lld elements)",
                         SN__NODE_ARGS(n), sn__dims_str(in[0].d, in[0].rank, a, sizeof a),
                         (long long)in_numel, sn__dims_str(out[0].d, cnt, b, sizeof b),
                         (long long)known);
    }
    out[0].dtype = in[0].dtype;
    out[0].rank = cnt;
    return SN_OK;
}

/* --- Transpose -------------------------------------------------------------------------- */

/* The permutation of a node for a rank-r input (default: reversed); false if invalid. */
static bool sn__perm(const sn_node *n, int r, int *perm, int *count) {
    const int64_t *p = sn_node_attr_ints(n, "perm", count);
    if (!p && !sn_node_attr(n, "perm")) {
        *count = r;
        for (int i = 0; i < r; i++) perm[i] = r - 1 - i;
        return true;
    }
    if (*count != r) return false;
    bool seen[SN_MAX_RANK] = {false};
    for (int i = 0; i < r; i++) {
        if (p[i] < 0 || p[i] >= r || seen[p[i]]) return false;
        seen[p[i]] = true;
        perm[i] = (int)p[i];
    }
    return true;
}

static sn_status sn__transpose_infer(const sn_node *n, const sn_value *in, sn_value *out,
                                     sn_error *err) {
    sn_status st = sn__check_input(n, in, 0, err);
    if (st != SN_OK) return st;
    const int r = in[0].rank;
    int perm[SN_MAX_RANK], cnt = 0;
    if (!sn__perm(n, r, perm, &cnt)) {
        int shown = 0;
        const int64_t *p = sn_node_attr_ints(n, "perm", &shown);
        char a[160];
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         SN__NODE_FMT ": perm %s is not a permutation of 0..%d for a rank %d input",
                         SN__NODE_ARGS(n), sn__dims_str(p, shown > SN_MAX_RANK ? SN_MAX_RANK : shown,
                                                        a, sizeof a),
                         r - 1, r);
    }
    out[0].dtype = in[0].dtype;
    out[0].rank = r;
    for (int i = 0; i < r; i++) out[0].d[i] = in[0].d[perm[i]];
    return SN_OK;
}

static sn_status sn__transpose_run(const sn_cpu_ctx *ctx, const sn_node *n, const sn_value *in,
                                   sn_value *out, sn_error *err) {
    int perm[SN_MAX_RANK], cnt = 0;
    if (!sn__perm(n, in[0].rank, perm, &cnt))
        return sn_errorf(err, SN_ERR_INTERNAL, SN__NODE_FMT ": invalid perm", SN__NODE_ARGS(n));
    sn_cpu_transpose(in[0].data, in[0].rank, in[0].d, perm, sn_dtype_size(in[0].dtype),
                     out[0].data, ctx->threads);
    return SN_OK;
}

/* --- definitions ------------------------------------------------------------------------ */

#define SN__SHAPE_DEF(suffix, opname, maxin, attr_list, infer_fn, run_fn)                       \
    const sn_op_def sn_op_def_##suffix = {                                                      \
        .name = opname,                                                                         \
        .min_inputs = 1,                                                                        \
        .max_inputs = maxin,                                                                    \
        .n_outputs = 1,                                                                         \
        .attrs = attr_list,                                                                     \
        .infer = infer_fn,                                                                      \
        .cpu_run = run_fn,                                                                      \
        .flops = sn__no_flops,                                                                  \
    };

SN__SHAPE_DEF(concat, "Concat", SN__CONCAT_MAX_INPUTS, sn__concat_attrs, sn__concat_infer,
              sn__concat_run)
SN__SHAPE_DEF(flatten, "Flatten", 1, sn__flatten_attrs, sn__flatten_infer, sn__copy_run)
SN__SHAPE_DEF(reshape, "Reshape", 1, sn__reshape_attrs, sn__reshape_infer, sn__copy_run)
SN__SHAPE_DEF(transpose, "Transpose", 1, sn__transpose_attrs, sn__transpose_infer,
              sn__transpose_run)
