/*
 * test_cuda_fake_driver.c - the CUDA backend's host side, end to end, on a machine without a
 * GPU: the test re-runs itself with tests/fake_cuda's libcuda.so.1 first on the library path
 * (a driver that allocates host memory and checks launches instead of running them), and the
 * child tests build GPU engines for zoo models - real NVRTC compiles, module loads that check
 * every entry point is in its cubin, weight upload, staging, CUDA graph capture per batch size
 * and replay, device runs, out-of-memory errors with the bytes asked, AUTO's fallback with its
 * reason; sn_engine_run_images packs a batch of images into one upload whose bytes, fed to
 * the preprocessing kernel's arithmetic built for the host, give the CPU's preprocessing bit for
 * bit. Output values are not checked here (nothing computes them); tests/test_gpu_*.c do that
 * on a real GPU.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_support.h"

#if !defined(SENTINEL_HAVE_CUDA) || !defined(SN_FAKE_CUDA_DIR)
Test(cuda_fake, skipped) { cr_skip_test("built without the CUDA toolkit (SENTINEL_HAVE_CUDA)"); }
#else

#include "cuda_api.h"
#include "fake_cuda.h"
#include "gpu_cases.h"
#include "image_cases.h"
#include "model.h"
#include "zoo.h"

static bool in_child(void) { return getenv("SN_FAKE_CUDA_CHILD") != NULL; }

/* The parent: run every cuda_fake_child test under the fake driver and check they passed. */
Test(cuda_fake, host_side_under_a_fake_driver, .timeout = 900) {
    if (in_child()) cr_skip_test("this is the child run");
    sn_error e = {0};
    if (!sn_nvrtc_get(&e)) cr_skip_test("NVRTC is not available: %s", e.message);
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    cr_assert_gt(n, 0);
    self[n] = '\0';
    char *cache = sn_test_mkdtemp();
    char cmd[9000];
    /* BXFI_MAP would make the child believe it is one of Criterion's own workers. */
    snprintf(cmd, sizeof cmd,
             "env -u BXFI_MAP SN_FAKE_CUDA_CHILD=1 SENTINEL_CACHE_DIR='%s' "
             "LD_LIBRARY_PATH='%s'${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "
             "'%s' --jobs 1 --verbose --filter 'cuda_fake_child/*' 2>&1",
             cache, SN_FAKE_CUDA_DIR, self);
    char *out = NULL;
    int sig = 0;
    int rc = sn_test_run(cmd, &out, &sig);
    cr_log_info("%s", out ? out : "");
    cr_assert_eq(rc, 0, "child run failed (exit %d, signal %d):\n%s", rc, sig, out ? out : "");
    cr_assert(out && strstr(out, "Failing: 0 | Crashing: 0"), "%s", out ? out : "");
    cr_assert(strstr(out, "[PASS] cuda_fake_child::zoo_engines"), "%s", out);
    cr_assert(strstr(out, "[PASS] cuda_fake_child::kernel_counts_cold_then_warm"), "%s", out);
    free(out);
    sn_test_rmtree(cache);
    free(cache);
}

static sn_fake_cuda_stats *fake_stats(void) {
    sn_error e = {0};
    cr_assert_not_null(sn_cuda_driver_get(&e), "%s", e.message);
    sn_fake_cuda_stats *fs = sn_fake_cuda_find();
    cr_assert_not_null(fs, "libcuda.so.1 is not the fake driver");
    return fs;
}

#define CHILD_ONLY()                                                                               \
    do {                                                                                           \
        if (!in_child()) cr_skip_test("runs under the fake driver, from cuda_fake's test");        \
    } while (0)

static sn_model *zoo_model(const char *name) {
    sn_graph *g = NULL;
    sn_model *m = NULL;
    sn_error e = {0};
    cr_assert_eq(sn_zoo_build(name, 0, &g, &e), SN_OK, "%s", e.message);
    cr_assert_eq(sn_model_from_graph(g, &m, &e), SN_OK, "%s", e.message);
    return m;
}

