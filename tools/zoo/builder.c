/* builder.c - layer helpers for the zoo's model definitions (see builder.h). */
#include "builder.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

static uint64_t sn__zb_next(sn_zb *b) {
    uint64_t z = (b->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi). The product and the sum are separate statements so no compiler fuses
 * them into an fma, whose single rounding would change the last bit on some machines. */
static double sn__zb_uniform(sn_zb *b, double lo, double hi) {
    double u = (double)(sn__zb_next(b) >> 11) * (1.0 / 9007199254740992.0);
    double t = (hi - lo) * u;
    return lo + t;
}

void sn_zb_begin(sn_zb *b, sn_graph *g, const char *model, uint64_t seed, sn_error *err) {
    memset(b, 0, sizeof *b);
    b->g = g;
    b->err = err;
    b->status = SN_OK;
    /* FNV-1a of the name, so two models built with one seed do not share weights. */
    uint64_t h = 0xCBF29CE484222325ull;
    for (const char *p = model; *p; p++) h = (h ^ (unsigned char)*p) * 0x100000001B3ull;
    b->rng = h ^ (seed * 0x9E3779B97F4A7C15ull);
}

sn_status sn_zb_finish(sn_zb *b) { return b->status; }

const char *sn_zb_name(sn_zb *b, const char *fmt, ...) {
    char *buf = b->names[b->next_name];
    b->next_name = (b->next_name + 1) % SN_ZB_NAME_SLOTS;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, SN_ZB_NAME_SIZE, fmt, ap);
    va_end(ap);
    if ((n < 0 || n >= SN_ZB_NAME_SIZE) && b->status == SN_OK)
        b->status = sn_errorf(b->err, SN_ERR_INTERNAL, "zoo: layer name too long: %s...", buf);
    return buf;
}

/* Record the first failure; returns -1 for the caller to pass on. */
static int sn__zb_fail(sn_zb *b, sn_status s, const char *what) {
    if (b->status == SN_OK) {
        b->status = s;
        sn_errorf(b->err, s, "zoo: building %s: %s", what, sn_status_string(s));
    }
    return -1;
}

static bool sn__zb_ok(sn_zb *b, const int *xs, int n) {
    if (b->status != SN_OK) return false;
    for (int i = 0; i < n; i++)
        if (xs[i] < 0) {
            sn__zb_fail(b, SN_ERR_INTERNAL, "a layer was given no input");
            return false;
        }
    return true;
}

/* A constant of `n` floats whose values `fill` writes; name is "<node>.<suffix>". */
typedef void (*sn__zb_fill_fn)(sn_zb *b, float *v, int64_t n, double a, double c);

static int sn__zb_const(sn_zb *b, const char *node, const char *suffix, int rank,
                        const int64_t *dims, sn__zb_fill_fn fill, double a, double c) {
    if (b->status != SN_OK) return -1;
    char name[SN_ZB_NAME_SIZE + 32];
    snprintf(name, sizeof name, "%s.%s", node, suffix);
    sn_shape s = sn_shape_make(rank, dims);
    int64_t n = sn_shape_numel(&s);
    float *v = malloc((size_t)n * sizeof *v);
    if (!v) return sn__zb_fail(b, SN_ERR_OUT_OF_MEMORY, name);
    fill(b, v, n, a, c);
    int t = -1;
    sn_status st =
        sn_graph_add_const(b->g, name, SN_DTYPE_F32, &s, v, (size_t)n * sizeof *v, true, &t);
    free(v);
    if (st != SN_OK) return sn__zb_fail(b, st, name);
    return t;
}

static void sn__zb_fill_uniform(sn_zb *b, float *v, int64_t n, double lo, double hi) {
    for (int64_t i = 0; i < n; i++) v[i] = (float)sn__zb_uniform(b, lo, hi);
}

/* He-uniform: U(-sqrt(6/fan_in), +sqrt(6/fan_in)) has variance 2/fan_in; times scale. */
static void sn__zb_fill_he(sn_zb *b, float *v, int64_t n, double fan_in, double scale) {
    double a = sqrt(6.0 / fan_in) * scale;
    sn__zb_fill_uniform(b, v, n, -a, a);
}

/* An activation tensor named `name` and a node writing it. */
static int sn__zb_node(sn_zb *b, sn_op op, const char *name, const char *out_name, const int *ins,
                       int n_ins, const sn_attr *attrs, int n_attrs) {
    if (!sn__zb_ok(b, ins, n_ins)) return -1;
    int y = -1;
    sn_status st = sn_graph_add_tensor(b->g, out_name ? out_name : name, SN_DTYPE_F32, NULL, &y);
    if (st == SN_OK)
        st = sn_graph_add_node(b->g, op, name, ins, n_ins, &y, 1, attrs, n_attrs, NULL);
    if (st != SN_OK) return sn__zb_fail(b, st, name);
    return y;
}

