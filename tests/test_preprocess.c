/*
 * test_preprocess.c - image preprocessing (loader/preprocess.h) against a straightforward
 * double-precision reference of the same bilinear resize, centre crop, channel order and
 * normalisation, on random images of random sizes (and the same images with padded rows, which
 * must give the same floats bit for bit); the crop geometry on known cases; and the validation
 * of preprocessing metadata.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "preprocess.h"
#include "test_support.h"

/* The reference: written from the description in preprocess.h, not from preprocess.c. */
static void ref_geometry(const sn_preprocess *p, int w, int h, int *rw, int *rh, int *x0,
                         int *y0) {
    if (p->resize == SN_RESIZE_STRETCH) {
        *rw = p->width, *rh = p->height, *x0 = *y0 = 0;
        return;
    }
    int s = p->resize_shorter;
    if (w <= h)
        *rw = s, *rh = (int)floor((double)s * h / w);
    else
        *rh = s, *rw = (int)floor((double)s * w / h);
    /* torchvision: int(round((size - crop) / 2.0)), Python rounding half to even = rint. */
    *x0 = (int)rint((*rw - p->width) / 2.0);
    *y0 = (int)rint((*rh - p->height) / 2.0);
}

static double ref_coord(int i, int offset, int resized, int src, int *lo, int *hi) {
    double s = (i + offset + 0.5) * (double)src / resized - 0.5;
    s = fmin(fmax(s, 0.0), src - 1.0);
    *lo = (int)floor(s);
    *hi = *lo + 1 < src ? *lo + 1 : *lo;
    return s - *lo;
}

static double *reference(const sn_preprocess *p, sn_layout layout, const uint8_t *rgb, int w,
                         int h) {
    int W = p->width, H = p->height, rw, rh, cx, cy;
    ref_geometry(p, w, h, &rw, &rh, &cx, &cy);
    double *out = malloc(sizeof(double) * 3 * W * H);
    cr_assert(out);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int yl, yh, xl, xh;
            double wy = ref_coord(y, cy, rh, h, &yl, &yh);
            double wx = ref_coord(x, cx, rw, w, &xl, &xh);
            for (int c = 0; c < 3; c++) {
                int s = p->channels == SN_CHANNELS_BGR ? 2 - c : c;
#define PX(yy, xx) ((double)rgb[((size_t)(yy) * w + (xx)) * 3 + s])
                double v = (1 - wy) * ((1 - wx) * PX(yl, xl) + wx * PX(yl, xh)) +
                           wy * ((1 - wx) * PX(yh, xl) + wx * PX(yh, xh));
#undef PX
                double o = (v / 255.0 - p->mean[c]) / p->std[c];
                size_t at = layout == SN_LAYOUT_NHWC ? ((size_t)y * W + x) * 3 + c
                                                     : (size_t)c * W * H + (size_t)y * W + x;
                out[at] = o;
            }
        }
    return out;
}

