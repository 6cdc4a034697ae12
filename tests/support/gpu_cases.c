/*
 * gpu_cases.c - the GPU op-case table (gpu_cases.h). Each case is a few lines of graph building
 * through the zoo's builder (for its seeded weights) and sn_graph_add_node for the ops and
 * attributes the builder does not cover.
 */
#include "gpu_cases.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "passes/pass.h"
#include "zoo.h"

#define SN__A(...) ((const int64_t[]){__VA_ARGS__})

/* A node with one new output tensor named after it; -1 after any failure (kept in b). */
static int sn__node(sn_zb *b, sn_op op, const char *name, const int *ins, int n_ins,
                    const sn_attr *attrs, int n_attrs) {
    if (b->status != SN_OK) return -1;
    for (int i = 0; i < n_ins; i++)
        if (ins[i] < -1) return -1;
    int t = -1;
    sn_status st = sn_graph_add_tensor(b->g, name, SN_DTYPE_F32, NULL, &t);
    if (st == SN_OK)
        st = sn_graph_add_node(b->g, op, name, ins, n_ins, &t, 1, attrs, n_attrs, NULL);
    if (st != SN_OK) {
        b->status = st;
        if (b->err) sn_errorf(b->err, st, "gpu case: adding node %s", name);
        return -1;
    }
    return t;
}

/* A constant with values in [lo, hi) from the builder's stream (never exactly 0). */
static int sn__const(sn_zb *b, const char *name, int rank, const int64_t *dims, float lo,
                     float hi) {
    if (b->status != SN_OK) return -1;
    sn_shape s = sn_shape_make(rank, dims);
    int64_t n = sn_shape_numel(&s);
    float *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    if (!v) {
        b->status = SN_ERR_OUT_OF_MEMORY;
        return -1;
    }
    for (int64_t i = 0; i < n; i++) {
        b->rng += 0x9E3779B97F4A7C15ull;
        uint64_t z = b->rng;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        double u = (double)(z >> 11) / 9007199254740992.0;
        v[i] = (float)(lo + (hi - lo) * u);
        if (v[i] == 0.0f) v[i] = 1e-3f;
    }
    int t = -1;
    sn_status st =
        sn_graph_add_const(b->g, name, SN_DTYPE_F32, &s, v, (size_t)n * sizeof(float), true, &t);
    free(v);
    if (st != SN_OK) b->status = st;
    return st == SN_OK ? t : -1;
}

/* FusedConv with weights [m, c/g, k, k], a bias, optionally a residual and an activation. */
static int sn__fconv(sn_zb *b, const char *name, int x, int c, int m, int k, int stride, int pad,
                     int dil, int group, int res, sn_activation act, float aa, float ab) {
    char wn[96], bn[96];
    snprintf(wn, sizeof wn, "%s.w", name);
    snprintf(bn, sizeof bn, "%s.b", name);
    float bound = sqrtf(6.0f / (float)(c / group * k * k));
    int w = sn__const(b, wn, 4, SN__A(m, c / group, k, k), -bound, bound);
    int bias = sn__const(b, bn, 1, SN__A(m), -0.5f, 0.5f);
    int ins[4] = {x, w, bias, res};
    sn_attr at[7] = {sn_attr_ints("strides", SN__A(stride, stride), 2),
                     sn_attr_ints("pads", SN__A(pad, pad, pad, pad), 4),
                     sn_attr_ints("dilations", SN__A(dil, dil), 2),
                     sn_attr_int("group", group),
                     sn_attr_int("activation", act),
                     sn_attr_float("act_alpha", aa),
                     sn_attr_float("act_beta", ab)};
    return sn__node(b, SN_OP_FUSED_CONV, name, ins, res >= 0 ? 4 : 3, at, 7);
}

typedef struct sn__case {
    const char *name;
    int c, h, w;    /* x */
    int c2, h2, w2; /* x2, when c2 > 0 */
    void (*build)(sn_zb *b, int x, int x2);
} sn__case;

