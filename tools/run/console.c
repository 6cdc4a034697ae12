/*
 * console.c - sentinel-run's messages and progress bar on stderr, and the allocation helpers a
 * command-line tool can afford (out of memory ends the program with a message).
 *
 * The progress bar shares stderr with messages: a message first clears the bar's line. Only
 * the thread running the batch loop prints; decoding threads leave their errors on the items.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "run.h"

static int g_progress_shown;

void run_progress_clear(void) {
    if (g_progress_shown) {
        fputs("\r\033[K", stderr);
        g_progress_shown = 0;
    }
}

void run_progress_show(size_t done, size_t total, double rate, double elapsed) {
    if (total) {
        int width = 30, fill = (int)((double)width * (double)done / (double)total);
        char bar[64];
        for (int i = 0; i < width; i++) bar[i] = i < fill ? '=' : ' ';
        bar[width] = '\0';
        long eta = done && elapsed > 0
                       ? lround(elapsed / (double)done * (double)(total - done))
                       : 0;
        fprintf(stderr, "\r[%s] %zu/%zu  %.1f images/s  ETA %ld:%02ld\033[K", bar, done, total,
                rate, eta / 60, eta % 60);
    } else {
        fprintf(stderr, "\r%zu done  %.1f images/s\033[K", done, rate);
    }
    fflush(stderr);
    g_progress_shown = 1;
}

void run_say(const char *fmt, ...) {
    run_progress_clear();
    va_list ap;
    va_start(ap, fmt);
    fputs(PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

_Noreturn void run_oom(void) {
    fputs(PROG ": out of memory\n", stderr);
    exit(EXIT_USAGE);
}

void *run_xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) run_oom();
    return p;
}

void *run_xrealloc(void *p, size_t n, size_t size) {
    if (size && n > SIZE_MAX / size) run_oom();
    size_t bytes = n * size;
    void *q = realloc(p, bytes ? bytes : 1);
    if (!q) run_oom();
    return q;
}

char *run_xstrdup(const char *s) {
    char *p = strdup(s);
    if (!p) run_oom();
    return p;
}

char *run_xasprintf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) run_oom();
    return s;
}

double run_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
