/*
 * test_cuda_plan.c - GPU-side pieces that need no GPU: the device memory plan (no two tensors
 * live at the same step share a byte, aliases keep their root alive, offsets aligned, the arena
 * no bigger than the naive sum) on every zoo model and op case in both storage sizes; every
 * node's launch shape is sane; and the host half / bfloat16 conversions (exhaustive round trips,
 * ties to even, overflow, NaN).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#ifndef SENTINEL_HAVE_CUDA
Test(cuda_plan, skipped) { cr_skip_test("built without the CUDA toolkit (SENTINEL_HAVE_CUDA)"); }
#else

#include "codegen.h"
#include "gpu_cases.h"
#include "gpu_plan.h"
#include "half.h"
#include "zoo.h"

/* Every pair of ARENA roots whose lifetimes share a step has disjoint bytes; every tensor a node
 * reads or writes has a live root at that step. */
static void check_plan(const sn_graph *g, const char *what, int max_batch, size_t elem) {
    sn_gpu_plan p;
    sn_error e = {0};
    cr_assert_eq(sn_gpu_plan_make(g, max_batch, elem, &p, &e), SN_OK, "%s: %s", what, e.message);
    int arena = 0;
    for (int t = 0; t < p.n_tensors; t++) {
        if (p.role[t] != SN_GT_ARENA) continue;
        arena++;
        cr_assert_eq(p.root[t], t);
        cr_assert_eq(p.offset[t] % SN_GPU_ALIGN, 0);
        cr_assert_leq(p.first[t], p.last[t]);
        cr_assert_leq(p.offset[t] + p.bytes[t], p.arena_bytes, "%s: '%s' overruns the arena", what,
                      g->tensors[t].name);
        for (int u = 0; u < t; u++) {
            if (p.role[u] != SN_GT_ARENA) continue;
            bool live = p.first[t] <= p.last[u] && p.first[u] <= p.last[t];
            bool overlap =
                p.offset[t] < p.offset[u] + p.bytes[u] && p.offset[u] < p.offset[t] + p.bytes[t];
            cr_assert(!(live && overlap && p.bytes[t] && p.bytes[u]),
                      "%s: '%s' [%d,%d] and '%s' [%d,%d] share bytes", what, g->tensors[t].name,
                      p.first[t], p.last[t], g->tensors[u].name, p.first[u], p.last[u]);
        }
    }
    cr_assert_leq(p.arena_bytes, p.naive_bytes);
    /* Every access lands inside its root's lifetime. */
    for (int s = 0; s < p.n_order; s++) {
        const sn_node *n = &g->nodes[p.order[s]];
        for (int k = 0; k < n->n_inputs + n->n_outputs; k++) {
            int t = k < n->n_inputs ? n->inputs[k] : n->outputs[k - n->n_inputs];
            if (t < 0) continue;
            int r = p.root[t];
            cr_assert_neq(p.role[r], SN_GT_UNUSED);
            cr_assert_neq(p.role[r], SN_GT_ALIAS, "%s: alias chains must resolve", what);
            if (p.role[r] == SN_GT_ARENA)
                cr_assert(p.first[r] <= s + 1 && s + 1 <= p.last[r],
                          "%s: '%s' used at step %d outside [%d,%d]", what, g->tensors[t].name,
                          s + 1, p.first[r], p.last[r]);
        }
    }
    for (int i = 0; i < g->n_outputs; i++) {
        int r = p.root[g->outputs[i]];
        if (p.role[r] == SN_GT_ARENA) cr_assert_eq(p.last[r], p.last_step);
        if (elem == 2) cr_assert_neq(p.role[g->outputs[i]], SN_GT_OUTPUT);
    }
    if (elem == 2)
        for (int i = 0; i < g->n_inputs; i++) cr_assert_eq(p.role[g->inputs[i]], SN_GT_ARENA);
    cr_assert_gt(arena + g->n_outputs, 0);
    sn_gpu_plan_free(&p);
}

