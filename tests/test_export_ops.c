/*
 * test_export_ops.c - single-op (and few-op) models through both exporters, run in ONNX Runtime
 * and LiteRT by tests/export/check_export.py against Sentinel's CPU backend: ONNX and float
 * TFLite within 1e-4 (relative to the largest output), fp16 within 1e-2, int8 (calibrated on
 * other random inputs of the same distribution) with a cosine similarity above 0.98.
 *
 * The cases aim at what the lowering must get right: TFLite's SAME/VALID padding against
 * explicit, asymmetric and ceil-mode pads (PAD / PADV2 inserted), depthwise multipliers,
 * dilation, AveragePool's count_include_pad, NCHW-order Flatten / Reshape / Transpose / Concat
 * / Softmax axes on NHWC tensors, broadcasting constants, Pad and Resize modes, activations that
 * TFLite fuses and those it spells with several ops, strided and backward Slice, BatchNorm and
 * BiasAdd that only the
 * unoptimised graph has. Each case's ONNX file uses another opset (13..21), which moves Resize
 * and HardSwish between their spellings. Graphs are exported as built (not optimised), so the
 * unfused ops are exported too; test_export_zoo.c covers optimised graphs.
 *
 * A zoo model through sentinel-export at every opset 13..21. Then the ONNX parity suite's
 * models, imported and exported again, against ONNX Runtime's outputs for the originals.
 * Refusals are tested in test_export_cli.c.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "export.h"
#include "export_support.h"
#include "sgraph.h"
#include "test_support.h"
#include "zoo.h"

#define N_EVAL 4
#define N_CAL 32

typedef struct mk {
    sn_graph *g;
    sn_rng *rng;
    int n; /* names made */
    int c; /* channels of the input */
} mk;

static int tensor(mk *m) {
    char name[32];
    snprintf(name, sizeof name, "t%d", m->n++);
    int t;
    cr_assert_eq(sn_graph_add_tensor(m->g, name, SN_DTYPE_F32, NULL, &t), SN_OK);
    return t;
}

static int rand_const(mk *m, int rank, const int64_t *dims, float lo, float hi) {
    sn_shape s = sn_shape_make(rank, dims);
    int64_t n = sn_shape_numel(&s);
    float *d = malloc(sizeof(float) * (size_t)n);
    cr_assert(d);
    sn_rng_fill(m->rng, d, (size_t)n, lo, hi);
    char name[32];
    snprintf(name, sizeof name, "w%d", m->n++);
    int t;
    cr_assert_eq(
        sn_graph_add_const(m->g, name, SN_DTYPE_F32, &s, d, sizeof(float) * (size_t)n, true, &t),
        SN_OK);
    free(d);
    return t;
}

static int node(mk *m, sn_op op, const int *in, int n_in, const sn_attr *a, int n_a) {
    int y = tensor(m);
    char name[32];
    snprintf(name, sizeof name, "%s_%d", sn_op_name(op), m->n++);
    cr_assert_eq(sn_graph_add_node(m->g, op, name, in, n_in, &y, 1, a, n_a, NULL), SN_OK);
    return y;
}

static int unary(mk *m, sn_op op, int x) { return node(m, op, &x, 1, NULL, 0); }

/* Conv (+ bias) with He-ish weights: cin/group inputs per output. */
static int conv(mk *m, int x, int cin, int cout, int k, int group, const int64_t *strides,
                const int64_t *pads, const int64_t *dil) {
    int64_t wd[4] = {cout, cin / group, k, k}, bd[1] = {cout};
    float a = 1.7f / sqrtf((float)(cin / group * k * k));
    int in[3] = {x, rand_const(m, 4, wd, -a, a), rand_const(m, 1, bd, -0.2f, 0.2f)};
    sn_attr at[4] = {sn_attr_int("group", group), sn_attr_ints("strides", strides, 2),
                     sn_attr_ints("pads", pads, 4), sn_attr_ints("dilations", dil, 2)};
    return node(m, SN_OP_CONV, in, 3, at, 4);
}

