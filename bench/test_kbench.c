/*
 * test_kbench.c - `sentinel-bench kernels` without a GPU: the kernel cases it builds from the
 * zoo (families, conv variants and the counting of merged layers, the bytes each argument
 * gets, the cuDNN geometry), that they compile with NVRTC, and - under the stand-in driver
 * (tests/fake_cuda, via LD_LIBRARY_PATH from CTest) - that every timing launch binds each
 * argument to live memory with a legal shape. Timings themselves mean nothing here.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "fake_cuda.h"
#include "kbench.h"
#include "passes/pass.h"
#include "zoo.h"

static int family_count(const sn_kb_cases *cs, const char *model, const char *family) {
    int n = 0;
    for (int i = 0; i < cs->n; i++)
        if (!strcmp(cs->v[i].model, model) && !strcmp(cs->v[i].family, family)) n++;
    return n;
}

/* Conv nodes of the optimised graph, and the conv variants that apply to them in all. */
static void conv_nodes(const char *model, int *nodes, int *variants) {
    sn_graph *g = NULL;
    sn_error e = {0};
    cr_assert_eq(sn_zoo_build(model, 0, &g, &e), SN_OK, "%s", e.message);
    cr_assert_eq(sn_graph_optimize(g, NULL, NULL, NULL, &e), SN_OK, "%s", e.message);
    sn_cuda_codegen_ctx ctx;
    cr_assert_eq(sn_cuda_codegen_ctx_init(&ctx, g, 8, SN_GPU_FP32, &e), SN_OK, "%s", e.message);
    *nodes = *variants = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        if (g->nodes[i].dead || (g->nodes[i].op != SN_OP_FUSED_CONV && g->nodes[i].op != SN_OP_CONV)) continue;
        (*nodes)++;
        unsigned v = sn_cuda_conv_variants(&ctx, i);
        for (int b = 0; b < 3; b++) *variants += (v >> b) & 1u;
    }
    sn_cuda_codegen_ctx_free(&ctx);
    sn_graph_destroy(g);
}

Test(kbench, cases_cover_the_zoo, .timeout = 300) {
    static const char *const models[] = {"seed-cnn", "resnet50", "mobilenetv2"};
    static const sn_gpu_precision precs[] = {SN_GPU_FP32, SN_GPU_FP16};
    for (int pi = 0; pi < 2; pi++) {
        sn_kb_cases cs = {0};
        sn_error e = {0};
        cr_assert_eq(sn_kb_cases_add_models(&cs, models, 3, precs[pi], 256, &e), SN_OK, "%s", e.message);
        size_t elem = sn_gpu_precision_size(precs[pi]);
        for (int m = 0; m < 3; m++) {
            /* (the same preprocessing, input cast and input transpose serve all three models:
             * merged into the first model's case, so they are checked over all models below) */
            static const char *const always[] = {"conv igemm", "dense", "elementwise (unfused)", "layout"};
            for (int f = 0; f < 4; f++)
                cr_assert_gt(family_count(&cs, models[m], always[f]), 0, "%s has no %s kernel", models[m],
                             always[f]);
            /* every conv node once among the engine's choices; every applicable variant once in all */
            int nodes, variants, chosen = 0, all = 0;
            conv_nodes(models[m], &nodes, &variants);
            for (int i = 0; i < cs.n; i++) {
                const sn_kb_case *c = &cs.v[i];
                if (strcmp(c->model, models[m]) || strncmp(c->family, "conv ", 5)) continue;
                all += c->layers;
                if (c->engine_choice) chosen += c->layers;
            }
            cr_assert_eq(chosen, nodes, "%s: %d conv layers among the engine's choices, %d conv nodes",
                         models[m], chosen, nodes);
            cr_assert_eq(all, variants, "%s: %d conv kernels counted, %d variants apply", models[m], all,
                         variants);
        }
        int pre = 0, casts = 0, pre_layers = 0;
        for (int m = 0; m < 3; m++) {
            pre += family_count(&cs, models[m], "preprocess");
            casts += family_count(&cs, models[m], "cast");
        }
        for (int i = 0; i < cs.n; i++)
            if (!strcmp(cs.v[i].family, "preprocess")) pre_layers += cs.v[i].layers;
        cr_assert_gt(pre, 0, "no preprocessing kernel");
        cr_assert_eq(pre_layers, 3, "one preprocessing kernel per model, merged or not");
        cr_assert_eq(casts > 0, elem == 2, "casts only with half storage (%d)", casts);
        cr_assert_gt(family_count(&cs, "mobilenetv2", "conv depthwise"), 0);
        cr_assert_gt(family_count(&cs, "resnet50", "binary (unfused)"), 0);
        cr_assert_gt(family_count(&cs, "resnet50", "pool"), 0);
        for (int i = 0; i < cs.n; i++) {
            const sn_kb_case *c = &cs.v[i];
            cr_assert_geq(c->n_bufs, 2, "%s (%s): %d buffers", c->name, c->family, c->n_bufs);
            int ptr_args = 0;
            for (int a = 0; a < c->k.n_args; a++)
                ptr_args += c->k.args[a].kind == SN_CUDA_ARG_INPUT || c->k.args[a].kind == SN_CUDA_ARG_OUTPUT;
            cr_assert_eq(c->n_bufs, ptr_args, "%s: %d buffers for %d pointer arguments", c->name, c->n_bufs,
                         ptr_args);
            for (int b = 0; b < c->n_bufs; b++) cr_assert_gt(c->bufs[b].unit_bytes, 0, "%s", c->name);
            bool conv = !strncmp(c->family, "conv ", 5);
            if (conv || !strcmp(c->family, "dense"))
                cr_assert_gt(c->flops_per_image, 0, "%s: no FLOPs", c->name);
            if (!strcmp(c->family, "dense")) { /* cuBLAS can run it, flattened input included */
                cr_assert_eq(c->vendor, SN_KB_VENDOR_GEMM, "%s", c->name);
                cr_assert_geq(c->flops_per_image, 2.0 * c->geom.in_features * c->geom.out_features, "%s",
                              c->name);
                cr_assert_gt(c->geom.in_features * c->geom.out_features, 0, "%s", c->name);
            }
            if (conv && c->vendor == SN_KB_VENDOR_CONV) {
                const sn_kb_geom *q = &c->geom;
                cr_assert_eq(q->oh, (q->h + q->pt + q->pb - q->dh * (q->kh - 1) - 1) / q->sh + 1, "%s", c->name);
                cr_assert_eq(q->ow, (q->w + q->pl + q->pr - q->dw * (q->kw - 1) - 1) / q->sw + 1, "%s", c->name);
            }
        }
        /* resnet50's stem: x [3,224,224], w [64,3,7,7] and the folded bias [64] in, y [64,112,112]
         * out, every one in the storage type */
        bool seen = false;
        for (int i = 0; i < cs.n; i++) {
            const sn_kb_case *c = &cs.v[i];
            if (strcmp(c->name, "resnet50 conv1") || !c->engine_choice) continue;
            size_t sum = 0;
            for (int b = 0; b < c->n_bufs; b++) sum += c->bufs[b].unit_bytes;
            cr_assert_eq(sum, (size_t)(3 * 224 * 224 + 64 * 3 * 7 * 7 + 64 + 64 * 112 * 112) * elem);
            cr_assert_eq(c->vendor, SN_KB_VENDOR_CONV);
            cr_assert_eq(c->geom.m, 64);
            cr_assert_eq(c->geom.sh, 2);
            cr_assert_eq(c->geom.pt, 3);
            seen = true;
        }
        cr_assert(seen, "no case named 'resnet50 conv1'");
        sn_kb_cases_free(&cs);
    }
}

