/*
 * test_cuda_preprocess.c - the GPU's batch image preprocessing kernel (kernels/cuda/preprocess.cu)
 * without a GPU:
 *   - its arithmetic, built for the host (tests/support/image_cases.c), over batches of random
 *     images of mixed odd sizes packed in the upload format, equals the CPU preprocessing
 *     (sn_preprocess_image) bit for bit: every layout, resize mode and channel order, random
 *     output sizes and mean/std;
 *   - the generated kernel compiles with NVRTC for sm_80 and sm_90 in every configuration an
 *     engine can ask for (NCHW/NHWC x fp32/tf32/fp16/bf16 storage x stretch/shorter-crop x
 *     RGB/BGR), and with 64-bit indexing for a batch too large for 32-bit offsets.
 * What runs on a device is tests/test_gpu_preprocess.c.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_cases.h"
#include "preprocess.h"
#include "test_support.h"

Test(cuda_preprocess, kernel_arithmetic_equals_the_cpu) {
    sn_rng rng;
    sn_rng_seed(&rng, sn_test_fresh_seed("cuda_preprocess_host"));
    int cases = 0;
    for (int round = 0; round < 6; round++)
        for (int cfg = 0; cfg < 8; cfg++) {
            const sn_layout layout = (cfg & 1) ? SN_LAYOUT_NHWC : SN_LAYOUT_NCHW;
            const int crop = (cfg >> 1) & 1, bgr = (cfg >> 2) & 1;
            const int W = 1 + (int)(sn_rng_u64(&rng) % 40), H = 1 + (int)(sn_rng_u64(&rng) % 40);
            const int side = W > H ? W : H;
            sn_preprocess p =
                sn_img_meta(H, W, crop ? side + (int)(sn_rng_u64(&rng) % 30) : 0, bgr, &rng);
            enum { N = 5 };
            int w[N], h[N], pad[N];
            for (int i = 0; i < N; i++) { /* 1-pixel strips, up- and downscales, odd sizes */
                int kind = (int)(sn_rng_u64(&rng) % 4);
                w[i] = kind == 0 ? 1 : 1 + (int)(sn_rng_u64(&rng) % (kind == 3 ? 300 : 60));
                h[i] = kind == 1 ? 1 : 1 + (int)(sn_rng_u64(&rng) % (kind == 3 ? 300 : 60));
                pad[i] = (int)(sn_rng_u64(&rng) % 5);
            }
            sn_image_u8 *im = sn_img_random(&rng, N, w, h, pad);
            float *want = sn_img_reference(&p, layout, N, im);
            size_t bytes = 0;
            void *packed = sn_img_pack(N, im, &bytes);
            const size_t total = (size_t)N * 3 * W * H;
            float *got = malloc(total * sizeof *got);
            cr_assert_not_null(got);
            memset(got, 0xFF, total * sizeof *got); /* NaN: an unwritten value shows */
            sn_img_emulate_kernel(&p, layout, N, packed, got);
            for (size_t k = 0; k < total; k++)
                cr_assert(!memcmp(&got[k], &want[k], sizeof(float)),
                          "%s %s %s to %dx%d: element %zu (image %zu) is %.9g, CPU %.9g",
                          layout == SN_LAYOUT_NHWC ? "NHWC" : "NCHW",
                          crop ? "shorter-crop" : "stretch", bgr ? "BGR" : "RGB", W, H, k,
                          k / ((size_t)3 * W * H), (double)got[k], (double)want[k]);
            free(got);
            free(packed);
            free(want);
            sn_img_free(im, N);
            cases++;
        }
    cr_log_info("%d batches of 5 images equal the CPU bit for bit", cases);
}

#ifndef SENTINEL_HAVE_CUDA
Test(cuda_preprocess, compiles) {
    cr_skip_test("built without the CUDA toolkit (SENTINEL_HAVE_CUDA)");
}
#else

#include "codegen.h"
#include "cuda_api.h"
#include "kernel_cache.h"

