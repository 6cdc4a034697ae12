/*
 * codegen_layout.c - code generation for data movement: Concat (one copy kernel per input),
 * Transpose and Slice (one strided gather, layout.cu), and Pad.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen_util.h"
#if __has_include("slice.h")
#include "slice.h"
#endif

/* --- data movement ------------------------------------------------------------------------- */

sn_status sn__cg_gen_concat(const sn_cuda_codegen_ctx *ctx, const sn_node *n, sn_cuda_kernel *ks,
                            sn_error *err) {
    int y = n->outputs[0];
    const sn_shape *ys = sn__cg_shape(ctx, y);
    int64_t axis = sn_node_attr_int(n, "axis", 0);
    if (axis < 0) axis += ys->rank;
    bool batched = sn__cg_batched(ctx, y);
    if (batched && axis == 0)
        return sn_errorf(err, SN_ERR_UNSUPPORTED,
                         "Concat node '%s' joins along the batch axis, which the GPU kernels "
                         "do not do",
                         sn__cg_node_name(n));
    int64_t outer = 1, inner = 1, offset = 0;
    for (int i = 0; i < axis; i++) outer *= ys->d[i];
    for (int i = (int)axis + 1; i < ys->rank; i++) inner *= ys->d[i];
    for (int i = 0; i < n->n_inputs; i++) {
        int x = n->inputs[i];
        int64_t len = sn__cg_shape(ctx, x)->d[axis];
        sn_cuda_kernel *k = &ks[i];
        sn__src s;
        sn__cg_kernel_begin(k, &s, ctx, "concat.cu", "sn_concat_part", sn__cg_max_elems(ctx, y),
                            "node '%s' (Concat part %d)", sn__cg_node_name(n), i);
        sn__cg_def_int(&s, "SN_BATCHED", batched);
        sn__cg_def_int(&s, "SN_OUTER", outer);
        sn__cg_def_int(&s, "SN_CHUNK", len * inner);
        sn__cg_def_int(&s, "SN_YCHUNK", ys->d[axis] * inner);
        sn__cg_def_int(&s, "SN_OFFSET", offset * inner);
        sn__cg_def_int(&s, "SN_THREADS", SN__THREADS);
        sn__cg_arg(k, SN_CUDA_ARG_BATCH, 0);
        sn__cg_arg(k, SN_CUDA_ARG_INPUT, i);
        sn__cg_arg(k, SN_CUDA_ARG_OUTPUT, 0);
        if (batched)
            sn__cg_grid_1d(k, outer * len * inner, 0, SN__THREADS);
        else
            sn__cg_grid_1d(k, 0, outer * len * inner, SN__THREADS);
        sn_status st = sn__cg_kernel_end(k, &s, err);
        if (st != SN_OK) return st;
        offset += len;
    }
    return SN_OK;
}

/* Row-major strides of a shape. */
static void sn__strides(const sn_shape *s, int64_t *st) {
    int64_t acc = 1;
    for (int i = s->rank - 1; i >= 0; i--) {
        st[i] = acc;
        acc *= s->d[i];
    }
}

/* The strided gather behind Transpose and Slice (layout.cu). */
static sn_status sn__gen_gather(const sn_cuda_codegen_ctx *ctx, const sn_node *n,
                                const int64_t *dims, int rank, int ndim, const int64_t *strides,
                                int64_t base, sn_cuda_kernel *k, sn_error *err) {
    int y = n->outputs[0], nd;
    int64_t per = sn__cg_per(ctx, y, &nd);
    int64_t one[1] = {1}, zero[1] = {0};
    sn__src s;
    int64_t elems = sn__cg_max_elems(ctx, y);
    if (sn__cg_max_elems(ctx, n->inputs[0]) > elems) elems = sn__cg_max_elems(ctx, n->inputs[0]);
    sn__cg_kernel_begin(k, &s, ctx, "layout.cu", "sn_gather", elems, "node '%s' (%s)",
                        sn__cg_node_name(n), sn_op_name(n->op));
    sn__cg_def_int(&s, "SN_RANK", rank ? rank : 1);
    sn__cg_def_list(&s, "SN_DIMS", rank ? dims : one, rank ? rank : 1);
    sn__cg_def_list(&s, "SN_STRIDES", rank ? strides : zero, rank ? rank : 1);
    sn__cg_def_int(&s, "SN_NDIM", ndim);
    sn__cg_def_int(&s, "SN_BASE", base);
    sn__cg_def_int(&s, "SN_PER", per);
    sn__cg_def_int(&s, "SN_THREADS", SN__THREADS);
    sn__cg_arg(k, SN_CUDA_ARG_BATCH, 0);
    sn__cg_arg(k, SN_CUDA_ARG_INPUT, 0);
    sn__cg_arg(k, SN_CUDA_ARG_OUTPUT, 0);
    sn__cg_grid_over(k, ctx, y);
    return sn__cg_kernel_end(k, &s, err);
}

sn_status sn__cg_gen_transpose(const sn_cuda_codegen_ctx *ctx, const sn_node *n, sn_cuda_kernel *k,
                               sn_error *err) {
    int x = n->inputs[0], y = n->outputs[0];
    const sn_shape *xs = sn__cg_shape(ctx, x), *ys = sn__cg_shape(ctx, y);
    int64_t perm[SN_MAX_RANK], ist[SN_MAX_RANK], st[SN_MAX_RANK];
    int cnt = 0;
    const int64_t *p = sn_node_attr_ints(n, "perm", &cnt);
    for (int i = 0; i < xs->rank; i++) perm[i] = p && cnt == xs->rank ? p[i] : xs->rank - 1 - i;
    sn__strides(xs, ist);
    int ndim = -1;
    for (int i = 0; i < xs->rank; i++) {
        st[i] = ist[perm[i]];
        if (sn__cg_batched(ctx, x) && perm[i] == 0) ndim = i;
    }
    if (ndim > 0 && ys->d[ndim] != 1)
        return sn_errorf(err, SN_ERR_UNSUPPORTED,
                         "Transpose node '%s': batch axis is not 1 at "
                         "batch 1",
                         sn__cg_node_name(n));
    if (ndim > 0)
        return sn_errorf(err, SN_ERR_UNSUPPORTED,
                         "Transpose node '%s' moves the batch axis, which the GPU kernels do "
                         "not do",
                         sn__cg_node_name(n));
    return sn__gen_gather(ctx, n, ys->d, ys->rank, ndim, st, 0, k, err);
}

