/*
 * test_cuda_compile.c - every CUDA kernel the code generator makes compiles with NVRTC, for real,
 * on a machine without a GPU: every node of every zoo model after optimisation (fp32, fp16 and
 * bf16) and every case of the GPU op table (each conv variant that applies; fp32, tf32, fp16 and
 * bf16), for sm_80 and sm_90. A compile counts when NVRTC succeeds, the log has no error and the
 * cubin is a non-empty ELF image. Identical specialisations (same source and options) compile once.
 *
 * Under AddressSanitizer the zoo test compiles a representative subset (three models, fp32 and
 * fp16, sm_90) to keep the run short; the op-case test always compiles everything.
 * Skipped, with the reason, where NVRTC cannot be loaded or the build has no CUDA toolkit.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test_support.h"

#ifndef SENTINEL_HAVE_CUDA
Test(cuda_compile, skipped) { cr_skip_test("built without the CUDA toolkit (SENTINEL_HAVE_CUDA)"); }
#else

#include "codegen.h"
#include "cuda_api.h"
#include "gpu_cases.h"
#include "kernel_cache.h"

#if defined(__SANITIZE_ADDRESS__)
#define SN_T_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SN_T_ASAN 1
#endif
#endif
#ifndef SN_T_ASAN
#define SN_T_ASAN 0
#endif

static const sn_gpu_precision all_prec[] = {SN_GPU_FP32, SN_GPU_TF32, SN_GPU_FP16, SN_GPU_BF16};
static const int all_arch[] = {80, 90};

static void need_nvrtc(void) {
    sn_error e = {0};
    if (!sn_nvrtc_get(&e)) cr_skip_test("NVRTC is not available: %s", e.message);
}

/* Programs to compile; owns sources and labels. */
typedef struct progset {
    sn_cuda_program *p;
    int n, cap;
} progset;

static void ps_add(progset *ps, const sn_cuda_kernel *k, int arch) {
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? 2 * ps->cap : 256;
        ps->p = realloc(ps->p, (size_t)ps->cap * sizeof *ps->p);
        cr_assert_not_null(ps->p);
    }
    sn_cuda_program *p = &ps->p[ps->n++];
    memset(p, 0, sizeof *p);
    p->label = strdup(k->label);
    p->source = strdup(k->source);
    p->arch = arch;
    cr_assert(p->label && p->source);
}

static void ps_free(progset *ps) {
    for (int i = 0; i < ps->n; i++) {
        free((void *)ps->p[i].label);
        free((void *)ps->p[i].source);
        sn_cuda_program_clear(&ps->p[i]);
    }
    free(ps->p);
}

/* Kernels of every node of g (each applicable conv variant when all_variants) in the given
 * precisions and architectures. Returns the number of kernels generated per precision. */
