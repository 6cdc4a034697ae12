/*
 * test_memory_plan.c - the arena planner: hand cases with known answers, argument errors, and a
 * property test over random lifetime sets (live tensors never share bytes, offsets aligned,
 * arena between the peak live bytes and the naive sum, deterministic).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "memory_plan.h"
#include "test_support.h"

static size_t align_up(size_t x, size_t a) { return (x + a - 1) & ~(a - 1); }

static void plan_ok(const sn_mem_request *req, int n, size_t align, size_t *off, size_t *arena,
                    size_t *naive) {
    sn_error err = {0};
    sn_status st = sn_memory_plan(req, n, align, off, arena, naive, &err);
    cr_assert_eq(st, SN_OK, "plan failed: %s", err.message);
}

Test(memory_plan, empty) {
    size_t arena = 123, naive = 456;
    plan_ok(NULL, 0, 64, NULL, &arena, &naive);
    cr_assert_eq(arena, 0);
    cr_assert_eq(naive, 0);
}

Test(memory_plan, chain_reuses_dead_tensors) {
    /* A -> B -> C -> D, each read only by the next step: A and C share, B and D share. */
    sn_mem_request req[4] = {{1000, 0, 1}, {1000, 1, 2}, {1000, 2, 3}, {1000, 3, 4}};
    size_t off[4], arena, naive;
    plan_ok(req, 4, 64, off, &arena, &naive);
    cr_assert_eq(naive, 4 * 1024);
    cr_assert_eq(arena, 2 * 1024);
    cr_assert_eq(off[0], off[2]);
    cr_assert_eq(off[1], off[3]);
    cr_assert_neq(off[0], off[1]);
}

Test(memory_plan, all_live_gets_naive_and_all_disjoint_gets_max) {
    sn_mem_request live[3] = {{100, 0, 5}, {300, 1, 4}, {50, 2, 3}};
    size_t off[3], arena, naive;
    plan_ok(live, 3, 64, off, &arena, &naive);
    cr_assert_eq(arena, naive);
    cr_assert_eq(naive, 128 + 320 + 64);

    sn_mem_request apart[3] = {{100, 0, 0}, {300, 1, 1}, {50, 2, 2}};
    plan_ok(apart, 3, 64, off, &arena, &naive);
    cr_assert_eq(arena, 320);
    for (int i = 0; i < 3; i++) cr_assert_eq(off[i], 0);
}

Test(memory_plan, best_fit_prefers_the_smallest_gap) {
    /* After step 0 the long-lived P, R, U leave gaps of 512 bytes at 512 and 256 bytes at 1280;
     * V (128 bytes, live at step 5) must take the 256-byte gap, where first fit would take 512. */
    sn_mem_request req[] = {
        {512, 0, 9}, /* P */
        {512, 0, 0}, /* Q */
        {256, 0, 9}, /* R */
        {256, 0, 0}, /* S */
        {192, 0, 9}, /* U */
        {128, 5, 5}, /* V */
    };
    size_t off[6], arena, naive;
    plan_ok(req, 6, 64, off, &arena, &naive);
    cr_assert_eq(off[0], 0);
    cr_assert_eq(off[1], 512);
    cr_assert_eq(off[2], 1024);
    cr_assert_eq(off[3], 1280);
    cr_assert_eq(off[4], 1536);
    cr_assert_eq(off[5], 1280, "V went to %zu", off[5]);
    cr_assert_eq(arena, 1728);
}

Test(memory_plan, zero_sizes_and_alignment) {
    sn_mem_request req[3] = {{0, 0, 3}, {1, 0, 3}, {65, 0, 3}};
    size_t off[3], arena, naive;
    plan_ok(req, 3, 64, off, &arena, &naive);
    cr_assert_eq(off[0], 0);
    cr_assert_eq(naive, 64 + 128);
    cr_assert_eq(arena, 64 + 128);
    cr_assert_eq(off[1] % 64, 0);
    cr_assert_eq(off[2] % 64, 0);
    cr_assert_neq(off[1], off[2]);
}

Test(memory_plan, argument_errors) {
    sn_mem_request ok[1] = {{8, 0, 0}};
    sn_mem_request bad_life[1] = {{8, 3, 2}};
    sn_mem_request neg[1] = {{8, -1, 2}};
    sn_mem_request huge[2] = {{SIZE_MAX / 2, 0, 1}, {SIZE_MAX / 2, 0, 1}};
    sn_mem_request giant[1] = {{SIZE_MAX - 3, 0, 1}};
    size_t off[2], arena;
    sn_error err = {0};
    cr_assert_eq(sn_memory_plan(ok, 1, 48, off, &arena, NULL, &err), SN_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(err.message, "power of two"), "%s", err.message);
    cr_assert_eq(sn_memory_plan(ok, 1, 0, off, &arena, NULL, &err), SN_ERR_INVALID_ARGUMENT);
    cr_assert_eq(sn_memory_plan(ok, 1, 64, NULL, &arena, NULL, &err), SN_ERR_INVALID_ARGUMENT);
    cr_assert_eq(sn_memory_plan(ok, 1, 64, off, NULL, NULL, &err), SN_ERR_INVALID_ARGUMENT);
    cr_assert_eq(sn_memory_plan(ok, -1, 64, off, &arena, NULL, &err), SN_ERR_INVALID_ARGUMENT);
    cr_assert_eq(sn_memory_plan(bad_life, 1, 64, off, &arena, NULL, &err),
                 SN_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(err.message, "lifetime [3, 2]"), "%s", err.message);
    cr_assert_eq(sn_memory_plan(neg, 1, 64, off, &arena, NULL, &err), SN_ERR_INVALID_ARGUMENT);
    cr_assert_eq(sn_memory_plan(huge, 2, 64, off, &arena, NULL, &err), SN_ERR_OUT_OF_MEMORY);
    cr_assert(strstr(err.message, "overflow"), "%s", err.message);
    cr_assert_eq(sn_memory_plan(giant, 1, 64, off, &arena, NULL, NULL), SN_ERR_OUT_OF_MEMORY);
}

