/*
 * api_net.h - the small network the API tests share, built with graph.h, and its reference
 * computation in double precision. Header-only (static inline) so each test file stands alone.
 */
#ifndef SN_TESTS_API_NET_H
#define SN_TESTS_API_NET_H

#include <criterion/criterion.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "graph.h"
#include "model.h"
#include "sentinel.h"
#include "test_support.h"

/* --- the test network ------------------------------------------------------------------------
 * x[N,8] -> a = Relu(x) -> b = Add(a, c1) (output 1, also read later) -> s = Sigmoid(b)
 *        -> d = Mul(s, x) -> e = Add(d, a) -> t1 = Relu(e) -> t2 = Sigmoid(t1)
 *        -> f = Gemm(t2, W, bias, transB=1) [N,5] (output 0)
 * Six intermediates with short and long (a, x) lifetimes give the planner something to reuse. */
enum { IN = 8, OUT = 5, MAXB = 4 };

typedef struct net_w {
    float c1[IN], w[OUT * IN], bias[OUT];
} net_w;

static inline void ok(sn_status st, const sn_error *err) {
    cr_assert_eq(st, SN_OK, "%s: %s", sn_status_string(st), err ? err->message : "");
}

static inline int tensor(sn_graph *g, const char *name, int rank, const int64_t *dims) {
    sn_shape s = sn_shape_make(rank, dims);
    int t;
    ok(sn_graph_add_tensor(g, name, SN_DTYPE_F32, dims ? &s : NULL, &t), NULL);
    return t;
}

static inline int constant(sn_graph *g, const char *name, int rank, const int64_t *dims,
                           const float *v) {
    sn_shape s = sn_shape_make(rank, dims);
    int t;
    size_t n = (size_t)sn_shape_numel(&s);
    ok(sn_graph_add_const(g, name, SN_DTYPE_F32, &s, v, n * sizeof(float), true, &t), NULL);
    return t;
}

static inline void node(sn_graph *g, sn_op op, const char *name, int a, int b, int c, int out) {
    int in[3] = {a, b, c};
    int n_in = c >= 0 ? 3 : b >= 0 ? 2 : 1;
    ok(sn_graph_add_node(g, op, name, in, n_in, &out, 1, NULL, 0, NULL), NULL);
}

static inline sn_graph *build_net(const net_w *w) {
    sn_graph *g;
    ok(sn_graph_create(&g), NULL);
    int64_t xd[2] = {SN_DIM_BATCH, IN}, cd[1] = {IN}, wd[2] = {OUT, IN}, bd[1] = {OUT};
    int x = tensor(g, "x", 2, xd);
    ok(sn_graph_add_input(g, x), NULL);
    int c1 = constant(g, "c1", 1, cd, w->c1);
    int wt = constant(g, "fc.weight", 2, wd, w->w);
    int bt = constant(g, "fc.bias", 1, bd, w->bias);
    int a = tensor(g, "a", 0, NULL), b = tensor(g, "b", 0, NULL), s = tensor(g, "s", 0, NULL);
    int d = tensor(g, "d", 0, NULL), e = tensor(g, "e", 0, NULL), t1 = tensor(g, "t1", 0, NULL);
    int t2 = tensor(g, "t2", 0, NULL), f = tensor(g, "f", 0, NULL);
    node(g, SN_OP_RELU, "relu_a", x, -1, -1, a);
    node(g, SN_OP_ADD, "add_b", a, c1, -1, b);
    node(g, SN_OP_SIGMOID, "sig_s", b, -1, -1, s);
    node(g, SN_OP_MUL, "mul_d", s, x, -1, d);
    node(g, SN_OP_ADD, "add_e", d, a, -1, e);
    node(g, SN_OP_RELU, "relu_t1", e, -1, -1, t1);
    node(g, SN_OP_SIGMOID, "sig_t2", t1, -1, -1, t2);
    int in[3] = {t2, wt, bt};
    sn_attr attrs[1] = {sn_attr_int("transB", 1)};
    ok(sn_graph_add_node(g, SN_OP_GEMM, "fc", in, 3, &f, 1, attrs, 1, NULL), NULL);
    ok(sn_graph_add_output(g, f), NULL);
    ok(sn_graph_add_output(g, b), NULL);
    const char *labels[OUT] = {"cat", "dog", "owl", "eel", "yak"};
    ok(sn_graph_set_labels(g, labels, OUT), NULL);
    return g;
}

