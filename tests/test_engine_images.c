/*
 * test_engine_images.c - sn_engine_run_images on the CPU: a batch of images of several odd sizes
 * (random pixels, some with padded rows) gives exactly what sn_preprocess_image of each image
 * followed by sn_engine_run gives - the model input itself (an Identity model) and a conv
 * model's output - for NCHW and NHWC inputs, with and without preprocessing metadata, both
 * resize modes and both channel orders; statistics count the calls and images; bad images,
 * bad arguments and models that take no images are refused with the documented statuses and
 * messages.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "image_cases.h"
#include "model.h"
#include "test_support.h"

enum { H = 12, W = 10, N = 6, MAXB = 8 };

/* Odd sizes, a 1x1, thin strips, larger and smaller than the 10x12 input. */
static const int img_w[N] = {1, 37, 5, 13, 64, 9};
static const int img_h[N] = {1, 23, 41, 13, 3, 70};
static const int img_pad[N] = {0, 5, 0, 1, 0, 17};

static sn_engine *cpu_engine(const sn_model *m, int optimize) {
    sn_engine_options o = SN_ENGINE_OPTIONS_INIT;
    o.device = SN_DEVICE_CPU;
    o.max_batch = MAXB;
    o.threads = 2;
    o.optimize = optimize;
    sn_engine *e = NULL;
    sn_error err = {0};
    cr_assert_eq(sn_engine_create(m, &o, &e, &err), SN_OK, "%s", err.message);
    return e;
}

/* run_images vs sn_preprocess_image + sn_engine_run, bit for bit, on one model. */
static void check_model(sn_rng *rng, sn_layout layout, sn_img_model_kind kind,
                        const sn_preprocess *meta, const char *what) {
    sn_model *m = sn_img_model(H, W, layout, kind, meta, rng);
    sn_engine *e = cpu_engine(m, kind == SN_IMG_CONV);
    const sn_preprocess p = sn_img_expected_preprocess(m, H, W);
    sn_image_u8 *im = sn_img_random(rng, N, img_w, img_h, img_pad);
    float *x = sn_img_reference(&p, layout, N, im);
    const size_t out_bytes = sn_engine_output_bytes(e, 0) * N;
    unsigned char *want = malloc(out_bytes), *got = malloc(out_bytes);
    cr_assert(want && got);
    memset(want, 0x5A, out_bytes);
    memset(got, 0xA5, out_bytes); /* poison: every byte must be written */
    sn_error err = {0};
    const void *in[1] = {x};
    void *out_want[1] = {want}, *out_got[1] = {got};
    cr_assert_eq(sn_engine_run(e, N, in, out_want, &err), SN_OK, "%s", err.message);
    cr_assert_eq(sn_engine_run_images(e, N, im, out_got, &err), SN_OK, "%s: %s", what,
                 err.message);
    cr_assert(memcmp(want, got, out_bytes) == 0, "%s: run_images differs from "
              "sn_preprocess_image + sn_engine_run", what);
    if (kind == SN_IMG_IDENTITY) /* the preprocessed input itself */
        cr_assert(memcmp(x, got, out_bytes) == 0, "%s: preprocessed input differs", what);
    /* A smaller batch from the middle of the list, through the same engine. */
    memset(got, 0xA5, out_bytes);
    cr_assert_eq(sn_engine_run_images(e, 2, im + 3, out_got, &err), SN_OK, "%s", err.message);
    const size_t per_out = sn_engine_output_bytes(e, 0);
    cr_assert(memcmp(want + 3 * per_out, got, 2 * per_out) == 0, "%s: batch of 2 differs", what);

    sn_engine_stats st = SN_ENGINE_STATS_INIT;
    cr_assert_eq(sn_engine_get_stats(e, &st), SN_OK);
    cr_assert_eq(st.runs, 3);
    cr_assert_eq(st.image_runs, 2);
    cr_assert_eq(st.images, N + 2);
    cr_assert_eq(st.uploads, 0); /* no device: nothing is copied to one */
    cr_assert_eq(st.downloads, 0);
    free(want);
    free(got);
    free(x);
    sn_img_free(im, N);
    sn_engine_destroy(e);
    sn_model_destroy(m);
}

