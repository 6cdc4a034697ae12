/*
 * source_random.c - --random N: N samples of the model input, uniform in [-1, 1), seeded by
 * --seed S (run.h's source interface). Each sample is seeded by its own number, so its values
 * do not depend on --batch or on which thread asks for it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

/* The source's settings, from its options. */
static long g_count;
static uint64_t g_seed;

typedef struct random_state {
    long next;
    size_t sample_floats;
} random_state;

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int random_set_option(const char *name, const char *value, char *why, size_t size) {
    if (!strcmp(name, "--random")) {
        if (run_parse_long(value, 1, 1000000, &g_count) == 0) return 0;
        snprintf(why, size, "--random must be an integer in 1..1000000, not '%s'", value);
    } else {
        if (run_parse_u64(value, 0, UINT64_MAX, &g_seed) == 0) return 0;
        snprintf(why, size, "--seed must be an unsigned integer, not '%s'", value);
    }
    return -1;
}

static int random_option_input(void) { return g_count > 0; }

static int random_open(const char *arg, const run_context *ctx, void **state) {
    (void)arg;
    random_state *s = run_xcalloc(1, sizeof *s);
    s->sample_floats = ctx->io->sample_floats;
    *state = s;
    return 0;
}

static int random_next(void *state, run_item *it) {
    random_state *s = state;
    if (s->next == g_count) return 0;
    long r = s->next++;
    it->kind = RUN_ITEM_RANDOM;
    it->name = run_xasprintf("random:%ld", r);
    it->sub = r;
    float *x = run_xcalloc(s->sample_floats, sizeof *x);
    uint64_t seed = g_seed ^ (0xA0761D6478BD642Full * (uint64_t)(r + 1));
    for (size_t i = 0; i < s->sample_floats; i++)
        x[i] = (float)((double)(splitmix(&seed) >> 11) * (2.0 / 9007199254740992.0) - 1.0);
    it->owned = x;
    it->sample = x;
    return 1;
}

static int64_t random_count(void *state) {
    (void)state;
    return g_count;
}

static void random_close(void *state) { free(state); }

static const char *const random_options[] = {"--random", "--seed", NULL};

const run_source_ops run_source_random = {
    .name = "random",
    .usage_inputs = "  --random N        N random samples (uniform in [-1,1)), seeded by --seed\n",
    .usage_options = "  --seed S          seed for --random (default 0)\n",
    .options = random_options,
    .set_option = random_set_option,
    .option_input = random_option_input,
    .open = random_open,
    .next = random_next,
    .count = random_count,
    .close = random_close,
};
