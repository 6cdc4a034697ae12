/*
 * test_ops_nn.c - the neural-network ops' CPU kernels against the double-precision reference,
 * walking the case table in tests/support/nn_cases.c; shape inference's error cases; the op
 * definitions' attribute specs and counters; in-place use of the kernels that allow it.
 */
#include <cblas.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "activation.h"
#include "conv.h"
#include "graph.h"
#include "norm.h"
#include "ref_nn.h"
#include "softmax.h"
#include "test_support.h"

/* Every result must be within 1e-5 of max(|want|, rms(want)): relative, except where a sum
 * cancels to near zero. NaN never passes. */
#define NN_RTOL 1e-5

typedef struct nn_buffers {
    float *x[SN_NCASE_MAX_INPUTS], *orig[SN_NCASE_MAX_INPUTS];
    double *dx[SN_NCASE_MAX_INPUTS];
    double *want;
    float *y;
    void *scratch;
} nn_buffers;

static void buffers_free(nn_buffers *b) {
    for (int i = 0; i < SN_NCASE_MAX_INPUTS; i++) {
        free(b->x[i]);
        free(b->orig[i]);
        free(b->dx[i]);
    }
    free(b->want);
    free(b->y);
    free(b->scratch);
}

/* Runs the kernel once at `threads` into a NaN-filled output and compares. Returns true when it
 * matched. */
static bool run_and_compare(const sn_nn_case *c, const sn_node *node, const sn_value *in,
                            sn_value *out, nn_buffers *b, int threads) {
    const sn_op_def *def = sn_op_get(c->op);
    size_t ny = (size_t)sn_value_numel(out);
    for (size_t i = 0; i < ny; i++) b->y[i] = NAN;
    size_t sbytes = def->cpu_scratch ? def->cpu_scratch(node, in, out, threads) : 0;
    free(b->scratch);
    b->scratch = NULL;
    /* exactly the bytes asked for, so ASan sees any overrun */
    if (sbytes && posix_memalign(&b->scratch, 64, sbytes) != 0) {
        cr_expect_fail("%s: cannot allocate %zu bytes of scratch", c->name, sbytes);
        return false;
    }
    sn_cpu_ctx ctx = {.threads = threads, .scratch = b->scratch, .scratch_bytes = sbytes};
    sn_error err = {0};
    out->data = b->y;
    sn_status s = def->cpu_run(&ctx, node, in, out, &err);
    out->data = NULL;
    if (s != SN_OK) {
        cr_expect_fail("%s (threads %d): cpu_run: %s", c->name, threads, err.message);
        return false;
    }
    double ss = 0;
    for (size_t i = 0; i < ny; i++) ss += b->want[i] * b->want[i];
    double rms = sqrt(ss / (double)ny);
    for (size_t i = 0; i < ny; i++) {
        double w = b->want[i], tol = NN_RTOL * fmax(fabs(w), rms);
        if (!(fabs((double)b->y[i] - w) <= tol)) {
            cr_expect_fail("%s (threads %d): y[%zu] = %.9g, want %.9g (tol %.3g)", c->name, threads,
                           i, (double)b->y[i], w, tol);
            return false;
        }
    }
    for (int i = 0; i < c->n_inputs; i++)
        if (b->x[i] &&
            memcmp(b->x[i], b->orig[i], (size_t)sn_value_numel(&in[i]) * sizeof(float))) {
            cr_expect_fail("%s (threads %d): input %d was modified", c->name, threads, i);
            return false;
        }
    return true;
}

