/*
 * image.h - decoding JPEG and PNG files into 8-bit RGB for the command-line tools.
 *
 * The format is found from the first bytes, never from the file name. Every failure returns a
 * status and a one-line reason a user can act on (truncated, corrupt, unsupported format, too
 * large, unreadable), and the declared size is checked against a pixel limit before any pixel
 * buffer is allocated, so a small hostile file cannot make us allocate gigabytes.
 *
 * JPEG goes through libjpeg-turbo (grey, YCbCr, RGB, CMYK and YCCK become RGB); PNG through
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
    uint8_t *pixels; /* malloc'ed; freed by sn_image_free */
} sn_image;

/* The format the leading bytes announce (UNKNOWN for anything else, including too few bytes). */
sn_image_format sn_image_detect(const void *data, size_t size);

/* Decode an image held in memory. max_pixels == 0 means SN_IMAGE_DEFAULT_MAX_PIXELS. On failure
 * *out is left empty and err says why: SN_ERR_FORMAT for truncated or corrupt data,
 * SN_ERR_UNSUPPORTED for another format, SN_ERR_OUT_OF_MEMORY for an image over the limit. */
sn_status sn_image_decode(const void *data, size_t size, uint64_t max_pixels, sn_image *out,
                          sn_error *err);

/* Read and decode a file; the message of a failure does not repeat the path (callers print it
 * beside the path). SN_ERR_IO when the file cannot be read. */
sn_status sn_image_load_file(const char *path, uint64_t max_pixels, sn_image *out,
                             sn_error *err);

void sn_image_free(sn_image *img);

/* Read a whole regular file into a malloc'ed buffer (plus a NUL byte that is not counted),
 * refusing files over max_bytes before reading. Shared by the image and .npy readers. */
sn_status sn_read_file(const char *path, uint64_t max_bytes, void **data, size_t *size,
                       sn_error *err);

/* Per-format decoders behind sn_image_decode (image_jpeg.c, image_png.c); max_pixels is already
 * resolved (non-zero). */
sn_status sn__image_decode_jpeg(const void *data, size_t size, uint64_t max_pixels,
                                sn_image *out, sn_error *err);
sn_status sn__image_decode_png(const void *data, size_t size, uint64_t max_pixels, sn_image *out,
                               sn_error *err);

#endif
