/*
 * test_image.c - JPEG and PNG decoding (loader/image.h): every kind sentinel-mkimages writes,
 * checked against the pixels it encoded (PNG exactly, JPEG by PSNR); PNGs of every colour type
 * and bit depth (1-16 bits, palettes, grey + alpha, RGBA) encoded here and checked exactly,
 * at odd sizes (1x1, 3x517); grey, Adobe CMYK and odd-sized JPEGs; truncation at every offset;
 * corrupt data; headers declaring huge sizes, rejected before anything is allocated; random
 * bytes; empty, missing and unreadable files. EXIF orientation: test_image_orient.c; reduced
 * scale decoding: test_image_scale.c.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <jpeglib.h>
#include <spng.h>

#include "image.h"
#include "npy.h"
#include "image_encode.h"
#include "test_support.h"

/* --- test inputs (encoders: tests/support/image_encode.c) -------------------------------- */

/* Pure noise (PNG round trips, corrupt PNGs); smooth pictures JPEG carries well come from
 * sn_test_smooth_rgb. */
static uint8_t *random_noise(sn_rng *r, int w, int h) {
    uint8_t *p = malloc((size_t)w * h * 3);
    cr_assert(p);
    for (size_t i = 0; i < (size_t)w * h * 3; i++) p[i] = (uint8_t)(sn_rng_u64(r) & 0xff);
    return p;
}

static void expect_fail(const void *data, size_t size, const char *must_contain, const char *what) {
    sn_image img = {0};
    sn_error err = {0};
    sn_status st = sn_image_decode(data, size, 0, &img, &err);
    cr_assert_neq(st, SN_OK, "%s: decoded a %dx%d image", what, img.width, img.height);
    cr_assert_null(img.pixels, "%s: pixels left after failure", what);
    cr_assert(err.message[0], "%s: no reason given", what);
    if (must_contain)
        cr_assert(strstr(err.message, must_contain), "%s: reason '%s' lacks '%s'", what,
                  err.message, must_contain);
}

/* --- every kind the generator writes ----------------------------------------------------- */

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

Test(image, generator_kinds_decode_to_what_was_encoded) {
    uint64_t seed = sn_test_fresh_seed("generator_kinds") % 1000000;
    char *dir = sn_test_mkdtemp();
    char cmd[4096], *out = NULL;
    int sig = 0;
    snprintf(cmd, sizeof cmd, "%s %s --count 18 --seed %llu --reference",
             sn_test_bin("sentinel-mkimages"), dir, (unsigned long long)seed);
    int rc = sn_test_run(cmd, &out, &sig);
    cr_assert_eq(rc, 0, "sentinel-mkimages failed (signal %d): %s", sig, out);
    free(out);

    DIR *d = opendir(dir);
    cr_assert(d);
    struct dirent *e;
    int seen_jpeg = 0, seen_png = 0;
    while ((e = readdir(d))) {
        if (!ends_with(e->d_name, ".jpg") && !ends_with(e->d_name, ".png")) continue;
        char path[4096], ref_path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        snprintf(ref_path, sizeof ref_path, "%s.npy", path);
        sn_image img = {0};
        sn_npy ref = {0};
        sn_error err = {0};
        cr_assert_eq(sn_image_load_file(path, 0, &img, &err), SN_OK, "%s: %s", e->d_name,
                     err.message);
        cr_assert_eq(sn_npy_read_file(ref_path, &ref, &err), SN_OK, "%s: %s", ref_path,
                     err.message);
        cr_assert_eq(ref.rank, 3);
        cr_assert(ref.dims[0] == img.height && ref.dims[1] == img.width && ref.dims[2] == 3,
                  "%s: decoded %dx%d", e->d_name, img.width, img.height);
        size_t n = (size_t)img.width * img.height * 3;
        uint8_t *want = malloc(n);
        cr_assert(want);
        for (size_t i = 0; i < n; i++) {
            cr_assert(ref.data[i] >= 0 && ref.data[i] <= 255 && ref.data[i] == floorf(ref.data[i]),
                      "%s: reference value %g is not a byte", ref_path, (double)ref.data[i]);
            want[i] = (uint8_t)ref.data[i];
        }
        if (ends_with(e->d_name, ".png")) {
            seen_png++;
            for (size_t i = 0; i < n; i++)
                cr_assert_eq(img.pixels[i], want[i], "%s: byte %zu is %u, want %u", e->d_name, i,
                             img.pixels[i], want[i]);
        } else {
            seen_jpeg++;
            double q = sn_test_psnr_u8(img.pixels, want, n);
            /* Quality 92 gives over 40 dB for grey and CMYK (no chroma subsampling) and 24-35
             * dB for YCbCr 4:2:0 on these sharp-edged shapes; a wrong colour conversion (CMYK
             * polarity, grey expansion, channel order) gives under 15. */
            double bound = strstr(e->d_name, "grey") || strstr(e->d_name, "cmyk") ? 35.0 : 20.0;
            cr_assert_gt(q, bound, "%s: PSNR %.1f dB", e->d_name, q);
        }
        free(want);
        sn_image_free(&img);
        sn_npy_free(&ref);
    }
    closedir(d);
    cr_assert_eq(seen_jpeg, 9);
    cr_assert_eq(seen_png, 9);
    sn_test_rmtree(dir);
    free(dir);
}

