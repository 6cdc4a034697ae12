/*
 * interrupt.c - SIGINT, SIGTERM and SIGHUP. The first one sets a flag: the decoding threads
 * stop taking inputs, the batch in the engine finishes and is written, outputs are closed as
 * at a normal end, and the program exits with status 130. A second one (the user insists, or
 * an engine run will not end) ends the program at once with the signal's default action,
 * after removing the JSON Lines temporary file so a half-written --output never replaces the
 * file the user named. The handler only does what is async-signal-safe.
 *
 * The handlers restart interrupted system calls (SA_RESTART), so a read that a signal lands in
 * does not fail. A decoding thread blocked on a stalled stream (a FIFO, a camera) is woken on
 * purpose instead, once the run is stopping: run_signals_wake sends it RUN_WAKE_SIGNAL, whose
 * empty handler is installed without SA_RESTART, so its blocking call returns EINTR and FFmpeg's
 * interrupt callback ends the read.
 */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "run.h"

/* An atomic, not a volatile sig_atomic_t: other threads (the decoding pool, a video source)
 * read it too. A lock-free atomic int is safe to store from a signal handler. */
static atomic_int g_interrupted;
/* The temporary file's name, published through an atomic pointer: the buffer is only written
 * while the pointer is NULL, so a handler running on any thread sees a whole name or none. */
static char g_tmp[PATH_MAX];
static _Atomic(const char *) g_tmp_name;

static void on_signal(int sig) {
    if (!atomic_exchange(&g_interrupted, 1)) return;
    const char *tmp = atomic_load(&g_tmp_name);
    if (tmp) unlink(tmp);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void on_wake(int sig) { (void)sig; }
static atomic_int g_wake_installed;

void run_signals_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* Restarted, so a read or write the signal lands in does not fail with EINTR. */
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = on_wake;
    sa.sa_flags = 0;
    if (sigaction(RUN_WAKE_SIGNAL, &sa, NULL) == 0) atomic_store(&g_wake_installed, 1);
}

void run_signals_wake(pthread_t thread) {
    /* Without the handler the signal's default action would end the program. */
    if (atomic_load(&g_wake_installed)) pthread_kill(thread, RUN_WAKE_SIGNAL);
}

int run_interrupted(void) { return atomic_load(&g_interrupted) != 0; }

void run_signals_tmp_file(const char *path) {
    atomic_store(&g_tmp_name, NULL);
    if (!path) return;
    snprintf(g_tmp, sizeof g_tmp, "%s", path);
    atomic_store(&g_tmp_name, g_tmp);
}
