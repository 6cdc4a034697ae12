/*
 * kbench_vendor.c - cuBLAS and cuDNN for `sentinel-bench kernels`: the arithmetic roofline
 * (a large GEMM per precision) and the same conv / dense layer through the vendor library.
 *
 * Like the runtime, which links neither, both are loaded with dlopen: $SENTINEL_CUBLAS_LIBRARY /
 * $SENTINEL_CUDNN_LIBRARY (paths) first, then the usual sonames on the loader's path and under
 * $CUDA_HOME and /usr/local/cuda. The headers only give types and prototypes (each table entry
 * has the type of the function it is called as); where a header is missing at build time the
 * comparison is compiled out and the run says so.
 *
 * What is compared: cuDNN's fastest forward algorithm (cudnnFindConvolutionForwardAlgorithm)
 * for the convolution alone - Sentinel's fused kernel also adds the bias, the residual and the
 * activation, so the ratio slightly favours cuDNN; cuBLAS's GEMM for the dense layer, without
 * its bias. Buffers rotate beyond L2 as for Sentinel's kernels; calls are timed back to back
 * between events (no graph capture: a library may allocate or synchronise inside a call).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kbench.h"

#if defined(__has_include)
#if __has_include(<cublas_v2.h>)
#include <cublas_v2.h>
#define SN__KB_CUBLAS 1
#endif
#if __has_include(<cudnn.h>)
#include <cudnn.h>
#define SN__KB_CUDNN 1
#endif
#endif
#ifndef SN__KB_CUBLAS
#define SN__KB_CUBLAS 0
#endif
#ifndef SN__KB_CUDNN
#define SN__KB_CUDNN 0
#endif

#define SN__F(f) __typeof__(&f) f

struct sn_kb_vendor_libs {
    sn_kb_device *d;
#if SN__KB_CUBLAS
    void *blas_lib;
    cublasHandle_t blas;
    SN__F(cublasCreate_v2);
    SN__F(cublasDestroy_v2);
    SN__F(cublasSetStream_v2);
    SN__F(cublasGemmEx);
#endif
#if SN__KB_CUDNN
    void *dnn_lib;
    cudnnHandle_t dnn;
    SN__F(cudnnCreate);
    SN__F(cudnnDestroy);
    SN__F(cudnnSetStream);
    SN__F(cudnnGetErrorString);
    SN__F(cudnnCreateTensorDescriptor);
    SN__F(cudnnSetTensor4dDescriptor);
    SN__F(cudnnDestroyTensorDescriptor);
    SN__F(cudnnCreateFilterDescriptor);
    SN__F(cudnnSetFilter4dDescriptor);
    SN__F(cudnnDestroyFilterDescriptor);
    SN__F(cudnnCreateConvolutionDescriptor);
    SN__F(cudnnSetConvolution2dDescriptor);
    SN__F(cudnnSetConvolutionGroupCount);
    SN__F(cudnnSetConvolutionMathType);
    SN__F(cudnnDestroyConvolutionDescriptor);
    SN__F(cudnnGetConvolution2dForwardOutputDim);
    SN__F(cudnnFindConvolutionForwardAlgorithm);
    SN__F(cudnnGetConvolutionForwardWorkspaceSize);
    SN__F(cudnnConvolutionForward);
#endif
};

/* dlopen the first of $env, names on the loader path, names under the CUDA folders. */
static void *sn__open(const char *env, const char *const *names, char *tried, size_t size) {
    const char *p = getenv(env);
    void *h = p && *p ? dlopen(p, RTLD_NOW | RTLD_LOCAL) : NULL;
    snprintf(tried, size, "%s%s", p && *p ? p : "", p && *p ? ", " : "");
    const char *dirs[] = {"", getenv("CUDA_HOME"), "/usr/local/cuda"};
    for (size_t di = 0; !h && di < sizeof dirs / sizeof *dirs; di++) {
        if (di && (!dirs[di] || !*dirs[di])) continue;
        for (int i = 0; !h && names[i]; i++) {
            char path[1024];
            if (di) snprintf(path, sizeof path, "%s/lib64/%s", dirs[di], names[i]);
            else snprintf(path, sizeof path, "%s", names[i]);
            h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
            size_t len = strlen(tried);
            if (!h && len + 2 < size) snprintf(tried + len, size - len, "%s%s", len ? ", " : "", path);
        }
    }
    return h;
}