Test(image, random_png_round_trips_exactly_and_format_comes_from_bytes) {
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("random_png"));
    for (int t = 0; t < 6; t++) {
        int w = 1 + (int)(sn_rng_u64(&r) % 150), h = 1 + (int)(sn_rng_u64(&r) % 150);
        uint8_t *px = random_noise(&r, w, h);
        size_t size;
        void *png = sn_test_png(px, w, h, 2, 8, NULL, 0, &size);
        cr_assert_eq(sn_image_detect(png, size), SN_IMAGE_FORMAT_PNG);
        /* A PNG named .jpg is still a PNG. */
        char *dir = sn_test_mkdtemp(), path[4096];
        snprintf(path, sizeof path, "%s/really-a-png.jpg", dir);
        cr_assert_eq(sn_test_write_file(path, png, size), 0);
        sn_image img = {0};
        sn_error err = {0};
        cr_assert_eq(sn_image_load_file(path, 0, &img, &err), SN_OK, "%s", err.message);
        cr_assert(img.width == w && img.height == h);
        cr_assert_eq(memcmp(img.pixels, px, (size_t)w * h * 3), 0, "pixels differ (%dx%d)", w, h);
        sn_image_free(&img);
        sn_test_rmtree(dir);
        free(dir);
        free(png);
        free(px);
    }
}

Test(image, jpeg_from_random_smooth_picture_is_close) {
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("jpeg_close"));
    for (int prog = 0; prog < 2; prog++) {
        int w = 9 + (int)(sn_rng_u64(&r) % 200), h = 9 + (int)(sn_rng_u64(&r) % 200);
        uint8_t *px = sn_test_smooth_rgb(&r, w, h);
        size_t size;
        uint8_t *jpg = sn_test_jpeg(px, w, h, 3, prog, 90, NULL, 0, &size);
        cr_assert_eq(sn_image_detect(jpg, size), SN_IMAGE_FORMAT_JPEG);
        sn_image img = {0};
        sn_error err = {0};
        cr_assert_eq(sn_image_decode(jpg, size, 0, &img, &err), SN_OK, "%s", err.message);
        cr_assert(img.width == w && img.height == h);
        double q = sn_test_psnr_u8(img.pixels, px, (size_t)w * h * 3);
        cr_assert_gt(q, 30.0, "%dx%d %s: PSNR %.1f dB", w, h, prog ? "progressive" : "baseline",
                     q);
        sn_image_free(&img);
        free(jpg);
        free(px);
    }
}

/* --- damaged files ----------------------------------------------------------------------- */

