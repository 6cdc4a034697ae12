/*
 * cuda_api.h - the CUDA driver and NVRTC entry points, loaded at run time, and the one check
 * macro that turns a failing GPU library call into an sn_status.
 *
 * Nothing links libcuda or libnvrtc: a build made with the toolkit must still start on a machine
 * without a GPU, a driver or the toolkit's libraries. The toolkit's headers give the types and
 * prototypes; each table field has the type of the function the header declares, and its name is
 * the header's macro-expanded ABI name (cuMemAlloc is cuMemAlloc_v2), which is also the symbol
 * looked up, so a table entry can never disagree with the prototype it is called through.
 *
 * The tables are loaded once per process (pthread_once) and never change afterwards; a failed
 * load is remembered with its reason, which every later caller gets.
 */
#ifndef SN_CUDA_API_H
#define SN_CUDA_API_H

#include <cuda.h>
#include <nvrtc.h>

#include "error.h"

/* Driver entry points the GPU backend uses. */
#define SN_CU_FUNCS(X)                                                                             \
    X(cuInit)                                                                                      \
    X(cuDriverGetVersion) X(cuGetErrorString) X(cuGetErrorName) X(cuDeviceGet) X(cuDeviceGetCount) \
        X(cuDeviceGetAttribute) X(cuDeviceGetName) X(cuDeviceTotalMem) X(cuDevicePrimaryCtxRetain) \
            X(cuDevicePrimaryCtxRelease) X(cuCtxPushCurrent) X(cuCtxPopCurrent) X(cuMemAlloc)      \
                X(cuMemFree) X(cuMemGetInfo) X(cuMemHostAlloc) X(cuMemFreeHost) X(cuMemcpyHtoD)    \
                    X(cuMemcpyDtoH) X(cuMemcpyHtoDAsync) X(cuMemcpyDtoHAsync) X(cuMemcpyDtoDAsync) \
                        X(cuMemsetD8Async) X(cuStreamCreate) X(cuStreamDestroy)                    \
                            X(cuStreamSynchronize) X(cuStreamWaitEvent) X(cuEventCreate)           \
                                X(cuEventDestroy) X(cuEventRecord) X(cuEventSynchronize)           \
                                    X(cuStreamBeginCapture) X(cuStreamEndCapture)                  \
                                        X(cuGraphInstantiate) X(cuGraphLaunch)                     \
                                            X(cuGraphExecDestroy) X(cuGraphDestroy)                \
                                                X(cuModuleLoadData) X(cuModuleUnload)              \
                                                    X(cuModuleGetFunction) X(cuLaunchKernel)

/* NVRTC entry points. */
#define SN_NVRTC_FUNCS(X)                                                                          \
    X(nvrtcVersion)                                                                                \
    X(nvrtcGetErrorString) X(nvrtcCreateProgram) X(nvrtcDestroyProgram) X(nvrtcCompileProgram)     \
        X(nvrtcGetProgramLogSize) X(nvrtcGetProgramLog) X(nvrtcGetCUBINSize) X(nvrtcGetCUBIN)      \
            X(nvrtcGetNumSupportedArchs) X(nvrtcGetSupportedArchs)

#define SN__CUDA_FIELD(f) __typeof__(&f) f;

typedef struct sn_cuda_driver {
    SN_CU_FUNCS(SN__CUDA_FIELD)
    /* Loaded apart: cuda.h names it cuEventElapsedTime_v2, which only drivers of CUDA 12.8 and
     * later have; the older symbol is used where it is missing. Only benchmarks time events. */
    CUresult (*cuEventElapsedTime)(float *ms, CUevent start, CUevent end);
    int version; /* cuDriverGetVersion: 1000 * major + 10 * minor */
} sn_cuda_driver;

typedef struct sn_nvrtc {
    SN_NVRTC_FUNCS(SN__CUDA_FIELD)
    int major, minor; /* nvrtcVersion */
    char path[512];   /* the library that was loaded, for messages */
} sn_nvrtc;

/* The driver table, loading libcuda.so.1 and calling cuInit(0) on first use. NULL on failure,
 * with SN_ERR_NO_DEVICE and the reason. */
const sn_cuda_driver *sn_cuda_driver_get(sn_error *err);

/* The NVRTC table. Tries $SENTINEL_NVRTC_LIBRARY (a path) first, then libnvrtc.so.13, .12,
 * .11.2 and libnvrtc.so on the loader's search path, then the same names under $CUDA_HOME,
 * $CUDA_PATH and /usr/local/cuda (lib64). NULL on failure, with SN_ERR_UNSUPPORTED and every
 * name tried. */
const sn_nvrtc *sn_nvrtc_get(sn_error *err);

/* The newest architecture NVRTC can compile that runs on a device of compute capability
 * maj.min: the same major, minor at most the device's. SN_ERR_UNSUPPORTED, naming NVRTC's
 * version and path, when there is none. Shared by the engine and the kernel benchmarks. */
sn_status sn_nvrtc_pick_arch(int maj, int min, int *arch, sn_error *err);

/* Which library a status code came from, for its error string. */
typedef enum sn_cuda_lib {
    SN_CUDA_LIB_DRIVER = 0, /* CUresult */
    SN_CUDA_LIB_NVRTC = 1,  /* nvrtcResult */
    SN_CUDA_LIB_CUBLAS = 2, /* cublasStatus_t */
    SN_CUDA_LIB_CUDNN = 3   /* cudnnStatus_t */
} sn_cuda_lib;

/* SN_OK when code is the library's success (0). Otherwise fills err with the failing
 * expression, the library's name and string for the code, file and line, and returns
 * SN_ERR_OUT_OF_MEMORY for an allocation failure, SN_ERR_NO_DEVICE when there is no usable
 * device, else SN_ERR_DEVICE. */
sn_status sn__cuda_check(sn_cuda_lib lib, int code, const char *expr, const char *file, int line,
                         sn_error *err);

/* Evaluate a CUDA / NVRTC / cuBLAS / cuDNN call; on failure return its status from the enclosing
 * function. Never aborts. */
#define SN_CUDA_CHECK(lib, err, call)                                                              \
    do {                                                                                           \
        sn_status sn__cs = sn__cuda_check((lib), (int)(call), #call, __FILE__, __LINE__, (err));   \
        if (sn__cs != SN_OK) return sn__cs;                                                        \
    } while (0)

/* The same for functions with a cleanup path: set `st` and jump to `label`. */
#define SN_CUDA_TRY(st, label, lib, err, call)                                                     \
    do {                                                                                           \
        (st) = sn__cuda_check((lib), (int)(call), #call, __FILE__, __LINE__, (err));               \
        if ((st) != SN_OK) goto label;                                                             \
    } while (0)

/* Driver-call shorthands (the most common case). */
#define SN_CU_CHECK(err, call) SN_CUDA_CHECK(SN_CUDA_LIB_DRIVER, err, call)
#define SN_CU_TRY(st, label, err, call) SN_CUDA_TRY(st, label, SN_CUDA_LIB_DRIVER, err, call)

#endif
