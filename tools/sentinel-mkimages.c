/*
 * sentinel-mkimages - writes deterministic synthetic test images: gradients with coloured
 * rectangles and discs, at odd sizes, in every kind of file the image loader must read:
 * baseline, progressive and greyscale JPEG, Adobe-style (inverted) CMYK and YCCK JPEG, and 8-bit
 * RGB, greyscale, palette, 16-bit RGB and RGBA PNG. `make demo` uses it for the demo images; the
 * tests use --reference, which writes beside each image NAME.npy holding the RGB it encodes
 * ([H,W,3] float32, 0..255: greys replicated, palette indices resolved, 16-bit samples at 8
 * bits, alpha dropped), so a decoder can be checked pixel for pixel.
 *
 * Usage: sentinel-mkimages DIR [--count N] [--size WxH] [--seed S] [--reference]
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>
#include <spng.h>

#include "npy.h"
#include "sentinel.h"

typedef enum sn_mk_kind {
    MK_JPEG_BASELINE,
    MK_JPEG_PROGRESSIVE,
    MK_JPEG_GREY,
    MK_JPEG_CMYK,
    MK_PNG_RGB8,
    MK_PNG_GREY8,
    MK_PNG_PALETTE,
    MK_PNG_RGB16,
    MK_PNG_RGBA8,
    MK_JPEG_YCCK, /* last, so the indices of the others stay put */
    MK_KIND_COUNT
} sn_mk_kind;

static const char *const kind_names[MK_KIND_COUNT] = {
    "jpeg-baseline", "jpeg-progressive", "jpeg-grey", "jpeg-cmyk",
    "png-rgb8",      "png-grey8",        "png-palette", "png-rgb16", "png-rgba8",
    "jpeg-ycck"};

static uint64_t mk_rng(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: sentinel-mkimages DIR [--count N] [--size WxH] [--seed S] [--reference]\n"
            "Writes N (default %d, one of each kind) synthetic JPEG and PNG images into DIR.\n"
            "  --count N     number of images, 1..10000; kinds cycle: jpeg-baseline,\n"
            "                jpeg-progressive, jpeg-grey, jpeg-cmyk, png-rgb8, png-grey8,\n"
            "                png-palette, png-rgb16, png-rgba8, jpeg-ycck\n"
            "  --size WxH    every image WxH (1..8192 each); default: odd sizes near 100x80\n"
            "  --seed S      seed for shapes, colours and sizes (default 1)\n"
            "  --reference   also write NAME.npy with the RGB pixels each image encodes\n",
            MK_KIND_COUNT);
}

/* Draws the RGB picture every kind starts from. */
static void draw(uint8_t *rgb, int w, int h, uint64_t seed) {
    uint64_t s = seed;
    int tint = (int)(mk_rng(&s) % 256);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = rgb + 3 * ((size_t)y * w + x);
            p[0] = (uint8_t)(w > 1 ? x * 255 / (w - 1) : 0);
            p[1] = (uint8_t)(h > 1 ? y * 255 / (h - 1) : 0);
            p[2] = (uint8_t)((tint + x + y) & 0xff);
        }
    int shapes = 3 + (int)(mk_rng(&s) % 4);
    for (int k = 0; k < shapes; k++) {
        int cx = (int)(mk_rng(&s) % (uint64_t)w), cy = (int)(mk_rng(&s) % (uint64_t)h);
        int r = 1 + (int)(mk_rng(&s) % (uint64_t)(1 + (w < h ? w : h) / 3));
        uint8_t col[3] = {(uint8_t)mk_rng(&s), (uint8_t)mk_rng(&s), (uint8_t)mk_rng(&s)};
        int disc = (int)(mk_rng(&s) & 1);
        for (int y = cy - r; y <= cy + r; y++)
            for (int x = cx - r; x <= cx + r; x++) {
                if (x < 0 || y < 0 || x >= w || y >= h) continue;
                if (disc && (x - cx) * (x - cx) + (y - cy) * (y - cy) > r * r) continue;
                memcpy(rgb + 3 * ((size_t)y * w + x), col, 3);
            }
    }
}

