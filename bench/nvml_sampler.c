/*
 * nvml_sampler.c - see nvml_sampler.h. NVML's utilisation is itself an average over the driver's
 * last sample period (1/6 s to 1 s), so a row shorter than that reads the work before it too:
 * the benchmarks time each row for at least half a second.
 */
#include "nvml_sampler.h"

#include <dlfcn.h>
#include <string.h>
#include <time.h>

/* NVML's ABI: nvmlReturn_t is an int (0 = success), nvmlDevice_t an opaque pointer. */
typedef struct {
    unsigned int gpu, memory;
} sn__nvml_util;
typedef struct {
    unsigned long long total, free, used;
} sn__nvml_memory;

void sn_nvml_open(sn_nvml_sampler *s, int index) {
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    s->lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!s->lib) return;
    int (*init)(void) = (int (*)(void))dlsym(s->lib, "nvmlInit_v2");
    int (*get)(unsigned, void **) = (int (*)(unsigned, void **))dlsym(s->lib,
                                                                      "nvmlDeviceGetHandleByIndex_v2");
    s->util = (int (*)(void *, void *))dlsym(s->lib, "nvmlDeviceGetUtilizationRates");
    s->memory = (int (*)(void *, void *))dlsym(s->lib, "nvmlDeviceGetMemoryInfo");
    if (!init || !get || !s->util || !s->memory || init() != 0 ||
        get((unsigned)index, &s->device) != 0) {
        dlclose(s->lib);
        s->lib = NULL;
        return;
    }
    s->ok = true;
}

void sn_nvml_close(sn_nvml_sampler *s) {
    if (s->running) {
        double u;
        int64_t m;
        sn_nvml_stop(s, &u, &m);
    }
    if (s->lib) {
        int (*shutdown)(void) = (int (*)(void))dlsym(s->lib, "nvmlShutdown");
        if (shutdown) shutdown();
        dlclose(s->lib);
    }
    pthread_mutex_destroy(&s->lock);
    s->lib = NULL;
    s->ok = false;
}

static void *sn__nvml_loop(void *arg) {
    sn_nvml_sampler *s = arg;
    const struct timespec period = {0, 20 * 1000 * 1000};
    for (;;) {
        sn__nvml_util u;
        sn__nvml_memory m;
        int ok_u = s->util(s->device, &u) == 0, ok_m = s->memory(s->device, &m) == 0;
        pthread_mutex_lock(&s->lock);
        if (ok_u) {
            s->util_sum += u.gpu;
            s->util_n++;
        }
        if (ok_m && m.used > s->used_max) s->used_max = m.used;
        bool stop = s->stop;
        pthread_mutex_unlock(&s->lock);
        if (stop) return NULL;
        nanosleep(&period, NULL);
    }
}

void sn_nvml_start(sn_nvml_sampler *s) {
    s->util_sum = 0;
    s->util_n = 0;
    s->used_max = 0;
    s->stop = false;
    s->running = s->ok && pthread_create(&s->thread, NULL, sn__nvml_loop, s) == 0;
}

void sn_nvml_stop(sn_nvml_sampler *s, double *util_pct, int64_t *used_bytes) {
    *util_pct = -1;
    *used_bytes = -1;
    if (!s->running) return;
    pthread_mutex_lock(&s->lock);
    s->stop = true;
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    s->running = false;
    if (s->util_n) *util_pct = s->util_sum / s->util_n;
    if (s->used_max) *used_bytes = (int64_t)s->used_max;
}