int sn_zb_input(sn_zb *b, const char *name, int c, int h, int w) {
    if (b->status != SN_OK) return -1;
    int64_t dims[4] = {SN_DIM_BATCH, c, h, w};
    sn_shape s = sn_shape_make(4, dims);
    int t = -1;
    sn_status st = sn_graph_add_tensor(b->g, name, SN_DTYPE_F32, &s, &t);
    if (st == SN_OK) {
        b->g->tensors[t].layout = SN_LAYOUT_NCHW;
        st = sn_graph_add_input(b->g, t);
    }
    if (st != SN_OK) return sn__zb_fail(b, st, name);
    return t;
}

void sn_zb_output(sn_zb *b, int x) {
    if (!sn__zb_ok(b, &x, 1)) return;
    sn_status st = sn_graph_add_output(b->g, x);
    if (st != SN_OK) sn__zb_fail(b, st, "graph output");
}

static int sn__zb_conv(sn_zb *b, const char *name, int x, int cin, int cout, int k, int stride,
                       int pad, int group, double scale, bool bias) {
    if (group < 1 || cin % group || cout % group) return sn__zb_fail(b, SN_ERR_INTERNAL, name);
    int64_t wd[4] = {cout, cin / group, k, k}, bd = cout;
    int ins[3] = {x, -1, -1};
    ins[1] = sn__zb_const(b, name, "weight", 4, wd, sn__zb_fill_he, (double)(cin / group) * k * k,
                          scale);
    if (bias) ins[2] = sn__zb_const(b, name, "bias", 1, &bd, sn__zb_fill_uniform, -0.1, 0.1);
    int64_t strides[2] = {stride, stride}, pads[4] = {pad, pad, pad, pad};
    sn_attr attrs[3] = {sn_attr_ints("strides", strides, 2), sn_attr_ints("pads", pads, 4),
                        sn_attr_int("group", group)};
    return sn__zb_node(b, SN_OP_CONV, name, NULL, ins, bias ? 3 : 2, attrs, group > 1 ? 3 : 2);
}

int sn_zb_conv(sn_zb *b, const char *name, int x, int cin, int cout, int k, int stride, int pad,
               int group) {
    return sn__zb_conv(b, name, x, cin, cout, k, stride, pad, group, 1.0, false);
}

int sn_zb_conv_biased(sn_zb *b, const char *name, int x, int cin, int cout, int k, int stride,
                      int pad, int group) {
    return sn__zb_conv(b, name, x, cin, cout, k, stride, pad, group, 1.0, true);
}

int sn_zb_bias_add(sn_zb *b, const char *name, int x, int c) {
    int64_t d = c;
    int bias = sn__zb_const(b, name, "bias", 1, &d, sn__zb_fill_uniform, -0.1, 0.1);
    int ins[2] = {x, bias};
    return sn__zb_node(b, SN_OP_BIAS_ADD, name, NULL, ins, 2, NULL, 0);
}

int sn_zb_batchnorm(sn_zb *b, const char *name, int x, int c) {
    int64_t d = c;
    int ins[5] = {x, -1, -1, -1, -1};
    ins[1] = sn__zb_const(b, name, "weight", 1, &d, sn__zb_fill_uniform, 0.5, 1.5);
    ins[2] = sn__zb_const(b, name, "bias", 1, &d, sn__zb_fill_uniform, -0.2, 0.2);
    ins[3] = sn__zb_const(b, name, "running_mean", 1, &d, sn__zb_fill_uniform, -0.2, 0.2);
    ins[4] = sn__zb_const(b, name, "running_var", 1, &d, sn__zb_fill_uniform, 0.5, 2.0);
    sn_attr eps = sn_attr_float("epsilon", 1e-5f);
    return sn__zb_node(b, SN_OP_BATCHNORM, name, NULL, ins, 5, &eps, 1);
}

int sn_zb_unary(sn_zb *b, sn_op op, const char *name, int x) {
    return sn__zb_node(b, op, name, NULL, &x, 1, NULL, 0);
}

int sn_zb_relu(sn_zb *b, const char *name, int x) { return sn_zb_unary(b, SN_OP_RELU, name, x); }

int sn_zb_relu6(sn_zb *b, const char *name, int x) {
    sn_attr attrs[2] = {sn_attr_float("min", 0.0f), sn_attr_float("max", 6.0f)};
    return sn__zb_node(b, SN_OP_CLIP, name, NULL, &x, 1, attrs, 2);
}

int sn_zb_hard_sigmoid(sn_zb *b, const char *name, int x, float alpha, float beta) {
    sn_attr attrs[2] = {sn_attr_float("alpha", alpha), sn_attr_float("beta", beta)};
    return sn__zb_node(b, SN_OP_HARD_SIGMOID, name, NULL, &x, 1, attrs, 2);
}

int sn_zb_binary(sn_zb *b, sn_op op, const char *name, int x, int y) {
    int ins[2] = {x, y};
    return sn__zb_node(b, op, name, NULL, ins, 2, NULL, 0);
}

