/* image_cases.c - see image_cases.h. */
#include "image_cases.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "model.h"
#include "preprocess.h"

static void sn__ok(sn_status st, const sn_error *e) {
    cr_assert_eq(st, SN_OK, "%s: %s", sn_status_string(st), e ? e->message : "");
}

static int sn__tensor(sn_graph *g, const char *name, int rank, const int64_t *dims) {
    sn_shape s = sn_shape_make(rank, dims);
    int t;
    sn__ok(sn_graph_add_tensor(g, name, SN_DTYPE_F32, dims ? &s : NULL, &t), NULL);
    return t;
}

sn_model *sn_img_model(int h, int w, sn_layout layout, sn_img_model_kind kind,
                       const sn_preprocess *meta, sn_rng *rng) {
    sn_graph *g;
    sn__ok(sn_graph_create(&g), NULL);
    const bool nhwc = layout == SN_LAYOUT_NHWC;
    int64_t xd[4] = {SN_DIM_BATCH, 3, h, w}, xd_nhwc[4] = {SN_DIM_BATCH, h, w, 3};
    int x = sn__tensor(g, "x", 4, nhwc ? xd_nhwc : xd);
    g->tensors[x].layout = nhwc ? SN_LAYOUT_NHWC : SN_LAYOUT_NCHW;
    sn__ok(sn_graph_add_input(g, x), NULL);
    int y;
    if (kind == SN_IMG_IDENTITY) {
        y = sn__tensor(g, "y", 0, NULL);
        sn__ok(sn_graph_add_node(g, SN_OP_IDENTITY, "id", &x, 1, &y, 1, NULL, 0, NULL), NULL);
    } else {
        int cur = x;
        if (nhwc) {
            static const int64_t perm[4] = {0, 3, 1, 2};
            sn_attr a = sn_attr_ints("perm", perm, 4);
            int t = sn__tensor(g, "x_nchw", 0, NULL);
            sn__ok(sn_graph_add_node(g, SN_OP_TRANSPOSE, "to_nchw", &cur, 1, &t, 1, &a, 1, NULL),
                   NULL);
            cur = t;
        }
        float wv[4 * 3 * 3 * 3], bv[4];
        sn_rng_fill(rng, wv, 4 * 27, -0.5f, 0.5f);
        sn_rng_fill(rng, bv, 4, -0.2f, 0.2f);
        int64_t wd[4] = {4, 3, 3, 3}, bd[1] = {4};
        sn_shape ws = sn_shape_make(4, wd), bs = sn_shape_make(1, bd);
        int wt, bt;
        sn__ok(sn_graph_add_const(g, "w", SN_DTYPE_F32, &ws, wv, sizeof wv, true, &wt), NULL);
        sn__ok(sn_graph_add_const(g, "b", SN_DTYPE_F32, &bs, bv, sizeof bv, true, &bt), NULL);
        static const int64_t pads[4] = {1, 1, 1, 1};
        sn_attr a = sn_attr_ints("pads", pads, 4);
        int conv = sn__tensor(g, "conv", 0, NULL);
        int ins[3] = {cur, wt, bt};
        sn__ok(sn_graph_add_node(g, SN_OP_CONV, "conv", ins, 3, &conv, 1, &a, 1, NULL), NULL);
        y = sn__tensor(g, "y", 0, NULL);
        sn__ok(sn_graph_add_node(g, SN_OP_RELU, "relu", &conv, 1, &y, 1, NULL, 0, NULL), NULL);
    }
    sn__ok(sn_graph_add_output(g, y), NULL);
    if (meta && meta->present) g->meta.preprocess = *meta;
    sn_model *m = NULL;
    sn_error e = {0};
    sn__ok(sn_model_from_graph(g, &m, &e), &e);
    return m;
}

