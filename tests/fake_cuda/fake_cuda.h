/*
 * fake_cuda.h - what the stand-in libcuda.so.1 (fake_libcuda.c) counts, and how a test reaches
 * the counters. Tests do not link the fake driver: the runtime dlopens "libcuda.so.1" itself
 * (LD_LIBRARY_PATH points at the fake one), and the test must read that same loaded copy.
 */
#ifndef SN_FAKE_CUDA_H
#define SN_FAKE_CUDA_H

#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sn_fake_cuda_stats {
    int allocs, frees, launches, captured, graph_launches, modules, h2d, d2h, d2d;
    size_t bytes_in_use, peak_bytes;
    int bad_launches; /* bad shape, unknown function, or a pointer into no allocation */
    char last_bad[256];
    uintptr_t last_h2d_dst; /* the latest host-to-device copy: where to, how many bytes */
    size_t last_h2d_bytes;
} sn_fake_cuda_stats;

/* The loaded driver's counters: NULL when no libcuda.so.1 is loaded yet (load it first, e.g.
 * with sn_cuda_driver_get) or when it is a real driver. */
static inline sn_fake_cuda_stats *sn_fake_cuda_find(void) {
    void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (!lib) return NULL;
    sn_fake_cuda_stats *(*get)(void) =
        (sn_fake_cuda_stats * (*)(void)) dlsym(lib, "sn_fake_cuda_stats_get");
    dlclose(lib); /* still loaded: the runtime holds it */
    return get ? get() : NULL;
}

#endif
