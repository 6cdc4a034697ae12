/*
 * test_zoo_run.c - every zoo model runs through the public API on the CPU (sn_model_from_graph,
 * sn_engine_create, sn_engine_run at batch 2 on random input): outputs have the right size, are
 * finite and near unit scale, vary across classes, and differ for different inputs. One batch
 * per model keeps ResNet-50 (~8 GFLOP per image) affordable under ASan on 2 cores.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "model.h"
#include "sgraph.h"
#include "test_support.h"
#include "zoo.h"

static void run_model(const char *name, int batch) {
    uint64_t seed = sn_test_fresh_seed(name);
    sn_error err = {SN_OK, ""};
    sn_graph *g = NULL;
    cr_assert_eq(sn_zoo_build(name, seed, &g, &err), SN_OK, "building %s: %s", name, err.message);
    int classes = (int)g->tensors[g->outputs[0]].shape.d[1];
    sn_model *m = NULL;
    sn_engine *e = NULL;
    cr_assert_eq(sn_model_from_graph(g, &m, &err), SN_OK, "%s", err.message);
    sn_engine_options opt = SN_ENGINE_OPTIONS_INIT;
    opt.device = SN_DEVICE_CPU;
    opt.max_batch = batch;
    cr_assert_eq(sn_engine_create(m, &opt, &e, &err), SN_OK, "%s: %s", name, err.message);
    cr_assert_eq(sn_engine_device(e), SN_DEVICE_CPU);
    size_t in_bytes = sn_engine_input_bytes(e, 0), out_bytes = sn_engine_output_bytes(e, 0);
    cr_assert_eq(in_bytes, 3 * 224 * 224 * sizeof(float));
    cr_assert_eq(out_bytes, (size_t)classes * sizeof(float));

    size_t n_in = (size_t)batch * 3 * 224 * 224, n_out = (size_t)batch * classes;
    float *x = malloc(n_in * sizeof *x), *y = malloc(n_out * sizeof *y);
    cr_assert(x && y);
    sn_rng rng;
    sn_rng_seed(&rng, seed);
    sn_rng_fill(&rng, x, n_in, -2.0f, 2.0f); /* the range of normalised image pixels */
    for (size_t i = 0; i < n_out; i++) y[i] = NAN;
    const void *ins[1] = {x};
    void *outs[1] = {y};
    cr_assert_eq(sn_engine_run(e, batch, ins, outs, &err), SN_OK, "%s: %s", name, err.message);

    double maxabs = 0;
    for (size_t i = 0; i < n_out; i++) {
        cr_assert(isfinite(y[i]), "%s: logit %zu is %g", name, i, y[i]);
        maxabs = fmax(maxabs, fabs(y[i]));
    }
    cr_log_info("%s: max |logit| %g", name, maxabs);
    cr_assert_gt(maxabs, 0.0);
    /* The initialisation keeps activations near unit scale (see builder.h); logits in the
     * thousands would mean a residual path or a BatchNorm went wrong. */
    cr_assert_lt(maxabs, 100.0, "%s: max |logit| %g", name, maxabs);
    for (int b = 0; b < batch; b++) {
        int varies = 0; /* a constant output would mean the input never reached it */
        for (int k = 1; k < classes; k++)
            varies += y[(size_t)b * classes + k] != y[(size_t)b * classes];
        cr_assert_gt(varies, 0, "%s: sample %d has constant logits", name, b);
    }
    if (batch > 1) {
        double diff = 0;
        for (int k = 0; k < classes; k++) diff = fmax(diff, fabs(y[k] - y[classes + k]));
        cr_assert_gt(diff, 1e-6 * maxabs, "%s: two different inputs gave the same logits", name);
    }
    free(x);
    free(y);
    sn_engine_destroy(e);
    sn_model_destroy(m);
}

Test(zoo_run, seed_cnn) { run_model("seed-cnn", 2); }
Test(zoo_run, resnet18) { run_model("resnet18", 2); }
Test(zoo_run, resnet50) { run_model("resnet50", 2); }
Test(zoo_run, mobilenetv2) { run_model("mobilenetv2", 2); }
Test(zoo_run, squeezenet1_1) { run_model("squeezenet1_1", 2); }
Test(zoo_run, mobilenetv3_small) { run_model("mobilenetv3_small", 2); }

/* A model written to .sgraph bytes and loaded back computes what the in-memory graph does. */
static void run_one(sn_model *m, const float *x, float *y) {
    sn_error err = {SN_OK, ""};
    sn_engine *e = NULL;
    sn_engine_options opt = SN_ENGINE_OPTIONS_INIT;
    opt.device = SN_DEVICE_CPU;
    cr_assert_eq(sn_engine_create(m, &opt, &e, &err), SN_OK, "%s", err.message);
    const void *ins[1] = {x};
    void *outs[1] = {y};
    cr_assert_eq(sn_engine_run(e, 1, ins, outs, &err), SN_OK, "%s", err.message);
    sn_engine_destroy(e);
}

Test(zoo_run, saved_model_matches_the_graph) {
    const char *names[] = {"seed-cnn", "squeezenet1_1", "mobilenetv3_small"};
    uint64_t seed = sn_test_fresh_seed("zoo_run.saved_model_matches_the_graph");
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        sn_error err = {SN_OK, ""};
        sn_graph *g = NULL;
        cr_assert_eq(sn_zoo_build(names[k], seed, &g, &err), SN_OK, "%s", err.message);
        void *bytes = NULL;
        size_t size = 0;
        cr_assert_eq(sn_sgraph_write_memory(g, &bytes, &size, &err), SN_OK, "%s", err.message);
        sn_model *a = NULL, *b = NULL;
        cr_assert_eq(sn_model_from_graph(g, &a, &err), SN_OK, "%s", err.message);
        cr_assert_eq(sn_model_load_memory(bytes, size, 0, &b, &err), SN_OK, "%s", err.message);
        free(bytes); /* loaded without SN_MODEL_LOAD_BORROW: the model has its own copy */
        cr_assert_eq(sn_model_label_count(b), sn_model_label_count(a));

        size_t n_in = 3 * 224 * 224;
        int classes = sn_model_label_count(a);
        float *x = malloc(n_in * sizeof *x), *ya = malloc(classes * sizeof *ya);
        float *yb = malloc(classes * sizeof *yb);
        cr_assert(x && ya && yb);
        sn_rng rng;
        sn_rng_seed(&rng, seed + k);
        sn_rng_fill(&rng, x, n_in, -2.0f, 2.0f);
        run_one(a, x, ya);
        run_one(b, x, yb);
        double rms = 0;
        for (int i = 0; i < classes; i++) rms += (double)ya[i] * ya[i];
        rms = sqrt(rms / classes);
        for (int i = 0; i < classes; i++)
            cr_assert(fabs(ya[i] - yb[i]) <= 1e-5 * fmax(fabs(ya[i]), rms) && isfinite(yb[i]),
                      "%s: logit %d: graph %g, loaded %g", names[k], i, ya[i], yb[i]);
        free(x);
        free(ya);
        free(yb);
        sn_model_destroy(a);
        sn_model_destroy(b);
    }
}
