/*
 * test_api.c - engines through the public API: every argument error's status and message,
 * options and stats structs of older (smaller) sizes, runs at several batches against the same
 * computation in double precision with NaN-poisoned outputs, stats, two threads sharing one
 * engine, and device choice on machines with or without a GPU. Models and loading are in
 * test_api_model.c.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "api_net.h"

/* --- engines: arguments ------------------------------------------------------------------- */

static void expect_create_error(const sn_model *m, const sn_engine_options *o, sn_status want,
                                const char *needle) {
    sn_engine *e = (sn_engine *)1;
    sn_error err = {0};
    sn_status st = sn_engine_create(m, o, &e, &err);
    cr_assert_eq(st, want, "got %s (%s), want %s", sn_status_string(st), err.message,
                 sn_status_string(want));
    cr_assert_null(e);
    cr_assert_eq(err.status, want);
    cr_assert(strstr(err.message, needle), "message '%s' lacks '%s'", err.message, needle);
}

Test(api, engine_create_argument_errors) {
    net_w w;
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("api.engine_create_argument_errors"));
    random_net(&r, &w);
    sn_model *m = net_model(&w);
    sn_engine_options o = SN_ENGINE_OPTIONS_INIT;
    expect_create_error(NULL, &o, SN_ERR_INVALID_ARGUMENT, "model");
    sn_error err = {0};
    cr_assert_eq(sn_engine_create(m, &o, NULL, &err), SN_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(err.message, "out"), "%s", err.message);
    cr_assert_eq(sn_engine_create(m, &o, NULL, NULL), SN_ERR_INVALID_ARGUMENT);

    o.size = 0;
    expect_create_error(m, &o, SN_ERR_INVALID_ARGUMENT, "SN_ENGINE_OPTIONS_INIT");
    o = (sn_engine_options)SN_ENGINE_OPTIONS_INIT;
    o.device = (sn_device)7;
    expect_create_error(m, &o, SN_ERR_INVALID_ARGUMENT, "device 7");
    o = (sn_engine_options)SN_ENGINE_OPTIONS_INIT;
    o.threads = -2;
    expect_create_error(m, &o, SN_ERR_INVALID_ARGUMENT, "threads -2");
    o = (sn_engine_options)SN_ENGINE_OPTIONS_INIT;
    o.max_batch = -1;
    expect_create_error(m, &o, SN_ERR_INVALID_ARGUMENT, "max_batch -1");
    o = (sn_engine_options)SN_ENGINE_OPTIONS_INIT;
    o.gpu_index = -1;
    expect_create_error(m, &o, SN_ERR_INVALID_ARGUMENT, "gpu_index -1");
    o = (sn_engine_options)SN_ENGINE_OPTIONS_INIT;
    o.optimize = 2;
    expect_create_error(m, &o, SN_ERR_INVALID_ARGUMENT, "optimize 2");
    o = (sn_engine_options)SN_ENGINE_OPTIONS_INIT;
    o.layout = (sn_layout)5;
    expect_create_error(m, &o, SN_ERR_INVALID_ARGUMENT, "layout 5");
    o = (sn_engine_options)SN_ENGINE_OPTIONS_INIT;
    o.optimize = 0;
    o.layout = SN_LAYOUT_NHWC;
    expect_create_error(m, &o, SN_ERR_INVALID_ARGUMENT, "optimize=1");
    sn_model_destroy(m);
}

Test(api, engine_options_null_and_older_prefix) {
    net_w w;
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("api.engine_options_null_and_older_prefix"));
    random_net(&r, &w);
    sn_model *m = net_model(&w);
    sn_error err = {0};
    sn_engine *e;
    /* NULL options are the defaults: AUTO device, all cores, max_batch 1. */
    ok(sn_engine_create(m, NULL, &e, &err), &err);
    cr_assert(sn_engine_device(e) == SN_DEVICE_CPU || sn_engine_device(e) == SN_DEVICE_GPU);
    run_and_check(e, &w, &r, 1);
    float x[2 * IN] = {0}, f[2 * OUT], b[2 * IN];
    const void *ins[1] = {x};
    void *outs[2] = {f, b};
    cr_assert_eq(sn_engine_run(e, 2, ins, outs, &err), SN_ERR_INVALID_ARGUMENT);
    sn_engine_destroy(e);

    /* A caller whose struct ends before max_batch: the field it set beyond its size is ignored. */
    sn_engine_options o = SN_ENGINE_OPTIONS_INIT;
    o.device = SN_DEVICE_CPU;
    o.threads = 1;
    o.max_batch = 3;
    o.size = offsetof(sn_engine_options, max_batch);
    ok(sn_engine_create(m, &o, &e, &err), &err);
    cr_assert_eq(sn_engine_run(e, 2, ins, outs, &err), SN_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(err.message, "1..1"), "%s", err.message);
    sn_engine_stats st = SN_ENGINE_STATS_INIT;
    ok(sn_engine_get_stats(e, &st), NULL);
    cr_assert_eq(st.threads, 1);
    /* ... and what it cannot know about takes the defaults: optimised, in the CPU's layout */
    cr_assert_eq(st.layout, SN_LAYOUT_NCHW);
    cr_assert_gt(st.optimize_ms, 0.0);
    /* Creation took longer than its optimisation alone; a CPU engine builds no GPU kernels. */
    cr_assert_gt(st.create_ms, st.optimize_ms);
    cr_assert(st.kernels == 0 && st.kernels_compiled == 0 && st.kernels_cached == 0);
    sn_engine_destroy(e);
    sn_engine_destroy(NULL);
    sn_model_destroy(m);
}

