/*
 * pass_manager.c - the pass table and sn_graph_optimize, which runs the pipeline to a fixed
 * point.
 *
 * Order within a round: simplify first (it exposes constants and adjacent patterns), then
 * constant folding and CSE (which can make two convs' inputs identical), BatchNorm folding
 * before conv fusion (a BN must meet a conv that has no activation yet), and dce last so the
 * next round sees a compact graph. A round that changes nothing ends the loop; max_iterations
 * bounds it for graphs where two rewrites could undo each other (none known today). A layout
 * conversion, when asked for, follows the fixed point, and more rounds follow it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pass_util.h"

typedef struct sn__pass_entry {
    const char *name;
    sn_pass_fn fn;
} sn__pass_entry;

static const sn__pass_entry sn__passes[] = {
    {"simplify", sn_pass_simplify},
    {"fold_constants", sn_pass_fold_constants},
    {"cse", sn_pass_cse},
    {"fold_batchnorm", sn_pass_fold_batchnorm},
    {"fuse_conv", sn_pass_fuse_conv},
    {"dce", sn_pass_dce},
};
#define SN__N_PASSES ((int)(sizeof sn__passes / sizeof sn__passes[0]))

int sn_pass_count(void) { return SN__N_PASSES; }

const char *sn_pass_name(int i) { return i >= 0 && i < SN__N_PASSES ? sn__passes[i].name : NULL; }

sn_pass_fn sn_pass_get(int i) { return i >= 0 && i < SN__N_PASSES ? sn__passes[i].fn : NULL; }

int sn_pass_find(const char *name) {
    for (int i = 0; name && i < SN__N_PASSES; i++)
        if (!strcmp(sn__passes[i].name, name)) return i;
    return -1;
}

/* Copy the fields a caller's (possibly older, smaller) options struct has. */
static sn_status sn__opt_read(const sn_optimize_options *in, sn_optimize_options *o,
                              sn_error *err) {
    const sn_optimize_options defaults = SN_OPTIMIZE_OPTIONS_INIT;
    *o = defaults;
    if (!in) return SN_OK;
    if (in->size < sizeof in->size)
        return sn_errorf(
            err, SN_ERR_INVALID_ARGUMENT,
            "optimize options: size is %zu; initialise them with SN_OPTIMIZE_OPTIONS_INIT",
            in->size);
    if (in->size >= offsetof(sn_optimize_options, passes) + sizeof in->passes)
        o->passes = in->passes;
    if (in->size >= offsetof(sn_optimize_options, max_iterations) + sizeof in->max_iterations)
        o->max_iterations = in->max_iterations;
    if (in->size >= offsetof(sn_optimize_options, layout) + sizeof in->layout)
        o->layout = in->layout;
    if (o->layout != SN_LAYOUT_ANY && o->layout != SN_LAYOUT_NCHW && o->layout != SN_LAYOUT_NHWC)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "optimize options: unknown layout %d",
                         (int)o->layout);
    if (o->passes & ~SN_PASS_ALL)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "optimize options: unknown pass bits 0x%x",
                         o->passes & ~SN_PASS_ALL);
    if (o->max_iterations < 1 || o->max_iterations > 1000)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         "optimize options: max_iterations %d is outside 1..1000",
                         o->max_iterations);
    return SN_OK;
}

static size_t sn__const_bytes(const sn_graph *g) {
    size_t b = 0;
    for (int t = 0; t < g->n_tensors; t++)
        if (g->tensors[t].flags & SN_TENSOR_CONST) b += g->tensors[t].nbytes;
    return b;
}

/* Adds one pass run's report r into the summary s; true when it changed something. */
static bool sn__sum_report(sn_pass_report *s, const sn_pass_report *r) {
    if (s->nodes_before < 0) s->nodes_before = r->nodes_before;
    s->nodes_after = r->nodes_after;
    s->weight_bytes_removed += r->weight_bytes_removed;
    if (r->changes > 0) {
        /* The first round's detail is the interesting one; later rounds just add. */
        if (s->changes == 0)
            memcpy(s->detail, r->detail, sizeof s->detail);
        else if (!strstr(s->detail, "later rounds"))
            strncat(s->detail, " (more in later rounds)", sizeof s->detail - strlen(s->detail) - 1);
        s->changes += r->changes;
        return true;
    }
    if (s->changes == 0) memcpy(s->detail, r->detail, sizeof s->detail);
    return false;
}

