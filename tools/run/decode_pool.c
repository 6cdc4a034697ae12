/*
 * decode_pool.c - decoding on a pool of threads, results in input order, memory bounded.
 *
 * Items are numbered as they leave the sources, and item k lives in slot k % window of a ring
 * until the batch loop takes it. A worker, holding the source lock, waits for a free slot,
 * takes the next item from the sources (so numbering follows input order whatever the
 * threads do), lets go of the lock, and decodes the item's image file into the slot. The batch
 * loop takes slots strictly in order, waiting when the next one is not decoded yet: that wait
 * is the time the engine sat idle for want of input. At most `window` items (about three
 * batches) are decoded ahead of the one the loop is working on, so memory stays bounded
 * however many files there are.
 *
 * Frames arrive already decoded from their source (video, camera); .npy and random samples
 * need no decoding. A decode failure is kept on its item with the reason; the loop reports it
 * in its place.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "run.h"

typedef struct pool_slot {
    run_item item;
    int ready; /* decoded (or failed), waiting for the batch loop */
} pool_slot;

struct run_pool {
    run_sources *src;
    sn_image_decode_options opt;
    pthread_mutex_t src_lock; /* one worker at a time takes items from the sources */
    pthread_mutex_t lock;     /* everything below */
    pthread_cond_t space;     /* a slot was freed, or stop */
    pthread_cond_t ready;     /* a slot was decoded, or the sources ended */
    pthread_cond_t gone;      /* a worker returned */
    pool_slot *ring;
    size_t window;
    size_t next_seq;  /* number of the next item to take from the sources */
    size_t taken;     /* items handed to the batch loop */
    size_t end_seq;   /* with ended: the number one past the last item */
    int ended, stop;
    pthread_t *threads;
    int n_threads, started, exited;
    run_pool_stats st;
};

/* Reads and decodes an image file into it->pixels; a failure goes to it->error. */
static void decode_image(run_pool *p, run_item *it, uint64_t *bytes) {
    void *data = NULL;
    size_t size = 0;
    sn_error err = {0};
    sn_status s = sn_read_file(it->path, SN_IMAGE_MAX_FILE_BYTES, &data, &size, &err);
    if (s == SN_OK) {
        *bytes += size;
        s = sn_image_decode_ex(data, size, &p->opt, &it->pixels, &err);
    }
    free(data);
    if (s == SN_OK) return;
    /* Say how to get past the pixel limit, since the limit is ours, not the file's fault. */
    if (s == SN_ERR_OUT_OF_MEMORY && strstr(err.message, "-pixel limit"))
        it->error = run_xasprintf("%s (--max-pixels raises it)", err.message);
    else
        it->error = run_xstrdup(err.message);
}

static void *worker(void *arg) {
    run_pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->src_lock);
        pthread_mutex_lock(&p->lock);
        while (!p->stop && !p->ended && p->next_seq - p->taken >= p->window)
            pthread_cond_wait(&p->space, &p->lock);
        if (p->stop || p->ended) {
            pthread_mutex_unlock(&p->lock);
            pthread_mutex_unlock(&p->src_lock);
            break;
        }
        size_t seq = p->next_seq++;
        pthread_mutex_unlock(&p->lock);
        /* Only this thread touches the slot until it is marked ready. */
        pool_slot *slot = &p->ring[seq % p->window];
        double t0 = run_now();
        int got = !run_interrupted() && run_sources_next(p->src, &slot->item);
        if (!got) {
            pthread_mutex_lock(&p->lock);
            p->ended = 1;
            p->end_seq = seq;
            pthread_cond_broadcast(&p->ready);
            pthread_cond_broadcast(&p->space);
            pthread_mutex_unlock(&p->lock);
            pthread_mutex_unlock(&p->src_lock);
            break;
        }
        pthread_mutex_unlock(&p->src_lock);
        uint64_t bytes = 0;
        int image = slot->item.kind == RUN_ITEM_IMAGE && !slot->item.error;
        if (image) decode_image(p, &slot->item, &bytes);
        double dt = run_now() - t0;
        pthread_mutex_lock(&p->lock);
        if (image) {
            p->st.decoded++;
            p->st.file_bytes += bytes;
        } else if (slot->item.kind == RUN_ITEM_FRAME) {
            p->st.frames++;
        }
        p->st.decode_s += dt;
        slot->ready = 1;
        pthread_cond_broadcast(&p->ready);
        pthread_mutex_unlock(&p->lock);
    }
    pthread_mutex_lock(&p->lock);
    p->exited++;
    pthread_cond_broadcast(&p->gone);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

