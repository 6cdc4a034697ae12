/*
 * bench_report.c - the text table and JSON file sentinel-bench-cpu writes, with the machine
 * description that makes a number meaningful (CPU model, core count, date, library version).
 */
#include "bench_report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"
#include "sentinel.h"

/* The "model name" line of /proc/cpuinfo, or "unknown CPU". */
static void cpu_model(char *buf, size_t size) {
    snprintf(buf, size, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0) continue;
        const char *v = strchr(line, ':');
        if (!v) break;
        v++;
        while (*v == ' ' || *v == '\t') v++;
        snprintf(buf, size, "%s", v);
        buf[strcspn(buf, "\n")] = '\0';
        break;
    }
    fclose(f);
}

static void utc_date(char *buf, size_t size) {
    time_t t = time(NULL);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, size, "unknown");
}

void sn_bench_print_header(FILE *f, int threads_requested, double seconds) {
    char cpu[256], date[64];
    cpu_model(cpu, sizeof cpu);
    utc_date(date, sizeof date);
    fprintf(f, "sentinel-bench-cpu: Sentinel %s, %s\n", sn_version_string(), date);
    fprintf(f, "machine: %s, %ld cores online; threads requested: %d%s; %.2f s per row\n", cpu,
            sysconf(_SC_NPROCESSORS_ONLN), threads_requested,
            threads_requested == 0 ? " (all)" : "", seconds);
    fprintf(f, "%-24s %-5s %5s %7s %6s %10s %9s %9s %12s\n", "model", "graph", "batch", "threads",
            "runs", "images/s", "p50 ms", "p99 ms", "activations");
}

void sn_bench_print_row(FILE *f, const sn_bench_result *r) {
    fprintf(f, "%-24s %-5s %5d %7d %6d %10.1f %9.3f %9.3f %8.1f MiB\n", r->model,
            r->optimized ? "opt" : "as-is", r->batch, r->threads, r->runs, r->images_per_s, r->p50_ms, r->p99_ms,
            (double)r->activation_bytes / (1024.0 * 1024.0));
}

static char *tmp_name(const char *path) {
    size_t len = strlen(path) + 5;
    char *tmp = malloc(len);
    if (tmp) snprintf(tmp, len, "%s.tmp", path);
    else fprintf(stderr, "sentinel-bench-cpu: out of memory\n");
    return tmp;
}

int sn_bench_json_check(const char *path) {
    char *tmp = tmp_name(path);
    if (!tmp) return -1;
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "sentinel-bench-cpu: --json: cannot create %s: %s\n", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    fclose(f);
    remove(tmp);
    free(tmp);
    return 0;
}

int sn_bench_write_json(const char *path, const sn_bench_result *r, int n, double seconds) {
    char cpu[256], date[64];
    struct utsname u;
    cpu_model(cpu, sizeof cpu);
    utc_date(date, sizeof date);
    if (uname(&u) != 0) memset(&u, 0, sizeof u);

    char *tmp = tmp_name(path);
    if (!tmp) return -1;
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "sentinel-bench-cpu: cannot create %s: %s\n", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    fprintf(f, "{\n  \"tool\": \"sentinel-bench-cpu\",\n  \"version\": ");
    sn_bench_json_string(f, sn_version_string());
    fprintf(f, ",\n  \"date\": ");
    sn_bench_json_string(f, date);
    fprintf(f, ",\n  \"cpu\": ");
    sn_bench_json_string(f, cpu);
    fprintf(f, ",\n  \"cores\": %ld,\n  \"kernel\": ", sysconf(_SC_NPROCESSORS_ONLN));
    sn_bench_json_string(f, u.release);
    fprintf(f, ",\n  \"seconds_per_row\": %.3f,\n  \"results\": [", seconds);
    for (int i = 0; i < n; i++) {
        fprintf(f, "%s\n    {\"model\": ", i ? "," : "");
        sn_bench_json_string(f, r[i].model);
        fprintf(f,
                ", \"optimized\": %s, \"batch\": %d, \"threads\": %d, \"runs\": %d, \"images_per_s\": %.3f, "
                "\"p50_ms\": %.4f, \"p99_ms\": %.4f, \"activation_bytes\": %zu, "
                "\"weight_bytes\": %zu}",
                r[i].optimized ? "true" : "false", r[i].batch, r[i].threads, r[i].runs, r[i].images_per_s, r[i].p50_ms,
                r[i].p99_ms, r[i].activation_bytes, r[i].weight_bytes);
    }
    fprintf(f, "\n  ]\n}\n");
    int bad = ferror(f) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        fprintf(stderr, "sentinel-bench-cpu: writing %s failed\n", path);
        remove(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}