/* Checks every property of one plan; returns nothing, asserts. */
static void check_plan(const sn_mem_request *req, int n, int steps, size_t align,
                       const size_t *off, size_t arena, size_t naive, uint64_t seed) {
    size_t sum = 0;
    for (int i = 0; i < n; i++) {
        size_t sz = align_up(req[i].size, align);
        sum += sz;
        cr_assert_eq(off[i] % align, 0, "seed %llu: offset %zu of %d not aligned to %zu",
                     (unsigned long long)seed, off[i], i, align);
        cr_assert(off[i] + sz <= arena, "seed %llu: tensor %d [%zu,+%zu) beyond arena %zu",
                  (unsigned long long)seed, i, off[i], sz, arena);
        if (req[i].size == 0) continue;
        for (int j = i + 1; j < n; j++) {
            if (req[j].size == 0) continue;
            int live = req[i].first <= req[j].last && req[j].first <= req[i].last;
            if (!live) continue;
            int apart = off[i] + req[i].size <= off[j] || off[j] + req[j].size <= off[i];
            cr_assert(apart, "seed %llu: live tensors %d [%zu,+%zu) and %d [%zu,+%zu) overlap",
                      (unsigned long long)seed, i, off[i], req[i].size, j, off[j], req[j].size);
        }
    }
    cr_assert_eq(naive, sum);
    cr_assert(arena <= naive, "seed %llu: arena %zu > naive %zu", (unsigned long long)seed,
              arena, naive);
    cr_assert_eq(arena % align, 0);
    /* No plan can beat the peak of simultaneously live bytes. */
    for (int s = 0; s < steps; s++) {
        size_t live = 0;
        for (int i = 0; i < n; i++)
            if (req[i].first <= s && s <= req[i].last) live += align_up(req[i].size, align);
        cr_assert(arena >= live, "seed %llu: arena %zu below live bytes %zu at step %d",
                  (unsigned long long)seed, arena, live, s);
    }
}

Test(memory_plan, random_lifetimes_property) {
    uint64_t seed = sn_test_fresh_seed("memory_plan.random_lifetimes_property");
    sn_rng rng;
    sn_rng_seed(&rng, seed);
    static const size_t aligns[] = {1, 16, 64, 256};
    enum { MAX_N = 160 };
    sn_mem_request req[MAX_N];
    size_t off[MAX_N], off2[MAX_N];
    int reused = 0;
    for (int iter = 0; iter < 300; iter++) {
        int n = 1 + (int)(sn_rng_u64(&rng) % MAX_N);
        int steps = 1 + (int)(sn_rng_u64(&rng) % 60);
        size_t align = aligns[sn_rng_u64(&rng) % 4];
        for (int i = 0; i < n; i++) {
            int a = (int)(sn_rng_u64(&rng) % (uint64_t)steps);
            /* Mostly short lifetimes (like activations), some long (skip connections). */
            int span = (sn_rng_u64(&rng) % 5 == 0) ? (int)(sn_rng_u64(&rng) % (uint64_t)steps)
                                                   : (int)(sn_rng_u64(&rng) % 3);
            int b = a + span < steps ? a + span : steps - 1;
            uint64_t kind = sn_rng_u64(&rng) % 10;
            size_t size = kind == 0   ? 0
                          : kind < 3 ? (size_t)(sn_rng_u64(&rng) % 100) + 1
                                     : (size_t)(sn_rng_u64(&rng) % 200000) + 1;
            req[i] = (sn_mem_request){size, a, b};
        }
        size_t arena, naive, arena2, naive2;
        plan_ok(req, n, align, off, &arena, &naive);
        check_plan(req, n, steps, align, off, arena, naive, seed);
        plan_ok(req, n, align, off2, &arena2, &naive2);
        cr_assert_eq(arena, arena2, "seed %llu: not deterministic", (unsigned long long)seed);
        cr_assert_eq(naive, naive2);
        cr_assert_arr_eq(off, off2, (size_t)n * sizeof off[0], "seed %llu: not deterministic",
                         (unsigned long long)seed);
        if (arena < naive) reused++;
    }
    /* With short lifetimes over many steps, almost every plan must reuse memory. */
    cr_assert_gt(reused, 200, "only %d of 300 plans reused any memory", reused);
}
