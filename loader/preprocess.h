/*
 * preprocess.h - turning a decoded RGB8 image into a model's f32 input, as the model's
 * sn_preprocess metadata describes (include/sentinel.h):
 *
 *   SN_RESIZE_STRETCH       bilinear resize to width x height (aspect ratio not kept)
 *   SN_RESIZE_SHORTER_CROP  bilinear resize so the shorter side is resize_shorter (aspect kept,
 *                           the longer side truncated as torchvision's Resize does), then a
 *                           centre crop of width x height (offsets as torchvision's CenterCrop)
 *   then x = (p/255 - mean[c]) / std[c], where c is the model's channel index: with
 *   SN_CHANNELS_BGR, channel 0 is blue and mean[0]/std[0] are blue's.
 *
 * Bilinear sampling uses pixel centres (half-pixel, PyTorch's align_corners=False), with edge
 * clamping. There is no antialiasing filter when shrinking, so a large downscale aliases more
 * than PIL's resize would; models trained on PIL-resized images may lose a little accuracy.
 */
#ifndef SN_PREPROCESS_H
#define SN_PREPROCESS_H

#include <stdint.h>

#include "sentinel.h"

/* The preprocessing for a model whose image input is [N,3,in_h,in_w] (NCHW) or [N,in_h,in_w,3]
 * (NHWC): the model's own metadata when present (which must agree with the input size), else a
 * stretch to in_h x in_w with mean 0 and std 1. The result is validated. */
sn_status sn_preprocess_resolve(const sn_preprocess *model, int64_t in_h, int64_t in_w,
                                sn_preprocess *out, sn_error *err);

/* Checks sizes (1..SN_PREPROCESS_MAX_SIDE, resize_shorter >= both crop sides), enums, and that
 * every mean is finite and every std finite and non-zero. */
sn_status sn_preprocess_validate(const sn_preprocess *p, sn_error *err);

/* Where the crop of SN_RESIZE_SHORTER_CROP lands: the resized image is rw x rh and the crop
 * starts at (x0, y0). For SN_RESIZE_STRETCH, rw x rh is width x height and the offsets are 0. */
void sn_preprocess_geometry(const sn_preprocess *p, int src_w, int src_h, int *rw, int *rh,
                            int *x0, int *y0);

/* Convert width x height RGB8 pixels (rows of 3*width bytes) into one sample of the model input
 * at dst: 3*p->height*p->width floats, planar [3][H][W] for SN_LAYOUT_NCHW (or ANY), interleaved
 * [H][W][3] for SN_LAYOUT_NHWC. p must have passed sn_preprocess_validate. */
sn_status sn_preprocess_image(const sn_preprocess *p, sn_layout layout, const uint8_t *rgb,
                              int width, int height, float *dst, sn_error *err);
/* The same for rows `stride` bytes apart (stride >= 3*width): the same results, bit for bit. */
sn_status sn_preprocess_image_strided(const sn_preprocess *p, sn_layout layout,
                                      const uint8_t *rgb, int width, int height, size_t stride,
                                      float *dst, sn_error *err);

#endif