static const int64_t one2[2] = {1, 1}, two2[2] = {2, 2}, zero4[4] = {0, 0, 0, 0},
                     one4[4] = {1, 1, 1, 1};

/* --- the cases: each returns the output tensor of a graph over input x [N,C,H,W] ----------- */

static int c_conv_asym(mk *m, int x) {
    static const int64_t pads[4] = {1, 0, 2, 1};
    return unary(m, SN_OP_RELU, conv(m, x, m->c, 12, 3, 1, two2, pads, one2));
}
static int c_conv_same_relu6(mk *m, int x) {
    sn_attr a[2] = {sn_attr_float("min", 0.0f), sn_attr_float("max", 6.0f)};
    int y = conv(m, x, m->c, 8, 3, 1, one2, one4, one2);
    return node(m, SN_OP_CLIP, &y, 1, a, 2);
}
static int c_conv_dilated(mk *m, int x) {
    static const int64_t pads[4] = {2, 2, 2, 2};
    return conv(m, x, m->c, 6, 3, 1, one2, pads, two2);
}
static int c_depthwise_hswish(mk *m, int x) {
    return unary(m, SN_OP_HARD_SWISH, conv(m, x, m->c, m->c, 3, m->c, two2, one4, one2));
}
static int c_depthwise_mult(mk *m, int x) {
    static const int64_t pads[4] = {2, 2, 2, 2};
    sn_attr a = sn_attr_float("alpha", 0.1f);
    int y = conv(m, x, m->c, 2 * m->c, 5, m->c, one2, pads, one2);
    return node(m, SN_OP_LEAKY_RELU, &y, 1, &a, 1);
}
static int pool(mk *m, sn_op op, int x, int k, int s, const int64_t *pads, int ceil, int incl) {
    int64_t ks[2] = {k, k}, st[2] = {s, s};
    sn_attr a[5] = {sn_attr_ints("kernel_shape", ks, 2), sn_attr_ints("strides", st, 2),
                    sn_attr_ints("pads", pads, 4), sn_attr_int("ceil_mode", ceil),
                    sn_attr_int("count_include_pad", incl)};
    return node(m, op, &x, 1, a, op == SN_OP_AVG_POOL ? 5 : 4);
}
static int c_maxpool_ceil(mk *m, int x) { return pool(m, SN_OP_MAX_POOL, x, 3, 2, zero4, 1, 0); }
static int c_maxpool_pad(mk *m, int x) { return pool(m, SN_OP_MAX_POOL, x, 3, 2, one4, 0, 0); }
static int c_avgpool_incl(mk *m, int x) { return pool(m, SN_OP_AVG_POOL, x, 3, 2, one4, 0, 1); }
static int c_avgpool_same(mk *m, int x) { return pool(m, SN_OP_AVG_POOL, x, 3, 1, one4, 0, 0); }
static int c_gap_dense_sigmoid(mk *m, int x) {
    int y = unary(m, SN_OP_GLOBAL_AVG_POOL, conv(m, x, m->c, 16, 1, 1, one2, zero4, one2));
    sn_attr ax = sn_attr_int("axis", 1);
    y = node(m, SN_OP_FLATTEN, &y, 1, &ax, 1);
    int64_t wd[2] = {10, 16}, bd[1] = {10};
    int in[3] = {y, rand_const(m, 2, wd, -0.5f, 0.5f), rand_const(m, 1, bd, -0.1f, 0.1f)};
    sn_attr tb = sn_attr_int("transB", 1);
    return unary(m, SN_OP_SIGMOID, node(m, SN_OP_GEMM, in, 3, &tb, 1));
}
static int c_flatten_matmul_softmax(mk *m, int x) {
    sn_attr ax = sn_attr_int("axis", 1);
    int y = node(m, SN_OP_FLATTEN, &x, 1, &ax, 1);
    int64_t wd[2] = {m->c * 18 * 18, 7};
    int in[2] = {y, rand_const(m, 2, wd, -0.05f, 0.05f)};
    y = node(m, SN_OP_MATMUL, in, 2, NULL, 0);
    sn_attr sa = sn_attr_int("axis", -1);
    return node(m, SN_OP_SOFTMAX, &y, 1, &sa, 1);
}
static int c_concat_softmax_c(mk *m, int x) {
    int a = conv(m, x, m->c, 4, 1, 1, one2, zero4, one2);
    int b = conv(m, x, m->c, 6, 3, 1, one2, one4, one2);
    sn_attr ax = sn_attr_int("axis", 1);
    int y = node(m, SN_OP_CONCAT, (int[]){a, b}, 2, &ax, 1);
    return node(m, SN_OP_SOFTMAX, &y, 1, &ax, 1);
}
static int c_transpose(mk *m, int x) {
    static const int64_t perm[4] = {0, 2, 3, 1};
    sn_attr p = sn_attr_ints("perm", perm, 4);
    return unary(m, SN_OP_TANH, node(m, SN_OP_TRANSPOSE, &x, 1, &p, 1));
}
static int c_reshape_4d(mk *m, int x) {
    const int64_t shape[4] = {0, m->c / 2, -1, 18};
    sn_attr s = sn_attr_ints("shape", shape, 4);
    int y = node(m, SN_OP_RESHAPE, &x, 1, &s, 1);
    return conv(m, y, m->c / 2, 4, 3, 1, one2, one4, one2);
}
static int c_pad_value_reflect(mk *m, int x) {
    static const int64_t p1[8] = {0, 0, 1, 2, 0, 0, 3, 0}, p2[8] = {0, 0, 2, 1, 0, 0, 1, 2};
    sn_attr a1[3] = {sn_attr_ints("pads", p1, 8), sn_attr_int("mode", 0),
                     sn_attr_float("value", 0.5f)};
    sn_attr a2[2] = {sn_attr_ints("pads", p2, 8), sn_attr_int("mode", 1)};
    int y = node(m, SN_OP_PAD, &x, 1, a1, 3);
    return node(m, SN_OP_PAD, &y, 1, a2, 2);
}
static int resize(mk *m, int x, int mode, int coord, int nearest, bool sizes) {
    static const float sc[4] = {1, 1, 2, 2};
    static const int64_t sz[4] = {0, 0, 31, 40};
    sn_attr a[4] = {sn_attr_int("mode", mode), sn_attr_int("coord_mode", coord),
                    sn_attr_int("nearest_mode", nearest),
                    sizes ? sn_attr_ints("sizes", sz, 4) : sn_attr_floats("scales", sc, 4)};
    return node(m, SN_OP_RESIZE, &x, 1, a, 4);
}
static int c_resize_nearest(mk *m, int x) { return resize(m, x, 0, 1, 2, false); }
static int c_resize_nearest_half(mk *m, int x) { return resize(m, x, 0, 0, 1, true); }
static int c_resize_linear(mk *m, int x) { return resize(m, x, 1, 0, 0, true); }
static int c_resize_linear_align(mk *m, int x) { return resize(m, x, 1, 2, 0, false); }
static int c_broadcast_arith(mk *m, int x) {
    int64_t cd[3] = {m->c, 1, 1}, sd[1] = {1};
    int y = node(m, SN_OP_ADD, (int[]){x, rand_const(m, 3, cd, -1, 1)}, 2, NULL, 0);
    y = node(m, SN_OP_SUB, (int[]){y, rand_const(m, 1, sd, 0.2f, 0.4f)}, 2, NULL, 0);
    y = node(m, SN_OP_DIV, (int[]){y, rand_const(m, 3, cd, 0.5f, 2.0f)}, 2, NULL, 0);
    int s = unary(m, SN_OP_GLOBAL_AVG_POOL, x); /* squeeze-excitation: [N,C,1,1] * x */
    s = unary(m, SN_OP_SIGMOID, s);
    return node(m, SN_OP_MUL, (int[]){y, s}, 2, NULL, 0);
}
static int c_activations(mk *m, int x) {
    sn_attr hs[2] = {sn_attr_float("alpha", 0.2f), sn_attr_float("beta", 0.5f)};
    sn_attr cl[2] = {sn_attr_float("min", -0.5f), sn_attr_float("max", 0.75f)};
    sn_attr lo = sn_attr_float("min", 0.0f);
    int a = node(m, SN_OP_HARD_SIGMOID, &x, 1, hs, 2);
    int b = unary(m, SN_OP_SILU, x);
    int c = node(m, SN_OP_CLIP, &x, 1, cl, 2);
    int d = node(m, SN_OP_CLIP, &x, 1, &lo, 1);
    int y = node(m, SN_OP_ADD, (int[]){a, b}, 2, NULL, 0);
    y = node(m, SN_OP_ADD, (int[]){y, c}, 2, NULL, 0);
    return node(m, SN_OP_MUL, (int[]){y, d}, 2, NULL, 0);
}
static int c_batchnorm_biasadd(mk *m, int x) {
    int64_t cd[1] = {m->c};
    int in[5] = {x, rand_const(m, 1, cd, 0.5f, 1.5f), rand_const(m, 1, cd, -0.5f, 0.5f),
                 rand_const(m, 1, cd, -0.3f, 0.3f), rand_const(m, 1, cd, 0.5f, 2.0f)};
    sn_attr eps = sn_attr_float("epsilon", 1e-3f);
    int y = node(m, SN_OP_BATCHNORM, in, 5, &eps, 1);
    y = node(m, SN_OP_BIAS_ADD, (int[]){y, rand_const(m, 1, cd, -1, 1)}, 2, NULL, 0);
    return unary(m, SN_OP_IDENTITY, unary(m, SN_OP_RELU, y));
}

