/*
 * output.c - one finished item, in input order, to every writer: its name and results on
 * stdout (unless --quiet), its JSON record (--output), its .npy files (--save-npy), and the
 * ok/failed counts. A failed item gets a record with its error; the message on stderr is the
 * batch loop's. The .npy files are written first: an item whose files cannot all be written
 * is a failed item everywhere (its record, the counts, the exit status), with none of its files
 * left behind.
 *
 * A record: {"input": name, "index": i, ["frame": n, "time": t,] then "top"/"scores" or
 * "shape"/"min"/"max"/"mean" for one output, or "outputs": [{"name": ..., ...}] for several;
 * or "error": reason}.
 */
#include <stdio.h>
#include <stdlib.h>

#include "run.h"

static void record_start(run_writers *w, const run_item *it, size_t index) {
    fputs("{\"input\":", w->jsonl);
    run_json_str(w->jsonl, it->name);
    fprintf(w->jsonl, ",\"index\":%zu", index);
    if (it->kind == RUN_ITEM_FRAME)
        fprintf(w->jsonl, ",\"frame\":%lld,\"time\":%.6f", (long long)it->frame, it->time);
}

/* Every output of the item to --save-npy, or none: sets it->error on failure. */
static void save_outputs(run_writers *w, run_item *it, size_t index, const float *const *outputs) {
    const run_io *io = w->io;
    char **paths = run_xcalloc((size_t)io->n_out, sizeof *paths);
    for (int k = 0; k < io->n_out; k++) {
        char *why = NULL;
        if ((paths[k] = run_save_npy(w->o->save_dir, &w->saved, it, index, io, k, outputs[k],
                                     &why)))
            continue;
        run_say("error: %s: %s", it->name, why);
        it->error = why;
        for (int j = 0; j < k; j++) remove(paths[j]);
        break;
    }
    for (int k = 0; k < io->n_out; k++) free(paths[k]);
    free(paths);
}

void run_write_item(run_writers *w, run_item *it, size_t index, const float *const *outputs) {
    const run_io *io = w->io;
    if (it->kind == RUN_ITEM_FRAME) w->frames++;
    if (!it->error && w->o->save_dir) save_outputs(w, it, index, outputs);
    if (it->error) {
        w->failed++;
        if (w->jsonl) {
            record_start(w, it, index);
            fputs(",\"error\":", w->jsonl);
            run_json_str(w->jsonl, it->error);
            fputs("}\n", w->jsonl);
        }
        return;
    }
    w->ok++;
    if (!w->o->quiet) {
        if (it->kind == RUN_ITEM_FRAME)
            printf("%s frame %lld at %.3f s\n", it->name, (long long)it->frame, it->time);
        else
            printf("%s\n", it->name);
    }
    if (w->jsonl) {
        record_start(w, it, index);
        fputc(',', w->jsonl);
        if (io->n_out > 1) fputs("\"outputs\":[", w->jsonl);
    }
    for (int k = 0; k < io->n_out; k++) {
        const sn_tensor_info *t = &io->out[k];
        const float *x = outputs[k];
        run_verdict v;
        run_analyse(t, x, io->out_floats[k], (int)w->o->top, &v);
        if (!w->o->quiet) run_print_output(w->model, t, &v, io->n_out > 1);
        if (w->jsonl) {
            if (io->n_out > 1) {
                fprintf(w->jsonl, "%s{\"name\":", k ? "," : "");
                run_json_str(w->jsonl, t->name);
                fputc(',', w->jsonl);
            }
            run_json_output(w->jsonl, w->model, t, &v);
            if (io->n_out > 1) fputc('}', w->jsonl);
        }
        free(v.top);
    }
    if (w->jsonl) fputs(io->n_out > 1 ? "]}\n" : "}\n", w->jsonl);
}