int sn_zb_max_pool(sn_zb *b, const char *name, int x, int k, int stride, int pad, bool ceil_mode) {
    int64_t ks[2] = {k, k}, strides[2] = {stride, stride}, pads[4] = {pad, pad, pad, pad};
    sn_attr attrs[4] = {sn_attr_ints("kernel_shape", ks, 2), sn_attr_ints("strides", strides, 2),
                        sn_attr_ints("pads", pads, 4), sn_attr_int("ceil_mode", ceil_mode)};
    return sn__zb_node(b, SN_OP_MAX_POOL, name, NULL, &x, 1, attrs, ceil_mode ? 4 : 3);
}

int sn_zb_global_avg_pool(sn_zb *b, const char *name, int x) {
    return sn__zb_node(b, SN_OP_GLOBAL_AVG_POOL, name, NULL, &x, 1, NULL, 0);
}

int sn_zb_concat(sn_zb *b, const char *name, const int *xs, int n, int axis) {
    sn_attr a = sn_attr_int("axis", axis);
    return sn__zb_node(b, SN_OP_CONCAT, name, NULL, xs, n, &a, 1);
}

int sn_zb_flatten(sn_zb *b, const char *name, const char *out_name, int x) {
    sn_attr a = sn_attr_int("axis", 1);
    return sn__zb_node(b, SN_OP_FLATTEN, name, out_name, &x, 1, &a, 1);
}

int sn_zb_dense(sn_zb *b, const char *name, const char *out_name, int x, int in, int out) {
    int64_t wd[2] = {out, in}, bd = out;
    /* torchvision's Linear default: weight and bias ~ U(-1/sqrt(in), 1/sqrt(in)). */
    double bound = 1.0 / sqrt((double)in);
    int ins[3] = {x, -1, -1};
    ins[1] = sn__zb_const(b, name, "weight", 2, wd, sn__zb_fill_uniform, -bound, bound);
    ins[2] = sn__zb_const(b, name, "bias", 1, &bd, sn__zb_fill_uniform, -bound, bound);
    sn_attr t = sn_attr_int("transB", 1);
    return sn__zb_node(b, SN_OP_GEMM, name, out_name, ins, 3, &t, 1);
}

int sn_zb_conv_bn_scaled(sn_zb *b, const char *conv_name, const char *bn_name, int x, int cin,
                         int cout, int k, int stride, int pad, int group, double scale) {
    int y = sn__zb_conv(b, conv_name, x, cin, cout, k, stride, pad, group, scale, false);
    return sn_zb_batchnorm(b, bn_name, y, cout);
}

int sn_zb_conv_bn(sn_zb *b, const char *conv_name, const char *bn_name, int x, int cin, int cout,
                  int k, int stride, int pad, int group) {
    return sn_zb_conv_bn_scaled(b, conv_name, bn_name, x, cin, cout, k, stride, pad, group, 1.0);
}

void sn_zb_imagenet_metadata(sn_zb *b, const char *model, uint64_t seed, int n_classes,
                             const char *description) {
    if (b->status != SN_OK) return;
    sn_graph *g = b->g;
    /* Labels are copied into the graph's arena; build them in one temporary block. */
    const char **labels = malloc((size_t)n_classes * sizeof *labels);
    char *text = malloc((size_t)n_classes * 24);
    if (!labels || !text) {
        free(labels);
        free(text);
        sn__zb_fail(b, SN_ERR_OUT_OF_MEMORY, "labels");
        return;
    }
    for (int i = 0; i < n_classes; i++) {
        snprintf(text + (size_t)i * 24, 24, "class_%d", i);
        labels[i] = text + (size_t)i * 24;
    }
    sn_status st = sn_graph_set_labels(g, labels, n_classes);
    free(labels);
    free(text);
    if (st != SN_OK) {
        sn__zb_fail(b, st, "labels");
        return;
    }
    sn_preprocess *p = &g->meta.preprocess;
    *p = (sn_preprocess){.present = 1,
                         .width = 224,
                         .height = 224,
                         .resize_shorter = 256,
                         .resize = SN_RESIZE_SHORTER_CROP,
                         .channels = SN_CHANNELS_RGB,
                         .mean = {0.485f, 0.456f, 0.406f},
                         .std = {0.229f, 0.224f, 0.225f}};
    char seed_str[32];
    snprintf(seed_str, sizeof seed_str, "%llu", (unsigned long long)seed);
    const char *props[4][2] = {{"producer", "sentinel-zoo"},
                               {"model", model},
                               {"seed", seed_str},
                               {"description", description}};
    for (int i = 0; i < 4; i++) {
        st = sn_graph_set_prop(g, props[i][0], props[i][1]);
        if (st != SN_OK) {
            sn__zb_fail(b, st, "metadata");
            return;
        }
    }
}
