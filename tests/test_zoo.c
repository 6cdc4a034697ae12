/*
 * test_zoo.c - the model zoo: every model builds, validates and infers the documented shapes;
 * structures match torchvision (parameter counts, node counts, multiply-adds computed here from
 * the architecture alone); weights are deterministic and BatchNorm statistics are not the
 * identity. test_zoo_run.c runs every model through the public engine API.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph_report.h"
#include "sgraph.h"
#include "test_support.h"
#include "zoo.h"

typedef struct zoo_expect {
    const char *name;
    int classes;
    int64_t params;  /* torchvision's count (BN weight and bias included, running stats not) */
    const char *ops; /* node counts by op, in op-enum order, as sentinel-inspect prints them */
} zoo_expect;

/* seed-cnn: 16*3*9 + 16 + 32*16*9 + 32 + 6272*10 + 10. The others are torchvision's counts. */
static const zoo_expect expected[] = {
    {"seed-cnn", 10, 67818, "Conv 2, BiasAdd 2, Relu 2, Flatten 1, Gemm 1"},
    {"resnet18", 1000, 11689512,
     "Conv 20, BatchNormalization 20, Relu 17, Add 8, MaxPool 1, GlobalAveragePool 1, "
     "Flatten 1, Gemm 1"},
    {"resnet50", 1000, 25557032,
     "Conv 53, BatchNormalization 53, Relu 49, Add 16, MaxPool 1, GlobalAveragePool 1, "
     "Flatten 1, Gemm 1"},
    {"mobilenetv2", 1000, 3504872,
     "Conv 52, BatchNormalization 52, Clip 35, Add 10, GlobalAveragePool 1, Flatten 1, Gemm 1"},
    {"squeezenet1_1", 1000, 1235496,
     "Conv 26, Relu 26, MaxPool 3, GlobalAveragePool 1, Concat 8, Flatten 1"},
    {"mobilenetv3_small", 1000, 2542856,
     "Conv 52, BatchNormalization 34, Relu 14, HardSigmoid 9, HardSwish 19, Add 6, Mul 9, "
     "GlobalAveragePool 10, Flatten 1, Gemm 2"},
};
#define N_EXPECTED ((int)(sizeof expected / sizeof expected[0]))

static sn_graph *build(const char *name, uint64_t seed) {
    sn_error err = {SN_OK, ""};
    sn_graph *g = NULL;
    sn_status st = sn_zoo_build(name, seed, &g, &err);
    cr_assert_eq(st, SN_OK, "building %s: %s", name, err.message);
    cr_assert_not_null(g);
    return g;
}

static int count_op(const sn_graph *g, sn_op op) {
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) n += !g->nodes[i].dead && g->nodes[i].op == op;
    return n;
}

/* "Conv 2, BiasAdd 2, ..." for the ops present, in enum order. */
static void op_counts(const sn_graph *g, char *buf, size_t size) {
    size_t used = 0;
    buf[0] = '\0';
    for (int op = 0; op < SN_OP_COUNT && used < size; op++) {
        int n = count_op(g, (sn_op)op);
        if (n)
            used += (size_t)snprintf(buf + used, size - used, "%s%s %d", used ? ", " : "",
                                     sn_op_name((sn_op)op), n);
    }
}

Test(zoo, table_lists_every_model) {
    cr_assert_eq(sn_zoo_count(), N_EXPECTED);
    for (int i = 0; i < N_EXPECTED; i++) {
        cr_assert_str_eq(sn_zoo_name(i), expected[i].name);
        cr_assert(sn_zoo_description(i) && strlen(sn_zoo_description(i)) > 10);
        cr_assert_eq(sn_zoo_find(expected[i].name), i);
    }
    cr_assert_null(sn_zoo_name(-1));
    cr_assert_null(sn_zoo_name(N_EXPECTED));
    cr_assert_eq(sn_zoo_find("resnet"), -1);
}

Test(zoo, unknown_model_is_not_found) {
    sn_error err = {SN_OK, ""};
    sn_graph *g = (sn_graph *)&err; /* must be reset to NULL */
    cr_assert_eq(sn_zoo_build("vgg16", 0, &g, &err), SN_ERR_NOT_FOUND);
    cr_assert_null(g);
    cr_assert(strstr(err.message, "vgg16"), "message: %s", err.message);
    cr_assert_eq(sn_zoo_build("resnet18", 0, NULL, &err), SN_ERR_INVALID_ARGUMENT);
}