static void check_case(sn_rng *r, sn_resize_mode mode) {
    sn_preprocess p = {0};
    p.present = 1;
    p.resize = mode;
    p.width = 1 + (int)(sn_rng_u64(r) % 64);
    p.height = 1 + (int)(sn_rng_u64(r) % 64);
    int side = p.width > p.height ? p.width : p.height;
    p.resize_shorter = side + (int)(sn_rng_u64(r) % 40);
    p.channels = (sn_rng_u64(r) & 1) ? SN_CHANNELS_BGR : SN_CHANNELS_RGB;
    for (int c = 0; c < 3; c++) {
        p.mean[c] = (float)sn_rng_uniform(r, -1, 1);
        p.std[c] = (float)sn_rng_uniform(r, 0.1, 2);
    }
    sn_layout layout = (sn_rng_u64(r) & 1) ? SN_LAYOUT_NHWC : SN_LAYOUT_NCHW;
    /* Sources smaller and larger than the output, thin strips included. */
    int w = 1 + (int)(sn_rng_u64(r) % 200), h = 1 + (int)(sn_rng_u64(r) % 200);
    if (sn_rng_u64(r) % 8 == 0) h = 1 + (int)(sn_rng_u64(r) % 3);
    uint8_t *rgb = malloc((size_t)w * h * 3);
    for (size_t i = 0; i < (size_t)w * h * 3; i++) rgb[i] = (uint8_t)sn_rng_u64(r);
    size_t n = (size_t)3 * p.width * p.height;
    float *got = malloc(n * sizeof(float));
    sn_error err = {0};
    cr_assert_eq(sn_preprocess_validate(&p, &err), SN_OK, "%s", err.message);
    cr_assert_eq(sn_preprocess_image(&p, layout, rgb, w, h, got, &err), SN_OK, "%s",
                 err.message);
    double *want = reference(&p, layout, rgb, w, h);
    double rms = 0;
    for (size_t i = 0; i < n; i++) rms += want[i] * want[i];
    rms = sqrt(rms / (double)n);
    double worst;
    long bad = sn_compare_f32(got, want, n, 1e-5, 1e-5 * fmax(rms, 1e-3), &worst);
    cr_assert_eq(bad, -1,
                 "%s %dx%d -> %dx%d (shorter %d, %s, %s): element %ld is %.8g, want %.8g",
                 mode == SN_RESIZE_STRETCH ? "stretch" : "shorter+crop", w, h, p.width,
                 p.height, p.resize_shorter, p.channels == SN_CHANNELS_BGR ? "BGR" : "RGB",
                 layout == SN_LAYOUT_NHWC ? "NHWC" : "NCHW", bad, bad >= 0 ? got[bad] : 0.0,
                 bad >= 0 ? want[bad] : 0.0);
    /* The same rows further apart, with random bytes between them: the same floats, bit for
     * bit (sn_preprocess_image_strided). */
    size_t row = (size_t)w * 3, stride = row + 1 + sn_rng_u64(r) % 13;
    uint8_t *padded = malloc(stride * h);
    float *got_strided = malloc(n * sizeof(float));
    cr_assert(padded && got_strided);
    for (size_t i = 0; i < stride * h; i++) padded[i] = (uint8_t)sn_rng_u64(r);
    for (int y = 0; y < h; y++) memcpy(padded + stride * y, rgb + row * y, row);
    cr_assert_eq(sn_preprocess_image_strided(&p, layout, padded, w, h, stride, got_strided, &err),
                 SN_OK, "%s", err.message);
    cr_assert_eq(memcmp(got, got_strided, n * sizeof(float)), 0,
                 "%dx%d with a stride of %zu bytes differs from tight rows", w, h, stride);
    free(got_strided);
    free(padded);
    free(want);
    free(got);
    free(rgb);
}

Test(preprocess, stretch_matches_double_reference) {
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("stretch"));
    for (int t = 0; t < 60; t++) check_case(&r, SN_RESIZE_STRETCH);
}

Test(preprocess, shorter_side_crop_matches_double_reference) {
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("shorter_crop"));
    for (int t = 0; t < 60; t++) check_case(&r, SN_RESIZE_SHORTER_CROP);
}

Test(preprocess, same_size_stretch_is_pixel_over_255) {
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("identity"));
    int w = 37, h = 23;
    uint8_t rgb[37 * 23 * 3];
    for (size_t i = 0; i < sizeof rgb; i++) rgb[i] = (uint8_t)sn_rng_u64(&r);
    sn_preprocess p;
    sn_error err = {0};
    cr_assert_eq(sn_preprocess_resolve(NULL, h, w, &p, &err), SN_OK, "%s", err.message);
    float out[37 * 23 * 3];
    cr_assert_eq(sn_preprocess_image(&p, SN_LAYOUT_NCHW, rgb, w, h, out, &err), SN_OK);
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < w * h; i++) {
            double want = rgb[i * 3 + c] / 255.0;
            cr_assert(fabs(out[c * w * h + i] - want) <= 1e-6 * fmax(want, 1e-3),
                      "channel %d pixel %d: %.9g, want %.9g", c, i, out[c * w * h + i], want);
        }
}

Test(preprocess, stride_shorter_than_a_row_is_refused) {
    sn_preprocess p;
    sn_error err = {0};
    cr_assert_eq(sn_preprocess_resolve(NULL, 4, 4, &p, &err), SN_OK, "%s", err.message);
    uint8_t rgb[5 * 3 * 3] = {0};
    float out[3 * 4 * 4];
    cr_assert_eq(sn_preprocess_image_strided(&p, SN_LAYOUT_NCHW, rgb, 5, 3, 14, out, &err),
                 SN_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(err.message, "row stride 14 is less than the 15 bytes"), "%s", err.message);
    cr_assert_eq(sn_preprocess_image_strided(&p, SN_LAYOUT_NCHW, rgb, 5, 3, 15, out, &err), SN_OK,
                 "%s", err.message);
}