/* A GPU engine (asserted to be one) for m; the driver is the fake. */
static sn_engine *gpu_engine(const sn_model *m, int precision, int max_batch, const char *what) {
    sn_engine_options o = SN_ENGINE_OPTIONS_INIT;
    o.device = SN_DEVICE_GPU;
    o.max_batch = max_batch;
    o.precision = (sn_precision)precision;
    sn_engine *eng = NULL;
    sn_error e = {0};
    cr_assert_eq(sn_engine_create(m, &o, &eng, &e), SN_OK, "%s: %s", what, e.message);
    cr_assert_eq(sn_engine_device(eng), SN_DEVICE_GPU, "%s", what);
    return eng;
}

/* Runs batches through an engine; buffers sized for max_batch. */
static void run_batches(sn_engine *eng, const sn_model *m, const int *batches, int nb, int max) {
    const sn_graph *g = sn_model_graph(m);
    void *in[16], *out[16];
    cr_assert_leq(g->n_inputs, 16);
    cr_assert_leq(g->n_outputs, 16);
    for (int i = 0; i < g->n_inputs; i++) {
        size_t b = sn_engine_input_bytes(eng, i) * (size_t)max;
        in[i] = calloc(1, b);
    }
    for (int i = 0; i < g->n_outputs; i++)
        out[i] = calloc(1, sn_engine_output_bytes(eng, i) * (size_t)max);
    for (int k = 0; k < nb; k++) {
        sn_error e = {0};
        cr_assert_eq(sn_engine_run(eng, batches[k], (const void *const *)in, out, &e), SN_OK,
                     "batch %d: %s", batches[k], e.message);
    }
    for (int i = 0; i < g->n_inputs; i++) free(in[i]);
    for (int i = 0; i < g->n_outputs; i++) free(out[i]);
}

Test(cuda_fake_child, zoo_engines, .timeout = 900) {
    CHILD_ONLY();
    static const char *const models[] = {"mobilenetv3_small", "squeezenet1_1", "resnet18"};
    for (int mi = 0; mi < 3; mi++) {
        sn_model *m = zoo_model(models[mi]);
        for (int prec = 0; prec < 4; prec += 2) { /* fp32 and fp16 */
            sn_fake_cuda_stats *fs = fake_stats(), before = *fs;
            sn_engine *eng = gpu_engine(m, prec, 8, models[mi]);
            cr_assert_null(sn_engine_fallback_reason(eng));
            sn_engine_stats st = SN_ENGINE_STATS_INIT;
            cr_assert_eq(sn_engine_get_stats(eng, &st), SN_OK);
            cr_assert_gt(st.activation_bytes, 0);
            cr_assert_gt(st.weight_bytes, 0);
            cr_assert_leq(st.activation_bytes, st.naive_bytes);
            /* Every zoo model takes images, but the image preprocessing kernel is compiled by
             * the first sn_engine_run_images, never here: every module loaded is a graph's. */
            int modules = fs->modules - before.modules;
            cr_assert_gt(modules, 10, "%s: %d kernels loaded", models[mi], modules);
            /* batch 3 twice: captured once, replayed; batch 8 and 1 get their own graphs */
            const int batches[] = {3, 3, 8, 1, 3};
            run_batches(eng, m, batches, 5, 8);
            cr_assert_eq(fs->graph_launches - before.graph_launches, 5);
            cr_assert_eq(fs->captured - before.captured, 3 * modules,
                         "%s: %d launches captured for %d kernels", models[mi],
                         fs->captured - before.captured, modules);
            cr_assert_eq(fs->bad_launches, 0, "%s", fs->last_bad);
            cr_assert_geq(fs->d2h - before.d2h, 5); /* one output block copy per run */
            sn_engine_destroy(eng);
            cr_assert_eq(fs->bytes_in_use, before.bytes_in_use, "device memory leaked");
        }
        sn_model_destroy(m);
    }
}