Test(zoo, structure_shapes_and_parameter_counts) {
    for (int m = 0; m < N_EXPECTED; m++) {
        const zoo_expect *x = &expected[m];
        sn_graph *g = build(x->name, 1);
        sn_error err = {SN_OK, ""};
        cr_assert_eq(sn_graph_validate(g, &err), SN_OK, "%s: %s", x->name, err.message);

        cr_assert_eq(g->n_inputs, 1);
        const sn_tensor *in = &g->tensors[g->inputs[0]];
        cr_assert_str_eq(in->name, "input");
        cr_assert_eq(in->dtype, SN_DTYPE_F32);
        cr_assert_eq(in->layout, SN_LAYOUT_NCHW);
        cr_assert_eq(g->n_outputs, 1);
        cr_assert_str_eq(g->tensors[g->outputs[0]].name, "logits");

        sn_shape *shapes = calloc((size_t)g->n_tensors, sizeof *shapes);
        cr_assert_eq(sn_graph_infer_concrete(g, 3, shapes, NULL, &err), SN_OK, "%s", err.message);
        const sn_shape *o = &shapes[g->outputs[0]], *i3 = &shapes[g->inputs[0]];
        cr_assert_eq(o->rank, 2, "%s: output rank %d", x->name, o->rank);
        cr_assert_eq(o->d[0], 3);
        cr_assert_eq(o->d[1], x->classes, "%s: %lld classes", x->name, (long long)o->d[1]);
        cr_assert_eq(i3->rank, 4);
        cr_assert(i3->d[0] == 3 && i3->d[1] == 3 && i3->d[2] == 224 && i3->d[3] == 224);
        cr_assert(g->tensors[g->outputs[0]].flags & SN_TENSOR_BATCHED);
        free(shapes);

        int64_t bn_stats = -1, params = sn_zoo_param_count(g, &bn_stats);
        cr_assert_eq(params, x->params, "%s: %lld parameters, want %lld", x->name,
                     (long long)params, (long long)x->params);
        /* Two running statistics per BN channel, and BN channels = BN weight elements. */
        int64_t bn_channels = 0;
        for (int k = 0; k < g->n_nodes; k++)
            if (g->nodes[k].op == SN_OP_BATCHNORM)
                bn_channels += sn_shape_numel(&g->tensors[g->nodes[k].inputs[1]].shape);
        cr_assert_eq(bn_stats, 2 * bn_channels);

        char ops[512];
        op_counts(g, ops, sizeof ops);
        cr_assert_str_eq(ops, x->ops, "%s", x->name);
        cr_assert_eq(count_op(g, SN_OP_FUSED_CONV), 0, "zoo graphs are unfused");

        cr_assert_eq(g->meta.n_labels, x->classes);
        cr_assert_str_eq(g->meta.labels[0], "class_0");
        const sn_preprocess *p = &g->meta.preprocess;
        cr_assert(p->present && p->width == 224 && p->height == 224 && p->resize_shorter == 256);
        cr_assert_eq(p->resize, SN_RESIZE_SHORTER_CROP);
        cr_assert_eq(p->channels, SN_CHANNELS_RGB);
        cr_assert_float_eq(p->mean[0], 0.485f, 1e-7);
        cr_assert_float_eq(p->std[2], 0.225f, 1e-7);
        sn_graph_destroy(g);
    }
}

/* seed-cnn's Conv/BiasAdd/Relu chains: each BiasAdd reads its Conv, each Relu its BiasAdd. */
Test(zoo, seed_cnn_layers_are_separate) {
    sn_graph *g = build("seed-cnn", 0);
    int chains = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const sn_node *relu = &g->nodes[i];
        if (relu->op != SN_OP_RELU) continue;
        const sn_node *bias = &g->nodes[g->tensors[relu->inputs[0]].producer];
        cr_assert_eq(bias->op, SN_OP_BIAS_ADD);
        const sn_node *conv = &g->nodes[g->tensors[bias->inputs[0]].producer];
        cr_assert_eq(conv->op, SN_OP_CONV);
        cr_assert(conv->n_inputs == 2 || conv->inputs[2] < 0, "conv without bias input");
        chains++;
    }
    cr_assert_eq(chains, 2);
    sn_graph_destroy(g);
}

