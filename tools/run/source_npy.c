/*
 * source_npy.c - .npy tensors (run.h's source interface): a float32 file holding one sample
 * of the model input ([C,H,W] for an image model) or a batch of them ([N,C,H,W]), checked
 * against the model's sample shape when opened. Items borrow their sample from the loaded
 * array, which lives as long as the source.
 */
#include <stdlib.h>
#include <string.h>

#include "npy.h"
#include "run.h"

typedef struct npy_state {
    char *path;
    char *error;   /* the file cannot be used: one item with this error */
    sn_npy a;
    int loaded;
    int batch;     /* the array is a batch (names get [i]) */
    int64_t count; /* samples */
    int64_t next;
    size_t sample_floats;
} npy_state;

static int npy_claims(const char *arg) { return run_has_ext(arg, ".npy"); }

static int npy_open(const char *arg, const run_context *ctx, void **state) {
    const run_io *io = ctx->io;
    npy_state *s = run_xcalloc(1, sizeof *s);
    *state = s;
    s->path = run_xstrdup(arg);
    s->sample_floats = io->sample_floats;
    sn_error err = {0};
    if (sn_npy_read_file(arg, &s->a, &err) != SN_OK) {
        s->error = run_xstrdup(err.message);
        s->count = 1;
        return 0;
    }
    s->loaded = 1;
    int batch;
    if (s->a.rank == io->sample_rank)
        batch = 0;
    else if (s->a.rank == io->sample_rank + 1)
        batch = 1;
    else
        batch = -1;
    for (int i = 0; batch >= 0 && i < io->sample_rank; i++)
        if (s->a.dims[i + batch] != io->sample_dims[i]) batch = -1;
    if (batch < 0 || (batch == 1 && s->a.dims[0] == 0)) {
        char *got = run_format_dims(s->a.dims, s->a.rank, 0);
        char *want = run_format_dims(io->in.dims, io->in.rank, 1);
        s->error = s->a.rank > 0 && batch == 1
                       ? run_xasprintf("the array %s holds no samples", got)
                       : run_xasprintf("the array is %s; the model input is %s (give one "
                                       "sample or a batch)", got, want);
        free(got);
        free(want);
        s->count = 1;
        return 0;
    }
    s->batch = batch;
    s->count = batch ? s->a.dims[0] : 1;
    return 0;
}

static int npy_next(void *state, run_item *it) {
    npy_state *s = state;
    if (s->next == s->count) return 0;
    int64_t i = s->next++;
    it->kind = RUN_ITEM_NPY;
    it->path = run_xstrdup(s->path);
    if (s->error) {
        it->name = run_xstrdup(s->path);
        it->error = run_xstrdup(s->error);
        return 1;
    }
    it->name = s->batch ? run_xasprintf("%s[%lld]", s->path, (long long)i) : run_xstrdup(s->path);
    it->sub = i;
    it->batch_file = s->batch;
    it->sample = s->a.data + (size_t)i * s->sample_floats;
    return 1;
}

static int64_t npy_count(void *state) { return ((npy_state *)state)->count; }

static void npy_close(void *state) {
    npy_state *s = state;
    if (!s) return;
    if (s->loaded) sn_npy_free(&s->a);
    free(s->path);
    free(s->error);
    free(s);
}

const run_source_ops run_source_npy = {
    .name = "npy",
    .usage_inputs =
        "  FILE.npy          float32 '<f4' tensor: one sample [C,H,W] or a batch [N,C,H,W]\n",
    .claims = npy_claims,
    .open = npy_open,
    .next = npy_next,
    .count = npy_count,
    .close = npy_close,
};
