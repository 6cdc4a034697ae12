/*
 * preprocess.c - bilinear resize, centre crop, channel order and normalisation from RGB8 to a
 * model's f32 input (see preprocess.h).
 *
 * The resized image is never materialised: each output pixel maps straight back to the source,
 * through per-column and per-row tables of the two taps and the weight, so a crop costs only
 * what it keeps. Coordinates are computed in double (a float would misplace taps by ~1e-4 pixel
 * on large images); the blend itself is in float.
 */
#include "preprocess.h"

#include <math.h>
#include <stdlib.h>

#include "error.h"

sn_status sn_preprocess_validate(const sn_preprocess *p, sn_error *err) {
    if (p->width < 1 || p->height < 1 || p->width > SN_PREPROCESS_MAX_SIDE ||
        p->height > SN_PREPROCESS_MAX_SIDE)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         "preprocessing size %dx%d is outside 1..%d", p->width, p->height,
                         SN_PREPROCESS_MAX_SIDE);
    if (p->resize != SN_RESIZE_STRETCH && p->resize != SN_RESIZE_SHORTER_CROP)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "unknown resize mode %d", (int)p->resize);
    if (p->resize == SN_RESIZE_SHORTER_CROP &&
        (p->resize_shorter < p->width || p->resize_shorter < p->height ||
         p->resize_shorter > SN_PREPROCESS_MAX_SIDE))
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         "resize_shorter %d must be at least the %dx%d crop and at most %d",
                         p->resize_shorter, p->width, p->height, SN_PREPROCESS_MAX_SIDE);
    if (p->channels != SN_CHANNELS_RGB && p->channels != SN_CHANNELS_BGR)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "unknown channel order %d",
                         (int)p->channels);
    for (int c = 0; c < 3; c++)
        if (!isfinite(p->mean[c]) || !isfinite(p->std[c]) || p->std[c] == 0.0f)
            return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                             "channel %d: mean %g and std %g must be finite, std non-zero", c,
                             (double)p->mean[c], (double)p->std[c]);
    return SN_OK;
}

sn_status sn_preprocess_resolve(const sn_preprocess *model, int64_t in_h, int64_t in_w,
                                sn_preprocess *out, sn_error *err) {
    if (in_h < 1 || in_w < 1 || in_h > SN_PREPROCESS_MAX_SIDE || in_w > SN_PREPROCESS_MAX_SIDE)
        return sn_errorf(err, SN_ERR_SHAPE, "image input size %lldx%lld is outside 1..%d",
                         (long long)in_w, (long long)in_h, SN_PREPROCESS_MAX_SIDE);
    if (model && model->present) {
        *out = *model;
        if (out->width != in_w || out->height != in_h)
            return sn_errorf(err, SN_ERR_SHAPE,
                             "the model's preprocessing makes %dx%d images but its input is "
                             "%lldx%lld", out->width, out->height, (long long)in_w,
                             (long long)in_h);
        return sn_preprocess_validate(out, err);
    }
    sn_preprocess d = {0};
    d.present = 0;
    d.width = (int)in_w;
    d.height = (int)in_h;
    d.resize = SN_RESIZE_STRETCH;
    d.channels = SN_CHANNELS_RGB;
    for (int c = 0; c < 3; c++) {
        d.mean[c] = 0.0f;
        d.std[c] = 1.0f;
    }
    *out = d;
    return SN_OK;
}

/* Python's round() of r/2 (half to even), which torchvision's CenterCrop uses for offsets. */
static int sn__half_round_even(int r) {
    int lo = r / 2;
    if (r % 2 == 0) return lo;
    return lo % 2 == 0 ? lo : lo + 1;
}

