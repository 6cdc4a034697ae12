/*
 * fake_libcuda.c - a stand-in libcuda.so.1 for machines without a GPU, so the CUDA backend's
 * host side (device setup, planning, compiling, module loading, uploads, staging, CUDA graph
 * capture and replay, device runs, out-of-memory handling) runs for real, under the sanitizers,
 * in tests/test_cuda_fake_driver.c. It cannot run kernels: device memory is host memory, copies
 * are memcpy, streams are synchronous, and a launch only checks that its function exists, that
 * its shape is legal and that every argument that looks like a device pointer points into a live
 * allocation. Everything it is asked is counted in a struct the test reads (sn_fake_cuda_stats).
 *
 * Knobs (environment): SN_FAKE_CUDA_MEM device bytes (default 4 GiB), SN_FAKE_CUDA_CC compute
 * capability as 10*major+minor (default 90).
 */
#include <cuda.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_cuda.h"


sn_fake_cuda_stats sn_fake_cuda_stats_v;
__attribute__((visibility("default"))) sn_fake_cuda_stats *sn_fake_cuda_stats_get(void) {
    return &sn_fake_cuda_stats_v;
}

#define MAX_ALLOCS 4096
static struct {
    uintptr_t base;
    size_t size;
} allocs[MAX_ALLOCS];

static size_t mem_limit(void) {
    const char *v = getenv("SN_FAKE_CUDA_MEM");
    return v ? (size_t)strtoull(v, NULL, 10) : (size_t)4 << 30;
}

static bool in_alloc(uintptr_t p) {
    for (int i = 0; i < MAX_ALLOCS; i++)
        if (allocs[i].base && p >= allocs[i].base && p < allocs[i].base + allocs[i].size)
            return true;
    return false;
}

CUresult cuInit(unsigned int f) {
    (void)f;
    return CUDA_SUCCESS;
}
/* NVRTC looks for a loaded driver and asks it for private tables; having none is an answer it
 * handles (it is what an old driver says). */
CUresult cuGetExportTable(const void **table, const CUuuid *id) {
    (void)id;
    *table = NULL;
    return CUDA_ERROR_NOT_SUPPORTED;
}
CUresult cuDriverGetVersion(int *v) {
    *v = 13000;
    return CUDA_SUCCESS;
}
CUresult cuGetErrorString(CUresult r, const char **s) {
    *s = r == CUDA_ERROR_OUT_OF_MEMORY ? "out of memory" : "fake error";
    return CUDA_SUCCESS;
}
CUresult cuGetErrorName(CUresult r, const char **s) {
    *s = r == CUDA_ERROR_OUT_OF_MEMORY ? "CUDA_ERROR_OUT_OF_MEMORY" : "CUDA_ERROR_FAKE";
    return CUDA_SUCCESS;
}
CUresult cuDeviceGet(CUdevice *d, int i) {
    if (i != 0) return CUDA_ERROR_INVALID_DEVICE;
    *d = 0;
    return CUDA_SUCCESS;
}
CUresult cuDeviceGetCount(int *n) {
    *n = 1;
    return CUDA_SUCCESS;
}
CUresult cuDeviceGetAttribute(int *v, CUdevice_attribute a, CUdevice d) {
    (void)d;
    const char *cc = getenv("SN_FAKE_CUDA_CC");
    int c = cc ? atoi(cc) : 90;
    *v = a == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR   ? c / 10
         : a == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR ? c % 10
                                                             : 0;
    return CUDA_SUCCESS;
}
CUresult cuDeviceGetName(char *name, int len, CUdevice d) {
    (void)d;
    snprintf(name, (size_t)len, "Fake GPU (no kernels run)");
    return CUDA_SUCCESS;
}
CUresult cuDeviceTotalMem_v2(size_t *b, CUdevice d) {
    (void)d;
    *b = mem_limit();
    return CUDA_SUCCESS;
}
static int ctx_token;
CUresult cuDevicePrimaryCtxRetain(CUcontext *c, CUdevice d) {
    (void)d;
    *c = (CUcontext)&ctx_token;
    return CUDA_SUCCESS;
}
CUresult cuDevicePrimaryCtxRelease_v2(CUdevice d) {
    (void)d;
    return CUDA_SUCCESS;
}
static int ctx_depth;
CUresult cuCtxPushCurrent_v2(CUcontext c) {
    (void)c;
    ctx_depth++;
    return CUDA_SUCCESS;
}
CUresult cuCtxPopCurrent_v2(CUcontext *c) {
    if (c) *c = (CUcontext)&ctx_token;
    return ctx_depth-- > 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_CONTEXT;
}

CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t n) {
    sn_fake_cuda_stats *s = &sn_fake_cuda_stats_v;
    if (n == 0) return CUDA_ERROR_INVALID_VALUE;
    if (s->bytes_in_use + n > mem_limit()) return CUDA_ERROR_OUT_OF_MEMORY;
    void *m = malloc(n);
    if (!m) return CUDA_ERROR_OUT_OF_MEMORY;
    memset(m, 0xA5, n); /* never zero: a read of unwritten memory shows */
    for (int i = 0; i < MAX_ALLOCS; i++)
        if (!allocs[i].base) {
            allocs[i].base = (uintptr_t)m;
            allocs[i].size = n;
            break;
        }
    s->allocs++;
    s->bytes_in_use += n;
    if (s->bytes_in_use > s->peak_bytes) s->peak_bytes = s->bytes_in_use;
    *p = (CUdeviceptr)(uintptr_t)m;
    return CUDA_SUCCESS;
}
CUresult cuMemFree_v2(CUdeviceptr p) {
    for (int i = 0; i < MAX_ALLOCS; i++)
        if (allocs[i].base == (uintptr_t)p) {
            sn_fake_cuda_stats_v.bytes_in_use -= allocs[i].size;
            sn_fake_cuda_stats_v.frees++;
            allocs[i].base = 0;
            free((void *)(uintptr_t)p);
            return CUDA_SUCCESS;
        }
    return CUDA_ERROR_INVALID_VALUE;
}
CUresult cuMemGetInfo_v2(size_t *f, size_t *t) {
    *t = mem_limit();
    *f = *t - sn_fake_cuda_stats_v.bytes_in_use;
    return CUDA_SUCCESS;
}
CUresult cuMemHostAlloc(void **p, size_t n, unsigned int f) {
    (void)f;
    *p = malloc(n);
    return *p ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}
CUresult cuMemFreeHost(void *p) {
    free(p);
    return CUDA_SUCCESS;
}
CUresult cuMemcpyHtoD_v2(CUdeviceptr d, const void *h, size_t n) {
    memcpy((void *)(uintptr_t)d, h, n);
    sn_fake_cuda_stats_v.h2d++;
    sn_fake_cuda_stats_v.last_h2d_dst = (uintptr_t)d;
    sn_fake_cuda_stats_v.last_h2d_bytes = n;
    return CUDA_SUCCESS;
}
CUresult cuMemcpyDtoH_v2(void *h, CUdeviceptr d, size_t n) {
    memcpy(h, (void *)(uintptr_t)d, n);
    sn_fake_cuda_stats_v.d2h++;
    return CUDA_SUCCESS;
}
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr d, const void *h, size_t n, CUstream s) {
    (void)s;
    return cuMemcpyHtoD_v2(d, h, n);
}
CUresult cuMemcpyDtoHAsync_v2(void *h, CUdeviceptr d, size_t n, CUstream s) {
    (void)s;
    return cuMemcpyDtoH_v2(h, d, n);
}
CUresult cuMemsetD8Async(CUdeviceptr d, unsigned char v, size_t n, CUstream s) {
    (void)s;
    memset((void *)(uintptr_t)d, v, n);
    return CUDA_SUCCESS;
}

