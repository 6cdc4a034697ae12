/*
 * image_cases.h - what the sn_engine_run_images tests share (tests/test_engine_images.c on the
 * CPU, tests/test_gpu_preprocess.c on a GPU, tests/test_cuda_fake_driver.c under the stand-in
 * driver): small image models, random 8-bit images of odd sizes, the reference batch made
 * with sn_preprocess_image, and the GPU preprocessing kernel's arithmetic run on the host.
 */
#ifndef SN_TEST_IMAGE_CASES_H
#define SN_TEST_IMAGE_CASES_H

#include <stddef.h>
#include <stdint.h>

#include "sentinel.h"
#include "test_support.h"

typedef enum sn_img_model_kind {
    SN_IMG_IDENTITY = 0, /* y = Identity(x): the output is the preprocessed input itself */
    SN_IMG_CONV = 1      /* (NHWC: Transpose to NCHW), Conv 3->4 3x3 pad 1, Relu: y [N,4,H,W] */
} sn_img_model_kind;

/* A model whose one input is x [N,3,h,w] (NCHW) or [N,h,w,3] (layout NHWC), with `meta` as its
 * preprocessing metadata (NULL or present == 0: none). Conv weights are drawn from `rng`. */
sn_model *sn_img_model(int h, int w, sn_layout layout, sn_img_model_kind kind,
                       const sn_preprocess *meta, sn_rng *rng);

/* ImageNet-style metadata for an h x w input: shorter side to `shorter` (0: stretch), BGR when
 * bgr, mean/std drawn from rng. */
sn_preprocess sn_img_meta(int h, int w, int shorter, int bgr, sn_rng *rng);

/* What an engine must preprocess m's h x w input with: the model's metadata, or without it a
 * stretch to h x w, RGB, mean 0, std 1 (spelled out here, not taken from the library). */
sn_preprocess sn_img_expected_preprocess(const sn_model *m, int h, int w);

/* n random images of the given sizes; a stride of 3*w + pad[i] bytes (pad NULL: 0, stride
 * stays 0 then), padding bytes random too. Free with sn_img_free. */
sn_image_u8 *sn_img_random(sn_rng *rng, int n, const int *w, const int *h, const int *pad);
void sn_img_free(sn_image_u8 *im, int n);

/* The reference model input for the images: sn_preprocess_image of each (copied to tight rows
 * first), n samples of 3*p->height*p->width floats (malloc'ed). */
float *sn_img_reference(const sn_preprocess *p, sn_layout layout, int n, const sn_image_u8 *im);

/* A batch packed as the CUDA backend uploads it (the layout is in runtime/cuda/cuda_images.c):
 * n descriptors of four int64 {offset, width, height, stride}, then pixels. Written
 * independently of the backend's packer, with the images in reverse order, odd gaps and a
 * row stride a little over 3*width, all of which the descriptors must carry. *bytes receives
 * the size; free() the result. */
void *sn_img_pack(int n, const sn_image_u8 *im, size_t *bytes);

/* The size of the batch as the CUDA backend packs it for its one upload (runtime/cuda/
 * cuda_images.c): n descriptors of 32 bytes, then each image's rows without padding (3*width
 * bytes each), every part starting on a 16-byte boundary. */
size_t sn_img_packed_bytes(int n, const sn_image_u8 *im);

/* The GPU preprocessing kernel (kernels/cuda/preprocess.cu) built for the host and run over a
 * packed batch into n f32 samples: the device's arithmetic, operation for operation (each
 * rounded on its own, as the _rn intrinsics do), so it must equal sn_img_reference bit for
 * bit. The f32 store stands in for the kernel's conversion to the storage type. */
void sn_img_emulate_kernel(const sn_preprocess *p, sn_layout layout, int n, const void *packed,
                           float *out);

#endif