static void check_case(const sn_nn_case *c, sn_rng *rng) {
    const sn_op_def *def = sn_op_get(c->op);
    sn_node node;
    int idx[SN_NCASE_MAX_INPUTS + 1];
    sn_value in[SN_NCASE_MAX_INPUTS], out[1] = {{0}};
    sn_shape shapes[SN_NCASE_MAX_INPUTS];
    nn_buffers b = {0};
    sn_nn_case_node(c, &node, idx);
    sn_nn_case_inputs(c, in);
    for (int i = 0; i < c->n_inputs; i++) {
        shapes[i] = c->in[i];
        if (!in[i].present) continue;
        size_t n = (size_t)sn_value_numel(&in[i]);
        b.x[i] = malloc(n * sizeof(float));
        b.orig[i] = malloc(n * sizeof(float));
        b.dx[i] = malloc(n * sizeof(double));
        cr_assert(b.x[i] && b.orig[i] && b.dx[i]);
        sn_nn_case_fill(c, i, rng, b.x[i], n);
        memcpy(b.orig[i], b.x[i], n * sizeof(float));
        for (size_t k = 0; k < n; k++) b.dx[i][k] = b.x[i][k];
        in[i].data = b.x[i];
    }
    sn_error err = {0};
    sn_status s = def->infer(&node, in, out, &err);
    if (s != SN_OK) {
        cr_expect_fail("%s: infer failed: %s", c->name, err.message);
        goto done;
    }
    sn_shape want_shape;
    if (sn_ref_nn_op(&node, c->n_inputs, shapes, (const double *const *)b.dx, &want_shape,
                     &b.want) != 0) {
        cr_expect_fail("%s: the reference rejects the case", c->name);
        goto done;
    }
    bool same = out[0].present && out[0].dtype == SN_DTYPE_F32 && out[0].rank == want_shape.rank;
    for (int k = 0; same && k < want_shape.rank; k++) same = out[0].d[k] == want_shape.d[k];
    if (!same) {
        char got[128], want[128];
        sn_shape gs = sn_shape_make(out[0].rank, out[0].d);
        cr_expect_fail("%s: inferred %s, reference %s", c->name,
                       sn_shape_format(&gs, false, got, sizeof got),
                       sn_shape_format(&want_shape, false, want, sizeof want));
        goto done;
    }
    if (def->flops) {
        double f = def->flops(&node, in, out);
        cr_expect(isfinite(f) && f >= (double)sn_value_numel(&out[0]), "%s: flops %g", c->name, f);
    }
    b.y = malloc((size_t)sn_value_numel(&out[0]) * sizeof(float));
    cr_assert(b.y);
    /* 0 and -1 must behave as one thread; 3 splits work unevenly over 2 cores */
    static const int thread_counts[] = {1, 3, 0, -1};
    for (int t = 0; t < 4; t++)
        if (!run_and_compare(c, &node, in, out, &b, thread_counts[t])) break;
done:
    buffers_free(&b);
}

/* Runs every case of the table whose op is in ops[]; fails if there is none. */
static void check_ops(const char *test, const sn_op *ops, int n_ops) {
    sn_rng rng;
    sn_rng_seed(&rng, sn_test_fresh_seed(test));
    int ran = 0;
    for (int i = 0; i < sn_nn_case_count; i++)
        for (int k = 0; k < n_ops; k++)
            if (sn_nn_cases[i].op == ops[k]) {
                check_case(&sn_nn_cases[i], &rng);
                ran++;
            }
    cr_assert_gt(ran, 0, "%s: no cases", test);
}

Test(nn_conv, cpu_vs_reference) {
    const sn_op ops[] = {SN_OP_CONV, SN_OP_FUSED_CONV};
    check_ops("nn_conv", ops, 2);
}

Test(nn_pool, cpu_vs_reference) {
    const sn_op ops[] = {SN_OP_MAX_POOL, SN_OP_AVG_POOL, SN_OP_GLOBAL_AVG_POOL};
    check_ops("nn_pool", ops, 3);
}

Test(nn_norm, cpu_vs_reference) {
    const sn_op ops[] = {SN_OP_BATCHNORM, SN_OP_BIAS_ADD};
    check_ops("nn_norm", ops, 2);
}