static uint8_t grey_of(const uint8_t *p) {
    return (uint8_t)((p[0] * 77 + p[1] * 150 + p[2] * 29 + 128) >> 8);
}

typedef struct mk_jpeg_err {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
} mk_jpeg_err;

static void mk_jpeg_error_exit(j_common_ptr c) {
    char buf[JMSG_LENGTH_MAX];
    c->err->format_message(c, buf);
    fprintf(stderr, "sentinel-mkimages: libjpeg: %s\n", buf);
    longjmp(((mk_jpeg_err *)c->err)->jump, 1);
}

/* Encodes rgb (and, for grey/CMYK, the derived planes) into *out. */
static int encode_jpeg(sn_mk_kind kind, const uint8_t *rgb, int w, int h, unsigned char **out,
                       unsigned long *out_size) {
    struct jpeg_compress_struct c;
    mk_jpeg_err jerr;
    int comps = kind == MK_JPEG_GREY ? 1 : kind == MK_JPEG_CMYK || kind == MK_JPEG_YCCK ? 4 : 3;
    uint8_t *volatile row = malloc((size_t)w * 4);
    if (!row) return -1;
    c.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = mk_jpeg_error_exit;
    if (setjmp(jerr.jump)) {
        jpeg_destroy_compress(&c);
        free(row);
        return -1;
    }
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, out, out_size);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = comps;
    c.in_color_space = comps == 1 ? JCS_GRAYSCALE : comps == 4 ? JCS_CMYK : JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 92, TRUE);
    if (kind == MK_JPEG_PROGRESSIVE) jpeg_simple_progression(&c);
    if (kind == MK_JPEG_YCCK) jpeg_set_colorspace(&c, JCS_YCCK);
    jpeg_start_compress(&c, TRUE);
    for (int y = 0; y < h; y++) {
        const uint8_t *src = rgb + 3 * (size_t)y * w;
        for (int x = 0; x < w; x++) {
            const uint8_t *p = src + 3 * x;
            if (comps == 1) {
                row[x] = grey_of(p);
            } else if (comps == 3) {
                memcpy(row + 3 * x, p, 3);
            } else {
                /* Adobe-style inverted CMYK (0 = full ink), the kind Photoshop writes. */
                /* stored C' = 255-C etc., decoded as R = C'*K'/255 with K' = max(R,G,B). */
                int mx = p[0] > p[1] ? p[0] : p[1];
                mx = mx > p[2] ? mx : p[2];
                for (int ch = 0; ch < 3; ch++)
                    row[4 * x + ch] = (uint8_t)(mx ? (255 * p[ch] + mx / 2) / mx : 255);
                row[4 * x + 3] = (uint8_t)mx;
            }
        }
        JSAMPROW rows[1] = {row};
        jpeg_write_scanlines(&c, rows, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(row);
    return 0;
}

/* Encodes one PNG kind; ref receives the RGB it represents. */
static void *encode_png(sn_mk_kind kind, const uint8_t *rgb, int w, int h, uint8_t *ref,
                        size_t *out_size) {
    size_t n = (size_t)w * h;
    struct spng_ihdr ihdr = {(uint32_t)w, (uint32_t)h, 8, SPNG_COLOR_TYPE_TRUECOLOR, 0, 0, 0};
    struct spng_plte plte = {0};
    size_t bpp = 3;
    switch (kind) {
    case MK_PNG_GREY8:
        ihdr.color_type = SPNG_COLOR_TYPE_GRAYSCALE;
        bpp = 1;
        break;
    case MK_PNG_PALETTE:
        ihdr.color_type = SPNG_COLOR_TYPE_INDEXED;
        bpp = 1;
        break;
    case MK_PNG_RGB16:
        ihdr.bit_depth = 16;
        bpp = 6;
        break;
    case MK_PNG_RGBA8:
        ihdr.color_type = SPNG_COLOR_TYPE_TRUECOLOR_ALPHA;
        bpp = 4;
        break;
    default: break;
    }
    uint8_t *img = malloc(n * bpp);
    if (!img) return NULL;
    if (kind == MK_PNG_PALETTE) {
        /* A 6x6x6 colour cube: each channel quantised to 0, 51, ..., 255. */
        plte.n_entries = 216;
        for (int i = 0; i < 216; i++) {
            plte.entries[i].red = (uint8_t)(51 * (i / 36));
            plte.entries[i].green = (uint8_t)(51 * (i / 6 % 6));
            plte.entries[i].blue = (uint8_t)(51 * (i % 6));
        }
    }
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = rgb + 3 * i;
        uint8_t *r = ref + 3 * i;
        memcpy(r, p, 3);
        switch (kind) {
        case MK_PNG_GREY8:
            img[i] = grey_of(p);
            memset(r, img[i], 3);
            break;
        case MK_PNG_PALETTE: {
            int q[3];
            for (int c = 0; c < 3; c++) q[c] = (p[c] + 25) / 51;
            img[i] = (uint8_t)(q[0] * 36 + q[1] * 6 + q[2]);
            for (int c = 0; c < 3; c++) r[c] = (uint8_t)(51 * q[c]);
            break;
        }
        case MK_PNG_RGB16:
            /* v*257 puts v in both bytes, so every 16-to-8-bit rule gives back v. */
            for (int c = 0; c < 3; c++) {
                uint16_t v = (uint16_t)(p[c] * 257);
                memcpy(img + 6 * i + 2 * c, &v, 2);
            }
            break;
        case MK_PNG_RGBA8:
            memcpy(img + 4 * i, p, 3);
            img[4 * i + 3] = (uint8_t)(i * 7 % 256);
            break;
        default: memcpy(img + 3 * i, p, 3); break;
        }
    }
    void *png = NULL;
    int ret, error = 0;
    spng_ctx *enc = spng_ctx_new(SPNG_CTX_ENCODER);
    if (!enc) goto done;
    if ((ret = spng_set_option(enc, SPNG_ENCODE_TO_BUFFER, 1)) != 0 ||
        (ret = spng_set_ihdr(enc, &ihdr)) != 0 ||
        (kind == MK_PNG_PALETTE && (ret = spng_set_plte(enc, &plte)) != 0) ||
        (ret = spng_encode_image(enc, img, n * bpp, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE)) != 0) {
        fprintf(stderr, "sentinel-mkimages: libspng: %s\n", spng_strerror(ret));
        goto done;
    }
    png = spng_get_png_buffer(enc, out_size, &error);
    if (!png) fprintf(stderr, "sentinel-mkimages: libspng: %s\n", spng_strerror(error));
done:
    spng_ctx_free(enc);
    free(img);
    return png;
}