static void c_conv_igemm(sn_zb *b, int x, int x2) {
    (void)x2;
    sn_zb_output(b, sn__fconv(b, "conv", x, 16, 40, 3, 1, 1, 1, 1, -1, SN_ACT_RELU, 0, 0));
}
static void c_conv_strided_dilated(sn_zb *b, int x, int x2) {
    (void)x2;
    sn_zb_output(b, sn__fconv(b, "conv", x, 16, 72, 3, 2, 2, 2, 1, -1, SN_ACT_NONE, 0, 0));
}
static void c_conv_residual_acts(sn_zb *b, int x, int x2) {
    (void)x2;
    static const sn_activation acts[] = {SN_ACT_NONE,         SN_ACT_RELU,       SN_ACT_CLIP,
                                         SN_ACT_LEAKY_RELU,   SN_ACT_SIGMOID,    SN_ACT_TANH,
                                         SN_ACT_HARD_SIGMOID, SN_ACT_HARD_SWISH, SN_ACT_SILU};
    static const float aa[] = {0, 0, 0, 0.1f, 0, 0, 0.2f, 0, 0},
                       ab[] = {0, 0, 6, 0, 0, 0, 0.5f, 0, 0};
    for (int i = 0; i < 9; i++) {
        char nm[32];
        snprintf(nm, sizeof nm, "conv_act%d", i);
        sn_zb_output(b, sn__fconv(b, nm, x, 16, 16, 3, 1, 1, 1, 1, x, acts[i], aa[i], ab[i]));
    }
}
static void c_conv_grouped(sn_zb *b, int x, int x2) {
    (void)x2;
    sn_zb_output(b, sn__fconv(b, "conv", x, 16, 32, 3, 1, 1, 1, 2, -1, SN_ACT_RELU, 0, 0));
}
static void c_conv_small_direct(sn_zb *b, int x, int x2) {
    (void)x2; /* 3 input channels, 7x7 stride 2: the stem of every ImageNet model */
    sn_zb_output(b, sn__fconv(b, "conv", x, 3, 8, 7, 2, 3, 1, 1, -1, SN_ACT_CLIP, 0, 6));
}
static void c_conv_depthwise(sn_zb *b, int x, int x2) {
    (void)x2;
    sn_zb_output(b, sn__fconv(b, "dw", x, 16, 16, 3, 1, 1, 1, 16, x, SN_ACT_HARD_SWISH, 0, 0));
    sn_zb_output(b, sn__fconv(b, "dw_s2", x, 16, 16, 5, 2, 2, 1, 16, -1, SN_ACT_RELU, 0, 0));
    sn_zb_output(b, sn__fconv(b, "dw_x2", x, 16, 32, 3, 1, 1, 1, 16, -1, SN_ACT_NONE, 0, 0));
}
static void c_conv_unfused(sn_zb *b, int x, int x2) {
    (void)x2;
    sn_zb_output(b, sn_zb_conv_biased(b, "conv", x, 8, 12, 1, 1, 0, 1));
}
static void c_pools(sn_zb *b, int x, int x2) {
    (void)x2;
    sn_zb_output(b, sn_zb_max_pool(b, "max", x, 3, 2, 1, false));
    sn_zb_output(b, sn_zb_max_pool(b, "max_ceil", x, 3, 2, 0, true));
    sn_attr dil[3] = {sn_attr_ints("kernel_shape", SN__A(2, 2), 2),
                      sn_attr_ints("dilations", SN__A(2, 2), 2),
                      sn_attr_ints("pads", SN__A(1, 0, 1, 0), 4)};
    sn_zb_output(b, sn__node(b, SN_OP_MAX_POOL, "max_dil", &x, 1, dil, 3));
    for (int inc = 0; inc < 2; inc++) {
        sn_attr av[5] = {sn_attr_ints("kernel_shape", SN__A(3, 3), 2),
                         sn_attr_ints("strides", SN__A(2, 2), 2),
                         sn_attr_ints("pads", SN__A(1, 1, 1, 1), 4), sn_attr_int("ceil_mode", 1),
                         sn_attr_int("count_include_pad", inc)};
        sn_zb_output(b, sn__node(b, SN_OP_AVG_POOL, inc ? "avg_incl" : "avg", &x, 1, av, 5));
    }
    sn_zb_output(b, sn_zb_global_avg_pool(b, "gap", x));
}
static void c_activations(sn_zb *b, int x, int x2) {
    (void)x2;
    sn_zb_output(b, sn_zb_relu(b, "relu", x));
    sn_attr clip[2] = {sn_attr_float("min", -0.5f), sn_attr_float("max", 0.75f)};
    sn_zb_output(b, sn__node(b, SN_OP_CLIP, "clip", &x, 1, clip, 2));
    sn_attr lr = sn_attr_float("alpha", 0.2f);
    sn_zb_output(b, sn__node(b, SN_OP_LEAKY_RELU, "leaky", &x, 1, &lr, 1));
    sn_zb_output(b, sn_zb_unary(b, SN_OP_SIGMOID, "sigmoid", x));
    sn_zb_output(b, sn_zb_unary(b, SN_OP_TANH, "tanh", x));
    sn_zb_output(b, sn_zb_hard_sigmoid(b, "hsig", x, 0.25f, 0.4f));
    sn_zb_output(b, sn_zb_unary(b, SN_OP_HARD_SWISH, "hswish", x));
    sn_zb_output(b, sn_zb_unary(b, SN_OP_SILU, "silu", x));
    int id = sn__node(b, SN_OP_IDENTITY, "ident", &x, 1, NULL, 0);
    sn_zb_output(b, sn_zb_relu(b, "relu_of_ident", id));
}
static void c_affine(sn_zb *b, int x, int x2) {
    (void)x2;
    sn_zb_output(b, sn_zb_bias_add(b, "bias", x, 6));
    sn_zb_output(b, sn_zb_batchnorm(b, "bn", x, 6));
}
static void c_binary(sn_zb *b, int x, int x2) {
    sn_zb_output(b, sn_zb_binary(b, SN_OP_ADD, "add", x, x2));
    int se = sn_zb_global_avg_pool(b, "se_pool", x2);
    sn_zb_output(b, sn_zb_binary(b, SN_OP_MUL, "mul_se", x, se));
    int cc = sn__const(b, "chan", 3, SN__A(6, 1, 1), -1.0f, 1.0f);
    sn_zb_output(b, sn_zb_binary(b, SN_OP_SUB, "sub_chan", x, cc));
    int sc = sn__const(b, "scalar", 0, NULL, 1.5f, 2.5f);
    sn_zb_output(b, sn_zb_binary(b, SN_OP_DIV, "div_scalar", x, sc));
    int row = sn__const(b, "row", 1, SN__A(7), 0.5f, 2.0f);
    sn_zb_output(b, sn_zb_binary(b, SN_OP_DIV, "div_row", row, x));
}
static void c_concat(sn_zb *b, int x, int x2) {
    int a = sn_zb_relu(b, "a", x), c = sn_zb_unary(b, SN_OP_SIGMOID, "c", x);
    int xs[3] = {a, x2, c};
    sn_zb_output(b, sn_zb_concat(b, "cat1", xs, 3, 1));
    int ys[2] = {x, a};
    sn_zb_output(b, sn_zb_concat(b, "cat3", ys, 2, -1));
}
static void c_layout(sn_zb *b, int x, int x2) {
    (void)x2;
    sn_attr perm = sn_attr_ints("perm", SN__A(0, 2, 3, 1), 4);
    sn_zb_output(b, sn__node(b, SN_OP_TRANSPOSE, "nhwc", &x, 1, &perm, 1));
    int f = sn_zb_flatten(b, "flat", NULL, x);
    sn_zb_output(b, sn_zb_relu(b, "flat_relu", f));
    sn_attr shape = sn_attr_ints("shape", SN__A(0, 4, -1), 3);
    int r = sn__node(b, SN_OP_RESHAPE, "reshape", &x, 1, &shape, 1);
    sn_attr p2 = sn_attr_ints("perm", SN__A(0, 2, 1), 3);
    sn_zb_output(b, sn__node(b, SN_OP_TRANSPOSE, "reshape_t", &r, 1, &p2, 1));
}
static void c_pad(sn_zb *b, int x, int x2) {
    (void)x2;
    static const char *const names[] = {"pad_const", "pad_reflect", "pad_edge"};
    for (int mode = 0; mode < 3; mode++) {
        sn_attr at[3] = {sn_attr_ints("pads", SN__A(0, 0, 1, 2, 0, 0, 2, 1), 8),
                         sn_attr_int("mode", mode), sn_attr_float("value", 0.5f)};
        sn_zb_output(b, sn__node(b, SN_OP_PAD, names[mode], &x, 1, at, 3));
    }
}
static void c_resize(sn_zb *b, int x, int x2) {
    (void)x2;
    sn_attr up[3] = {sn_attr_int("mode", 0),
                     sn_attr_floats("scales", (const float[]){1, 1, 2, 2}, 4),
                     sn_attr_int("coord_mode", SN_COORD_ASYMMETRIC)};
    sn_zb_output(b, sn__node(b, SN_OP_RESIZE, "nearest_x2", &x, 1, up, 3));
    sn_attr lin[2] = {sn_attr_int("mode", 1), sn_attr_ints("sizes", SN__A(0, 0, 13, 7), 4)};
    sn_zb_output(b, sn__node(b, SN_OP_RESIZE, "linear", &x, 1, lin, 2));
    sn_attr ac[3] = {sn_attr_int("mode", 1), sn_attr_ints("sizes", SN__A(0, 0, 4, 3), 4),
                     sn_attr_int("coord_mode", SN_COORD_ALIGN_CORNERS)};
    sn_zb_output(b, sn__node(b, SN_OP_RESIZE, "linear_down", &x, 1, ac, 3));
}
static void c_dense(sn_zb *b, int x, int x2) {
    (void)x2;
    int f = sn_zb_flatten(b, "flat", NULL, x);
    sn_zb_output(b, sn_zb_dense(b, "fc", NULL, f, 72, 70));
    int w = sn__const(b, "w_kn", 2, SN__A(72, 33), -0.2f, 0.2f);
    int cc = sn__const(b, "c_row", 2, SN__A(1, 33), -1.0f, 1.0f);
    int ins[3] = {f, w, cc};
    sn_attr at[3] = {sn_attr_float("alpha", 0.5f), sn_attr_float("beta", 2.0f),
                     sn_attr_int("activation", SN_ACT_SILU)};
    sn_zb_output(b, sn__node(b, SN_OP_GEMM, "gemm_nt", ins, 3, at, 3));
    int mb = sn__const(b, "mm_b", 2, SN__A(9, 5), -1.0f, 1.0f);
    int mi[2] = {x, mb};
    sn_zb_output(b, sn__node(b, SN_OP_MATMUL, "matmul_rows", mi, 2, NULL, 0));
}
static void c_matmul_stacked(sn_zb *b, int x, int x2) {
    int mi[2] = {x, x2};
    sn_zb_output(b, sn__node(b, SN_OP_MATMUL, "matmul_stacked", mi, 2, NULL, 0));
}
static void c_softmax(sn_zb *b, int x, int x2) {
    (void)x2;
    int f = sn_zb_flatten(b, "flat", NULL, x);
    sn_zb_output(b, sn__node(b, SN_OP_SOFTMAX, "softmax_last", &f, 1, NULL, 0));
    sn_attr ax = sn_attr_int("axis", 1);
    sn_zb_output(b, sn__node(b, SN_OP_SOFTMAX, "softmax_chan", &x, 1, &ax, 1));
}
static void c_slice(sn_zb *b, int x, int x2) {
    (void)x2;
    sn_attr at[4] = {
        sn_attr_ints("starts", SN__A(1, -1, 0), 3), sn_attr_ints("ends", SN__A(5, -100, 7), 3),
        sn_attr_ints("axes", SN__A(1, 2, 3), 3), sn_attr_ints("steps", SN__A(2, -2, 3), 3)};
    sn_zb_output(b, sn__node(b, sn_op_from_name("Slice"), "slice", &x, 1, at, 4));
}