Test(engine_images, equals_preprocess_then_run) {
    sn_rng rng;
    sn_rng_seed(&rng, sn_test_fresh_seed("engine_images"));
    for (int lay = 0; lay < 2; lay++) {
        const sn_layout layout = lay ? SN_LAYOUT_NHWC : SN_LAYOUT_NCHW;
        for (int kind = 0; kind < 2; kind++) {
            char what[128];
            snprintf(what, sizeof what, "%s %s, no metadata", lay ? "NHWC" : "NCHW",
                     kind ? "conv" : "identity");
            check_model(&rng, layout, (sn_img_model_kind)kind, NULL, what);
            for (int mode = 0; mode < 2; mode++) {
                sn_preprocess meta = sn_img_meta(H, W, mode ? 14 : 0, mode, &rng);
                snprintf(what, sizeof what, "%s %s, %s %s", lay ? "NHWC" : "NCHW",
                         kind ? "conv" : "identity", mode ? "shorter-crop" : "stretch",
                         mode ? "BGR" : "RGB");
                check_model(&rng, layout, (sn_img_model_kind)kind, &meta, what);
            }
        }
    }
}

/* status and message of one refused call */
static void refused(sn_status st, const sn_error *err, sn_status want, const char *part) {
    cr_assert_eq(st, want, "got %s (%s), want %s", sn_status_string(st), err->message,
                 sn_status_string(want));
    cr_assert_eq(err->status, want);
    cr_assert(strstr(err->message, part), "message '%s' lacks '%s'", err->message, part);
}

Test(engine_images, bad_images_and_arguments) {
    sn_rng rng;
    sn_rng_seed(&rng, sn_test_fresh_seed("engine_images_bad"));
    sn_model *m = sn_img_model(H, W, SN_LAYOUT_NCHW, SN_IMG_IDENTITY, NULL, &rng);
    sn_engine *e = cpu_engine(m, 1);
    sn_image_u8 *im = sn_img_random(&rng, 3, img_w, img_h, NULL);
    float *y = malloc(sn_engine_output_bytes(e, 0) * MAXB);
    void *out[1] = {y};
    sn_error err = {0};
    refused(sn_engine_run_images(NULL, 1, im, out, &err), &err, SN_ERR_INVALID_ARGUMENT,
            "engine is NULL");
    refused(sn_engine_run_images(e, 0, im, out, &err), &err, SN_ERR_INVALID_ARGUMENT,
            "n 0 is outside 1..8");
    refused(sn_engine_run_images(e, MAXB + 1, im, out, &err), &err, SN_ERR_INVALID_ARGUMENT,
            "n 9 is outside 1..8");
    refused(sn_engine_run_images(e, 1, NULL, out, &err), &err, SN_ERR_INVALID_ARGUMENT,
            "images is NULL");
    refused(sn_engine_run_images(e, 1, im, NULL, &err), &err, SN_ERR_INVALID_ARGUMENT,
            "outputs is NULL");
    void *null_out[1] = {NULL};
    refused(sn_engine_run_images(e, 1, im, null_out, &err), &err, SN_ERR_INVALID_ARGUMENT,
            "outputs[0] is NULL");

    sn_image_u8 bad[3];
    memcpy(bad, im, sizeof bad);
    bad[2].pixels = NULL;
    refused(sn_engine_run_images(e, 3, bad, out, &err), &err, SN_ERR_INVALID_ARGUMENT,
            "image 2 (5x41) has no pixels");
    memcpy(bad, im, sizeof bad);
    bad[1].width = 0;
    refused(sn_engine_run_images(e, 3, bad, out, &err), &err, SN_ERR_INVALID_ARGUMENT,
            "image 1 is 0x23: empty");
    memcpy(bad, im, sizeof bad);
    bad[0].height = -4;
    refused(sn_engine_run_images(e, 3, bad, out, &err), &err, SN_ERR_INVALID_ARGUMENT,
            "image 0 is 1x-4: empty");
    memcpy(bad, im, sizeof bad);
    bad[2].height = SN_PREPROCESS_MAX_SIDE + 1;
    refused(sn_engine_run_images(e, 3, bad, out, &err), &err, SN_ERR_INVALID_ARGUMENT,
            "image 2 is 5x16385: a side exceeds 16384 pixels");
    memcpy(bad, im, sizeof bad);
    bad[1].stride = 3 * 37 - 1;
    refused(sn_engine_run_images(e, 3, bad, out, &err), &err, SN_ERR_INVALID_ARGUMENT,
            "image 1: stride 110 is less than a row of 37 pixels (111 bytes)");
    memcpy(bad, im, sizeof bad);
    bad[1].stride = SIZE_MAX / 4;
    refused(sn_engine_run_images(e, 3, bad, out, &err), &err, SN_ERR_INVALID_ARGUMENT,
            "image 1: stride");
    /* Refused calls run nothing and count nothing; the images themselves were fine. */
    sn_engine_stats st = SN_ENGINE_STATS_INIT;
    cr_assert_eq(sn_engine_get_stats(e, &st), SN_OK);
    cr_assert_eq(st.runs, 0, "a refused call counted as a run");
    cr_assert_eq(st.images, 0);
    cr_assert_eq(sn_engine_run_images(e, 3, im, out, &err), SN_OK, "%s", err.message);
    free(y);
    sn_img_free(im, 3);
    sn_engine_destroy(e);
    sn_model_destroy(m);
}

