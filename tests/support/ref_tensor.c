/*
 * ref_tensor.c - the double-precision reference for the elementwise and tensor ops: the plainest
 * code that follows the definitions (one output element at a time through multi-indices),
 * written without looking at the kernels' tricks. Resize follows the ONNX reference
 * implementation (edge-padded neighbours) rather than the kernel's clamped coordinates.
 */
#include "ref_tensor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int64_t sn__numel(const sn_shape *s) {
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++) n *= s->d[i];
    return n;
}

static void sn__unravel(int64_t idx, const sn_shape *s, int64_t *c) {
    for (int i = s->rank - 1; i >= 0; i--) {
        c[i] = idx % s->d[i];
        idx /= s->d[i];
    }
}

static int64_t sn__ravel(const int64_t *c, const sn_shape *s) {
    int64_t idx = 0;
    for (int i = 0; i < s->rank; i++) idx = idx * s->d[i] + c[i];
    return idx;
}

int sn_ref_is_data_movement(sn_op op) {
    return op == SN_OP_CONCAT || op == SN_OP_FLATTEN || op == SN_OP_RESHAPE ||
           op == SN_OP_TRANSPOSE || op == SN_OP_IDENTITY;
}

static double sn__ref_act(const sn_node *n, double x) {
    switch (n->op) {
    case SN_OP_RELU: return x > 0 ? x : 0;
    case SN_OP_CLIP: {
        double lo = sn_node_attr_float(n, "min", -INFINITY), hi = sn_node_attr_float(n, "max", INFINITY);
        return fmin(fmax(x, lo), hi);
    }
    case SN_OP_LEAKY_RELU: return x >= 0 ? x : (double)sn_node_attr_float(n, "alpha", 0.01f) * x;
    case SN_OP_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case SN_OP_TANH: return tanh(x);
    case SN_OP_HARD_SIGMOID: {
        double a = sn_node_attr_float(n, "alpha", 0.2f), b = sn_node_attr_float(n, "beta", 0.5f);
        return fmax(0.0, fmin(1.0, a * x + b));
    }
    case SN_OP_HARD_SWISH: return x * fmax(0.0, fmin(6.0, x + 3.0)) / 6.0;
    case SN_OP_SILU: return x / (1.0 + exp(-x));
    default: return x; /* Identity */
    }
}

static int sn__ref_binary(const sn_node *n, const sn_shape *sa, const double *a, const sn_shape *sb,
                          const double *b, sn_shape *so, double **out) {
    int r = sa->rank > sb->rank ? sa->rank : sb->rank;
    so->rank = r;
    for (int i = 0; i < r; i++) {
        int ia = i - (r - sa->rank), ib = i - (r - sb->rank);
        int64_t x = ia >= 0 ? sa->d[ia] : 1, z = ib >= 0 ? sb->d[ib] : 1;
        if (x != z && x != 1 && z != 1) return -1;
        so->d[i] = x == 1 ? z : x;
    }
    int64_t total = sn__numel(so);
    double *y = malloc(sizeof(double) * (size_t)(total ? total : 1));
    for (int64_t o = 0; o < total; o++) {
        int64_t c[SN_MAX_RANK], ca[SN_MAX_RANK], cb[SN_MAX_RANK];
        sn__unravel(o, so, c);
        for (int i = 0; i < sa->rank; i++) ca[i] = sa->d[i] == 1 ? 0 : c[i + r - sa->rank];
        for (int i = 0; i < sb->rank; i++) cb[i] = sb->d[i] == 1 ? 0 : c[i + r - sb->rank];
        double x = a[sn__ravel(ca, sa)], z = b[sn__ravel(cb, sb)];
        switch (n->op) {
        case SN_OP_ADD: y[o] = x + z; break;
        case SN_OP_SUB: y[o] = x - z; break;
        case SN_OP_MUL: y[o] = x * z; break;
        default: y[o] = x / z; break;
        }
    }
    *out = y;
    return 0;
}

static int sn__ref_concat(const sn_node *n, int n_in, const sn_shape *s, const double *const *x,
                          sn_shape *so, double **out) {
    int r = s[0].rank;
    int64_t axis = sn_node_attr_int(n, "axis", 0);
    if (axis < 0) axis += r;
    if (axis < 0 || axis >= r) return -1;
    *so = s[0];
    for (int i = 1; i < n_in; i++) so->d[axis] += s[i].d[axis];
    int64_t total = sn__numel(so);
    double *y = malloc(sizeof(double) * (size_t)(total ? total : 1));
    for (int64_t o = 0; o < total; o++) {
        int64_t c[SN_MAX_RANK];
        sn__unravel(o, so, c);
        int i = 0;
        while (c[axis] >= s[i].d[axis]) c[axis] -= s[i++].d[axis];
        y[o] = x[i][sn__ravel(c, &s[i])];
    }
    *out = y;
    return 0;
}

