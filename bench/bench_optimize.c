/*
 * bench_optimize.c - sentinel-bench-optimize: how long sn_graph_optimize takes.
 *
 * For each model (a zoo name, built in memory with fixed seeded weights, or a .sgraph file) it
 * times the whole pipeline on fresh clones of the graph (the clone is not timed), reporting the
 * minimum and median of --repeats runs, and then times each pass alone in pipeline order on one
 * more clone (the first round, where all the work is), with the pass's own report. The passes
 * are single-threaded; constant folding runs kernels on one thread.
 *
 *   sentinel-bench-optimize [--models a,b] [--repeats N]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "model.h"
#include "passes/pass.h"
#include "zoo.h"

#define SN__MAX_REPEATS 10000

/* Milliseconds on the benchmarks' monotonic clock. */
static double sn__now_ms(void) { return sn_bench_now() * 1e3; }

static void usage(FILE *f) {
    fprintf(f,
            "usage: sentinel-bench-optimize [--models LIST] [--repeats N]\n"
            "  --models LIST  comma-separated zoo names or .sgraph paths (default: resnet50)\n"
            "  --repeats N    timed sn_graph_optimize runs per model, 1..%d (default: 20)\n",
            SN__MAX_REPEATS);
}

/* The model's graph: from the zoo, or loaded (*m keeps the file's bytes alive). */
static sn_status sn__load(const char *name, sn_graph **zoo_g, sn_model **m, const sn_graph **g,
                          sn_error *err) {
    *zoo_g = NULL;
    *m = NULL;
    sn_status st;
    if (sn_zoo_find(name) >= 0) {
        st = sn_zoo_build(name, 0, zoo_g, err);
        *g = *zoo_g;
    } else {
        st = sn_model_load_file(name, m, err);
        *g = st == SN_OK ? sn_model_graph(*m) : NULL;
    }
    return st;
}

static int sn__bench_model(const char *name, int repeats) {
    sn_error err = {SN_OK, ""};
    sn_graph *zoo_g = NULL, *c = NULL;
    sn_model *m = NULL;
    const sn_graph *g = NULL;
    double *ms = malloc(sizeof(double) * (size_t)repeats);
    int rc = 1;
    if (!ms) {
        fprintf(stderr, "sentinel-bench-optimize: out of memory\n");
        return 1;
    }
    if (sn__load(name, &zoo_g, &m, &g, &err) != SN_OK) {
        fprintf(stderr, "sentinel-bench-optimize: %s: %s\n", name, err.message);
        goto done;
    }
    double clone_ms = 0.0;
    int nodes_after = 0;
    for (int i = 0; i < repeats; i++) {
        double t0 = sn__now_ms();
        if (sn_graph_clone(g, &c) != SN_OK) {
            fprintf(stderr, "sentinel-bench-optimize: %s: cloning failed\n", name);
            goto done;
        }
        double t1 = sn__now_ms();
        sn_status st = sn_graph_optimize(c, NULL, NULL, NULL, &err);
        ms[i] = sn__now_ms() - t1;
        clone_ms += t1 - t0;
        nodes_after = c->n_nodes;
        sn_graph_destroy(c);
        c = NULL;
        if (st != SN_OK) {
            fprintf(stderr, "sentinel-bench-optimize: %s: %s\n", name, err.message);
            goto done;
        }
    }
    sn_bench_sort(ms, (size_t)repeats);
    printf("%-20s %5d -> %4d nodes   optimize: min %8.2f ms  median %8.2f ms  (%d runs; clone %.2f "
           "ms, not timed)\n",
           name, g->n_nodes, nodes_after, ms[0], ms[repeats / 2], repeats, clone_ms / repeats);
    /* Each pass alone, first round, on one more clone. */
    if (sn_graph_clone(g, &c) != SN_OK || sn_graph_infer_shapes(c, &err) != SN_OK) {
        fprintf(stderr, "sentinel-bench-optimize: %s: preparing a clone failed\n", name);
        goto done;
    }
    for (int i = 0; i < sn_pass_count(); i++) {
        sn_pass_report r;
        double t0 = sn__now_ms();
        sn_status st = sn_pass_get(i)(c, &r, &err);
        double t = sn__now_ms() - t0;
        if (st != SN_OK) {
            fprintf(stderr, "sentinel-bench-optimize: %s: pass %s: %s\n", name, sn_pass_name(i),
                    err.message);
            goto done;
        }
        printf("    %-15s %8.2f ms  %4d -> %4d nodes  %s\n", r.pass, t, r.nodes_before,
               r.nodes_after, r.detail);
    }
    rc = 0;
done:
    sn_graph_destroy(c);
    sn_graph_destroy(zoo_g);
    sn_model_destroy(m);
    free(ms);
    return rc;
}

int main(int argc, char **argv) {
    const char *models = "resnet50";
    int repeats = 20;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--models") && i + 1 < argc && argv[i + 1][0]) {
            models = argv[++i];
        } else if (!strcmp(argv[i], "--repeats") && i + 1 < argc) {
            char *end;
            errno = 0;
            long v = strtol(argv[++i], &end, 10);
            if (errno || end == argv[i] || *end || v < 1 || v > SN__MAX_REPEATS) {
                fprintf(stderr,
                        "sentinel-bench-optimize: --repeats '%s' is not an integer in 1..%d\n",
                        argv[i], SN__MAX_REPEATS);
                return 2;
            }
            repeats = (int)v;
        } else {
            fprintf(stderr, "sentinel-bench-optimize: unknown or incomplete option '%s'\n",
                    argv[i]);
            usage(stderr);
            return 2;
        }
    }
    char *list = strdup(models);
    if (!list) return 1;
    int rc = 0;
    char *save = NULL;
    for (char *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save))
        rc |= sn__bench_model(name, repeats);
    free(list);
    return rc;
}