/* A model built from a tensor list, for the models that take no images. */
static sn_model *plain_model(int rank, const int64_t *dims, int n_inputs, sn_dtype dtype,
                             const sn_preprocess *meta) {
    sn_graph *g;
    cr_assert_eq(sn_graph_create(&g), SN_OK);
    sn_shape s = sn_shape_make(rank, dims);
    for (int i = 0; i < n_inputs; i++) {
        char name[8], yn[8];
        snprintf(name, sizeof name, "x%d", i);
        snprintf(yn, sizeof yn, "y%d", i);
        int x, t;
        cr_assert_eq(sn_graph_add_tensor(g, name, dtype, &s, &x), SN_OK);
        cr_assert_eq(sn_graph_add_input(g, x), SN_OK);
        cr_assert_eq(sn_graph_add_tensor(g, yn, dtype, NULL, &t), SN_OK);
        cr_assert_eq(sn_graph_add_node(g, SN_OP_IDENTITY, yn, &x, 1, &t, 1, NULL, 0, NULL), SN_OK);
        cr_assert_eq(sn_graph_add_output(g, t), SN_OK);
    }
    if (meta) g->meta.preprocess = *meta;
    sn_model *m = NULL;
    sn_error e = {0};
    cr_assert_eq(sn_model_from_graph(g, &m, &e), SN_OK, "%s", e.message);
    return m;
}

static void no_images(sn_model *m, const char *part) {
    sn_engine *e = cpu_engine(m, 0);
    sn_rng rng;
    sn_rng_seed(&rng, 7);
    sn_image_u8 *im = sn_img_random(&rng, 1, img_w, img_h, NULL);
    float y[4096];
    void *out[2] = {y, y + 2048};
    sn_error err = {0};
    refused(sn_engine_run_images(e, 1, im, out, &err), &err, SN_ERR_UNSUPPORTED, part);
    sn_img_free(im, 1);
    sn_engine_destroy(e);
    sn_model_destroy(m);
}

Test(engine_images, models_that_take_no_images) {
    const int64_t four[4] = {SN_DIM_BATCH, 4, H, W}, flat[2] = {SN_DIM_BATCH, 30},
                  img[4] = {SN_DIM_BATCH, 3, H, W}, fixed2[4] = {2, 3, H, W};
    no_images(plain_model(4, four, 1, SN_DTYPE_F32, NULL),
              "input 'x0' has 4 channels (NCHW); images have 3");
    no_images(plain_model(2, flat, 1, SN_DTYPE_F32, NULL),
              "input 'x0' (rank 2) is not an image batch");
    no_images(plain_model(4, img, 2, SN_DTYPE_F32, NULL), "the model has 2 inputs");
    no_images(plain_model(4, fixed2, 1, SN_DTYPE_F32, NULL), "is not an image batch");
    /* Metadata made for another input size. */
    sn_rng rng;
    sn_rng_seed(&rng, 3);
    sn_preprocess meta = sn_img_meta(H + 1, W, 0, 0, &rng);
    no_images(plain_model(4, img, 1, SN_DTYPE_F32, &meta),
              "preprocessing is unusable: the model's preprocessing makes 10x13 images but its "
              "input is 10x12");
}

Test(engine_images, fixed_batch_of_one) {
    const int64_t one[4] = {1, 3, H, W};
    sn_model *m = plain_model(4, one, 1, SN_DTYPE_F32, NULL);
    sn_engine *e = cpu_engine(m, 0);
    sn_rng rng;
    sn_rng_seed(&rng, sn_test_fresh_seed("engine_images_fixed"));
    sn_image_u8 *im = sn_img_random(&rng, 2, img_w + 1, img_h + 1, NULL);
    float *y = malloc(sn_engine_output_bytes(e, 0) * 2);
    void *out[1] = {y};
    sn_error err = {0};
    refused(sn_engine_run_images(e, 2, im, out, &err), &err, SN_ERR_INVALID_ARGUMENT,
            "fixed batch of 1");
    cr_assert_eq(sn_engine_run_images(e, 1, im + 1, out, &err), SN_OK, "%s", err.message);
    const sn_preprocess p = sn_img_expected_preprocess(m, H, W);
    cr_assert(!p.present);
    float *x = sn_img_reference(&p, SN_LAYOUT_NCHW, 1, im + 1);
    cr_assert(memcmp(x, y, sn_engine_output_bytes(e, 0)) == 0);
    free(x);
    free(y);
    sn_img_free(im, 2);
    sn_engine_destroy(e);
    sn_model_destroy(m);
}