#define SN__SYM(lib, v, f) ((v)->f = (__typeof__((v)->f))dlsym(lib, #f)) != NULL

static void sn__note(char *notes, size_t size, const char *fmt, const char *a) {
    size_t len = strlen(notes);
    if (len + 2 < size) snprintf(notes + len, size - len, fmt, a);
}

sn_kb_vendor_libs *sn_kb_vendor_open(sn_kb_device *d, char *notes, size_t notes_size) {
    sn_kb_vendor_libs *v = calloc(1, sizeof *v);
    char tried[2048];
    if (!v) return NULL;
    v->d = d;
#if SN__KB_CUBLAS
    static const char *const blas_names[] = {"libcublas.so.13", "libcublas.so.12", "libcublas.so", NULL};
    v->blas_lib = sn__open("SENTINEL_CUBLAS_LIBRARY", blas_names, tried, sizeof tried);
    if (!v->blas_lib) {
        sn__note(notes, notes_size, "cuBLAS not found (tried %s): no GEMM roofline, no dense ratio; ", tried);
    } else if (!(SN__SYM(v->blas_lib, v, cublasCreate_v2) && SN__SYM(v->blas_lib, v, cublasDestroy_v2) &&
                 SN__SYM(v->blas_lib, v, cublasSetStream_v2) && SN__SYM(v->blas_lib, v, cublasGemmEx)) ||
               v->cublasCreate_v2(&v->blas) != CUBLAS_STATUS_SUCCESS ||
               v->cublasSetStream_v2(v->blas, (cudaStream_t)d->stream) != CUBLAS_STATUS_SUCCESS) {
        sn__note(notes, notes_size, "%s", "cuBLAS found but could not start: no GEMM roofline; ");
        v->blas = NULL;
    }
#else
    sn__note(notes, notes_size, "%s", "built without cublas_v2.h: no GEMM roofline, no dense ratio; ");
#endif
#if SN__KB_CUDNN
    static const char *const dnn_names[] = {"libcudnn.so.9", "libcudnn.so.8", "libcudnn.so", NULL};
    v->dnn_lib = sn__open("SENTINEL_CUDNN_LIBRARY", dnn_names, tried, sizeof tried);
    bool ok = v->dnn_lib != NULL;
#define SN__DNN(f) ok = ok && SN__SYM(v->dnn_lib, v, f)
    SN__DNN(cudnnCreate);
    SN__DNN(cudnnDestroy);
    SN__DNN(cudnnSetStream);
    SN__DNN(cudnnGetErrorString);
    SN__DNN(cudnnCreateTensorDescriptor);
    SN__DNN(cudnnSetTensor4dDescriptor);
    SN__DNN(cudnnDestroyTensorDescriptor);
    SN__DNN(cudnnCreateFilterDescriptor);
    SN__DNN(cudnnSetFilter4dDescriptor);
    SN__DNN(cudnnDestroyFilterDescriptor);
    SN__DNN(cudnnCreateConvolutionDescriptor);
    SN__DNN(cudnnSetConvolution2dDescriptor);
    SN__DNN(cudnnSetConvolutionGroupCount);
    SN__DNN(cudnnSetConvolutionMathType);
    SN__DNN(cudnnDestroyConvolutionDescriptor);
    SN__DNN(cudnnGetConvolution2dForwardOutputDim);
    SN__DNN(cudnnFindConvolutionForwardAlgorithm);
    SN__DNN(cudnnGetConvolutionForwardWorkspaceSize);
    SN__DNN(cudnnConvolutionForward);
#undef SN__DNN
    if (!v->dnn_lib)
        sn__note(notes, notes_size, "cuDNN not found (tried %s; SENTINEL_CUDNN_LIBRARY names it): no conv ratio; ",
                 tried);
    else if (!ok || v->cudnnCreate(&v->dnn) != CUDNN_STATUS_SUCCESS ||
             v->cudnnSetStream(v->dnn, (cudaStream_t)d->stream) != CUDNN_STATUS_SUCCESS) {
        sn__note(notes, notes_size, "%s", "cuDNN found but could not start (missing symbols or no device): no conv ratio; ");
        v->dnn = NULL;
    }
#else
    sn__note(notes, notes_size, "%s", "built without cudnn.h: no conv ratio; ");
#endif
    return v;
}

