/*
 * test_ops_tensor.c - the elementwise and tensor-manipulation ops (activations, Add/Sub/Mul/Div,
 * Concat, Flatten, Reshape, Transpose, Pad, Resize) on the CPU: every case of the shared table
 * in tests/support/tensor_cases.c is run through infer and cpu_run exactly as the runtime calls
 * them and checked against the double-precision reference; the data-movement ops again with
 * 1-, 2- and 8-byte dtypes; the error table against infer's status and message.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activation.h"
#include "graph.h"
#include "ref_tensor.h"
#include "test_support.h"

/* Output buffers get this many guard elements, poisoned, after the end. */
#define GUARD 16

typedef struct run_buffers {
    sn_value in[SN_TCASE_MAX_INPUTS], out[1];
    void *scratch;
    size_t scratch_bytes;
} run_buffers;

static void fill_case(const sn_tensor_case *c, sn_rng *rng, float *x, int64_t n) {
    float lo = c->lo, hi = c->hi;
    if (lo == 0.0f && hi == 0.0f) lo = -1.0f, hi = 1.0f;
    for (int64_t i = 0; i < n; i++) {
        float v;
        do sn_rng_fill(rng, &v, 1, lo, hi);
        while (fabsf(v) < c->min_abs);
        x[i] = v;
    }
}

/* Infer and allocate as the runtime does; inputs are left for the caller to fill. */
static void prepare(const sn_tensor_case *c, const sn_node *node, sn_dtype dtype, run_buffers *b) {
    const sn_op_def *def = sn_op_get(c->op);
    cr_assert(def, "%s: no op definition", c->name);
    sn_tensor_case_inputs(c, b->in);
    for (int i = 0; i < c->n_inputs; i++) b->in[i].dtype = dtype;
    b->out[0] = (sn_value){.present = true};
    sn_error err = {0};
    sn_status st = def->infer(node, b->in, b->out, &err);
    cr_assert_eq(st, SN_OK, "%s: infer failed: %s", c->name, err.message);
    size_t es = sn_dtype_size(dtype);
    for (int i = 0; i < c->n_inputs; i++)
        b->in[i].data = calloc((size_t)sn_value_numel(&b->in[i]) + 1, es);
    size_t on = (size_t)sn_value_numel(&b->out[0]);
    b->out[0].data = malloc((on + GUARD) * es);
    memset(b->out[0].data, 0xA5, (on + GUARD) * es); /* a NaN pattern for f32 */
    b->scratch = NULL;
    b->scratch_bytes = def->cpu_scratch ? def->cpu_scratch(node, b->in, b->out, 3) : 0;
    if (b->scratch_bytes) b->scratch = aligned_alloc(64, (b->scratch_bytes + 63) & ~(size_t)63);
}

static void run(const sn_tensor_case *c, const sn_node *node, run_buffers *b, int threads) {
    sn_cpu_ctx ctx = {threads, b->scratch, b->scratch_bytes};
    sn_error err = {0};
    sn_status st = sn_op_get(c->op)->cpu_run(&ctx, node, b->in, b->out, &err);
    cr_assert_eq(st, SN_OK, "%s: cpu_run failed: %s", c->name, err.message);
    size_t es = sn_dtype_size(b->out[0].dtype), on = (size_t)sn_value_numel(&b->out[0]);
    const unsigned char *g = (const unsigned char *)b->out[0].data + on * es;
    for (size_t i = 0; i < GUARD * es; i++)
        cr_assert_eq(g[i], 0xA5, "%s: wrote past the end of the output", c->name);
}

static void release(const sn_tensor_case *c, run_buffers *b) {
    for (int i = 0; i < c->n_inputs; i++) free(b->in[i].data);
    free(b->out[0].data);
    free(b->scratch);
}

