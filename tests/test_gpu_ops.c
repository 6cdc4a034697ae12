/*
 * test_gpu_ops.c - every case of the GPU op table (tests/support/gpu_cases.c) run by a GPU
 * engine against the CPU engine on the same random inputs, at batch 1, 7 and 64, in fp32, tf32,
 * fp16 and bf16, with the graph exactly as built (optimize=0, so each op's own kernel runs).
 * Plus: repeated runs replay the same CUDA graph bit for bit, batch sizes interleave, and a run
 * on the caller's stream with device pointers matches a staged run.
 * Needs a GPU: elsewhere every test skips with the probe's reason.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_cases.h"
#include "gpu_check.h"
#include "model.h"

static const char *const prec_name[] = {"fp32", "tf32", "fp16", "bf16"};

static void run_cases(int precision) {
    SN_SKIP_WITHOUT_GPU();
    sn_rng rng;
    sn_rng_seed(&rng, sn_test_fresh_seed("gpu_ops"));
    static const int batches[] = {1, 7, 64};
    for (int i = 0; i < sn_gpu_case_count(); i++) {
        sn_graph *g = NULL;
        sn_error e = {0};
        cr_assert_eq(sn_gpu_case_build(i, &g, &e), SN_OK, "%s", e.message);
        sn_gpu_pair p;
        cr_assert_eq(sn_gpu_pair_make(g, precision, 64, false, &p, &e), SN_OK, "%s: %s",
                     sn_gpu_case_name(i), e.message);
        cr_assert_eq(sn_engine_device(p.gpu), SN_DEVICE_GPU);
        for (int b = 0; b < 3; b++) {
            double worst = 0.0;
            char where[512];
            cr_assert_eq(sn_gpu_pair_compare(&p, batches[b], &rng, &worst, where, sizeof where, &e),
                         SN_OK, "%s: %s", sn_gpu_case_name(i), e.message);
            cr_assert(worst <= sn_gpu_check_tolerance(precision, false),
                      "%s %s batch %d: relative error %.3g > %.0e at %s", sn_gpu_case_name(i),
                      prec_name[precision], batches[b], worst,
                      sn_gpu_check_tolerance(precision, false), where);
        }
        sn_gpu_pair_free(&p);
    }
}

Test(gpu_ops, fp32, .timeout = 600) { run_cases(SN_PRECISION_FP32); }
Test(gpu_ops, tf32, .timeout = 600) { run_cases(SN_PRECISION_TF32); }
Test(gpu_ops, fp16, .timeout = 600) { run_cases(SN_PRECISION_FP16); }
Test(gpu_ops, bf16, .timeout = 600) { run_cases(SN_PRECISION_BF16); }

/* The same inputs twice give the same bytes (graph replay), across batch-size changes. */
Test(gpu_ops, replay_is_deterministic) {
    SN_SKIP_WITHOUT_GPU();
    sn_graph *g = NULL;
    sn_error e = {0};
    cr_assert_eq(sn_gpu_case_build(0, &g, &e), SN_OK, "%s", e.message);
    sn_gpu_pair p;
    cr_assert_eq(sn_gpu_pair_make(g, SN_PRECISION_FP32, 8, false, &p, &e), SN_OK, "%s", e.message);
    size_t in_b = sn_engine_input_bytes(p.gpu, 0) * 8, out_b = sn_engine_output_bytes(p.gpu, 0) * 8;
    float *x = malloc(in_b), *y1 = malloc(out_b), *y2 = malloc(out_b), *y3 = malloc(out_b);
    sn_rng rng;
    sn_rng_seed(&rng, sn_test_fresh_seed("replay"));
    sn_rng_fill(&rng, x, in_b / 4, -1.0f, 1.0f);
    const void *in[1] = {x};
    void *o1[1] = {y1}, *o2[1] = {y2}, *o3[1] = {y3};
    cr_assert_eq(sn_engine_run(p.gpu, 8, in, o1, &e), SN_OK, "%s", e.message);
    cr_assert_eq(sn_engine_run(p.gpu, 3, in, o3, &e), SN_OK, "%s", e.message);
    cr_assert_eq(sn_engine_run(p.gpu, 8, in, o2, &e), SN_OK, "%s", e.message);
    cr_assert(!memcmp(y1, y2, out_b), "a replayed graph gave different bytes");
    /* Batch 3 computed the first 3 samples the same way. */
    cr_assert(!memcmp(y1, y3, out_b / 8 * 3), "batch 3 differs from the first 3 of batch 8");
    free(x);
    free(y1);
    free(y2);
    free(y3);
    sn_gpu_pair_free(&p);
}