Test(preprocess, crop_geometry_known_cases) {
    sn_preprocess p = {1, 224, 224, 256, SN_RESIZE_SHORTER_CROP, SN_CHANNELS_RGB,
                       {0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}};
    int rw, rh, x0, y0;
    /* 640x480 -> 341x256 (341.33 truncated), crop x at round(58.5) = 58, y at 16. */
    sn_preprocess_geometry(&p, 640, 480, &rw, &rh, &x0, &y0);
    cr_assert(rw == 341 && rh == 256 && x0 == 58 && y0 == 16, "%d %d %d %d", rw, rh, x0, y0);
    /* Portrait 375x500 -> 256x341, crop y at 58. */
    sn_preprocess_geometry(&p, 375, 500, &rw, &rh, &x0, &y0);
    cr_assert(rw == 256 && rh == 341 && x0 == 16 && y0 == 58, "%d %d %d %d", rw, rh, x0, y0);
    /* 259 wide: round(17.5) = 18 (half to even). */
    p.resize_shorter = 224;
    sn_preprocess_geometry(&p, 259, 224, &rw, &rh, &x0, &y0);
    cr_assert(rw == 259 && rh == 224 && x0 == 18 && y0 == 0, "%d %d %d %d", rw, rh, x0, y0);
    /* A 1-pixel-high strip does not overflow. */
    sn_preprocess_geometry(&p, 60000000, 1, &rw, &rh, &x0, &y0);
    cr_assert(rw > 0 && rh == 224 && x0 >= 0, "%d %d %d %d", rw, rh, x0, y0);
}

Test(preprocess, resolve_and_validate) {
    sn_preprocess out, meta = {1, 224, 224, 256, SN_RESIZE_SHORTER_CROP, SN_CHANNELS_BGR,
                               {0.4f, 0.5f, 0.6f}, {0.2f, 0.3f, 0.4f}};
    sn_error err = {0};
    /* No metadata: stretch to the input, mean 0, std 1. */
    sn_preprocess none = {0};
    cr_assert_eq(sn_preprocess_resolve(&none, 32, 48, &out, &err), SN_OK);
    cr_assert(out.width == 48 && out.height == 32 && out.resize == SN_RESIZE_STRETCH);
    cr_assert(out.channels == SN_CHANNELS_RGB);
    for (int c = 0; c < 3; c++) cr_assert(out.mean[c] == 0.0f && out.std[c] == 1.0f);
    /* Metadata is used as is when it agrees with the input. */
    cr_assert_eq(sn_preprocess_resolve(&meta, 224, 224, &out, &err), SN_OK, "%s", err.message);
    cr_assert_eq(memcmp(&out, &meta, sizeof out), 0);
    cr_assert_eq(sn_preprocess_resolve(&meta, 256, 256, &out, &err), SN_ERR_SHAPE);
    cr_assert(strstr(err.message, "224x224"), "%s", err.message);
    cr_assert_eq(sn_preprocess_resolve(NULL, 0, 10, &out, &err), SN_ERR_SHAPE);

    sn_preprocess bad = meta;
    bad.std[1] = 0.0f;
    cr_assert_eq(sn_preprocess_validate(&bad, &err), SN_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(err.message, "std"), "%s", err.message);
    bad = meta;
    bad.mean[2] = NAN;
    cr_assert_eq(sn_preprocess_validate(&bad, &err), SN_ERR_INVALID_ARGUMENT);
    bad = meta;
    bad.resize_shorter = 200;
    cr_assert_eq(sn_preprocess_validate(&bad, &err), SN_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(err.message, "resize_shorter"), "%s", err.message);
    bad = meta;
    bad.width = 0;
    cr_assert_eq(sn_preprocess_validate(&bad, &err), SN_ERR_INVALID_ARGUMENT);
    bad = meta;
    bad.resize = (sn_resize_mode)7;
    cr_assert_eq(sn_preprocess_validate(&bad, &err), SN_ERR_INVALID_ARGUMENT);
    bad = meta;
    bad.channels = (sn_channel_order)3;
    cr_assert_eq(sn_preprocess_validate(&bad, &err), SN_ERR_INVALID_ARGUMENT);
}