/* Reference for the case's inputs (as doubles); checks its shape against infer's. */
static double *reference(const sn_tensor_case *c, const sn_node *node, run_buffers *b,
                         double *const *xd) {
    sn_shape shapes[SN_TCASE_MAX_INPUTS], ys;
    for (int i = 0; i < c->n_inputs; i++) shapes[i] = sn_shape_make(b->in[i].rank, b->in[i].d);
    double *want = NULL;
    cr_assert_eq(sn_ref_tensor_op(node, c->n_inputs, shapes, (const double *const *)xd, &ys, &want), 0,
                 "%s: the reference rejects the case", c->name);
    cr_assert_eq(ys.rank, b->out[0].rank, "%s: rank %d, reference %d", c->name, b->out[0].rank, ys.rank);
    for (int k = 0; k < ys.rank; k++)
        cr_assert_eq(ys.d[k], b->out[0].d[k], "%s: dim %d is %lld, reference %lld", c->name, k,
                     (long long)b->out[0].d[k], (long long)ys.d[k]);
    return want;
}

static bool is_activation(sn_op op) {
    return op == SN_OP_RELU || op == SN_OP_CLIP || op == SN_OP_LEAKY_RELU || op == SN_OP_SIGMOID ||
           op == SN_OP_TANH || op == SN_OP_HARD_SIGMOID || op == SN_OP_HARD_SWISH || op == SN_OP_SILU;
}

static void free_indices(struct criterion_test_params *p) { cr_free(p->params); }

/* Criterion runs each parameter in a fresh process and copies only the parameter's bytes, so
 * the parameter is a case index (the table's pointers are valid in every process). */
static struct criterion_test_params case_indices(int count) {
    int *idx = cr_malloc(sizeof(int) * (size_t)count);
    for (int i = 0; i < count; i++) idx[i] = i;
    return cr_make_param_array(int, idx, (size_t)count, free_indices);
}

ParameterizedTestParameters(ops_tensor, cpu_vs_reference) { return case_indices(sn_tensor_case_count); }

ParameterizedTest(int *ci, ops_tensor, cpu_vs_reference) {
    const sn_tensor_case *c = &sn_tensor_cases[*ci];
    sn_rng rng;
    sn_rng_seed(&rng, sn_test_fresh_seed(c->name));
    sn_node node;
    int idx[SN_TCASE_MAX_INPUTS + 1];
    sn_tensor_case_node(c, &node, idx);
    run_buffers b;
    prepare(c, &node, SN_DTYPE_F32, &b);
    double *xd[SN_TCASE_MAX_INPUTS];
    for (int i = 0; i < c->n_inputs; i++) {
        int64_t n = sn_value_numel(&b.in[i]);
        fill_case(c, &rng, b.in[i].data, n);
        xd[i] = malloc(sizeof(double) * (size_t)(n + 1));
        for (int64_t k = 0; k < n; k++) xd[i][k] = ((float *)b.in[i].data)[k];
    }
    double *want = reference(c, &node, &b, xd);
    size_t on = (size_t)sn_value_numel(&b.out[0]);
    double ss = 0;
    for (size_t k = 0; k < on; k++) ss += want[k] * want[k];
    const double rms = sqrt(ss / (double)(on ? on : 1));
    const float *got = b.out[0].data;
    for (int threads = 1; threads <= 3; threads += 2) {
        memset(b.out[0].data, 0xA5, on * sizeof(float));
        run(c, &node, &b, threads);
        double worst = 0;
        long bad = sn_compare_f32(got, want, on, 1e-5, 1e-5 * rms, &worst);
        cr_assert_eq(bad, -1, "%s (threads %d): element %ld is %.9g, want %.9g (worst rel %.3g)",
                     c->name, threads, bad, bad >= 0 ? got[bad] : 0.0, bad >= 0 ? want[bad] : 0.0,
                     worst);
    }
    if (is_activation(c->op)) { /* standalone and fused activations must agree to the bit */
        float alpha = 0, beta = 0;
        sn_activation act = SN_ACT_RELU;
        switch (c->op) {
        case SN_OP_CLIP:
            act = SN_ACT_CLIP;
            alpha = sn_node_attr_float(&node, "min", -INFINITY);
            beta = sn_node_attr_float(&node, "max", INFINITY);
            break;
        case SN_OP_LEAKY_RELU:
            act = SN_ACT_LEAKY_RELU;
            alpha = sn_node_attr_float(&node, "alpha", 0.01f);
            break;
        case SN_OP_SIGMOID: act = SN_ACT_SIGMOID; break;
        case SN_OP_TANH: act = SN_ACT_TANH; break;
        case SN_OP_HARD_SIGMOID:
            act = SN_ACT_HARD_SIGMOID;
            alpha = sn_node_attr_float(&node, "alpha", 0.2f);
            beta = sn_node_attr_float(&node, "beta", 0.5f);
            break;
        case SN_OP_HARD_SWISH: act = SN_ACT_HARD_SWISH; break;
        case SN_OP_SILU: act = SN_ACT_SILU; break;
        default: break;
        }
        const float *x = b.in[0].data;
        for (size_t k = 0; k < on; k++) {
            float s = sn_activate(x[k], act, alpha, beta);
            cr_assert(memcmp(&s, &got[k], sizeof s) == 0, "%s: element %zu is %.9g, sn_activate %.9g",
                      c->name, k, got[k], s);
        }
    }
    free(want);
    for (int i = 0; i < c->n_inputs; i++) free(xd[i]);
    release(c, &b);
}