#ifdef SN__HAVE_SLICE
sn_status sn__cg_gen_slice(const sn_cuda_codegen_ctx *ctx, const sn_node *n, sn_cuda_kernel *k,
                           sn_error *err) {
    int x = n->inputs[0], y = n->outputs[0];
    const sn_shape *xs = sn__cg_shape(ctx, x), *ys = sn__cg_shape(ctx, y);
    int ns = 0, ne = 0, na = 0, nst = 0;
    const int64_t *starts = sn_node_attr_ints(n, "starts", &ns);
    const int64_t *ends = sn_node_attr_ints(n, "ends", &ne);
    if (ne != ns)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         "Slice node '%s': starts and "
                         "ends differ in length",
                         sn__cg_node_name(n));
    const int64_t *axes = sn_node_attr_ints(n, "axes", &na);
    const int64_t *steps = sn_node_attr_ints(n, "steps", &nst);
    int64_t first[SN_MAX_RANK], step[SN_MAX_RANK], len[SN_MAX_RANK], ist[SN_MAX_RANK],
        st[SN_MAX_RANK], base = 0;
    for (int i = 0; i < xs->rank; i++) {
        first[i] = 0;
        step[i] = 1;
        len[i] = xs->d[i];
    }
    /* The op definition validated the attributes (graph/ops/slice.c); this only applies them. */
    for (int i = 0; starts && ends && i < ns; i++) {
        int64_t a = axes && na == ns ? axes[i] : i;
        if (a < 0) a += xs->rank;
        int64_t sp = steps && nst == ns ? steps[i] : 1;
        if (a < 0 || a >= xs->rank || sp == 0)
            return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "Slice node '%s': bad axis or step",
                             sn__cg_node_name(n));
        if (a == 0 && sn__cg_batched(ctx, x))
            return sn_errorf(err, SN_ERR_UNSUPPORTED,
                             "Slice node '%s' slices the batch axis, which the GPU kernels do "
                             "not do",
                             sn__cg_node_name(n));
        step[a] = sp;
        sn_slice_axis(xs->d[a], starts[i], ends[i], sp, &first[a], &len[a]);
        if (len[a] == 0) first[a] = 0;
    }
    sn__strides(xs, ist);
    for (int i = 0; i < xs->rank; i++) {
        st[i] = step[i] * ist[i];
        base += first[i] * ist[i];
    }
    return sn__gen_gather(ctx, n, ys->d, ys->rank, sn__cg_batched(ctx, x) ? 0 : -1, st, base, k,
                          err);
}
#endif

sn_status sn__cg_gen_pad(const sn_cuda_codegen_ctx *ctx, const sn_node *n, sn_cuda_kernel *k,
                         sn_error *err) {
    int x = n->inputs[0], y = n->outputs[0], nd;
    const sn_shape *xs = sn__cg_shape(ctx, x), *ys = sn__cg_shape(ctx, y);
    int cnt = 0;
    const int64_t *pads = sn_node_attr_ints(n, "pads", &cnt);
    if (!pads || cnt != 2 * xs->rank || xs->rank < 1)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "Pad node '%s': bad pads",
                         sn__cg_node_name(n));
    if (sn__cg_batched(ctx, x) && (pads[0] || pads[xs->rank]))
        return sn_errorf(err, SN_ERR_UNSUPPORTED,
                         "Pad node '%s' pads the batch axis, which the GPU kernels do not do",
                         sn__cg_node_name(n));
    int64_t ist[SN_MAX_RANK];
    sn__strides(xs, ist);
    int64_t per = sn__cg_per(ctx, y, &nd);
    sn__src s;
    sn__cg_kernel_begin(k, &s, ctx, "pad.cu", "sn_pad", sn__cg_max_elems(ctx, y), "node '%s' (Pad)",
                        sn__cg_node_name(n));
    sn__cg_def_int(&s, "SN_RANK", xs->rank);
    sn__cg_def_list(&s, "SN_ODIMS", ys->d, xs->rank);
    sn__cg_def_list(&s, "SN_IDIMS", xs->d, xs->rank);
    sn__cg_def_list(&s, "SN_ISTR", ist, xs->rank);
    sn__cg_def_list(&s, "SN_BEGIN", pads, xs->rank);
    sn__cg_def_int(&s, "SN_NDIM", nd);
    sn__cg_def_int(&s, "SN_PER", per);
    sn__cg_def_int(&s, "SN_MODE", sn_node_attr_int(n, "mode", 0));
    sn__cg_def_float(&s, "SN_VALUE", sn_node_attr_float(n, "value", 0.0f));
    sn__cg_def_int(&s, "SN_THREADS", SN__THREADS);
    sn__cg_arg(k, SN_CUDA_ARG_BATCH, 0);
    sn__cg_arg(k, SN_CUDA_ARG_INPUT, 0);
    sn__cg_arg(k, SN_CUDA_ARG_OUTPUT, 0);
    sn__cg_grid_over(k, ctx, y);
    return sn__cg_kernel_end(k, &s, err);
}
