/*
 * test_ops_nhwc.c - the channels-last (layout NHWC) forms of the layout-aware ops against the
 * double-precision reference, and Gemm's flatten_a.
 *
 * Every case of the two op tables (tests/support/nn_cases.c, tensor_cases.c) whose op takes a
 * `layout` attribute and whose X is 4-D is run a second time in NHWC: X and a residual Z are
 * transposed to [N,H,W,C], conv weights to OHWI, the node gets layout=2, and the output -
 * whose inferred shape must be the reference's, permuted - is transposed back and compared
 * with the NCHW reference within 1e-5 of max(|want|, rms(want)). So every kernel path the
 * tables reach (pointwise, im2col, grouped, depthwise with multipliers, dilations, ceil_mode,
 * both AveragePool divisors, every Resize mode) is checked in both layouts.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "ref_nn.h"
#include "ref_tensor.h"
#include "test_support.h"

#define RTOL 1e-5
#define MAX_IN 5

/* One case from either table. */
typedef struct lcase {
    const char *name;
    sn_op op;
    int n_inputs;
    const sn_shape *in;
    int n_attrs;
    const sn_attr *attrs;
    float lo, hi;
    bool nn; /* from the nn table (its reference and fill) */
    const sn_nn_case *ncase;
} lcase;

static bool layout_op(sn_op op) {
    switch (op) {
    case SN_OP_CONV:
    case SN_OP_FUSED_CONV:
    case SN_OP_MAX_POOL:
    case SN_OP_AVG_POOL:
    case SN_OP_GLOBAL_AVG_POOL:
    case SN_OP_BATCHNORM:
    case SN_OP_BIAS_ADD:
    case SN_OP_RESIZE: return true;
    default: return false;
    }
}

/* [N,C,H,W] data to [N,H,W,C] (inverse = false) or back (inverse = true). */
static void permute_f(const float *src, const int64_t *nchw, bool inverse, float *dst) {
    int64_t n = nchw[0], c = nchw[1], h = nchw[2], w = nchw[3];
    for (int64_t a = 0; a < n; a++)
        for (int64_t ch = 0; ch < c; ch++)
            for (int64_t y = 0; y < h; y++)
                for (int64_t x = 0; x < w; x++) {
                    int64_t i = ((a * c + ch) * h + y) * w + x, j = ((a * h + y) * w + x) * c + ch;
                    if (inverse)
                        dst[i] = src[j];
                    else
                        dst[j] = src[i];
                }
}

/* OIHW weights [m, cg, kh, kw] to OHWI [m, kh, kw, cg]: the same permutation per output
 * channel as an image's NCHW -> NHWC, with the output channels as the batch. */
static void weights_ohwi(const float *src, const int64_t *oihw, float *dst) {
    permute_f(src, oihw, false, dst);
}

