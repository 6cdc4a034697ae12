/*
 * batch.c - the batch loop. Items come from the decoding pool (decode_pool.c) in input order
 * and fill batches of up to --batch good samples; each batch runs through the engine while the
 * pool decodes the next ones, and every item of it (failed ones in their place) goes to the
 * writers in input order.
 *
 * Decoded images and frames go to the engine as 8-bit pixels at their own sizes
 * (sn_engine_run_images), which preprocesses them as the model's metadata says: on the GPU in
 * one upload and one kernel, on the CPU with the same code the rest of Sentinel uses. .npy and
 * random samples are already model input and go through sn_engine_run. A batch holds one kind
 * or the other, so a change of kind ends a batch early.
 *
 * Ctrl-C: the batch running in the engine finishes and is written; then the loop stops, and
 * what was decoded but not run is dropped.
 */
#include <stdlib.h>
#include <string.h>

#include "run.h"

typedef enum feed_kind { FEED_PIXELS, FEED_FLOATS } feed_kind;

static feed_kind feed_of(const run_item *it) {
    return it->kind == RUN_ITEM_IMAGE || it->kind == RUN_ITEM_FRAME ? FEED_PIXELS : FEED_FLOATS;
}

typedef struct batch_buffers {
    float *in;        /* batch x sample_floats, for FEED_FLOATS */
    float **out;      /* per output: batch x out_floats */
    const float **one; /* per output: one item's sample, for the writers */
    sn_image_u8 *images;
    run_item *span;   /* the items of one batch, failed ones included, in order */
    int *slot;        /* each one's place in the batch, -1 when it failed */
    size_t cap;
} batch_buffers;

static void buffers_init(batch_buffers *b, const run_io *io, int batch) {
    int n_out = io->n_out > 0 ? io->n_out : 1;
    b->in = run_xcalloc((size_t)batch * io->sample_floats, sizeof(float));
    b->out = run_xcalloc((size_t)n_out, sizeof *b->out);
    for (int k = 0; k < io->n_out; k++)
        b->out[k] = run_xcalloc((size_t)batch * io->out_floats[k], sizeof(float));
    b->one = run_xcalloc((size_t)n_out, sizeof *b->one);
    b->images = run_xcalloc((size_t)batch, sizeof *b->images);
}

static void buffers_free(batch_buffers *b, const run_io *io) {
    for (int k = 0; k < io->n_out; k++) free(b->out[k]);
    free(b->out);
    free(b->one);
    free(b->in);
    free(b->images);
    free(b->span);
    free(b->slot);
}

/* One batch through the engine: `filled` good items of one kind. */
static sn_status run_engine(run_state *r, batch_buffers *b, size_t n, int filled,
                            feed_kind kind, sn_error *err) {
    const run_io *io = r->io;
    for (size_t i = 0; i < n; i++) {
        if (b->slot[i] < 0) continue;
        run_item *it = &b->span[i];
        if (kind == FEED_PIXELS) {
            sn_image_u8 *im = &b->images[b->slot[i]];
            im->width = it->pixels.width;
            im->height = it->pixels.height;
            im->stride = 0;
            im->pixels = it->pixels.pixels;
        } else {
            memcpy(b->in + (size_t)b->slot[i] * io->sample_floats, it->sample,
                   io->sample_floats * sizeof(float));
        }
    }
    if (kind == FEED_PIXELS)
        return sn_engine_run_images(r->engine, filled, b->images, (void *const *)b->out, err);
    const void *ins[1] = {b->in};
    return sn_engine_run(r->engine, filled, ins, (void *const *)b->out, err);
}

/* Writes the batch's items in order and frees them. */
static void write_batch(run_state *r, batch_buffers *b, size_t n) {
    const run_io *io = r->io;
    run_progress_clear();
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < io->n_out && b->slot[i] >= 0; k++)
            b->one[k] = b->out[k] + (io->out[k].dims[0] == SN_DIM_BATCH ? (size_t)b->slot[i]
                                                                        : 0) *
                                        io->out_floats[k];
        run_write_item(r->w, &b->span[i], r->n_items++, b->one);
        run_item_free(&b->span[i]);
    }
    fflush(stdout);
    if (r->w->jsonl) fflush(r->w->jsonl);
}

