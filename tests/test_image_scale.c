/*
 * test_image_scale.c - reduced-scale JPEG decoding (libjpeg-turbo's DCT scaling, image.h's
 * sn_image_decode_options): the scale chosen is the smallest of 1/8..8/8 that keeps the image
 * at least as large as the preprocessing needs (checked as a property: it fits, the next
 * smaller one would not), the pixels at that scale preprocess to nearly what the full decode
 * gives, every kind of JPEG scales, and the pixel limit still applies to the declared size.
 */
#define _USE_MATH_DEFINES
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "image_encode.h"
#include "preprocess.h"
#include "test_support.h"

/* A side at num/8: rounded to the nearest pixel, halves up, at least 1 (image.h). */
static int side_at(int side, int num) {
    int s = (side * num + 4) / 8;
    return s < 1 ? 1 : s;
}

/* Whether a w x h image meets the options' minimum size. */
static int fits(const sn_image_decode_options *o, int w, int h) {
    return w >= o->min_width && h >= o->min_height && (w < h ? w : h) >= o->min_shorter;
}

static sn_preprocess pre_stretch(int w, int h) {
    sn_preprocess p = {1, w, h, 0, SN_RESIZE_STRETCH, SN_CHANNELS_RGB, {0, 0, 0}, {1, 1, 1}};
    return p;
}

static sn_preprocess pre_crop(int side, int shorter) {
    sn_preprocess p = {1, side, side, shorter, SN_RESIZE_SHORTER_CROP, SN_CHANNELS_RGB,
                       {0, 0, 0}, {1, 1, 1}};
    return p;
}

Test(image_scale, the_smallest_scale_that_still_fits) {
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("scale_choice"));
    for (int t = 0; t < 2000; t++) {
        int w = 1 + (int)(sn_rng_u64(&r) % 5000), h = 1 + (int)(sn_rng_u64(&r) % 5000);
        sn_preprocess p = t % 2 ? pre_stretch(1 + (int)(sn_rng_u64(&r) % 400),
                                              1 + (int)(sn_rng_u64(&r) % 400))
                                : pre_crop(224, 224 + (int)(sn_rng_u64(&r) % 100));
        sn_image_decode_options o;
        sn_image_options_for_preprocess(&o, &p, 0);
        if (t % 2)
            cr_assert(o.min_width == p.width && o.min_height == p.height && !o.min_shorter);
        else
            cr_assert(o.min_shorter == p.resize_shorter && !o.min_width && !o.min_height);
        int num = sn_image_jpeg_scale(&o, w, h, 1);
        cr_assert(num >= 1 && num <= 8);
        int sw = side_at(w, num), sh = side_at(h, num);
        if (fits(&o, w, h)) {
            cr_assert(fits(&o, sw, sh), "%dx%d at %d/8 = %dx%d is too small", w, h, num, sw, sh);
            if (num > 1)
                cr_assert(!fits(&o, side_at(w, num - 1), side_at(h, num - 1)),
                          "%dx%d: %d/8 fits, %d/8 was chosen", w, h, num - 1, num);
        } else {
            cr_assert_eq(num, 8, "%dx%d is already too small, yet %d/8", w, h, num);
        }
        /* A quarter turn (orientations 5-8) swaps the sides the minimum applies to. */
        cr_assert_eq(sn_image_jpeg_scale(&o, w, h, 6), sn_image_jpeg_scale(&o, h, w, 1));
    }
    /* No minimum: in full. */
    sn_image_decode_options none = SN_IMAGE_DECODE_OPTIONS_INIT;
    cr_assert_eq(sn_image_jpeg_scale(&none, 4000, 3000, 1), 8);
    cr_assert_eq(sn_image_jpeg_scale(NULL, 4000, 3000, 1), 8);
}

/* A picture with detail a 224-pixel model input holds well: sines of 1 to 4 periods across
 * the image. The two paths differ in geometry, not in pixels: the reduced image is a whole
 * number of pixels, so its proportions are those of the full image only to within half a
 * pixel, and the shorter-side resize truncates its longer side from slightly different
 * ratios; both move output pixels by a fraction of a pixel, which shows in proportion to the
 * picture's detail. (Much finer detail also aliases in the full-size path, whose bilinear resize
 * has no antialiasing filter, while the scaled IDCT averages it away.) */
static uint8_t *band_limited_rgb(sn_rng *r, int w, int h) {
    return sn_test_sines_rgb(r, w, h, 2 * M_PI / w, 8 * M_PI / w, 2 * M_PI / h, 8 * M_PI / h);
}

/* The model input both decodes give (floats in 0..1: mean 0, std 1). */
static float *preprocessed(const sn_preprocess *p, const sn_image *img) {
    float *x = malloc(sizeof(float) * 3 * (size_t)p->width * p->height);
    sn_error err = {0};
    cr_assert_eq(sn_preprocess_image(p, SN_LAYOUT_NCHW, img->pixels, img->width, img->height, x,
                                     &err), SN_OK, "%s", err.message);
    return x;
}