Test(api, engine_run_argument_errors) {
    net_w w;
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("api.engine_run_argument_errors"));
    random_net(&r, &w);
    sn_model *m = net_model(&w);
    sn_engine *e = cpu_engine(m, 2, 1);
    float x[2 * IN], f[2 * OUT], b[2 * IN];
    sn_rng_fill(&r, x, 2 * IN, -1, 1);
    const void *ins[1] = {x}, *null_in[1] = {NULL};
    void *outs[2] = {f, b}, *null_out[2] = {f, NULL};
    sn_error err = {0};
    struct {
        sn_engine *e;
        int batch;
        const void *const *in;
        void *const *out;
        const char *needle;
    } cases[] = {
        {NULL, 1, ins, outs, "engine is NULL"},
        {e, 0, ins, outs, "batch 0 is outside 1..2"},
        {e, 3, ins, outs, "batch 3 is outside 1..2"},
        {e, -1, ins, outs, "batch -1"},
        {e, 1, NULL, outs, "inputs is NULL"},
        {e, 1, null_in, outs, "inputs[0] is NULL"},
        {e, 1, ins, NULL, "outputs is NULL"},
        {e, 1, ins, null_out, "outputs[1] is NULL"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sn_status st = sn_engine_run(cases[i].e, cases[i].batch, cases[i].in, cases[i].out, &err);
        cr_assert_eq(st, SN_ERR_INVALID_ARGUMENT, "case %zu: %s", i, sn_status_string(st));
        cr_assert(strstr(err.message, cases[i].needle), "case %zu: '%s' lacks '%s'", i,
                  err.message, cases[i].needle);
        cr_assert_eq(sn_engine_run(cases[i].e, cases[i].batch, cases[i].in, cases[i].out, NULL),
                     SN_ERR_INVALID_ARGUMENT);
    }
    /* Overlapping buffers: outputs with each other, and an output over the input. */
    float big[4 * IN];
    void *overlap[2] = {big, big + 4};
    cr_assert_eq(sn_engine_run(e, 1, ins, overlap, &err), SN_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(err.message, "outputs[1] overlaps outputs[0]"), "%s", err.message);
    void *over_in[2] = {f, x + IN};
    cr_assert_eq(sn_engine_run(e, 2, ins, over_in, &err), SN_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(err.message, "outputs[1] overlaps inputs[0]"), "%s", err.message);
    /* ...but at batch 1 the input ends where that output starts. */
    ok(sn_engine_run(e, 1, ins, over_in, &err), &err);

    cr_assert_eq(sn_engine_input_bytes(e, 0), IN * sizeof(float));
    cr_assert_eq(sn_engine_output_bytes(e, 0), OUT * sizeof(float));
    cr_assert_eq(sn_engine_output_bytes(e, 1), IN * sizeof(float));
    cr_assert_eq(sn_engine_input_bytes(e, 1), 0);
    cr_assert_eq(sn_engine_output_bytes(e, -1), 0);
    cr_assert_eq(sn_engine_input_bytes(NULL, 0), 0);
    sn_engine_stats st = SN_ENGINE_STATS_INIT;
    cr_assert_eq(sn_engine_get_stats(NULL, &st), SN_ERR_INVALID_ARGUMENT);
    cr_assert_eq(sn_engine_get_stats(e, NULL), SN_ERR_INVALID_ARGUMENT);
    st.size = 0;
    cr_assert_eq(sn_engine_get_stats(e, &st), SN_ERR_INVALID_ARGUMENT);
    sn_engine_destroy(e);
    sn_model_destroy(m);
}

/* --- engines: results --------------------------------------------------------------------- */