/* One run_images call: one upload (the packed batch, which the kernel's host build turns into
 * exactly the CPU's preprocessing), one download, the preprocessing kernel (loaded by the
 * engine's first call only) launched once outside the graph, and a forward pass that skips the
 * input cast with half storage. `modules`: the kernels the engine loaded at creation. */
static void images_once(sn_engine *eng, const sn_preprocess *p, sn_layout layout, int n,
                        const sn_image_u8 *im, bool half, int modules, bool first_at_batch,
                        const char *what) {
    sn_fake_cuda_stats *fs = fake_stats(), before = *fs;
    sn_engine_stats s0 = SN_ENGINE_STATS_INIT, s1 = SN_ENGINE_STATS_INIT;
    cr_assert_eq(sn_engine_get_stats(eng, &s0), SN_OK);
    const size_t out_bytes = sn_engine_output_bytes(eng, 0) * (size_t)n;
    void *y = malloc(out_bytes);
    void *out[1] = {y};
    sn_error e = {0};
    cr_assert_eq(sn_engine_run_images(eng, n, im, out, &e), SN_OK, "%s: %s", what, e.message);
    cr_assert_eq(fs->h2d - before.h2d, 1, "%s: %d uploads", what, fs->h2d - before.h2d);
    cr_assert_eq(fs->d2h - before.d2h, 1, "%s: %d downloads", what, fs->d2h - before.d2h);
    cr_assert_eq(fs->bad_launches, 0, "%s: %s", what, fs->last_bad);
    cr_assert_eq(fs->last_h2d_bytes, sn_img_packed_bytes(n, im), "%s: %zu bytes uploaded", what,
                 fs->last_h2d_bytes);
    cr_assert_eq(sn_engine_get_stats(eng, &s1), SN_OK);
    cr_assert_eq(s1.uploads - s0.uploads, 1);
    cr_assert_eq(s1.upload_bytes - s0.upload_bytes, fs->last_h2d_bytes);
    cr_assert_eq(s1.downloads - s0.downloads, 1);
    cr_assert_geq(s1.download_bytes - s0.download_bytes, out_bytes);
    cr_assert_eq(s1.image_runs - s0.image_runs, 1);
    cr_assert_eq(s1.images - s0.images, (uint64_t)n);
    const int loaded = fs->modules - before.modules;
    cr_assert_eq(loaded, s0.image_runs == 0 ? 1 : 0, "%s: %d modules loaded", what, loaded);
    /* The first run at this batch captures the forward pass: every kernel loaded at creation
     * but, with half storage, the input's cast; later runs replay it. The preprocessing kernel
     * is launched on its own, once per call. */
    const int graph = modules - (half ? 1 : 0), captured = fs->captured - before.captured;
    cr_assert_eq(captured, first_at_batch ? graph : 0, "%s: %d of %d kernels captured", what,
                 captured, graph);
    cr_assert_eq(fs->graph_launches - before.graph_launches, 1, "%s", what);
    cr_assert_eq(fs->launches - before.launches, 1 + graph, "%s: %d launches", what,
                 fs->launches - before.launches);
    /* What was uploaded, preprocessed by the kernel's arithmetic, is the CPU's preprocessing. */
    float *want = sn_img_reference(p, layout, n, im);
    const size_t nf = (size_t)n * 3 * p->width * p->height;
    float *got = malloc(nf * sizeof *got);
    cr_assert_not_null(got);
    sn_img_emulate_kernel(p, layout, n, (const void *)fs->last_h2d_dst, got);
    cr_assert(!memcmp(got, want, nf * sizeof *got), "%s: the uploaded batch does not "
              "preprocess to the CPU's values", what);
    free(got);
    free(want);
    free(y);
}

