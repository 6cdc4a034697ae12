/*
 * test_gpu_preprocess.c - sn_engine_run_images on a GPU against the CPU:
 *   - the preprocessed tensor itself (an Identity model, so the output is the network input the
 *     kernel wrote) equals the CPU preprocessing of the same images within 1e-3 (plus the
 *     storage type's rounding for fp16 and bf16), for batches of mixed odd sizes with padded
 *     rows, both layouts, both resize modes, both channel orders, with and without metadata,
 *     fp32, fp16 and bf16;
 *   - a conv model's and seed-cnn's outputs equal the CPU engine's run_images within the GPU
 *     tolerances of tests/support/gpu_check.c, in fp32 and fp16, with and without CUDA graphs;
 *   - every call makes exactly one upload (8-bit pixels: the packed size) and one download;
 *   - growing batches (up to full-HD frames) reuse and grow the packing buffers correctly.
 * Output buffers are poisoned (NaN) first, so an unwritten value fails.
 * Needs a GPU: elsewhere every test skips with the probe's reason.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_check.h"
#include "image_cases.h"
#include "model.h"
#include "zoo.h"

static const char *const prec_name[] = {"fp32", "tf32", "fp16", "bf16"};

enum { N = 7, MAXB = 16 };
/* Odd sizes: a 1x1, strips, up- and downscales, a padded row stride. */
static const int img_w[N] = {1, 333, 7, 64, 2, 97, 45};
static const int img_h[N] = {1, 121, 64, 1, 90, 97, 33};
static const int img_pad[N] = {0, 5, 0, 3, 0, 1, 0};

static sn_engine *engine(const sn_model *m, sn_device dev, int precision, int optimize) {
    sn_engine_options o = SN_ENGINE_OPTIONS_INIT;
    o.device = dev;
    o.max_batch = MAXB;
    o.precision = (sn_precision)precision;
    o.optimize = optimize;
    sn_engine *e = NULL;
    sn_error err = {0};
    cr_assert_eq(sn_engine_create(m, &o, &e, &err), SN_OK, "%s", err.message);
    cr_assert_eq(sn_engine_device(e), dev);
    return e;
}

/* run_images into a NaN-poisoned buffer (malloc'ed), checking one upload and one download. */
static float *run_images(sn_engine *e, int n, const sn_image_u8 *im, const char *what) {
    const size_t bytes = sn_engine_output_bytes(e, 0) * (size_t)n;
    float *y = malloc(bytes);
    cr_assert_not_null(y);
    memset(y, 0xFF, bytes);
    sn_engine_stats s0 = SN_ENGINE_STATS_INIT, s1 = SN_ENGINE_STATS_INIT;
    cr_assert_eq(sn_engine_get_stats(e, &s0), SN_OK);
    void *out[1] = {y};
    sn_error err = {0};
    cr_assert_eq(sn_engine_run_images(e, n, im, out, &err), SN_OK, "%s: %s", what, err.message);
    cr_assert_eq(sn_engine_get_stats(e, &s1), SN_OK);
    if (sn_engine_device(e) == SN_DEVICE_GPU) {
        cr_assert_eq(s1.uploads - s0.uploads, 1, "%s: %llu uploads", what,
                     (unsigned long long)(s1.uploads - s0.uploads));
        cr_assert_eq(s1.downloads - s0.downloads, 1, "%s", what);
        cr_assert_eq(s1.upload_bytes - s0.upload_bytes, sn_img_packed_bytes(n, im), "%s", what);
    }
    return y;
}

/* The preprocessed tensor: GPU vs sn_preprocess_image. */
static void check_tensor(sn_rng *rng, int precision, sn_layout layout, const sn_preprocess *meta,
                         const char *what) {
    const int H = meta ? meta->height : 24, W = meta ? meta->width : 19;
    sn_model *m = sn_img_model(H, W, layout, SN_IMG_IDENTITY, meta, rng);
    sn_engine *e = engine(m, SN_DEVICE_GPU, precision, 0);
    const sn_preprocess p = sn_img_expected_preprocess(m, H, W);
    sn_image_u8 *im = sn_img_random(rng, N, img_w, img_h, img_pad);
    float *want = sn_img_reference(&p, layout, N, im);
    float *got = run_images(e, N, im, what);
    /* Storage rounding: half keeps 11 significant bits, bfloat16 8. */
    const double rel = precision == SN_PRECISION_FP16 ? 0x1p-11
                       : precision == SN_PRECISION_BF16 ? 0x1p-8
                                                         : 0.0;
    const size_t total = (size_t)N * 3 * W * H;
    double worst = 0.0;
    size_t exact = 0;
    for (size_t k = 0; k < total; k++) {
        const double d = fabs((double)got[k] - want[k]);
        exact += got[k] == want[k];
        if (!(d <= 1e-3 + rel * fabs(want[k])))
            cr_assert_fail("%s: element %zu (image %zu) is %.9g on the GPU, %.9g on the CPU",
                           what, k, k / ((size_t)3 * W * H), (double)got[k], (double)want[k]);
        if (d > worst) worst = d;
    }
    cr_log_info("%s: largest difference %.3g, %zu of %zu values identical", what, worst, exact,
                total);
    free(got);
    free(want);
    sn_img_free(im, N);
    sn_engine_destroy(e);
    sn_model_destroy(m);
}