Test(image, truncated_png_fails_at_every_offset) {
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("truncated_png"));
    uint8_t *px = sn_test_smooth_rgb(&r, 23, 17);
    size_t size;
    uint8_t *png = sn_test_png(px, 23, 17, 2, 8, NULL, 0, &size);
    for (size_t cut = 0; cut < size; cut++) {
        char what[128];
        snprintf(what, sizeof what, "PNG cut to %zu of %zu bytes", cut, size);
        /* Past the signature every cut must be called a truncation, not some other fault. */
        expect_fail(png, cut, cut >= 8 ? "truncated" : NULL, what);
    }
    free(png);
    free(px);
}

Test(image, truncated_jpeg_fails_at_every_offset) {
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("truncated_jpeg"));
    for (int prog = 0; prog < 2; prog++) {
        uint8_t *px = sn_test_smooth_rgb(&r, 29, 21);
        size_t size;
        uint8_t *jpg = sn_test_jpeg(px, 29, 21, 3, prog, 90, NULL, 0, &size);
        for (size_t cut = 0; cut < size; cut++) {
            char what[128];
            snprintf(what, sizeof what, "%s JPEG cut to %zu of %zu bytes",
                     prog ? "progressive" : "baseline", cut, size);
            expect_fail(jpg, cut, cut >= 3 ? "JPEG" : NULL, what);
        }
        /* Cut inside the scan data: the reason says so. */
        expect_fail(jpg, size - 10, "truncated", "JPEG cut 10 bytes short");
        free(jpg);
        free(px);
    }
}

Test(image, corrupt_png_is_refused) {
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("corrupt_png"));
    uint8_t *px = random_noise(&r, 31, 19);
    size_t size;
    uint8_t *png = sn_test_png(px, 31, 19, 2, 8, NULL, 0, &size);
    uint8_t *bad = malloc(size);
    /* Any changed byte after the signature breaks a CRC (or the signature itself). */
    for (int t = 0; t < 200; t++) {
        memcpy(bad, png, size);
        size_t at = 8 + sn_rng_u64(&r) % (size - 8);
        bad[at] ^= (uint8_t)(1 + sn_rng_u64(&r) % 255);
        char what[128];
        snprintf(what, sizeof what, "PNG with byte %zu changed", at);
        expect_fail(bad, size, NULL, what);
    }
    free(bad);
    free(png);
    free(px);
}

Test(image, corrupt_jpeg_is_refused) {
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("corrupt_jpeg"));
    uint8_t *px = sn_test_smooth_rgb(&r, 40, 32);
    size_t size;
    uint8_t *jpg = sn_test_jpeg(px, 40, 32, 3, 0, 90, NULL, 0, &size);
    uint8_t *bad = malloc(size);
    /* Find the markers to damage: SOF0 (FF C0) and SOS (FF DA). */
    size_t sof = 0, sos = 0;
    for (size_t i = 2; i + 1 < size; i++) {
        if (jpg[i] == 0xff && jpg[i + 1] == 0xc0 && !sof) sof = i;
        if (jpg[i] == 0xff && jpg[i + 1] == 0xda && !sos) sos = i;
    }
    cr_assert(sof && sos);
    memcpy(bad, jpg, size);
    bad[sof + 9] = 0; /* zero components */
    expect_fail(bad, size, "corrupt JPEG", "SOF with 0 components");
    memcpy(bad, jpg, size);
    bad[sof + 2] = 0;
    bad[sof + 3] = 2; /* segment length 2: too short */
    expect_fail(bad, size, "corrupt JPEG", "short SOF");
    memcpy(bad, jpg, size);
    bad[sos + 1] = 0x01; /* not a marker libjpeg knows */
    expect_fail(bad, size, "corrupt JPEG", "unknown marker");
    /* A run of 0xFF bytes in the scan data is a stream of bad markers / codes. */
    memcpy(bad, jpg, size);
    size_t data = sos + 2 + ((size_t)jpg[sos + 2] << 8 | jpg[sos + 3]);
    memset(bad + data + 8, 0xff, 24);
    bad[data + 8 + 24] = 0x10;
    expect_fail(bad, size, "JPEG", "0xFF run in the scan");
    free(bad);
    free(jpg);
    free(px);
}

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

