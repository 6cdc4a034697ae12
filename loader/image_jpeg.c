/*
 * image_jpeg.c - JPEG decoding through libjpeg-turbo's libjpeg API (see image.h).
 *
 * libjpeg reports fatal errors through error_exit, which by default calls exit(); ours longjmps
 * back to the decoder with the library's formatted message. It reports damaged data as warnings
 * and carries on with grey blocks; we turn the warnings that mean "this image is not what the
 * file says" (premature end of file, bad entropy codes, lost restart markers) into errors, so a
 * truncated or corrupt file is refused instead of classified as a half-grey picture.
 *
 * When the caller will shrink the image anyway (sn_image_decode_options), the decoder's DCT
 * scaling produces it at num/8 of its size straight from the coefficients: a 4000x3000 photo
 * for a 224x224 model decodes at 1/8 in a fraction of the time and memory, and the scaled
 * IDCT averages rather than drops detail. The EXIF orientation (APP1) is applied last, on the
 * decoded pixels.
 */
#include <setjmp.h>
#include <stdio.h> /* jpeglib.h needs FILE */
#include <stdlib.h>
#include <string.h>

/* jpeglib.h first: jerror.h's message list depends on jconfig.h's feature macros. */
#include <jpeglib.h>

#include <jerror.h>

#include "error.h"
#include "image.h"

/* Progressive files can hold any number of scans, each a full pass over the coefficients; a tiny
 * file with thousands of scans is a CPU bomb. Real encoders write about 10. */
#define SN_JPEG_MAX_SCANS 500

typedef struct sn_jpeg_err {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX + 64];
} sn_jpeg_err;

static void sn__jpeg_error_exit(j_common_ptr cinfo) {
    sn_jpeg_err *e = (sn_jpeg_err *)cinfo->err;
    char buf[JMSG_LENGTH_MAX];
    e->pub.format_message(cinfo, buf);
    snprintf(e->message, sizeof e->message, "corrupt JPEG: %s", buf);
    longjmp(e->jump, 1);
}

static void sn__jpeg_emit_message(j_common_ptr cinfo, int level) {
    sn_jpeg_err *e = (sn_jpeg_err *)cinfo->err;
    if (level >= 0) return; /* trace messages */
    switch (e->pub.msg_code) {
    case JWRN_JPEG_EOF:
        snprintf(e->message, sizeof e->message, "truncated JPEG: the file ends before the image");
        longjmp(e->jump, 1);
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_ARITH_BAD_CODE:
    case JWRN_MUST_RESYNC:
    case JWRN_NOT_SEQUENTIAL:
    case JWRN_BOGUS_PROGRESSION: {
        char buf[JMSG_LENGTH_MAX];
        e->pub.format_message(cinfo, buf);
        snprintf(e->message, sizeof e->message, "corrupt JPEG: %s", buf);
        longjmp(e->jump, 1);
    }
    default:
        /* Benign in practice (extraneous bytes, unknown JFIF revision, odd ICC marker): real
         * cameras write these, and every other decoder accepts the image. */
        break;
    }
}

static void sn__jpeg_output_message(j_common_ptr cinfo) { (void)cinfo; }

static void sn__jpeg_progress(j_common_ptr cinfo) {
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (d->is_decompressor && d->input_scan_number > SN_JPEG_MAX_SCANS) {
        sn_jpeg_err *e = (sn_jpeg_err *)cinfo->err;
        snprintf(e->message, sizeof e->message,
                 "corrupt JPEG: more than %d progressive scans", SN_JPEG_MAX_SCANS);
        longjmp(e->jump, 1);
    }
}

/* CMYK to RGB. Adobe writes inverted CMYK (0 = full ink) and marks its files with an APP14
 * marker; libjpeg hands both kinds through unchanged, so the convention is chosen here, as PIL
 * and ImageMagick do. */
static void sn__cmyk_to_rgb(const uint8_t *cmyk, uint8_t *rgb, int width, int inverted) {
    for (int x = 0; x < width; x++) {
        unsigned c = cmyk[4 * x], m = cmyk[4 * x + 1], y = cmyk[4 * x + 2], k = cmyk[4 * x + 3];
        if (!inverted) {
            c = 255 - c;
            m = 255 - m;
            y = 255 - y;
            k = 255 - k;
        }
        rgb[3 * x] = (uint8_t)((c * k + 127) / 255);
        rgb[3 * x + 1] = (uint8_t)((m * k + 127) / 255);
        rgb[3 * x + 2] = (uint8_t)((y * k + 127) / 255);
    }
}

/* The orientation tag of the first EXIF APP1 segment (saved by jpeg_save_markers), else 1. */
static int sn__jpeg_orientation(j_decompress_ptr cinfo) {
    for (jpeg_saved_marker_ptr m = cinfo->marker_list; m; m = m->next)
        if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 && !memcmp(m->data, "Exif\0\0", 6))
            return sn__exif_orientation(m->data, m->data_length);
    return 1;
}

