/*
 * test_cuda_cache.c - the on-disk kernel cache (runtime/cuda/kernel_cache.c): a second build
 * compiles nothing, the key follows source and architecture, "require" mode refuses to compile,
 * a corrupted or truncated entry is detected and recompiled, two processes writing the same
 * entry at once leave one valid entry, and the mode comes from SENTINEL_KERNEL_CACHE. Real NVRTC
 * compiles of tiny kernels; skipped (with the reason) where NVRTC cannot be loaded.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.h"

#ifndef SENTINEL_HAVE_CUDA
Test(cuda_cache, skipped) { cr_skip_test("built without the CUDA toolkit (SENTINEL_HAVE_CUDA)"); }
#else

#include "cuda_api.h"
#include "kernel_cache.h"

static void need_nvrtc(void) {
    sn_error e = {0};
    if (!sn_nvrtc_get(&e)) cr_skip_test("NVRTC is not available: %s", e.message);
}

/* Distinct tiny kernels: the constant makes each source (and key) different. */
static char *tiny_source(int which) {
    char *s = malloc(256);
    cr_assert_not_null(s);
    snprintf(
        s, 256,
        "extern \"C\" __global__ void k(float *y) { y[threadIdx.x] = %d.0f * y[threadIdx.x]; }\n",
        which + 2);
    return s;
}

static void programs(sn_cuda_program *p, int n, int arch) {
    for (int i = 0; i < n; i++) {
        memset(&p[i], 0, sizeof p[i]);
        p[i].label = "tiny kernel";
        p[i].source = tiny_source(i);
        p[i].arch = arch;
    }
}

static void programs_free(sn_cuda_program *p, int n) {
    for (int i = 0; i < n; i++) {
        free((void *)p[i].source);
        sn_cuda_program_clear(&p[i]);
    }
}

static sn_kcache_stats build(const char *dir, sn_kcache_mode mode, sn_cuda_program *p, int n,
                             sn_status want) {
    sn_kcache c;
    sn_error e = {0};
    cr_assert_eq(sn_kcache_open(&c, dir, mode, &e), SN_OK, "%s", e.message);
    sn_status st = sn_kcache_build_all(&c, p, n, 2, &e);
    cr_assert_eq(st, want, "build_all: %s", e.message);
    sn_kcache_stats s = c.stats;
    sn_kcache_close(&c);
    return s;
}

Test(cuda_cache, second_build_compiles_nothing) {
    need_nvrtc();
    char *dir = sn_test_mkdtemp();
    sn_cuda_program p[4], q[4];
    programs(p, 4, 90);
    sn_kcache_stats s = build(dir, SN_KCACHE_ON, p, 4, SN_OK);
    cr_assert_eq(s.compiles, 4);
    cr_assert_eq(s.stored, 4);
    cr_assert_eq(s.hits, 0);
    programs(q, 4, 90);
    s = build(dir, SN_KCACHE_REQUIRE_HIT, q, 4, SN_OK);
    cr_assert_eq(s.compiles, 0);
    cr_assert_eq(s.hits, 4);
    for (int i = 0; i < 4; i++) {
        cr_assert(q[i].from_cache);
        cr_assert_eq(q[i].cubin_size, p[i].cubin_size);
        cr_assert(!memcmp(q[i].cubin, p[i].cubin, p[i].cubin_size));
    }
    programs_free(p, 4);
    programs_free(q, 4);
    sn_test_rmtree(dir);
    free(dir);
}

Test(cuda_cache, identical_programs_compile_once) {
    need_nvrtc();
    sn_cuda_program p[3];
    programs(p, 3, 80);
    free((void *)p[2].source);
    p[2].source = tiny_source(0); /* the same as p[0] */
    sn_kcache_stats s = build(NULL, SN_KCACHE_OFF, p, 3, SN_OK);
    cr_assert_eq(s.compiles, 2);
    cr_assert_eq(s.deduped, 1);
    cr_assert_eq(p[2].cubin_size, p[0].cubin_size);
    cr_assert(!memcmp(p[2].cubin, p[0].cubin, p[0].cubin_size));
    programs_free(p, 3);
}

Test(cuda_cache, key_follows_source_and_arch) {
    need_nvrtc();
    uint8_t a[32], b[32], c[32], d[32];
    sn_error e = {0};
    char *s0 = tiny_source(0), *s1 = tiny_source(1);
    cr_assert_eq(sn_kcache_key(s0, 90, a, &e), SN_OK, "%s", e.message);
    cr_assert_eq(sn_kcache_key(s0, 90, b, &e), SN_OK);
    cr_assert_eq(sn_kcache_key(s1, 90, c, &e), SN_OK);
    cr_assert_eq(sn_kcache_key(s0, 80, d, &e), SN_OK);
    cr_assert(!memcmp(a, b, 32));
    cr_assert(memcmp(a, c, 32));
    cr_assert(memcmp(a, d, 32));
    free(s0);
    free(s1);
}

