/*
 * sentinel-inspect - show what a .sgraph file holds.
 *
 *   sentinel-inspect FILE.sgraph [--json] [--optimize] [--layout nchw|nhwc] [--passes LIST]
 *
 * Prints the header (format version, size), metadata (labels, preprocessing, properties), the
 * graph inputs and outputs, one row per node in topological order (op, name, activation shapes
 * with "N" for the batch, brief attributes, FLOPs per image) and totals. --json prints the same
 * as one JSON object. The numbers come from tools/zoo/graph_report.c; the printers here take a
 * graph, so a graph transformed after loading prints the same way: --optimize shows the graph
 * the engine would run (sn_graph_optimize, in --layout, with the --passes given) and a
 * per-pass summary (tools/zoo/pass_summary.c).
 *
 * Exit status: 0 on success, 1 when the file cannot be read or is malformed (the reader's
 * message names the byte offset), 2 for a usage error.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graph_report.h"
#include "pass_summary.h"
#include "sgraph.h"
#include "sgraph_format.h"

typedef struct sn__file_info {
    const char *path;
    uint64_t size;
    unsigned major, minor;
    const sn_pass_report *reps; /* --optimize: the optimisation's reports, else NULL */
    int n_reps;
    double ms;
} sn__file_info;

/* Names and strings come from the file: only printable ASCII reaches the terminal. */
static const char *sn__safe(const char *s, char *buf, size_t size) {
    size_t j = 0;
    for (size_t i = 0; s && s[i] && j + 1 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[j++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    buf[j] = '\0';
    return buf;
}

/* JSON string; bytes outside printable ASCII become \u00XX, so the output is always valid
 * JSON (a non-ASCII name is shown byte by byte, which is good enough for inspection). */
static void sn__json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (size_t i = 0; s && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c >= 0x20 && c < 0x7f)
            fputc(c, f);
        else
            fprintf(f, "\\u%04x", c);
    }
    fputc('"', f);
}

static bool sn__batched(const sn_graph *g, int t) {
    return (g->tensors[t].flags & SN_TENSOR_BATCHED) ||
           (g->tensors[t].shape.rank > 0 && g->tensors[t].shape.d[0] == SN_DIM_BATCH);
}

static const char *sn__shape(const sn_graph *g, const sn_graph_report *r, int t, char *buf,
                             size_t size) {
    return sn_shape_format(&r->shapes[t], sn__batched(g, t), buf, size);
}

static const char *sn__layout(sn_layout l) {
    return l == SN_LAYOUT_NCHW ? "NCHW" : l == SN_LAYOUT_NHWC ? "NHWC" : "";
}

/* "[N,3,224,224] [N,64,56,56] -> [N,64,56,56]": activation inputs only (weights are not
 * interesting per row; they are in the parameter total). */
static void sn__row_shapes(const sn_graph *g, const sn_graph_report *r, const sn_node *n, char *buf,
                           size_t size) {
    size_t used = 0;
    char s[96];
    buf[0] = '\0';
    for (int pass = 0; pass < 2; pass++) {
        int cnt = pass ? n->n_outputs : n->n_inputs;
        const int *ts = pass ? n->outputs : n->inputs;
        if (pass) used += (size_t)snprintf(buf + used, size - used, "%s->", used ? " " : "");
        for (int i = 0; i < cnt && used + 1 < size; i++) {
            int t = ts[i];
            if (t < 0 || (g->tensors[t].flags & SN_TENSOR_CONST)) continue;
            used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? " " : "",
                                     sn__shape(g, r, t, s, sizeof s));
        }
        if (used >= size) break;
    }
}

static void sn__print_io(FILE *f, const sn_graph *g, const sn_graph_report *r, const int *ts,
                         int n) {
    char name[96], s[96];
    for (int i = 0; i < n; i++) {
        const sn_tensor *t = &g->tensors[ts[i]];
        fprintf(f, "  %-16s %-4s %s%s%s\n", sn__safe(t->name, name, sizeof name),
                sn_dtype_name(r->dtypes[ts[i]]), sn__shape(g, r, ts[i], s, sizeof s),
                t->layout != SN_LAYOUT_ANY ? " " : "", sn__layout(t->layout));
    }
}