static uint64_t fnv(const void *data, size_t n) {
    const unsigned char *p = data;
    uint64_t h = 0xCBF29CE484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001B3ull;
    return h;
}

static uint64_t serialized_hash(sn_graph *g, size_t *size) {
    sn_error err = {SN_OK, ""};
    void *data = NULL;
    cr_assert_eq(sn_sgraph_write_memory(g, &data, size, &err), SN_OK, "%s", err.message);
    uint64_t h = fnv(data, *size);
    free(data);
    return h;
}

Test(zoo, weights_are_deterministic_and_seeded) {
    uint64_t seed = sn_test_fresh_seed("zoo.weights_are_deterministic_and_seeded");
    for (int m = 0; m < N_EXPECTED; m++) {
        const char *name = expected[m].name;
        sn_graph *a = build(name, seed), *b = build(name, seed), *c = build(name, seed + 1);
        size_t sa, sb, sc;
        uint64_t ha = serialized_hash(a, &sa), hb = serialized_hash(b, &sb);
        cr_assert(sa == sb && ha == hb, "%s: two builds with one seed differ", name);
        /* Another seed: same structure, but every weight tensor differs. */
        cr_assert_eq(a->n_tensors, c->n_tensors);
        for (int t = 0; t < a->n_tensors; t++) {
            const sn_tensor *ta = &a->tensors[t], *tc = &c->tensors[t];
            cr_assert_str_eq(ta->name, tc->name);
            if (!(ta->flags & SN_TENSOR_CONST)) continue;
            cr_assert_eq(ta->nbytes, tc->nbytes);
            cr_assert(memcmp(ta->data, tc->data, ta->nbytes) != 0, "%s: %s same for two seeds",
                      name, ta->name);
        }
        (void)serialized_hash(c, &sc);
        cr_assert_eq(sa, sc);
        sn_graph_destroy(a);
        sn_graph_destroy(b);
        sn_graph_destroy(c);
    }
}

/* Pins the generator: if these change, every saved zoo model and benchmark baseline changes.
 * The hash reads each float's bits in a fixed byte order, so it is the same on every host. */
Test(zoo, weights_match_the_golden_values) {
    sn_graph *g = build("seed-cnn", 0);
    int t = sn_graph_find_tensor(g, "conv1.weight");
    cr_assert_geq(t, 0);
    const float *w = g->tensors[t].data;
    size_t n = g->tensors[t].nbytes / sizeof(float);
    cr_assert_eq(n, 16 * 3 * 3 * 3);
    uint64_t h = 0xCBF29CE484222325ull;
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &w[i], sizeof bits);
        for (int k = 0; k < 4; k++) h = (h ^ ((bits >> (8 * k)) & 0xFF)) * 0x100000001B3ull;
    }
    cr_assert_eq(w[0], -0.0939295217f, "w[0] = %.9g", w[0]);
    cr_assert_eq(w[1], 0.207014486f, "w[1] = %.9g", w[1]);
    cr_assert_eq(h, 0x3bc1718b0a20c27bull, "seed-cnn conv1.weight hash 0x%016llx",
                 (unsigned long long)h);
    sn_graph_destroy(g);
}

static double mean_of(const float *v, int64_t n, double *var) {
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < n; i++) s += v[i];
    double mu = s / (double)n;
    for (int64_t i = 0; i < n; i++) s2 += (v[i] - mu) * (v[i] - mu);
    *var = s2 / (double)n;
    return mu;
}