Test(cuda_fake_child, run_images_one_upload) {
    CHILD_ONLY();
    sn_rng rng;
    sn_rng_seed(&rng, sn_test_fresh_seed("cuda_fake_images"));
    static const int w[6] = {31, 1, 64, 7, 20, 333}, h[6] = {17, 9, 1, 7, 24, 45};
    static const int pad[6] = {0, 3, 0, 1, 0, 6};
    sn_image_u8 *im = sn_img_random(&rng, 6, w, h, pad);
    for (int prec = 0; prec < 4; prec += 2) /* fp32, fp16 */
        for (int lay = 0; lay < 2; lay++) {
            const sn_layout layout = lay ? SN_LAYOUT_NHWC : SN_LAYOUT_NCHW;
            sn_preprocess p = sn_img_meta(24, 20, lay ? 0 : 28, lay, &rng);
            sn_model *m = sn_img_model(24, 20, layout, SN_IMG_CONV, &p, &rng);
            char what[64];
            snprintf(what, sizeof what, "%s %s", prec ? "fp16" : "fp32", lay ? "NHWC" : "NCHW");
            sn_fake_cuda_stats *fs = fake_stats(), before = *fs;
            sn_engine *eng = gpu_engine(m, prec, 8, what);
            const int modules = fs->modules - before.modules;
            images_once(eng, &p, layout, 6, im, prec != 0, modules, true, what);
            images_once(eng, &p, layout, 2, im + 3, prec != 0, modules, true, what); /* smaller */
            images_once(eng, &p, layout, 6, im, prec != 0, modules, false, what); /* replayed */
            /* A staged run counts its one upload and one download too. */
            const int batches[] = {2};
            sn_engine_stats s0 = SN_ENGINE_STATS_INIT, s1 = SN_ENGINE_STATS_INIT;
            cr_assert_eq(sn_engine_get_stats(eng, &s0), SN_OK);
            run_batches(eng, m, batches, 1, 8);
            cr_assert_eq(sn_engine_get_stats(eng, &s1), SN_OK);
            cr_assert_eq(s1.uploads - s0.uploads, 1);
            cr_assert_eq(s1.upload_bytes - s0.upload_bytes, 2 * sn_engine_input_bytes(eng, 0));
            cr_assert_eq(s1.downloads - s0.downloads, 1);
            cr_assert_eq(s1.image_runs, 3);
            cr_assert_eq(s1.runs, 4);
            sn_engine_destroy(eng);
            cr_assert_eq(fs->bytes_in_use, before.bytes_in_use, "device memory leaked");
            sn_model_destroy(m);
        }
    sn_img_free(im, 6);
}

Test(cuda_fake_child, graphs_off_launches_directly) {
    CHILD_ONLY();
    setenv("SENTINEL_CUDA_GRAPHS", "0", 1);
    sn_model *m = zoo_model("seed-cnn");
    sn_fake_cuda_stats *fs = fake_stats(), before = *fs;
    sn_engine *eng = gpu_engine(m, SN_PRECISION_FP32, 4, "seed-cnn");
    const int batches[] = {4, 2};
    run_batches(eng, m, batches, 2, 4);
    cr_assert_eq(fs->graph_launches, before.graph_launches);
    /* Every kernel twice; seed-cnn takes images, but none ran, so none was compiled for them. */
    cr_assert_eq(fs->launches - before.launches, 2 * (fs->modules - before.modules));
    cr_assert_eq(fs->bad_launches, 0, "%s", fs->last_bad);
    sn_engine_destroy(eng);
    sn_model_destroy(m);
    unsetenv("SENTINEL_CUDA_GRAPHS");
}