/* Streams and events are tokens; a stream being captured records launches into a graph. */
typedef struct fake_launch {
    CUfunction f;
    unsigned g[3], b;
} fake_launch;
typedef struct fake_graph {
    fake_launch *l;
    int n, cap;
    int d2d;
} fake_graph;
typedef struct fake_stream {
    fake_graph *capturing;
} fake_stream;

CUresult cuStreamCreate(CUstream *s, unsigned int f) {
    (void)f;
    *s = calloc(1, sizeof(fake_stream));
    return CUDA_SUCCESS;
}
CUresult cuStreamDestroy_v2(CUstream s) {
    free(s);
    return CUDA_SUCCESS;
}
CUresult cuStreamSynchronize(CUstream s) {
    (void)s;
    return CUDA_SUCCESS;
}
CUresult cuStreamWaitEvent(CUstream s, CUevent e, unsigned int f) {
    (void)s;
    (void)e;
    (void)f;
    return CUDA_SUCCESS;
}
CUresult cuEventCreate(CUevent *e, unsigned int f) {
    (void)f;
    *e = malloc(1);
    return CUDA_SUCCESS;
}
CUresult cuEventDestroy_v2(CUevent e) {
    free(e);
    return CUDA_SUCCESS;
}
CUresult cuEventRecord(CUevent e, CUstream s) {
    (void)e;
    (void)s;
    return CUDA_SUCCESS;
}
CUresult cuEventSynchronize(CUevent e) {
    (void)e;
    return CUDA_SUCCESS;
}
/* Streams are synchronous and nothing runs: every interval is the same made-up millisecond
 * (sentinel-bench kernels' test only checks that its timing path runs). */
CUresult cuEventElapsedTime_v2(float *ms, CUevent a, CUevent b) {
    if (!ms || !a || !b) return CUDA_ERROR_INVALID_VALUE;
    *ms = 1.0f;
    return CUDA_SUCCESS;
}
CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr d, CUdeviceptr src, size_t n, CUstream s) {
    fake_stream *fs = (fake_stream *)s;
    if (!in_alloc((uintptr_t)d) || !in_alloc((uintptr_t)src)) return CUDA_ERROR_INVALID_VALUE;
    if (fs && fs->capturing) fs->capturing->d2d++;
    memmove((void *)(uintptr_t)d, (void *)(uintptr_t)src, n);
    sn_fake_cuda_stats_v.d2d++;
    return CUDA_SUCCESS;
}

CUresult cuStreamBeginCapture_v2(CUstream s, CUstreamCaptureMode m) {
    (void)m;
    fake_stream *fs = (fake_stream *)s;
    if (!fs || fs->capturing) return CUDA_ERROR_ILLEGAL_STATE;
    fs->capturing = calloc(1, sizeof(fake_graph));
    return CUDA_SUCCESS;
}
CUresult cuStreamEndCapture(CUstream s, CUgraph *g) {
    fake_stream *fs = (fake_stream *)s;
    if (!fs || !fs->capturing) return CUDA_ERROR_ILLEGAL_STATE;
    *g = (CUgraph)fs->capturing;
    fs->capturing = NULL;
    return CUDA_SUCCESS;
}
CUresult cuGraphInstantiateWithFlags(CUgraphExec *e, CUgraph g, unsigned long long f) {
    (void)f;
    fake_graph *src = (fake_graph *)g, *copy = calloc(1, sizeof *copy);
    *copy = *src;
    copy->l = malloc(sizeof(fake_launch) * (size_t)(src->n ? src->n : 1));
    memcpy(copy->l, src->l, sizeof(fake_launch) * (size_t)src->n);
    *e = (CUgraphExec)copy;
    return CUDA_SUCCESS;
}
CUresult cuGraphDestroy(CUgraph g) {
    fake_graph *fg = (fake_graph *)g;
    free(fg->l);
    free(fg);
    return CUDA_SUCCESS;
}
CUresult cuGraphExecDestroy(CUgraphExec e) { return cuGraphDestroy((CUgraph)e); }
CUresult cuGraphLaunch(CUgraphExec e, CUstream s) {
    (void)s;
    fake_graph *g = (fake_graph *)e;
    sn_fake_cuda_stats_v.graph_launches++;
    sn_fake_cuda_stats_v.launches += g->n;
    return CUDA_SUCCESS;
}

