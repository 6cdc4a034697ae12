/*
 * export_zoo_case.c - one zoo model through sentinel-export and the real runtimes, for
 * test_export_zoo*.c (see test_export_zoo.c for what is asserted and why). Two kinds of case:
 *   sn_export_zoo_case             the zoo model as built, exported (after sentinel-export's
 *                                  default optimisation) to ONNX and float / fp16 / int8
 *                                  TFLite; compared with Sentinel's CPU outputs on held-out
 *                                  images, int8 with a top-1 agreement floor
 *   sn_export_zoo_prototypes_case  the same network with its classifier replaced by a
 *                                  prototype head whose classes are well separated
 *                                  (prototype_head below), exported to int8 TFLite; its top-1
 *                                  agreement must reach 95%
 * Calibration uses a different set of images than the comparison.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "export.h"
#include "export_support.h"
#include "passes/pass.h"
#include "sgraph.h"
#include "test_support.h"
#include "zoo.h"

/* Prototypes chosen among the compared images: 20, so that 95% top-1 agreement allows one miss.
 * Under ASan every sample runs the whole model ~4x slower, so the other sets shrink (see
 * sn_export_zoo_case). */
#define N_PROTO 20

/* Values of tensor t for n samples (malloc'ed, *dim floats each). */
static float *tensor_values(const sn_graph *g, int t, const float *x, int n, size_t *dim) {
    sn_graph *c = NULL;
    cr_assert_eq(sn_graph_clone(g, &c), SN_OK);
    c->outputs[0] = t; /* the clone computes t as its only output */
    c->tensors[g->outputs[0]].flags &= ~SN_TENSOR_OUTPUT;
    c->tensors[t].flags |= SN_TENSOR_OUTPUT;
    float *v = sn_export_reference(c, x, n, dim);
    sn_graph_destroy(c);
    return v;
}

/* The network's last feature map: walking back from the output to the first 4-D tensor with
 * spatial extent (the input of the final global pooling). */
static int last_feature_map(const sn_graph *g) {
    int t = g->outputs[0];
    const sn_shape *s;
    while ((s = &g->tensors[t].shape)->rank != 4 || s->d[2] * s->d[3] == 1) {
        int p = g->tensors[t].producer;
        cr_assert(p >= 0, "no 4-D feature map before the output");
        t = g->nodes[p].inputs[0];
    }
    return t;
}

static int add_node(sn_graph *g, sn_op op, const char *name, const int *in, int n_in,
                    const sn_attr *a, int n_a) {
    int y;
    cr_assert_eq(sn_graph_add_tensor(g, name, SN_DTYPE_F32, NULL, &y), SN_OK);
    cr_assert_eq(sn_graph_add_node(g, op, name, in, n_in, &y, 1, a, n_a, NULL), SN_OK);
    return y;
}

/* Replace the classifier by a prototype head. From the n compared images, n_proto are chosen
 * whose features f (the last feature map, flattened: pooled, a random network's features hardly
 * differ between images) are farthest apart (greedy farthest-point selection); class k is chosen
 * image k, scored <f - c, u_k> with u_k the unit vector from the prototypes' mean c to image k's
 * features. Image j then scores |p_j - c| for its own class and |p_j - c| cos(angle) for any other:
 * its own class wins by a margin set by how different the images look to the network. x is
 * reordered so that its first n_proto samples are the chosen images, in class order. */