/* The data-movement ops copy elements by size: run them on 1-, 2- and 8-byte dtypes holding
 * a distinct payload per input element, and check every payload lands where the reference
 * (run on element numbers) puts it. */
static uint64_t payload(int input, int64_t k) { return (uint64_t)k * 2654435761u + (uint64_t)input * 97 + 1; }

Test(ops_tensor, data_movement_any_dtype) {
    const sn_dtype dtypes[] = {SN_DTYPE_U8, SN_DTYPE_F16, SN_DTYPE_I64};
    int tested = 0;
    for (int ci = 0; ci < sn_tensor_case_count; ci++) {
        const sn_tensor_case *c = &sn_tensor_cases[ci];
        if (!sn_ref_is_data_movement(c->op)) continue;
        for (size_t t = 0; t < sizeof dtypes / sizeof dtypes[0]; t++) {
            sn_node node;
            int idx[SN_TCASE_MAX_INPUTS + 1];
            sn_tensor_case_node(c, &node, idx);
            run_buffers b;
            prepare(c, &node, dtypes[t], &b);
            cr_assert_eq(b.out[0].dtype, dtypes[t], "%s: output dtype changed", c->name);
            size_t es = sn_dtype_size(dtypes[t]);
            double *xd[SN_TCASE_MAX_INPUTS];
            for (int i = 0; i < c->n_inputs; i++) {
                int64_t n = sn_value_numel(&b.in[i]);
                xd[i] = malloc(sizeof(double) * (size_t)(n + 1));
                for (int64_t k = 0; k < n; k++) {
                    uint64_t p = payload(i, k);
                    memcpy((char *)b.in[i].data + (size_t)k * es, &p, es); /* little-endian low bytes */
                    xd[i][k] = (double)(i * 100000000LL + k);
                }
            }
            double *want = reference(c, &node, &b, xd);
            run(c, &node, &b, 3);
            for (int64_t k = 0; k < sn_value_numel(&b.out[0]); k++) {
                int64_t code = (int64_t)want[k];
                uint64_t p = payload((int)(code / 100000000LL), code % 100000000LL), g = 0;
                memcpy(&g, (char *)b.out[0].data + (size_t)k * es, es);
                uint64_t mask = es == 8 ? ~0ull : ((1ull << (8 * es)) - 1);
                cr_assert_eq(g, p & mask, "%s (%s): element %lld is wrong", c->name,
                             sn_dtype_name(dtypes[t]), (long long)k);
            }
            free(want);
            for (int i = 0; i < c->n_inputs; i++) free(xd[i]);
            release(c, &b);
            tested++;
        }
    }
    cr_assert_gt(tested, 30);
}

