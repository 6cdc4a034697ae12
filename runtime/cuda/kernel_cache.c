/*
 * kernel_cache.c - the on-disk cubin cache and the NVRTC compile of one program
 * (kernel_cache.h). Many programs at once: compile_pool.c.
 *
 * Entry layout (little-endian), file <hex key>.cubin in the kernels/ folder:
 *   0   8  magic "SNKCUBIN"
 *   8   4  entry format version (SN__ENTRY_VERSION)
 *   12  4  reserved, 0
 *   16  8  payload length L
 *   24 32  the key (SHA-256), which must equal the file name's
 *   56 32  SHA-256 of the payload
 *   88  L  the cubin
 * The file size must be exactly 88 + L. Anything else is a corrupt entry: it is recompiled and
 * replaced by rename, which readers in other processes never see half-done.
 */
#include "kernel_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cuda_api.h"

/* Bump when the key derivation, the options or the generated code's conventions change in a way
 * the sources would not show. */
#define SN__CACHE_VERSION "sentinel-kernel-cache-1"
#define SN__ENTRY_VERSION 1u
#define SN__HEADER 88
/* No real cubin comes near this; a bigger length field is corruption. */
#define SN__MAX_CUBIN ((uint64_t)256 << 20)

sn_status sn_kcache_mode_from_env(sn_kcache_mode *mode, sn_error *err) {
    const char *v = getenv("SENTINEL_KERNEL_CACHE");
    *mode = SN_KCACHE_ON;
    if (!v || !*v || !strcmp(v, "on") || !strcmp(v, "1")) return SN_OK;
    if (!strcmp(v, "off") || !strcmp(v, "0"))
        *mode = SN_KCACHE_OFF;
    else if (!strcmp(v, "require"))
        *mode = SN_KCACHE_REQUIRE_HIT;
    else
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         "SENTINEL_KERNEL_CACHE is '%s'; expected on, off or require", v);
    return SN_OK;
}

/* mkdir -p, each created component 0700 (the XDG cache rule: the cache is private). */
static sn_status sn__mkdirs(const char *path, sn_error *err) {
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "kernel cache folder '%s' is not usable",
                         path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return sn_errorf(err, SN_ERR_IO, "kernel cache: cannot create folder %s: %s", buf,
                             strerror(errno));
        buf[i] = c;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return sn_errorf(err, SN_ERR_IO, "kernel cache: %s is not a folder", path);
    return SN_OK;
}

sn_status sn_kcache_open(sn_kcache *c, const char *dir, sn_kcache_mode mode, sn_error *err) {
    memset(c, 0, sizeof *c);
    c->mode = mode;
    if (pthread_mutex_init(&c->lock, NULL) != 0)
        return sn_errorf(err, SN_ERR_INTERNAL, "kernel cache: pthread_mutex_init failed");
    if (mode == SN_KCACHE_OFF) return SN_OK;
    int n;
    const char *env = getenv("SENTINEL_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"),
               *home = getenv("HOME");
    if (dir && *dir)
        n = snprintf(c->dir, sizeof c->dir, "%s/kernels", dir);
    else if (env && *env)
        n = snprintf(c->dir, sizeof c->dir, "%s/kernels", env);
    else if (xdg && *xdg == '/')
        n = snprintf(c->dir, sizeof c->dir, "%s/sentinel/kernels", xdg);
    else if (home && *home)
        n = snprintf(c->dir, sizeof c->dir, "%s/.cache/sentinel/kernels", home);
    else
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         "kernel cache: no folder (set SENTINEL_CACHE_DIR, XDG_CACHE_HOME or "
                         "HOME, or SENTINEL_KERNEL_CACHE=off)");
    if (n < 0 || (size_t)n >= sizeof c->dir - 80)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "kernel cache: folder path too long");
    return sn__mkdirs(c->dir, err);
}

void sn_kcache_close(sn_kcache *c) {
    if (c) pthread_mutex_destroy(&c->lock);
}

int sn_kcache_options(int arch, const char *opts[8], char *buf, size_t buf_size) {
    snprintf(buf, buf_size, "--gpu-architecture=sm_%d", arch);
    int n = 0;
    opts[n++] = buf;
    opts[n++] = "--std=c++17";
    /* Kernels keep IEEE division and sqrt and denormals: the CPU backend is the reference. */
    opts[n++] = "--fmad=true";
    opts[n] = NULL;
    return n;
}

static void sn__sha256(const void *data, size_t n, uint8_t out[32]) {
    unsigned len = 32;
    if (!EVP_Digest(data, n, out, &len, EVP_sha256(), NULL)) memset(out, 0, 32);
}