Test(api, run_matches_reference_at_each_batch) {
    net_w w;
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("api.run_matches_reference_at_each_batch"));
    random_net(&r, &w);
    sn_model *m = net_model(&w);
    for (int threads = 1; threads <= 2; threads++) {
        sn_engine *e = cpu_engine(m, MAXB, threads);
        /* Batches in an order that changes the shapes every run and returns to earlier ones. */
        int batches[] = {1, 3, 3, MAXB, 2, 1, 3};
        for (size_t i = 0; i < sizeof batches / sizeof batches[0]; i++)
            run_and_check(e, &w, &r, batches[i]);
        sn_engine_stats st = SN_ENGINE_STATS_INIT;
        ok(sn_engine_get_stats(e, &st), NULL);
        cr_assert_eq(st.size, sizeof st);
        cr_assert_eq(st.runs, sizeof batches / sizeof batches[0]);
        cr_assert_eq(st.threads, threads);
        cr_assert_eq(st.weight_bytes, (IN + OUT * IN + OUT) * sizeof(float));
        /* Six [MAXB,8] intermediates, 128 bytes each, never more than two or three live. */
        cr_assert_eq(st.naive_bytes, 6 * 128, "naive %zu", st.naive_bytes);
        cr_assert(st.activation_bytes >= 2 * 128 && st.activation_bytes < st.naive_bytes,
                  "arena %zu, naive %zu", st.activation_bytes, st.naive_bytes);
        cr_assert_eq(sn_engine_fallback_reason(e), NULL);
        cr_assert_eq(sn_engine_device(e), SN_DEVICE_CPU);
        sn_engine_destroy(e);
    }
    sn_model_destroy(m);
}

Test(api, stats_respect_an_older_smaller_struct) {
    net_w w;
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("api.stats_respect_an_older_smaller_struct"));
    random_net(&r, &w);
    sn_model *m = net_model(&w);
    sn_engine *e = cpu_engine(m, 2, 1);
    run_and_check(e, &w, &r, 2);
    sn_engine_stats st;
    memset(&st, 0xAB, sizeof st);
    st.size = offsetof(sn_engine_stats, weight_bytes);
    ok(sn_engine_get_stats(e, &st), NULL);
    cr_assert_eq(st.size, offsetof(sn_engine_stats, weight_bytes));
    cr_assert_gt(st.activation_bytes, 0);
    cr_assert_gt(st.naive_bytes, 0);
    size_t poison;
    memset(&poison, 0xAB, sizeof poison);
    cr_assert_eq(st.weight_bytes, poison, "a field beyond the caller's size was written");
    cr_assert_eq(st.threads, (int)0xABABABAB);
    sn_engine_destroy(e);
    sn_model_destroy(m);
}

/* A wide elementwise graph, slow enough per run (about a millisecond) that two threads' runs
 * really overlap: x[N,W] -> a = Relu(x) -> b = Add(a, c) -> s = Sigmoid(b) -> d = Mul(s, x)
 * -> y = Add(d, a). Without the engine's lock they would share one arena and corrupt it. */
enum { WIDE = 1 << 16 };

static sn_model *wide_model(const float *c) {
    sn_graph *g;
    ok(sn_graph_create(&g), NULL);
    int64_t xd[2] = {SN_DIM_BATCH, WIDE}, cd[1] = {WIDE};
    int x = tensor(g, "x", 2, xd), ct = constant(g, "c", 1, cd, c);
    int a = tensor(g, "a", 0, NULL), b = tensor(g, "b", 0, NULL), s = tensor(g, "s", 0, NULL);
    int d = tensor(g, "d", 0, NULL), y = tensor(g, "y", 0, NULL);
    ok(sn_graph_add_input(g, x), NULL);
    node(g, SN_OP_RELU, "relu", x, -1, -1, a);
    node(g, SN_OP_ADD, "add_c", a, ct, -1, b);
    node(g, SN_OP_SIGMOID, "sigmoid", b, -1, -1, s);
    node(g, SN_OP_MUL, "mul", s, x, -1, d);
    node(g, SN_OP_ADD, "add_a", d, a, -1, y);
    ok(sn_graph_add_output(g, y), NULL);
    sn_model *m;
    sn_error err = {0};
    ok(sn_model_from_graph(g, &m, &err), &err);
    return m;
}

typedef struct worker {
    sn_engine *e;
    const float *c;
    pthread_barrier_t *start;
    uint64_t seed;
    int failures, runs;
} worker;

static void *worker_main(void *arg) {
    worker *k = arg;
    sn_rng r;
    sn_rng_seed(&r, k->seed);
    float *x = malloc(sizeof(float) * MAXB * WIDE), *y = malloc(sizeof(float) * MAXB * WIDE);
    double *want = malloc(sizeof(double) * MAXB * WIDE);
    pthread_barrier_wait(k->start);
    for (int it = 0; it < 25 && x && y && want; it++) {
        int batch = 1 + (int)(sn_rng_u64(&r) % MAXB);
        size_t n = (size_t)batch * WIDE;
        sn_rng_fill(&r, x, n, -2, 2);
        for (size_t i = 0; i < n; i++) y[i] = NAN;
        const void *ins[1] = {x};
        void *outs[1] = {y};
        /* No Criterion asserts off the main thread: count failures instead. */
        if (sn_engine_run(k->e, batch, ins, outs, NULL) != SN_OK) {
            k->failures++;
            continue;
        }
        k->runs++;
        for (size_t i = 0; i < n; i++) {
            double xv = x[i], av = xv > 0 ? xv : 0;
            double sv = 1.0 / (1.0 + exp(-(av + k->c[i % WIDE])));
            want[i] = sv * xv + av;
        }
        if (sn_compare_f32(y, want, n, 1e-5, 1e-6, NULL) >= 0) k->failures++;
    }
    free(x);
    free(y);
    free(want);
    return NULL;
}