static const sn__case sn__cases[] = {
    {"conv_igemm", 16, 9, 11, 0, 0, 0, c_conv_igemm},
    {"conv_strided_dilated", 16, 13, 10, 0, 0, 0, c_conv_strided_dilated},
    {"conv_residual_activations", 16, 6, 7, 0, 0, 0, c_conv_residual_acts},
    {"conv_grouped", 16, 8, 8, 0, 0, 0, c_conv_grouped},
    {"conv_stem_direct", 3, 17, 15, 0, 0, 0, c_conv_small_direct},
    {"conv_depthwise", 16, 9, 10, 0, 0, 0, c_conv_depthwise},
    {"conv_unfused", 8, 5, 6, 0, 0, 0, c_conv_unfused},
    {"pools", 6, 11, 12, 0, 0, 0, c_pools},
    {"activations", 5, 6, 7, 0, 0, 0, c_activations},
    {"bias_batchnorm", 6, 5, 4, 0, 0, 0, c_affine},
    {"binary_broadcast", 6, 5, 7, 6, 5, 7, c_binary},
    {"concat", 4, 5, 6, 3, 5, 6, c_concat},
    {"layout", 4, 5, 6, 0, 0, 0, c_layout},
    {"pad", 3, 4, 5, 0, 0, 0, c_pad},
    {"resize", 5, 6, 4, 0, 0, 0, c_resize},
    {"dense", 2, 4, 9, 0, 0, 0, c_dense},
    {"matmul_stacked", 3, 4, 6, 3, 6, 5, c_matmul_stacked},
    {"softmax", 7, 3, 5, 0, 0, 0, c_softmax},
    {"slice", 6, 7, 8, 0, 0, 0, c_slice},
};