static bool under_fake_driver(void) {
    sn_error e = {0};
    return sn_cuda_driver_get(&e) && sn_fake_cuda_find();
}

Test(kbench, times_every_case_under_the_fake_driver, .timeout = 600) {
    sn_error e = {0};
    if (!sn_nvrtc_get(&e)) cr_skip_test("NVRTC is not available: %s", e.message);
    if (!under_fake_driver())
        cr_skip_test("needs the stand-in libcuda.so.1 (tests/fake_cuda) on LD_LIBRARY_PATH: CTest sets it");
    sn_fake_cuda_stats *fs = sn_fake_cuda_find();

    sn_kb_device d;
    cr_assert_eq(sn_kb_device_open(&d, &e), SN_OK, "%s", e.message);
    static const char *const models[] = {"seed-cnn"};
    for (int p = 0; p < 4; p++) {
        sn_kb_cases cs = {0};
        cr_assert_eq(sn_kb_cases_add_models(&cs, models, 1, (sn_gpu_precision)p, 5, &e), SN_OK, "%s", e.message);
        cr_assert_eq(sn_kb_compile(&d, &cs, 2, &e), SN_OK, "%s", e.message);
        for (int i = 0; i < cs.n; i++) {
            for (int batch = 1; batch <= 5; batch += 4) {
                int before = fs->graph_launches;
                double us = 0, bytes = 0;
                cr_assert_eq(sn_kb_time_case(&d, &cs.v[i], batch, 3, &us, &bytes, &e), SN_OK, "%s", e.message);
                cr_assert_gt(us, 0);
                cr_assert_gt(bytes, 0);
                cr_assert_eq(fs->graph_launches, before + 4, "%s: one warm-up and 3 timed replays", cs.v[i].name);
                cr_assert_eq(fs->bad_launches, 0, "%s at batch %d: %s", cs.v[i].name, batch, fs->last_bad);
            }
        }
        sn_kb_cases_free(&cs);
    }
    double gbps = 0;
    cr_assert_eq(sn_kb_copy_bandwidth(&d, &gbps, &e), SN_OK, "%s", e.message);
    cr_assert_gt(gbps, 0);
    cr_assert_eq(fs->bytes_in_use, 0, "every buffer freed");
    sn_kb_device_close(&d);
}