void sn_kb_vendor_close(sn_kb_vendor_libs *v) {
    if (!v) return;
#if SN__KB_CUBLAS
    if (v->blas) v->cublasDestroy_v2(v->blas);
#endif
#if SN__KB_CUDNN
    if (v->dnn) v->cudnnDestroy(v->dnn);
#endif
    /* the libraries stay loaded: they own threads and exit handlers once started */
    free(v);
}

#if SN__KB_CUBLAS
static cudaDataType sn__blas_type(sn_gpu_precision p) {
    return p == SN_GPU_FP16 ? CUDA_R_16F : p == SN_GPU_BF16 ? CUDA_R_16BF : CUDA_R_32F;
}

typedef struct sn__gemm {
    sn_kb_vendor_libs *v;
    sn_gpu_precision p;
    int m, n, k, trans_w, sets;
    size_t wb, xb, yb, set; /* bytes of each operand and of one set */
    CUdeviceptr pool;
} sn__gemm;

/* Row-major y[n,m] = x[n,k] * op(w): in cuBLAS's column-major terms y^T = op(w)^T x^T. */
static sn_status sn__gemm_once(void *arg, int rep, sn_error *err) {
    sn__gemm *g = arg;
    CUdeviceptr base = g->pool + (size_t)(rep % g->sets) * g->set;
    const float one = 1.0f, zero = 0.0f;
    cudaDataType t = sn__blas_type(g->p);
    cublasComputeType_t ct = g->p == SN_GPU_TF32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    cublasStatus_t s = g->v->cublasGemmEx(
        g->v->blas, g->trans_w ? CUBLAS_OP_T : CUBLAS_OP_N, CUBLAS_OP_N, g->m, g->n, g->k, &one,
        (const void *)(uintptr_t)base, t, g->trans_w ? g->k : g->m,
        (const void *)(uintptr_t)(base + g->wb), t, g->k, &zero, (void *)(uintptr_t)(base + g->wb + g->xb), t,
        g->m, ct, CUBLAS_GEMM_DEFAULT);
    return sn__cuda_check(SN_CUDA_LIB_CUBLAS, (int)s, "cublasGemmEx", __FILE__, __LINE__, err);
}

/* Times y[n,m] = x[n,k] op(w) with rotated operands: median ms per call. */
static sn_status sn__gemm_time(sn_kb_vendor_libs *v, sn_gpu_precision p, int m, int n, int k,
                               int trans_w, int samples, int reps, double *ms, sn_error *err) {
    size_t e = sn_gpu_precision_size(p);
    sn__gemm g = {.v = v, .p = p, .m = m, .n = n, .k = k, .trans_w = trans_w,
                  .wb = sn_kb_align((size_t)m * k * e), .xb = sn_kb_align((size_t)n * k * e),
                  .yb = sn_kb_align((size_t)n * m * e)};
    g.set = g.wb + g.xb + g.yb;
    size_t sets = sn_kb_rotation_sets(v->d, g.set);
    g.sets = (int)sets;
    sn_status st = SN_OK;
    SN_CU_CHECK(err, v->d->cu->cuMemAlloc(&g.pool, sets * g.set));
    if ((st = sn_kb_fill_random(v->d, g.pool, g.set, e, p == SN_GPU_BF16, 9, err)) != SN_OK ||
        (st = sn_kb_replicate_set(v->d, g.pool, g.set, sets, err)) != SN_OK)
        goto done;
    st = sn_kb_time_calls(v->d, sn__gemm_once, &g, 3, samples, reps, ms, err);
done:
    v->d->cu->cuMemFree(g.pool);
    return st;
}
#endif

