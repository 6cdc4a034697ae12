/*
 * cuda_images.c - sn_engine_run_images on the GPU: one upload, one preprocessing kernel, then
 * the forward pass that sn_engine_run replays, and one download.
 *
 * The batch travels as 8-bit pixels at the images' own sizes - a quarter of the bytes of the
 * same images as f32 - packed with a table of descriptors into one pinned buffer and sent in
 * one host-to-device copy. The packed layout, which kernels/cuda/preprocess.cu reads:
 *
 *   [0, 32 n)      n descriptors of four little-endian int64 {byte offset of the image from the
 *                  buffer's start, width, height, row stride in bytes}
 *   then           each image's rows, tight (stride 3*width: a caller's row padding is not
 *                  sent), starting at a 16-byte aligned offset; gaps are zero
 *
 * The kernel (codegen_preprocess.c), compiled by the engine's first sn_engine_run_images so
 * that engines never given images do not pay for it, turns the whole batch into graph input 0
 * where the forward pass reads it - the f32 input block, or with half storage that input's
 * fp16/bf16 storage in the arena, whose cast step is then skipped (the forward pass starts at
 * first_node_step, with CUDA graphs of its own). It runs on the compute stream after the
 * upload and outside any CUDA graph: the packed buffer grows with the images, so its address
 * is not fixed.
 *
 * Buffers: one pinned packing buffer and one device buffer that receives it; each grows (by
 * half again, at least) when a batch needs more. A run waits for its outputs before returning,
 * and the next one waits for the last upload too (which a failed run may have left in flight),
 * so no copy still reads the pinned buffer when the next batch is packed into it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_engine.h"

static size_t sn__align16(size_t n) { return (n + 15) & ~(size_t)15; }

size_t sn__cuda_images_layout(int n, const sn_image_u8 *images, size_t *offsets) {
    size_t at = sn__align16((size_t)n * SN_CUDA_IMAGE_DESC_BYTES);
    for (int i = 0; i < n; i++) {
        offsets[i] = at;
        at += sn__align16((size_t)images[i].width * 3 * (size_t)images[i].height);
    }
    return at;
}

void sn__cuda_images_pack(int n, const sn_image_u8 *images, const size_t *offsets, void *dst,
                          int threads) {
    unsigned char *out = dst;
    const size_t table = (size_t)n * SN_CUDA_IMAGE_DESC_BYTES;
    memset(out + table, 0, sn__align16(table) - table);
    for (int i = 0; i < n; i++) {
        const int64_t d[4] = {(int64_t)offsets[i], images[i].width, images[i].height,
                              (int64_t)images[i].width * 3};
        memcpy(out + (size_t)i * SN_CUDA_IMAGE_DESC_BYTES, d, sizeof d);
    }
    if (threads < 1) threads = 1;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1) if (threads > 1 && n > 1)
    for (int i = 0; i < n; i++) {
        const sn_image_u8 *im = &images[i];
        const size_t row = (size_t)im->width * 3, rows = (size_t)im->height;
        const size_t stride = im->stride ? im->stride : row;
        unsigned char *to = out + offsets[i];
        if (stride == row) {
            memcpy(to, im->pixels, row * rows);
        } else {
            for (size_t r = 0; r < rows; r++) memcpy(to + r * row, im->pixels + r * stride, row);
        }
        memset(to + row * rows, 0, sn__align16(row * rows) - row * rows);
    }
}

/* At least `need` bytes, and half again what there was, in whole MiB: a stream of growing
 * batches reallocates a few times, not every time. */
static size_t sn__grown(size_t have, size_t need) {
    size_t want = have + have / 2;
    if (want < need) want = need;
    const size_t mib = (size_t)1 << 20;
    return want > SIZE_MAX - mib ? want : (want + mib - 1) & ~(mib - 1);
}