/* Output shape of Flatten or Reshape (same data). */
static int sn__ref_reshape_shape(const sn_node *n, const sn_shape *s, sn_shape *so) {
    if (n->op == SN_OP_FLATTEN) {
        int64_t axis = sn_node_attr_int(n, "axis", 1);
        if (axis < 0) axis += s->rank;
        so->rank = 2;
        so->d[0] = so->d[1] = 1;
        for (int i = 0; i < s->rank; i++) so->d[i < axis ? 0 : 1] *= s->d[i];
        return 0;
    }
    int cnt = 0, neg = -1;
    const int64_t *shape = sn_node_attr_ints(n, "shape", &cnt);
    int64_t known = 1;
    so->rank = cnt;
    for (int i = 0; i < cnt; i++) {
        so->d[i] = shape[i] == 0 ? s->d[i] : shape[i];
        if (shape[i] == -1)
            neg = i;
        else
            known *= so->d[i];
    }
    if (neg >= 0) so->d[neg] = sn__numel(s) / known;
    return sn__numel(so) == sn__numel(s) ? 0 : -1;
}

static void sn__ref_transpose(const sn_node *n, const sn_shape *s, const double *x, sn_shape *so,
                              double *y) {
    int r = s->rank, perm[SN_MAX_RANK], cnt = 0;
    const int64_t *p = sn_node_attr_ints(n, "perm", &cnt);
    for (int i = 0; i < r; i++) perm[i] = p ? (int)p[i] : r - 1 - i;
    so->rank = r;
    for (int i = 0; i < r; i++) so->d[i] = s->d[perm[i]];
    for (int64_t o = 0; o < sn__numel(so); o++) {
        int64_t c[SN_MAX_RANK], ci[SN_MAX_RANK];
        sn__unravel(o, so, c);
        for (int i = 0; i < r; i++) ci[perm[i]] = c[i];
        y[o] = x[sn__ravel(ci, s)];
    }
}

static void sn__ref_pad(const sn_node *n, const sn_shape *s, const double *x, sn_shape *so,
                        double **out) {
    int r = s->rank, cnt;
    const int64_t *pads = sn_node_attr_ints(n, "pads", &cnt);
    int64_t mode = sn_node_attr_int(n, "mode", 0);
    double value = sn_node_attr_float(n, "value", 0.0f);
    so->rank = r;
    for (int i = 0; i < r; i++) so->d[i] = s->d[i] + pads[i] + pads[r + i];
    int64_t total = sn__numel(so);
    double *y = malloc(sizeof(double) * (size_t)(total ? total : 1));
    for (int64_t o = 0; o < total; o++) {
        int64_t c[SN_MAX_RANK];
        int inside = 1;
        sn__unravel(o, so, c);
        for (int i = 0; i < r; i++) {
            int64_t v = c[i] - pads[i], d = s->d[i];
            if (v < 0 || v >= d) {
                if (mode == 0) inside = 0;
                else if (mode == 1) v = v < 0 ? -v : 2 * d - 2 - v; /* mirror about the edge */
                else v = v < 0 ? 0 : d - 1;
            }
            c[i] = v;
        }
        y[o] = inside ? x[sn__ravel(c, s)] : value;
    }
    *out = y;
}

/* ONNX Resize, one axis: the source coordinate of output index o. */
static double sn__ref_coord(int64_t o, double scale, int64_t in, int64_t out, int64_t mode) {
    switch (mode) {
    case 1: return o / scale;                                            /* asymmetric */
    case 2: return out == 1 ? 0.0 : o * (double)(in - 1) / (double)(out - 1); /* align_corners */
    case 3: return out > 1 ? (o + 0.5) / scale - 0.5 : 0.0;              /* pytorch_half_pixel */
    default: return (o + 0.5) / scale - 0.5;                             /* half_pixel */
    }
}

static int64_t sn__ref_nearest(double x, int64_t in, int64_t mode) {
    double fl = floor(x);
    int64_t i;
    if (mode == 2) i = (int64_t)fl;
    else if (mode == 3) i = (int64_t)ceil(x);
    else if (x - fl == 0.5) i = (int64_t)(mode == 0 ? fl : fl + 1.0);
    else i = (int64_t)round(x);
    return i < 0 ? 0 : (i >= in ? in - 1 : i);
}

static double sn__ref_px(const double *plane, int64_t h, int64_t w, int64_t y, int64_t x) {
    y = y < 0 ? 0 : (y >= h ? h - 1 : y); /* edge padding */
    x = x < 0 ? 0 : (x >= w ? w - 1 : x);
    return plane[y * w + x];
}