void run_all(run_state *r) {
    const run_io *io = r->io;
    batch_buffers b = {0};
    buffers_init(&b, io, r->batch);
    int64_t total = run_sources_count(r->src);
    sn_image_decode_options opt = SN_IMAGE_DECODE_OPTIONS_INIT;
    if (io->image_ok)
        sn_image_options_for_preprocess(&opt, &io->pre, r->o->max_pixels);
    else
        opt.max_pixels = r->o->max_pixels;
    /* About three batches decoded ahead of the one in the engine. */
    run_pool *pool = run_pool_start(r->src, &opt, r->decode_threads, 3 * (size_t)r->batch);
    run_item pending;
    int have_pending = 0, at_end = 0, dropped = 0;
    size_t cap_lat = 0;
    r->t_start = run_now();
    while (!run_interrupted()) {
        size_t n = 0;
        int filled = 0;
        feed_kind kind = FEED_PIXELS;
        while (filled < r->batch) {
            if (n == b.cap) {
                b.cap = b.cap ? b.cap * 2 : (size_t)r->batch + 8;
                b.span = run_xrealloc(b.span, b.cap, sizeof *b.span);
                b.slot = run_xrealloc(b.slot, b.cap, sizeof *b.slot);
            }
            run_item *it = &b.span[n];
            if (have_pending) {
                *it = pending;
                have_pending = 0;
            } else {
                int got = run_pool_next(pool, it, &r->idle_s);
                if (got <= 0) {
                    at_end = got == 0;
                    break;
                }
            }
            if (!it->error && filled > 0 && feed_of(it) != kind) {
                pending = *it; /* starts the next batch */
                have_pending = 1;
                break;
            }
            if (it->error) {
                b.slot[n] = -1;
            } else {
                kind = feed_of(it);
                b.slot[n] = filled++;
            }
            n++;
        }
        if (n == 0 || run_interrupted()) {
            for (size_t i = 0; i < n; i++) run_item_free(&b.span[i]);
            dropped = n > 0;
            break;
        }
        for (size_t i = 0; i < n; i++)
            if (b.slot[i] < 0) run_say("error: %s: %s", b.span[i].name, b.span[i].error);
        if (filled > 0) {
            sn_error err = {0};
            double t0 = run_now();
            sn_status st = run_engine(r, &b, n, filled, kind, &err);
            double ms = (run_now() - t0) * 1e3;
            if (st != SN_OK) {
                for (size_t i = 0; i < n; i++) {
                    if (b.slot[i] < 0) continue;
                    b.span[i].error = run_xasprintf("inference failed: %s", err.message);
                    run_say("error: %s: %s", b.span[i].name, b.span[i].error);
                    b.slot[i] = -1;
                }
            } else {
                if (r->n_batches == cap_lat) {
                    cap_lat = cap_lat ? cap_lat * 2 : 256;
                    r->latency_ms = run_xrealloc(r->latency_ms, cap_lat, sizeof *r->latency_ms);
                }
                r->latency_ms[r->n_batches++] = ms;
            }
        }
        write_batch(r, &b, n);
        if (r->progress) {
            double el = run_now() - r->t_start;
            run_progress_show(r->n_items, total > 0 ? (size_t)total : 0,
                              el > 0 ? (double)r->w->ok / el : 0, el);
        }
    }
    /* A signal after the last input was run stopped nothing. */
    r->interrupted = run_interrupted() && !(at_end && !have_pending && !dropped);
    run_progress_clear();
    if (have_pending) run_item_free(&pending);
    r->pool_abandoned = run_pool_stop(pool, &r->pool);
    buffers_free(&b, io);
}

void run_state_free(run_state *r) {
    free(r->latency_ms);
    r->latency_ms = NULL;
}
