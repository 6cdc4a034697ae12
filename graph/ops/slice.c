/*
 * slice.c - op definition of Slice (ONNX semantics, any dtype): attrs starts and ends (required,
 * one per sliced axis), axes (default 0..n-1; negative counts from the end) and steps (default
 * 1; never 0, negative walks backwards). Starts and ends are clamped to the dim as ONNX does, and
 * resolved again for every batch size, so an end of INT64_MAX on the batch axis means "all".
 * Added for the ONNX importer (Split, and Slice on activations); kernel in kernels/cpu/slice.c.
 */
#include "slice.h"

#include "tensor_op_util.h"

static const sn_attr_spec sn__slice_attrs[] = {{"starts", SN_ATTR_INTS},
                                               {"ends", SN_ATTR_INTS},
                                               {"axes", SN_ATTR_INTS},
                                               {"steps", SN_ATTR_INTS},
                                               {NULL, 0}};

/* First index and step of every input dim, and the output dims. */
static sn_status sn__slice_plan(const sn_node *n, const sn_value *x, int64_t *first,
                                int64_t *step, int64_t *yd, sn_error *err) {
    const int r = x->rank;
    int ns = 0, ne = 0, na = 0, nst = 0;
    const int64_t *starts = sn_node_attr_ints(n, "starts", &ns);
    const int64_t *ends = sn_node_attr_ints(n, "ends", &ne);
    const int64_t *axes = sn_node_attr_ints(n, "axes", &na);
    const int64_t *steps = sn_node_attr_ints(n, "steps", &nst);
    bool has_axes = sn_node_attr(n, "axes") != NULL, has_steps = sn_node_attr(n, "steps") != NULL;
    if (!sn_node_attr(n, "starts") || !sn_node_attr(n, "ends"))
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         SN__NODE_FMT ": attributes 'starts' and 'ends' are required",
                         SN__NODE_ARGS(n));
    if (ns != ne || ns > r || (has_axes && na != ns) || (has_steps && nst != ns))
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         SN__NODE_FMT ": starts (%d), ends (%d), axes (%d) and steps (%d) must "
                         "have one value per sliced axis, at most the rank %d",
                         SN__NODE_ARGS(n), ns, ne, has_axes ? na : ns, has_steps ? nst : ns, r);
    bool seen[SN_MAX_RANK] = {false};
    for (int k = 0; k < r; k++) {
        first[k] = 0;
        step[k] = 1;
        yd[k] = x->d[k];
    }
    for (int i = 0; i < ns; i++) {
        int64_t a = has_axes ? axes[i] : i;
        int64_t st = has_steps ? steps[i] : 1;
        if (a < -r || a >= r || seen[a < 0 ? a + r : a])
            return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                             SN__NODE_FMT ": axis %lld is out of range or repeated for rank %d",
                             SN__NODE_ARGS(n), (long long)a, r);
        if (a < 0) a += r;
        seen[a] = true;
        if (st == 0)
            return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, SN__NODE_FMT ": step %d is 0",
                             SN__NODE_ARGS(n), i);
        step[a] = st;
        sn_slice_axis(x->d[a], starts[i], ends[i], st, &first[a], &yd[a]);
        if (yd[a] == 0) first[a] = 0;
    }
    return SN_OK;
}

static sn_status sn__slice_infer(const sn_node *n, const sn_value *in, sn_value *out,
                                 sn_error *err) {
    sn_status st = sn__check_input(n, in, 0, err);
    if (st != SN_OK) return st;
    int64_t first[SN_MAX_RANK], step[SN_MAX_RANK];
    if ((st = sn__slice_plan(n, &in[0], first, step, out[0].d, err)) != SN_OK) return st;
    out[0].dtype = in[0].dtype;
    out[0].rank = in[0].rank;
    return SN_OK;
}

static sn_status sn__slice_run(const sn_cpu_ctx *ctx, const sn_node *n, const sn_value *in,
                               sn_value *out, sn_error *err) {
    int64_t first[SN_MAX_RANK], step[SN_MAX_RANK], yd[SN_MAX_RANK];
    sn_status st = sn__slice_plan(n, &in[0], first, step, yd, err);
    if (st != SN_OK) return st;
    sn_cpu_slice(in[0].data, in[0].rank, in[0].d, first, step, yd, sn_dtype_size(in[0].dtype),
                 out[0].data, ctx->threads);
    return SN_OK;
}

static double sn__slice_flops(const sn_node *n, const sn_value *in, const sn_value *out) {
    (void)n;
    (void)in;
    (void)out;
    return 0.0; /* data movement */
}

const sn_op_def sn_op_def_slice = {
    .name = "Slice",
    .min_inputs = 1,
    .max_inputs = 1,
    .n_outputs = 1,
    .attrs = sn__slice_attrs,
    .infer = sn__slice_infer,
    .cpu_run = sn__slice_run,
    .flops = sn__slice_flops,
};