static int sn__ref_resize(const sn_node *n, const sn_shape *s, const double *x, sn_shape *so,
                          double **out) {
    int ns = 0, nz = 0;
    const float *scales = sn_node_attr_floats(n, "scales", &ns);
    const int64_t *sizes = sn_node_attr_ints(n, "sizes", &nz);
    int64_t mode = sn_node_attr_int(n, "mode", 0), coord = sn_node_attr_int(n, "coord_mode", 0);
    int64_t nmode = sn_node_attr_int(n, "nearest_mode", 0);
    double sc[2];
    *so = *s;
    for (int a = 0; a < 2; a++) {
        if (scales) {
            sc[a] = scales[2 + a];
            so->d[2 + a] = (int64_t)floor(sc[a] * (double)s->d[2 + a]);
        } else {
            so->d[2 + a] = sizes[2 + a];
            sc[a] = (double)sizes[2 + a] / (double)s->d[2 + a];
        }
    }
    int64_t H = s->d[2], W = s->d[3], OH = so->d[2], OW = so->d[3];
    double *y = malloc(sizeof(double) * (size_t)sn__numel(so));
    for (int64_t p = 0; p < s->d[0] * s->d[1]; p++) {
        const double *plane = x + p * H * W;
        for (int64_t oy = 0; oy < OH; oy++)
            for (int64_t ox = 0; ox < OW; ox++) {
                double fy = sn__ref_coord(oy, sc[0], H, OH, coord);
                double fx = sn__ref_coord(ox, sc[1], W, OW, coord);
                double v;
                if (mode == 0) {
                    v = plane[sn__ref_nearest(fy, H, nmode) * W + sn__ref_nearest(fx, W, nmode)];
                } else {
                    double y0 = floor(fy), x0 = floor(fx), wy = fy - y0, wx = fx - x0;
                    int64_t iy = (int64_t)y0, ix = (int64_t)x0;
                    v = (1 - wy) * ((1 - wx) * sn__ref_px(plane, H, W, iy, ix) +
                                    wx * sn__ref_px(plane, H, W, iy, ix + 1)) +
                        wy * ((1 - wx) * sn__ref_px(plane, H, W, iy + 1, ix) +
                              wx * sn__ref_px(plane, H, W, iy + 1, ix + 1));
                }
                y[(p * OH + oy) * OW + ox] = v;
            }
    }
    *out = y;
    return 0;
}

int sn_ref_tensor_op(const sn_node *n, int n_in, const sn_shape *in_shape,
                     const double *const *in_data, sn_shape *out_shape, double **out_data) {
    *out_data = NULL;
    const sn_shape *s = &in_shape[0];
    const double *x = in_data[0];
    int64_t numel = sn__numel(s);
    switch (n->op) {
    case SN_OP_RELU: case SN_OP_CLIP: case SN_OP_LEAKY_RELU: case SN_OP_SIGMOID: case SN_OP_TANH:
    case SN_OP_HARD_SIGMOID: case SN_OP_HARD_SWISH: case SN_OP_SILU: case SN_OP_IDENTITY: {
        double *y = malloc(sizeof(double) * (size_t)(numel ? numel : 1));
        for (int64_t i = 0; i < numel; i++) y[i] = sn__ref_act(n, x[i]);
        *out_shape = *s;
        *out_data = y;
        return 0;
    }
    case SN_OP_ADD: case SN_OP_SUB: case SN_OP_MUL: case SN_OP_DIV:
        return n_in == 2 ? sn__ref_binary(n, s, x, &in_shape[1], in_data[1], out_shape, out_data) : -1;
    case SN_OP_CONCAT: return sn__ref_concat(n, n_in, in_shape, in_data, out_shape, out_data);
    case SN_OP_FLATTEN: case SN_OP_RESHAPE: {
        if (sn__ref_reshape_shape(n, s, out_shape) != 0) return -1;
        double *y = malloc(sizeof(double) * (size_t)(numel ? numel : 1));
        memcpy(y, x, sizeof(double) * (size_t)numel);
        *out_data = y;
        return 0;
    }
    case SN_OP_TRANSPOSE: {
        double *y = malloc(sizeof(double) * (size_t)(numel ? numel : 1));
        sn__ref_transpose(n, s, x, out_shape, y);
        *out_data = y;
        return 0;
    }
    case SN_OP_PAD: sn__ref_pad(n, s, x, out_shape, out_data); return 0;
    case SN_OP_RESIZE: return sn__ref_resize(n, s, x, out_shape, out_data);
    default: return -1;
    }
}