ParameterizedTestParameters(ops_tensor, infer_rejects) { return case_indices(sn_tensor_error_case_count); }

ParameterizedTest(int *ci, ops_tensor, infer_rejects) {
    const sn_tensor_case *c = &sn_tensor_error_cases[*ci];
    sn_node node;
    int idx[SN_TCASE_MAX_INPUTS + 1];
    sn_tensor_case_node(c, &node, idx);
    sn_value in[SN_TCASE_MAX_INPUTS], out[1] = {{.present = true}};
    sn_tensor_case_inputs(c, in);
    sn_error err = {0};
    sn_status st = sn_op_get(c->op)->infer(&node, in, out, &err);
    cr_assert_eq(st, c->expect, "%s: status %s, want %s (%s)", c->name, sn_status_string(st),
                 sn_status_string(c->expect), err.message);
    cr_assert_eq(err.status, c->expect, "%s: err.status not set", c->name);
    char quoted[128];
    snprintf(quoted, sizeof quoted, "'%s'", c->name);
    cr_assert(strstr(err.message, quoted), "%s: message does not name the node: %s", c->name, err.message);
    cr_assert(strstr(err.message, sn_op_name(c->op)), "%s: message does not name the op: %s", c->name,
              err.message);
    cr_assert(strstr(err.message, c->message), "%s: message lacks \"%s\": %s", c->name, c->message,
              err.message);
}

/* --- beyond the table ------------------------------------------------------------------- */

/* Output shape of a one-input node on `in`; returns the status. */
static sn_status infer_one(sn_op op, const sn_attr *attrs, int n_attrs, int rank, const int64_t *d,
                           sn_value *out) {
    int idx[2] = {0, 1};
    sn_node node = {.name = "n", .op = op, .n_inputs = 1, .n_outputs = 1, .inputs = idx,
                    .outputs = idx + 1, .n_attrs = n_attrs, .attrs = (sn_attr *)attrs};
    sn_value in = {.present = true, .dtype = SN_DTYPE_F32, .rank = rank};
    memcpy(in.d, d, sizeof(int64_t) * (size_t)rank);
    *out = (sn_value){.present = true};
    sn_error err = {0};
    return sn_op_get(op)->infer(&node, &in, out, &err);
}

#define EXPECT_SHAPE(v, ...)                                                                    \
    do {                                                                                        \
        const int64_t want_[] = {__VA_ARGS__};                                                  \
        int n_ = (int)(sizeof want_ / sizeof want_[0]);                                         \
        cr_expect_eq((v).rank, n_, "rank %d, want %d", (v).rank, n_);                           \
        for (int k_ = 0; k_ < n_ && k_ < (v).rank; k_++)                                        \
            cr_expect_eq((v).d[k_], want_[k_], "dim %d is %lld, want %lld", k_,                 \
                         (long long)(v).d[k_], (long long)want_[k_]);                           \
    } while (0)

