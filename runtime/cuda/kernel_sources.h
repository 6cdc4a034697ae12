/*
 * kernel_sources.h - the CUDA kernel templates (the .cu files and common.cuh in kernels/cuda),
 * embedded in the library at build time by cmake/embed_kernels.cmake, so a program needs no
 * source tree to run on a GPU. Each text is NUL-terminated; size excludes the NUL.
 */
#ifndef SN_KERNEL_SOURCES_H
#define SN_KERNEL_SOURCES_H

#include <stddef.h>

typedef struct sn_cuda_source {
    const char *name; /* file name: "fused_conv.cu" */
    const char *text;
    size_t size;
} sn_cuda_source;

extern const sn_cuda_source sn_cuda_sources[];
extern const int sn_cuda_source_count;

/* NULL when no template has that name. */
const sn_cuda_source *sn_cuda_source_find(const char *name);

#endif
