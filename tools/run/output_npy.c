/*
 * output_npy.c - --save-npy DIR: each output of each input as DIR/<stem>[.<output>].npy, the
 * stem taken from the input's file name (cat.jpg -> cat, b.npy[2] -> b_2, random:3 ->
 * random_3, frame 12 of clip.mp4 -> clip_f12). A name already written in this run gets the
 * input's index appended instead of overwriting it.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"
#include "run.h"

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    while (*s) h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

/* Adds s (taking it) unless present; returns 1 when added, 0 when it was there (s freed). */
static int name_set_add(run_name_set *set, char *s) {
    if (set->n * 2 >= set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 256;
        char **slots = run_xcalloc(cap, sizeof *slots);
        for (size_t i = 0; i < set->cap; i++) {
            if (!set->slots[i]) continue;
            size_t j = hash_str(set->slots[i]) & (cap - 1);
            while (slots[j]) j = (j + 1) & (cap - 1);
            slots[j] = set->slots[i];
        }
        free(set->slots);
        set->slots = slots;
        set->cap = cap;
    }
    size_t j = hash_str(s) & (set->cap - 1);
    for (; set->slots[j]; j = (j + 1) & (set->cap - 1))
        if (!strcmp(set->slots[j], s)) {
            free(s);
            return 0;
        }
    set->slots[j] = s;
    set->n++;
    return 1;
}

void run_name_set_free(run_name_set *set) {
    for (size_t i = 0; i < set->cap; i++) free(set->slots[i]);
    free(set->slots);
    set->slots = NULL;
    set->cap = set->n = 0;
}

/* Letters, digits, '.', '-' and '_' kept; anything else (spaces, '/', control bytes) is '_'. */
static void sanitize(char *s) {
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '.' && *s != '-' && *s != '_') *s = '_';
}

static char *npy_stem(const run_item *it) {
    if (it->kind == RUN_ITEM_RANDOM) return run_xasprintf("random_%lld", (long long)it->sub);
    const char *file = it->path ? it->path : it->name;
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    char *stem = run_xstrdup(base);
    char *dot = strrchr(stem, '.');
    if (dot && dot != stem) *dot = '\0';
    char *s = NULL;
    if (it->kind == RUN_ITEM_NPY && it->batch_file)
        s = run_xasprintf("%s_%lld", stem, (long long)it->sub);
    else if (it->kind == RUN_ITEM_FRAME)
        s = run_xasprintf("%s_f%lld", stem, (long long)it->frame);
    if (s) {
        free(stem);
        stem = s;
    }
    sanitize(stem);
    return stem;
}

char *run_save_npy(const char *dir, run_name_set *used, const run_item *it, size_t index,
                   const run_io *io, int k, const float *x, char **error) {
    *error = NULL;
    char *stem = npy_stem(it);
    char *base = io->n_out > 1 ? run_xasprintf("%s.%s", stem, io->out[k].name)
                               : run_xstrdup(stem);
    sanitize(base);
    char *name = run_xasprintf("%s.npy", base);
    if (!name_set_add(used, name)) {
        name = run_xasprintf("%s-%zu.npy", base, index);
        name_set_add(used, run_xstrdup(name));
    } else {
        name = run_xstrdup(name);
    }
    char *path = run_xasprintf("%s/%s", dir, name);
    const sn_tensor_info *t = &io->out[k];
    int64_t dims[SN_MAX_RANK];
    for (int i = 0; i < t->rank; i++) dims[i] = t->dims[i] == SN_DIM_BATCH ? 1 : t->dims[i];
    sn_error err = {0};
    if (sn_npy_write_file(path, x, t->rank, dims, &err) != SN_OK) {
        *error = run_xasprintf("could not save its output: %s", err.message);
        free(path);
        path = NULL;
    }
    free(name);
    free(base);
    free(stem);
    return path;
}
