/*
 * source_files.c - image files and folders of them (run.h's source interface). A folder gives
 * its *.jpg, *.jpeg and *.png files (any case), sorted by name, not recursively; hidden files
 * and subfolders are left out. The files are only listed here; they are read and decoded later,
 * off the source, by the batch loop.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "run.h"

typedef struct files_entry {
    char *path;
    char *error; /* the folder could not be listed, or held no images */
} files_entry;

typedef struct files_state {
    files_entry *e;
    size_t n, cap, next;
} files_state;

static int is_image_name(const char *name) {
    return run_has_ext(name, ".jpg") || run_has_ext(name, ".jpeg") || run_has_ext(name, ".png");
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add(files_state *s, char *path, char *error) {
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->e = run_xrealloc(s->e, s->cap, sizeof *s->e);
    }
    s->e[s->n].path = path;
    s->e[s->n].error = error;
    s->n++;
}

static void add_folder(files_state *s, const char *dir) {
    DIR *d = opendir(dir);
    if (!d) {
        add(s, run_xstrdup(dir), run_xasprintf("cannot read the folder: %s", strerror(errno)));
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !is_image_name(e->d_name)) continue;
        char *path = run_xasprintf("%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
                                   e->d_name);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            free(path);
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            names = run_xrealloc(names, cap, sizeof *names);
        }
        names[n++] = path;
    }
    closedir(d);
    if (n == 0)
        add(s, run_xstrdup(dir), run_xstrdup("the folder has no .jpg, .jpeg or .png files"));
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) add(s, names[i], NULL);
    free(names);
}

static int files_claims(const char *arg) { return !run_has_ext(arg, ".npy"); }

static int files_open(const char *arg, const run_context *ctx, void **state) {
    files_state *s = run_xcalloc(1, sizeof *s);
    *state = s;
    struct stat st;
    if (stat(arg, &st) != 0)
        add(s, run_xstrdup(arg), run_xasprintf("cannot open: %s", strerror(errno)));
    else if (S_ISDIR(st.st_mode))
        add_folder(s, arg);
    else
        add(s, run_xstrdup(arg), NULL);
    if (!ctx->io->image_ok)
        for (size_t i = 0; i < s->n; i++)
            if (!s->e[i].error) {
                run_say("error: %s: %s", s->e[i].path, ctx->io->no_images);
                return -1;
            }
    return 0;
}

static int files_next(void *state, run_item *it) {
    files_state *s = state;
    if (s->next == s->n) return 0;
    files_entry *e = &s->e[s->next++];
    it->kind = RUN_ITEM_IMAGE;
    it->name = run_xstrdup(e->path);
    it->path = e->path;
    it->error = e->error;
    e->path = e->error = NULL; /* handed over */
    return 1;
}

static int64_t files_count(void *state) { return (int64_t)((files_state *)state)->n; }

static void files_close(void *state) {
    files_state *s = state;
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->e[i].path);
        free(s->e[i].error);
    }
    free(s->e);
    free(s);
}

const run_source_ops run_source_files = {
    .name = "files",
    .usage_inputs =
        "  FILE.jpg/.png     an image (JPEG or PNG, found from its bytes)\n"
        "  DIR               every *.jpg, *.jpeg, *.png in DIR, sorted (not recursive)\n",
    .claims = files_claims,
    .open = files_open,
    .next = files_next,
    .count = files_count,
    .close = files_close,
};