static void prototype_head(sn_graph *g, float *x, size_t per, int n, int n_proto) {
    sn_error err = {0};
    int f = last_feature_map(g), o = g->outputs[0];
    sn_attr ax = sn_attr_int("axis", 1);
    f = add_node(g, SN_OP_FLATTEN, "head.flatten", &f, 1, &ax, 1);
    cr_assert_eq(sn_graph_infer_shapes(g, &err), SN_OK, "%s", err.message);
    cr_assert_eq(g->tensors[f].shape.rank, 2);
    size_t d = 0;
    float *p = tensor_values(g, f, x, n, &d);
    /* Farthest-point selection of n_proto images, starting from the one farthest from the
     * mean of all. */
    double *mean = calloc(d, sizeof *mean), *mind = malloc(sizeof *mind * (size_t)n);
    int *pick = malloc(sizeof *pick * (size_t)n_proto);
    cr_assert(mean && mind && pick);
    for (int k = 0; k < n; k++)
        for (size_t i = 0; i < d; i++) mean[i] += p[(size_t)k * d + i] / n;
    for (int k = 0; k < n; k++) {
        mind[k] = 0;
        for (size_t i = 0; i < d; i++) mind[k] += pow(p[(size_t)k * d + i] - mean[i], 2);
    }
    for (int s = 0; s < n_proto; s++) {
        int best = 0;
        for (int k = 1; k < n; k++) best = mind[k] > mind[best] ? k : best;
        pick[s] = best;
        for (int k = 0; k < n; k++) {
            double dist = 0;
            for (size_t i = 0; i < d; i++)
                dist += pow(p[(size_t)k * d + i] - p[(size_t)best * d + i], 2);
            if (s == 0 || dist < mind[k]) mind[k] = dist;
        }
        mind[best] = -1;
    }
    double *c = calloc(d, sizeof *c);
    float *w = malloc(sizeof(float) * d * (size_t)n_proto),
          *b = malloc(sizeof(float) * (size_t)n_proto);
    float *xs = malloc(sizeof(float) * per * (size_t)n_proto);
    cr_assert(c && w && b && xs);
    for (int s = 0; s < n_proto; s++) {
        memcpy(xs + per * (size_t)s, x + per * (size_t)pick[s], sizeof(float) * per);
        for (size_t i = 0; i < d; i++) c[i] += p[(size_t)pick[s] * d + i] / n_proto;
    }
    memcpy(x, xs, sizeof(float) * per * (size_t)n_proto);
    for (int s = 0; s < n_proto; s++) {
        const float *pk = p + (size_t)pick[s] * d;
        double sq = 0, dot = 0;
        for (size_t i = 0; i < d; i++) sq += pow(pk[i] - c[i], 2);
        double inv = sq > 0 ? 1.0 / sqrt(sq) : 0.0;
        for (size_t i = 0; i < d; i++) {
            double u = (pk[i] - c[i]) * inv;
            w[(size_t)s * d + i] = (float)u;
            dot += c[i] * u;
        }
        b[s] = (float)-dot;
    }
    int64_t wd[2] = {n_proto, (int64_t)d}, bd[1] = {n_proto};
    sn_shape ws = sn_shape_make(2, wd), bs = sn_shape_make(1, bd);
    int wt, bt;
    cr_assert_eq(sn_graph_add_const(g, "head.weight", SN_DTYPE_F32, &ws, w,
                                    sizeof(float) * d * (size_t)n_proto, true, &wt),
                 SN_OK);
    cr_assert_eq(sn_graph_add_const(g, "head.bias", SN_DTYPE_F32, &bs, b,
                                    sizeof(float) * (size_t)n_proto, true, &bt),
                 SN_OK);
    sn_attr tb = sn_attr_int("transB", 1);
    int h = add_node(g, SN_OP_GEMM, "head", (int[]){f, wt, bt}, 3, &tb, 1);
    g->outputs[0] = h; /* the old classifier is left to dead-code elimination */
    g->tensors[o].flags &= ~SN_TENSOR_OUTPUT;
    g->tensors[h].flags |= SN_TENSOR_OUTPUT;
    char **labels = malloc(sizeof *labels * (size_t)n_proto);
    for (int k = 0; k < n_proto; k++) cr_assert(asprintf(&labels[k], "image_%d", pick[k]) > 0);
    cr_assert_eq(sn_graph_set_labels(g, (const char *const *)labels, n_proto), SN_OK);
    for (int k = 0; k < n_proto; k++) free(labels[k]);
    free(labels);
    cr_assert_eq(sn_pass_dce(g, NULL, &err), SN_OK, "%s", err.message);
    cr_assert_eq(sn_graph_compact(g), SN_OK);
    cr_assert_eq(sn_graph_validate(g, &err), SN_OK, "%s", err.message);
    cr_assert_eq(sn_graph_infer_shapes(g, &err), SN_OK, "%s", err.message);
    free(p);
    free(mean);
    free(mind);
    free(pick);
    free(c);
    free(w);
    free(b);
    free(xs);
}

/* Writes g to DIR/model.sgraph and exports it with sentinel-export: the four variants, or only
 * int8. */
static void export_variants(const sn_graph *g, const char *name, const char *dir, const char *cal,
                            bool int8_only) {
    char path[4800], ex[4096]; /* sn_test_bin's buffer is reused by every call */
    snprintf(ex, sizeof ex, "%s", sn_test_bin("sentinel-export"));
    snprintf(path, sizeof path, "%s/model.sgraph", dir);
    sn_error err = {0};
    cr_assert_eq(sn_sgraph_write_file(g, path, &err), SN_OK, "%s", err.message);
    const char *variants[][2] = {{"model.onnx", ""},
                                 {"model.tflite", ""},
                                 {"model.fp16.tflite", "--quantize fp16"},
                                 {"model.int8.tflite", "--quantize int8 --calibration"}};
    for (int v = int8_only ? 3 : 0; v < 4; v++) {
        char *out = sn_export_sh(0, "'%s' '%s' -o '%s/%s' %s %s%s%s --threads 2", ex, path, dir,
                                 variants[v][0], variants[v][1], v == 3 ? "'" : "",
                                 v == 3 ? cal : "", v == 3 ? "'" : "");
        out[strcspn(out, "\n")] = 0;
        cr_log_info("%s: %s", name, out);
        free(out);
    }
}