static inline void random_net(sn_rng *r, net_w *w) {
    sn_rng_fill(r, w->c1, IN, -1, 1);
    sn_rng_fill(r, w->w, OUT * IN, -1, 1);
    sn_rng_fill(r, w->bias, OUT, -1, 1);
}

static inline double sigmoid(double v) { return 1.0 / (1.0 + exp(-v)); }

/* The network in double precision: f[batch*OUT], b[batch*IN]. */
static inline void reference(const net_w *w, const float *x, int batch, double *f, double *b) {
    for (int n = 0; n < batch; n++) {
        double t2[IN];
        for (int i = 0; i < IN; i++) {
            double xv = x[n * IN + i], a = xv > 0 ? xv : 0;
            double bv = a + w->c1[i];
            double e = sigmoid(bv) * xv + a;
            t2[i] = sigmoid(e > 0 ? e : 0);
            b[n * IN + i] = bv;
        }
        for (int o = 0; o < OUT; o++) {
            double acc = w->bias[o];
            for (int i = 0; i < IN; i++) acc += t2[i] * (double)w->w[o * IN + i];
            f[n * OUT + o] = acc;
        }
    }
}

static inline void check_close(const float *got, const double *want, size_t n, const char *what) {
    double rms = 0, worst;
    for (size_t i = 0; i < n; i++) rms += want[i] * want[i];
    rms = sqrt(rms / (double)n);
    long bad = sn_compare_f32(got, want, n, 1e-5, 1e-5 * rms, &worst);
    cr_assert_eq(bad, -1, "%s[%ld] = %.9g, want %.9g (worst rel %g)", what, bad,
                 bad >= 0 ? got[bad] : 0.0, bad >= 0 ? want[bad] : 0.0, worst);
}

static inline sn_model *net_model(const net_w *w) {
    sn_model *m;
    sn_error err = {0};
    ok(sn_model_from_graph(build_net(w), &m, &err), &err);
    return m;
}

static inline sn_engine *cpu_engine(const sn_model *m, int max_batch, int threads) {
    sn_engine_options o = SN_ENGINE_OPTIONS_INIT;
    o.device = SN_DEVICE_CPU;
    o.max_batch = max_batch;
    o.threads = threads;
    sn_engine *e;
    sn_error err = {0};
    ok(sn_engine_create(m, &o, &e, &err), &err);
    return e;
}

/* Runs one batch of fresh random input with NaN-poisoned outputs and checks both outputs. */
static inline void run_and_check(sn_engine *e, const net_w *w, sn_rng *r, int batch) {
    float x[MAXB * IN], f[MAXB * OUT], b[MAXB * IN];
    double wf[MAXB * OUT], wb[MAXB * IN];
    sn_rng_fill(r, x, (size_t)batch * IN, -2, 2);
    for (int i = 0; i < MAXB * OUT; i++) f[i] = NAN;
    for (int i = 0; i < MAXB * IN; i++) b[i] = NAN;
    const void *ins[1] = {x};
    void *outs[2] = {f, b};
    sn_error err = {0};
    ok(sn_engine_run(e, batch, ins, outs, &err), &err);
    reference(w, x, batch, wf, wb);
    check_close(f, wf, (size_t)batch * OUT, "f");
    check_close(b, wb, (size_t)batch * IN, "b");
    /* Nothing past the batch is touched. */
    for (int i = batch * OUT; i < MAXB * OUT; i++) cr_assert(isnan(f[i]));
}

#endif