Test(nn_dense, cpu_vs_reference) {
    const sn_op ops[] = {SN_OP_MATMUL, SN_OP_GEMM};
    check_ops("nn_dense", ops, 2);
}

Test(nn_softmax, cpu_vs_reference) {
    const sn_op ops[] = {SN_OP_SOFTMAX};
    check_ops("nn_softmax", ops, 1);
}

Test(nn_errors, infer_rejects_with_the_node_named) {
    for (int i = 0; i < sn_nn_error_case_count; i++) {
        const sn_nn_case *c = &sn_nn_error_cases[i];
        sn_node node;
        int idx[SN_NCASE_MAX_INPUTS + 1];
        sn_value in[SN_NCASE_MAX_INPUTS], out[1] = {{0}};
        sn_nn_case_node(c, &node, idx);
        sn_nn_case_inputs(c, in);
        sn_error err = {0};
        sn_status s = sn_op_get(c->op)->infer(&node, in, out, &err);
        cr_expect_eq(s, c->expect, "%s: status %s, want %s (%s)", c->name, sn_status_string(s),
                     sn_status_string(c->expect), err.message);
        cr_expect(strstr(err.message, c->name) != NULL, "%s: message does not name the node: %s",
                  c->name, err.message);
        cr_expect(strstr(err.message, c->message) != NULL, "%s: message lacks \"%s\": %s",
                  c->name, c->message, err.message);
    }
}

/* Every table case uses only attributes its op declares; valid cases also use the declared type
 * and an arity the op accepts (error cases break those on purpose). Names round-trip through
 * the registry. */
static void check_specs(const sn_nn_case *cases, int count, bool strict) {
    for (int i = 0; i < count; i++) {
        const sn_nn_case *c = &cases[i];
        const sn_op_def *def = sn_op_get(c->op);
        cr_assert(def, "%s: no definition", c->name);
        cr_expect_eq(sn_op_from_name(def->name), c->op, "%s", c->name);
        if (strict)
            cr_expect(c->n_inputs >= def->min_inputs && c->n_inputs <= def->max_inputs,
                      "%s: %d inputs", c->name, c->n_inputs);
        for (int a = 0; a < c->n_attrs; a++) {
            const sn_attr_spec *sp = def->attrs;
            while (sp->name && strcmp(sp->name, c->attrs[a].name)) sp++;
            cr_expect(sp->name != NULL, "%s: attribute '%s' not declared by %s", c->name,
                      c->attrs[a].name, def->name);
            if (sp->name && strict)
                cr_expect_eq(sp->type, (int)c->attrs[a].type, "%s: attribute '%s' type", c->name,
                             c->attrs[a].name);
        }
    }
}

Test(nn_ops, table_matches_attribute_specs) {
    check_specs(sn_nn_cases, sn_nn_case_count, true);
    check_specs(sn_nn_error_cases, sn_nn_error_case_count, false);
}

static const sn_nn_case *find_case(const char *name) {
    for (int i = 0; i < sn_nn_case_count; i++)
        if (!strcmp(sn_nn_cases[i].name, name)) return &sn_nn_cases[i];
    cr_assert_fail("no case %s", name);
    return NULL;
}

/* scratch and flops of a case, from its definition */
static void case_counters(const char *name, size_t *scratch, double *flops) {
    const sn_nn_case *c = find_case(name);
    const sn_op_def *def = sn_op_get(c->op);
    sn_node node;
    int idx[SN_NCASE_MAX_INPUTS + 1];
    sn_value in[SN_NCASE_MAX_INPUTS], out[1] = {{0}};
    sn_nn_case_node(c, &node, idx);
    sn_nn_case_inputs(c, in);
    cr_assert_eq(def->infer(&node, in, out, NULL), SN_OK, "%s", name);
    *scratch = def->cpu_scratch ? def->cpu_scratch(&node, in, out, 2) : 0;
    *flops = def->flops ? def->flops(&node, in, out) : -1;
}