Test(cuda_fake_child, device_run_on_callers_pointers) {
    CHILD_ONLY();
    sn_model *m = zoo_model("seed-cnn");
    sn_engine *eng = gpu_engine(m, SN_PRECISION_FP32, 2, "seed-cnn");
    sn_error e = {0};
    const sn_cuda_driver *cu = sn_cuda_driver_get(&e);
    cr_assert_not_null(cu);
    CUdeviceptr x, y;
    cr_assert_eq(cu->cuMemAlloc(&x, sn_engine_input_bytes(eng, 0) * 2), CUDA_SUCCESS);
    cr_assert_eq(cu->cuMemAlloc(&y, sn_engine_output_bytes(eng, 0) * 2), CUDA_SUCCESS);
    const void *in[1] = {(const void *)(uintptr_t)x};
    void *out[1] = {(void *)(uintptr_t)y};
    sn_fake_cuda_stats *fs = fake_stats(), before = *fs;
    cr_assert_eq(sn_engine_run_device(eng, 2, in, out, NULL, &e), SN_OK, "%s", e.message);
    cr_assert_gt(fs->launches, before.launches);
    cr_assert_eq(fs->bad_launches, 0, "%s", fs->last_bad);
    cr_assert_eq(sn_engine_run_device(eng, 3, in, out, NULL, &e), SN_ERR_INVALID_ARGUMENT);
    cu->cuMemFree(x);
    cu->cuMemFree(y);
    sn_engine_destroy(eng);
    sn_model_destroy(m);
}

Test(cuda_fake_child, out_of_memory_names_the_bytes) {
    CHILD_ONLY();
    setenv("SN_FAKE_CUDA_MEM", "3000000", 1); /* 3 MB: resnet18's weights alone are 45 MB */
    sn_model *m = zoo_model("resnet18");
    sn_engine_options o = SN_ENGINE_OPTIONS_INIT;
    o.device = SN_DEVICE_GPU;
    sn_engine *eng = NULL;
    sn_error e = {0};
    cr_assert_eq(sn_engine_create(m, &o, &eng, &e), SN_ERR_OUT_OF_MEMORY, "%s", e.message);
    cr_assert(strstr(e.message, "GPU out of memory") && strstr(e.message, "bytes"), "%s",
              e.message);
    cr_assert_null(eng);
    /* AUTO runs on the CPU instead and says why. */
    o.device = SN_DEVICE_AUTO;
    cr_assert_eq(sn_engine_create(m, &o, &eng, &e), SN_OK, "%s", e.message);
    cr_assert_eq(sn_engine_device(eng), SN_DEVICE_CPU);
    const char *why = sn_engine_fallback_reason(eng);
    cr_assert(why && strstr(why, "GPU backend failed") && strstr(why, "out of memory"), "%s",
              why ? why : "(none)");
    sn_engine_destroy(eng);
    sn_model_destroy(m);
    unsetenv("SN_FAKE_CUDA_MEM");
}

/* sn_engine_stats counts the kernels an engine built and where each came from: with an empty
 * cache every one is compiled; a second engine of the same model and precision compiles none
 * (every kernel a cache hit: the warm start --stats shows); with the cache off all are compiled
 * again. Creation time is counted each time. */
