/*
 * gpu_probe.c - sn_gpu_probe: is there a CUDA driver and a device, without linking libcuda.
 *
 * The driver library is opened with dlopen at run time so one build of Sentinel runs on
 * machines with and without a GPU; the few driver entry points are declared here by hand
 * (their C ABI is stable) instead of including cuda.h, which a CPU-only build may not have.
 */
#include <dlfcn.h>
#include <stdio.h>

#include "error.h"
#include "sentinel.h"

/* CUresult is an enum; CUDA_SUCCESS is 0. */
typedef int sn__cu_result;
typedef sn__cu_result (*sn__cu_init_fn)(unsigned int flags);
typedef sn__cu_result (*sn__cu_count_fn)(int *count);
typedef sn__cu_result (*sn__cu_version_fn)(int *version);
typedef sn__cu_result (*sn__cu_errstr_fn)(sn__cu_result r, const char **str);

/* The oldest driver API the GPU backend is written against (CUDA 11.0, as cuDriverGetVersion
 * encodes it: 1000 * major + 10 * minor). */
#define SN__CUDA_MIN_DRIVER 11000

static const char *sn__cu_error(sn__cu_errstr_fn errstr, sn__cu_result r) {
    const char *s = NULL;
    if (errstr && errstr(r, &s) == 0 && s) return s;
    return "unknown CUDA error";
}

sn_status sn_gpu_probe(int *device_count, sn_error *err) {
    if (device_count) *device_count = 0;
    dlerror();
    void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *why = dlerror();
        return sn_errorf(err, SN_ERR_NO_DEVICE, "no CUDA driver (%s)",
                         why ? why : "libcuda.so.1 could not be loaded");
    }
    sn__cu_init_fn cu_init = (sn__cu_init_fn)dlsym(lib, "cuInit");
    sn__cu_count_fn cu_count = (sn__cu_count_fn)dlsym(lib, "cuDeviceGetCount");
    sn__cu_version_fn cu_version = (sn__cu_version_fn)dlsym(lib, "cuDriverGetVersion");
    sn__cu_errstr_fn cu_errstr = (sn__cu_errstr_fn)dlsym(lib, "cuGetErrorString");
    if (!cu_init || !cu_count || !cu_version) {
        const char *missing = !cu_init ? "cuInit" : !cu_count ? "cuDeviceGetCount"
                                                              : "cuDriverGetVersion";
        dlclose(lib);
        return sn_errorf(err, SN_ERR_NO_DEVICE,
                         "CUDA driver library libcuda.so.1 lacks %s (not a usable driver)",
                         missing);
    }

    /* From here on the library stays loaded: once cuInit has run, the driver owns threads and
     * exit handlers, and unloading it under them is not safe. dlopen counts references, so
     * repeated probes cost nothing more. */
    sn__cu_result r = cu_init(0);
    if (r != 0)
        return sn_errorf(err, SN_ERR_NO_DEVICE, "CUDA driver found but cuInit failed: %s (%d)",
                         sn__cu_error(cu_errstr, r), r);
    int version = 0;
    r = cu_version(&version);
    if (r != 0)
        return sn_errorf(err, SN_ERR_NO_DEVICE, "cuDriverGetVersion failed: %s (%d)",
                         sn__cu_error(cu_errstr, r), r);
    if (version < SN__CUDA_MIN_DRIVER)
        return sn_errorf(err, SN_ERR_NO_DEVICE,
                         "CUDA driver too old: it supports CUDA %d.%d, Sentinel needs %d.%d",
                         version / 1000, version % 1000 / 10, SN__CUDA_MIN_DRIVER / 1000,
                         SN__CUDA_MIN_DRIVER % 1000 / 10);
    int count = 0;
    r = cu_count(&count);
    if (r != 0)
        return sn_errorf(err, SN_ERR_NO_DEVICE, "cuDeviceGetCount failed: %s (%d)",
                         sn__cu_error(cu_errstr, r), r);
    if (count <= 0)
        return sn_errorf(err, SN_ERR_NO_DEVICE, "CUDA driver %d.%d found but it reports no device",
                         version / 1000, version % 1000 / 10);
    if (device_count) *device_count = count;
    return SN_OK;
}