Test(ops_tensor, shapes_follow_the_batch) {
    const int64_t keep[] = {0, -1}, rows[] = {-1, 20}, perm[] = {0, 2, 3, 1}, sizes[] = {0, 0, 8, 9};
    const int64_t pads[] = {0, 0, 1, 0, 0, 0, 0, 2};
    const sn_attr a_keep = sn_attr_ints("shape", keep, 2), a_rows = sn_attr_ints("shape", rows, 2);
    const sn_attr a_axis0 = sn_attr_int("axis", 0), a_perm = sn_attr_ints("perm", perm, 4);
    const sn_attr a_sizes = sn_attr_ints("sizes", sizes, 4), a_pads = sn_attr_ints("pads", pads, 8);
    for (int64_t n = 1; n <= 4; n++) {
        const int64_t d[4] = {n, 3, 4, 5};
        sn_value o;
        cr_assert_eq(infer_one(SN_OP_RESHAPE, &a_keep, 1, 4, d, &o), SN_OK);
        EXPECT_SHAPE(o, n, 60);
        cr_assert_eq(infer_one(SN_OP_RESHAPE, &a_rows, 1, 4, d, &o), SN_OK);
        EXPECT_SHAPE(o, 3 * n, 20);
        cr_assert_eq(infer_one(SN_OP_FLATTEN, NULL, 0, 4, d, &o), SN_OK);
        EXPECT_SHAPE(o, n, 60);
        cr_assert_eq(infer_one(SN_OP_FLATTEN, &a_axis0, 1, 4, d, &o), SN_OK);
        EXPECT_SHAPE(o, 1, 60 * n);
        cr_assert_eq(infer_one(SN_OP_TRANSPOSE, &a_perm, 1, 4, d, &o), SN_OK);
        EXPECT_SHAPE(o, n, 4, 5, 3);
        cr_assert_eq(infer_one(SN_OP_RESIZE, &a_sizes, 1, 4, d, &o), SN_OK);
        EXPECT_SHAPE(o, n, 3, 8, 9);
        cr_assert_eq(infer_one(SN_OP_PAD, &a_pads, 1, 4, d, &o), SN_OK);
        EXPECT_SHAPE(o, n, 3, 5, 7);
    }
}

Test(ops_tensor, flop_counts) {
    const int64_t d[4] = {2, 3, 4, 5};
    const float sc[4] = {1, 1, 2, 2};
    const sn_attr lin[2] = {sn_attr_int("mode", 1), sn_attr_floats("scales", sc, 4)};
    int idx[3] = {0, 1, 2};
    sn_value in[2] = {{.present = true, .rank = 4}, {.present = true, .rank = 4}}, out;
    memcpy(in[0].d, d, sizeof d);
    memcpy(in[1].d, d, sizeof d);
    struct { sn_op op; const sn_attr *attrs; int n_attrs, n_in; double want; } cases[] = {
        {SN_OP_RELU, NULL, 0, 1, 120}, {SN_OP_SIGMOID, NULL, 0, 1, 120}, {SN_OP_IDENTITY, NULL, 0, 1, 0},
        {SN_OP_ADD, NULL, 0, 2, 120},  {SN_OP_DIV, NULL, 0, 2, 120},     {SN_OP_FLATTEN, NULL, 0, 1, 0},
        {SN_OP_TRANSPOSE, NULL, 0, 1, 0},
        {SN_OP_RESIZE, lin, 2, 1, 8 * 480},
        {SN_OP_RESIZE, lin + 1, 1, 1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sn_node node = {.name = "f", .op = cases[i].op, .n_inputs = cases[i].n_in, .n_outputs = 1,
                        .inputs = idx, .outputs = idx + 2, .n_attrs = cases[i].n_attrs,
                        .attrs = (sn_attr *)cases[i].attrs};
        const sn_op_def *def = sn_op_get(cases[i].op);
        out = (sn_value){.present = true};
        cr_assert_eq(def->infer(&node, in, &out, NULL), SN_OK, "%s", def->name);
        double got = def->flops ? def->flops(&node, in, &out) : (double)sn_value_numel(&out);
        cr_expect_eq(got, cases[i].want, "%s: %g flops, want %g", def->name, got, cases[i].want);
    }
}

/* Standalone ops (sn_activate_array, vectorised and cloned for AVX) and fused epilogues
 * (sn_activate per element) must give the same bits, also at zeros, denormals, overflow,
 * infinities and NaN; and the inline exp keeps sigmoid and SiLU accurate. */
Test(ops_tensor, activations_agree_on_special_values) {
    const float special[] = {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-40f, -1e-40f, 3.0f, -3.0f, 6.0f, -6.0f,
                             88.5f, -88.5f, 89.0f, -89.0f, 104.0f, -104.0f, 1e30f, -1e30f,
                             INFINITY, -INFINITY, NAN, -NAN, 0.5f, -2.5f, 17.0f};
    enum { N = 4099 };
    static float x[N], y[N];
    sn_rng rng;
    sn_rng_seed(&rng, sn_test_fresh_seed("activations_agree_on_special_values"));
    sn_rng_fill(&rng, x, N, -20.0f, 20.0f);
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++) x[i * 97 % N] = special[i];
    const float params[SN_ACT_COUNT][2] = {[SN_ACT_CLIP] = {-1.0f, 2.0f}, [SN_ACT_LEAKY_RELU] = {0.1f, 0},
                                           [SN_ACT_HARD_SIGMOID] = {0.2f, 0.5f}};
    for (int a = 0; a < SN_ACT_COUNT; a++) {
        memcpy(y, x, sizeof x);
        sn_activate_array(y, N, (sn_activation)a, params[a][0], params[a][1]);
        for (int i = 0; i < N; i++) {
            float s = sn_activate(x[i], (sn_activation)a, params[a][0], params[a][1]);
            cr_assert(memcmp(&s, &y[i], sizeof s) == 0, "%s(%.9g): array %.9g, scalar %.9g",
                      sn_activation_name((sn_activation)a), x[i], y[i], s);
            if (!isfinite(x[i]) || fabsf(x[i]) > 80.0f) continue;
            double w = a == SN_ACT_SIGMOID ? 1.0 / (1.0 + exp(-(double)x[i]))
                     : a == SN_ACT_SILU    ? x[i] / (1.0 + exp(-(double)x[i]))
                                           : (double)s;
            cr_assert(fabs(s - w) <= 4e-7 * fabs(w) + 1e-37, "%s(%.9g) = %.9g, want %.9g",
                      sn_activation_name((sn_activation)a), x[i], s, w);
        }
    }
}

