/*
 * batch.c - the batch loop: items from the sources, in order, fill batches of up to --batch
 * good samples; each batch runs through the engine and every item of it (failed ones in their
 * place) goes to the writers in input order.
 */
#include <stdlib.h>
#include <string.h>

#include "preprocess.h"
#include "run.h"

/* Fills one batch slot from an item; on failure sets it->error. */
static void load_item(run_state *r, run_item *it, float *dst) {
    const run_io *io = r->io;
    sn_error err = {0};
    if (it->kind == RUN_ITEM_NPY || it->kind == RUN_ITEM_RANDOM) {
        memcpy(dst, it->sample, io->sample_floats * sizeof(float));
        return;
    }
    if (it->kind == RUN_ITEM_IMAGE &&
        sn_image_load_file(it->path, r->o->max_pixels, &it->pixels, &err) != SN_OK) {
        it->error = run_xstrdup(err.message);
        return;
    }
    if (sn_preprocess_image(&io->pre, io->layout, it->pixels.pixels, it->pixels.width,
                            it->pixels.height, dst, &err) != SN_OK)
        it->error = run_xstrdup(err.message);
    sn_image_free(&it->pixels);
}

void run_all(run_state *r) {
    const run_io *io = r->io;
    float *inbuf = run_xcalloc((size_t)r->batch * io->sample_floats, sizeof(float));
    float **outbuf = run_xcalloc((size_t)(io->n_out > 0 ? io->n_out : 1), sizeof *outbuf);
    for (int k = 0; k < io->n_out; k++)
        outbuf[k] = run_xcalloc((size_t)r->batch * io->out_floats[k], sizeof(float));
    const float **outs = run_xcalloc((size_t)(io->n_out > 0 ? io->n_out : 1), sizeof *outs);
    int64_t total = run_sources_count(r->src);
    run_item *span = NULL; /* the items of one batch, failed ones included */
    int *slot = NULL;      /* each one's slot in the batch, -1 when it failed */
    size_t cap = 0, cap_lat = 0;
    const void *ins[1] = {inbuf};
    r->t_start = run_now();
    for (;;) {
        size_t n = 0, first = r->n_items;
        int filled = 0;
        while (filled < r->batch) {
            if (n == cap) {
                cap = cap ? cap * 2 : (size_t)r->batch + 8;
                span = run_xrealloc(span, cap, sizeof *span);
                slot = run_xrealloc(slot, cap, sizeof *slot);
            }
            run_item *it = &span[n];
            if (!run_sources_next(r->src, it)) break;
            if (!it->error) load_item(r, it, inbuf + (size_t)filled * io->sample_floats);
            if (it->error) {
                run_say("error: %s: %s", it->name, it->error);
                slot[n] = -1;
            } else {
                slot[n] = filled++;
            }
            n++;
            r->n_items++;
        }
        if (n == 0) break;
        if (filled > 0) {
            sn_error err = {0};
            double t0 = run_now();
            sn_status st = sn_engine_run(r->engine, filled, ins, (void *const *)outbuf, &err);
            double ms = (run_now() - t0) * 1e3;
            if (st != SN_OK) {
                for (size_t i = 0; i < n; i++) {
                    if (slot[i] < 0) continue;
                    span[i].error = run_xasprintf("inference failed: %s", err.message);
                    run_say("error: %s: %s", span[i].name, span[i].error);
                    slot[i] = -1;
                }
            } else {
                if (r->n_batches == cap_lat) {
                    cap_lat = cap_lat ? cap_lat * 2 : 256;
                    r->latency_ms = run_xrealloc(r->latency_ms, cap_lat, sizeof *r->latency_ms);
                }
                r->latency_ms[r->n_batches++] = ms;
            }
        }
        run_progress_clear();
        for (size_t i = 0; i < n; i++) {
            for (int k = 0; k < io->n_out && slot[i] >= 0; k++)
                outs[k] = outbuf[k] + (io->out[k].dims[0] == SN_DIM_BATCH ? (size_t)slot[i] : 0) *
                                          io->out_floats[k];
            run_write_item(r->w, &span[i], first + i, outs);
            run_item_free(&span[i]);
        }
        fflush(stdout);
        if (r->progress) {
            double el = run_now() - r->t_start;
            run_progress_show(r->n_items, total > 0 ? (size_t)total : 0,
                              el > 0 ? (double)r->w->ok / el : 0, el);
        }
    }
    run_progress_clear();
    free(span);
    free(slot);
    free(outs);
    for (int k = 0; k < io->n_out; k++) free(outbuf[k]);
    free(outbuf);
    free(inbuf);
}

void run_state_free(run_state *r) {
    free(r->latency_ms);
    r->latency_ms = NULL;
}
