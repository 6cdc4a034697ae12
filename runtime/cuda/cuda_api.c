/*
 * cuda_api.c - loading the CUDA driver and NVRTC with dlopen, and sn__cuda_check.
 *
 * Each library is loaded at most once per process. Once loaded it is never unloaded: the driver
 * owns threads and exit handlers after cuInit, and NVRTC is cheap to keep. The tables are
 * written only inside pthread_once, so readers need no lock.
 */
#include "cuda_api.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SN__STR2(x) #x
#define SN__STR(x) SN__STR2(x)

static pthread_once_t sn__drv_once = PTHREAD_ONCE_INIT, sn__rtc_once = PTHREAD_ONCE_INIT;
static sn_cuda_driver sn__drv;
static sn_nvrtc sn__rtc;
static sn_error sn__drv_err, sn__rtc_err; /* status SN_OK when the load succeeded */

/* Looks up every symbol of a table; the first missing one is named in err. */
static sn_status sn__sym(void *lib, const char *libname, const char *name, void **slot,
                         sn_status missing, sn_error *err) {
    *slot = dlsym(lib, name);
    if (*slot) return SN_OK;
    return sn_errorf(err, missing, "%s lacks %s (too old a version?)", libname, name);
}

static void sn__driver_load(void) {
    sn_error *err = &sn__drv_err;
    dlerror();
    void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *why = dlerror();
        sn_errorf(err, SN_ERR_NO_DEVICE, "no CUDA driver (%s)",
                  why ? why : "libcuda.so.1 could not be loaded");
        return;
    }
#define SN__LOAD_CU(f)                                                                             \
    if (sn__sym(lib, "libcuda.so.1", SN__STR(f), (void **)&sn__drv.f, SN_ERR_NO_DEVICE, err))      \
        return;
    SN_CU_FUNCS(SN__LOAD_CU)
#undef SN__LOAD_CU
    sn__drv.cuEventElapsedTime = (CUresult(*)(float *, CUevent, CUevent))dlsym(lib, "cuEventElapsedTime_v2");
    if (!sn__drv.cuEventElapsedTime &&
        sn__sym(lib, "libcuda.so.1", "cuEventElapsedTime", (void **)&sn__drv.cuEventElapsedTime,
                SN_ERR_NO_DEVICE, err))
        return;
    CUresult r = sn__drv.cuInit(0);
    if (r != CUDA_SUCCESS) {
        const char *s = NULL;
        if (sn__drv.cuGetErrorString(r, &s) != CUDA_SUCCESS || !s) s = "unknown error";
        sn_errorf(err, SN_ERR_NO_DEVICE, "CUDA driver found but cuInit failed: %s (%d)", s, (int)r);
        return;
    }
    if (sn__drv.cuDriverGetVersion(&sn__drv.version) != CUDA_SUCCESS) sn__drv.version = 0;
    sn_error_clear(err);
}

const sn_cuda_driver *sn_cuda_driver_get(sn_error *err) {
    pthread_once(&sn__drv_once, sn__driver_load);
    if (sn__drv_err.status != SN_OK) {
        sn_errorf(err, sn__drv_err.status, "%s", sn__drv_err.message);
        return NULL;
    }
    return &sn__drv;
}

/* dlopen one candidate; on success fills the table or reports the missing symbol. */
static void *sn__rtc_open(const char *path, char *tried, size_t tried_size) {
    dlerror();
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        size_t n = strlen(tried);
        if (n + 4 < tried_size) snprintf(tried + n, tried_size - n, "%s%s", n ? ", " : "", path);
    }
    return lib;
}

static void sn__nvrtc_load(void) {
    sn_error *err = &sn__rtc_err;
    static const char *const names[] = {"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2",
                                        "libnvrtc.so"};
    char tried[600] = "", path[512];
    void *lib = NULL;
    const char *env = getenv("SENTINEL_NVRTC_LIBRARY");
    if (env && *env) {
        lib = sn__rtc_open(env, tried, sizeof tried);
        snprintf(path, sizeof path, "%s", env);
    }
    for (size_t i = 0; !lib && i < sizeof names / sizeof *names; i++) {
        lib = sn__rtc_open(names[i], tried, sizeof tried);
        snprintf(path, sizeof path, "%s", names[i]);
    }
    /* Toolkits install outside the loader's path; look where they usually are. */
    const char *roots[] = {getenv("CUDA_HOME"), getenv("CUDA_PATH"), "/usr/local/cuda"};
    for (size_t r = 0; !lib && r < sizeof roots / sizeof *roots; r++) {
        if (!roots[r] || !*roots[r]) continue;
        for (size_t i = 0; !lib && i < sizeof names / sizeof *names; i++) {
            snprintf(path, sizeof path, "%s/lib64/%s", roots[r], names[i]);
            lib = sn__rtc_open(path, tried, sizeof tried);
        }
    }
    if (!lib) {
        sn_errorf(err, SN_ERR_UNSUPPORTED,
                  "NVRTC (the CUDA runtime compiler) could not be loaded; tried %s. Install the "
                  "CUDA toolkit's NVRTC or set SENTINEL_NVRTC_LIBRARY to libnvrtc.so's path",
                  tried);
        return;
    }
#define SN__LOAD_RTC(f)                                                                            \
    if (sn__sym(lib, path, SN__STR(f), (void **)&sn__rtc.f, SN_ERR_UNSUPPORTED, err)) return;
    SN_NVRTC_FUNCS(SN__LOAD_RTC)
#undef SN__LOAD_RTC
    if (sn__rtc.nvrtcVersion(&sn__rtc.major, &sn__rtc.minor) != NVRTC_SUCCESS) {
        sn_errorf(err, SN_ERR_UNSUPPORTED, "%s: nvrtcVersion failed", path);
        return;
    }
    snprintf(sn__rtc.path, sizeof sn__rtc.path, "%s", path);
    sn_error_clear(err);
}