static void sn__print_table(FILE *f, const sn_graph *g, const sn_graph_report *r,
                            const sn__file_info *fi) {
    char a[64], b[64], name[96], shapes[256];
    const sn_metadata *m = &g->meta;
    fprintf(f, "%s\n", sn__safe(fi->path, shapes, sizeof shapes));
    fprintf(f, "  format       .sgraph %u.%u, %s bytes\n", fi->major, fi->minor,
            sn_report_grouped(fi->size, a, sizeof a));
    if (m->n_labels > 0)
        fprintf(f, "  labels       %d (%s ... %s)\n", m->n_labels, sn__safe(m->labels[0], a, 40),
                sn__safe(m->labels[m->n_labels - 1], b, 40));
    else
        fprintf(f, "  labels       none\n");
    const sn_preprocess *p = &m->preprocess;
    if (p->present) {
        fprintf(f, "  preprocess   %dx%d %s, ", p->width, p->height,
                p->channels == SN_CHANNELS_BGR ? "BGR" : "RGB");
        if (p->resize == SN_RESIZE_SHORTER_CROP)
            fprintf(f, "resize shorter side to %d and centre-crop", p->resize_shorter);
        else
            fprintf(f, "stretch to size");
        fprintf(f, ", mean %g,%g,%g, std %g,%g,%g\n", p->mean[0], p->mean[1], p->mean[2], p->std[0],
                p->std[1], p->std[2]);
    } else {
        fprintf(f, "  preprocess   none\n");
    }
    for (int i = 0; i < m->n_props; i++)
        fprintf(f, "  property     %s = %s\n", sn__safe(m->prop_keys[i], a, sizeof a),
                sn__safe(m->prop_values[i], shapes, 120));
    fprintf(f, "inputs\n");
    sn__print_io(f, g, r, g->inputs, g->n_inputs);
    fprintf(f, "outputs\n");
    sn__print_io(f, g, r, g->outputs, g->n_outputs);

    /* Column widths from the content, capped so one odd row cannot push everything right. */
    int w_op = 2, w_name = 4, w_shapes = 6;
    for (int i = 0; i < r->n_rows; i++) {
        const sn_node *n = &g->nodes[r->rows[i].node];
        int lo = (int)strlen(sn_op_name(n->op)), ln = (int)strlen(sn__safe(n->name, name, 41));
        sn__row_shapes(g, r, n, shapes, sizeof shapes);
        int ls = (int)strlen(shapes);
        w_op = lo > w_op ? lo : w_op;
        w_name = ln > w_name ? ln : w_name;
        w_shapes = ls > w_shapes ? (ls < 60 ? ls : 60) : w_shapes;
    }
    fprintf(f, "nodes\n  %5s  %-*s  %-*s  %-*s  %-28s %8s\n", "#", w_op, "op", w_name, "name",
            w_shapes, "shapes", "attributes", "FLOPs");
    for (int i = 0; i < r->n_rows; i++) {
        const sn_node *n = &g->nodes[r->rows[i].node];
        sn__row_shapes(g, r, n, shapes, sizeof shapes);
        fprintf(f, "  %5d  %-*s  %-*s  %-*s  %-28s %8s\n", r->rows[i].node, w_op, sn_op_name(n->op),
                w_name, sn__safe(n->name, name, 41), w_shapes, shapes, r->rows[i].attrs,
                sn_report_si(r->rows[i].flops, a, sizeof a));
    }
    fprintf(f, "totals\n  nodes        %d (", r->n_rows);
    for (int op = 0, first = 1; op < SN_OP_COUNT; op++)
        if (r->op_counts[op]) {
            fprintf(f, "%s%s %d", first ? "" : ", ", sn_op_name((sn_op)op), r->op_counts[op]);
            first = 0;
        }
    fprintf(f, ")\n  parameters   %s", sn_report_grouped((uint64_t)r->params, a, sizeof a));
    if (r->bn_stats)
        fprintf(f, " (plus %s BatchNormalization running statistics)",
                sn_report_grouped((uint64_t)r->bn_stats, b, sizeof b));
    fprintf(f, "\n  weights      %s bytes\n", sn_report_grouped(r->weight_bytes, a, sizeof a));
    fprintf(f, "  flops/image  %s (%s; a multiply-add counts 2)\n",
            sn_report_grouped((uint64_t)(r->flops + 0.5), a, sizeof a),
            sn_report_si(r->flops, b, sizeof b));
    if (fi->reps) sn_pass_summary_print(f, fi->reps, fi->n_reps, fi->ms);
}

static void sn__json_shape(FILE *f, const sn_graph *g, const sn_graph_report *r, int t) {
    const sn_shape *s = &r->shapes[t];
    fputc('[', f);
    for (int i = 0; i < s->rank; i++) {
        if (i == 0 && sn__batched(g, t))
            fprintf(f, "\"N\"");
        else
            fprintf(f, "%s%lld", i ? "," : "", (long long)s->d[i]);
    }
    fputc(']', f);
}

static void sn__json_io(FILE *f, const sn_graph *g, const sn_graph_report *r, const int *ts,
                        int n) {
    fputc('[', f);
    for (int i = 0; i < n; i++) {
        const sn_tensor *t = &g->tensors[ts[i]];
        fprintf(f, "%s{\"name\":", i ? "," : "");
        sn__json_str(f, t->name);
        fprintf(f,
                ",\"dtype\":\"%s\",\"layout\":\"%s\",\"shape\":", sn_dtype_name(r->dtypes[ts[i]]),
                sn__layout(t->layout));
        sn__json_shape(f, g, r, ts[i]);
        fputc('}', f);
    }
    fputc(']', f);
}

