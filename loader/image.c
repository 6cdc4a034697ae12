/*
 * image.c - format detection, file reading and dispatch to the JPEG and PNG decoders
 * (image_jpeg.c, image_png.c). See image.h.
 */
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

static const uint8_t sn__png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

sn_image_format sn_image_detect(const void *data, size_t size) {
    const uint8_t *b = data;
    if (size >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff) return SN_IMAGE_FORMAT_JPEG;
    if (size >= 8 && memcmp(b, sn__png_magic, 8) == 0) return SN_IMAGE_FORMAT_PNG;
    return SN_IMAGE_FORMAT_UNKNOWN;
}

/* Names formats people feed by mistake, so "unsupported" says what the file actually is. */
static const char *sn__known_other_format(const uint8_t *b, size_t size) {
    if (size >= 6 && (!memcmp(b, "GIF87a", 6) || !memcmp(b, "GIF89a", 6))) return "GIF";
    if (size >= 2 && !memcmp(b, "BM", 2)) return "BMP";
    if (size >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4)) return "WebP";
    if (size >= 4 && (!memcmp(b, "II*\0", 4) || !memcmp(b, "MM\0*", 4))) return "TIFF";
    if (size >= 12 && !memcmp(b + 4, "ftyp", 4)) return "HEIF/AVIF or MP4";
    if (size >= 6 && !memcmp(b, "\x93NUMPY", 6)) return "a NumPy .npy array";
    if (size >= 6 && !memcmp(b, "SGRAPH", 6)) return "a Sentinel .sgraph model";
    if (size >= 2 && b[0] == 0xff && b[1] == 0xd8) return "a damaged JPEG (no marker after SOI)";
    if (size >= 4 && !memcmp(b, sn__png_magic, 4)) return "a damaged PNG (bad signature)";
    return NULL;
}

void sn_image_options_for_preprocess(sn_image_decode_options *o, const sn_preprocess *p,
                                     uint64_t max_pixels) {
    sn_image_decode_options d = SN_IMAGE_DECODE_OPTIONS_INIT;
    *o = d;
    o->max_pixels = max_pixels;
    if (p->resize == SN_RESIZE_SHORTER_CROP) {
        o->min_shorter = p->resize_shorter;
    } else {
        o->min_width = p->width;
        o->min_height = p->height;
    }
}

int sn_image_scaled_side(int side, int num) {
    int64_t s = ((int64_t)side * num + 4) / 8;
    return s < 1 ? 1 : (int)s;
}

int sn_image_jpeg_scale(const sn_image_decode_options *o, int width, int height,
                        int orientation) {
    if (!o || (o->min_width <= 0 && o->min_height <= 0 && o->min_shorter <= 0)) return 8;
    /* Sizes are those of the upright image; a quarter turn swaps the stored sides. */
    int w = orientation >= 5 && orientation <= 8 ? height : width;
    int h = orientation >= 5 && orientation <= 8 ? width : height;
    for (int num = 1; num < 8; num++) {
        int sw = sn_image_scaled_side(w, num), sh = sn_image_scaled_side(h, num);
        if (sw >= o->min_width && sh >= o->min_height && (sw < sh ? sw : sh) >= o->min_shorter)
            return num;
    }
    return 8;
}

sn_status sn_image_decode(const void *data, size_t size, uint64_t max_pixels, sn_image *out,
                          sn_error *err) {
    sn_image_decode_options o = SN_IMAGE_DECODE_OPTIONS_INIT;
    o.max_pixels = max_pixels;
    return sn_image_decode_ex(data, size, &o, out, err);
}