Test(nn_ops, conv_counters) {
    size_t sc;
    double fl;
    /* [2,5,9,11] * [7,5,3,3] pad 1 + bias: im2col of 45 rows x 99 columns, per image in
     * flight: with OpenBLAS's OpenMP build two threads run the batch's two images side by side
     * (kernels/cpu/conv.c), each with its own columns. */
    case_counters("conv_3x3_p1", &sc, &fl);
    const size_t side_by_side = openblas_get_parallel() == 2 ? 2 : 1;
    cr_expect_eq(sc, (size_t)45 * 99 * sizeof(float) * side_by_side);
    cr_expect_eq(fl, 2.0 * 2 * 7 * 99 * 45 + 2 * 7 * 99);
    case_counters("conv_1x1", &sc, &fl); /* pointwise: sgemm on the input itself */
    cr_expect_eq(sc, 0);
    case_counters("conv_dw_3x3", &sc, &fl); /* depthwise: a padded plane per thread */
    cr_expect_eq(fl, 2.0 * 2 * 12 * 143 * 9 + 2 * 12 * 143);
    const sn_nn_case *dw = find_case("conv_dw_3x3");
    sn_node node;
    int idx[SN_NCASE_MAX_INPUTS + 1];
    sn_value in[SN_NCASE_MAX_INPUTS], out[1] = {{0}};
    sn_nn_case_node(dw, &node, idx);
    sn_nn_case_inputs(dw, in);
    cr_assert_eq(sn_op_get(dw->op)->infer(&node, in, out, NULL), SN_OK);
    size_t s1 = sn_op_get(dw->op)->cpu_scratch(&node, in, out, 1);
    cr_expect(s1 >= 13 * 15 * sizeof(float), "%zu", s1);
    cr_expect_eq(sn_op_get(dw->op)->cpu_scratch(&node, in, out, 3), 3 * s1);
    cr_expect_eq(sn_op_get(dw->op)->cpu_scratch(&node, in, out, 0), s1);
    case_counters("conv_1x1_s2", &sc, &fl); /* strided 1x1 needs the gathered columns (batch 1) */
    cr_expect_eq(sc, (size_t)8 * 25 * sizeof(float));
    /* residual, bias and activation are one add each */
    case_counters("fused_relu_residual", &sc, &fl);
    cr_expect_eq(fl, 2.0 * 2 * 8 * 81 * 72 + 3.0 * 2 * 8 * 81);
    case_counters("gemm_classifier", &sc, &fl);
    cr_expect_eq(fl, 2.0 * 3 * 1000 * 512 + 3 * 1000);
    case_counters("matmul_batched", &sc, &fl);
    cr_expect_eq(fl, 2.0 * 3 * 4 * 5 * 6);
}

Test(nn_ops, conv_run_refuses_short_scratch) {
    const sn_nn_case *c = find_case("conv_3x3_p1");
    const sn_op_def *def = sn_op_get(c->op);
    sn_node node;
    int idx[SN_NCASE_MAX_INPUTS + 1];
    sn_value in[SN_NCASE_MAX_INPUTS], out[1] = {{0}};
    sn_nn_case_node(c, &node, idx);
    sn_nn_case_inputs(c, in);
    cr_assert_eq(def->infer(&node, in, out, NULL), SN_OK);
    float buf[16];
    sn_cpu_ctx ctx = {.threads = 1, .scratch = buf, .scratch_bytes = sizeof buf};
    sn_error err = {0};
    cr_expect_eq(def->cpu_run(&ctx, &node, in, out, &err), SN_ERR_INTERNAL);
    cr_expect(strstr(err.message, "conv_3x3_p1") != NULL, "%s", err.message);
}

