/*
 * source.c - the inputs of the command line as one ordered stream of items (run.h): each
 * positional input is opened by the first source in RUN_SOURCE_LIST that claims it, then the
 * sources whose options name an input (--random N) are opened, and next() drains them in that
 * order.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "run.h"

#define RUN_SOURCE_ENTRY(name) &run_source_##name,
static const run_source_ops *const g_table[] = {RUN_SOURCE_LIST(RUN_SOURCE_ENTRY) NULL};
#undef RUN_SOURCE_ENTRY

typedef struct run_open_source {
    const run_source_ops *ops;
    void *state;
} run_open_source;

struct run_sources {
    run_open_source *list;
    int n, cap;
    int cur; /* the source next() reads from */
};

void run_item_free(run_item *it) {
    free(it->name);
    free(it->path);
    free(it->owned);
    free(it->error);
    sn_image_free(&it->pixels);
    memset(it, 0, sizeof *it);
}

int run_has_ext(const char *name, const char *ext) {
    size_t a = strlen(name), b = strlen(ext);
    return a > b && !strcasecmp(name + a - b, ext);
}

void run_sources_usage(FILE *f, int inputs) {
    for (int i = 0; g_table[i]; i++) {
        const char *u = inputs ? g_table[i]->usage_inputs : g_table[i]->usage_options;
        if (u) fputs(u, f);
    }
}

const char *run_sources_find_option(const char *name, size_t len) {
    for (int i = 0; g_table[i]; i++)
        for (const char *const *o = g_table[i]->options; o && *o; o++)
            if (strlen(*o) == len && !strncmp(name, *o, len)) return *o;
    return NULL;
}

int run_sources_set_option(const char *name, const char *value, char *why, size_t size) {
    for (int i = 0; g_table[i]; i++)
        for (const char *const *o = g_table[i]->options; o && *o; o++)
            if (!strcmp(name, *o)) return g_table[i]->set_option(name, value, why, size);
    snprintf(why, size, "unknown option '%s'", name);
    return -1;
}

int run_sources_have_option_input(void) {
    for (int i = 0; g_table[i]; i++)
        if (g_table[i]->option_input && g_table[i]->option_input()) return 1;
    return 0;
}

static int open_one(run_sources *s, const run_source_ops *ops, const char *arg,
                    const run_context *ctx) {
    void *state = NULL;
    if (ops->open(arg, ctx, &state) != 0) {
        if (state && ops->close) ops->close(state); /* what it set up before refusing */
        return -1;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->list = run_xrealloc(s->list, (size_t)s->cap, sizeof *s->list);
    }
    s->list[s->n].ops = ops;
    s->list[s->n].state = state;
    s->n++;
    return 0;
}

int run_sources_open(const run_context *ctx, run_sources **out) {
    run_sources *s = run_xcalloc(1, sizeof *s);
    *out = s;
    for (int i = 0; i < ctx->o->n_inputs; i++) {
        const char *arg = ctx->o->inputs[i];
        const run_source_ops *ops = NULL;
        for (int k = 0; g_table[k] && !ops; k++)
            if (g_table[k]->claims && g_table[k]->claims(arg)) ops = g_table[k];
        if (!ops) {
            run_say("error: %s: no input source takes it", arg);
            return -1;
        }
        if (open_one(s, ops, arg, ctx) != 0) return -1;
    }
    for (int k = 0; g_table[k]; k++)
        if (g_table[k]->option_input && g_table[k]->option_input() &&
            open_one(s, g_table[k], NULL, ctx) != 0)
            return -1;
    return 0;
}

int run_sources_next(run_sources *s, run_item *item) {
    while (s->cur < s->n) {
        memset(item, 0, sizeof *item);
        run_open_source *src = &s->list[s->cur];
        if (src->ops->next(src->state, item)) return 1;
        run_item_free(item);
        s->cur++;
    }
    return 0;
}

int64_t run_sources_count(const run_sources *s) {
    int64_t total = 0;
    for (int i = 0; i < s->n; i++) {
        int64_t c = s->list[i].ops->count ? s->list[i].ops->count(s->list[i].state) : -1;
        if (c < 0) return -1;
        total += c;
    }
    return total;
}

void run_sources_close(run_sources *s) {
    if (!s) return;
    for (int i = 0; i < s->n; i++)
        if (s->list[i].ops->close) s->list[i].ops->close(s->list[i].state);
    free(s->list);
    free(s);
}