sn_status sn__image_decode_jpeg(const void *data, size_t size, const sn_image_decode_options *opt,
                                sn_image *out, sn_error *err) {
    uint64_t max_pixels = opt->max_pixels;
    struct jpeg_decompress_struct cinfo;
    struct jpeg_progress_mgr progress;
    sn_jpeg_err jerr;
    /* volatile: these change between setjmp and a longjmp back to it. */
    uint8_t *volatile pixels = NULL;
    uint8_t *volatile row = NULL;
    sn_status st = SN_ERR_FORMAT;

    if (size > (size_t)(unsigned long)-1)
        return sn_errorf(err, SN_ERR_UNSUPPORTED, "JPEG data is too large");
    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = sn__jpeg_error_exit;
    jerr.pub.emit_message = sn__jpeg_emit_message;
    jerr.pub.output_message = sn__jpeg_output_message;
    jerr.message[0] = '\0';
    if (setjmp(jerr.jump)) {
        st = sn_errorf(err, SN_ERR_FORMAT, "%s",
                       jerr.message[0] ? jerr.message : "corrupt JPEG");
        goto fail;
    }
    jpeg_create_decompress(&cinfo);
    progress.progress_monitor = sn__jpeg_progress;
    cinfo.progress = &progress;
    jpeg_mem_src(&cinfo, (const unsigned char *)data, (unsigned long)size);
    if (!opt->ignore_orientation) jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xffff);
    if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) {
        st = sn_errorf(err, SN_ERR_FORMAT, "corrupt JPEG: no image in the file");
        goto fail;
    }

    /* Before jpeg_start_decompress, which allocates the coefficient and sample buffers. */
    uint64_t w = cinfo.image_width, h = cinfo.image_height;
    if (w == 0 || h == 0) {
        st = sn_errorf(err, SN_ERR_FORMAT, "corrupt JPEG: image is %llux%llu",
                       (unsigned long long)w, (unsigned long long)h);
        goto fail;
    }
    if (w * h > max_pixels) {
        st = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "image is %llux%llu, over the %llu-pixel limit",
                  (unsigned long long)w, (unsigned long long)h, (unsigned long long)max_pixels);
        goto fail;
    }
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
    case JCS_RGB:
    case JCS_YCbCr: cinfo.out_color_space = JCS_RGB; break;
    case JCS_CMYK:
    case JCS_YCCK: cinfo.out_color_space = JCS_CMYK; break;
    default:
        st = sn_errorf(err, SN_ERR_UNSUPPORTED, "unsupported JPEG colour space (%d components)",
                  cinfo.num_components);
        goto fail;
    }
    int orientation = opt->ignore_orientation ? 1 : sn__jpeg_orientation(&cinfo);
    int num = sn_image_jpeg_scale(opt, (int)w, (int)h, orientation);
    cinfo.scale_num = (unsigned)num;
    cinfo.scale_denom = 8;
    jpeg_start_decompress(&cinfo);
    if (cinfo.output_components != (cmyk ? 4 : 3)) {
        st = sn_errorf(err, SN_ERR_INTERNAL, "JPEG decoder gave %d components",
                  cinfo.output_components);
        goto fail;
    }
    /* The decoder's output size at num/8 rounds up; ours rounds to the nearest pixel
     * (image.h), so a last column or row made from less than half a pixel's worth of the
     * picture is dropped after decoding (tw x th of the ow x oh decoded). */
    uint64_t ow = cinfo.output_width, oh = cinfo.output_height;
    uint64_t tw = (uint64_t)sn_image_scaled_side((int)w, num);
    uint64_t th = (uint64_t)sn_image_scaled_side((int)h, num);
    if (tw > ow || th > oh || ow - tw > 1 || oh - th > 1) {
        st = sn_errorf(err, SN_ERR_INTERNAL, "JPEG decoder output %llux%llu at %d/8 of %llux%llu",
                       (unsigned long long)ow, (unsigned long long)oh, num,
                       (unsigned long long)w, (unsigned long long)h);
        goto fail;
    }
    size_t stride = (size_t)ow * 3;
    pixels = malloc(stride * (size_t)oh);
    if (cmyk) row = malloc((size_t)ow * 4);
    if (!pixels || (cmyk && !row)) {
        st = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory for a %llux%llu image",
                  (unsigned long long)ow, (unsigned long long)oh);
        goto fail;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        uint8_t *dst = pixels + (size_t)cinfo.output_scanline * stride;
        JSAMPROW rows[1] = {cmyk ? row : dst};
        if (jpeg_read_scanlines(&cinfo, rows, 1) != 1) {
            st = sn_errorf(err, SN_ERR_FORMAT,
                           "truncated JPEG: the decoder stopped at row %u of %u",
                           cinfo.output_scanline, cinfo.output_height);
            goto fail;
        }
        if (cmyk) sn__cmyk_to_rgb(row, dst, (int)ow, cinfo.saw_Adobe_marker);
    }
    /* Reads on to the end-of-image marker, so a file cut after the last row is caught too. */
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(row);
    /* Closes up the rows in place when a last column goes. */
    if (tw < ow)
        for (uint64_t y = 1; y < th; y++)
            memmove(pixels + y * tw * 3, pixels + y * ow * 3, (size_t)tw * 3);
    out->width = (int)tw;
    out->height = (int)th;
    out->pixels = pixels;
    out->full_width = (int)w;
    out->full_height = (int)h;
    out->scale_num = num;
    out->orientation = 1;
    if ((st = sn__image_orient(out, orientation, err)) != SN_OK) {
        sn_image_free(out);
        return st;
    }
    return SN_OK;

fail:
    jpeg_destroy_decompress(&cinfo);
    free(pixels);
    free(row);
    return st;
}
