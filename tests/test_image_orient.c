/*
 * test_image_orient.c - EXIF orientation of JPEG files (loader/image_orient.c): for each of the
 * 8 orientations, in little- and big-endian EXIF, a picture of randomly coloured blocks is
 * stored the way a camera would store it (built here from the EXIF specification's table of
 * where row 0 and column 0 go), and the decoder must hand back the upright picture, in full and
 * at a reduced DCT scale; broken or odd EXIF data never fails an image and means "as stored".
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "image_encode.h"
#include "test_support.h"

/* Upright picture: BW x BH blocks of B x B pixels. B = 16 keeps every block on whole 4:2:0
 * MCUs, so JPEG keeps each block's colour inside it. */
enum { B = 16, BW = 3, BH = 2 };

/* Where stored row 0 and column 0 land in the upright picture (EXIF 2.32, Orientation). */
typedef enum { TOP, BOTTOM, LEFT, RIGHT } side;
static const side row0[9] = {TOP, TOP, TOP, BOTTOM, BOTTOM, LEFT, RIGHT, RIGHT, LEFT};
static const side col0[9] = {LEFT, LEFT, RIGHT, RIGHT, LEFT, TOP, TOP, BOTTOM, BOTTOM};

/* The stored pixels for an upright picture (uw x uh) and an orientation: each stored (sx, sy)
 * takes the upright pixel the table sends it to. */
static uint8_t *store(const uint8_t *up, int uw, int uh, int o, int *sw, int *sh) {
    int transposed = row0[o] == LEFT || row0[o] == RIGHT;
    *sw = transposed ? uh : uw;
    *sh = transposed ? uw : uh;
    uint8_t *s = malloc((size_t)uw * uh * 3);
    cr_assert(s);
    for (int sy = 0; sy < *sh; sy++)
        for (int sx = 0; sx < *sw; sx++) {
            int x, y;
            if (!transposed) {
                y = row0[o] == TOP ? sy : uh - 1 - sy;
                x = col0[o] == LEFT ? sx : uw - 1 - sx;
            } else {
                x = row0[o] == LEFT ? sy : uw - 1 - sy;
                y = col0[o] == TOP ? sx : uh - 1 - sx;
            }
            memcpy(s + ((size_t)sy * *sw + sx) * 3, up + ((size_t)y * uw + x) * 3, 3);
        }
    return s;
}

