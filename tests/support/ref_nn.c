/*
 * ref_nn.c - the double-precision reference for the neural-network ops (see ref_nn.h). Each op
 * is the textbook loop nest with a bounds test on every tap, reading attributes straight from
 * the node and deriving output sizes from the ONNX formulas, so it shares nothing with the
 * kernels or with graph/ops but the spec.
 */
#include "ref_nn.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int64_t numel(const sn_shape *s) {
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++) n *= s->d[i];
    return n;
}

static void ints_or(const sn_node *n, const char *name, int count, int64_t dflt, int64_t *out) {
    int got = 0;
    const int64_t *v = sn_node_attr_ints(n, name, &got);
    for (int i = 0; i < count; i++) out[i] = v && got == count ? v[i] : dflt;
}

static double ref_act(double x, int act, double a, double b) {
    switch (act) {
    case SN_ACT_RELU: return x > 0 ? x : 0;
    case SN_ACT_CLIP: return fmin(fmax(x, a), b);
    case SN_ACT_LEAKY_RELU: return x >= 0 ? x : a * x;
    case SN_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case SN_ACT_TANH: return tanh(x);
    case SN_ACT_HARD_SIGMOID: return fmax(0.0, fmin(1.0, a * x + b));
    case SN_ACT_HARD_SWISH: return x * fmin(fmax(x + 3.0, 0.0), 6.0) / 6.0;
    case SN_ACT_SILU: return x / (1.0 + exp(-x));
    default: return x;
    }
}

/* The fused activation with the standalone ops' defaults. */
static void read_act(const sn_node *n, int *act, double *a, double *b) {
    *act = (int)sn_node_attr_int(n, "activation", 0);
    double da = 0, db = 0;
    if (*act == SN_ACT_CLIP) da = -INFINITY, db = INFINITY;
    if (*act == SN_ACT_LEAKY_RELU) da = 0.01;
    if (*act == SN_ACT_HARD_SIGMOID) da = 0.2, db = 0.5;
    *a = sn_node_attr(n, "act_alpha") ? sn_node_attr_float(n, "act_alpha", 0) : da;
    *b = sn_node_attr(n, "act_beta") ? sn_node_attr_float(n, "act_beta", 0) : db;
}

static int out4(sn_shape *o, int64_t a, int64_t b, int64_t c, int64_t d) {
    *o = (sn_shape){4, {a, b, c, d}};
    return c >= 1 && d >= 1 ? 0 : -1;
}

static int ref_conv(const sn_node *n, const sn_shape *s, const double *const *v, sn_shape *os,
                    double **out) {
    int64_t st[2], pd[4], dl[2];
    ints_or(n, "strides", 2, 1, st);
    ints_or(n, "pads", 4, 0, pd);
    ints_or(n, "dilations", 2, 1, dl);
    int64_t group = sn_node_attr_int(n, "group", 1);
    int64_t N = s[0].d[0], C = s[0].d[1], H = s[0].d[2], W = s[0].d[3];
    int64_t M = s[1].d[0], Cg = s[1].d[1], KH = s[1].d[2], KW = s[1].d[3];
    if (C != Cg * group || M % group) return -1;
    int64_t OH = (H + pd[0] + pd[2] - (dl[0] * (KH - 1) + 1)) / st[0] + 1;
    int64_t OW = (W + pd[1] + pd[3] - (dl[1] * (KW - 1) + 1)) / st[1] + 1;
    if (out4(os, N, M, OH, OW)) return -1;
    const double *x = v[0], *w = v[1], *b = v[2];
    const double *z = n->op == SN_OP_FUSED_CONV && n->n_inputs > 3 ? v[3] : NULL;
    int act = 0;
    double aa = 0, ab = 0;
    if (n->op == SN_OP_FUSED_CONV) read_act(n, &act, &aa, &ab);
    double *y = malloc(sizeof(double) * (size_t)numel(os));
    if (!y) return -1;
    for (int64_t i = 0; i < N; i++)
        for (int64_t m = 0; m < M; m++) {
            int64_t g = m / (M / group);
            for (int64_t oh = 0; oh < OH; oh++)
                for (int64_t ow = 0; ow < OW; ow++) {
                    double acc = b ? b[m] : 0.0;
                    for (int64_t c = 0; c < Cg; c++)
                        for (int64_t ki = 0; ki < KH; ki++)
                            for (int64_t kj = 0; kj < KW; kj++) {
                                int64_t ih = oh * st[0] - pd[0] + ki * dl[0];
                                int64_t iw = ow * st[1] - pd[1] + kj * dl[1];
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                acc += x[((i * C + g * Cg + c) * H + ih) * W + iw] *
                                       w[((m * Cg + c) * KH + ki) * KW + kj];
                            }
                    int64_t o = ((i * M + m) * OH + oh) * OW + ow;
                    if (z) acc += z[o];
                    y[o] = ref_act(acc, act, aa, ab);
                }
        }
    *out = y;
    return 0;
}

