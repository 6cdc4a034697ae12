/*
 * nvml_sampler.h - GPU utilisation and device memory in use, sampled by a thread through NVML
 * (libnvidia-ml.so.1, which comes with the NVIDIA driver) while a benchmark times something.
 *
 * NVML is loaded with dlopen and only four of its functions are used, declared here with their
 * documented ABI, so the benchmarks build without the header and start without the library;
 * where it is missing every figure is simply absent (the JSON says null).
 */
#ifndef SN_NVML_SAMPLER_H
#define SN_NVML_SAMPLER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct sn_nvml_sampler {
    bool ok; /* NVML loaded and device 0 found */
    void *lib, *device;
    int (*util)(void *device, void *out);
    int (*memory)(void *device, void *out);
    pthread_t thread;
    pthread_mutex_t lock;
    bool running, stop;
    double util_sum;
    int util_n;
    uint64_t used_max;
} sn_nvml_sampler;

/* Load NVML and find GPU `index`; s->ok says whether it worked. Never fails otherwise. */
void sn_nvml_open(sn_nvml_sampler *s, int index);
void sn_nvml_close(sn_nvml_sampler *s);
/* Sample every 20 ms until sn_nvml_stop, which returns the mean utilisation in percent and the
 * most device memory seen in use, in bytes (both -1 when nothing was sampled). */
void sn_nvml_start(sn_nvml_sampler *s);
void sn_nvml_stop(sn_nvml_sampler *s, double *util_pct, int64_t *used_bytes);

#endif