Test(image, huge_png_header_is_refused_before_allocating) {
    /* A valid signature and IHDR (with a correct CRC) declaring 100000x100000 RGB, then a
     * tiny IDAT: 30 GB if anyone believed it. */
    uint8_t png[8 + 25 + 20 + 12] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t *ihdr = png + 8;
    put_be32(ihdr, 13);
    memcpy(ihdr + 4, "IHDR", 4);
    put_be32(ihdr + 8, 100000);
    put_be32(ihdr + 12, 100000);
    ihdr[16] = 8;
    ihdr[17] = 2;
    put_be32(ihdr + 21, (uint32_t)crc32(0, ihdr + 4, 17));
    uint8_t *idat = ihdr + 25;
    put_be32(idat, 8);
    memcpy(idat + 4, "IDAT", 4);
    memset(idat + 8, 0, 8);
    put_be32(idat + 16, (uint32_t)crc32(0, idat + 4, 12));
    uint8_t *iend = idat + 20;
    put_be32(iend, 0);
    memcpy(iend + 4, "IEND", 4);
    put_be32(iend + 8, (uint32_t)crc32(0, iend + 4, 4));
    expect_fail(png, sizeof png, "image is 100000x100000, over the 67108864-pixel limit",
                "100000x100000 PNG");
    /* Tall and thin: one dimension alone over the limit. */
    put_be32(ihdr + 8, 1);
    put_be32(ihdr + 12, 0x7fffffff);
    put_be32(ihdr + 21, (uint32_t)crc32(0, ihdr + 4, 17));
    expect_fail(png, sizeof png, "over the", "1x2147483647 PNG");
}

Test(image, huge_jpeg_header_and_configured_limit) {
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("huge_jpeg"));
    uint8_t *px = sn_test_smooth_rgb(&r, 20, 10);
    size_t size;
    uint8_t *jpg = sn_test_jpeg(px, 20, 10, 3, 0, 90, NULL, 0, &size);
    sn_image img = {0};
    sn_error err = {0};
    /* The limit is configurable: exactly w*h passes, one pixel less does not. */
    cr_assert_eq(sn_image_decode(jpg, size, 200, &img, &err), SN_OK, "%s", err.message);
    sn_image_free(&img);
    cr_assert_neq(sn_image_decode(jpg, size, 199, &img, &err), SN_OK);
    cr_assert(strstr(err.message, "image is 20x10, over the 199-pixel limit"), "%s",
              err.message);
    /* SOF0 rewritten to 65000x65000 (JPEG's 16-bit fields cannot say 100000). */
    for (size_t i = 2; i + 8 < size; i++)
        if (jpg[i] == 0xff && jpg[i + 1] == 0xc0) {
            jpg[i + 5] = 65000 >> 8;
            jpg[i + 6] = 65000 & 0xff;
            jpg[i + 7] = 65000 >> 8;
            jpg[i + 8] = 65000 & 0xff;
            break;
        }
    expect_fail(jpg, size, "image is 65000x65000, over the 67108864-pixel limit",
                "65000x65000 JPEG");
    free(jpg);
    free(px);
}

Test(image, random_bytes_empty_and_other_formats) {
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("random_bytes"));
    uint8_t buf[4096];
    for (int t = 0; t < 300; t++) {
        size_t n = 1 + sn_rng_u64(&r) % sizeof buf;
        for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)sn_rng_u64(&r);
        /* A third plain noise, a third behind a JPEG SOI, a third behind a PNG signature. */
        if (t % 3 == 1 && n >= 3) memcpy(buf, "\xff\xd8\xff", 3);
        if (t % 3 == 2 && n >= 8) memcpy(buf, "\x89PNG\r\n\x1a\n", 8);
        expect_fail(buf, n, NULL, "random bytes");
    }
    expect_fail(buf, 0, "empty", "empty buffer");
    expect_fail("GIF89a\x01\x00\x01\x00", 10, "GIF", "GIF");
    expect_fail("BM\x00\x00\x00\x00", 6, "BMP", "BMP");
    expect_fail("hello world", 11, "starts with bytes 68 65 6c 6c 6f 20 77 6f", "text");
}