static void check_one(const lcase *c, sn_rng *rng) {
    const sn_op_def *def = sn_op_get(c->op);
    sn_node node = {0};
    int idx[MAX_IN + 1];
    sn_attr attrs[16];
    cr_assert(c->n_attrs < 15);
    memcpy(attrs, c->attrs, sizeof(sn_attr) * (size_t)c->n_attrs);
    attrs[c->n_attrs] = sn_attr_int("layout", SN_LAYOUT_NHWC);
    for (int i = 0; i < c->n_inputs; i++) idx[i] = c->in[i].rank < 0 ? -1 : i;
    idx[c->n_inputs] = c->n_inputs;
    node.name = c->name;
    node.op = c->op;
    node.n_inputs = c->n_inputs;
    node.n_outputs = 1;
    node.inputs = idx;
    node.outputs = idx + c->n_inputs;
    node.n_attrs = c->n_attrs; /* the NCHW node first, for the reference */
    node.attrs = attrs;

    float *x[MAX_IN] = {0}, *xn[MAX_IN] = {0};
    double *dx[MAX_IN] = {0}, *want = NULL;
    float *y = NULL, *back = NULL;
    void *scratch = NULL;
    sn_value in[MAX_IN] = {{0}}, out[1] = {{0}};
    for (int i = 0; i < c->n_inputs; i++) {
        if (c->in[i].rank < 0) continue;
        size_t n = (size_t)sn_shape_numel(&c->in[i]);
        x[i] = malloc(n * sizeof(float));
        xn[i] = malloc(n * sizeof(float));
        dx[i] = malloc(n * sizeof(double));
        cr_assert(x[i] && xn[i] && dx[i]);
        if (c->nn)
            sn_nn_case_fill(c->ncase, i, rng, x[i], n);
        else
            sn_rng_fill(rng, x[i], n, c->lo == 0 && c->hi == 0 ? -1.0f : c->lo,
                        c->lo == 0 && c->hi == 0 ? 1.0f : c->hi);
        for (size_t k = 0; k < n; k++) dx[i][k] = x[i][k];
        /* the NHWC operands: X and Z as images, conv weights OHWI, vectors as they are */
        const int64_t *d = c->in[i].d;
        bool conv = c->op == SN_OP_CONV || c->op == SN_OP_FUSED_CONV;
        in[i].present = true;
        in[i].dtype = SN_DTYPE_F32;
        in[i].rank = c->in[i].rank;
        if ((i == 0 || (conv && i == 3)) && c->in[i].rank == 4) {
            permute_f(x[i], d, false, xn[i]);
            int64_t p[4] = {d[0], d[2], d[3], d[1]};
            memcpy(in[i].d, p, sizeof p);
        } else if (conv && i == 1) {
            weights_ohwi(x[i], d, xn[i]);
            int64_t p[4] = {d[0], d[2], d[3], d[1]};
            memcpy(in[i].d, p, sizeof p);
        } else {
            memcpy(xn[i], x[i], n * sizeof(float));
            memcpy(in[i].d, d, sizeof(int64_t) * (size_t)c->in[i].rank);
        }
        in[i].data = xn[i];
    }
    sn_shape ws;
    int r = c->nn ? sn_ref_nn_op(&node, c->n_inputs, c->in, (const double *const *)dx, &ws, &want)
                  : sn_ref_tensor_op(&node, c->n_inputs, c->in, (const double *const *)dx, &ws,
                                     &want);
    cr_assert_eq(r, 0, "%s: the reference rejects the case", c->name);
    cr_assert_eq(ws.rank, 4, "%s", c->name);

    node.n_attrs = c->n_attrs + 1; /* now the NHWC node */
    sn_error err = {0};
    sn_status st = def->infer(&node, in, out, &err);
    cr_assert_eq(st, SN_OK, "%s: NHWC infer: %s", c->name, err.message);
    int64_t perm[4] = {ws.d[0], ws.d[2], ws.d[3], ws.d[1]};
    cr_assert(out[0].rank == 4 && !memcmp(out[0].d, perm, sizeof perm),
              "%s: NHWC output [%lld,%lld,%lld,%lld], want the reference's permuted", c->name,
              (long long)out[0].d[0], (long long)out[0].d[1], (long long)out[0].d[2],
              (long long)out[0].d[3]);
    size_t ny = (size_t)sn_shape_numel(&ws);
    y = malloc(ny * sizeof(float));
    back = malloc(ny * sizeof(float));
    cr_assert(y && back);
    double ss = 0;
    for (size_t i = 0; i < ny; i++) ss += want[i] * want[i];
    double rms = sqrt(ss / (double)ny);
    static const int threads[] = {1, 3};
    for (int t = 0; t < 2; t++) {
        size_t sb = def->cpu_scratch ? def->cpu_scratch(&node, in, out, threads[t]) : 0;
        free(scratch);
        scratch = NULL;
        cr_assert(!sb || posix_memalign(&scratch, 64, sb) == 0);
        sn_cpu_ctx ctx = {.threads = threads[t], .scratch = scratch, .scratch_bytes = sb};
        for (size_t i = 0; i < ny; i++) y[i] = NAN;
        out[0].data = y;
        st = def->cpu_run(&ctx, &node, in, out, &err);
        out[0].data = NULL;
        cr_assert_eq(st, SN_OK, "%s: NHWC run: %s", c->name, err.message);
        permute_f(y, ws.d, true, back);
        for (size_t i = 0; i < ny; i++) {
            double tol = RTOL * fmax(fabs(want[i]), rms);
            if (!(fabs((double)back[i] - want[i]) <= tol)) {
                cr_expect_fail("%s (NHWC, threads %d): y[%zu] = %.9g, want %.9g", c->name,
                               threads[t], i, (double)back[i], want[i]);
                break;
            }
        }
    }
    for (int i = 0; i < MAX_IN; i++) free(x[i]), free(xn[i]), free(dx[i]);
    free(want), free(y), free(back), free(scratch);
}