static int add_graph(progset *ps, const sn_graph *g, const char *what, const sn_gpu_precision *prec,
                     int n_prec, const int *arch, int n_arch, bool all_variants) {
    int made = 0;
    for (int pi = 0; pi < n_prec; pi++) {
        sn_cuda_codegen_ctx ctx;
        sn_error ce = {0};
        cr_assert_eq(sn_cuda_codegen_ctx_init(&ctx, g, 64, prec[pi], &ce), SN_OK, "%s", ce.message);
        for (int i = 0; i < g->n_nodes; i++) {
            const sn_node *n = &g->nodes[i];
            if (n->dead) continue;
            unsigned variants = 1u; /* bit 0 stands for AUTO here */
            bool conv = n->op == SN_OP_FUSED_CONV || n->op == SN_OP_CONV;
            if (conv && all_variants) variants = sn_cuda_conv_variants(&ctx, i) << 1;
            for (int v = -1; v <= SN_CONV_DEPTHWISE; v++) {
                if (!(variants & (1u << (v + 1)))) continue;
                sn_cuda_node_kind kind;
                sn_cuda_kernel *ks = NULL;
                int nk = 0;
                sn_error e = {0};
                sn_status st = sn_cuda_codegen_node(&ctx, i, v, &kind, &ks, &nk, &e);
                cr_assert_eq(st, SN_OK, "%s: codegen of node '%s' (%s) in %s: %s", what, n->name,
                             sn_op_name(n->op), sn_gpu_precision_name(prec[pi]), e.message);
                for (int k = 0; k < nk; k++) {
                    cr_assert_not_null(ks[k].source);
                    cr_assert_gt(ks[k].block, 0, "%s", ks[k].label);
                    for (int a = 0; a < n_arch; a++) ps_add(ps, &ks[k], arch[a]);
                }
                if (pi == 0) made += nk;
                sn_cuda_kernels_free(ks, nk);
            }
        }
        sn_cuda_codegen_ctx_free(&ctx);
    }
    return made;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Compile everything (no cache: every distinct program really compiles) and check each. */
static void compile_and_check(progset *ps, const char *what) {
    sn_kcache c;
    sn_error e = {0};
    cr_assert_eq(sn_kcache_open(&c, NULL, SN_KCACHE_OFF, &e), SN_OK, "%s", e.message);
    double t0 = now_s();
    sn_status st = sn_kcache_build_all(&c, ps->p, ps->n, 2, &e);
    double dt = now_s() - t0;
    cr_assert_eq(st, SN_OK, "%s: %s", what, e.message);
    for (int i = 0; i < ps->n; i++) {
        const sn_cuda_program *p = &ps->p[i];
        cr_assert_gt(p->cubin_size, 4, "%s: empty cubin for %s", what, p->label);
        cr_assert(!memcmp(p->cubin, "\177ELF", 4), "%s: %s: not an ELF cubin", what, p->label);
        cr_assert(!p->log || !strstr(p->log, "error"), "%s: %s: log says %s", what, p->label,
                  p->log);
    }
    cr_assert_eq(c.stats.compiles + c.stats.deduped, ps->n);
    cr_log_info("%s: %d kernels, %d distinct compiled with NVRTC (%d identical) in %.1f s on 2 "
                "threads",
                what, ps->n, c.stats.compiles, c.stats.deduped, dt);
    fprintf(stderr, "%s: %d kernels, %d distinct compiled with NVRTC (%d identical) in %.1f s\n",
            what, ps->n, c.stats.compiles, c.stats.deduped, dt);
    sn_kcache_close(&c);
}

Test(cuda_compile, zoo_models, .timeout = 900) {
    need_nvrtc();
    static const char *const full[] = {"seed-cnn",    "resnet18",      "resnet50",
                                       "mobilenetv2", "squeezenet1_1", "mobilenetv3_small"};
    static const char *const subset[] = {"seed-cnn", "resnet18", "mobilenetv3_small"};
    const char *const *models = SN_T_ASAN ? subset : full;
    int n_models = SN_T_ASAN ? 3 : 6;
    /* TF32 changes one define of the same templates; the op cases compile it everywhere. */
    static const sn_gpu_precision zoo_prec[] = {SN_GPU_FP32, SN_GPU_FP16, SN_GPU_BF16};
    static const sn_gpu_precision asan_prec[] = {SN_GPU_FP32, SN_GPU_FP16};
    static const int asan_arch[] = {90};
    progset ps = {0};
    for (int m = 0; m < n_models; m++) {
        sn_graph *g = NULL;
        sn_error e = {0};
        cr_assert_eq(sn_gpu_zoo_optimized(models[m], &g, &e), SN_OK, "%s", e.message);
        int made = SN_T_ASAN ? add_graph(&ps, g, models[m], asan_prec, 2, asan_arch, 1, false)
                             : add_graph(&ps, g, models[m], zoo_prec, 3, all_arch, 2, false);
        cr_assert_gt(made, 0);
        sn_graph_destroy(g);
    }
    compile_and_check(&ps, SN_T_ASAN ? "zoo subset (ASan)" : "zoo models");
    ps_free(&ps);
}

Test(cuda_compile, op_cases, .timeout = 900) {
    need_nvrtc();
    progset ps = {0};
    for (int i = 0; i < sn_gpu_case_count(); i++) {
        sn_graph *g = NULL;
        sn_error e = {0};
        cr_assert_eq(sn_gpu_case_build(i, &g, &e), SN_OK, "%s", e.message);
        int made = add_graph(&ps, g, sn_gpu_case_name(i), all_prec, 4, all_arch, 2, true);
        cr_assert_gt(made, 0, "case %s made no kernel", sn_gpu_case_name(i));
        sn_graph_destroy(g);
    }
    compile_and_check(&ps, "op cases");
    ps_free(&ps);
}

/* The image preprocessing kernel has its own test: test_cuda_preprocess.c. */
Test(cuda_compile, casts) {
    need_nvrtc();
    progset ps = {0};
    sn_graph *g = NULL;
    sn_error e = {0};
    cr_assert_eq(sn_gpu_case_build(0, &g, &e), SN_OK, "%s", e.message);
    for (int pi = 0; pi < 4; pi++) {
        sn_cuda_codegen_ctx ctx;
        cr_assert_eq(sn_cuda_codegen_ctx_init(&ctx, g, 64, all_prec[pi], &e), SN_OK);
        for (int dir = 0; dir < 2; dir++) {
            sn_cuda_kernel k;
            int t = dir ? g->outputs[0] : g->inputs[0];
            cr_assert_eq(sn_cuda_codegen_cast(&ctx, t, dir == 0, &k, &e), SN_OK, "%s", e.message);
            for (int a = 0; a < 2; a++) ps_add(&ps, &k, all_arch[a]);
            sn_cuda_kernel_clear(&k);
        }
        sn_cuda_codegen_ctx_free(&ctx);
    }
    sn_graph_destroy(g);
    compile_and_check(&ps, "casts");
    ps_free(&ps);
}

/* A compile error names the template file and line (the #line markers) and keeps the source. */
Test(cuda_compile, error_points_into_the_template) {
    need_nvrtc();
    sn_graph *g = NULL;
    sn_error e = {0};
    cr_assert_eq(sn_gpu_case_build(0, &g, &e), SN_OK, "%s", e.message);
    sn_cuda_codegen_ctx ctx;
    cr_assert_eq(sn_cuda_codegen_ctx_init(&ctx, g, 8, SN_GPU_FP32, &e), SN_OK, "%s", e.message);
    int conv = -1;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].op == SN_OP_FUSED_CONV) conv = i;
    cr_assert_geq(conv, 0);
    sn_cuda_node_kind kind;
    sn_cuda_kernel *ks = NULL;
    int nk = 0;
    cr_assert_eq(sn_cuda_codegen_node(&ctx, conv, SN_CONV_IGEMM, &kind, &ks, &nk, &e), SN_OK, "%s",
                 e.message);
    /* Drop the kernel-height constant: the template cannot compile without it. */
    char *def = strstr(ks[0].source, "#define SN_KH ");
    cr_assert_not_null(def);
    memcpy(def, "//efine", 7);
    char *dir = sn_test_mkdtemp();
    sn_kcache c;
    cr_assert_eq(sn_kcache_open(&c, dir, SN_KCACHE_ON, &e), SN_OK, "%s", e.message);
    sn_cuda_program p = {.label = ks[0].label, .source = ks[0].source, .arch = 90};
    sn_status st = sn_kcache_build(&c, &p, &e);
    cr_assert_eq(st, SN_ERR_INTERNAL);
    cr_assert(strstr(e.message, "fused_conv.cu("), "message: %s", e.message);
    cr_assert(strstr(e.message, "SN_KH"), "message: %s", e.message);
    cr_assert(strstr(e.message, ks[0].label), "message: %s", e.message);
    /* The generated source is kept where the message says. */
    const char *at = strstr(e.message, "generated source: ");
    cr_assert_not_null(at);
    char path[4096];
    cr_assert_eq(sscanf(at + strlen("generated source: "), "%4095[^;]", path), 1);
    size_t size = 0;
    char *kept = sn_test_read_file(path, &size);
    cr_assert_not_null(kept, "no file at %s", path);
    cr_assert_eq(size, strlen(ks[0].source));
    free(kept);
    cr_assert_eq(c.stats.stored, 0);
    sn_cuda_program_clear(&p);
    sn_kcache_close(&c);
    sn_test_rmtree(dir);
    free(dir);
    sn_cuda_kernels_free(ks, nk);
    sn_cuda_codegen_ctx_free(&ctx);
    sn_graph_destroy(g);
}

#endif /* SENTINEL_HAVE_CUDA */