Test(image, file_errors_are_named) {
    char *dir = sn_test_mkdtemp(), path[4096];
    sn_image img = {0};
    sn_error err = {0};
    snprintf(path, sizeof path, "%s/empty.png", dir);
    cr_assert_eq(sn_test_write_file(path, "", 0), 0);
    cr_assert_eq(sn_image_load_file(path, 0, &img, &err), SN_ERR_FORMAT);
    cr_assert(strstr(err.message, "empty"), "%s", err.message);
    snprintf(path, sizeof path, "%s/missing.jpg", dir);
    cr_assert_eq(sn_image_load_file(path, 0, &img, &err), SN_ERR_IO);
    cr_assert(strstr(err.message, "No such file"), "%s", err.message);
    cr_assert_eq(sn_image_load_file(dir, 0, &img, &err), SN_ERR_IO);
    cr_assert(strstr(err.message, "directory"), "%s", err.message);
    /* A FIFO is refused at once, not waited on for a writer that never comes. */
    snprintf(path, sizeof path, "%s/pipe.jpg", dir);
    cr_assert_eq(mkfifo(path, 0644), 0);
    cr_assert_eq(sn_image_load_file(path, 0, &img, &err), SN_ERR_IO);
    cr_assert(strstr(err.message, "not a regular file"), "%s", err.message);
    /* A dangling symbolic link. */
    snprintf(path, sizeof path, "%s/link.png", dir);
    cr_assert_eq(symlink("/nonexistent/target.png", path), 0);
    cr_assert_eq(sn_image_load_file(path, 0, &img, &err), SN_ERR_IO);
    cr_assert(strstr(err.message, "No such file"), "%s", err.message);
    /* No read permission (root reads anything, so only checked as another user). */
    if (geteuid() != 0) {
        snprintf(path, sizeof path, "%s/locked.jpg", dir);
        cr_assert_eq(sn_test_write_file(path, "\xff\xd8\xff", 3), 0);
        cr_assert_eq(chmod(path, 0), 0);
        cr_assert_eq(sn_image_load_file(path, 0, &img, &err), SN_ERR_IO);
        cr_assert(strstr(err.message, "Permission denied"), "%s", err.message);
    }
    cr_assert_null(img.pixels);
    sn_test_rmtree(dir);
    free(dir);
}

/* --- every PNG colour type and bit depth, and odd JPEG kinds, encoded here ---------------- */

/* Packs one sample value per entry into PNG rows of `depth`-bit samples (MSB first, rows
 * byte-aligned; 16-bit big-endian). */
static uint8_t *pack_samples(const uint16_t *v, int w, int h, int channels, int depth) {
    size_t row = ((size_t)w * channels * depth + 7) / 8;
    uint8_t *out = calloc(row * h + 1, 1);
    cr_assert(out);
    for (int y = 0; y < h; y++) {
        uint8_t *r = out + row * y;
        for (int i = 0; i < w * channels; i++) {
            uint16_t s = v[(size_t)y * w * channels + i];
            if (depth == 16) {
                r[2 * i] = (uint8_t)(s >> 8);
                r[2 * i + 1] = (uint8_t)s;
            } else if (depth == 8) {
                r[i] = (uint8_t)s;
            } else {
                size_t bit = (size_t)i * depth;
                r[bit / 8] |= (uint8_t)(s << (8 - depth - bit % 8));
            }
        }
    }
    return out;
}

