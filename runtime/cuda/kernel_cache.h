/*
 * kernel_cache.h - compiling generated CUDA sources with NVRTC to cubin, through an on-disk cache,
 * many at once.
 *
 * A cache entry is keyed by the SHA-256 of a cache-format version, the target architecture, the
 * NVRTC version, the compile options and the complete generated source, so a changed template,
 * constant, option or compiler never reuses an old cubin, and a second start of the same model
 * compiles nothing. Entries are written to a temporary file, fsync'ed and renamed into place, so
 * concurrent processes and crashes leave either a whole entry or none; each entry carries a
 * header (magic, version, length, key, SHA-256 of the cubin) so a corrupted or truncated one is
 * detected, recompiled and replaced.
 *
 * Location: $SENTINEL_CACHE_DIR, else $XDG_CACHE_HOME/sentinel, else $HOME/.cache/sentinel;
 * entries go in its kernels/ folder. $SENTINEL_KERNEL_CACHE selects the mode: "on" (default),
 * "off" (compile every time, touch no file) or "require" (a miss is an error: proves hits).
 */
#ifndef SN_KERNEL_CACHE_H
#define SN_KERNEL_CACHE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef enum sn_kcache_mode {
    SN_KCACHE_ON = 0,         /* read hits, compile and store misses */
    SN_KCACHE_OFF = 1,        /* always compile, never read or write files */
    SN_KCACHE_REQUIRE_HIT = 2 /* a miss fails with SN_ERR_NOT_FOUND (tests, warm starts) */
} sn_kcache_mode;

typedef struct sn_kcache_stats {
    int hits;           /* programs served from disk */
    int compiles;       /* programs NVRTC compiled */
    int stored;         /* entries written */
    int corrupt;        /* entries found damaged (then recompiled and replaced) */
    int store_failures; /* entries that could not be written (compiled fine, not cached) */
    int deduped;        /* programs identical to another of the same batch, compiled once */
} sn_kcache_stats;

typedef struct sn_kcache {
    sn_kcache_mode mode;
    char dir[4096];       /* the kernels/ folder; "" when mode is OFF */
    pthread_mutex_t lock; /* guards stats */
    sn_kcache_stats stats;
} sn_kcache;

/* One program to build. The caller fills the inputs; sn_kcache_build fills the outputs, which
 * sn_cuda_program_clear frees. */
typedef struct sn_cuda_program {
    const char *label;  /* for messages: "node 'layer1.0.conv1' (fused_conv igemm)" */
    const char *source; /* the whole generated source */
    int arch;           /* compute capability as 10*major+minor: 80, 90 */
    /* outputs */
    uint8_t key[32];
    void *cubin;
    size_t cubin_size;
    bool from_cache;
    char *log;      /* NVRTC's log when it compiled (may be NULL or empty) */
    double seconds; /* compile time, 0 for a hit */
} sn_cuda_program;

/* Mode from $SENTINEL_KERNEL_CACHE (on/off/require); SN_ERR_INVALID_ARGUMENT for another value. */
sn_status sn_kcache_mode_from_env(sn_kcache_mode *mode, sn_error *err);

/* Open a cache: dir NULL means the default location (above). Creates the folder (0700) for ON
 * and REQUIRE_HIT. */
sn_status sn_kcache_open(sn_kcache *c, const char *dir, sn_kcache_mode mode, sn_error *err);
void sn_kcache_close(sn_kcache *c);

/* The options NVRTC gets for an architecture (NULL-terminated, static strings in buf). */
int sn_kcache_options(int arch, const char *opts[8], char *buf, size_t buf_size);

/* The cache key of a program (needs NVRTC loaded, for its version). */
sn_status sn_kcache_key(const char *source, int arch, uint8_t key[32], sn_error *err);

/* Build one program: a hit from disk, or an NVRTC compile (stored afterwards). */
sn_status sn_kcache_build(sn_kcache *c, sn_cuda_program *p, sn_error *err);

/* Build n programs on `threads` threads (<= 0: one). Programs with the same key are compiled
 * once. Stops at the first failure, which err describes. */
sn_status sn_kcache_build_all(sn_kcache *c, sn_cuda_program *progs, int n, int threads,
                              sn_error *err);

/* Path of a program's entry (for tests that damage it). */
void sn_kcache_entry_path(const sn_kcache *c, const uint8_t key[32], char *buf, size_t size);

void sn_cuda_program_clear(sn_cuda_program *p);

#endif
