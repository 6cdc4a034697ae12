/*
 * codegen_preprocess.c - the batch image preprocessing kernel (kernels/cuda/preprocess.cu):
 * what is fixed per engine becomes constants; each image's size, and so its geometry and taps,
 * is read by the kernel from the packed buffer, so one compile serves every image size.
 *
 * The normalisation constants are computed exactly as loader/preprocess.c computes them (in
 * double, then rounded to float once), which together with the kernel's separately rounded
 * arithmetic makes the device's f32 values equal the CPU's.
 */
#include <stdio.h>

#include "codegen_util.h"
#include "preprocess.h"

sn_status sn_cuda_codegen_preprocess(const sn_preprocess *p, sn_layout layout, int max_batch,
                                     sn_gpu_precision precision, sn_cuda_kernel *k,
                                     sn_error *err) {
    sn_status st = sn_preprocess_validate(p, err);
    if (st != SN_OK) return st;
    if (layout != SN_LAYOUT_NCHW && layout != SN_LAYOUT_NHWC)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         "preprocessing kernel: layout %d is neither NCHW nor NHWC", (int)layout);
    if (max_batch < 1)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "preprocessing kernel: max_batch %d",
                         max_batch);
    const int W = p->width, H = p->height;
    const bool crop = p->resize == SN_RESIZE_SHORTER_CROP;
    sn_cuda_codegen_ctx ctx = {NULL, max_batch, precision, NULL};
    sn__src s;
    sn__cg_kernel_begin(k, &s, &ctx, "preprocess.cu", "sn_preprocess",
                        (int64_t)max_batch * 3 * W * H, "image preprocessing to %dx%d %s (%s%s)",
                        W, H, layout == SN_LAYOUT_NHWC ? "NHWC" : "NCHW",
                        crop ? "shorter side and crop" : "stretch",
                        p->channels == SN_CHANNELS_BGR ? ", BGR" : "");
    sn__cg_def_int(&s, "SN_OUT_W", W);
    sn__cg_def_int(&s, "SN_OUT_H", H);
    sn__cg_def_int(&s, "SN_NHWC", layout == SN_LAYOUT_NHWC);
    sn__cg_def_int(&s, "SN_CROP", crop);
    sn__cg_def_int(&s, "SN_SHORTER", crop ? p->resize_shorter : 0);
    char name[16];
    for (int c = 0; c < 3; c++) {
        snprintf(name, sizeof name, "SN_SRCC%d", c);
        sn__cg_def_int(&s, name, p->channels == SN_CHANNELS_BGR ? 2 - c : c);
        snprintf(name, sizeof name, "SN_SCALE%d", c);
        sn__cg_def_float(&s, name, (float)(1.0 / (255.0 * p->std[c])));
        snprintf(name, sizeof name, "SN_BIAS%d", c);
        sn__cg_def_float(&s, name, (float)(-(double)p->mean[c] / p->std[c]));
    }
    sn__cg_def_int(&s, "SN_THREADS", SN__THREADS);
    sn__cg_arg(k, SN_CUDA_ARG_BATCH, 0);
    sn__cg_arg(k, SN_CUDA_ARG_INPUT, 0);
    sn__cg_arg(k, SN_CUDA_ARG_OUTPUT, 0);
    sn__cg_grid_1d(k, (int64_t)W * H, 0, SN__THREADS);
    return sn__cg_kernel_end(k, &s, err);
}