sn_preprocess sn_img_meta(int h, int w, int shorter, int bgr, sn_rng *rng) {
    sn_preprocess p = {0};
    p.present = 1;
    p.width = w;
    p.height = h;
    p.resize = shorter ? SN_RESIZE_SHORTER_CROP : SN_RESIZE_STRETCH;
    p.resize_shorter = shorter;
    p.channels = bgr ? SN_CHANNELS_BGR : SN_CHANNELS_RGB;
    for (int c = 0; c < 3; c++) {
        p.mean[c] = (float)sn_rng_uniform(rng, 0.3, 0.6);
        p.std[c] = (float)sn_rng_uniform(rng, 0.15, 0.3);
    }
    return p;
}

sn_preprocess sn_img_expected_preprocess(const sn_model *m, int h, int w) {
    sn_preprocess p;
    sn__ok(sn_model_preprocess(m, &p), NULL);
    if (!p.present)
        p = (sn_preprocess){.present = 0, .width = w, .height = h, .resize = SN_RESIZE_STRETCH,
                            .channels = SN_CHANNELS_RGB, .std = {1, 1, 1}};
    return p;
}

sn_image_u8 *sn_img_random(sn_rng *rng, int n, const int *w, const int *h, const int *pad) {
    sn_image_u8 *im = calloc((size_t)n, sizeof *im);
    cr_assert_not_null(im);
    for (int i = 0; i < n; i++) {
        size_t stride = (size_t)w[i] * 3 + (size_t)(pad ? pad[i] : 0);
        size_t bytes = stride * (size_t)h[i];
        uint8_t *px = malloc(bytes);
        cr_assert_not_null(px);
        for (size_t k = 0; k < bytes; k++) px[k] = (uint8_t)(sn_rng_u64(rng) >> 56);
        im[i] = (sn_image_u8){w[i], h[i], pad && pad[i] ? stride : 0, px};
    }
    return im;
}

void sn_img_free(sn_image_u8 *im, int n) {
    for (int i = 0; im && i < n; i++) free((void *)im[i].pixels);
    free(im);
}

float *sn_img_reference(const sn_preprocess *p, sn_layout layout, int n, const sn_image_u8 *im) {
    const size_t per = (size_t)3 * p->width * p->height;
    float *out = malloc(per * (size_t)n * sizeof *out);
    cr_assert_not_null(out);
    for (int i = 0; i < n; i++) {
        const size_t row = (size_t)im[i].width * 3, stride = im[i].stride ? im[i].stride : row;
        uint8_t *tight = malloc(row * (size_t)im[i].height);
        cr_assert_not_null(tight);
        for (int r = 0; r < im[i].height; r++)
            memcpy(tight + row * (size_t)r, im[i].pixels + stride * (size_t)r, row);
        sn_error e = {0};
        sn__ok(sn_preprocess_image(p, layout, tight, im[i].width, im[i].height, out + per * i,
                                   &e),
               &e);
        free(tight);
    }
    return out;
}

void *sn_img_pack(int n, const sn_image_u8 *im, size_t *bytes) {
    size_t total = (size_t)n * 32 + 8, *off = malloc((size_t)n * sizeof *off), *st = NULL;
    st = malloc((size_t)n * sizeof *st);
    cr_assert(off && st);
    for (int k = n - 1; k >= 0; k--) { /* last image first, each after a gap of k bytes */
        total += (size_t)k;
        off[k] = total;
        st[k] = (size_t)im[k].width * 3 + (size_t)(k % 3);
        total += st[k] * (size_t)im[k].height;
    }
    unsigned char *buf = calloc(1, total);
    cr_assert_not_null(buf);
    for (int k = 0; k < n; k++) {
        const int64_t d[4] = {(int64_t)off[k], im[k].width, im[k].height, (int64_t)st[k]};
        memcpy(buf + (size_t)k * 32, d, sizeof d);
        const size_t row = (size_t)im[k].width * 3, src = im[k].stride ? im[k].stride : row;
        for (int r = 0; r < im[k].height; r++)
            memcpy(buf + off[k] + st[k] * (size_t)r, im[k].pixels + src * (size_t)r, row);
    }
    free(off);
    free(st);
    *bytes = total;
    return buf;
}