/* Written to a temporary name and renamed, so a reader never sees half an image. */
static int write_atomic(const char *path, const void *data, size_t size) {
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp) return -1;
    int fd = mkstemp(tmp);
    if (fd < 0) return -1;
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    int ok = fwrite(data, 1, size, f) == size && fchmod(fd, 0644) == 0;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int make_one(const char *dir, int index, int w, int h, uint64_t seed, int reference) {
    sn_mk_kind kind = (sn_mk_kind)(index % MK_KIND_COUNT);
    int is_jpeg = kind <= MK_JPEG_CMYK || kind == MK_JPEG_YCCK;
    char path[PATH_MAX], refpath[PATH_MAX + 8];
    if (snprintf(path, sizeof path, "%s/%03d-%s-%dx%d.%s", dir, index, kind_names[kind], w, h,
                 is_jpeg ? "jpg" : "png") >= (int)sizeof path) {
        fprintf(stderr, "sentinel-mkimages: path too long in %s\n", dir);
        return -1;
    }
    size_t n = (size_t)w * h;
    uint8_t *rgb = malloc(3 * n), *ref = malloc(3 * n);
    float *reff = malloc(3 * n * sizeof(float));
    void *file = NULL;
    unsigned char *jpeg = NULL;
    unsigned long jpeg_size = 0;
    size_t size = 0;
    int rc = -1;
    if (!rgb || !ref || !reff) goto done;
    draw(rgb, w, h, seed * 1000003u + (uint64_t)index);
    if (is_jpeg) {
        if (encode_jpeg(kind, rgb, w, h, &jpeg, &jpeg_size) != 0) goto done;
        file = jpeg;
        size = jpeg_size;
        for (size_t i = 0; i < n; i++) {
            if (kind == MK_JPEG_GREY)
                memset(ref + 3 * i, grey_of(rgb + 3 * i), 3);
            else
                memcpy(ref + 3 * i, rgb + 3 * i, 3);
        }
    } else {
        file = encode_png(kind, rgb, w, h, ref, &size);
        if (!file) goto done;
    }
    if (write_atomic(path, file, size) != 0) {
        fprintf(stderr, "sentinel-mkimages: cannot write %s: %s\n", path, strerror(errno));
        goto done;
    }
    if (reference) {
        for (size_t i = 0; i < 3 * n; i++) reff[i] = ref[i];
        int64_t dims[3] = {h, w, 3};
        sn_error err;
        snprintf(refpath, sizeof refpath, "%s.npy", path);
        if (sn_npy_write_file(refpath, reff, 3, dims, &err) != SN_OK) {
            fprintf(stderr, "sentinel-mkimages: %s\n", err.message);
            goto done;
        }
    }
    rc = 0;
done:
    if (rc != 0 && !file) fprintf(stderr, "sentinel-mkimages: could not encode %s\n", path);
    if (is_jpeg)
        free(jpeg);
    else
        free(file);
    free(rgb);
    free(ref);
    free(reff);
    return rc;
}