static void sn__json_tensors(FILE *f, const sn_graph *g, const sn_graph_report *r, const int *ts,
                             int n) {
    fputc('[', f);
    for (int i = 0, first = 1; i < n; i++) {
        if (ts[i] < 0 || (g->tensors[ts[i]].flags & SN_TENSOR_CONST)) continue;
        if (!first) fputc(',', f);
        sn__json_shape(f, g, r, ts[i]);
        first = 0;
    }
    fputc(']', f);
}

static void sn__print_json(FILE *f, const sn_graph *g, const sn_graph_report *r,
                           const sn__file_info *fi) {
    const sn_metadata *m = &g->meta;
    const sn_preprocess *p = &m->preprocess;
    fprintf(f, "{\"file\":{\"path\":");
    sn__json_str(f, fi->path);
    fprintf(f, ",\"size\":%llu,\"format_version\":\"%u.%u\"},\n", (unsigned long long)fi->size,
            fi->major, fi->minor);
    fprintf(f, "\"metadata\":{\"labels\":%d,\"preprocess\":", m->n_labels);
    if (p->present)
        fprintf(f,
                "{\"width\":%d,\"height\":%d,\"resize\":\"%s\",\"resize_shorter\":%d,"
                "\"channels\":\"%s\",\"mean\":[%g,%g,%g],\"std\":[%g,%g,%g]}",
                p->width, p->height,
                p->resize == SN_RESIZE_SHORTER_CROP ? "shorter_crop" : "stretch", p->resize_shorter,
                p->channels == SN_CHANNELS_BGR ? "BGR" : "RGB", p->mean[0], p->mean[1], p->mean[2],
                p->std[0], p->std[1], p->std[2]);
    else
        fprintf(f, "null");
    fprintf(f, ",\"properties\":{");
    for (int i = 0; i < m->n_props; i++) {
        if (i) fputc(',', f);
        sn__json_str(f, m->prop_keys[i]);
        fputc(':', f);
        sn__json_str(f, m->prop_values[i]);
    }
    fprintf(f, "}},\n\"inputs\":");
    sn__json_io(f, g, r, g->inputs, g->n_inputs);
    fprintf(f, ",\n\"outputs\":");
    sn__json_io(f, g, r, g->outputs, g->n_outputs);
    fprintf(f, ",\n\"nodes\":[\n");
    for (int i = 0; i < r->n_rows; i++) {
        const sn_node *n = &g->nodes[r->rows[i].node];
        fprintf(f, "{\"index\":%d,\"op\":\"%s\",\"name\":", r->rows[i].node, sn_op_name(n->op));
        sn__json_str(f, n->name);
        fprintf(f, ",\"inputs\":");
        sn__json_tensors(f, g, r, n->inputs, n->n_inputs);
        fprintf(f, ",\"outputs\":");
        sn__json_tensors(f, g, r, n->outputs, n->n_outputs);
        fprintf(f, ",\"attributes\":");
        sn__json_str(f, r->rows[i].attrs);
        fprintf(f, ",\"flops\":%.0f}%s\n", r->rows[i].flops, i + 1 < r->n_rows ? "," : "");
    }
    fprintf(f, "],\n\"totals\":{\"nodes\":%d,\"nodes_by_op\":{", r->n_rows);
    for (int op = 0, first = 1; op < SN_OP_COUNT; op++)
        if (r->op_counts[op]) {
            fprintf(f, "%s\"%s\":%d", first ? "" : ",", sn_op_name((sn_op)op), r->op_counts[op]);
            first = 0;
        }
    fprintf(f,
            "},\"parameters\":%lld,\"bn_running_stats\":%lld,\"weight_bytes\":%llu,"
            "\"flops_per_image\":%.0f}",
            (long long)r->params, (long long)r->bn_stats, (unsigned long long)r->weight_bytes,
            r->flops);
    if (fi->reps) {
        fprintf(f, ",\n\"optimization\":");
        sn_pass_summary_json(f, fi->reps, fi->n_reps, fi->ms);
    }
    fprintf(f, "}\n");
}

/* Print a report of g (as a table, or JSON). Returns 0, or 1 with a message on stderr. */
static int sn__inspect_graph(FILE *f, const sn_graph *g, const sn__file_info *fi, bool json) {
    sn_error err = {SN_OK, ""};
    sn_graph_report r;
    if (sn_graph_report_build(g, &r, &err) != SN_OK) {
        fprintf(stderr, "sentinel-inspect: %s: %s\n", fi->path, err.message);
        return 1;
    }
    if (json)
        sn__print_json(f, g, &r, fi);
    else
        sn__print_table(f, g, &r, fi);
    sn_graph_report_free(&r);
    return 0;
}