Test(ops_nhwc, every_layout_case_matches_the_reference) {
    sn_rng rng;
    sn_rng_seed(&rng, sn_test_fresh_seed("ops_nhwc"));
    int ran[SN_OP_COUNT] = {0};
    for (int i = 0; i < sn_nn_case_count; i++) {
        const sn_nn_case *nc = &sn_nn_cases[i];
        if (!layout_op(nc->op) || nc->in[0].rank != 4) continue;
        lcase c = {nc->name, nc->op, nc->n_inputs, nc->in, nc->n_attrs, nc->attrs,
                   nc->lo, nc->hi, true, nc};
        check_one(&c, &rng);
        ran[nc->op]++;
    }
    for (int i = 0; i < sn_tensor_case_count; i++) {
        const sn_tensor_case *tc = &sn_tensor_cases[i];
        if (!layout_op(tc->op) || tc->in[0].rank != 4) continue;
        lcase c = {tc->name, tc->op, tc->n_inputs, tc->in, tc->n_attrs, tc->attrs,
                   tc->lo, tc->hi, false, NULL};
        check_one(&c, &rng);
        ran[tc->op]++;
    }
    static const sn_op want[] = {SN_OP_CONV,      SN_OP_FUSED_CONV, SN_OP_MAX_POOL,
                                 SN_OP_AVG_POOL,  SN_OP_GLOBAL_AVG_POOL, SN_OP_BATCHNORM,
                                 SN_OP_BIAS_ADD,  SN_OP_RESIZE};
    int total = 0;
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        cr_expect_gt(ran[want[k]], 0, "no NHWC case for %s", sn_op_name(want[k]));
        total += ran[want[k]];
    }
    fprintf(stderr, "[ops_nhwc] %d cases checked in NHWC\n", total);
}

/* A bad layout value is refused with the node named, and NHWC needs 4-D X. */
Test(ops_nhwc, layout_attribute_is_checked) {
    int idx[4] = {0, 1, 2, 3};
    sn_attr bad = sn_attr_int("layout", 7), nhwc = sn_attr_int("layout", SN_LAYOUT_NHWC);
    sn_node n = {.name = "bn_bad", .op = SN_OP_BIAS_ADD, .n_inputs = 2, .n_outputs = 1,
                 .inputs = idx, .outputs = idx + 2, .n_attrs = 1, .attrs = &bad};
    sn_value in[2] = {{.present = true, .rank = 4, .d = {1, 2, 3, 4}},
                      {.present = true, .rank = 1, .d = {4}}};
    sn_value out[1] = {{0}};
    sn_error err = {0};
    cr_expect_eq(sn_op_get(SN_OP_BIAS_ADD)->infer(&n, in, out, &err), SN_ERR_INVALID_ARGUMENT);
    cr_expect(strstr(err.message, "bn_bad") && strstr(err.message, "layout"), "%s", err.message);
    n.attrs = &nhwc;
    cr_expect_eq(sn_op_get(SN_OP_BIAS_ADD)->infer(&n, in, out, &err), SN_OK, "%s", err.message);
    in[0].rank = 3;
    in[0].d[2] = 4;
    cr_expect_eq(sn_op_get(SN_OP_BIAS_ADD)->infer(&n, in, out, &err), SN_ERR_SHAPE);
    n.op = SN_OP_GLOBAL_AVG_POOL;
    n.n_inputs = 1;
    cr_expect_eq(sn_op_get(SN_OP_GLOBAL_AVG_POOL)->infer(&n, in, out, &err), SN_ERR_SHAPE);
}