static int c_slice_reverse(mk *m, int x) {
    static const int64_t st[2] = {1, -1}, en[2] = {7, INT64_MIN}, ax[2] = {1, 2}, sp[2] = {2, -1};
    sn_attr a[4] = {sn_attr_ints("starts", st, 2), sn_attr_ints("ends", en, 2),
                    sn_attr_ints("axes", ax, 2), sn_attr_ints("steps", sp, 2)};
    int y = node(m, SN_OP_SLICE, &x, 1, a, 4);
    return conv(m, y, 3, 5, 3, 1, one2, one4, one2);
}

typedef struct op_case {
    const char *name;
    int (*build)(mk *m, int x);
} op_case;

static const op_case cases[] = {
    {"conv_asymmetric_pads", c_conv_asym},
    {"conv_same_relu6", c_conv_same_relu6},
    {"conv_dilated", c_conv_dilated},
    {"depthwise_hardswish", c_depthwise_hswish},
    {"depthwise_multiplier", c_depthwise_mult},
    {"maxpool_ceil", c_maxpool_ceil},
    {"maxpool_pad", c_maxpool_pad},
    {"avgpool_include_pad", c_avgpool_incl},
    {"avgpool_same", c_avgpool_same},
    {"gap_dense_sigmoid", c_gap_dense_sigmoid},
    {"flatten_matmul_softmax", c_flatten_matmul_softmax},
    {"concat_softmax_channels", c_concat_softmax_c},
    {"transpose_tanh", c_transpose},
    {"reshape_4d", c_reshape_4d},
    {"pad_value_reflect", c_pad_value_reflect},
    {"resize_nearest", c_resize_nearest},
    {"resize_nearest_half_pixel", c_resize_nearest_half},
    {"resize_linear", c_resize_linear},
    {"resize_linear_align", c_resize_linear_align},
    {"broadcast_arith", c_broadcast_arith},
    {"activations", c_activations},
    {"batchnorm_biasadd", c_batchnorm_biasadd},
    {"slice_reverse", c_slice_reverse},
};
#define N_CASES ((int)(sizeof cases / sizeof *cases))