Test(image_scale, scaled_decode_is_close_to_the_full_decode) {
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("scale_close"));
    int chosen_below_full = 0;
    double most_mean = 0, most_worst = 0;
    for (int t = 0; t < 12; t++) {
        int w = 500 + (int)(sn_rng_u64(&r) % 1500), h = 500 + (int)(sn_rng_u64(&r) % 1500);
        uint8_t *px = band_limited_rgb(&r, w, h);
        int kind = t % 3; /* RGB baseline, RGB progressive, grey */
        uint8_t *grey = NULL;
        if (kind == 2) {
            grey = malloc((size_t)w * h);
            for (size_t i = 0; i < (size_t)w * h; i++) grey[i] = px[3 * i + 1];
        }
        size_t size;
        uint8_t *jpg = sn_test_jpeg(kind == 2 ? grey : px, w, h, kind == 2 ? 1 : 3, kind == 1,
                                    92, NULL, 0, &size);
        sn_preprocess p = t % 2 ? pre_stretch(160 + (int)(sn_rng_u64(&r) % 100),
                                              160 + (int)(sn_rng_u64(&r) % 100))
                                : pre_crop(224, 224 + (int)(sn_rng_u64(&r) % 64));
        sn_image_decode_options o;
        sn_image_options_for_preprocess(&o, &p, 0);
        sn_image full = {0}, small = {0};
        sn_error err = {0};
        cr_assert_eq(sn_image_decode(jpg, size, 0, &full, &err), SN_OK, "%s", err.message);
        cr_assert_eq(sn_image_decode_ex(jpg, size, &o, &small, &err), SN_OK, "%s", err.message);
        int num = sn_image_jpeg_scale(&o, w, h, 1);
        chosen_below_full += num < 8;
        cr_assert(small.scale_num == num && small.width == side_at(w, num) &&
                  small.height == side_at(h, num), "%dx%d: got %dx%d at %d/8, want %d/8", w, h,
                  small.width, small.height, small.scale_num, num);
        cr_assert(small.full_width == w && small.full_height == h);
        cr_assert(fits(&o, small.width, small.height));
        float *a = preprocessed(&p, &full), *b = preprocessed(&p, &small);
        size_t n = 3 * (size_t)p.width * p.height;
        double sum = 0, worst = 0;
        for (size_t i = 0; i < n; i++) {
            double d = fabs((double)a[i] - b[i]);
            sum += d;
            worst = d > worst ? d : worst;
        }
        /* Measured over seeds 1..300 (SN_TEST_SEED=s test_image_scale --verbose --filter
         * 'image_scale/scaled_decode*' logs each run's largest figures): per image, the mean
         * |diff| reached 3.94/255 and the worst 14.8/255, and seeds 66 and 88 fail the mean
         * bound of 4/255 this test first had (4.20 and 4.16 on a 2/8 decode for a shorter-side
         * crop): it failed about 1 run in 150. The bound is 5/255, above every one of the 3,600
         * measured images; the cause is the reduced image's whole-pixel size shifting the crop
         * geometry (exact only if preprocessing mapped the full-size geometry onto it). */
        cr_assert_lt(sum / (double)n, 5.0 / 255, "%dx%d at %d/8 -> %dx%d: mean |diff| %.2f/255",
                     w, h, num, p.width, p.height, sum / (double)n * 255);
        cr_assert_lt(worst, 16.0 / 255, "%dx%d at %d/8: worst |diff| %.1f/255", w, h, num,
                     worst * 255);
        most_mean = fmax(most_mean, sum / (double)n * 255);
        most_worst = fmax(most_worst, worst * 255);
        free(a);
        free(b);
        sn_image_free(&full);
        sn_image_free(&small);
        free(jpg);
        free(grey);
        free(px);
    }
    cr_assert_gt(chosen_below_full, 6, "only %d of 12 images were decoded below full size",
                 chosen_below_full);
    cr_log_info("scaled vs full decode over 12 images: mean |diff| at most %.2f/255, worst "
                "%.1f/255", most_mean, most_worst);
}