/* The images, the model and its compared inputs for one zoo case. */
typedef struct sn__zoo_case {
    char *dir;
    char cal[4600], eval[4600];
    sn_graph *g;
    sn_calibration x; /* the compared inputs, preprocessed by the same code sentinel-run uses */
} sn__zoo_case;

static void sn__zoo_case_open(sn__zoo_case *zc, const char *name, int n_cal, int n_eval) {
    sn_export_python(); /* skip early, before any work, when the runtimes are missing */
    uint64_t seed = sn_test_fresh_seed(name); /* for the images */
    zc->dir = sn_test_mkdtemp();
    cr_assert(zc->dir);
    sn_error err = {0};
    /* The zoo models as sentinel-zoo ships them (seed 0): random weights, some instances of
     * which are much harder to quantize than others (MobileNetV3's squeeze-excitation above
     * all), so a fresh model per run would make the int8 bounds a lottery. */
    zc->g = NULL;
    cr_assert_eq(sn_zoo_build(name, 0, &zc->g, &err), SN_OK, "%s", err.message);
    char mk[4096];
    snprintf(mk, sizeof mk, "%s", sn_test_bin("sentinel-mkimages"));
    snprintf(zc->cal, sizeof zc->cal, "%s/cal", zc->dir);
    snprintf(zc->eval, sizeof zc->eval, "%s/eval", zc->dir);
    free(sn_export_sh(0, "'%s' '%s' --count %d --seed %llu", mk, zc->cal, n_cal,
                      (unsigned long long)seed));
    free(sn_export_sh(0, "'%s' '%s' --count %d --seed %llu", mk, zc->eval, n_eval,
                      (unsigned long long)(seed + 1)));
    zc->x = (sn_calibration){0};
    cr_assert_eq(sn_calibration_load_dir(zc->g, zc->eval, n_eval, &zc->x, &err), SN_OK, "%s",
                 err.message);
    cr_assert_eq(zc->x.count, n_eval);
}

static void sn__zoo_case_close(sn__zoo_case *zc) {
    sn_calibration_free(&zc->x);
    sn_graph_destroy(zc->g);
    if (!getenv("SN_EXPORT_KEEP")) sn_test_rmtree(zc->dir);
    free(zc->dir);
}

void sn_export_zoo_case(const char *name, int n_cal, int n_eval, double top1_min) {
    if (SN_EXPORT_ASAN) { /* the point there is memory safety; ~4x slower */
        n_cal = n_cal / 3 > 12 ? n_cal / 3 : 12;
        n_eval = 20;
    }
    sn__zoo_case zc;
    sn__zoo_case_open(&zc, name, n_cal, n_eval);
    char raw[4600];
    snprintf(raw, sizeof raw, "%s/raw", zc.dir);
    cr_assert(mkdir(raw, 0755) == 0);
    char json[512];
    snprintf(json, sizeof json,
             "{\"name\": \"%s\", \"batched\": true, \"labels\": %d, \"preprocess\": true, "
             "\"opset\": %d, \"top1_min\": %.3f}",
             name, zc.g->meta.n_labels, SN_ONNX_OPSET_DEFAULT, top1_min);
    sn_export_case_write(raw, zc.g, zc.x.data, zc.x.count, json);
    export_variants(zc.g, name, raw, zc.cal, false);
    const char *dirs[1] = {raw};
    sn_export_check(dirs, 1);
    sn__zoo_case_close(&zc);
}

void sn_export_zoo_prototypes_case(const char *name, int n_cal, int n_eval) {
    bool top1 = true;
    if (SN_EXPORT_ASAN) {
        /* Smaller sets give prototypes chosen from no larger pool and ranges from fewer
         * images, so top-1 is logged, not asserted. */
        n_cal = n_cal / 3 > 12 ? n_cal / 3 : 12;
        n_eval = N_PROTO;
        top1 = false;
    }
    cr_assert_geq(n_eval, N_PROTO);
    sn__zoo_case zc;
    sn__zoo_case_open(&zc, name, n_cal, n_eval);
    char sep[4600];
    snprintf(sep, sizeof sep, "%s/separated", zc.dir);
    cr_assert(mkdir(sep, 0755) == 0);
    prototype_head(zc.g, zc.x.data, zc.x.sample_floats, zc.x.count, N_PROTO);
    char json[512];
    snprintf(json, sizeof json,
             "{\"name\": \"%s+prototypes\", \"batched\": true, \"labels\": %d, "
             "\"preprocess\": true, \"classes\": %s, \"cosine\": false}",
             name, N_PROTO, top1 ? "true" : "false");
    sn_export_case_write(sep, zc.g, zc.x.data, N_PROTO, json);
    export_variants(zc.g, name, sep, zc.cal, true);
    const char *dirs[1] = {sep};
    sn_export_check(dirs, 1);
    sn__zoo_case_close(&zc);
}