static sn_status sn__reserve(sn__cuda *s, size_t total, sn_error *err) {
    const sn_cuda_driver *cu = s->cu;
    sn_status st;
    if (s->img_pinned_bytes < total) {
        const size_t want = sn__grown(s->img_pinned_bytes, total);
        if (s->img_pinned) SN_CU_CHECK(err, cu->cuMemFreeHost(s->img_pinned));
        s->img_pinned = NULL;
        s->img_pinned_bytes = 0;
        st = sn__cuda_host_alloc(s, &s->img_pinned, want, "packed image batch", err);
        if (st != SN_OK) return st;
        s->img_pinned_bytes = want;
    }
    if (s->img_dev_bytes < total) {
        const size_t want = sn__grown(s->img_dev_bytes, total);
        if (s->img_dev) SN_CU_CHECK(err, cu->cuMemFree(s->img_dev));
        s->img_dev = 0;
        s->img_dev_bytes = 0;
        st = sn__cuda_dev_alloc(s, &s->img_dev, want, "packed image batch", err);
        if (st != SN_OK) return st;
        s->img_dev_bytes = want;
    }
    return SN_OK;
}

/* The preprocessing step and the image graphs, made by the first call: an engine that is never
 * given images compiles nothing for them. A failure leaves nothing behind, so a later call
 * tries again. */
static sn_status sn__images_prepare(sn__cuda *s, sn_error *err) {
    if (s->pre.fn) return SN_OK;
    if (s->first_node_step > 0 && !s->img_graphs &&
        !(s->img_graphs = calloc((size_t)s->cfg.max_batch, sizeof *s->img_graphs)))
        return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory preparing image runs");
    sn__step *p = &s->pre;
    *p = (sn__step){.kind = SN__STEP_PREPROCESS, .node = -1, .tensor = s->g->inputs[0]};
    sn_status st = sn_cuda_codegen_preprocess(&s->cfg.image, s->cfg.image_layout,
                                              s->cfg.max_batch, s->prec, &p->k, err);
    if (st == SN_OK) st = sn__cuda_compile(s, p, 1, err);
    if (st != SN_OK) {
        if (p->module) s->cu->cuModuleUnload(p->module);
        sn_cuda_kernel_clear(&p->k);
        *p = (sn__step){0};
    }
    return st;
}

static sn_status sn__images(sn__cuda *s, int n, const sn_image_u8 *images, size_t *offsets,
                            void *const *outputs, sn_error *err) {
    size_t in_off[SN__MAX_IO], out_off[SN__MAX_IO];
    if (s->g->n_inputs != 1 || s->g->n_outputs > SN__MAX_IO)
        return sn_errorf(err, SN_ERR_UNSUPPORTED,
                         "the GPU engine feeds images to one graph input and at most %d outputs",
                         SN__MAX_IO);
    sn_status st = sn__images_prepare(s, err);
    if (st != SN_OK) return st;
    sn__cuda_io_blocks(s, n, in_off, out_off);
    const size_t total = sn__cuda_images_layout(n, images, offsets);
    const int slot = s->ring;
    s->ring = (s->ring + 1) % SN__RING;
    /* The slot's last download, and the last upload, have finished before their pinned
     * buffers are reused. */
    SN_CU_CHECK(err, s->cu->cuEventSynchronize(s->d2h_done[slot]));
    SN_CU_CHECK(err, s->cu->cuEventSynchronize(s->h2d_done));
    if ((st = sn__reserve(s, total, err)) != SN_OK) return st;
    sn__cuda_images_pack(n, images, offsets, s->img_pinned, s->cfg.threads);
    if ((st = sn__cuda_upload(s, s->img_dev, s->img_pinned, total, err)) != SN_OK) return st;
    /* Outside any graph: img_dev moves when it grows. */
    if ((st = sn__cuda_launch(s, &s->pre, n, s->compute, err)) != SN_OK) return st;
    return sn__cuda_forward(s, s->first_node_step, n, slot, out_off, outputs, err);
}

sn_status sn__cuda_run_images(void *state, int n, const sn_image_u8 *images,
                              void *const *outputs, sn_error *err) {
    sn__cuda *s = state;
    size_t *offsets = malloc((size_t)n * sizeof *offsets);
    if (!offsets) return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory packing images");
    CUcontext popped;
    sn_status st = sn__cuda_check(SN_CUDA_LIB_DRIVER, s->cu->cuCtxPushCurrent(s->ctx),
                                  "cuCtxPushCurrent", __FILE__, __LINE__, err);
    if (st == SN_OK) {
        st = sn__images(s, n, images, offsets, outputs, err);
        s->cu->cuCtxPopCurrent(&popped);
    }
    free(offsets);
    return st;
}