void sn_preprocess_geometry(const sn_preprocess *p, int src_w, int src_h, int *rw, int *rh,
                            int *x0, int *y0) {
    if (p->resize == SN_RESIZE_STRETCH) {
        *rw = p->width;
        *rh = p->height;
        *x0 = *y0 = 0;
        return;
    }
    /* Capped so a 1-pixel-high strip cannot overflow an int; the cap only shifts the crop. */
    const int64_t cap = INT64_C(1) << 30;
    int64_t s = p->resize_shorter, l;
    if (src_w <= src_h) {
        l = s * src_h / src_w;
        *rw = (int)s;
        *rh = (int)(l < cap ? l : cap);
    } else {
        l = s * src_w / src_h;
        *rh = (int)s;
        *rw = (int)(l < cap ? l : cap);
    }
    *x0 = sn__half_round_even(*rw - p->width);
    *y0 = sn__half_round_even(*rh - p->height);
}

/* Taps and weights for `n` output positions starting at resized index `first`, resized size
 * `resized`, source size `src`. */
static void sn__taps(int n, int first, int resized, int src, int *i0, int *i1, float *f) {
    double scale = (double)src / resized;
    for (int i = 0; i < n; i++) {
        double s = ((double)(first + i) + 0.5) * scale - 0.5;
        if (s < 0) s = 0;
        if (s > src - 1) s = src - 1;
        int a = (int)s;
        i0[i] = a;
        i1[i] = a + 1 < src ? a + 1 : a;
        f[i] = (float)(s - a);
    }
}

sn_status sn_preprocess_image(const sn_preprocess *p, sn_layout layout, const uint8_t *rgb,
                              int width, int height, float *dst, sn_error *err) {
    return sn_preprocess_image_strided(p, layout, rgb, width, height,
                                       width > 0 ? (size_t)width * 3 : 0, dst, err);
}

sn_status sn_preprocess_image_strided(const sn_preprocess *p, sn_layout layout,
                                      const uint8_t *rgb, int width, int height, size_t stride,
                                      float *dst, sn_error *err) {
    if (width < 1 || height < 1 || !rgb || !dst)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "empty %dx%d image", width, height);
    if (stride < (size_t)width * 3)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         "row stride %zu is less than the %zu bytes of a %d-pixel row", stride,
                         (size_t)width * 3, width);
    int W = p->width, H = p->height, rw, rh, cx, cy;
    sn_preprocess_geometry(p, width, height, &rw, &rh, &cx, &cy);
    int *xi = malloc(sizeof(int) * 2 * ((size_t)W + H));
    float *fw = malloc(sizeof(float) * ((size_t)W + H));
    if (!xi || !fw) {
        free(xi);
        free(fw);
        return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory for resize tables");
    }
    int *x0 = xi, *x1 = xi + W, *y0 = xi + 2 * W, *y1 = xi + 2 * W + H;
    float *fx = fw, *fy = fw + W;
    sn__taps(W, cx, rw, width, x0, x1, fx);
    sn__taps(H, cy, rh, height, y0, y1, fy);

    float scale[3], bias[3];
    int src_c[3];
    for (int c = 0; c < 3; c++) {
        scale[c] = (float)(1.0 / (255.0 * p->std[c]));
        bias[c] = (float)(-(double)p->mean[c] / p->std[c]);
        src_c[c] = p->channels == SN_CHANNELS_BGR ? 2 - c : c;
    }
    size_t plane = (size_t)W * H;
    for (int y = 0; y < H; y++) {
        const uint8_t *r0 = rgb + (size_t)y0[y] * stride, *r1 = rgb + (size_t)y1[y] * stride;
        float wy = fy[y];
        for (int x = 0; x < W; x++) {
            size_t a = (size_t)x0[x] * 3, b = (size_t)x1[x] * 3;
            float wx = fx[x];
            for (int c = 0; c < 3; c++) {
                int s = src_c[c];
                float top = r0[a + s] + wx * ((float)r0[b + s] - r0[a + s]);
                float bot = r1[a + s] + wx * ((float)r1[b + s] - r1[a + s]);
                float v = top + wy * (bot - top);
                float out = v * scale[c] + bias[c];
                if (layout == SN_LAYOUT_NHWC)
                    dst[((size_t)y * W + x) * 3 + c] = out;
                else
                    dst[(size_t)c * plane + (size_t)y * W + x] = out;
            }
        }
    }
    free(xi);
    free(fw);
    return SN_OK;
}