/* The kernels documented as in-place safe give the same bits in place as out of place. */
Test(nn_kernels, in_place_matches_out_of_place) {
    sn_rng rng;
    sn_rng_seed(&rng, sn_test_fresh_seed("nn_kernels.in_place"));
    enum { N = 2, C = 5, INNER = 301 };
    float x[N * C * INNER], y[N * C * INNER], v[4][C];
    for (int kernel = 0; kernel < 4; kernel++) {
        sn_rng_fill(&rng, x, N * C * INNER, -3.0f, 3.0f);
        sn_rng_fill(&rng, &v[0][0], 3 * C, -1.0f, 1.0f);
        sn_rng_fill(&rng, v[3], C, 0.1f, 2.0f);
        for (int pass = 0; pass < 2; pass++) {
            float *dst = pass ? x : y;
            switch (kernel) {
            case 0:
                sn_cpu_batchnorm_f32(x, N, C, INNER, v[0], v[1], v[2], v[3], 1e-5f, dst, 2);
                break;
            case 1: sn_cpu_bias_add_f32(x, N, C, INNER, v[0], dst, 2); break;
            case 2: sn_cpu_softmax_f32(x, N, C, INNER, dst, 2); break; /* column blocks */
            default: sn_cpu_softmax_f32(x, N * C, INNER, 1, dst, 2); break; /* rows */
            }
        }
        cr_expect(memcmp(x, y, sizeof x) == 0, "kernel %d differs in place", kernel);
    }
}

/* The epilogue the conv and dense kernels share: one pass, any length, every activation. */
Test(nn_kernels, bias_act_epilogue) {
    sn_rng rng;
    sn_rng_seed(&rng, sn_test_fresh_seed("nn_kernels.bias_act"));
    enum { LEN = 1031 };
    float y[LEN], y0[LEN], z[LEN];
    for (int act = 0; act < SN_ACT_COUNT; act++) {
        sn_rng_fill(&rng, y0, LEN, -4.0f, 4.0f);
        sn_rng_fill(&rng, z, LEN, -4.0f, 4.0f);
        memcpy(y, y0, sizeof y);
        sn_cpu_bias_act_f32(y, LEN, 0.25f, act % 2 ? z : NULL, -0.5f, (sn_activation)act, 0.1f,
                            0.9f);
        for (int i = 0; i < LEN; i++) {
            float pre = y0[i] + (0.25f + (act % 2 ? -0.5f * z[i] : 0.0f));
            float want = sn_activate(pre, (sn_activation)act, 0.1f, 0.9f);
            cr_expect(fabsf(y[i] - want) <= 1e-6f * fmaxf(1.0f, fabsf(want)),
                      "act %d: y[%d] = %g, want %g", act, i, (double)y[i], (double)want);
            if (fabsf(y[i] - want) > 1e-6f * fmaxf(1.0f, fabsf(want))) break;
        }
    }
}

/* The definitions inside a graph: validation accepts their attributes, inference chains them at
 * batch 1 and 2, and an error names the node. */
static int add_const(sn_graph *g, const char *name, int rank, const int64_t *d, sn_rng *r) {
    sn_shape s = sn_shape_make(rank, d);
    size_t n = (size_t)sn_shape_numel(&s);
    float *v = malloc(n * sizeof(float));
    cr_assert(v);
    sn_rng_fill(r, v, n, 0.5f, 1.5f);
    int idx = -1;
    cr_assert_eq(sn_graph_add_const(g, name, SN_DTYPE_F32, &s, v, n * sizeof(float), true, &idx),
                 SN_OK);
    free(v);
    return idx;
}

static int add_act(sn_graph *g, const char *name) {
    int idx = -1;
    cr_assert_eq(sn_graph_add_tensor(g, name, SN_DTYPE_F32, NULL, &idx), SN_OK);
    return idx;
}