/* A depthwise 3x3 convolution, 9 weights per channel as in MobileNets (the bias-correction
 * test below). */
static int c_depthwise_3x3(mk *m, int x) { return conv(m, x, m->c, m->c, 3, m->c, one2, zero4, one2); }

static sn_graph *build_case(const op_case *c, sn_rng *rng) {
    mk m = {.rng = rng, .c = 8};
    cr_assert_eq(sn_graph_create(&m.g), SN_OK);
    int64_t dims[4] = {SN_DIM_BATCH, m.c, 18, 18};
    sn_shape s = sn_shape_make(4, dims);
    int x;
    cr_assert_eq(sn_graph_add_tensor(m.g, "input", SN_DTYPE_F32, &s, &x), SN_OK);
    m.g->tensors[x].layout = SN_LAYOUT_NCHW;
    cr_assert_eq(sn_graph_add_input(m.g, x), SN_OK);
    cr_assert_eq(sn_graph_add_output(m.g, c->build(&m, x)), SN_OK);
    sn_error err = {0};
    cr_assert_eq(sn_graph_validate(m.g, &err), SN_OK, "%s: %s", c->name, err.message);
    cr_assert_eq(sn_graph_infer_shapes(m.g, &err), SN_OK, "%s: %s", c->name, err.message);
    return m.g;
}