/* What a sample of `depth` bits means in 8 bits: PNG's scaling (left bit replication) up,
 * the high byte down. */
static uint8_t to8(uint16_t s, int depth) {
    switch (depth) {
    case 1: return s ? 255 : 0;
    case 2: return (uint8_t)(s * 85);
    case 4: return (uint8_t)(s * 17);
    case 16: return (uint8_t)(s >> 8);
    default: return (uint8_t)s;
    }
}

Test(image, png_every_colour_type_and_depth) {
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("png_kinds"));
    static const struct {
        int type, depth;
    } kinds[] = {{0, 1}, {0, 2}, {0, 4}, {0, 8}, {0, 16}, {2, 8}, {2, 16}, {3, 1}, {3, 2},
                 {3, 4}, {3, 8}, {4, 8}, {4, 16}, {6, 8}, {6, 16}};
    int sizes[][2] = {{1, 1}, {3, 517}, {517, 3}, {0, 0}};
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
        for (size_t z = 0; z < sizeof sizes / sizeof *sizes; z++) {
            int type = kinds[k].type, depth = kinds[k].depth;
            int w = sizes[z][0] ? sizes[z][0] : 1 + (int)(sn_rng_u64(&r) % 90);
            int h = sizes[z][1] ? sizes[z][1] : 1 + (int)(sn_rng_u64(&r) % 90);
            int ch = type == 0 || type == 3 ? 1 : type == 4 ? 2 : type == 2 ? 3 : 4;
            int n_plte = type == 3 ? 1 << depth : 0;
            uint8_t plte[3 * 256];
            for (int i = 0; i < 3 * n_plte; i++) plte[i] = (uint8_t)sn_rng_u64(&r);
            uint16_t *v = malloc(sizeof *v * (size_t)w * h * ch);
            uint8_t *want = malloc((size_t)w * h * 3);
            cr_assert(v && want);
            uint32_t range = type == 3 ? (uint32_t)n_plte : 1u << depth;
            for (size_t i = 0; i < (size_t)w * h * ch; i++)
                v[i] = (uint16_t)(sn_rng_u64(&r) % range);
            for (size_t p = 0; p < (size_t)w * h; p++) {
                const uint16_t *s = v + p * ch;
                uint8_t *d = want + 3 * p;
                if (type == 3)
                    memcpy(d, plte + 3 * s[0], 3);
                else if (type == 0 || type == 4) /* grey, alpha dropped */
                    d[0] = d[1] = d[2] = to8(s[0], depth);
                else /* RGB, alpha dropped */
                    for (int c = 0; c < 3; c++) d[c] = to8(s[c], depth);
            }
            uint8_t *packed = pack_samples(v, w, h, ch, depth);
            size_t size;
            uint8_t *png = sn_test_png(packed, w, h, type, depth, plte, n_plte, &size);
            sn_image img = {0};
            sn_error err = {0};
            char what[96];
            snprintf(what, sizeof what, "PNG colour type %d, %d-bit, %dx%d", type, depth, w, h);
            cr_assert_eq(sn_image_decode(png, size, 0, &img, &err), SN_OK, "%s: %s", what,
                         err.message);
            cr_assert(img.width == w && img.height == h, "%s: decoded %dx%d", what, img.width,
                      img.height);
            for (size_t i = 0; i < (size_t)w * h * 3; i++)
                cr_assert_eq(img.pixels[i], want[i], "%s: byte %zu (pixel %zu) is %u, want %u",
                             what, i, i / 3, img.pixels[i], want[i]);
            sn_image_free(&img);
            free(png);
            free(packed);
            free(want);
            free(v);
        }
}