/* A module keeps its cubin, so function names can be checked against it. */
typedef struct fake_module {
    unsigned char *image;
    size_t size;
} fake_module;
CUresult cuModuleLoadData(CUmodule *m, const void *image) {
    const unsigned char *p = image;
    if (memcmp(p, "\177ELF", 4) != 0) return CUDA_ERROR_INVALID_IMAGE;
    /* ELF64 section headers end the file: e_shoff + e_shnum * e_shentsize. */
    uint64_t shoff;
    uint16_t shentsize, shnum;
    memcpy(&shoff, p + 0x28, 8);
    memcpy(&shentsize, p + 0x3A, 2);
    memcpy(&shnum, p + 0x3C, 2);
    fake_module *fm = calloc(1, sizeof *fm);
    fm->size = (size_t)(shoff + (uint64_t)shnum * shentsize);
    fm->image = malloc(fm->size);
    memcpy(fm->image, image, fm->size);
    sn_fake_cuda_stats_v.modules++;
    *m = (CUmodule)fm;
    return CUDA_SUCCESS;
}
CUresult cuModuleUnload(CUmodule m) {
    fake_module *fm = (fake_module *)m;
    free(fm->image);
    free(fm);
    return CUDA_SUCCESS;
}
CUresult cuModuleGetFunction(CUfunction *f, CUmodule m, const char *name) {
    fake_module *fm = (fake_module *)m;
    size_t n = strlen(name) + 1; /* the symbol with its NUL, in the string table */
    for (size_t i = 0; i + n <= fm->size; i++)
        if (!memcmp(fm->image + i, name, n) && (i == 0 || fm->image[i - 1] == 0)) {
            *f = (CUfunction)fm;
            return CUDA_SUCCESS;
        }
    return CUDA_ERROR_NOT_FOUND;
}

static void bad(const char *what) {
    sn_fake_cuda_stats_v.bad_launches++;
    snprintf(sn_fake_cuda_stats_v.last_bad, sizeof sn_fake_cuda_stats_v.last_bad, "%s", what);
}

CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                        unsigned by, unsigned bz, unsigned smem, CUstream s, void **params,
                        void **extra) {
    (void)smem;
    (void)extra;
    if (!f) bad("no function");
    if (!gx || !gy || !gz || gy > 65535 || gz > 65535) bad("grid shape");
    if (!bx || bx * by * bz > 1024 || bx % 32) bad("block shape");
    /* Every argument is a CUdeviceptr or an int; an 8-byte value that is not a small integer
     * and not 0 must point into an allocation. Reading 8 bytes of an int argument is safe:
     * the engine keeps each in its own slot of an array. */
    for (int i = 0; params && params[i] && i < 8; i++) {
        uint64_t v;
        memcpy(&v, params[i], 8);
        if (v > ((uint64_t)1 << 32) && !in_alloc((uintptr_t)v)) bad("pointer outside memory");
    }
    fake_stream *fs = (fake_stream *)s;
    if (fs && fs->capturing) {
        fake_graph *g = fs->capturing;
        if (g->n == g->cap) {
            g->cap = g->cap ? 2 * g->cap : 64;
            g->l = realloc(g->l, sizeof(fake_launch) * (size_t)g->cap);
        }
        g->l[g->n++] = (fake_launch){f, {gx, gy, gz}, bx};
        sn_fake_cuda_stats_v.captured++;
        return CUDA_SUCCESS;
    }
    sn_fake_cuda_stats_v.launches++;
    return CUDA_SUCCESS;
}
