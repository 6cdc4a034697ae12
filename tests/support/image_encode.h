/*
 * image_encode.h - test images made in the tests themselves: JPEG through libjpeg-turbo
 * (baseline or progressive; RGB, grey or Adobe CMYK; an EXIF APP1 segment on request), PNG
 * through libspng (any colour type and bit depth, palettes), EXIF payloads with an orientation
 * tag written byte by byte, and smooth random pictures JPEG can carry well.
 */
#ifndef SN_TEST_IMAGE_ENCODE_H
#define SN_TEST_IMAGE_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "test_support.h"

/* components 3: RGB rows, 1: grey, 4: CMYK rows stored as given with Adobe's APP14 marker (so
 * a decoder reads them as inverted CMYK: 255 = no ink). app1 (may be NULL) is written as an
 * APP1 segment right after the JFIF/Adobe header. Returns malloc'ed bytes; asserts on failure. */
uint8_t *sn_test_jpeg(const uint8_t *px, int w, int h, int components, int progressive,
                      int quality, const uint8_t *app1, size_t app1_size, size_t *size);

/* A PNG of w x h samples (`color_type` as in the PNG spec: 0 grey, 2 RGB, 3 palette, 4 grey +
 * alpha, 6 RGBA; 16-bit samples big-endian as PNG stores them); plte: n_plte RGB entries. */
uint8_t *sn_test_png(const void *samples, int w, int h, int color_type, int bit_depth,
                     const uint8_t *plte, int n_plte, size_t *size);

/* An EXIF APP1 payload ("Exif\0\0", a TIFF header in little- or big-endian order, IFD0 with
 * an Orientation entry of the given value and type 3 = SHORT, or `type` when not 3) into buf
 * (at least 64 bytes); returns its length. */
size_t sn_test_exif(uint8_t *buf, int orientation, int big_endian, int type);

/* A random RGB picture of one sine per channel, 127.5 + 100 sin(fx x + fy y + phase), with fx
 * drawn from [fx_lo, fx_hi] and fy from [fy_lo, fy_hi] radians per pixel and a random phase. */
uint8_t *sn_test_sines_rgb(sn_rng *r, int w, int h, double fx_lo, double fx_hi, double fy_lo,
                          double fy_hi);

/* A smooth random RGB picture JPEG carries well at any size: sn_test_sines_rgb with 0.02 to
 * 0.12 radians per pixel (periods of about 50 to 300 pixels). */
uint8_t *sn_test_smooth_rgb(sn_rng *r, int w, int h);

/* PSNR in dB of a against b (n bytes); INFINITY when equal. */
double sn_test_psnr_u8(const uint8_t *a, const uint8_t *b, size_t n);

#endif