static void write_bytes(const char *dir, const char *file, void *data, size_t size) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    sn_error err = {0};
    cr_assert_eq(sn_export_write_file(path, data, size, &err), SN_OK, "%s", err.message);
    free(data);
}

Test(export_ops, all_cases_in_the_runtimes, .timeout = 600) {
    sn_export_python();
    sn_rng rng;
    sn_rng_seed(&rng, sn_test_fresh_seed("export_ops"));
    char *root = sn_test_mkdtemp();
    cr_assert(root);
    char dirs[N_CASES][4200];
    const char *dir_ptrs[N_CASES];
    for (int i = 0; i < N_CASES; i++) {
        const op_case *c = &cases[i];
        sn_graph *g = build_case(c, &rng);
        snprintf(dirs[i], sizeof dirs[i], "%s/%s", root, c->name);
        dir_ptrs[i] = dirs[i];
        cr_assert_eq(mkdir(dirs[i], 0755), 0);
        size_t per = (size_t)(8 * 18 * 18);
        float *x = malloc(sizeof(float) * per * N_EVAL);
        sn_calibration cal = {
            .count = N_CAL, .sample_floats = per, .data = malloc(sizeof(float) * per * N_CAL)};
        cr_assert(x && cal.data);
        sn_rng_fill(&rng, x, per * N_EVAL, -1.0f, 1.0f);
        sn_rng_fill(&rng, cal.data, per * N_CAL, -1.0f, 1.0f);
        int opset = SN_ONNX_OPSET_MIN + i % (SN_ONNX_OPSET_MAX - SN_ONNX_OPSET_MIN + 1);
        char json[256];
        snprintf(json, sizeof json, "{\"name\": \"%s\", \"batched\": true, \"opset\": %d}", c->name,
                 opset);
        sn_export_case_write(dirs[i], g, x, N_EVAL, json);
        free(x);

        sn_error err = {0};
        void *data = NULL;
        size_t size = 0;
        sn_onnx_export_options oo = SN_ONNX_EXPORT_OPTIONS_INIT;
        oo.opset = opset;
        cr_assert_eq(sn_export_onnx(g, &oo, &data, &size, &err), SN_OK, "%s: %s", c->name,
                     err.message);
        write_bytes(dirs[i], "model.onnx", data, size);
        static const char *const files[3] = {"model.tflite", "model.fp16.tflite",
                                             "model.int8.tflite"};
        for (int q = 0; q < 3; q++) {
            sn_tflite_options to = SN_TFLITE_OPTIONS_INIT;
            to.quant = (sn_tflite_quant)q;
            to.calibration = &cal;
            to.threads = 2;
            cr_assert_eq(sn_export_tflite(g, &to, &data, &size, &err), SN_OK, "%s (%s): %s",
                         c->name, files[q], err.message);
            write_bytes(dirs[i], files[q], data, size);
        }
        sn_calibration_free(&cal);
        sn_graph_destroy(g);
    }
    sn_export_check(dir_ptrs, N_CASES);
    if (!getenv("SN_EXPORT_KEEP")) sn_test_rmtree(root);
    free(root);
}