/* Gemm with flatten_a reads any A of rank >= 2 as [d0, rest]: against a double reference, with
 * both transB values, a broadcast C and a fused activation. */
Test(ops_nhwc, gemm_flatten_a) {
    sn_rng rng;
    sn_rng_seed(&rng, sn_test_fresh_seed("ops_nhwc.gemm"));
    for (int v = 0; v < 4; v++) {
        int64_t n = 3, k = v < 2 ? 4 * 5 * 2 : 7 * 3, m = 9;
        sn_value in[3] = {{0}}, out[1] = {{0}};
        in[0] = (sn_value){.present = true, .rank = v < 2 ? 4 : 3,
                           .d = {n, v < 2 ? 4 : 7, v < 2 ? 5 : 3, 2}};
        if (v >= 2) in[0].d[3] = 0;
        int64_t tb = v & 1;
        in[1] = (sn_value){.present = true, .rank = 2, .d = {tb ? m : k, tb ? k : m}};
        in[2] = (sn_value){.present = true, .rank = 1, .d = {m}};
        float *a = malloc(sizeof(float) * (size_t)(n * k));
        float *b = malloc(sizeof(float) * (size_t)(k * m));
        float cv[9], y[27];
        cr_assert(a && b);
        sn_rng_fill(&rng, a, (size_t)(n * k), -1, 1);
        sn_rng_fill(&rng, b, (size_t)(k * m), -1, 1);
        sn_rng_fill(&rng, cv, 9, -1, 1);
        in[0].data = a, in[1].data = b, in[2].data = cv;
        int idx[4] = {0, 1, 2, 3};
        sn_attr at[3] = {sn_attr_int("flatten_a", 1), sn_attr_int("transB", tb),
                         sn_attr_int("activation", SN_ACT_RELU)};
        sn_node node = {.name = "fc", .op = SN_OP_GEMM, .n_inputs = 3, .n_outputs = 1,
                        .inputs = idx, .outputs = idx + 3, .n_attrs = 3, .attrs = at};
        sn_error err = {0};
        const sn_op_def *def = sn_op_get(SN_OP_GEMM);
        cr_assert_eq(def->infer(&node, in, out, &err), SN_OK, "%s", err.message);
        cr_assert(out[0].rank == 2 && out[0].d[0] == n && out[0].d[1] == m);
        sn_cpu_ctx ctx = {.threads = 2};
        out[0].data = y;
        cr_assert_eq(def->cpu_run(&ctx, &node, in, out, &err), SN_OK, "%s", err.message);
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < m; j++) {
                double s = cv[j];
                for (int64_t q = 0; q < k; q++)
                    s += (double)a[i * k + q] * (double)b[tb ? j * k + q : q * m + j];
                s = s > 0 ? s : 0;
                cr_expect(fabs(y[i * m + j] - s) <= RTOL * fmax(fabs(s), 1.0), "v%d y[%lld,%lld]",
                          v, (long long)i, (long long)j);
            }
        /* without flatten_a a 4-D A is refused; with transA it is too */
        node.n_attrs = 2;
        at[0] = sn_attr_int("transA", 0);
        cr_expect_eq(def->infer(&node, in, out, &err), SN_ERR_SHAPE);
        at[0] = sn_attr_int("flatten_a", 1);
        at[1] = sn_attr_int("transA", 1);
        cr_expect_eq(def->infer(&node, in, out, &err), SN_ERR_SHAPE);
        cr_expect(strstr(err.message, "flatten_a"), "%s", err.message);
        free(a), free(b);
    }
}