double sn_kb_vendor_gemm_peak(sn_kb_vendor_libs *v, sn_gpu_precision p, sn_error *err) {
#if SN__KB_CUBLAS
    if (!v || !v->blas) {
        sn_errorf(err, SN_ERR_UNSUPPORTED, "cuBLAS is not available");
        return -1;
    }
    const int s = 8192;
    double ms = 0;
    if (sn__gemm_time(v, p, s, s, s, 0, 7, 1, &ms, err) != SN_OK) return -1;
    return 2.0 * s * (double)s * s / (ms * 1e-3) / 1e12;
#else
    (void)v;
    (void)p;
    sn_errorf(err, SN_ERR_UNSUPPORTED, "built without cublas_v2.h");
    return -1;
#endif
}

#if SN__KB_CUDNN
typedef struct sn__conv {
    sn_kb_vendor_libs *v;
    cudnnTensorDescriptor_t x, y;
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t conv;
    cudnnConvolutionFwdAlgo_t algo;
    CUdeviceptr pool, ws;
    size_t xb, wb, yb, set, ws_bytes;
    int sets;
} sn__conv;

static sn_status sn__dnn_check(sn_kb_vendor_libs *v, cudnnStatus_t s, const char *what, sn_error *err) {
    if (s == CUDNN_STATUS_SUCCESS) return SN_OK;
    return sn_errorf(err, SN_ERR_DEVICE, "%s: %s", what, v->cudnnGetErrorString(s));
}

static sn_status sn__conv_once(void *arg, int rep, sn_error *err) {
    sn__conv *c = arg;
    CUdeviceptr base = c->pool + (size_t)(rep % c->sets) * c->set;
    const float one = 1.0f, zero = 0.0f;
    return sn__dnn_check(c->v,
                         c->v->cudnnConvolutionForward(c->v->dnn, &one, c->x, (const void *)(uintptr_t)base, c->w,
                                                       (const void *)(uintptr_t)(base + c->xb), c->conv, c->algo,
                                                       (void *)(uintptr_t)c->ws, c->ws_bytes, &zero, c->y,
                                                       (void *)(uintptr_t)(base + c->xb + c->wb)),
                         "cudnnConvolutionForward", err);
}

