/*
 * sentinel-optimize - optimise a .sgraph model ahead of time and write the result.
 *
 *   sentinel-optimize IN.sgraph -o OUT.sgraph [--layout nchw|nhwc] [--passes LIST]
 *                     [--max-iterations N] [--quiet]
 *
 * Runs sn_graph_optimize - the pipeline the engine runs when it is created (simplification,
 * constant folding, CSE, BatchNorm folding, conv/dense fusion, dead-code elimination), and with
 * --layout nhwc the conversion to channels-last - and writes the optimised graph. Engines
 * created from the output have nothing left to do, so they start faster. A per-pass summary
 * (nodes before and after, rewrites, weight bytes removed, what was fused) goes to stdout.
 *
 * The output is written atomically (a temporary file renamed into place), so a failure never
 * leaves a partial file, and OUT may be IN itself. Exit status: 0 on success, 1 when the input
 * cannot be read or the result cannot be optimised or written, 2 for a usage error.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "graph_report.h"
#include "pass_summary.h"
#include "sgraph.h"

#define PROG "sentinel-optimize"

static void sn__usage(FILE *f) {
    fprintf(f,
            "usage: " PROG " IN.sgraph -o OUT.sgraph [--layout nchw|nhwc] [--passes LIST]\n"
            "                         [--max-iterations N] [--quiet]\n"
            "Optimises a model as the engine would (fusing convs with their BatchNorm, bias,\n"
            "activation and residual add, folding constants, removing dead nodes) and writes\n"
            "the result, printing what each pass did.\n"
            "  -o, --output FILE     where to write (atomically; may be IN itself)\n"
            "  --layout L            nchw (default) or nhwc: convert the graph to channels-last\n"
            "  --passes LIST         all (default), none, or names joined by commas:\n"
            "                        simplify,fold_constants,cse,fold_batchnorm,fuse_conv,dce\n"
            "  --max-iterations N    rounds of the pipeline before giving up on a fixed point,\n"
            "                        1..1000 (default 8)\n"
            "  --quiet               print only errors\n"
            "Exit status: 0 success, 1 the model cannot be read, optimised or written, 2 usage\n"
            "error.\n");
}

static int sn__usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, PROG ": ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry '" PROG " --help'.\n");
    return 2;
}

typedef struct sn__args {
    const char *in, *out;
    sn_optimize_options opt;
    bool quiet;
} sn__args;

/* Returns -1 to go on, else an exit status. */
static int sn__parse(int argc, char **argv, sn__args *a) {
    static const char *const valued[] = {"-o", "--output", "--layout", "--passes",
                                         "--max-iterations"};
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
            sn__usage(stdout);
            return 0;
        }
        if (!strcmp(s, "--quiet") || !strcmp(s, "-q")) {
            a->quiet = true;
            continue;
        }
        if (s[0] != '-' || !s[1]) {
            if (a->in) return sn__usage_error("more than one input file (second: '%s')", s);
            a->in = s;
            continue;
        }
        const char *eq = strchr(s, '='), *name = NULL, *val;
        size_t len = eq ? (size_t)(eq - s) : strlen(s);
        for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++)
            if (strlen(valued[k]) == len && !strncmp(s, valued[k], len)) name = valued[k];
        if (!name) return sn__usage_error("unknown option '%s'", s);
        if (eq)
            val = eq + 1;
        else if (i + 1 < argc)
            val = argv[++i];
        else
            return sn__usage_error("%s needs a value", name);
        if (!*val) return sn__usage_error("%s needs a value", name);
        if (!strcmp(name, "-o") || !strcmp(name, "--output")) {
            a->out = val;
        } else if (!strcmp(name, "--layout")) {
            if (sn_layout_parse(val, &a->opt.layout) != 0)
                return sn__usage_error("--layout must be nchw or nhwc, not '%s'", val);
        } else if (!strcmp(name, "--passes")) {
            char bad[64];
            if (sn_pass_list_parse(val, &a->opt.passes, bad, sizeof bad) != 0)
                return sn__usage_error("--passes: unknown pass '%s' (see --help)", bad);
        } else {
            char *end;
            errno = 0;
            long v = strtol(val, &end, 10);
            if (errno || *end || v < 1 || v > 1000)
                return sn__usage_error("--max-iterations must be an integer in 1..1000, not '%s'",
                                       val);
            a->opt.max_iterations = (int)v;
        }
    }
    if (!a->in) return sn__usage_error("%s", "no input file given");
    if (!a->out) return sn__usage_error("%s", "no output file given (-o OUT.sgraph)");
    return -1;
}

static int sn__live(const sn_graph *g) {
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) n += !g->nodes[i].dead;
    return n;
}

static uint64_t sn__weights(const sn_graph *g) {
    uint64_t b = 0;
    for (int t = 0; t < g->n_tensors; t++)
        if (g->tensors[t].flags & SN_TENSOR_CONST) b += g->tensors[t].nbytes;
    return b;
}

int main(int argc, char **argv) {
    sn__args a = {NULL, NULL, SN_OPTIMIZE_OPTIONS_INIT, false};
    int rc = sn__parse(argc, argv, &a);
    if (rc >= 0) return rc;

    sn_error err = {SN_OK, ""};
    sn_file_map map = {NULL, 0};
    sn_graph *g = NULL;
    sn_pass_report *reps = NULL;
    int n_reps = 0;
    rc = 1;
    if (sn_file_map_open(a.in, &map, &err) != SN_OK ||
        sn_sgraph_read(map.data, map.size, &g, &err) != SN_OK) {
        fprintf(stderr, PROG ": %s: %s\n", a.in, err.message);
        goto done;
    }
    int nodes0 = sn__live(g);
    uint64_t bytes0 = sn__weights(g);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (sn_graph_optimize(g, &a.opt, &reps, &n_reps, &err) != SN_OK) {
        fprintf(stderr, PROG ": %s: optimising: %s\n", a.in, err.message);
        goto done;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    /* The graph still borrows weights from the input's mapping, kept open until written. */
    if (sn_sgraph_write_file(g, a.out, &err) != SN_OK) {
        fprintf(stderr, PROG ": writing %s: %s\n", a.out, err.message);
        goto done;
    }
    struct stat sb;
    if (stat(a.out, &sb) != 0) {
        fprintf(stderr, PROG ": %s: %s\n", a.out, strerror(errno));
        goto done;
    }
    rc = 0;
    if (a.quiet) goto done;
    sn_pass_summary_print(stdout, reps, n_reps, ms);
    char b0[32], b1[32], fb[32];
    printf("%s: %d -> %d nodes, weights %s -> %s bytes%s -> %s (%s bytes)\n", a.in, nodes0,
           sn__live(g), sn_report_grouped(bytes0, b0, sizeof b0),
           sn_report_grouped(sn__weights(g), b1, sizeof b1),
           a.opt.layout == SN_LAYOUT_NHWC ? ", NHWC" : "", a.out,
           sn_report_grouped((uint64_t)sb.st_size, fb, sizeof fb));
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, PROG ": error writing the summary\n");
        rc = 1;
    }
done:
    free(reps);
    sn_graph_destroy(g);
    sn_file_map_close(&map);
    return rc;
}
