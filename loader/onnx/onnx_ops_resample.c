/*
 * onnx_ops_resample.c - Pad and Resize, whose ONNX forms take as inputs what Sentinel's ops take
 * as attributes: Pad's pads, constant_value and (opset 18) axes; Resize's scales or sizes and
 * (opset 18) axes. Those inputs must be known at import time. Resize covers nearest and linear
 * interpolation with the half_pixel, asymmetric, align_corners and pytorch_half_pixel coordinate
 * modes and every nearest_mode, on the H and W of NCHW tensors.
 */
#include <math.h>
#include <string.h>

#include "onnx_internal.h"

sn_status sn__ox_pad(sn__ox_ctx *c) {
    int x, out;
    char mode[32];
    sn_status st = sn__ox_in_tensor(c, 0, &x);
    if (st == SN_OK) st = sn__ox_attr_string(c, "mode", "constant", mode, sizeof mode);
    if (st != SN_OK) return st;
    const sn_shape *s = sn__ox_shape(c, x);
    const int r = s->rank;
    int64_t m = !strcmp(mode, "constant") ? 0 : !strcmp(mode, "reflect") ? 1 : !strcmp(mode, "edge") ? 2 : -1;
    if (m < 0) return sn__ox_unsupported(c, "mode '%s' (Sentinel pads constant, reflect or edge)", mode);
    const sn__ox_const *pk;
    if ((st = sn__ox_in_ints(c, 1, "pads", 2 * SN_MAX_RANK, false, &pk)) != SN_OK) return st;
    int64_t axes[SN_MAX_RANK], pads[2 * SN_MAX_RANK] = {0};
    int na = r;
    bool given = false;
    if (c->opset >= 18 && (st = sn__ox_axes(c, 0, 3, r, axes, &na, &given)) != SN_OK) return st;
    if (!given) {
        na = r;
        for (int i = 0; i < r; i++) axes[i] = i;
    }
    if (pk->numel != 2 * na)
        return sn__ox_fail(c, SN_ERR_FORMAT, "pads has %lld values; %d axes need %d",
                           (long long)pk->numel, na, 2 * na);
    for (int i = 0; i < na; i++) {
        int64_t b = pk->i[i], e = pk->i[na + i];
        if (b < 0 || e < 0) return sn__ox_unsupported(c, "negative pads (cropping)");
        if ((b || e) && axes[i] == 0 && sn__ox_batched(c, x))
            return sn__ox_unsupported(c, "padding the batch dim");
        pads[axes[i]] = b;
        pads[r + axes[i]] = e;
    }
    float value = 0.0f;
    sn__ox_value *cv = sn__ox_in(c, 2);
    if (cv) {
        if (!cv->c)
            return sn__ox_unsupported(c, "constant_value is computed at run time");
        if (cv->c->numel != 1) return sn__ox_fail(c, SN_ERR_FORMAT, "constant_value is not a scalar");
        value = cv->c->kind == SN__OX_FLOAT ? cv->c->f[0] : (float)cv->c->i[0];
    }
    sn_attr a[] = {sn_attr_ints("pads", pads, 2 * r), sn_attr_int("mode", m),
                   sn_attr_float("value", value)};
    st = sn__ox_emit(c, SN_OP_PAD, &x, 1, a, 3, sn__ox_out_name(c, 0), &out);
    return st == SN_OK ? sn__ox_out_tensor(c, 0, out) : st;
}

static int sn__pick(const char *v, const char *const *names, int n) {
    for (int i = 0; i < n; i++)
        if (!strcmp(v, names[i])) return i;
    return -1;
}

/* The scales or sizes input (k) as a full 4-vector; `axes` maps a shorter one. NULL `k_out`
 * means the input is absent or empty. */
static sn_status sn__resize_vec(sn__ox_ctx *c, int k, const int64_t *axes, int na,
                                const sn__ox_const **k_out) {
    sn__ox_value *v = sn__ox_in(c, k);
    *k_out = NULL;
    if (!v) return SN_OK;
    if (!v->c)
        return sn__ox_unsupported(c, "%s is computed at run time; Sentinel needs it constant",
                                  k == 2 ? "scales" : "sizes");
    if (v->c->numel == 0) return SN_OK;
    if (v->c->rank != 1 || v->c->numel != na || (k == 2) != (v->c->kind == SN__OX_FLOAT))
        return sn__ox_fail(c, SN_ERR_FORMAT, "%s must be a %s vector of %d values",
                           k == 2 ? "scales" : "sizes", k == 2 ? "float" : "int64", na);
    (void)axes;
    *k_out = v->c;
    return SN_OK;
}

