/*
 * engine_images.c - sn_engine_run_images: whether an engine's model takes images, checking the
 * caller's images, and the host path.
 *
 * A model takes images when it has exactly one input, f32, [N,3,H,W] (or [N,H,W,3] when the
 * input is declared NHWC) with a dynamic or fixed-1 batch, and preprocessing that resolves for
 * that size (its own metadata, or a plain stretch without it: loader/preprocess.h). This is
 * decided once, when the engine is created, and handed to the backend in its configuration,
 * from which a GPU backend builds its preprocessing kernel (on the first call).
 *
 * Host path, for backends without run_images (the CPU): every image is preprocessed on the CPU
 * (sn_preprocess_image_strided, one image per thread) into an f32 batch the engine keeps, and
 * the batch runs as sn_engine_run would run it; the results are therefore exactly those of
 * sn_preprocess_image followed by sn_engine_run. The GPU backend's own path, which uploads the
 * 8-bit pixels and preprocesses on the device, is runtime/cuda/cuda_images.c.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "error.h"
#include "preprocess.h"

/* Writes why the model takes no images; returns false for the caller's convenience. */
static bool sn__no_images(sn_engine *e, const char *fmt, ...) SN_PRINTF(2, 3);
static bool sn__no_images(sn_engine *e, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->img_why, sizeof e->img_why, fmt, ap);
    va_end(ap);
    e->img_ok = false;
    return false;
}

static bool sn__describe(sn_engine *e) {
    const sn_model *m = e->model;
    int n_in = sn_model_input_count(m);
    if (n_in != 1)
        return sn__no_images(e, "the model has %d inputs; images feed a model with exactly one",
                             n_in);
    sn_tensor_info in;
    if (sn_model_input_info(m, 0, &in) != SN_OK)
        return sn__no_images(e, "the model's input cannot be described");
    if (in.dtype != SN_DTYPE_F32)
        return sn__no_images(e, "the model's input '%s' is %s, not float32", in.name,
                             sn_dtype_name(in.dtype));
    if (in.rank != 4 || (in.dims[0] != SN_DIM_BATCH && in.dims[0] != 1))
        return sn__no_images(e,
                             "the model's input '%s' (rank %d) is not an image batch [N,3,H,W] "
                             "or [N,H,W,3]",
                             in.name, in.rank);
    const bool nhwc = in.layout == SN_LAYOUT_NHWC;
    const int64_t c = nhwc ? in.dims[3] : in.dims[1], h = nhwc ? in.dims[1] : in.dims[2],
                  w = nhwc ? in.dims[2] : in.dims[3];
    if (c != 3)
        return sn__no_images(e,
                             "the model's input '%s' has %lld channels (%s); images have 3",
                             in.name, (long long)c, nhwc ? "NHWC" : "NCHW");
    sn_preprocess meta;
    if (sn_model_preprocess(m, &meta) != SN_OK) meta.present = 0;
    sn_error why = {0};
    if (sn_preprocess_resolve(&meta, h, w, &e->img_pre, &why) != SN_OK)
        return sn__no_images(e, "the model's preprocessing is unusable: %s", why.message);
    /* The engine's graph keeps the model's interface; this only guards that promise. */
    if (e->in_bytes[0] != (size_t)(3 * h * w) * sizeof(float))
        return sn__no_images(e, "the engine's input holds %zu bytes per sample, not 3x%lldx%lld "
                                "floats", e->in_bytes[0], (long long)h, (long long)w);
    e->img_layout = nhwc ? SN_LAYOUT_NHWC : SN_LAYOUT_NCHW;
    e->img_ok = true;
    return true;
}

void sn__engine_describe_images(sn_engine *e, sn_backend_config *cfg) {
    cfg->image_input = sn__describe(e);
    if (cfg->image_input) {
        cfg->image = e->img_pre;
        cfg->image_layout = e->img_layout;
    }
}

void sn__engine_images_free(sn_engine *e) {
    free(e->img_stage);
    e->img_stage = NULL;
    e->img_stage_bytes = 0;
}

/* The caller's images: pixels present, sides in 1..SN_PREPROCESS_MAX_SIDE, a stride that holds
 * a row and whose image size fits in size_t. */
