/*
 * test_gpu_zoo.c - every zoo model, optimised, on a GPU engine against the CPU engine on the
 * same random images at batch 1, 7 and 64 (resnet50 at 1 and 7: the CPU reference dominates the
 * time), in fp32, fp16 and bf16, plus TF32 on one model; a second engine of a model starts from
 * the kernel cache without compiling anything (SENTINEL_KERNEL_CACHE=require); asking for more
 * device memory than exists fails with SN_ERR_OUT_OF_MEMORY and the bytes asked.
 * Needs a GPU: elsewhere every test skips with the probe's reason.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_cases.h"
#include "gpu_check.h"
#include "model.h"
#include "zoo.h"

static const char *const prec_name[] = {"fp32", "tf32", "fp16", "bf16"};

static void run_model(const char *name, int precision) {
    SN_SKIP_WITHOUT_GPU();
    sn_rng rng;
    sn_rng_seed(&rng, sn_test_fresh_seed(name));
    sn_graph *g = NULL;
    sn_error e = {0};
    cr_assert_eq(sn_zoo_build(name, 0, &g, &e), SN_OK, "%s", e.message);
    sn_gpu_pair p;
    cr_assert_eq(sn_gpu_pair_make(g, precision, 64, true, &p, &e), SN_OK, "%s %s: %s", name,
                 prec_name[precision], e.message);
    cr_assert_eq(sn_engine_device(p.gpu), SN_DEVICE_GPU);
    const int batches[] = {1, 7, 64};
    int nb = strcmp(name, "resnet50") ? 3 : 2;
    for (int b = 0; b < nb; b++) {
        double worst = 0.0;
        char where[512];
        cr_assert_eq(sn_gpu_pair_compare(&p, batches[b], &rng, &worst, where, sizeof where, &e),
                     SN_OK, "%s: %s", name, e.message);
        cr_log_info("%s %s batch %d: worst relative difference %.3g", name, prec_name[precision],
                    batches[b], worst);
        cr_assert(worst <= sn_gpu_check_tolerance(precision, true),
                  "%s %s batch %d: relative error %.3g > %.0e at %s", name, prec_name[precision],
                  batches[b], worst, sn_gpu_check_tolerance(precision, true), where);
    }
    sn_gpu_pair_free(&p);
}

#define ZOO_TESTS(id, model)                                                                       \
    Test(gpu_zoo, id##_fp32, .timeout = 600) { run_model(model, SN_PRECISION_FP32); }              \
    Test(gpu_zoo, id##_fp16, .timeout = 600) { run_model(model, SN_PRECISION_FP16); }              \
    Test(gpu_zoo, id##_bf16, .timeout = 600) { run_model(model, SN_PRECISION_BF16); }

ZOO_TESTS(seed_cnn, "seed-cnn")
ZOO_TESTS(resnet18, "resnet18")
ZOO_TESTS(resnet50, "resnet50")
ZOO_TESTS(mobilenetv2, "mobilenetv2")
ZOO_TESTS(squeezenet1_1, "squeezenet1_1")
ZOO_TESTS(mobilenetv3_small, "mobilenetv3_small")
Test(gpu_zoo, resnet18_tf32, .timeout = 600) { run_model("resnet18", SN_PRECISION_TF32); }

/* A second engine of the same model compiles nothing: every kernel comes from the cache. */
Test(gpu_zoo, second_start_compiles_nothing, .timeout = 600) {
    SN_SKIP_WITHOUT_GPU();
    char *dir = sn_test_mkdtemp();
    setenv("SENTINEL_CACHE_DIR", dir, 1);
    sn_graph *g = NULL;
    sn_error e = {0};
    cr_assert_eq(sn_zoo_build("mobilenetv2", 0, &g, &e), SN_OK, "%s", e.message);
    sn_model *m = NULL;
    cr_assert_eq(sn_model_from_graph(g, &m, &e), SN_OK);
    sn_engine_options o = SN_ENGINE_OPTIONS_INIT;
    o.device = SN_DEVICE_GPU;
    o.max_batch = 4;
    sn_engine *a = NULL, *b = NULL;
    setenv("SENTINEL_KERNEL_CACHE", "on", 1);
    cr_assert_eq(sn_engine_create(m, &o, &a, &e), SN_OK, "%s", e.message);
    setenv("SENTINEL_KERNEL_CACHE", "require", 1);
    cr_assert_eq(sn_engine_create(m, &o, &b, &e), SN_OK, "second start compiled: %s", e.message);
    unsetenv("SENTINEL_KERNEL_CACHE");
    sn_engine_destroy(a);
    sn_engine_destroy(b);
    sn_model_destroy(m);
    sn_test_rmtree(dir);
    free(dir);
}

Test(gpu_zoo, device_out_of_memory_names_the_bytes, .timeout = 600) {
    SN_SKIP_WITHOUT_GPU();
    sn_graph *g = NULL;
    sn_error e = {0};
    cr_assert_eq(sn_zoo_build("resnet50", 0, &g, &e), SN_OK, "%s", e.message);
    sn_model *m = NULL;
    cr_assert_eq(sn_model_from_graph(g, &m, &e), SN_OK);
    sn_engine_options o = SN_ENGINE_OPTIONS_INIT;
    o.device = SN_DEVICE_GPU;
    o.max_batch = 1 << 20; /* ~ 10 TB of activations */
    sn_engine *eng = NULL;
    cr_assert_eq(sn_engine_create(m, &o, &eng, &e), SN_ERR_OUT_OF_MEMORY, "%s", e.message);
    cr_assert(strstr(e.message, "bytes"), "%s", e.message);
    cr_assert_null(eng);
    sn_model_destroy(m);
}