sn_status sn_image_decode_ex(const void *data, size_t size, const sn_image_decode_options *opt,
                             sn_image *out, sn_error *err) {
    if (!out || (!data && size)) return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "no image");
    memset(out, 0, sizeof *out);
    sn_image_decode_options o = SN_IMAGE_DECODE_OPTIONS_INIT;
    if (opt) o = *opt;
    if (o.max_pixels == 0) o.max_pixels = SN_IMAGE_DEFAULT_MAX_PIXELS;
    if (size == 0) return sn_errorf(err, SN_ERR_FORMAT, "the file is empty");
    switch (sn_image_detect(data, size)) {
    case SN_IMAGE_FORMAT_JPEG: return sn__image_decode_jpeg(data, size, &o, out, err);
    case SN_IMAGE_FORMAT_PNG: {
        sn_status s = sn__image_decode_png(data, size, o.max_pixels, out, err);
        if (s == SN_OK) {
            out->full_width = out->width;
            out->full_height = out->height;
            out->scale_num = 8;
            out->orientation = 1;
        }
        return s;
    }
    default: break;
    }
    const uint8_t *b = data;
    const char *what = sn__known_other_format(b, size);
    if (what)
        return sn_errorf(err, SN_ERR_UNSUPPORTED, "unsupported format: %s, not JPEG or PNG", what);
    char hex[3 * 8 + 1] = "";
    size_t len = 0;
    for (size_t i = 0; i < size && i < 8; i++)
        len += (size_t)snprintf(hex + len, sizeof hex - len, "%s%02x", i ? " " : "", b[i]);
    return sn_errorf(err, SN_ERR_UNSUPPORTED,
                     "unsupported format: not JPEG or PNG (starts with bytes %s)", hex);
}

sn_status sn_read_file(const char *path, uint64_t max_bytes, void **data, size_t *size,
                       sn_error *err) {
    *data = NULL;
    *size = 0;
    /* O_NONBLOCK: opening a FIFO (or a device) would otherwise wait for a writer, forever;
     * such files are refused below, and reads of a regular file ignore the flag. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return sn_errorf(err, SN_ERR_IO, "cannot open: %s", strerror(errno));
    struct stat st;
    char *buf = NULL;
    sn_status s;
    if (fstat(fd, &st) != 0) {
        s = sn_errorf(err, SN_ERR_IO, "cannot stat: %s", strerror(errno));
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        s = sn_errorf(err, SN_ERR_IO, "is a directory");
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        s = sn_errorf(err, SN_ERR_IO, "not a regular file");
        goto fail;
    }
    if ((uint64_t)st.st_size > max_bytes) {
        s = sn_errorf(err, SN_ERR_IO, "the file is %lld bytes, over the %llu-byte limit",
                      (long long)st.st_size, (unsigned long long)max_bytes);
        goto fail;
    }
    size_t want = (size_t)st.st_size, got = 0;
    buf = malloc(want + 1);
    if (!buf) {
        s = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory reading %zu bytes", want);
        goto fail;
    }
    while (got < want) {
        ssize_t r = read(fd, buf + got, want - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            s = sn_errorf(err, SN_ERR_IO, "read failed: %s", strerror(errno));
            goto fail;
        }
        if (r == 0) {
            /* The file shrank while we read it. */
            s = sn_errorf(err, SN_ERR_IO, "the file changed while it was read");
            goto fail;
        }
        got += (size_t)r;
    }
    buf[want] = '\0';
    close(fd);
    *data = buf;
    *size = want;
    return SN_OK;

fail:
    free(buf);
    close(fd);
    return s;
}

sn_status sn_image_load_file(const char *path, uint64_t max_pixels, sn_image *out,
                             sn_error *err) {
    sn_image_decode_options o = SN_IMAGE_DECODE_OPTIONS_INIT;
    o.max_pixels = max_pixels;
    return sn_image_load_file_ex(path, &o, out, err);
}

sn_status sn_image_load_file_ex(const char *path, const sn_image_decode_options *opt,
                                sn_image *out, sn_error *err) {
    void *data;
    size_t size;
    if (!out) return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "no image");
    memset(out, 0, sizeof *out);
    sn_status s = sn_read_file(path, SN_IMAGE_MAX_FILE_BYTES, &data, &size, err);
    if (s != SN_OK) return s;
    s = sn_image_decode_ex(data, size, opt, out, err);
    free(data);
    return s;
}

void sn_image_free(sn_image *img) {
    if (!img) return;
    free(img->pixels);
    memset(img, 0, sizeof *img);
}