/* ONNX / ONNX Runtime pool output size, written the way ORT computes it. */
static int64_t pool_extent(int64_t in, int64_t k, int64_t s, int64_t d, int64_t p0, int64_t p1,
                           int ceil_mode) {
    double f = (double)(in + p0 + p1 - d * (k - 1) - 1) / (double)s + 1.0;
    int64_t o = (int64_t)(ceil_mode ? ceil(f) : floor(f));
    if (ceil_mode && (o - 1) * s >= in + p0) o--;
    return o;
}

static int ref_pool(const sn_node *n, const sn_shape *s, const double *const *v, sn_shape *os,
                    double **out) {
    int64_t k[2], st[2], pd[4], dl[2];
    int kc = 0;
    if (!sn_node_attr_ints(n, "kernel_shape", &kc) || kc != 2) return -1;
    ints_or(n, "kernel_shape", 2, 1, k);
    ints_or(n, "strides", 2, 1, st);
    ints_or(n, "pads", 4, 0, pd);
    ints_or(n, "dilations", 2, 1, dl);
    int ceil_mode = (int)sn_node_attr_int(n, "ceil_mode", 0);
    int incl = (int)sn_node_attr_int(n, "count_include_pad", 0);
    int is_max = n->op == SN_OP_MAX_POOL;
    if (!is_max) dl[0] = dl[1] = 1;
    int64_t N = s[0].d[0], C = s[0].d[1], H = s[0].d[2], W = s[0].d[3];
    int64_t OH = pool_extent(H, k[0], st[0], dl[0], pd[0], pd[2], ceil_mode);
    int64_t OW = pool_extent(W, k[1], st[1], dl[1], pd[1], pd[3], ceil_mode);
    if (out4(os, N, C, OH, OW)) return -1;
    double *y = malloc(sizeof(double) * (size_t)numel(os));
    if (!y) return -1;
    for (int64_t p = 0; p < N * C; p++)
        for (int64_t oh = 0; oh < OH; oh++)
            for (int64_t ow = 0; ow < OW; ow++) {
                int64_t hs = oh * st[0] - pd[0], ws = ow * st[1] - pd[1];
                double best = -FLT_MAX, sum = 0;
                int64_t count = 0;
                for (int64_t ki = 0; ki < k[0]; ki++)
                    for (int64_t kj = 0; kj < k[1]; kj++) {
                        int64_t ih = hs + ki * dl[0], iw = ws + kj * dl[1];
                        if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                        double xv = v[0][(p * H + ih) * W + iw];
                        best = fmax(best, xv);
                        sum += xv;
                        count++;
                    }
                if (incl) {
                    /* the window clipped to the padded input, padding included */
                    int64_t he = hs + k[0] < H + pd[2] ? hs + k[0] : H + pd[2];
                    int64_t we = ws + k[1] < W + pd[3] ? ws + k[1] : W + pd[3];
                    count = (he - hs) * (we - ws);
                }
                y[(p * OH + oh) * OW + ow] = is_max ? best : sum / (double)count;
            }
    *out = y;
    return 0;
}

static int ref_global_avg(const sn_shape *s, const double *x, sn_shape *os, double **out) {
    if (s->rank < 3) return -1;
    *os = *s;
    int64_t size = 1;
    for (int i = 2; i < s->rank; i++) size *= s->d[i], os->d[i] = 1;
    int64_t planes = s->d[0] * s->d[1];
    double *y = malloc(sizeof(double) * (size_t)planes);
    if (!y) return -1;
    for (int64_t p = 0; p < planes; p++) {
        double acc = 0;
        for (int64_t i = 0; i < size; i++) acc += x[p * size + i];
        y[p] = acc / (double)size;
    }
    *out = y;
    return 0;
}