/* More inputs than the kernel takes per call (it is given them in groups). */
Test(ops_tensor, concat_many_inputs) {
    enum { N_IN = 41 };
    sn_rng rng;
    sn_rng_seed(&rng, sn_test_fresh_seed("concat_many_inputs"));
    sn_value in[N_IN], out = {.present = true};
    sn_shape shapes[N_IN], ys;
    double *xd[N_IN];
    int idx[N_IN + 1];
    for (int i = 0; i <= N_IN; i++) idx[i] = i;
    for (int i = 0; i < N_IN; i++) {
        in[i] = (sn_value){.present = true, .dtype = SN_DTYPE_F32, .rank = 3, .d = {2, i % 3 + 1, 5}};
        shapes[i] = sn_shape_make(3, in[i].d);
        int64_t n = sn_value_numel(&in[i]);
        in[i].data = malloc(sizeof(float) * (size_t)n);
        xd[i] = malloc(sizeof(double) * (size_t)n);
        sn_rng_fill(&rng, in[i].data, (size_t)n, -1, 1);
        for (int64_t k = 0; k < n; k++) xd[i][k] = ((float *)in[i].data)[k];
    }
    const sn_attr axis = sn_attr_int("axis", -2);
    sn_node node = {.name = "cat", .op = SN_OP_CONCAT, .n_inputs = N_IN, .n_outputs = 1, .inputs = idx,
                    .outputs = idx + N_IN, .n_attrs = 1, .attrs = (sn_attr *)&axis};
    const sn_op_def *def = sn_op_get(SN_OP_CONCAT);
    sn_error err = {0};
    cr_assert_eq(def->infer(&node, in, &out, &err), SN_OK, "%s", err.message);
    EXPECT_SHAPE(out, 2, 81, 5);
    out.data = malloc(sizeof(float) * (size_t)sn_value_numel(&out));
    sn_cpu_ctx ctx = {2, NULL, 0};
    cr_assert_eq(def->cpu_run(&ctx, &node, in, &out, &err), SN_OK, "%s", err.message);
    double *want = NULL;
    cr_assert_eq(sn_ref_tensor_op(&node, N_IN, shapes, (const double *const *)xd, &ys, &want), 0);
    cr_expect_eq(sn_compare_f32(out.data, want, (size_t)sn_value_numel(&out), 0, 0, NULL), -1);
    free(want);
    free(out.data);
    for (int i = 0; i < N_IN; i++) {
        free(in[i].data);
        free(xd[i]);
    }
}

