/*
 * test_ops_slice.c - the Slice op (added for the ONNX importer): shape inference and the CPU
 * kernel against a straightforward reference that enumerates each axis's indices the way
 * Python's range() does after ONNX's clamping, on random shapes, starts/ends (out of range,
 * negative, INT64 extremes), axes (negative, any order) and steps (negative, larger than the
 * dim); f32 and i64 data; plus the attribute errors.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "slice.h"
#include "test_support.h"

/* Indices one axis takes, enumerated like range(start, end, step) after clamping. */
static int ref_axis(int64_t dim, int64_t start, int64_t end, int64_t step, int64_t *idx) {
    if (start < 0) start += dim;
    if (end < 0) end += dim;
    int64_t lo = step > 0 ? 0 : -1, hi = step > 0 ? dim : dim - 1;
    start = start < lo ? lo : start > hi ? hi : start;
    end = end < lo ? lo : end > hi ? hi : end;
    int n = 0;
    for (int64_t i = start; step > 0 ? i < end : i > end; i += step) {
        idx[n++] = i;
        if (step > dim || step < -dim) break; /* the next one is out anyway; avoid overflow */
    }
    return n;
}

Test(slice, axis_rule_examples) {
    int64_t first, len;
    sn_slice_axis(5, -1, -100, -2, &first, &len); /* 4, 2, 0 */
    cr_expect(first == 4 && len == 3);
    sn_slice_axis(5, 0, INT64_MAX, 1, &first, &len);
    cr_expect(first == 0 && len == 5);
    sn_slice_axis(5, INT64_MIN, INT64_MAX, INT64_MAX, &first, &len);
    cr_expect(first == 0 && len == 1);
    sn_slice_axis(5, INT64_MAX, INT64_MIN, INT64_MIN, &first, &len);
    cr_expect(first == 4 && len == 1);
    sn_slice_axis(5, 3, 1, 1, &first, &len);
    cr_expect(len == 0);
    sn_slice_axis(0, 0, 1, 1, &first, &len);
    cr_expect(len == 0);
}

static int64_t pick(sn_rng *r, int64_t dim) {
    static const int64_t extremes[] = {INT64_MAX, INT64_MIN, INT64_MAX - 1, -INT64_MAX};
    uint64_t u = sn_rng_u64(r);
    if (u % 10 == 0) return extremes[(u / 10) % 4];
    return (int64_t)(u % (uint64_t)(2 * dim + 5)) - dim - 2;
}

