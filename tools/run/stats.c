/*
 * stats.c - --stats: throughput, batch latency percentiles, decoding (images and file bytes
 * per second, threads), the share of the run the engine sat idle waiting for decoded input,
 * host<->device transfers per batch, the engine's planned memory and the process's peak RSS,
 * device, threads and what the optimiser did.
 */
#include <math.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "run.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted values. */
static double percentile(const double *v, size_t n, double p) {
    if (!n) return NAN;
    size_t rank = (size_t)ceil(p / 100.0 * (double)n);
    return v[rank ? rank - 1 : 0];
}

void run_print_stats(const run_state *r, double wall) {
    double mib = 1024.0 * 1024.0;
    size_t ok = r->w->ok;
    qsort(r->latency_ms, r->n_batches, sizeof *r->latency_ms, cmp_double);
    printf("stats: %zu images in %zu batch%s (batch size %d), wall time %.3f s, throughput "
           "%.2f images/s\n",
           ok, r->n_batches, r->n_batches == 1 ? "" : "es", r->batch, wall,
           wall > 0 ? (double)ok / wall : 0.0);
    if (r->n_batches)
        printf("stats: batch latency p50 %.3f ms, p90 %.3f ms, p99 %.3f ms (min %.3f, max "
               "%.3f)\n",
               percentile(r->latency_ms, r->n_batches, 50),
               percentile(r->latency_ms, r->n_batches, 90),
               percentile(r->latency_ms, r->n_batches, 99), r->latency_ms[0],
               r->latency_ms[r->n_batches - 1]);
    else
        printf("stats: batch latency p50 - p90 - p99 - (no batch ran)\n");
    const run_pool_stats *ps = &r->pool;
    double mb = (double)ps->file_bytes / 1e6;
    if (ps->decoded)
        printf("stats: decode: %zu image files (%.1f MB) on %d thread%s: %.1f images/s, "
               "%.1f MB/s over the run; %.1f images/s per busy thread\n",
               ps->decoded, mb, ps->threads, ps->threads == 1 ? "" : "s",
               wall > 0 ? (double)ps->decoded / wall : 0.0, wall > 0 ? mb / wall : 0.0,
               ps->decode_s > 0 ? (double)ps->decoded / ps->decode_s : 0.0);
    else
        printf("stats: decode: no image files (%d decoding thread%s)\n", ps->threads,
               ps->threads == 1 ? "" : "s");
    if (ps->frames) printf("stats: decode: %zu video frames\n", ps->frames);
    printf("stats: engine idle waiting for decoded input: %.1f%% of the wall time (%.3f s)\n",
           wall > 0 ? 100.0 * r->idle_s / wall : 0.0, r->idle_s);
    sn_engine_stats es = SN_ENGINE_STATS_INIT;
    struct rusage ru;
    double rss = getrusage(RUSAGE_SELF, &ru) == 0 ? (double)ru.ru_maxrss * 1024.0 : NAN;
    if (sn_engine_get_stats(r->engine, &es) == SN_OK)
        printf("stats: peak memory: activations %.2f MiB (planned at batch %d) + weights "
               "%.2f MiB = %.2f MiB in the engine (scratch %.2f MiB); process max RSS "
               "%.2f MiB\n",
               (double)es.activation_bytes / mib, r->batch, (double)es.weight_bytes / mib,
               (double)(es.activation_bytes + es.weight_bytes) / mib,
               (double)es.scratch_bytes / mib, rss / mib);
    else
        printf("stats: peak memory: process max RSS %.2f MiB\n", rss / mib);
    if (es.runs) {
        double runs = (double)es.runs;
        printf("stats: per batch: %.2f uploads (%.1f KiB), %.2f downloads (%.1f KiB); "
               "%llu of %llu batches sent as 8-bit images%s\n",
               (double)es.uploads / runs, (double)es.upload_bytes / runs / 1024.0,
               (double)es.downloads / runs, (double)es.download_bytes / runs / 1024.0,
               (unsigned long long)es.image_runs, (unsigned long long)es.runs,
               sn_engine_device(r->engine) == SN_DEVICE_GPU ? "" : " (the CPU copies nothing)");
    }
    printf("stats: device %s, %d CPU threads\n",
           sn_engine_device(r->engine) == SN_DEVICE_GPU ? "gpu" : "cpu", es.threads);
    /* A warm start compiles nothing: every kernel comes from the cache (docs/gpu.md). */
    if (sn_engine_device(r->engine) == SN_DEVICE_GPU)
        printf("stats: engine created in %.1f ms; kernels: %d (%d compiled, %d from the kernel "
               "cache)\n",
               es.create_ms, es.kernels, es.kernels_compiled, es.kernels_cached);
    else
        printf("stats: engine created in %.1f ms\n", es.create_ms);
    if (es.layout == SN_LAYOUT_ANY)
        printf("stats: graph %d nodes, run as loaded (not optimised)\n", es.nodes);
    else
        printf("stats: graph %d nodes, optimised for %s in %.1f ms\n", es.nodes,
               es.layout == SN_LAYOUT_NHWC ? "NHWC" : "NCHW", es.optimize_ms);
}