/* The ops as a graph would hold them: the attribute specs pass validation, and shapes are
 * inferred with a dynamic batch. */
Test(ops_tensor, graph_with_dynamic_batch) {
    sn_graph *g = NULL;
    cr_assert_eq(sn_graph_create(&g), SN_OK);
    const int64_t xd[4] = {SN_DIM_BATCH, 3, 8, 8}, perm[4] = {0, 2, 3, 1}, keep[2] = {0, -1};
    const float sc[4] = {1, 1, 0.5f, 0.5f};
    sn_shape xs = sn_shape_make(4, xd);
    int x, t1, t2, t3, t4, t5;
    cr_assert_eq(sn_graph_add_tensor(g, "x", SN_DTYPE_F32, &xs, &x), SN_OK);
    cr_assert_eq(sn_graph_add_input(g, x), SN_OK);
    sn_graph_add_tensor(g, "t1", SN_DTYPE_F32, NULL, &t1);
    sn_graph_add_tensor(g, "t2", SN_DTYPE_F32, NULL, &t2);
    sn_graph_add_tensor(g, "t3", SN_DTYPE_F32, NULL, &t3);
    sn_graph_add_tensor(g, "t4", SN_DTYPE_F32, NULL, &t4);
    sn_graph_add_tensor(g, "t5", SN_DTYPE_F32, NULL, &t5);
    sn_attr a_res[2] = {sn_attr_int("mode", 1), sn_attr_floats("scales", sc, 4)};
    sn_attr a_perm = sn_attr_ints("perm", perm, 4), a_keep = sn_attr_ints("shape", keep, 2);
    sn_attr a_clip[2] = {sn_attr_float("min", 0), sn_attr_float("max", 6)};
    int two[2] = {t1, t1};
    cr_assert_eq(sn_graph_add_node(g, SN_OP_RESIZE, "down", &x, 1, &t1, 1, a_res, 2, NULL), SN_OK);
    cr_assert_eq(sn_graph_add_node(g, SN_OP_ADD, "sum", two, 2, &t2, 1, NULL, 0, NULL), SN_OK);
    cr_assert_eq(sn_graph_add_node(g, SN_OP_TRANSPOSE, "nhwc", &t2, 1, &t3, 1, &a_perm, 1, NULL), SN_OK);
    cr_assert_eq(sn_graph_add_node(g, SN_OP_RESHAPE, "rows", &t3, 1, &t4, 1, &a_keep, 1, NULL), SN_OK);
    cr_assert_eq(sn_graph_add_node(g, SN_OP_CLIP, "relu6", &t4, 1, &t5, 1, a_clip, 2, NULL), SN_OK);
    cr_assert_eq(sn_graph_add_output(g, t5), SN_OK);
    sn_error err = {0};
    cr_assert_eq(sn_graph_validate(g, &err), SN_OK, "%s", err.message);
    cr_assert_eq(sn_graph_infer_shapes(g, &err), SN_OK, "%s", err.message);
    EXPECT_SHAPE(g->tensors[t5].shape, 1, 48);
    cr_expect(g->tensors[t5].flags & SN_TENSOR_BATCHED);
    sn_shape *shapes = calloc((size_t)g->n_tensors, sizeof(sn_shape));
    cr_assert_eq(sn_graph_infer_concrete(g, 5, shapes, NULL, &err), SN_OK, "%s", err.message);
    EXPECT_SHAPE(shapes[t5], 5, 48);
    free(shapes);
    sn_graph_destroy(g);
}