Test(zoo, he_weights_and_non_identity_batchnorm) {
    sn_graph *g = build("resnet50", 7);
    int convs = 0, bns = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const sn_node *n = &g->nodes[i];
        if (n->op == SN_OP_CONV) {
            const sn_tensor *w = &g->tensors[n->inputs[1]];
            int64_t numel = sn_shape_numel(&w->shape);
            double fan_in = (double)(w->shape.d[1] * w->shape.d[2] * w->shape.d[3]), var;
            double mu = mean_of(w->data, numel, &var);
            /* He: variance 2/fan_in, divided by the 16 blocks for the last conv of a residual
             * branch; the sampling error of the variance is ~sqrt(0.8/numel). */
            double want = 2 / fan_in / (strstr(n->name, ".conv3") ? 16 : 1);
            double tol = 4 * sqrt(0.8 / (double)numel) + 1e-3;
            cr_assert(fabs(var / want - 1) < tol, "%s: var %g, want %g", n->name, var, want);
            cr_assert(fabs(mu) < 4 * sqrt(var / (double)numel) + 1e-6, "%s: mean %g", n->name, mu);
            convs++;
        } else if (n->op == SN_OP_BATCHNORM) {
            const float *gamma = g->tensors[n->inputs[1]].data,
                        *beta = g->tensors[n->inputs[2]].data;
            const float *mean = g->tensors[n->inputs[3]].data, *var = g->tensors[n->inputs[4]].data;
            int64_t c = sn_shape_numel(&g->tensors[n->inputs[1]].shape);
            int far_from_identity = 0;
            for (int64_t k = 0; k < c; k++) {
                cr_assert(gamma[k] >= 0.5f && gamma[k] <= 1.5f);
                cr_assert(var[k] >= 0.5f && var[k] <= 2.0f);
                cr_assert(fabsf(beta[k]) <= 0.2f && fabsf(mean[k]) <= 0.2f);
                far_from_identity += fabsf(gamma[k] - 1) > 0.1f && fabsf(var[k] - 1) > 0.1f;
            }
            cr_assert_gt(far_from_identity, c / 4, "%s looks like the identity", n->name);
            bns++;
        }
    }
    cr_assert_eq(convs, 53);
    cr_assert_eq(bns, 53);
    sn_graph_destroy(g);
}

/* --- multiply-adds, from the architectures alone --------------------------------------- */

static double conv_macs(int cin, int cout, int k, int group, int hout) {
    return (double)cout * hout * hout * (cin / group) * k * k;
}

static int out_size(int h, int k, int stride, int pad) { return (h + 2 * pad - k) / stride + 1; }

static double resnet_macs(bool bottleneck, const int blocks[4]) {
    double m = conv_macs(3, 64, 7, 1, 112);
    int h = 56, inplanes = 64, exp = bottleneck ? 4 : 1;
    for (int s = 0; s < 4; s++) {
        int planes = 64 << s;
        for (int i = 0; i < blocks[s]; i++) {
            int stride = s > 0 && i == 0 ? 2 : 1, ho = out_size(h, 3, stride, 1);
            if (bottleneck)
                m += conv_macs(inplanes, planes, 1, 1, h) + conv_macs(planes, planes, 3, 1, ho) +
                     conv_macs(planes, 4 * planes, 1, 1, ho);
            else
                m += conv_macs(inplanes, planes, 3, 1, ho) + conv_macs(planes, planes, 3, 1, ho);
            if (stride != 1 || inplanes != planes * exp)
                m += conv_macs(inplanes, planes * exp, 1, 1, ho);
            inplanes = planes * exp;
            h = ho;
        }
    }
    return m + 512.0 * exp * 1000;
}