/* BW*BH colours, far apart from each other: a shuffle of saturated corners of the RGB cube. */
static void block_colours(sn_rng *r, uint8_t colours[BW * BH][3]) {
    static const uint8_t corners[8][3] = {{230, 20, 20},  {20, 230, 20},  {20, 20, 230},
                                          {230, 230, 20}, {20, 230, 230}, {230, 20, 230},
                                          {235, 235, 235}, {20, 20, 20}};
    int idx[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    for (int i = 7; i > 0; i--) {
        int j = (int)(sn_rng_u64(r) % (uint64_t)(i + 1)), t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    for (int b = 0; b < BW * BH; b++) memcpy(colours[b], corners[idx[b]], 3);
}

static uint8_t *upright_picture(const uint8_t colours[BW * BH][3]) {
    int uw = BW * B, uh = BH * B;
    uint8_t *p = malloc((size_t)uw * uh * 3);
    cr_assert(p);
    for (int y = 0; y < uh; y++)
        for (int x = 0; x < uw; x++) memcpy(p + ((size_t)y * uw + x) * 3,
                                            colours[(y / B) * BW + x / B], 3);
    return p;
}

/* Every block's centre pixel in img (blocks of `b` pixels) is its colour. */
static void expect_blocks(const sn_image *img, int b, const uint8_t colours[BW * BH][3],
                          const char *what) {
    cr_assert(img->width == BW * b && img->height == BH * b, "%s: %dx%d, want %dx%d", what,
              img->width, img->height, BW * b, BH * b);
    for (int by = 0; by < BH; by++)
        for (int bx = 0; bx < BW; bx++) {
            int x = bx * b + b / 2, y = by * b + b / 2;
            const uint8_t *p = img->pixels + ((size_t)y * img->width + x) * 3;
            const uint8_t *want = colours[by * BW + bx];
            for (int c = 0; c < 3; c++)
                cr_assert(abs((int)p[c] - want[c]) <= 24,
                          "%s: block (%d,%d) channel %d is %d, want %d", what, bx, by, c, p[c],
                          want[c]);
        }
}

/* A JPEG of a fresh block picture (its colours into `colours`) stored as a camera held in
 * orientation o would store it, with EXIF saying so in the given byte order. The stored pixels
 * and their size go to *stored, *sw, *sh (free *stored); returns the file (free it). */
static uint8_t *oriented_jpeg(sn_rng *r, int o, int big_endian, int progressive,
                              uint8_t colours[BW * BH][3], uint8_t **stored, int *sw, int *sh,
                              size_t *size) {
    block_colours(r, colours);
    uint8_t *up = upright_picture(colours);
    *stored = store(up, BW * B, BH * B, o, sw, sh);
    free(up);
    uint8_t exif[64];
    size_t elen = sn_test_exif(exif, o, big_endian, 3);
    return sn_test_jpeg(*stored, *sw, *sh, 3, progressive, 95, exif, elen, size);
}

Test(image_orient, every_orientation_comes_back_upright) {
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("orient_all"));
    uint8_t colours[BW * BH][3];
    for (int be = 0; be < 2; be++)
        for (int prog = 0; prog < 2; prog++)
            for (int o = 1; o <= 8; o++) {
                uint8_t *stored;
                int sw, sh;
                size_t size;
                uint8_t *jpg = oriented_jpeg(&r, o, be, prog, colours, &stored, &sw, &sh, &size);
                char what[96];
                snprintf(what, sizeof what, "orientation %d (%s-endian, %s)", o,
                         be ? "big" : "little", prog ? "progressive" : "baseline");
                sn_image img = {0};
                sn_error err = {0};
                cr_assert_eq(sn_image_decode(jpg, size, 0, &img, &err), SN_OK, "%s: %s", what,
                             err.message);
                cr_assert_eq(img.orientation, o, "%s: applied %d", what, img.orientation);
                cr_assert(img.full_width == BW * B && img.full_height == BH * B,
                          "%s: full size %dx%d", what, img.full_width, img.full_height);
                expect_blocks(&img, B, colours, what);
                sn_image_free(&img);

                /* Told to ignore the tag: the stored order. */
                sn_image_decode_options opt = SN_IMAGE_DECODE_OPTIONS_INIT;
                opt.ignore_orientation = 1;
                cr_assert_eq(sn_image_decode_ex(jpg, size, &opt, &img, &err), SN_OK);
                cr_assert(img.width == sw && img.height == sh && img.orientation == 1,
                          "%s ignored: %dx%d", what, img.width, img.height);
                /* Hard colour edges in 4:2:0 JPEG: 23-30 dB over seeds 1..40; the same blocks
                 * mirrored or turned (orientations 2-4 against the upright picture) gave 2-8. */
                cr_assert_gt(sn_test_psnr_u8(img.pixels, stored, (size_t)sw * sh * 3), 18.0,
                             "%s ignored: not the stored pixels", what);
                sn_image_free(&img);
                free(jpg);
                free(stored);
            }
}

Test(image_orient, reduced_scale_is_chosen_on_the_upright_size) {
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("orient_scaled"));
    uint8_t colours[BW * BH][3];
    for (int o = 1; o <= 8; o++) {
        uint8_t *stored;
        int sw, sh;
        size_t size;
        uint8_t *jpg = oriented_jpeg(&r, o, o % 2, 0, colours, &stored, &sw, &sh, &size);
        /* Upright 48x32; at least 24x16 asks for exactly half (3/8 gives 18x12). Read on the
         * stored sides, a quarter-turned file would need 6/8 instead. */
        sn_image_decode_options opt = SN_IMAGE_DECODE_OPTIONS_INIT;
        opt.min_width = BW * B / 2;
        opt.min_height = BH * B / 2;
        sn_image img = {0};
        sn_error err = {0};
        char what[64];
        snprintf(what, sizeof what, "orientation %d at half scale", o);
        cr_assert_eq(sn_image_decode_ex(jpg, size, &opt, &img, &err), SN_OK, "%s: %s", what,
                     err.message);
        cr_assert_eq(img.scale_num, 4, "%s: scale %d/8", what, img.scale_num);
        expect_blocks(&img, B / 2, colours, what);
        sn_image_free(&img);
        free(jpg);
        free(stored);
    }
}