Test(cuda_preprocess, compiles_in_every_configuration, .timeout = 900) {
    sn_error e = {0};
    if (!sn_nvrtc_get(&e)) cr_skip_test("NVRTC is not available: %s", e.message);
    static const int arch[] = {80, 90};
    enum { MAXN = 2 * 4 * 2 * 2 * 2 + 1 }; /* layouts x precisions x modes x orders x archs */
    sn_cuda_program progs[MAXN];
    char *labels[MAXN];
    int n = 0;
    sn_rng rng;
    sn_rng_seed(&rng, 11);
    for (int lay = 0; lay < 2; lay++)
        for (int prec = 0; prec < 4; prec++)
            for (int crop = 0; crop < 2; crop++)
                for (int bgr = 0; bgr < 2; bgr++) {
                    sn_preprocess p = sn_img_meta(224, 224, crop ? 256 : 0, bgr, &rng);
                    sn_cuda_kernel k;
                    cr_assert_eq(sn_cuda_codegen_preprocess(
                                     &p, lay ? SN_LAYOUT_NHWC : SN_LAYOUT_NCHW, 64,
                                     (sn_gpu_precision)prec, &k, &e),
                                 SN_OK, "%s", e.message);
                    cr_assert_eq(k.n_args, 3);
                    cr_assert_eq(k.n_aux, 0, "the kernel needs no per-size tables");
                    cr_assert(strstr(k.source, "#define SN_IDX64 0LL"), "%s", k.label);
                    for (int a = 0; a < 2; a++) {
                        char buf[256];
                        snprintf(buf, sizeof buf, "%s %s sm_%d", k.label,
                                 sn_gpu_precision_name((sn_gpu_precision)prec), arch[a]);
                        labels[n] = strdup(buf);
                        progs[n] = (sn_cuda_program){
                            .label = labels[n], .source = strdup(k.source), .arch = arch[a]};
                        cr_assert(labels[n] && progs[n].source);
                        n++;
                    }
                    sn_cuda_kernel_clear(&k);
                }
    /* A batch whose output passes 2^31 elements: 64-bit indexing. */
    sn_preprocess big = sn_img_meta(1024, 1024, 0, 0, &rng);
    sn_cuda_kernel k;
    cr_assert_eq(sn_cuda_codegen_preprocess(&big, SN_LAYOUT_NCHW, 1024, SN_GPU_FP16, &k, &e), SN_OK,
                 "%s", e.message);
    cr_assert(strstr(k.source, "#define SN_IDX64 1LL"));
    labels[n] = strdup("64-bit indexing");
    progs[n] = (sn_cuda_program){.label = labels[n], .source = strdup(k.source), .arch = 90};
    n++;
    sn_cuda_kernel_clear(&k);
    cr_assert_eq(n, MAXN);

    sn_kcache c;
    cr_assert_eq(sn_kcache_open(&c, NULL, SN_KCACHE_OFF, &e), SN_OK, "%s", e.message);
    cr_assert_eq(sn_kcache_build_all(&c, progs, n, 2, &e), SN_OK, "%s", e.message);
    for (int i = 0; i < n; i++) {
        cr_assert_gt(progs[i].cubin_size, 4, "%s: empty cubin", progs[i].label);
        cr_assert(!memcmp(progs[i].cubin, "\177ELF", 4), "%s: not an ELF cubin", progs[i].label);
        cr_assert(!progs[i].log || !strstr(progs[i].log, "error"), "%s: %s", progs[i].label,
                  progs[i].log);
    }
    cr_assert_eq(c.stats.compiles, n, "every configuration is a distinct program");
    cr_log_info("%d preprocessing kernels compiled with NVRTC", n);
    sn_kcache_close(&c);
    for (int i = 0; i < n; i++) {
        free((void *)progs[i].source);
        free(labels[i]);
        sn_cuda_program_clear(&progs[i]);
    }
}

/* Refused configurations name what is wrong. */
Test(cuda_preprocess, codegen_checks_its_arguments) {
    sn_rng rng;
    sn_rng_seed(&rng, 5);
    sn_preprocess p = sn_img_meta(8, 8, 0, 0, &rng);
    sn_cuda_kernel k;
    sn_error e = {0};
    cr_assert_eq(sn_cuda_codegen_preprocess(&p, SN_LAYOUT_ANY, 4, SN_GPU_FP32, &k, &e),
                 SN_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(e.message, "neither NCHW nor NHWC"), "%s", e.message);
    p.std[1] = 0.0f;
    cr_assert_eq(sn_cuda_codegen_preprocess(&p, SN_LAYOUT_NCHW, 4, SN_GPU_FP32, &k, &e),
                 SN_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(e.message, "std"), "%s", e.message);
}

#endif /* SENTINEL_HAVE_CUDA */
