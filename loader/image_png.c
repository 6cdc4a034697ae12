/*
 * image_png.c - PNG decoding through libspng (see image.h).
 *
 * A PNG's IHDR sits at a fixed place (bytes 16-23), so the declared size is checked against the
 * pixel limit before libspng is even started. libspng's own image, chunk-size and chunk-cache
 * limits are set as a second fence (its chunk-count limit keeps its default of 1000), so
 * neither a huge IHDR nor a stream of compressed ancillary chunks (zTXt, iCCP bombs) can make
 * it allocate without bound. The image data inflates into a buffer of exactly the declared
 * size, so it cannot grow either. A walk over the chunk headers first finds files cut short.
 */
#include <stdlib.h>
#include <string.h>

#include <spng.h>

#include "error.h"
#include "image.h"

#define SN_PNG_MAX_CHUNK_BYTES ((size_t)16 << 20)   /* one ancillary chunk */
#define SN_PNG_MAX_CACHE_BYTES ((size_t)64 << 20)   /* all stored ancillary chunks */
#define SN_PNG_MAX_DIM 0x7fffffffu                  /* PNG's own limit on a side */

static uint32_t sn__be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Walks the chunk headers (not the CRCs: libspng checks those) to the IEND chunk. libspng stops
 * reading once it has the image, so a file cut inside its last chunks would otherwise pass. */
static sn_status sn__png_walk_chunks(const uint8_t *b, size_t size, sn_error *err) {
    size_t at = 8;
    for (;;) {
        if (size - at < 12)
            return sn_errorf(err, SN_ERR_FORMAT,
                             "truncated PNG: the file ends at byte %zu, before its IEND chunk",
                             size);
        uint32_t len = sn__be32(b + at);
        if (len > 0x7fffffffu)
            return sn_errorf(err, SN_ERR_FORMAT, "corrupt PNG: chunk length %u at byte %zu",
                             len, at);
        if ((size_t)len > size - at - 12) {
            char type[5];
            for (int i = 0; i < 4; i++) {
                uint8_t ch = b[at + 4 + i];
                type[i] = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ? (char)ch : '?';
            }
            type[4] = '\0';
            return sn_errorf(err, SN_ERR_FORMAT,
                             "truncated PNG: the '%s' chunk at byte %zu needs %u bytes, the "
                             "file ends at byte %zu", type, at, len + 12, size);
        }
        if (!memcmp(b + at + 4, "IEND", 4)) return SN_OK;
        at += (size_t)len + 12;
    }
}

/* A reason for a libspng error in words a user can act on. */
static sn_status sn__png_error(sn_error *err, int ret, const char *during) {
    if (ret == SPNG_IO_EOF || ret == SPNG_EIDAT_TOO_SHORT)
        return sn_errorf(err, SN_ERR_FORMAT, "truncated PNG: the file ends %s", during);
    if (ret == SPNG_EMEM)
        return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory decoding PNG");
    return sn_errorf(err, SN_ERR_FORMAT, "corrupt PNG: %s (%s)", spng_strerror(ret), during);
}

sn_status sn__image_decode_png(const void *data, size_t size, uint64_t max_pixels, sn_image *out,
                               sn_error *err) {
    const uint8_t *b = data;
    spng_ctx *ctx = NULL;
    uint8_t *pixels = NULL;
    sn_status st;
    int ret;

    if (size < 8 + 8 + 13)
        return sn_errorf(err, SN_ERR_FORMAT, "truncated PNG: %zu bytes, too short for a header",
                         size);
    if (memcmp(b + 12, "IHDR", 4) != 0)
        return sn_errorf(err, SN_ERR_FORMAT, "corrupt PNG: the first chunk is not IHDR");
    uint64_t w = sn__be32(b + 16), h = sn__be32(b + 20);
    if (w > 0 && h > 0 && w * h > max_pixels)
        return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "image is %llux%llu, over the %llu-pixel limit",
                         (unsigned long long)w, (unsigned long long)h,
                         (unsigned long long)max_pixels);

    if ((st = sn__png_walk_chunks(b, size, err)) != SN_OK) return st;

    ctx = spng_ctx_new(0);
    if (!ctx) return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory starting the PNG decoder");
    uint32_t side = max_pixels < SN_PNG_MAX_DIM ? (uint32_t)max_pixels : SN_PNG_MAX_DIM;
    if ((ret = spng_set_image_limits(ctx, side, side)) != 0 ||
        (ret = spng_set_chunk_limits(ctx, SN_PNG_MAX_CHUNK_BYTES, SN_PNG_MAX_CACHE_BYTES)) != 0 ||
        (ret = spng_set_png_buffer(ctx, data, size)) != 0) {
        st = sn_errorf(err, SN_ERR_INTERNAL, "configuring libspng: %s", spng_strerror(ret));
        goto fail;
    }
    struct spng_ihdr ihdr;
    if ((ret = spng_get_ihdr(ctx, &ihdr)) != 0) {
        st = sn__png_error(err, ret, "in the header");
        goto fail;
    }
    size_t len = 0;
    if ((ret = spng_decoded_image_size(ctx, SPNG_FMT_RGB8, &len)) != 0) {
        st = sn__png_error(err, ret, "sizing the image");
        goto fail;
    }
    if (len != (size_t)ihdr.width * ihdr.height * 3) {
        st = sn_errorf(err, SN_ERR_INTERNAL, "libspng sized a %ux%u RGB image at %zu bytes",
                       ihdr.width, ihdr.height, len);
        goto fail;
    }
    pixels = malloc(len);
    if (!pixels) {
        st = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory for a %ux%u image", ihdr.width,
                       ihdr.height);
        goto fail;
    }
    /* No gamma or transparency flags: the model sees the stored samples, alpha dropped. */
    if ((ret = spng_decode_image(ctx, pixels, len, SPNG_FMT_RGB8, 0)) != 0) {
        st = sn__png_error(err, ret, "inside the image data");
        goto fail;
    }
    /* The chunks after the image (to IEND), so their CRCs are checked too. */
    if ((ret = spng_decode_chunks(ctx)) != 0) {
        st = sn__png_error(err, ret, "after the image data");
        goto fail;
    }
    spng_ctx_free(ctx);
    out->width = (int)ihdr.width;
    out->height = (int)ihdr.height;
    out->pixels = pixels;
    return SN_OK;

fail:
    spng_ctx_free(ctx);
    free(pixels);
    return st;
}