/* BatchNormalization (5 inputs) or BiasAdd (2): per-channel of X[N, C, ...]. */
static int ref_channel(const sn_node *n, const sn_shape *s, const double *const *v, sn_shape *os,
                       double **out) {
    if (s[0].rank < 2) return -1;
    *os = s[0];
    int64_t N = s[0].d[0], C = s[0].d[1], inner = numel(&s[0]) / (N * C);
    double eps = sn_node_attr_float(n, "epsilon", 1e-5f);
    double *y = malloc(sizeof(double) * (size_t)numel(os));
    if (!y) return -1;
    for (int64_t i = 0; i < N; i++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t j = 0; j < inner; j++) {
                int64_t o = (i * C + c) * inner + j;
                double x = v[0][o];
                y[o] = n->op == SN_OP_BIAS_ADD
                           ? x + v[1][c]
                           : (x - v[3][c]) / sqrt(v[4][c] + eps) * v[1][c] + v[2][c];
            }
    *out = y;
    return 0;
}

static int ref_matmul(const sn_shape *sa, const sn_shape *sb, const double *a, const double *b,
                      sn_shape *os, double **out) {
    if (sa->rank < 1 || sb->rank < 1) return -1;
    /* promote 1-D operands, then right-align the batch dims */
    sn_shape A = *sa, B = *sb;
    if (A.rank == 1) A = (sn_shape){2, {1, sa->d[0]}};
    if (B.rank == 1) B = (sn_shape){2, {sb->d[0], 1}};
    int64_t M = A.d[A.rank - 2], K = A.d[A.rank - 1], N = B.d[B.rank - 1];
    if (B.d[B.rank - 2] != K) return -1;
    int br = (A.rank > B.rank ? A.rank : B.rank) - 2;
    int64_t ab[SN_MAX_RANK], bb[SN_MAX_RANK], ob[SN_MAX_RANK];
    int64_t count = 1;
    for (int d = 0; d < br; d++) {
        int ia = d - (br - (A.rank - 2)), ib = d - (br - (B.rank - 2));
        ab[d] = ia >= 0 ? A.d[ia] : 1;
        bb[d] = ib >= 0 ? B.d[ib] : 1;
        if (ab[d] != bb[d] && ab[d] != 1 && bb[d] != 1) return -1;
        ob[d] = ab[d] > bb[d] ? ab[d] : bb[d];
        count *= ob[d];
    }
    os->rank = 0;
    for (int d = 0; d < br; d++) os->d[os->rank++] = ob[d];
    if (sa->rank > 1) os->d[os->rank++] = M;
    if (sb->rank > 1) os->d[os->rank++] = N;
    double *y = malloc(sizeof(double) * (size_t)(count * M * N));
    if (!y) return -1;
    for (int64_t bi = 0; bi < count; bi++) {
        int64_t rem = bi, ai = 0, bidx = 0, am = 1, bm = 1;
        for (int d = br - 1; d >= 0; d--) {
            int64_t id = rem % ob[d];
            rem /= ob[d];
            ai += (ab[d] == 1 ? 0 : id) * am;
            bidx += (bb[d] == 1 ? 0 : id) * bm;
            am *= ab[d];
            bm *= bb[d];
        }
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double acc = 0;
                for (int64_t k = 0; k < K; k++)
                    acc += a[ai * M * K + i * K + k] * b[bidx * K * N + k * N + j];
                y[(bi * M + i) * N + j] = acc;
            }
    }
    *out = y;
    return 0;
}