static void one_case(sn_rng *r, sn_dtype dt) {
    sn_graph *g = NULL;
    cr_assert_eq(sn_graph_create(&g), SN_OK);
    int rank = 1 + (int)(sn_rng_u64(r) % 5), n = 1 + (int)(sn_rng_u64(r) % (uint64_t)rank);
    sn_shape xs = {.rank = rank};
    int64_t numel = 1;
    for (int i = 0; i < rank; i++) numel *= (xs.d[i] = 1 + (int64_t)(sn_rng_u64(r) % 6));
    int64_t starts[SN_MAX_RANK], ends[SN_MAX_RANK], axes[SN_MAX_RANK], steps[SN_MAX_RANK];
    int perm[SN_MAX_RANK];
    for (int i = 0; i < rank; i++) perm[i] = i;
    for (int i = rank - 1; i > 0; i--) {
        int j = (int)(sn_rng_u64(r) % (uint64_t)(i + 1)), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (int i = 0; i < n; i++) {
        int a = perm[i];
        axes[i] = sn_rng_u64(r) & 1 ? a - rank : a;
        starts[i] = pick(r, xs.d[a]);
        ends[i] = pick(r, xs.d[a]);
        uint64_t u = sn_rng_u64(r) % 9;
        steps[i] = u == 8 ? (sn_rng_u64(r) & 1 ? INT64_MAX : INT64_MIN) : (int64_t)u - 4;
        if (!steps[i]) steps[i] = 1;
    }
    /* Reference: the index list of every input dim. */
    int64_t idx[SN_MAX_RANK][64];
    int cnt[SN_MAX_RANK];
    for (int k = 0; k < rank; k++) {
        cnt[k] = (int)xs.d[k];
        for (int64_t i = 0; i < xs.d[k]; i++) idx[k][i] = i;
    }
    for (int i = 0; i < n; i++) {
        int a = (int)(axes[i] < 0 ? axes[i] + rank : axes[i]);
        cnt[a] = ref_axis(xs.d[a], starts[i], ends[i], steps[i], idx[a]);
    }
    size_t es = sn_dtype_size(dt);
    uint8_t *x = malloc((size_t)numel * es);
    for (int64_t i = 0; i < numel; i++) {
        if (dt == SN_DTYPE_F32) {
            float v = (float)sn_rng_uniform(r, -1, 1);
            memcpy(x + i * (int64_t)es, &v, es);
        } else {
            int64_t v = (int64_t)sn_rng_u64(r);
            memcpy(x + i * (int64_t)es, &v, es);
        }
    }
    int xt, yt, ni;
    cr_assert_eq(sn_graph_add_const(g, "x", dt, &xs, x, (size_t)numel * es, true, &xt), SN_OK);
    cr_assert_eq(sn_graph_add_tensor(g, "y", dt, NULL, &yt), SN_OK);
    sn_attr attrs[] = {sn_attr_ints("starts", starts, n), sn_attr_ints("ends", ends, n),
                       sn_attr_ints("axes", axes, n), sn_attr_ints("steps", steps, n)};
    cr_assert_eq(sn_graph_add_node(g, SN_OP_SLICE, "s", &xt, 1, &yt, 1, attrs, 4, &ni), SN_OK);
    const sn_op_def *def = sn_op_get(SN_OP_SLICE);
    sn_value in = {.present = true, .dtype = dt, .rank = rank, .data = x}, out = {.present = true};
    memcpy(in.d, xs.d, sizeof in.d);
    sn_error err = {0};
    cr_assert_eq(def->infer(&g->nodes[ni], &in, &out, &err), SN_OK, "%s", err.message);
    int64_t ynum = 1;
    for (int k = 0; k < rank; k++) {
        cr_assert_eq(out.d[k], cnt[k], "dim %d: %lld, reference %d", k, (long long)out.d[k], cnt[k]);
        ynum *= out.d[k];
    }
    uint8_t *y = malloc((size_t)(ynum ? ynum : 1) * es);
    out.data = y;
    sn_cpu_ctx ctx = {.threads = 2};
    cr_assert_eq(def->cpu_run(&ctx, &g->nodes[ni], &in, &out, &err), SN_OK, "%s", err.message);
    for (int64_t e = 0; e < ynum; e++) {
        int64_t rem = e, src = 0, stride = 1;
        for (int k = rank - 1; k >= 0; k--) {
            src += idx[k][rem % cnt[k]] * stride;
            rem /= cnt[k];
            stride *= xs.d[k];
        }
        cr_assert_eq(memcmp(y + e * (int64_t)es, x + src * (int64_t)es, es), 0,
                     "element %lld differs", (long long)e);
    }
    free(x);
    free(y);
    sn_graph_destroy(g);
}

Test(slice, random_against_reference) {
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("slice random"));
    for (int i = 0; i < 400; i++) one_case(&r, i % 3 ? SN_DTYPE_F32 : SN_DTYPE_I64);
}

Test(slice, attribute_errors) {
    sn_graph *g = NULL;
    cr_assert_eq(sn_graph_create(&g), SN_OK);
    sn_shape s = {.rank = 2, .d = {3, 4}};
    int xt, yt, ni;
    cr_assert_eq(sn_graph_add_tensor(g, "x", SN_DTYPE_F32, &s, &xt), SN_OK);
    cr_assert_eq(sn_graph_add_tensor(g, "y", SN_DTYPE_F32, NULL, &yt), SN_OK);
    int64_t z[2] = {0, 0}, one[2] = {1, 1}, ax_rep[2] = {1, -1}, ax_bad[1] = {2};
    struct { sn_attr a[4]; int n; const char *want; } cases[] = {
        {{sn_attr_ints("starts", z, 1)}, 1, "required"},
        {{sn_attr_ints("starts", z, 2), sn_attr_ints("ends", one, 1)}, 2, "one value per"},
        {{sn_attr_ints("starts", z, 2), sn_attr_ints("ends", one, 2), sn_attr_ints("axes", ax_rep, 2)}, 3, "repeated"},
        {{sn_attr_ints("starts", z, 1), sn_attr_ints("ends", one, 1), sn_attr_ints("axes", ax_bad, 1)}, 3, "out of range"},
        {{sn_attr_ints("starts", z, 1), sn_attr_ints("ends", one, 1), sn_attr_ints("steps", z, 1)}, 3, "is 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int y2;
        char nm[16];
        snprintf(nm, sizeof nm, "y%zu", i);
        cr_assert_eq(sn_graph_add_tensor(g, nm, SN_DTYPE_F32, NULL, &y2), SN_OK);
        cr_assert_eq(sn_graph_add_node(g, SN_OP_SLICE, "s", &xt, 1, &y2, 1, cases[i].a, cases[i].n, &ni), SN_OK);
        sn_value in = {.present = true, .dtype = SN_DTYPE_F32, .rank = 2, .d = {3, 4}}, out = {.present = true};
        sn_error err = {0};
        cr_expect_neq(sn_op_get(SN_OP_SLICE)->infer(&g->nodes[ni], &in, &out, &err), SN_OK, "case %zu", i);
        cr_expect(strstr(err.message, cases[i].want), "case %zu: %s", i, err.message);
    }
    (void)yt;
    sn_graph_destroy(g);
}