int sn_gpu_case_count(void) {
    int n = (int)(sizeof sn__cases / sizeof *sn__cases);
    /* Slice exists only once its op is in the registry. */
    return sn_op_from_name("Slice") == SN_OP_COUNT ? n - 1 : n;
}

const char *sn_gpu_case_name(int i) {
    return i >= 0 && i < sn_gpu_case_count() ? sn__cases[i].name : NULL;
}

sn_status sn_gpu_case_build(int i, sn_graph **out, sn_error *err) {
    *out = NULL;
    if (i < 0 || i >= sn_gpu_case_count())
        return sn_errorf(err, SN_ERR_NOT_FOUND, "no GPU case %d", i);
    const sn__case *c = &sn__cases[i];
    sn_graph *g = NULL;
    sn_status st = sn_graph_create(&g);
    if (st != SN_OK) return sn_errorf(err, st, "sn_graph_create failed");
    sn_zb b;
    sn_zb_begin(&b, g, c->name, 1, err);
    int x = sn_zb_input(&b, "x", c->c, c->h, c->w);
    int x2 = c->c2 > 0 ? sn_zb_input(&b, "x2", c->c2, c->h2, c->w2) : -1;
    c->build(&b, x, x2);
    st = sn_zb_finish(&b);
    if (st == SN_OK) st = sn_graph_validate(g, err);
    if (st == SN_OK) st = sn_graph_infer_shapes(g, err);
    if (st != SN_OK) {
        sn_error_prefix(err, "GPU case %s", c->name);
        sn_graph_destroy(g);
        return st;
    }
    *out = g;
    return SN_OK;
}

sn_status sn_gpu_zoo_optimized(const char *name, sn_graph **out, sn_error *err) {
    sn_graph *g = NULL;
    sn_status st = sn_zoo_build(name, 0, &g, err);
    if (st == SN_OK) st = sn_graph_optimize(g, NULL, NULL, NULL, err);
    if (st != SN_OK) {
        sn_graph_destroy(g);
        g = NULL;
    }
    *out = g;
    return st;
}