Test(nn_graph, definitions_chain_in_a_graph) {
    sn_rng rng;
    sn_rng_seed(&rng, sn_test_fresh_seed("nn_graph"));
    for (int bad = 0; bad < 2; bad++) {
        sn_graph *g = NULL;
        sn_error err = {0};
        cr_assert_eq(sn_graph_create(&g), SN_OK);
        sn_shape xs = sn_shape_make(4, (const int64_t[]){SN_DIM_BATCH, 3, 15, 15});
        int x = -1;
        cr_assert_eq(sn_graph_add_tensor(g, "x", SN_DTYPE_F32, &xs, &x), SN_OK);
        cr_assert_eq(sn_graph_add_input(g, x), SN_OK);
        int w = add_const(g, "w", 4, (const int64_t[]){8, 3, 3, 3}, &rng);
        int cv[4] = {add_const(g, "s", 1, (const int64_t[]){8}, &rng),
                     add_const(g, "b", 1, (const int64_t[]){8}, &rng),
                     add_const(g, "m", 1, (const int64_t[]){8}, &rng),
                     add_const(g, "v", 1, (const int64_t[]){8}, &rng)};
        int c1 = add_act(g, "c1"), b1 = add_act(g, "b1"), p1 = add_act(g, "p1");
        int gp = add_act(g, "gp"), y = add_act(g, "y");
        sn_attr conv_attrs[] = {sn_attr_ints("strides", (const int64_t[]){2, 2}, 2),
                                sn_attr_ints("pads", (const int64_t[]){1, 1, 1, 1}, 4),
                                sn_attr_int("group", bad ? 2 : 1),
                                sn_attr_int("activation", SN_ACT_RELU)};
        sn_attr pool_attrs[] = {sn_attr_ints("kernel_shape", (const int64_t[]){3, 3}, 2),
                                sn_attr_ints("strides", (const int64_t[]){2, 2}, 2),
                                sn_attr_ints("pads", (const int64_t[]){1, 1, 1, 1}, 4),
                                sn_attr_int("ceil_mode", 1)};
        sn_attr sm_attrs[] = {sn_attr_int("axis", 1)};
        int bn_in[5] = {c1, cv[0], cv[1], cv[2], cv[3]};
        cr_assert_eq(sn_graph_add_node(g, SN_OP_FUSED_CONV, "stem", (const int[]){x, w}, 2, &c1, 1,
                                       conv_attrs, 4, NULL), SN_OK);
        cr_assert_eq(sn_graph_add_node(g, SN_OP_BATCHNORM, "bn", bn_in, 5, &b1, 1, NULL, 0, NULL),
                     SN_OK);
        cr_assert_eq(sn_graph_add_node(g, SN_OP_MAX_POOL, "pool", &b1, 1, &p1, 1, pool_attrs, 4,
                                       NULL), SN_OK);
        cr_assert_eq(sn_graph_add_node(g, SN_OP_GLOBAL_AVG_POOL, "gap", &p1, 1, &gp, 1, NULL, 0,
                                       NULL), SN_OK);
        cr_assert_eq(sn_graph_add_node(g, SN_OP_SOFTMAX, "prob", &gp, 1, &y, 1, sm_attrs, 1, NULL),
                     SN_OK);
        cr_assert_eq(sn_graph_add_output(g, y), SN_OK);
        cr_expect_eq(sn_graph_validate(g, &err), SN_OK, "%s", err.message);
        sn_status s = sn_graph_infer_shapes(g, &err);
        if (bad) {
            cr_expect_eq(s, SN_ERR_SHAPE);
            cr_expect(strstr(err.message, "'stem'") != NULL, "%s", err.message);
        } else {
            cr_expect_eq(s, SN_OK, "%s", err.message);
            /* 15 -> conv s2 p1: 8 -> maxpool 3/2 p1 ceil: 5 */
            sn_shape want = sn_shape_make(4, (const int64_t[]){1, 8, 5, 5});
            cr_expect(sn_shape_equal(&g->tensors[p1].shape, &want));
            cr_expect(g->tensors[y].flags & SN_TENSOR_BATCHED);
            cr_expect_eq(g->tensors[y].shape.d[1], 8);
        }
        sn_graph_destroy(g);
    }
}