size_t sn_img_packed_bytes(int n, const sn_image_u8 *im) {
    size_t at = ((size_t)n * 32 + 15) & ~(size_t)15;
    for (int i = 0; i < n; i++) at += ((size_t)im[i].width * im[i].height * 3 + 15) & ~(size_t)15;
    return at;
}

/* --- kernels/cuda/preprocess.cu, built for the host ---------------------------------------
 * The template's per-pixel function is plain C once CUDA's qualifiers are dropped and its
 * correctly rounded intrinsics become the C operators, which on x86-64 (SSE2, no contraction
 * in ISO C mode) are correctly rounded too. Its compile-time constants become variables here,
 * which is why the template tests them with `if` rather than `#if`. */
#define SN_HOST_EMULATION 1
#define __device__
#define __forceinline__ inline
#define __restrict__ restrict
#define __ldg(p) (*(p))
#define __ddiv_rn(a, b) ((a) / (b))
#define __dadd_rn(a, b) ((a) + (b))
#define __dsub_rn(a, b) ((a) - (b))
#define __dmul_rn(a, b) ((a) * (b))
#define __fadd_rn(a, b) ((float)(a) + (float)(b))
#define __fsub_rn(a, b) ((float)(a) - (float)(b))
#define __fmul_rn(a, b) ((float)(a) * (float)(b))
#define __double2float_rn(a) ((float)(a))
typedef long long sn_idx;
typedef float sn_t;
static inline void sn_st(sn_t *p, float v) { *p = v; }
static int sn_emu_w, sn_emu_h, sn_emu_nhwc, sn_emu_crop, sn_emu_shorter, sn_emu_srcc[3];
static float sn_emu_scale[3], sn_emu_bias[3];
#define SN_OUT_W sn_emu_w
#define SN_OUT_H sn_emu_h
#define SN_NHWC sn_emu_nhwc
#define SN_CROP sn_emu_crop
#define SN_SHORTER sn_emu_shorter
#define SN_SRCC0 sn_emu_srcc[0]
#define SN_SRCC1 sn_emu_srcc[1]
#define SN_SRCC2 sn_emu_srcc[2]
#define SN_SCALE0 sn_emu_scale[0]
#define SN_SCALE1 sn_emu_scale[1]
#define SN_SCALE2 sn_emu_scale[2]
#define SN_BIAS0 sn_emu_bias[0]
#define SN_BIAS1 sn_emu_bias[1]
#define SN_BIAS2 sn_emu_bias[2]
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* #pragma unroll */
#include "../../kernels/cuda/preprocess.cu"
#pragma GCC diagnostic pop

void sn_img_emulate_kernel(const sn_preprocess *p, sn_layout layout, int n, const void *packed,
                           float *out) {
    sn_emu_w = p->width;
    sn_emu_h = p->height;
    sn_emu_nhwc = layout == SN_LAYOUT_NHWC;
    sn_emu_crop = p->resize == SN_RESIZE_SHORTER_CROP;
    sn_emu_shorter = sn_emu_crop ? p->resize_shorter : 0;
    /* As runtime/cuda/codegen_preprocess.c computes the constants. */
    for (int c = 0; c < 3; c++) {
        sn_emu_srcc[c] = p->channels == SN_CHANNELS_BGR ? 2 - c : c;
        sn_emu_scale[c] = (float)(1.0 / (255.0 * p->std[c]));
        sn_emu_bias[c] = (float)(-(double)p->mean[c] / p->std[c]);
    }
    const sn_idx total = (sn_idx)n * p->width * p->height;
    for (sn_idx i = 0; i < total; i++) sn_preprocess_pixel(packed, i, out);
}