sn_status sn_kcache_key(const char *source, int arch, uint8_t key[32], sn_error *err) {
    const sn_nvrtc *rtc = sn_nvrtc_get(err);
    if (!rtc) return err ? err->status : SN_ERR_UNSUPPORTED;
    char head[256], ob[64];
    const char *opts[8];
    int no = sn_kcache_options(arch, opts, ob, sizeof ob);
    int n = snprintf(head, sizeof head, "%s|sm_%d|nvrtc %d.%d|", SN__CACHE_VERSION, arch,
                     rtc->major, rtc->minor);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned len = 32;
    int ok =
        ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) && EVP_DigestUpdate(ctx, head, (size_t)n);
    for (int i = 0; ok && i < no; i++) /* each option NUL-terminated: no ambiguity */
        ok = EVP_DigestUpdate(ctx, opts[i], strlen(opts[i]) + 1);
    ok = ok && EVP_DigestUpdate(ctx, source, strlen(source)) && EVP_DigestFinal_ex(ctx, key, &len);
    EVP_MD_CTX_free(ctx);
    if (!ok) return sn_errorf(err, SN_ERR_INTERNAL, "kernel cache: SHA-256 failed (OpenSSL)");
    return SN_OK;
}

void sn_kcache_entry_path(const sn_kcache *c, const uint8_t key[32], char *buf, size_t size) {
    char hex[65];
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", key[i]);
    snprintf(buf, size, "%s/%s.cubin", c->dir, hex);
}

static void sn__count(sn_kcache *c, int *field) {
    pthread_mutex_lock(&c->lock);
    (*field)++;
    pthread_mutex_unlock(&c->lock);
}

static void sn__put64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint64_t sn__get64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* 1: a valid entry was read into p; 0: no entry; -1: an entry exists but is damaged. */
static int sn__read_entry(const sn_kcache *c, sn_cuda_program *p) {
    char path[4200];
    sn_kcache_entry_path(c, p->key, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? 0 : -1;
    uint8_t h[SN__HEADER], sum[32];
    int result = -1;
    void *buf = NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < SN__HEADER) goto done;
    if (read(fd, h, SN__HEADER) != SN__HEADER) goto done;
    uint64_t len = sn__get64(h + 16);
    uint32_t ver =
        (uint32_t)h[8] | (uint32_t)h[9] << 8 | (uint32_t)h[10] << 16 | (uint32_t)h[11] << 24;
    if (memcmp(h, "SNKCUBIN", 8) != 0 || ver != SN__ENTRY_VERSION || len == 0 ||
        len > SN__MAX_CUBIN || (uint64_t)st.st_size != SN__HEADER + len ||
        memcmp(h + 24, p->key, 32) != 0)
        goto done;
    buf = malloc((size_t)len);
    if (!buf) goto done;
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(fd, (char *)buf + got, (size_t)len - got);
        if (r <= 0) goto done;
        got += (size_t)r;
    }
    sn__sha256(buf, (size_t)len, sum);
    if (memcmp(sum, h + 56, 32) != 0) goto done;
    p->cubin = buf;
    p->cubin_size = (size_t)len;
    p->from_cache = true;
    buf = NULL;
    result = 1;
done:
    free(buf);
    close(fd);
    return result;
}

static bool sn__write_all(int fd, const void *data, size_t n) {
    const char *s = data;
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        s += w;
        n -= (size_t)w;
    }
    return true;
}

/* Temp file + fsync + rename: the entry appears whole or not at all. */
static bool sn__write_entry(const sn_kcache *c, const sn_cuda_program *p) {
    char path[4200], tmp[4300];
    sn_kcache_entry_path(c, p->key, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) return false;
    uint8_t h[SN__HEADER] = {0};
    memcpy(h, "SNKCUBIN", 8);
    h[8] = (uint8_t)SN__ENTRY_VERSION;
    sn__put64(h + 16, (uint64_t)p->cubin_size);
    memcpy(h + 24, p->key, 32);
    sn__sha256(p->cubin, p->cubin_size, h + 56);
    bool ok = sn__write_all(fd, h, sizeof h) && sn__write_all(fd, p->cubin, p->cubin_size) &&
              fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    ok = ok && rename(tmp, path) == 0;
    if (!ok) unlink(tmp);
    return ok;
}

static double sn__now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* On a compile error the generated source is kept beside the cache (or in $TMPDIR) so the
 * line numbers in NVRTC's log can be read against it. */
static void sn__keep_failed_source(const sn_kcache *c, const sn_cuda_program *p, char *path,
                                   size_t size) {
    const char *tmpdir = getenv("TMPDIR");
    char hex[17];
    for (int i = 0; i < 8; i++) snprintf(hex + 2 * i, 3, "%02x", p->key[i]);
    snprintf(path, size, "%s/failed-%s.cu", c->dir[0] ? c->dir : tmpdir ? tmpdir : "/tmp", hex);
    FILE *f = fopen(path, "w");
    if (!f || fputs(p->source, f) < 0) snprintf(path, size, "(could not be written)");
    if (f) fclose(f);
}