static void tensors(int precision) {
    SN_SKIP_WITHOUT_GPU();
    sn_rng rng;
    sn_rng_seed(&rng, sn_test_fresh_seed("gpu_preprocess_tensor"));
    for (int lay = 0; lay < 2; lay++) {
        const sn_layout layout = lay ? SN_LAYOUT_NHWC : SN_LAYOUT_NCHW;
        char what[128];
        snprintf(what, sizeof what, "%s %s no metadata", prec_name[precision],
                 lay ? "NHWC" : "NCHW");
        check_tensor(&rng, precision, layout, NULL, what);
        for (int mode = 0; mode < 2; mode++)
            for (int bgr = 0; bgr < 2; bgr++) {
                sn_preprocess meta = sn_img_meta(mode ? 32 : 24, mode ? 28 : 19,
                                                 mode ? 37 : 0, bgr, &rng);
                snprintf(what, sizeof what, "%s %s %s %s", prec_name[precision],
                         lay ? "NHWC" : "NCHW", mode ? "shorter-crop" : "stretch",
                         bgr ? "BGR" : "RGB");
                check_tensor(&rng, precision, layout, &meta, what);
            }
    }
}

Test(gpu_preprocess, tensor_fp32, .timeout = 600) { tensors(SN_PRECISION_FP32); }
Test(gpu_preprocess, tensor_fp16, .timeout = 600) { tensors(SN_PRECISION_FP16); }
Test(gpu_preprocess, tensor_bf16, .timeout = 600) { tensors(SN_PRECISION_BF16); }

/* Worst |gpu - cpu| / max(|cpu|, rms(cpu)) over n outputs. */
static double worst_rel(const float *gpu, const float *cpu, size_t n) {
    double ss = 0.0, worst = 0.0;
    for (size_t i = 0; i < n; i++) ss += (double)cpu[i] * cpu[i];
    const double rms = sqrt(ss / (double)(n ? n : 1));
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(gpu[i])) return INFINITY;
        double d = fabs((double)gpu[i] - cpu[i]) / fmax(fabs((double)cpu[i]), rms);
        if (d > worst) worst = d;
    }
    return worst;
}

static void outputs_vs_cpu(sn_model *m, int precision, bool whole_model, const char *what) {
    sn_rng rng;
    sn_rng_seed(&rng, sn_test_fresh_seed(what));
    sn_engine *gpu = engine(m, SN_DEVICE_GPU, precision, 1);
    sn_engine *cpu = engine(m, SN_DEVICE_CPU, SN_PRECISION_FP32, 1);
    sn_image_u8 *im = sn_img_random(&rng, N, img_w, img_h, img_pad);
    const int counts[] = {N, 1, N}; /* the last replays the first's graph */
    for (int r = 0; r < 3; r++) {
        const int n = counts[r];
        const sn_image_u8 *batch = r == 1 ? im + 5 : im;
        float *g = run_images(gpu, n, batch, what), *c = run_images(cpu, n, batch, what);
        const size_t count = sn_engine_output_bytes(cpu, 0) / sizeof(float) * (size_t)n;
        double worst = worst_rel(g, c, count);
        cr_log_info("%s batch %d: worst relative difference %.3g", what, n, worst);
        cr_assert(worst <= sn_gpu_check_tolerance(precision, whole_model),
                  "%s batch %d: relative error %.3g > %.0e", what, n, worst,
                  sn_gpu_check_tolerance(precision, whole_model));
        free(g);
        free(c);
    }
    sn_engine_stats st = SN_ENGINE_STATS_INIT;
    cr_assert_eq(sn_engine_get_stats(gpu, &st), SN_OK);
    cr_assert_eq(st.uploads, 3);
    cr_assert_eq(st.downloads, 3);
    cr_assert_eq(st.image_runs, 3);
    cr_assert_eq(st.images, 2 * N + 1);
    sn_img_free(im, N);
    sn_engine_destroy(gpu);
    sn_engine_destroy(cpu);
}