static sn_status sn__check_images(int n, const sn_image_u8 *im, sn_error *err) {
    if (!im)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "sn_engine_run_images: images is NULL");
    for (int i = 0; i < n; i++) {
        const sn_image_u8 *m = &im[i];
        if (m->width < 1 || m->height < 1)
            return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                             "sn_engine_run_images: image %d is %dx%d: empty", i, m->width,
                             m->height);
        if (m->width > SN_PREPROCESS_MAX_SIDE || m->height > SN_PREPROCESS_MAX_SIDE)
            return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                             "sn_engine_run_images: image %d is %dx%d: a side exceeds %d pixels "
                             "(SN_PREPROCESS_MAX_SIDE)",
                             i, m->width, m->height, SN_PREPROCESS_MAX_SIDE);
        if (!m->pixels)
            return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                             "sn_engine_run_images: image %d (%dx%d) has no pixels (NULL)", i,
                             m->width, m->height);
        const size_t row = (size_t)m->width * 3;
        if (m->stride != 0 && m->stride < row)
            return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                             "sn_engine_run_images: image %d: stride %zu is less than a row of "
                             "%d pixels (%zu bytes)",
                             i, m->stride, m->width, row);
        if (m->stride > SIZE_MAX / (size_t)m->height)
            return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                             "sn_engine_run_images: image %d: stride %zu times %d rows overflows",
                             i, m->stride, m->height);
    }
    return SN_OK;
}

/* Preprocess on the CPU into the engine's f32 batch, then an ordinary run. */
static sn_status sn__images_on_host(sn_engine *e, int n, const sn_image_u8 *im,
                                    void *const *outputs, sn_error *err) {
    const size_t per = e->in_bytes[0], need = per * (size_t)n;
    if (need > e->img_stage_bytes) {
        free(e->img_stage);
        e->img_stage_bytes = 0;
        if (!(e->img_stage = malloc(need)))
            return sn_errorf(err, SN_ERR_OUT_OF_MEMORY,
                             "sn_engine_run_images: out of memory for %zu bytes of "
                             "preprocessed images",
                             need);
        e->img_stage_bytes = need;
    }
    const int threads = e->threads < n ? e->threads : n;
    int bad = -1;
    sn_status bad_st = SN_OK;
    sn_error bad_err = {0};
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1) if (threads > 1)
    for (int i = 0; i < n; i++) {
        sn_error ie = {0};
        const size_t stride = im[i].stride ? im[i].stride : (size_t)im[i].width * 3;
        float *dst = (float *)((unsigned char *)e->img_stage + per * (size_t)i);
        sn_status st = sn_preprocess_image_strided(&e->img_pre, e->img_layout, im[i].pixels,
                                                   im[i].width, im[i].height, stride, dst, &ie);
        if (st != SN_OK) {
#pragma omp critical(sn_engine_images)
            if (bad < 0 || i < bad) {
                bad = i;
                bad_st = st;
                bad_err = ie;
            }
        }
    }
    if (bad >= 0)
        return sn_errorf(err, bad_st, "sn_engine_run_images: image %d: %s", bad, bad_err.message);
    const void *in[1] = {e->img_stage};
    return e->ops->run(e->state, n, in, outputs, err);
}

sn_status sn_engine_run_images(sn_engine *e, int n, const sn_image_u8 *images,
                               void *const *outputs, sn_error *err) {
    sn_error_clear(err);
    if (!e) return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "sn_engine_run_images: engine is NULL");
    if (!e->img_ok)
        return sn_errorf(err, SN_ERR_UNSUPPORTED, "sn_engine_run_images: %s", e->img_why);
    if (n < 1 || n > e->max_batch)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         "sn_engine_run_images: n %d is outside 1..%d (the engine's max_batch)",
                         n, e->max_batch);
    if (n > 1 && !e->in_batched[0])
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         "sn_engine_run_images: n is %d but the model's input has a fixed batch "
                         "of 1",
                         n);
    sn_status st = sn__check_images(n, images, err);
    if (st != SN_OK) return st;
    st = sn__engine_check_buffers(e, n, false, NULL, outputs, "sn_engine_run_images", err);
    if (st != SN_OK) return st;
    pthread_mutex_lock(&e->lock);
    if (e->ops->run_images)
        st = e->ops->run_images(e->state, n, images, outputs, err);
    else
        st = sn__images_on_host(e, n, images, outputs, err);
    if (st == SN_OK) {
        e->runs++;
        e->image_runs++;
        e->images += (uint64_t)n;
    }
    pthread_mutex_unlock(&e->lock);
    return st;
}