/* Rounds of the enabled passes until one changes nothing or max_iterations rounds ran;
 * *changed tells which. */
static sn_status sn__rounds(sn_graph *g, const sn_optimize_options *o, sn_pass_report *sum,
                            int *rounds, int *total, bool *changed, sn_error *err) {
    sn_status st = SN_OK;
    int done = 0;
    *changed = true;
    while (*changed && done < o->max_iterations && st == SN_OK) {
        *changed = false;
        done++;
        for (int i = 0; i < SN__N_PASSES && st == SN_OK; i++) {
            if (!(o->passes & (1u << i))) continue;
            sn_pass_report r;
            st = sn__passes[i].fn(g, &r, err);
            if (st != SN_OK) {
                sn_error_prefix(err, "optimisation pass %s", sn__passes[i].name);
                break;
            }
            if (sn__sum_report(&sum[i], &r)) {
                *total += r.changes;
                *changed = true;
            }
        }
    }
    *rounds += done;
    return st;
}

sn_status sn_graph_optimize(sn_graph *g, const sn_optimize_options *opt, sn_pass_report **reports,
                            int *n_reports, sn_error *err) {
    if (reports) *reports = NULL;
    if (n_reports) *n_reports = 0;
    if (!g) return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "sn_graph_optimize: NULL graph");
    sn_optimize_options o;
    sn_status st = sn__opt_read(opt, &o, err);
    if (st != SN_OK) return st;
    if ((st = sn_graph_validate(g, err)) != SN_OK ||
        (st = sn_graph_infer_shapes(g, err)) != SN_OK) {
        sn_error_prefix(err, "optimising: the input graph");
        return st;
    }
    /* One summary per pass, then the layout pass's, then the total. */
    sn_pass_report *sum = calloc(SN__N_PASSES + 2, sizeof *sum);
    if (!sum) return sn__pass_oom(err, "manager");
    for (int i = 0; i <= SN__N_PASSES; i++)
        sum[i].pass = i < SN__N_PASSES ? sn__passes[i].name : "layout", sum[i].nodes_before = -1;
    int nodes0 = sn__live_nodes(g), rounds = 0, total = 0;
    size_t bytes0 = sn__const_bytes(g);
    bool changed;
    st = sn__rounds(g, &o, sum, &rounds, &total, &changed, err);
    /* The layout comes last, on the fused graph (fewer nodes and weights to convert); the
     * rounds then run again for whatever the conversion exposed (a Transpose pair to cancel). */
    const bool nhwc = o.layout == SN_LAYOUT_NHWC;
    if (st == SN_OK && nhwc) {
        sn_pass_report r;
        if ((st = sn_pass_layout(g, o.layout, &r, err)) != SN_OK)
            sn_error_prefix(err, "optimisation pass layout");
        if (st == SN_OK && sn__sum_report(&sum[SN__N_PASSES], &r)) {
            total += r.changes;
            st = sn__rounds(g, &o, sum, &rounds, &total, &changed, err);
        }
    }
    if (st == SN_OK && (st = sn_graph_compact(g)) != SN_OK)
        st = sn_errorf(err, st, "optimising: compacting the graph: %s", sn_status_string(st));
    if (st == SN_OK && ((st = sn_graph_validate(g, err)) != SN_OK ||
                        (st = sn_graph_infer_shapes(g, err)) != SN_OK))
        sn_error_prefix(err, "optimising: the optimised graph is invalid (a pass is wrong)");
    if (st != SN_OK) {
        free(sum);
        return st;
    }
    int n = 0;
    for (int i = 0; i < SN__N_PASSES; i++)
        if (o.passes & (1u << i)) sum[n++] = sum[i];
    if (nhwc) sum[n++] = sum[SN__N_PASSES];
    sn_pass_report *t = &sum[n++];
    memset(t, 0, sizeof *t);
    t->pass = "total";
    t->nodes_before = nodes0;
    t->nodes_after = sn__live_nodes(g);
    t->changes = total;
    for (int i = 0; i < n - 1; i++) t->weight_bytes_removed += sum[i].weight_bytes_removed;
    snprintf(t->detail, sizeof t->detail, "%d rounds%s; constants %zu -> %zu bytes", rounds,
             changed ? " (stopped at max_iterations before a fixed point)" : " to a fixed point",
             bytes0, sn__const_bytes(g));
    if (reports) {
        *reports = sum;
        if (n_reports) *n_reports = n;
    } else {
        free(sum);
    }
    return SN_OK;
}