/* NVRTC's log, trimmed to what fits in an error message after `room` bytes of text. */
static const char *sn__log_excerpt(const char *log, size_t room) {
    size_t n = log ? strlen(log) : 0;
    return n <= room ? (log ? log : "") : log + (n - room);
}

static sn_status sn__compile(sn_kcache *c, const sn_nvrtc *rtc, sn_cuda_program *p, sn_error *err) {
    char ob[64];
    const char *opts[8];
    int no = sn_kcache_options(p->arch, opts, ob, sizeof ob);
    nvrtcProgram prog = NULL;
    sn_status st = SN_OK;
    double t0 = sn__now();
    SN_CUDA_TRY(st, fail, SN_CUDA_LIB_NVRTC, err,
                rtc->nvrtcCreateProgram(&prog, p->source, "sentinel_kernel.cu", 0, NULL, NULL));
    nvrtcResult r = rtc->nvrtcCompileProgram(prog, no, opts);
    size_t log_size = 0;
    if (rtc->nvrtcGetProgramLogSize(prog, &log_size) == NVRTC_SUCCESS && log_size > 1) {
        p->log = malloc(log_size);
        if (p->log && rtc->nvrtcGetProgramLog(prog, p->log) != NVRTC_SUCCESS) p->log[0] = '\0';
    }
    if (r != NVRTC_SUCCESS) {
        char where[4400];
        sn__keep_failed_source(c, p, where, sizeof where);
        st = sn_errorf(err, SN_ERR_INTERNAL,
                       "NVRTC could not compile %s for sm_%d (%s); generated source: %s; log "
                       "(end): %s",
                       p->label ? p->label : "a kernel", p->arch, rtc->nvrtcGetErrorString(r),
                       where, sn__log_excerpt(p->log, 500));
        goto fail;
    }
    size_t size = 0;
    SN_CUDA_TRY(st, fail, SN_CUDA_LIB_NVRTC, err, rtc->nvrtcGetCUBINSize(prog, &size));
    if (size == 0) {
        st = sn_errorf(err, SN_ERR_INTERNAL, "NVRTC produced an empty cubin for %s", p->label);
        goto fail;
    }
    p->cubin = malloc(size);
    if (!p->cubin) {
        st = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory for a %zu-byte cubin", size);
        goto fail;
    }
    SN_CUDA_TRY(st, fail, SN_CUDA_LIB_NVRTC, err, rtc->nvrtcGetCUBIN(prog, p->cubin));
    p->cubin_size = size;
    p->seconds = sn__now() - t0;
    sn__count(c, &c->stats.compiles);
fail:
    if (prog) rtc->nvrtcDestroyProgram(&prog);
    return st;
}

sn_status sn_kcache_build(sn_kcache *c, sn_cuda_program *p, sn_error *err) {
    const sn_nvrtc *rtc = sn_nvrtc_get(err);
    if (!rtc) return err ? err->status : SN_ERR_UNSUPPORTED;
    free(p->cubin);
    free(p->log);
    p->cubin = NULL;
    p->log = NULL;
    p->cubin_size = 0;
    p->from_cache = false;
    p->seconds = 0.0;
    sn_status st = sn_kcache_key(p->source, p->arch, p->key, err);
    if (st != SN_OK) return st;
    if (c->mode != SN_KCACHE_OFF) {
        int r = sn__read_entry(c, p);
        if (r == 1) {
            sn__count(c, &c->stats.hits);
            return SN_OK;
        }
        if (r < 0) sn__count(c, &c->stats.corrupt);
        if (c->mode == SN_KCACHE_REQUIRE_HIT) {
            char path[4200];
            sn_kcache_entry_path(c, p->key, path, sizeof path);
            return sn_errorf(err, SN_ERR_NOT_FOUND,
                             "kernel cache %s for %s (sm_%d): %s, and SENTINEL_KERNEL_CACHE="
                             "require forbids compiling",
                             r < 0 ? "entry damaged" : "miss", p->label ? p->label : "a kernel",
                             p->arch, path);
        }
    }
    if ((st = sn__compile(c, rtc, p, err)) != SN_OK) return st;
    if (c->mode == SN_KCACHE_ON)
        sn__count(c, sn__write_entry(c, p) ? &c->stats.stored : &c->stats.store_failures);
    return SN_OK;
}

void sn_cuda_program_clear(sn_cuda_program *p) {
    if (!p) return;
    free(p->cubin);
    free(p->log);
    p->cubin = NULL;
    p->log = NULL;
    p->cubin_size = 0;
}