const sn_nvrtc *sn_nvrtc_get(sn_error *err) {
    pthread_once(&sn__rtc_once, sn__nvrtc_load);
    if (sn__rtc_err.status != SN_OK) {
        sn_errorf(err, sn__rtc_err.status, "%s", sn__rtc_err.message);
        return NULL;
    }
    return &sn__rtc;
}

sn_status sn_nvrtc_pick_arch(int maj, int min, int *arch, sn_error *err) {
    const sn_nvrtc *rtc = sn_nvrtc_get(err);
    if (!rtc) return err ? err->status : SN_ERR_UNSUPPORTED;
    int n = 0, best = -1, want = 10 * maj + min;
    SN_CUDA_CHECK(SN_CUDA_LIB_NVRTC, err, rtc->nvrtcGetNumSupportedArchs(&n));
    int *a = calloc((size_t)(n > 0 ? n : 1), sizeof *a);
    if (!a) return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory");
    nvrtcResult r = rtc->nvrtcGetSupportedArchs(a);
    for (int i = 0; r == NVRTC_SUCCESS && i < n; i++)
        if (a[i] / 10 == maj && a[i] <= want && a[i] > best) best = a[i];
    free(a);
    if (best < 0)
        return sn_errorf(err, SN_ERR_UNSUPPORTED,
                         "NVRTC %d.%d (%s) cannot compile for this GPU (compute capability "
                         "%d.%d)",
                         rtc->major, rtc->minor, rtc->path, maj, min);
    *arch = best;
    return SN_OK;
}

static const char *sn__lib_name(sn_cuda_lib lib) {
    switch (lib) {
    case SN_CUDA_LIB_DRIVER: return "CUDA driver";
    case SN_CUDA_LIB_NVRTC: return "NVRTC";
    case SN_CUDA_LIB_CUBLAS: return "cuBLAS";
    case SN_CUDA_LIB_CUDNN: return "cuDNN";
    }
    return "CUDA";
}

sn_status sn__cuda_check(sn_cuda_lib lib, int code, const char *expr, const char *file, int line,
                         sn_error *err) {
    if (code == 0) return SN_OK;
    const char *name = NULL, *desc = NULL;
    sn_status st = SN_ERR_DEVICE;
    char num[32];
    if (lib == SN_CUDA_LIB_DRIVER) {
        /* Only reached after a driver call, so the table is loaded (pthread_once is done). */
        const sn_cuda_driver *d = sn_cuda_driver_get(NULL);
        if (d) {
            if (d->cuGetErrorName((CUresult)code, &name) != CUDA_SUCCESS) name = NULL;
            if (d->cuGetErrorString((CUresult)code, &desc) != CUDA_SUCCESS) desc = NULL;
        }
        if (code == CUDA_ERROR_OUT_OF_MEMORY) st = SN_ERR_OUT_OF_MEMORY;
        if (code == CUDA_ERROR_NO_DEVICE || code == CUDA_ERROR_INVALID_DEVICE ||
            code == CUDA_ERROR_NOT_INITIALIZED)
            st = SN_ERR_NO_DEVICE;
    } else if (lib == SN_CUDA_LIB_NVRTC) {
        const sn_nvrtc *r = sn_nvrtc_get(NULL);
        if (r) desc = r->nvrtcGetErrorString((nvrtcResult)code);
        if (code == NVRTC_ERROR_OUT_OF_MEMORY) st = SN_ERR_OUT_OF_MEMORY;
    } else if (lib == SN_CUDA_LIB_CUBLAS && code == 3) {
        st = SN_ERR_OUT_OF_MEMORY; /* CUBLAS_STATUS_ALLOC_FAILED */
    } else if (lib == SN_CUDA_LIB_CUDNN && (code == 4003 || code == 4004)) {
        st = SN_ERR_OUT_OF_MEMORY; /* cuDNN 9: INTERNAL_ERROR_{HOST,DEVICE}_ALLOCATION_FAILED */
    }
    if (!name) {
        snprintf(num, sizeof num, "error %d", code);
        name = num;
    }
    return sn_errorf(err, st, "%s call failed: %s: %s (%s) at %s:%d", sn__lib_name(lib), expr, name,
                     desc ? desc : "no description", file, line);
}