/* Bias correction: a depthwise 3x3 convolution (9 weights per channel, as in MobileNets) on
 * inputs far from zero (uniform in [1.5, 2.5]). Rounding a channel's weights shifts all its
 * outputs by sum_k (q_k - w_k) * E[x] - here about 1% of the output's RMS in the worst channel
 * (0.6-1.3% in six runs with the sn__q_bias_correct call removed by hand, which this test then
 * fails) - which the exporter folds out of the bias from the calibration means. What remains of
 * each channel's mean error, over 16 images x 16 x 16 positions, is averaged rounding noise
 * (0.8-2.1e-4 of the RMS in twelve runs; check_export.py logs it as "int8_channel_bias", shown
 * with --verbose): the check allows 1e-3. */
Test(export_ops, int8_bias_correction_removes_the_weight_rounding_shift, .timeout = 300) {
    sn_export_python();
    sn_rng rng;
    sn_rng_seed(&rng, sn_test_fresh_seed("export_ops bias correction"));
    const op_case dw = {"depthwise_3x3", c_depthwise_3x3};
    sn_graph *g = build_case(&dw, &rng);
    sn_error err = {0};
    enum { N_X = 16, N_C = 64 };
    size_t per = (size_t)(8 * 18 * 18);
    float *xs = malloc(sizeof(float) * per * N_X);
    sn_calibration cal = {
        .count = N_C, .sample_floats = per, .data = malloc(sizeof(float) * per * N_C)};
    cr_assert(xs && cal.data);
    sn_rng_fill(&rng, xs, per * N_X, 1.5f, 2.5f);
    sn_rng_fill(&rng, cal.data, per * N_C, 1.5f, 2.5f);
    char *dir = sn_test_mkdtemp();
    cr_assert(dir);
    sn_export_case_write(dir, g, xs, N_X,
                         "{\"name\": \"depthwise on an offset input\", \"batched\": true, "
                         "\"int8_channel_bias_max\": 1e-3}");
    sn_tflite_options to = SN_TFLITE_OPTIONS_INIT;
    to.quant = SN_TFLITE_INT8;
    to.calibration = &cal;
    to.threads = 2;
    void *data = NULL;
    size_t size = 0;
    cr_assert_eq(sn_export_tflite(g, &to, &data, &size, &err), SN_OK, "%s", err.message);
    write_bytes(dir, "model.int8.tflite", data, size);
    const char *dirs[1] = {dir};
    sn_export_check(dirs, 1);
    free(xs);
    sn_calibration_free(&cal);
    sn_graph_destroy(g);
    if (!getenv("SN_EXPORT_KEEP")) sn_test_rmtree(dir);
    free(dir);
}

/* sentinel-export --opset N for every N in 13..21, on MobileNetV3-Small (HardSwish, which
 * opset 13 spells as HardSigmoid and Mul, HardSigmoid, squeeze-excitation, dynamic batch): each
 * file passes onnx.checker's full check, declares opset N and matches Sentinel in ONNX
 * Runtime within 1e-4, and carries the labels and preprocessing. */