Test(cuda_cache, require_mode_refuses_a_miss) {
    need_nvrtc();
    char *dir = sn_test_mkdtemp();
    sn_cuda_program p[1];
    programs(p, 1, 90);
    sn_kcache c;
    sn_error e = {0};
    cr_assert_eq(sn_kcache_open(&c, dir, SN_KCACHE_REQUIRE_HIT, &e), SN_OK);
    cr_assert_eq(sn_kcache_build(&c, &p[0], &e), SN_ERR_NOT_FOUND);
    cr_assert(strstr(e.message, "miss"), "%s", e.message);
    cr_assert(strstr(e.message, "require"), "%s", e.message);
    cr_assert_eq(c.stats.compiles, 0);
    sn_kcache_close(&c);
    programs_free(p, 1);
    sn_test_rmtree(dir);
    free(dir);
}

/* Damage the entry of p[0] with `damage`, then check it is found bad, recompiled and replaced. */
static void damaged_entry_is_recompiled(void (*damage)(const char *path, size_t size)) {
    need_nvrtc();
    char *dir = sn_test_mkdtemp();
    sn_cuda_program p[1], q[1], r[1];
    programs(p, 1, 90);
    build(dir, SN_KCACHE_ON, p, 1, SN_OK);
    sn_kcache c;
    sn_error e = {0};
    cr_assert_eq(sn_kcache_open(&c, dir, SN_KCACHE_ON, &e), SN_OK);
    char path[4200];
    sn_kcache_entry_path(&c, p[0].key, path, sizeof path);
    sn_kcache_close(&c);
    size_t size = 0;
    void *bytes = sn_test_read_file(path, &size);
    cr_assert_not_null(bytes, "no entry at %s", path);
    free(bytes);
    damage(path, size);
    /* require mode sees it damaged and refuses; on mode recompiles and replaces it */
    programs(q, 1, 90);
    sn_kcache_stats s = build(dir, SN_KCACHE_REQUIRE_HIT, q, 1, SN_ERR_NOT_FOUND);
    cr_assert_eq(s.corrupt, 1);
    programs_free(q, 1);
    programs(q, 1, 90);
    s = build(dir, SN_KCACHE_ON, q, 1, SN_OK);
    cr_assert_eq(s.corrupt, 1);
    cr_assert_eq(s.compiles, 1);
    cr_assert_eq(s.stored, 1);
    cr_assert_eq(q[0].cubin_size, p[0].cubin_size);
    cr_assert(!memcmp(q[0].cubin, p[0].cubin, p[0].cubin_size));
    programs(r, 1, 90);
    s = build(dir, SN_KCACHE_REQUIRE_HIT, r, 1, SN_OK);
    cr_assert_eq(s.hits, 1);
    programs_free(p, 1);
    programs_free(q, 1);
    programs_free(r, 1);
    sn_test_rmtree(dir);
    free(dir);
}

static void flip_payload_byte(const char *path, size_t size) {
    size_t n = 0;
    unsigned char *b = sn_test_read_file(path, &n);
    cr_assert_eq(n, size);
    b[size - 7] ^= 0x5a;
    cr_assert_eq(sn_test_write_file(path, b, n), 0);
    free(b);
}

static void truncate_entry(const char *path, size_t size) {
    cr_assert_eq(truncate(path, (off_t)(size / 2)), 0);
}

static void garbage_header(const char *path, size_t size) {
    (void)size;
    cr_assert_eq(sn_test_write_file(path, "not a cubin at all", 18), 0);
}

static void empty_file(const char *path, size_t size) {
    (void)size;
    cr_assert_eq(sn_test_write_file(path, "", 0), 0);
}

Test(cuda_cache, corrupted_entry_is_recompiled) { damaged_entry_is_recompiled(flip_payload_byte); }
Test(cuda_cache, truncated_entry_is_recompiled) { damaged_entry_is_recompiled(truncate_entry); }
Test(cuda_cache, garbage_entry_is_recompiled) { damaged_entry_is_recompiled(garbage_header); }
Test(cuda_cache, empty_entry_is_recompiled) { damaged_entry_is_recompiled(empty_file); }