static int ref_gemm(const sn_node *n, int n_in, const sn_shape *s, const double *const *v,
                    sn_shape *os, double **out) {
    if (s[0].rank != 2 || s[1].rank != 2) return -1;
    int ta = (int)sn_node_attr_int(n, "transA", 0), tb = (int)sn_node_attr_int(n, "transB", 0);
    double alpha = sn_node_attr_float(n, "alpha", 1.0f), beta = sn_node_attr_float(n, "beta", 1.0f);
    int act;
    double aa, ab;
    read_act(n, &act, &aa, &ab);
    int64_t M = ta ? s[0].d[1] : s[0].d[0], K = ta ? s[0].d[0] : s[0].d[1];
    int64_t N = tb ? s[1].d[0] : s[1].d[1];
    if ((tb ? s[1].d[1] : s[1].d[0]) != K) return -1;
    const double *c = n_in > 2 ? v[2] : NULL;
    const sn_shape *cs = n_in > 2 ? &s[2] : NULL;
    *os = (sn_shape){2, {M, N}};
    double *y = malloc(sizeof(double) * (size_t)(M * N));
    if (!y) return -1;
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double acc = 0;
            for (int64_t k = 0; k < K; k++)
                acc += v[0][ta ? k * M + i : i * K + k] * v[1][tb ? j * K + k : k * N + j];
            acc *= alpha;
            if (c) {
                int64_t rows = cs->rank == 2 ? cs->d[0] : 1;
                int64_t cols = cs->rank >= 1 ? cs->d[cs->rank - 1] : 1;
                acc += beta * c[(rows == 1 ? 0 : i) * cols + (cols == 1 ? 0 : j)];
            }
            y[i * N + j] = ref_act(acc, act, aa, ab);
        }
    *out = y;
    return 0;
}

static int ref_softmax(const sn_node *n, const sn_shape *s, const double *x, sn_shape *os,
                       double **out) {
    int r = s->rank;
    int64_t axis = sn_node_attr_int(n, "axis", -1);
    if (r < 1 || axis < -r || axis >= r) return -1;
    if (axis < 0) axis += r;
    *os = *s;
    int64_t outer = 1, len = s->d[axis], inner = 1;
    for (int i = 0; i < axis; i++) outer *= s->d[i];
    for (int i = (int)axis + 1; i < r; i++) inner *= s->d[i];
    double *y = malloc(sizeof(double) * (size_t)numel(s));
    if (!y) return -1;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < inner; j++) {
            const double *xs = x + o * len * inner + j;
            double *ys = y + o * len * inner + j;
            double m = -INFINITY, sum = 0;
            for (int64_t a = 0; a < len; a++) m = fmax(m, xs[a * inner]);
            for (int64_t a = 0; a < len; a++) sum += exp(xs[a * inner] - m);
            for (int64_t a = 0; a < len; a++) ys[a * inner] = exp(xs[a * inner] - m) / sum;
        }
    *out = y;
    return 0;
}

int sn_ref_nn_op(const sn_node *n, int n_in, const sn_shape *in_shape,
                 const double *const *in_data, sn_shape *out_shape, double **out_data) {
    const double *v[SN_NCASE_MAX_INPUTS] = {0};
    for (int i = 0; i < n_in && i < SN_NCASE_MAX_INPUTS; i++)
        v[i] = in_shape[i].rank >= 0 ? in_data[i] : NULL;
    *out_data = NULL;
    switch (n->op) {
    case SN_OP_CONV:
    case SN_OP_FUSED_CONV: return n_in >= 2 ? ref_conv(n, in_shape, v, out_shape, out_data) : -1;
    case SN_OP_MAX_POOL:
    case SN_OP_AVG_POOL: return ref_pool(n, in_shape, v, out_shape, out_data);
    case SN_OP_GLOBAL_AVG_POOL: return ref_global_avg(&in_shape[0], v[0], out_shape, out_data);
    case SN_OP_BATCHNORM: return n_in == 5 ? ref_channel(n, in_shape, v, out_shape, out_data) : -1;
    case SN_OP_BIAS_ADD: return n_in == 2 ? ref_channel(n, in_shape, v, out_shape, out_data) : -1;
    case SN_OP_MATMUL:
        return ref_matmul(&in_shape[0], &in_shape[1], v[0], v[1], out_shape, out_data);
    case SN_OP_GEMM: return ref_gemm(n, n_in, in_shape, v, out_shape, out_data);
    case SN_OP_SOFTMAX: return ref_softmax(n, &in_shape[0], v[0], out_shape, out_data);
    default: return -1;
    }
}