int main(int argc, char **argv) {
    const char *dir = NULL;
    long count = MK_KIND_COUNT, fixed_w = 0, fixed_h = 0, seed = 1;
    int reference = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--reference")) {
            reference = 1;
        } else if (!strcmp(a, "--count") || !strcmp(a, "--size") || !strcmp(a, "--seed")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "sentinel-mkimages: %s needs a value\n", a);
                return 2;
            }
            const char *v = argv[++i];
            int bad = 0;
            if (!strcmp(a, "--count")) {
                bad = parse_long(v, 1, 10000, &count);
            } else if (!strcmp(a, "--seed")) {
                bad = parse_long(v, 0, LONG_MAX, &seed);
            } else {
                char wbuf[32];
                const char *x = strchr(v, 'x');
                size_t wl = x ? (size_t)(x - v) : 0;
                bad = !x || wl == 0 || wl >= sizeof wbuf;
                if (!bad) {
                    memcpy(wbuf, v, wl);
                    wbuf[wl] = '\0';
                    bad = parse_long(wbuf, 1, 8192, &fixed_w) || parse_long(x + 1, 1, 8192,
                                                                              &fixed_h);
                }
            }
            if (bad) {
                fprintf(stderr, "sentinel-mkimages: bad value '%s' for %s\n", v, a);
                return 2;
            }
        } else if (a[0] == '-') {
            fprintf(stderr, "sentinel-mkimages: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else if (!dir) {
            dir = a;
        } else {
            fprintf(stderr, "sentinel-mkimages: more than one directory given ('%s')\n", a);
            return 2;
        }
    }
    if (!dir) {
        usage(stderr);
        return 2;
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "sentinel-mkimages: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "sentinel-mkimages: %s is not a directory\n", dir);
        return 1;
    }
    uint64_t rs = (uint64_t)seed;
    for (int i = 0; i < count; i++) {
        int w = (int)fixed_w, h = (int)fixed_h;
        if (!w) {
            w = 61 + 2 * (int)(mk_rng(&rs) % 40); /* odd: 61..139 */
            h = 47 + 2 * (int)(mk_rng(&rs) % 30); /* odd: 47..105 */
        }
        if (make_one(dir, i, w, h, (uint64_t)seed, reference) != 0) return 1;
    }
    return 0;
}