Test(cuda_fake_child, kernel_counts_cold_then_warm) {
    CHILD_ONLY();
    char *dir = sn_test_mkdtemp(), *keep = NULL;
    if (getenv("SENTINEL_CACHE_DIR")) keep = strdup(getenv("SENTINEL_CACHE_DIR"));
    setenv("SENTINEL_CACHE_DIR", dir, 1);
    sn_model *m = zoo_model("seed-cnn");
    sn_engine_stats s[3];
    for (int k = 0; k < 3; k++) {
        if (k == 2) setenv("SENTINEL_KERNEL_CACHE", "off", 1);
        sn_engine *eng = gpu_engine(m, 2, 4, "seed-cnn fp16");
        s[k] = (sn_engine_stats)SN_ENGINE_STATS_INIT;
        cr_assert_eq(sn_engine_get_stats(eng, &s[k]), SN_OK);
        sn_engine_destroy(eng);
    }
    unsetenv("SENTINEL_KERNEL_CACHE");
    if (keep)
        setenv("SENTINEL_CACHE_DIR", keep, 1);
    else
        unsetenv("SENTINEL_CACHE_DIR");
    free(keep);
    cr_assert_gt(s[0].kernels, 0);
    cr_assert(s[0].kernels_compiled == s[0].kernels && s[0].kernels_cached == 0,
              "cold: %d kernels, %d compiled, %d cached", s[0].kernels, s[0].kernels_compiled,
              s[0].kernels_cached);
    cr_assert(s[1].kernels == s[0].kernels && s[1].kernels_compiled == 0 &&
              s[1].kernels_cached == s[1].kernels,
              "warm: %d kernels, %d compiled, %d cached", s[1].kernels, s[1].kernels_compiled,
              s[1].kernels_cached);
    cr_assert(s[2].kernels == s[0].kernels && s[2].kernels_compiled == s[2].kernels &&
              s[2].kernels_cached == 0,
              "cache off: %d kernels, %d compiled, %d cached", s[2].kernels, s[2].kernels_compiled,
              s[2].kernels_cached);
    for (int k = 0; k < 3; k++) cr_assert_gt(s[k].create_ms, 0.0);
    sn_model_destroy(m);
    sn_test_rmtree(dir);
    free(dir);
}

Test(cuda_fake_child, auto_prefers_the_gpu) {
    CHILD_ONLY();
    sn_model *m = zoo_model("seed-cnn");
    sn_engine_options o = SN_ENGINE_OPTIONS_INIT;
    sn_engine *eng = NULL;
    sn_error e = {0};
    cr_assert_eq(sn_engine_create(m, &o, &eng, &e), SN_OK, "%s", e.message);
    cr_assert_eq(sn_engine_device(eng), SN_DEVICE_GPU);
    cr_assert_null(sn_engine_fallback_reason(eng));
    sn_engine_destroy(eng);
    /* TF32 on a device older than Ampere is refused, and AUTO falls back. */
    setenv("SN_FAKE_CUDA_CC", "75", 1);
    o.device = SN_DEVICE_GPU;
    o.precision = SN_PRECISION_TF32;
    cr_assert_eq(sn_engine_create(m, &o, &eng, &e), SN_ERR_UNSUPPORTED, "%s", e.message);
    cr_assert(strstr(e.message, "TF32"), "%s", e.message);
    unsetenv("SN_FAKE_CUDA_CC");
    sn_model_destroy(m);
}

Test(cuda_fake_child, op_cases_prepare) {
    CHILD_ONLY();
    for (int i = 0; i < sn_gpu_case_count(); i++) {
        sn_graph *g = NULL;
        sn_model *m = NULL;
        sn_error e = {0};
        cr_assert_eq(sn_gpu_case_build(i, &g, &e), SN_OK, "%s", e.message);
        cr_assert_eq(sn_model_from_graph(g, &m, &e), SN_OK, "%s", e.message);
        for (int prec = 0; prec < 4; prec++) {
            sn_fake_cuda_stats *fs = fake_stats();
            sn_engine_options o = SN_ENGINE_OPTIONS_INIT;
            o.device = SN_DEVICE_GPU;
            o.max_batch = 5;
            o.optimize = 0;
            o.precision = (sn_precision)prec;
            sn_engine *eng = NULL;
            cr_assert_eq(sn_engine_create(m, &o, &eng, &e), SN_OK, "%s: %s", sn_gpu_case_name(i),
                         e.message);
            const int batches[] = {5, 1};
            run_batches(eng, m, batches, 2, 5);
            cr_assert_eq(fs->bad_launches, 0, "%s: %s", sn_gpu_case_name(i), fs->last_bad);
            sn_engine_destroy(eng);
        }
        sn_model_destroy(m);
    }
}

#endif