sn_status sn__ox_resize(sn__ox_ctx *c) {
    static const char *const modes[] = {"nearest", "linear", "cubic"};
    static const char *const coords[] = {"half_pixel", "asymmetric", "align_corners",
                                         "pytorch_half_pixel"};
    static const char *const nearests[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    char mode[32], coord[40], nearest[32], keep[32];
    int64_t antialias = 0, axes[SN_MAX_RANK];
    int x, out, na = 4;
    bool given = false;
    sn_status st = sn__ox_in_tensor(c, 0, &x);
    if (st == SN_OK) st = sn__ox_attr_string(c, "mode", "nearest", mode, sizeof mode);
    if (st == SN_OK) st = sn__ox_attr_string(c, "coordinate_transformation_mode", "half_pixel", coord, sizeof coord);
    if (st == SN_OK) st = sn__ox_attr_string(c, "nearest_mode", "round_prefer_floor", nearest, sizeof nearest);
    if (st == SN_OK) st = sn__ox_attr_string(c, "keep_aspect_ratio_policy", "stretch", keep, sizeof keep);
    if (st == SN_OK) st = sn__ox_attr_int(c, "antialias", 0, &antialias);
    if (st != SN_OK) return st;
    const sn_shape *s = sn__ox_shape(c, x);
    if (s->rank != 4) return sn__ox_unsupported(c, "input of rank %d (Sentinel resizes NCHW)", s->rank);
    int im = sn__pick(mode, modes, 3), ic = sn__pick(coord, coords, 4), in = sn__pick(nearest, nearests, 4);
    if (im < 0 || im == 2) return sn__ox_unsupported(c, "mode '%s' (Sentinel: nearest, linear)", mode);
    if (ic < 0) return sn__ox_unsupported(c, "coordinate_transformation_mode '%s'", coord);
    if (in < 0) return sn__ox_unsupported(c, "nearest_mode '%s'", nearest);
    if (antialias) return sn__ox_unsupported(c, "antialias=1");
    if (strcmp(keep, "stretch")) return sn__ox_unsupported(c, "keep_aspect_ratio_policy '%s'", keep);
    if (c->opset >= 18) {
        const int64_t *a;
        int n;
        if ((st = sn__ox_attr_ints(c, "axes", SN_MAX_RANK, &a, &n)) != SN_OK) return st;
        if (a) {
            given = true;
            na = n;
            for (int i = 0; i < n; i++) {
                axes[i] = a[i];
                if (!sn__ox_norm_axis(&axes[i], 4))
                    return sn__ox_fail(c, SN_ERR_FORMAT, "axes[%d] is out of range", i);
            }
        }
    }
    if (!given)
        for (int i = 0; i < 4; i++) axes[i] = i;
    const sn__ox_const *sc, *sz;
    if ((st = sn__resize_vec(c, 2, axes, na, &sc)) != SN_OK) return st;
    if ((st = sn__resize_vec(c, 3, axes, na, &sz)) != SN_OK) return st;
    if (!sc == !sz)
        return sn__ox_fail(c, SN_ERR_FORMAT, "exactly one of scales and sizes must be given");
    float scales[4] = {1, 1, 1, 1};
    int64_t sizes[4] = {0, s->d[1], s->d[2], s->d[3]};
    for (int i = 0; i < na; i++) {
        int64_t ax = axes[i];
        if (sc) {
            scales[ax] = sc->f[i];
        } else {
            uint8_t sym = sz->sym ? sz->sym[i] : SN__OX_KNOWN;
            if (sym == SN__OX_BATCH && ax == 0) sizes[0] = 0;
            else if (sym != SN__OX_KNOWN) return sn__ox_unsupported(c, "sizes depend on the batch size");
            else sizes[ax] = sz->i[i];
        }
    }
    /* Sentinel's sizes[0] = 0 means "the input's N", which keeps a dynamic batch; a constant
     * N for a dynamic batch would only work at that one batch size. */
    if (sz && sizes[0] != 0 && sn__ox_batched(c, x))
        return sn__ox_unsupported(c, "sizes[0] is the constant %lld but the batch is dynamic",
                                  (long long)sizes[0]);
    if (sz && sizes[0] == s->d[0]) sizes[0] = 0;
    sn_attr a[4] = {sn_attr_int("mode", im), sn_attr_int("coord_mode", ic),
                    sn_attr_int("nearest_mode", in)};
    a[3] = sc ? sn_attr_floats("scales", scales, 4) : sn_attr_ints("sizes", sizes, 4);
    st = sn__ox_emit(c, SN_OP_RESIZE, &x, 1, a, 4, sn__ox_out_name(c, 0), &out);
    return st == SN_OK ? sn__ox_out_tensor(c, 0, out) : st;
}