/* A JPEG of a smooth picture with the given APP1 payload decodes, as stored. */
static void expect_as_stored(sn_rng *r, const uint8_t *app1, size_t len, const char *what) {
    int w = 21 + (int)(sn_rng_u64(r) % 20), h = 13 + (int)(sn_rng_u64(r) % 20);
    uint8_t *px = sn_test_smooth_rgb(r, w, h);
    size_t size;
    uint8_t *jpg = sn_test_jpeg(px, w, h, 3, 0, 92, app1, len, &size);
    sn_image img = {0};
    sn_error err = {0};
    cr_assert_eq(sn_image_decode(jpg, size, 0, &img, &err), SN_OK, "%s: %s", what, err.message);
    cr_assert(img.width == w && img.height == h && img.orientation == 1, "%s: %dx%d, %d", what,
              img.width, img.height, img.orientation);
    cr_assert_gt(sn_test_psnr_u8(img.pixels, px, (size_t)w * h * 3), 30.0, "%s", what);
    sn_image_free(&img);
    free(jpg);
    free(px);
}

Test(image_orient, odd_or_broken_exif_means_as_stored) {
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("orient_broken"));
    uint8_t exif[64], junk[300];
    size_t len;
    for (int be = 0; be < 2; be++) {
        /* Values outside 1..8, and the tag with the wrong type (LONG, ASCII). */
        int bad_values[] = {0, 9, 255, 65535};
        for (size_t i = 0; i < sizeof bad_values / sizeof *bad_values; i++) {
            len = sn_test_exif(exif, bad_values[i], be, 3);
            expect_as_stored(&r, exif, len, "orientation out of range");
        }
        len = sn_test_exif(exif, 6, be, 4);
        expect_as_stored(&r, exif, len, "orientation as LONG");
        len = sn_test_exif(exif, 6, be, 2);
        expect_as_stored(&r, exif, len, "orientation as ASCII");
        /* IFD0 offset past the end; cut inside the entry. */
        len = sn_test_exif(exif, 6, be, 3);
        exif[6 + (be ? 7 : 4)] = 200;
        expect_as_stored(&r, exif, len, "IFD0 past the end");
        len = sn_test_exif(exif, 6, be, 3);
        expect_as_stored(&r, exif, 6 + 14, "entry cut short");
    }
    /* "Exif\0\0" then noise; an APP1 that is not EXIF at all (XMP). */
    for (int t = 0; t < 20; t++) {
        memcpy(junk, "Exif\0\0", 6);
        size_t n = 6 + sn_rng_u64(&r) % (sizeof junk - 6);
        for (size_t i = 6; i < n; i++) junk[i] = (uint8_t)sn_rng_u64(&r);
        if (t % 2) memcpy(junk + 6, t % 4 == 1 ? "II*\0" : "MM\0*", 4);
        expect_as_stored(&r, junk, n, "EXIF noise");
    }
    const char xmp[] = "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>";
    expect_as_stored(&r, (const uint8_t *)xmp, sizeof xmp, "XMP");
}

Test(image_orient, truncated_exif_jpeg_is_refused) {
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("orient_truncated"));
    uint8_t *px = sn_test_smooth_rgb(&r, 40, 24);
    uint8_t exif[64];
    size_t len = sn_test_exif(exif, 6, 1, 3), size;
    uint8_t *jpg = sn_test_jpeg(px, 40, 24, 3, 1, 90, exif, len, &size);
    /* Cut inside the APP1 segment, the headers, the scans and just before EOI. */
    size_t cuts[] = {3, 10, 25, 40, size / 4, size / 2, size - 3, size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        sn_image img = {0};
        sn_error err = {0};
        cr_assert_neq(sn_image_decode(jpg, cuts[i], 0, &img, &err), SN_OK,
                      "cut at %zu of %zu decoded", cuts[i], size);
        cr_assert_null(img.pixels);
        cr_assert(strstr(err.message, "JPEG"), "cut at %zu: '%s'", cuts[i], err.message);
    }
    free(jpg);
    free(px);
}
