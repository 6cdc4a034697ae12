/* test_support.c - see test_support.h. */
#include "test_support.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void sn_rng_seed(sn_rng *r, uint64_t seed) { r->s = seed ^ 0x9E3779B97F4A7C15ull; }

uint64_t sn_rng_u64(sn_rng *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double sn_rng_uniform(sn_rng *r, double lo, double hi) {
    return lo + (hi - lo) * ((double)(sn_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0));
}

void sn_rng_fill(sn_rng *r, float *x, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) {
        float v;
        do v = (float)sn_rng_uniform(r, lo, hi);
        while (v == 0.0f && !(lo == 0.0f && hi == 0.0f));
        x[i] = v;
    }
}

uint64_t sn_test_fresh_seed(const char *test_name) {
    const char *env = getenv("SN_TEST_SEED");
    uint64_t seed;
    if (env && *env)
        seed = strtoull(env, NULL, 0);
    else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ ((uint64_t)getpid() << 40);
    }
    fprintf(stderr, "[seed] %s: SN_TEST_SEED=%llu\n", test_name ? test_name : "?",
            (unsigned long long)seed);
    return seed;
}

long sn_compare_f32(const float *got, const double *want, size_t n, double rtol, double atol,
                    double *worst_rel) {
    double worst = 0;
    long bad = -1;
    for (size_t i = 0; i < n; i++) {
        double g = got[i], w = want[i];
        if (!isfinite(g) || !isfinite(w)) {
            if (bad < 0) bad = (long)i;
            worst = INFINITY;
            continue;
        }
        double diff = fabs(g - w);
        double rel = diff / fmax(fabs(w), 1e-30);
        if (diff > atol + rtol * fabs(w)) {
            if (bad < 0) bad = (long)i;
        }
        if (diff > atol && rel > worst) worst = rel;
    }
    if (worst_rel) *worst_rel = worst;
    return bad;
}

char *sn_test_mkdtemp(void) {
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp) tmp = "/tmp";
    size_t len = strlen(tmp) + 32;
    char *path = malloc(len);
    if (!path) return NULL;
    snprintf(path, len, "%s/sn-test-XXXXXX", tmp);
    if (!mkdtemp(path)) {
        free(path);
        return NULL;
    }
    return path;
}

void sn_test_rmtree(const char *path) {
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            size_t len = strlen(path) + strlen(e->d_name) + 2;
            char *child = malloc(len);
            if (!child) continue;
            snprintf(child, len, "%s/%s", path, e->d_name);
            struct stat st;
            if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
                sn_test_rmtree(child);
            else
                unlink(child);
            free(child);
        }
        closedir(d);
    }
    rmdir(path);
}

const char *sn_test_bin(const char *program) {
    static __thread char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", SN_TEST_BIN_DIR, program);
    return buf;
}

int sn_test_run(const char *cmd, char **output, int *signal_out) {
    size_t len = strlen(cmd) + 16;
    char *full = malloc(len);
    if (!full) return -1;
    snprintf(full, len, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    free(full);
    if (!p) return -1;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += r;
        if (cap - n < 1024) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) break;
            buf = nb;
            cap *= 2;
        }
    }
    if (buf) buf[n] = '\0';
    int status = pclose(p);
    if (output)
        *output = buf;
    else
        free(buf);
    if (signal_out) *signal_out = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return -1;
}

int sn_test_write_file(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fwrite(data, 1, size, f) == size;
    ok &= fclose(f) == 0;
    return ok ? 0 : -1;
}

void *sn_test_read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return NULL;
    }
    long len = ftell(f);
    if (len < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    char *buf = malloc((size_t)len + 1);
    if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[len] = '\0';
        if (size) *size = (size_t)len;
    }
    return buf;
}
