/*
 * interrupt.c - SIGINT, SIGTERM and SIGHUP. The handler only touches what is async-signal-safe:
 * it removes the JSON Lines temporary file (a half-written --output never replaces the file
 * the user named) and ends the program with the signal's default action.
 */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "run.h"

static volatile sig_atomic_t g_interrupted;
static char g_tmp[PATH_MAX];

static void on_signal(int sig) {
    g_interrupted = 1;
    if (g_tmp[0]) unlink(g_tmp);
    signal(sig, SIG_DFL);
    raise(sig);
}

void run_signals_install(void) {
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
}

int run_interrupted(void) { return g_interrupted != 0; }

void run_signals_tmp_file(const char *path) {
    /* Blocked while the path changes, so the handler never reads half of it. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    snprintf(g_tmp, sizeof g_tmp, "%s", path ? path : "");
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}