static void conv_model(int precision, int graphs) {
    SN_SKIP_WITHOUT_GPU();
    if (!graphs) setenv("SENTINEL_CUDA_GRAPHS", "0", 1);
    sn_rng rng;
    sn_rng_seed(&rng, sn_test_fresh_seed("gpu_preprocess_conv"));
    for (int lay = 0; lay < 2; lay++) {
        sn_preprocess meta = sn_img_meta(30, 26, lay ? 0 : 33, lay, &rng);
        sn_model *m = sn_img_model(30, 26, lay ? SN_LAYOUT_NHWC : SN_LAYOUT_NCHW, SN_IMG_CONV,
                                   &meta, &rng);
        char what[96];
        snprintf(what, sizeof what, "conv %s %s%s", lay ? "NHWC" : "NCHW", prec_name[precision],
                 graphs ? "" : " (no CUDA graphs)");
        outputs_vs_cpu(m, precision, false, what);
        sn_model_destroy(m);
    }
    unsetenv("SENTINEL_CUDA_GRAPHS");
}

Test(gpu_preprocess, conv_fp32, .timeout = 600) { conv_model(SN_PRECISION_FP32, 1); }
Test(gpu_preprocess, conv_fp16, .timeout = 600) { conv_model(SN_PRECISION_FP16, 1); }
Test(gpu_preprocess, conv_fp16_no_graphs, .timeout = 600) { conv_model(SN_PRECISION_FP16, 0); }

Test(gpu_preprocess, seed_cnn_imagenet_preprocessing, .timeout = 600) {
    SN_SKIP_WITHOUT_GPU();
    sn_graph *g = NULL;
    sn_error e = {0};
    cr_assert_eq(sn_zoo_build("seed-cnn", 0, &g, &e), SN_OK, "%s", e.message);
    sn_model *m = NULL;
    cr_assert_eq(sn_model_from_graph(g, &m, &e), SN_OK, "%s", e.message);
    outputs_vs_cpu(m, SN_PRECISION_FP32, true, "seed-cnn fp32");
    outputs_vs_cpu(m, SN_PRECISION_FP16, true, "seed-cnn fp16");
    sn_model_destroy(m);
}

/* Batches that grow (full-HD frames last) and shrink: the packing buffers grow and are reused,
 * and every batch still matches the CPU's preprocessing. */
Test(gpu_preprocess, growing_batches, .timeout = 600) {
    SN_SKIP_WITHOUT_GPU();
    sn_rng rng;
    sn_rng_seed(&rng, sn_test_fresh_seed("gpu_preprocess_grow"));
    sn_preprocess meta = sn_img_meta(224, 224, 256, 0, &rng);
    sn_model *m = sn_img_model(224, 224, SN_LAYOUT_NCHW, SN_IMG_IDENTITY, &meta, &rng);
    sn_engine *e = engine(m, SN_DEVICE_GPU, SN_PRECISION_FP32, 0);
    static const int sizes[][2] = {{64, 48}, {640, 480}, {1920, 1080}, {320, 240}, {1080, 1920}};
    for (int r = 0; r < 5; r++) {
        const int n = r == 2 ? MAXB : 3 + r;
        int w[MAXB], h[MAXB];
        for (int i = 0; i < n; i++) {
            w[i] = sizes[r][0] - i;
            h[i] = sizes[r][1] + i;
        }
        sn_image_u8 *im = sn_img_random(&rng, n, w, h, NULL);
        float *want = sn_img_reference(&meta, SN_LAYOUT_NCHW, n, im);
        float *got = run_images(e, n, im, "growing");
        const size_t total = (size_t)n * 3 * 224 * 224;
        for (size_t k = 0; k < total; k++)
            cr_assert(fabs((double)got[k] - want[k]) <= 1e-3,
                      "round %d (%dx%d): element %zu is %.9g, CPU %.9g", r, w[0], h[0], k,
                      (double)got[k], (double)want[k]);
        free(got);
        free(want);
        sn_img_free(im, n);
    }
    sn_engine_destroy(e);
    sn_model_destroy(m);
}