Test(gpu_ops, cpu_engine_refuses_device_run) {
    sn_graph *g = NULL;
    sn_error e = {0};
    cr_assert_eq(sn_gpu_case_build(0, &g, &e), SN_OK, "%s", e.message);
    sn_model *m = NULL;
    cr_assert_eq(sn_model_from_graph(g, &m, &e), SN_OK);
    sn_engine_options o = SN_ENGINE_OPTIONS_INIT;
    o.device = SN_DEVICE_CPU;
    sn_engine *cpu = NULL;
    cr_assert_eq(sn_engine_create(m, &o, &cpu, &e), SN_OK, "%s", e.message);
    float x[4], y[4];
    const void *in[1] = {x};
    void *out[1] = {y};
    cr_assert_eq(sn_engine_run_device(cpu, 1, in, out, NULL, &e), SN_ERR_UNSUPPORTED);
    cr_assert(strstr(e.message, "cpu"), "%s", e.message);
    sn_engine_destroy(cpu);
    sn_model_destroy(m);
}

#ifdef SENTINEL_HAVE_CUDA
#include "cuda_api.h"

/* sn_engine_run_device on the caller's stream and device buffers equals sn_engine_run. */
Test(gpu_ops, device_run_matches_staged_run) {
    SN_SKIP_WITHOUT_GPU();
    sn_graph *g = NULL;
    sn_error e = {0};
    cr_assert_eq(sn_gpu_case_build(2, &g, &e), SN_OK, "%s", e.message);
    sn_gpu_pair p;
    cr_assert_eq(sn_gpu_pair_make(g, SN_PRECISION_FP16, 4, false, &p, &e), SN_OK, "%s", e.message);
    const sn_cuda_driver *cu = sn_cuda_driver_get(&e);
    cr_assert_not_null(cu, "%s", e.message);
    const sn_graph *mg = sn_model_graph(p.model);
    int no = mg->n_outputs;
    size_t in_b = sn_engine_input_bytes(p.gpu, 0) * 4;
    float *x = malloc(in_b);
    sn_rng rng;
    sn_rng_seed(&rng, sn_test_fresh_seed("device_run"));
    sn_rng_fill(&rng, x, in_b / 4, -1.0f, 1.0f);
    CUdevice dev;
    CUcontext ctx;
    cr_assert_eq(cu->cuDeviceGet(&dev, 0), CUDA_SUCCESS);
    cr_assert_eq(cu->cuDevicePrimaryCtxRetain(&ctx, dev), CUDA_SUCCESS);
    cr_assert_eq(cu->cuCtxPushCurrent(ctx), CUDA_SUCCESS);
    CUstream stream;
    cr_assert_eq(cu->cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING), CUDA_SUCCESS);
    CUdeviceptr dx, dy[16];
    cr_assert_leq(no, 16);
    cr_assert_eq(cu->cuMemAlloc(&dx, in_b), CUDA_SUCCESS);
    cr_assert_eq(cu->cuMemcpyHtoD(dx, x, in_b), CUDA_SUCCESS);
    void *douts[16], *houts[16], *staged[16];
    for (int i = 0; i < no; i++) {
        size_t b = sn_engine_output_bytes(p.gpu, i) * 4;
        cr_assert_eq(cu->cuMemAlloc(&dy[i], b), CUDA_SUCCESS);
        douts[i] = (void *)(uintptr_t)dy[i];
        houts[i] = malloc(b);
        staged[i] = malloc(b);
    }
    const void *dins[1] = {(const void *)(uintptr_t)dx}, *hins[1] = {x};
    cr_assert_eq(sn_engine_run_device(p.gpu, 4, dins, douts, stream, &e), SN_OK, "%s", e.message);
    cr_assert_eq(cu->cuStreamSynchronize(stream), CUDA_SUCCESS);
    cr_assert_eq(sn_engine_run(p.gpu, 4, hins, staged, &e), SN_OK, "%s", e.message);
    for (int i = 0; i < no; i++) {
        size_t b = sn_engine_output_bytes(p.gpu, i) * 4;
        cr_assert_eq(cu->cuMemcpyDtoH(houts[i], dy[i], b), CUDA_SUCCESS);
        cr_assert(!memcmp(houts[i], staged[i], b), "output %d differs", i);
        cu->cuMemFree(dy[i]);
        free(houts[i]);
        free(staged[i]);
    }
    cu->cuMemFree(dx);
    cu->cuStreamDestroy(stream);
    CUcontext popped;
    cu->cuCtxPopCurrent(&popped);
    cu->cuDevicePrimaryCtxRelease(dev);
    free(x);
    sn_gpu_pair_free(&p);
}
#endif