/* Launch shapes: positive block, at least one block per grid dimension at batch 1 and 64. */
static void check_launches(const sn_graph *g, const char *what) {
    sn_cuda_codegen_ctx ctx;
    sn_error e = {0};
    cr_assert_eq(sn_cuda_codegen_ctx_init(&ctx, g, 64, SN_GPU_FP16, &e), SN_OK, "%s", e.message);
    for (int i = 0; i < g->n_nodes; i++) {
        sn_cuda_node_kind kind;
        sn_cuda_kernel *ks = NULL;
        int nk = 0;
        cr_assert_eq(sn_cuda_codegen_node(&ctx, i, SN_CONV_AUTO, &kind, &ks, &nk, &e), SN_OK,
                     "%s: %s", what, e.message);
        for (int k = 0; k < nk; k++) {
            cr_assert(ks[k].block >= 32 && ks[k].block <= 1024 && ks[k].block % 32 == 0,
                      "%s: %s: block %d", what, ks[k].label, ks[k].block);
            for (int d = 0; d < 3; d++)
                for (int b = 1; b <= 64; b += 63) {
                    int64_t n = sn_grid_dim_eval(ks[k].grid[d], b);
                    cr_assert(n >= 1 && n <= (d ? 65535 : INT32_MAX), "%s: %s: grid[%d] = %lld",
                              what, ks[k].label, d, (long long)n);
                }
            for (int a = 0; a < ks[k].n_args; a++)
                if (ks[k].args[a].kind == SN_CUDA_ARG_AUX)
                    cr_assert_lt(ks[k].args[a].index, ks[k].n_aux);
        }
        sn_cuda_kernels_free(ks, nk);
    }
    sn_cuda_codegen_ctx_free(&ctx);
}

Test(cuda_plan, zoo_models_never_share_live_bytes) {
    for (int m = 0; m < sn_zoo_count(); m++) {
        sn_graph *g = NULL;
        sn_error e = {0};
        cr_assert_eq(sn_gpu_zoo_optimized(sn_zoo_name(m), &g, &e), SN_OK, "%s", e.message);
        check_plan(g, sn_zoo_name(m), 64, 4);
        check_plan(g, sn_zoo_name(m), 7, 2);
        check_launches(g, sn_zoo_name(m));
        sn_graph_destroy(g);
    }
}

Test(cuda_plan, op_cases_never_share_live_bytes) {
    for (int i = 0; i < sn_gpu_case_count(); i++) {
        sn_graph *g = NULL;
        sn_error e = {0};
        cr_assert_eq(sn_gpu_case_build(i, &g, &e), SN_OK, "%s", e.message);
        check_plan(g, sn_gpu_case_name(i), 64, 4);
        check_plan(g, sn_gpu_case_name(i), 3, 2);
        check_launches(g, sn_gpu_case_name(i));
        sn_graph_destroy(g);
    }
}

/* Reshape outputs share their input's bytes, and the root lives as long as the alias is read. */
Test(cuda_plan, reshape_aliases_its_input) {
    int idx = -1;
    for (int i = 0; i < sn_gpu_case_count(); i++)
        if (!strcmp(sn_gpu_case_name(i), "layout")) idx = i;
    cr_assert_geq(idx, 0);
    sn_graph *g = NULL;
    sn_error e = {0};
    cr_assert_eq(sn_gpu_case_build(idx, &g, &e), SN_OK, "%s", e.message);
    sn_gpu_plan p;
    cr_assert_eq(sn_gpu_plan_make(g, 4, 4, &p, &e), SN_OK, "%s", e.message);
    int flat = sn_graph_find_tensor(g, "flat"), x = sn_graph_find_tensor(g, "x");
    cr_assert(flat >= 0 && x >= 0);
    cr_assert_eq(p.role[flat], SN_GT_ALIAS);
    cr_assert_eq(p.root[flat], x);
    cr_assert_eq(p.role[x], SN_GT_INPUT);
    sn_gpu_plan_free(&p);
    cr_assert_eq(sn_gpu_plan_make(g, 4, 2, &p, &e), SN_OK, "%s", e.message);
    cr_assert_eq(p.role[x], SN_GT_ARENA);
    cr_assert_eq(p.root[flat], x);
    int reader = sn_graph_find_tensor(g, "flat_relu");
    cr_assert_geq(p.last[x], p.first[p.root[reader]]);
    sn_gpu_plan_free(&p);
    sn_graph_destroy(g);
}