Test(image, adobe_cmyk_jpeg_colours) {
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("cmyk_colours"));
    /* Adobe's CMYK stores 255 - ink: no ink is 255. Blocks of inks with known colours. */
    static const struct {
        uint8_t cmyk[4], rgb[3];
    } inks[] = {{{255, 255, 255, 255}, {255, 255, 255}}, /* paper */
                {{255, 255, 255, 0}, {0, 0, 0}},         /* full black */
                {{0, 255, 255, 255}, {0, 255, 255}},     /* cyan ink: cyan */
                {{255, 0, 255, 255}, {255, 0, 255}},     /* magenta */
                {{255, 255, 0, 255}, {255, 255, 0}},     /* yellow */
                {{255, 0, 0, 255}, {255, 0, 0}},         /* magenta + yellow: red */
                {{255, 255, 255, 128}, {128, 128, 128}}, /* half black: mid grey */
                {{0, 0, 255, 255}, {0, 0, 255}}};        /* cyan + magenta: blue */
    enum { N = sizeof inks / sizeof *inks, S = 16 };
    int order[N];
    for (int i = 0; i < N; i++) order[i] = i;
    for (int i = N - 1; i > 0; i--) {
        int j = (int)(sn_rng_u64(&r) % (uint64_t)(i + 1)), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    int w = N * S, h = S;
    uint8_t *cmyk = malloc((size_t)w * h * 4);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) memcpy(cmyk + ((size_t)y * w + x) * 4, inks[order[x / S]].cmyk, 4);
    for (int prog = 0; prog < 2; prog++) {
        size_t size;
        uint8_t *jpg = sn_test_jpeg(cmyk, w, h, 4, prog, 95, NULL, 0, &size);
        sn_image img = {0};
        sn_error err = {0};
        cr_assert_eq(sn_image_decode(jpg, size, 0, &img, &err), SN_OK, "%s", err.message);
        cr_assert(img.width == w && img.height == h);
        for (int b = 0; b < N; b++) {
            const uint8_t *p = img.pixels + ((size_t)(S / 2) * w + b * S + S / 2) * 3;
            const uint8_t *want = inks[order[b]].rgb;
            for (int c = 0; c < 3; c++)
                cr_assert(abs((int)p[c] - want[c]) <= 6, "ink %d channel %d: %d, want %d",
                          order[b], c, p[c], want[c]);
        }
        sn_image_free(&img);
        free(jpg);
    }
    free(cmyk);
}

Test(image, grey_and_odd_sized_jpeg) {
    sn_rng r;
    sn_rng_seed(&r, sn_test_fresh_seed("grey_odd_jpeg"));
    int sizes[][2] = {{1, 1}, {3, 517}, {517, 3}, {17, 9}};
    for (size_t z = 0; z < sizeof sizes / sizeof *sizes; z++)
        for (int prog = 0; prog < 2; prog++) {
            int w = sizes[z][0], h = sizes[z][1];
            uint8_t *rgb = sn_test_smooth_rgb(&r, w, h), *grey = malloc((size_t)w * h);
            uint8_t *want = malloc((size_t)w * h * 3);
            for (size_t i = 0; i < (size_t)w * h; i++) {
                grey[i] = rgb[3 * i];
                want[3 * i] = want[3 * i + 1] = want[3 * i + 2] = grey[i];
            }
            for (int kind = 0; kind < 2; kind++) { /* grey, then RGB */
                size_t size;
                uint8_t *jpg = sn_test_jpeg(kind ? rgb : grey, w, h, kind ? 3 : 1, prog, 95,
                                            NULL, 0, &size);
                sn_image img = {0};
                sn_error err = {0};
                cr_assert_eq(sn_image_decode(jpg, size, 0, &img, &err), SN_OK, "%dx%d: %s", w,
                             h, err.message);
                cr_assert(img.width == w && img.height == h);
                double q = sn_test_psnr_u8(img.pixels, kind ? rgb : want, (size_t)w * h * 3);
                cr_assert_gt(q, kind ? 28.0 : 35.0, "%s %s %dx%d: PSNR %.1f",
                             prog ? "progressive" : "baseline", kind ? "RGB" : "grey", w, h, q);
                sn_image_free(&img);
                free(jpg);
            }
            free(want);
            free(grey);
            free(rgb);
        }
}