run_pool *run_pool_start(run_sources *src, const sn_image_decode_options *opt, int threads,
                         size_t window) {
    run_pool *p = run_xcalloc(1, sizeof *p);
    p->src = src;
    p->opt = *opt;
    p->window = window ? window : 1;
    p->ring = run_xcalloc(p->window, sizeof *p->ring);
    p->n_threads = threads > 0 ? threads : 1;
    p->threads = run_xcalloc((size_t)p->n_threads, sizeof *p->threads);
    if (pthread_mutex_init(&p->src_lock, NULL) || pthread_mutex_init(&p->lock, NULL) ||
        pthread_cond_init(&p->space, NULL) || pthread_cond_init(&p->ready, NULL) ||
        pthread_cond_init(&p->gone, NULL))
        run_oom();
    for (int i = 0; i < p->n_threads; i++) {
        int e = pthread_create(&p->threads[i], NULL, worker, p);
        if (e) {
            /* Fewer threads still work; none at all cannot. */
            if (i == 0) {
                run_say("error: cannot start a decoding thread: %s", strerror(e));
                exit(EXIT_USAGE);
            }
            run_say("note: started %d of %d decoding threads: %s", i, p->n_threads,
                    strerror(e));
            break;
        }
        p->started++;
    }
    p->st.threads = p->started;
    return p;
}

/* Waits on c (m held) for at most 50 ms: short enough that a stop is seen at once, long
 * enough not to spin a core. */
static void wait_50ms(pthread_cond_t *c, pthread_mutex_t *m) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 50 * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(c, m, &ts);
}

int run_pool_next(run_pool *p, run_item *item, double *waited) {
    pthread_mutex_lock(&p->lock);
    pool_slot *slot = &p->ring[p->taken % p->window];
    double t0 = 0;
    while (!slot->ready && !(p->ended && p->taken == p->end_seq)) {
        if (run_interrupted()) break;
        if (!t0) t0 = run_now();
        /* A timed wait, so Ctrl-C is noticed even while every worker is busy. */
        wait_50ms(&p->ready, &p->lock);
    }
    if (t0 && waited) *waited += run_now() - t0;
    if (!slot->ready) {
        int end = p->ended && p->taken == p->end_seq;
        pthread_mutex_unlock(&p->lock);
        return end ? 0 : -1;
    }
    *item = slot->item;
    memset(&slot->item, 0, sizeof slot->item);
    slot->ready = 0;
    p->taken++;
    pthread_cond_broadcast(&p->space);
    pthread_mutex_unlock(&p->lock);
    return 1;
}

/* After an interrupt: wakes the workers until all have returned or about two seconds have
 * passed; whether all returned. */
static int wait_for_workers(run_pool *p) {
    for (int round = 0; round < 40; round++) {
        pthread_mutex_lock(&p->lock);
        int all = p->exited == p->started;
        pthread_mutex_unlock(&p->lock);
        if (all) return 1;
        /* Every round: a worker may block again after one wake (the next source, a retry).
         * Signalling one that has returned but is not joined yet is harmless. */
        for (int i = 0; i < p->started; i++) run_signals_wake(p->threads[i]);
        pthread_mutex_lock(&p->lock);
        if (p->exited < p->started) wait_50ms(&p->gone, &p->lock);
        pthread_mutex_unlock(&p->lock);
    }
    return 0;
}

int run_pool_stop(run_pool *p, run_pool_stats *st) {
    if (!p) return 0;
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_broadcast(&p->space);
    pthread_mutex_unlock(&p->lock);
    if (run_interrupted() && !wait_for_workers(p)) {
        /* Still inside its source: joining would wait for the stream; freeing would pull the
         * pool from under it. The program ends soon after the results are written. */
        pthread_mutex_lock(&p->lock);
        int stuck = p->started - p->exited;
        if (st) *st = p->st;
        pthread_mutex_unlock(&p->lock);
        run_say("note: %d decoding thread%s still blocked reading input; not waiting for %s",
                stuck, stuck > 1 ? "s are" : " is", stuck > 1 ? "them" : "it");
        return 1;
    }
    for (int i = 0; i < p->started; i++) pthread_join(p->threads[i], NULL);
    if (st) *st = p->st;
    /* Items decoded but never taken (the run was interrupted). */
    for (size_t i = 0; i < p->window; i++) run_item_free(&p->ring[i].item);
    pthread_cond_destroy(&p->ready);
    pthread_cond_destroy(&p->space);
    pthread_cond_destroy(&p->gone);
    pthread_mutex_destroy(&p->lock);
    pthread_mutex_destroy(&p->src_lock);
    free(p->threads);
    free(p->ring);
    free(p);
    return 0;
}