static double sn__conv_time(sn_kb_vendor_libs *v, const sn_kb_case *k, int batch, sn_error *err) {
    const sn_kb_geom *q = &k->geom;
    sn__conv c = {.v = v};
    cudnnDataType_t t = k->precision == SN_GPU_FP16 ? CUDNN_DATA_HALF
                        : k->precision == SN_GPU_BF16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_FLOAT;
    cudnnMathType_t math = k->precision == SN_GPU_FP32 ? CUDNN_FMA_MATH
                           : k->precision == SN_GPU_TF32 ? CUDNN_DEFAULT_MATH : CUDNN_TENSOR_OP_MATH;
    size_t e = sn_gpu_precision_size(k->precision);
    double ms = -1;
    int on = 0, oc = 0, oh = 0, ow = 0;
    sn_status st = SN_OK;
#define SN__DNN_TRY(call) \
    if ((st = sn__dnn_check(v, (call), #call, err)) != SN_OK) goto done
    SN__DNN_TRY(v->cudnnCreateTensorDescriptor(&c.x));
    SN__DNN_TRY(v->cudnnCreateTensorDescriptor(&c.y));
    SN__DNN_TRY(v->cudnnCreateFilterDescriptor(&c.w));
    SN__DNN_TRY(v->cudnnCreateConvolutionDescriptor(&c.conv));
    SN__DNN_TRY(v->cudnnSetTensor4dDescriptor(c.x, CUDNN_TENSOR_NCHW, t, batch, q->c, q->h, q->w));
    SN__DNN_TRY(v->cudnnSetFilter4dDescriptor(c.w, t, CUDNN_TENSOR_NCHW, q->m, q->c / q->groups, q->kh, q->kw));
    SN__DNN_TRY(v->cudnnSetConvolution2dDescriptor(c.conv, q->pt, q->pl, q->sh, q->sw, q->dh, q->dw,
                                                   CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    SN__DNN_TRY(v->cudnnSetConvolutionGroupCount(c.conv, q->groups));
    SN__DNN_TRY(v->cudnnSetConvolutionMathType(c.conv, math));
    SN__DNN_TRY(v->cudnnGetConvolution2dForwardOutputDim(c.conv, c.x, c.w, &on, &oc, &oh, &ow));
    if (on != batch || oc != q->m || oh != q->oh || ow != q->ow) {
        sn_errorf(err, SN_ERR_SHAPE, "cuDNN computes a [%d,%d,%d,%d] output, Sentinel [%d,%d,%d,%d]", on, oc, oh, ow,
                  batch, q->m, q->oh, q->ow);
        goto done;
    }
    SN__DNN_TRY(v->cudnnSetTensor4dDescriptor(c.y, CUDNN_TENSOR_NCHW, t, batch, q->m, q->oh, q->ow));
    c.xb = sn_kb_align((size_t)batch * q->c * q->h * q->w * e);
    c.wb = sn_kb_align((size_t)q->m * (q->c / q->groups) * q->kh * q->kw * e);
    c.yb = sn_kb_align((size_t)batch * q->m * q->oh * q->ow * e);
    c.set = c.xb + c.wb + c.yb;
    size_t sets = sn_kb_rotation_sets(v->d, c.set);
    c.sets = (int)sets;
    SN_CU_TRY(st, done, err, v->d->cu->cuMemAlloc(&c.pool, sets * c.set));
    if ((st = sn_kb_fill_random(v->d, c.pool, c.set, e, k->precision == SN_GPU_BF16, 3, err)) != SN_OK ||
        (st = sn_kb_replicate_set(v->d, c.pool, c.set, sets, err)) != SN_OK)
        goto done;
    SN_CU_TRY(st, done, err, v->d->cu->cuStreamSynchronize(v->d->stream));
    cudnnConvolutionFwdAlgoPerf_t perf[8];
    int found = 0;
    SN__DNN_TRY(v->cudnnFindConvolutionForwardAlgorithm(v->dnn, c.x, c.w, c.conv, c.y, 8, &found, perf));
    int best = -1;
    for (int i = 0; i < found && best < 0; i++)
        if (perf[i].status == CUDNN_STATUS_SUCCESS) best = i;
    if (best < 0) {
        sn_errorf(err, SN_ERR_UNSUPPORTED, "cuDNN found no algorithm");
        goto done;
    }
    c.algo = perf[best].algo;
    SN__DNN_TRY(v->cudnnGetConvolutionForwardWorkspaceSize(v->dnn, c.x, c.w, c.conv, c.y, c.algo, &c.ws_bytes));
    if (c.ws_bytes) SN_CU_TRY(st, done, err, v->d->cu->cuMemAlloc(&c.ws, c.ws_bytes));
    double per = 0;
    if ((st = sn_kb_time_calls(v->d, sn__conv_once, &c, 3, 9, 5, &per, err)) == SN_OK) ms = per;
#undef SN__DNN_TRY
done:
    if (c.ws) v->d->cu->cuMemFree(c.ws);
    if (c.pool) v->d->cu->cuMemFree(c.pool);
    if (c.conv) v->cudnnDestroyConvolutionDescriptor(c.conv);
    if (c.w) v->cudnnDestroyFilterDescriptor(c.w);
    if (c.y) v->cudnnDestroyTensorDescriptor(c.y);
    if (c.x) v->cudnnDestroyTensorDescriptor(c.x);
    return ms > 0 ? ms * 1e3 : -1;
}
#endif

double sn_kb_vendor_time(sn_kb_vendor_libs *v, const sn_kb_case *c, int batch, sn_error *err) {
    if (!v) return -1;
    if (c->vendor == SN_KB_VENDOR_GEMM) {
#if SN__KB_CUBLAS
        if (!v->blas) return -1;
        double ms = 0;
        if (sn__gemm_time(v, c->precision, c->geom.out_features, batch, c->geom.in_features, c->geom.trans_b, 9,
                          5, &ms, err) != SN_OK)
            return -1;
        return ms * 1e3;
#endif
    } else if (c->vendor == SN_KB_VENDOR_CONV) {
#if SN__KB_CUDNN
        if (!v->dnn) return -1;
        return sn__conv_time(v, c, batch, err);
#endif
    }
    (void)batch;
    (void)err;
    return -1;
}
