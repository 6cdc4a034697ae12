/* image_encode.c - see image_encode.h. */
#include "image_encode.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <spng.h>

uint8_t *sn_test_jpeg(const uint8_t *px, int w, int h, int components, int progressive,
                      int quality, const uint8_t *app1, size_t app1_size, size_t *size) {
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    unsigned char *out = NULL;
    unsigned long len = 0;
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &out, &len);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = components;
    c.in_color_space = components == 1 ? JCS_GRAYSCALE : components == 4 ? JCS_CMYK : JCS_RGB;
    jpeg_set_defaults(&c);
    if (components == 4) {
        /* Stored as given, marked as Adobe's (inverted) CMYK. */
        jpeg_set_colorspace(&c, JCS_CMYK);
        c.write_Adobe_marker = TRUE;
    }
    jpeg_set_quality(&c, quality, TRUE);
    if (progressive) jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    if (app1) jpeg_write_marker(&c, JPEG_APP0 + 1, app1, (unsigned)app1_size);
    for (int y = 0; y < h; y++) {
        JSAMPROW row = (JSAMPROW)(px + (size_t)y * w * components);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    cr_assert(out && len > 0, "libjpeg wrote nothing");
    /* jpeg_mem_dest's buffer comes from malloc. */
    *size = len;
    return out;
}

uint8_t *sn_test_png(const void *samples, int w, int h, int color_type, int bit_depth,
                     const uint8_t *plte, int n_plte, size_t *size) {
    spng_ctx *enc = spng_ctx_new(SPNG_CTX_ENCODER);
    cr_assert(enc);
    struct spng_ihdr ihdr = {(uint32_t)w, (uint32_t)h, (uint8_t)bit_depth, (uint8_t)color_type,
                             0, 0, 0};
    cr_assert_eq(spng_set_option(enc, SPNG_ENCODE_TO_BUFFER, 1), 0);
    cr_assert_eq(spng_set_ihdr(enc, &ihdr), 0);
    if (color_type == 3) {
        struct spng_plte p = {0};
        p.n_entries = (uint32_t)n_plte;
        for (int i = 0; i < n_plte; i++) {
            p.entries[i].red = plte[3 * i];
            p.entries[i].green = plte[3 * i + 1];
            p.entries[i].blue = plte[3 * i + 2];
        }
        cr_assert_eq(spng_set_plte(enc, &p), 0);
    }
    int channels = color_type == 0 || color_type == 3 ? 1 : color_type == 4 ? 2
                   : color_type == 2 ? 3 : 4;
    size_t row_bits = (size_t)w * channels * bit_depth;
    size_t len = (row_bits + 7) / 8 * (size_t)h;
    /* SPNG_FMT_RAW: the bytes as PNG stores them (SPNG_FMT_PNG would read host-endian). */
    int ret = spng_encode_image(enc, samples, len, SPNG_FMT_RAW, SPNG_ENCODE_FINALIZE);
    cr_assert_eq(ret, 0, "spng_encode_image: %s", spng_strerror(ret));
    int error = 0;
    void *png = spng_get_png_buffer(enc, size, &error);
    cr_assert(png, "spng: %s", spng_strerror(error));
    spng_ctx_free(enc);
    return png;
}

static void put16(uint8_t *p, unsigned v, int be) {
    p[be ? 0 : 1] = (uint8_t)(v >> 8);
    p[be ? 1 : 0] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v, int be) {
    for (int i = 0; i < 4; i++) p[be ? i : 3 - i] = (uint8_t)(v >> (24 - 8 * i));
}

size_t sn_test_exif(uint8_t *buf, int orientation, int big_endian, int type) {
    memset(buf, 0, 64);
    memcpy(buf, "Exif\0\0", 6);
    uint8_t *t = buf + 6; /* TIFF header: offsets count from here */
    memcpy(t, big_endian ? "MM" : "II", 2);
    put16(t + 2, 42, big_endian);
    put32(t + 4, 8, big_endian);     /* IFD0 at offset 8 */
    put16(t + 8, 1, big_endian);     /* one entry */
    put16(t + 10, 0x0112, big_endian); /* Orientation */
    put16(t + 12, (unsigned)type, big_endian);
    put32(t + 14, 1, big_endian);    /* count */
    put16(t + 18, (unsigned)orientation, big_endian); /* a SHORT sits left-justified */
    put32(t + 22, 0, big_endian);    /* no next IFD */
    return 6 + 26;
}

uint8_t *sn_test_sines_rgb(sn_rng *r, int w, int h, double fx_lo, double fx_hi, double fy_lo,
                          double fy_hi) {
    uint8_t *p = malloc((size_t)w * h * 3);
    cr_assert(p);
    double fx[3], fy[3], ph[3];
    for (int k = 0; k < 3; k++) {
        fx[k] = sn_rng_uniform(r, fx_lo, fx_hi);
        fy[k] = sn_rng_uniform(r, fy_lo, fy_hi);
        ph[k] = sn_rng_uniform(r, 0, 2 * M_PI);
    }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < 3; k++)
                p[((size_t)y * w + x) * 3 + k] =
                    (uint8_t)(127.5 + 100 * sin(fx[k] * x + fy[k] * y + ph[k]));
    return p;
}

uint8_t *sn_test_smooth_rgb(sn_rng *r, int w, int h) {
    return sn_test_sines_rgb(r, w, h, 0.02, 0.12, 0.02, 0.12);
}

double sn_test_psnr_u8(const uint8_t *a, const uint8_t *b, size_t n) {
    double se = 0;
    for (size_t i = 0; i < n; i++) se += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    if (se == 0) return INFINITY;
    return 10 * log10(255.0 * 255.0 / (se / (double)n));
}