Test(image_scale, cmyk_scales_and_png_ignores_the_minimum) {
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("scale_cmyk"));
    int w = 200 + (int)(sn_rng_u64(&r) % 100), h = 200 + (int)(sn_rng_u64(&r) % 100);
    uint8_t *rgb = sn_test_smooth_rgb(&r, w, h);
    /* Adobe CMYK with no black ink (k = 255 stored): the inverted C, M, Y are R, G, B. */
    uint8_t *cmyk = malloc((size_t)w * h * 4);
    for (size_t i = 0; i < (size_t)w * h; i++) {
        memcpy(cmyk + 4 * i, rgb + 3 * i, 3);
        cmyk[4 * i + 3] = 255;
    }
    size_t size;
    uint8_t *jpg = sn_test_jpeg(cmyk, w, h, 4, 0, 95, NULL, 0, &size);
    sn_image_decode_options o = SN_IMAGE_DECODE_OPTIONS_INIT;
    o.min_shorter = 50; /* 2/8 of 200..299 is 50..75 */
    sn_image full = {0}, small = {0};
    sn_error err = {0};
    cr_assert_eq(sn_image_decode(jpg, size, 0, &full, &err), SN_OK, "%s", err.message);
    cr_assert_gt(sn_test_psnr_u8(full.pixels, rgb, (size_t)w * h * 3), 35.0);
    cr_assert_eq(sn_image_decode_ex(jpg, size, &o, &small, &err), SN_OK, "%s", err.message);
    cr_assert(small.scale_num == 2 && small.width == side_at(w, 2) &&
              small.height == side_at(h, 2), "%dx%d at %d/8", small.width, small.height,
              small.scale_num);
    /* Each scaled pixel is close to the mean of the 4x4 full-size block it covers. */
    double se = 0;
    size_t cnt = 0;
    for (int y = 0; y + 1 < small.height; y++)
        for (int x = 0; x + 1 < small.width; x++)
            for (int c = 0; c < 3; c++) {
                double m = 0;
                for (int dy = 0; dy < 4; dy++)
                    for (int dx = 0; dx < 4; dx++)
                        m += full.pixels[((size_t)(4 * y + dy) * w + 4 * x + dx) * 3 + c];
                double d = small.pixels[((size_t)y * small.width + x) * 3 + c] - m / 16;
                se += d * d;
                cnt++;
            }
    cr_assert_lt(sqrt(se / (double)cnt), 4.0, "RMS %.2f from the 4x4 block means",
                 sqrt(se / (double)cnt));
    sn_image_free(&full);
    sn_image_free(&small);
    free(jpg);
    /* PNG has no reduced decode: always in full. */
    uint8_t *png = sn_test_png(rgb, w, h, 2, 8, NULL, 0, &size);
    cr_assert_eq(sn_image_decode_ex(png, size, &o, &small, &err), SN_OK, "%s", err.message);
    cr_assert(small.width == w && small.height == h && small.scale_num == 8);
    cr_assert_eq(memcmp(small.pixels, rgb, (size_t)w * h * 3), 0);
    sn_image_free(&small);
    free(png);
    free(cmyk);
    free(rgb);
}

Test(image_scale, pixel_limit_applies_to_the_declared_size) {
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("scale_limit"));
    uint8_t *px = sn_test_smooth_rgb(&r, 64, 48);
    size_t size;
    uint8_t *jpg = sn_test_jpeg(px, 64, 48, 3, 0, 90, NULL, 0, &size);
    sn_image_decode_options o = SN_IMAGE_DECODE_OPTIONS_INIT;
    o.min_shorter = 6; /* 1/8 would do: 8x6 pixels */
    o.max_pixels = 64 * 48 - 1;
    sn_image img = {0};
    sn_error err = {0};
    /* The limit is on what the file declares, not on the reduced decode. */
    cr_assert_neq(sn_image_decode_ex(jpg, size, &o, &img, &err), SN_OK);
    cr_assert(strstr(err.message, "image is 64x48, over the 3071-pixel limit"), "%s",
              err.message);
    cr_assert_null(img.pixels);
    o.max_pixels = 64 * 48;
    cr_assert_eq(sn_image_decode_ex(jpg, size, &o, &img, &err), SN_OK, "%s", err.message);
    cr_assert(img.scale_num == 1 && img.width == 8 && img.height == 6);
    sn_image_free(&img);
    /* A header declaring 65000x65000, at any scale. */
    for (size_t i = 2; i + 8 < size; i++)
        if (jpg[i] == 0xff && jpg[i + 1] == 0xc0) {
            jpg[i + 5] = jpg[i + 7] = 65000 >> 8;
            jpg[i + 6] = jpg[i + 8] = 65000 & 0xff;
            break;
        }
    o.max_pixels = 0;
    o.min_shorter = 224;
    cr_assert_eq(sn_image_decode_ex(jpg, size, &o, &img, &err), SN_ERR_OUT_OF_MEMORY);
    cr_assert(strstr(err.message, "image is 65000x65000, over the 67108864-pixel limit"), "%s",
              err.message);
    free(jpg);
    free(px);
}

Test(image_scale, truncated_files_fail_at_reduced_scale_too) {
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("scale_truncated"));
    for (int prog = 0; prog < 2; prog++) {
        uint8_t *px = sn_test_smooth_rgb(&r, 97, 75);
        size_t size;
        uint8_t *jpg = sn_test_jpeg(px, 97, 75, 3, prog, 90, NULL, 0, &size);
        sn_image_decode_options o = SN_IMAGE_DECODE_OPTIONS_INIT;
        o.min_width = o.min_height = 10;
        for (size_t cut = 3; cut < size; cut += 1 + size / 60) {
            sn_image img = {0};
            sn_error err = {0};
            cr_assert_neq(sn_image_decode_ex(jpg, cut, &o, &img, &err), SN_OK,
                          "%s cut to %zu of %zu decoded", prog ? "progressive" : "baseline",
                          cut, size);
            cr_assert_null(img.pixels);
            cr_assert(strstr(err.message, "JPEG"), "%s", err.message);
        }
        free(jpg);
        free(px);
    }
}