Test(export_ops, zoo_model_at_every_opset_through_the_program, .timeout = 600) {
    sn_export_python();
    char *root = sn_test_mkdtemp();
    cr_assert(root);
    sn_error err = {0};
    sn_graph *g = NULL;
    cr_assert_eq(sn_zoo_build("mobilenetv3_small", sn_test_fresh_seed("export_ops opsets"), &g,
                              &err),
                 SN_OK, "%s", err.message);
    char model[4300], ex[4096];
    snprintf(ex, sizeof ex, "%s", sn_test_bin("sentinel-export"));
    snprintf(model, sizeof model, "%s/model.sgraph", root);
    cr_assert_eq(sn_sgraph_write_file(g, model, &err), SN_OK, "%s", err.message);
    enum { N_OPSETS = SN_ONNX_OPSET_MAX - SN_ONNX_OPSET_MIN + 1 };
    char dirs[N_OPSETS][4200];
    const char *dir_ptrs[N_OPSETS];
    size_t per = 3 * 224 * 224;
    float *x = malloc(sizeof(float) * per * 2);
    cr_assert(x);
    sn_rng rng;
    sn_rng_seed(&rng, sn_test_fresh_seed("export_ops opsets x"));
    sn_rng_fill(&rng, x, per * 2, -2.0f, 2.0f);
    for (int i = 0; i < N_OPSETS; i++) {
        int opset = SN_ONNX_OPSET_MIN + i;
        snprintf(dirs[i], sizeof dirs[i], "%s/opset%d", root, opset);
        dir_ptrs[i] = dirs[i];
        cr_assert_eq(mkdir(dirs[i], 0755), 0);
        char json[256];
        snprintf(json, sizeof json,
                 "{\"name\": \"mobilenetv3_small opset %d\", \"batched\": true, \"opset\": %d, "
                 "\"labels\": %d, \"preprocess\": true}",
                 opset, opset, g->meta.n_labels);
        sn_export_case_write(dirs[i], g, x, 2, json);
        free(sn_export_sh(0, "'%s' '%s' -o '%s/model.onnx' --opset %d --quiet", ex, model, dirs[i],
                          opset));
    }
    free(x);
    sn_graph_destroy(g);
    sn_export_check(dir_ptrs, N_OPSETS);
    if (!getenv("SN_EXPORT_KEEP")) sn_test_rmtree(root);
    free(root);
}

typedef struct reexport {
    char *out; /* where the exported files go */
    int n_tfl;       /* models TFLite could express */
} reexport;

static void reexport_one(const char *name, const sn_graph *g, void *ctx) {
    reexport *r = ctx;
    sn_error err = {0};
    void *data = NULL;
    size_t size = 0;
    cr_assert_eq(sn_export_onnx(g, NULL, &data, &size, &err), SN_OK, "%s: %s", name,
                 err.message);
    write_bytes(r->out, name, data, size);
    /* TFLite too, where it can express the model (others are refused with a reason). */
    sn_tflite_options to = SN_TFLITE_OPTIONS_INIT;
    sn_status s = sn_export_tflite(g, &to, &data, &size, &err);
    cr_assert(s == SN_OK || s == SN_ERR_UNSUPPORTED, "%s: %s", name, err.message);
    if (s == SN_OK) {
        char file[4200];
        snprintf(file, sizeof file, "%.*s.tflite", (int)(strlen(name) - 5), name);
        write_bytes(r->out, file, data, size);
        r->n_tfl++;
    } else {
        cr_assert(strstr(err.message, "node '") || strstr(err.message, "graph"), "%s: %s", name,
                  err.message);
        cr_log_info("%s: TFLite refuses: %s", name, err.message);
    }
}

/* The ONNX parity suite's models (onnx.helper-made, and torch.onnx exports when torch is
 * installed), imported and exported again - to ONNX always, to TFLite where it can express
 * them - still match ONNX Runtime's outputs for the originals: the exporters write what the
 * importer read, for ops and attribute spellings beyond what Sentinel's own graphs use. */
Test(export_ops, reimported_onnx_models_in_onnxruntime, .timeout = 600) {
    sn_export_python();
    const char *src = sn_export_parity_dir();
    reexport r = {.out = sn_test_mkdtemp()};
    int n = sn_export_each_parity_model(reexport_one, &r, NULL);
    cr_assert_gt(n, 0, "no model in %s imported", src);
    cr_log_info("%d models re-exported to ONNX, %d to TFLite", n, r.n_tfl);
    const char *args[2] = {src, r.out};
    sn_export_run_script("check_reexport.py", args, 2);
    sn_test_rmtree(r.out);
    free(r.out);
}