Test(api, two_threads_share_one_engine) {
    sn_rng r;
    uint64_t seed = sn_test_fresh_seed("api.two_threads_share_one_engine");
    sn_rng_seed(&r, seed);
    float *c = malloc(sizeof(float) * WIDE);
    cr_assert_not_null(c);
    sn_rng_fill(&r, c, WIDE, -1, 1);
    sn_model *m = wide_model(c);
    sn_engine *e = cpu_engine(m, MAXB, 1);
    pthread_barrier_t start;
    cr_assert_eq(pthread_barrier_init(&start, NULL, 2), 0);
    worker k[2] = {{e, c, &start, seed + 1, 0, 0}, {e, c, &start, seed + 2, 0, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) cr_assert_eq(pthread_create(&th[i], NULL, worker_main, &k[i]), 0);
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    cr_assert_eq(k[0].failures + k[1].failures, 0, "%d and %d wrong runs", k[0].failures,
                 k[1].failures);
    cr_assert_eq(k[0].runs + k[1].runs, 50);
    sn_engine_stats st = SN_ENGINE_STATS_INIT;
    ok(sn_engine_get_stats(e, &st), NULL);
    cr_assert_eq(st.runs, 50);
    sn_engine_destroy(e);
    sn_model_destroy(m);
    free(c);
}

/* --- devices ------------------------------------------------------------------------------ */

Test(api, gpu_request_and_auto_fallback) {
    net_w w;
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("api.gpu_request_and_auto_fallback"));
    random_net(&r, &w);
    sn_model *m = net_model(&w);
    sn_error probe = {0}, err = {0};
    int count = -1;
    sn_status pst = sn_gpu_probe(&count, &probe);
    cr_assert(pst == SN_OK || pst == SN_ERR_NO_DEVICE, "%s", sn_status_string(pst));
    if (pst == SN_OK)
        cr_assert_gt(count, 0);
    else {
        cr_assert_eq(count, 0);
        cr_assert_eq(probe.status, SN_ERR_NO_DEVICE);
        cr_assert_neq(probe.message[0], '\0');
        cr_assert_eq(sn_gpu_probe(NULL, NULL), SN_ERR_NO_DEVICE);
    }

    sn_engine_options o = SN_ENGINE_OPTIONS_INIT;
    o.device = SN_DEVICE_GPU;
    sn_engine *e = NULL;
    sn_status st = sn_engine_create(m, &o, &e, &err);
    if (pst != SN_OK) {
        cr_assert_eq(st, SN_ERR_NO_DEVICE, "%s", sn_status_string(st));
        cr_assert(strstr(err.message, probe.message), "'%s' lacks the probe's '%s'", err.message,
                  probe.message);
        cr_assert_null(e);
    } else if (st == SN_OK) {
        cr_assert_eq(sn_engine_device(e), SN_DEVICE_GPU);
        sn_engine_destroy(e);
    } else {
        cr_assert_eq(st, SN_ERR_UNSUPPORTED, "%s: %s", sn_status_string(st), err.message);
        cr_assert(strstr(err.message, "GPU backend"), "%s", err.message);
    }

    o.device = SN_DEVICE_AUTO;
    o.max_batch = 2;
    ok(sn_engine_create(m, &o, &e, &err), &err);
    const char *why = sn_engine_fallback_reason(e);
    if (sn_engine_device(e) == SN_DEVICE_CPU) {
        cr_assert_not_null(why, "AUTO fell back to the CPU without a reason");
        cr_assert_eq(strchr(why, '\n'), NULL, "reason is not one line: %s", why);
        if (pst != SN_OK) cr_assert_str_eq(why, probe.message);
    } else {
        cr_assert_eq(sn_engine_device(e), SN_DEVICE_GPU);
        cr_assert_null(why);
    }
    run_and_check(e, &w, &r, 2);
    sn_engine_destroy(e);

    /* A GPU index the driver does not have is a clear error (on any machine). */
    o.device = SN_DEVICE_GPU;
    o.gpu_index = 4096;
    cr_assert_eq(sn_engine_create(m, &o, &e, &err), SN_ERR_NO_DEVICE);
    sn_model_destroy(m);
}