/* Two processes compile and store the same entries at the same moment. */
Test(cuda_cache, concurrent_writers_leave_valid_entries) {
    need_nvrtc();
    char *dir = sn_test_mkdtemp();
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        cr_assert_geq(kids[k], 0);
        if (kids[k] == 0) {
            char go;
            close(fds[1]);
            /* Both start when the parent closes the pipe. */
            if (read(fds[0], &go, 1) < 0) _exit(3);
            sn_cuda_program p[3];
            programs(p, 3, 90);
            sn_kcache c;
            sn_error e = {0};
            if (sn_kcache_open(&c, dir, SN_KCACHE_ON, &e) != SN_OK) _exit(1);
            int rc = sn_kcache_build_all(&c, p, 3, 1, &e) == SN_OK ? 0 : 2;
            sn_kcache_close(&c);
            _exit(rc);
        }
    }
    close(fds[0]);
    close(fds[1]);
    for (int k = 0; k < 2; k++) {
        int status = 0;
        cr_assert_eq(waitpid(kids[k], &status, 0), kids[k]);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer %d failed (%d)", k,
                  status);
    }
    sn_cuda_program q[3];
    programs(q, 3, 90);
    sn_kcache_stats s = build(dir, SN_KCACHE_REQUIRE_HIT, q, 3, SN_OK);
    cr_assert_eq(s.hits, 3);
    cr_assert_eq(s.corrupt, 0);
    /* Exactly the three entries: no temporary file left behind. */
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/kernels", dir);
    DIR *d = opendir(sub);
    cr_assert_not_null(d);
    int files = 0;
    for (struct dirent *ent; (ent = readdir(d));) {
        if (ent->d_name[0] == '.') continue;
        cr_assert(strstr(ent->d_name, ".cubin") && !strstr(ent->d_name, ".tmp"), "left: %s",
                  ent->d_name);
        files++;
    }
    closedir(d);
    cr_assert_eq(files, 3);
    programs_free(q, 3);
    sn_test_rmtree(dir);
    free(dir);
}

Test(cuda_cache, off_mode_touches_no_file) {
    need_nvrtc();
    char *dir = sn_test_mkdtemp();
    setenv("SENTINEL_CACHE_DIR", dir, 1);
    sn_cuda_program p[1];
    programs(p, 1, 90);
    sn_kcache_stats s = build(NULL, SN_KCACHE_OFF, p, 1, SN_OK);
    cr_assert_eq(s.compiles, 1);
    cr_assert_eq(s.stored, 0);
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/kernels", dir);
    cr_assert_null(opendir(sub));
    programs_free(p, 1);
    sn_test_rmtree(dir);
    free(dir);
}

Test(cuda_cache, default_folder_from_environment) {
    char *dir = sn_test_mkdtemp();
    sn_kcache c;
    sn_error e = {0};
    char want[4200];
    setenv("SENTINEL_CACHE_DIR", dir, 1);
    cr_assert_eq(sn_kcache_open(&c, NULL, SN_KCACHE_ON, &e), SN_OK, "%s", e.message);
    snprintf(want, sizeof want, "%s/kernels", dir);
    cr_assert_str_eq(c.dir, want);
    sn_kcache_close(&c);
    unsetenv("SENTINEL_CACHE_DIR");
    setenv("XDG_CACHE_HOME", dir, 1);
    cr_assert_eq(sn_kcache_open(&c, NULL, SN_KCACHE_ON, &e), SN_OK, "%s", e.message);
    snprintf(want, sizeof want, "%s/sentinel/kernels", dir);
    cr_assert_str_eq(c.dir, want);
    sn_kcache_close(&c);
    sn_test_rmtree(dir);
    free(dir);
}

Test(cuda_cache, mode_from_environment) {
    sn_kcache_mode m;
    sn_error e = {0};
    unsetenv("SENTINEL_KERNEL_CACHE");
    cr_assert_eq(sn_kcache_mode_from_env(&m, &e), SN_OK);
    cr_assert_eq(m, SN_KCACHE_ON);
    setenv("SENTINEL_KERNEL_CACHE", "off", 1);
    cr_assert_eq(sn_kcache_mode_from_env(&m, &e), SN_OK);
    cr_assert_eq(m, SN_KCACHE_OFF);
    setenv("SENTINEL_KERNEL_CACHE", "require", 1);
    cr_assert_eq(sn_kcache_mode_from_env(&m, &e), SN_OK);
    cr_assert_eq(m, SN_KCACHE_REQUIRE_HIT);
    setenv("SENTINEL_KERNEL_CACHE", "sometimes", 1);
    cr_assert_eq(sn_kcache_mode_from_env(&m, &e), SN_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(e.message, "sometimes"));
}

#endif /* SENTINEL_HAVE_CUDA */
