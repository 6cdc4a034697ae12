/*
 * compile_pool.c - sn_kcache_build_all: every kernel of a model built at once on a few threads.
 *
 * Programs are first keyed; programs with the same key (layers of the same shape, which are
 * common: ResNet repeats its blocks) are built once and the cubin copied to the others. The
 * distinct ones are handed out to the threads through one shared counter. NVRTC compiles
 * distinct programs concurrently; the cache's files are per key and written by rename, so the
 * threads share nothing else.
 */
#include <stdlib.h>
#include <string.h>

#include "kernel_cache.h"

typedef struct sn__pool {
    sn_kcache *cache;
    sn_cuda_program *progs;
    int *todo, n_todo;
    int next;     /* next index into todo; guarded by lock */
    bool failed;  /* guarded by lock */
    sn_error err; /* the first failure */
    pthread_mutex_t lock;
} sn__pool;

static void *sn__worker(void *arg) {
    sn__pool *pool = arg;
    for (;;) {
        pthread_mutex_lock(&pool->lock);
        int i = pool->failed || pool->next >= pool->n_todo ? -1 : pool->todo[pool->next++];
        pthread_mutex_unlock(&pool->lock);
        if (i < 0) return NULL;
        sn_error e = {0};
        if (sn_kcache_build(pool->cache, &pool->progs[i], &e) != SN_OK) {
            pthread_mutex_lock(&pool->lock);
            if (!pool->failed) pool->err = e;
            pool->failed = true;
            pthread_mutex_unlock(&pool->lock);
            return NULL;
        }
    }
}

/* The index of an earlier program with the same key, or -1. Quadratic, but n is the kernels of
 * one model (hundreds) and memcmp of 32 bytes. */
static int sn__same_key(const sn_cuda_program *progs, int i) {
    for (int j = 0; j < i; j++)
        if (!memcmp(progs[j].key, progs[i].key, 32)) return j;
    return -1;
}

sn_status sn_kcache_build_all(sn_kcache *c, sn_cuda_program *progs, int n, int threads,
                              sn_error *err) {
    if (n <= 0) return SN_OK;
    sn__pool pool = {.cache = c, .progs = progs};
    int *leader = malloc((size_t)n * sizeof *leader);
    pool.todo = malloc((size_t)n * sizeof *pool.todo);
    pthread_t *tid = NULL;
    sn_status st = SN_OK;
    if (!leader || !pool.todo) {
        st = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory compiling %d kernels", n);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        if ((st = sn_kcache_key(progs[i].source, progs[i].arch, progs[i].key, err)) != SN_OK)
            goto done;
        leader[i] = sn__same_key(progs, i);
        if (leader[i] < 0) pool.todo[pool.n_todo++] = i;
    }
    if (pthread_mutex_init(&pool.lock, NULL) != 0) {
        st = sn_errorf(err, SN_ERR_INTERNAL, "compile pool: pthread_mutex_init failed");
        goto done;
    }
    int nt = threads < 1 ? 1 : threads > pool.n_todo ? pool.n_todo : threads;
    tid = calloc((size_t)nt, sizeof *tid);
    int started = 0;
    if (tid)
        for (; started < nt - 1; started++) /* this thread is the last worker */
            if (pthread_create(&tid[started], NULL, sn__worker, &pool) != 0) break;
    sn__worker(&pool);
    for (int t = 0; t < started; t++) pthread_join(tid[t], NULL);
    pthread_mutex_destroy(&pool.lock);
    if (pool.failed) {
        st = sn_errorf(err, pool.err.status, "%s", pool.err.message);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        if (leader[i] < 0) continue;
        const sn_cuda_program *src = &progs[leader[i]];
        sn_cuda_program *p = &progs[i];
        sn_cuda_program_clear(p);
        p->cubin = malloc(src->cubin_size);
        if (!p->cubin) {
            st = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory copying a cubin");
            goto done;
        }
        memcpy(p->cubin, src->cubin, src->cubin_size);
        p->cubin_size = src->cubin_size;
        p->from_cache = src->from_cache;
        pthread_mutex_lock(&c->lock);
        c->stats.deduped++;
        pthread_mutex_unlock(&c->lock);
    }
done:
    free(tid);
    free(leader);
    free(pool.todo);
    return st;
}