static double ref_round_f16(double v) {
    /* The nearest half to v, ties to even, by search over the representable neighbours. */
    if (isnan(v)) return v;
    if (fabs(v) >= 65520.0) return copysign(INFINITY, v);
    double best = 0.0, dist = INFINITY;
    for (uint32_t h = 0; h < 0x7c00u; h++) {
        double c = sn_f16_to_f32((uint16_t)h) * (v < 0 ? -1.0 : 1.0);
        double d = fabs(c - v);
        if (d < dist || (d == dist && !(h & 1))) {
            dist = d;
            best = c;
        }
    }
    return best;
}

Test(cuda_plan, half_conversions) {
    /* Every half converts to float and back unchanged (NaNs stay NaNs). */
    for (uint32_t h = 0; h < 0x10000u; h++) {
        float f = sn_f16_to_f32((uint16_t)h);
        uint16_t back = sn_f32_to_f16(f);
        if (isnan(f))
            cr_assert((back & 0x7c00u) == 0x7c00u && (back & 0x3ffu));
        else
            cr_assert_eq(back, h, "half 0x%04x -> %g -> 0x%04x", h, (double)f, back);
        cr_assert_eq(sn_f32_to_bf16(sn_bf16_to_f32((uint16_t)h)),
                     isnan(sn_bf16_to_f32((uint16_t)h)) ? (uint16_t)(h | 0x40u) : h);
    }
    /* Random floats, and every midpoint between neighbouring halves, round to nearest even. */
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("half_conversions"));
    for (int i = 0; i < 300; i++) {
        double v = sn_rng_uniform(&r, -70000.0, 70000.0) * pow(2.0, -(double)(i % 40));
        float f = (float)v;
        cr_assert_eq(sn_f16_to_f32(sn_f32_to_f16(f)), (float)ref_round_f16(f), "%.9g", (double)f);
    }
    for (uint32_t h = 0; h < 0x7bffu; h++) {
        float a = sn_f16_to_f32((uint16_t)h), b = sn_f16_to_f32((uint16_t)(h + 1));
        float mid = (float)(((double)a + (double)b) / 2.0);
        cr_assert_eq(sn_f32_to_f16(mid), (h & 1) ? h + 1 : h, "midpoint after 0x%04x", h);
        cr_assert_eq(sn_f32_to_f16(-mid), ((h & 1) ? h + 1 : h) | 0x8000u);
    }
    cr_assert_eq(sn_f32_to_f16(65504.0f), 0x7bffu);
    cr_assert_eq(sn_f32_to_f16(65519.0f), 0x7bffu);
    cr_assert_eq(sn_f32_to_f16(65520.0f), 0x7c00u);
    cr_assert_eq(sn_f32_to_f16(-1e30f), 0xfc00u);
    cr_assert_eq(sn_f32_to_f16(1e-10f), 0);
    cr_assert_eq(sn_f32_to_bf16(1.0f), 0x3f80u);
    cr_assert_eq(sn_f32_to_bf16(1.00390625f), 0x3f80u); /* tie: to even */
    cr_assert_eq(sn_f32_to_bf16(1.01171875f), 0x3f82u); /* tie: to even (up) */
    cr_assert_eq(sn_f32_to_bf16(3.4e38f), 0x7f80u);     /* rounds past the largest: inf */
    cr_assert(isnan(sn_bf16_to_f32(sn_f32_to_bf16(NAN))));
}

#endif /* SENTINEL_HAVE_CUDA */