static double mobilenetv2_macs(void) {
    static const int cfg[7][4] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                                  {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
    double m = conv_macs(3, 32, 3, 1, 112);
    int h = 112, cin = 32;
    for (int s = 0; s < 7; s++)
        for (int i = 0; i < cfg[s][2]; i++) {
            int hidden = cin * cfg[s][0], ho = out_size(h, 3, i == 0 ? cfg[s][3] : 1, 1);
            if (cfg[s][0] != 1) m += conv_macs(cin, hidden, 1, 1, h);
            m += conv_macs(hidden, hidden, 3, hidden, ho) + conv_macs(hidden, cfg[s][1], 1, 1, ho);
            cin = cfg[s][1];
            h = ho;
        }
    return m + conv_macs(320, 1280, 1, 1, 7) + 1280.0 * 1000;
}

static double squeezenet_macs(void) {
    /* Fire modules: input channels, squeeze, expand, spatial size. */
    static const int fires[8][4] = {{64, 16, 64, 55},   {128, 16, 64, 55},  {128, 32, 128, 27},
                                    {256, 32, 128, 27}, {256, 48, 192, 13}, {384, 48, 192, 13},
                                    {384, 64, 256, 13}, {512, 64, 256, 13}};
    double m = conv_macs(3, 64, 3, 1, 111) + conv_macs(512, 1000, 1, 1, 13);
    for (int i = 0; i < 8; i++) {
        int cin = fires[i][0], sq = fires[i][1], e = fires[i][2], h = fires[i][3];
        m += conv_macs(cin, sq, 1, 1, h) + conv_macs(sq, e, 1, 1, h) + conv_macs(sq, e, 3, 1, h);
    }
    return m;
}

static double mobilenetv3_small_macs(void) {
    /* cin, kernel, expanded, cout, squeeze-excitation channels (0: none), stride */
    static const int cfg[11][6] = {
        {16, 3, 16, 16, 8, 2},    {16, 3, 72, 24, 0, 2},   {24, 3, 88, 24, 0, 1},
        {24, 5, 96, 40, 24, 2},   {40, 5, 240, 40, 64, 1}, {40, 5, 240, 40, 64, 1},
        {40, 5, 120, 48, 32, 1},  {48, 5, 144, 48, 40, 1}, {48, 5, 288, 96, 72, 2},
        {96, 5, 576, 96, 144, 1}, {96, 5, 576, 96, 144, 1}};
    double m = conv_macs(3, 16, 3, 1, 112);
    int h = 112;
    for (int i = 0; i < 11; i++) {
        const int *c = cfg[i];
        int ho = out_size(h, c[1], c[5], (c[1] - 1) / 2);
        if (c[2] != c[0]) m += conv_macs(c[0], c[2], 1, 1, h);
        m += conv_macs(c[2], c[2], c[1], c[2], ho) + conv_macs(c[2], c[3], 1, 1, ho);
        m += 2.0 * c[2] * c[4]; /* the two 1x1 convs of the excitation, at 1x1 */
        h = ho;
    }
    return m + conv_macs(96, 576, 1, 1, 7) + 576.0 * 1024 + 1024.0 * 1000;
}

Test(zoo, flops_match_the_architecture) {
    static const int r18[4] = {2, 2, 2, 2}, r50[4] = {3, 4, 6, 3};
    /* slack: what the elementwise layers (BN, activations, adds, pools) may add on top. */
    struct {
        const char *name;
        double macs, published, slack;
    } cases[] = {
        {"seed-cnn", 16.0 * 56 * 56 * 27 + 32.0 * 14 * 14 * 144 + 6272.0 * 10, 0, 0.05},
        {"resnet18", resnet_macs(false, r18), 1.81e9, 0.03},
        {"resnet50", resnet_macs(true, r50), 4.09e9, 0.03},
        {"mobilenetv2", mobilenetv2_macs(), 0.30e9, 0.12},
        {"squeezenet1_1", squeezenet_macs(), 0.35e9, 0.05},
        {"mobilenetv3_small", mobilenetv3_small_macs(), 0.06e9, 0.15},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        /* torchvision's published GMACs, to two decimals, check the count itself. */
        if (cases[c].published > 0)
            cr_assert(fabs(cases[c].macs - cases[c].published) <= 0.006e9, "%s: %g MACs",
                      cases[c].name, cases[c].macs);
        sn_graph *g = build(cases[c].name, 3);
        sn_error err = {SN_OK, ""};
        sn_graph_report r;
        cr_assert_eq(sn_graph_report_build(g, &r, &err), SN_OK, "%s", err.message);
        double dense = 0, bias = 0; /* a bias input may add one FLOP per output element */
        for (int i = 0; i < r.n_rows; i++) {
            const sn_node *n = &g->nodes[r.rows[i].node];
            if (n->op != SN_OP_CONV && n->op != SN_OP_GEMM) continue;
            dense += r.rows[i].flops;
            if (n->n_inputs > 2 && n->inputs[2] >= 0)
                bias += (double)sn_shape_numel(&r.shapes[n->outputs[0]]);
        }
        double want = 2 * cases[c].macs;
        cr_log_info("%s: %.0f MACs, report %.0f FLOPs (conv+gemm %.0f)", cases[c].name,
                    cases[c].macs, r.flops, dense);
        cr_assert(dense >= want && dense <= want + bias, "%s: conv+gemm %g FLOPs, want %g..%g",
                  cases[c].name, dense, want, want + bias);
        cr_assert(r.flops >= want && r.flops <= want * (1 + cases[c].slack),
                  "%s: %g FLOPs, want %g..%g", cases[c].name, r.flops, want,
                  want * (1 + cases[c].slack));
        cr_assert_eq(r.n_rows, g->n_nodes);
        cr_assert_eq(r.params, sn_zoo_param_count(g, NULL));
        sn_graph_report_free(&r);
        sn_graph_destroy(g);
    }
}
