/*
 * image.h - decoding JPEG and PNG files into 8-bit RGB for the command-line tools.
 *
 * The format is found from the first bytes, never from the file name. Every failure returns a
 * status and a one-line reason a user can act on (truncated, corrupt, unsupported format, too
 * large, unreadable), and the declared size is checked against a pixel limit before any pixel
 * buffer is allocated, so a small hostile file cannot make us allocate gigabytes.
 *
 * JPEG goes through libjpeg-turbo (grey, YCbCr, RGB, CMYK and YCCK become RGB), turned upright
 * as its EXIF orientation tag says (libexif), and, when the caller says how small the image may
 * be, decoded at a reduced scale (libjpeg-turbo's DCT scaling) instead of in full; PNG through
 * libspng (every bit depth and colour type; 16-bit samples are scaled to 8 bits and alpha is
 * dropped without compositing, as PIL's convert("RGB") does).
 */
#ifndef SN_IMAGE_H
#define SN_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "sentinel.h"

/* The default limit on width*height: 64 megapixels (an 8192x8192 image fits). */
#define SN_IMAGE_DEFAULT_MAX_PIXELS (UINT64_C(64) << 20)

/* Files larger than this are refused before they are read (1 GiB). */
#define SN_IMAGE_MAX_FILE_BYTES (UINT64_C(1) << 30)

typedef enum sn_image_format {
    SN_IMAGE_FORMAT_UNKNOWN = 0,
    SN_IMAGE_FORMAT_JPEG = 1,
    SN_IMAGE_FORMAT_PNG = 2
} sn_image_format;

/* A decoded image: width*height pixels of interleaved R, G, B bytes, rows top to bottom. */
typedef struct sn_image {
    int width, height;
    uint8_t *pixels;      /* malloc'ed; freed by sn_image_free */
    int full_width;       /* the size at scale 8/8, upright (as width and height are) */
    int full_height;
    int scale_num;        /* decoded at scale_num/8 of the stored size (8: in full) */
    int orientation;      /* the EXIF orientation that was applied: 1 (none) to 8 */
} sn_image;

/* How to decode. Start from SN_IMAGE_DECODE_OPTIONS_INIT. */
typedef struct sn_image_decode_options {
    /* Refuse images whose declared width*height is over this, before allocating anything for
     * their pixels; 0 means SN_IMAGE_DEFAULT_MAX_PIXELS. */
    uint64_t max_pixels;
    /* The smallest size the caller can use (its resize only shrinks to this): a JPEG much
     * larger is decoded at the smallest DCT scale of 1/8..8/8 that keeps the upright image at
     * least min_width x min_height with its shorter side at least min_shorter. All 0: in full.
     * PNG is always decoded in full. */
    int min_width, min_height, min_shorter;
    /* 1: keep the stored pixel order instead of turning the image by its EXIF orientation. */
    int ignore_orientation;
} sn_image_decode_options;
#define SN_IMAGE_DECODE_OPTIONS_INIT {0, 0, 0, 0, 0}

/* The options for images that will go through preprocessing p (preprocess.h): the size p's
 * resize needs (stretch: its width x height; shorter-side crop: resize_shorter), so the decoded
 * image is never smaller than what preprocessing reads. max_pixels is set as given. */
void sn_image_options_for_preprocess(sn_image_decode_options *o, const sn_preprocess *p,
                                     uint64_t max_pixels);

/* A side of `side` pixels at scale num/8: side*num/8 rounded to the nearest pixel, halves up,
 * at least 1. (libjpeg rounds up; the decoder drops a last row or column that holds less than
 * half a pixel's worth of the picture, so a reduced image keeps the proportions of the full
 * one to within half a pixel instead of stretching by up to one.) */
int sn_image_scaled_side(int side, int num);

/* The JPEG DCT scale (1..8, over 8) the options choose for a stored width x height image with
 * EXIF orientation `orientation` (5..8 turn it by a quarter, swapping its sides). */
int sn_image_jpeg_scale(const sn_image_decode_options *o, int width, int height, int orientation);

/* The format the leading bytes announce (UNKNOWN for anything else, including too few bytes). */
sn_image_format sn_image_detect(const void *data, size_t size);

/* Decode an image held in memory, in full and upright. max_pixels == 0 means
 * SN_IMAGE_DEFAULT_MAX_PIXELS. On failure *out is left empty and err says why: SN_ERR_FORMAT
 * for truncated or corrupt data, SN_ERR_UNSUPPORTED for another format, SN_ERR_OUT_OF_MEMORY
 * for an image over the limit. */
sn_status sn_image_decode(const void *data, size_t size, uint64_t max_pixels, sn_image *out,
                          sn_error *err);
/* The same with options (NULL: the defaults). */
sn_status sn_image_decode_ex(const void *data, size_t size, const sn_image_decode_options *opt,
                             sn_image *out, sn_error *err);

/* Read and decode a file; the message of a failure does not repeat the path (callers print it
 * beside the path). SN_ERR_IO when the file cannot be read. */
sn_status sn_image_load_file(const char *path, uint64_t max_pixels, sn_image *out,
                             sn_error *err);
sn_status sn_image_load_file_ex(const char *path, const sn_image_decode_options *opt,
                                sn_image *out, sn_error *err);

void sn_image_free(sn_image *img);

/* Read a whole regular file into a malloc'ed buffer (plus a NUL byte that is not counted),
 * refusing files over max_bytes before reading. Shared by the image and .npy readers. */
sn_status sn_read_file(const char *path, uint64_t max_bytes, void **data, size_t *size,
                       sn_error *err);

/* Per-format decoders behind sn_image_decode_ex (image_jpeg.c, image_png.c); opt is never NULL
 * and its max_pixels already resolved (non-zero). */
sn_status sn__image_decode_jpeg(const void *data, size_t size, const sn_image_decode_options *opt,
                                sn_image *out, sn_error *err);
sn_status sn__image_decode_png(const void *data, size_t size, uint64_t max_pixels, sn_image *out,
                               sn_error *err);

/* EXIF (image_orient.c): the orientation tag of an APP1 segment's payload ("Exif\0\0" and a TIFF
 * structure), 1 when it has none or an invalid one; and turning a decoded image upright. */
int sn__exif_orientation(const uint8_t *app1, size_t size);
sn_status sn__image_orient(sn_image *img, int orientation, sn_error *err);

#endif