static int sn__usage(FILE *f, int status) {
    fprintf(f, "usage: sentinel-inspect FILE.sgraph [--json] [--optimize] [--layout nchw|nhwc]\n"
               "                        [--passes LIST]\n"
               "Shows a model file's metadata, inputs and outputs, nodes with shapes and FLOPs,\n"
               "and totals (parameters, weight bytes, FLOPs per image).\n"
               "  --optimize       show the optimised graph (what the engine runs) and what each\n"
               "                   optimisation pass did\n"
               "  --layout L       optimise for nchw (default) or nhwc; implies --optimize\n"
               "  --passes LIST    the passes to run: all (default), none, or names joined by\n"
               "                   commas (simplify,fold_constants,cse,fold_batchnorm,\n"
               "                   fuse_conv,dce); implies --optimize\n");
    return status;
}

/* A valued option as "--name value" or "--name=value": its value, or NULL (usage error said). */
static const char *sn__value(int argc, char **argv, int *i, const char *name) {
    size_t n = strlen(name);
    if (!strncmp(argv[*i], name, n) && argv[*i][n] == '=') return argv[*i] + n + 1;
    if (*i + 1 < argc) return argv[++*i];
    fprintf(stderr, "sentinel-inspect: %s needs a value\n", name);
    return NULL;
}

static bool sn__is_opt(const char *a, const char *name) {
    size_t n = strlen(name);
    return !strncmp(a, name, n) && (a[n] == '\0' || a[n] == '=');
}

int main(int argc, char **argv) {
    const char *path = NULL;
    bool json = false, optimize = false;
    sn_optimize_options oo = SN_OPTIMIZE_OPTIONS_INIT;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return sn__usage(stdout, 0);
        if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], "--optimize")) {
            optimize = true;
        } else if (sn__is_opt(argv[i], "--layout")) {
            const char *v = sn__value(argc, argv, &i, "--layout");
            if (!v) return sn__usage(stderr, 2);
            if (sn_layout_parse(v, &oo.layout) != 0) {
                fprintf(stderr, "sentinel-inspect: --layout must be nchw or nhwc, not '%s'\n", v);
                return sn__usage(stderr, 2);
            }
            optimize = true;
        } else if (sn__is_opt(argv[i], "--passes")) {
            const char *v = sn__value(argc, argv, &i, "--passes");
            char bad[64];
            if (!v) return sn__usage(stderr, 2);
            if (sn_pass_list_parse(v, &oo.passes, bad, sizeof bad) != 0) {
                fprintf(stderr, "sentinel-inspect: --passes: unknown pass '%s'\n", bad);
                return sn__usage(stderr, 2);
            }
            optimize = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "sentinel-inspect: unknown option '%s'\n", argv[i]);
            return sn__usage(stderr, 2);
        } else if (path) {
            fprintf(stderr, "sentinel-inspect: more than one file given ('%s', '%s')\n", path,
                    argv[i]);
            return sn__usage(stderr, 2);
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        fprintf(stderr, "sentinel-inspect: no file given\n");
        return sn__usage(stderr, 2);
    }
    sn_error err = {SN_OK, ""};
    sn_file_map map = {NULL, 0};
    sn_graph *g = NULL;
    int rc = 1;
    if (sn_file_map_open(path, &map, &err) != SN_OK ||
        sn_sgraph_read(map.data, map.size, &g, &err) != SN_OK) {
        fprintf(stderr, "sentinel-inspect: %s: %s\n", path, err.message);
        goto done;
    }
    /* The reader accepted the header, so the version fields are there. */
    const uint8_t *h = map.data;
    sn__file_info fi = {path, map.size, sn__sg_get16(h + SN_SG_HDR_MAJOR),
                        sn__sg_get16(h + SN_SG_HDR_MINOR), NULL, 0, 0.0};
    sn_pass_report *reps = NULL;
    if (optimize) {
        /* The passes never write the file's bytes (constants stay borrowed or are replaced). */
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (sn_graph_optimize(g, &oo, &reps, &fi.n_reps, &err) != SN_OK) {
            fprintf(stderr, "sentinel-inspect: %s: optimising: %s\n", path, err.message);
            goto done;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        fi.reps = reps;
        fi.ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    }
    rc = sn__inspect_graph(stdout, g, &fi, json);
    free(reps);
    if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout))) {
        fprintf(stderr, "sentinel-inspect: error writing the report\n");
        rc = 1;
    }
done:
    sn_graph_destroy(g);
    sn_file_map_close(&map);
    return rc;
}
