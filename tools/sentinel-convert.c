/*
 * sentinel-convert - turn an ONNX model into a Sentinel .sgraph model.
 *
 *   sentinel-convert MODEL.onnx -o OUT.sgraph [--labels FILE] [--mean a,b,c --std a,b,c]
 *                    [--size WxH|N] [--resize-shorter N] [--bgr] [--no-optimize] [--quiet]
 *
 * The model is imported (opsets 11-21, docs/onnx.md), optimised with every pass unless
 * --no-optimize, given the labels and preprocessing metadata asked for, and written atomically
 * (temporary file + rename: a failure never leaves a partial file). A model with ops Sentinel
 * lacks is refused with the complete list of them, each with its node name and opset.
 *
 * Exit status: 0 on success, 1 when the model cannot be converted or written, 2 for a usage
 * error.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "graph.h"
#include "onnx.h"
#include "passes/pass.h"
#include "preprocess.h"
#include "sgraph.h"

#define PROG "sentinel-convert"
#define MAX_LABELS_BYTES (64u << 20)

typedef struct options {
    const char *model, *out, *labels, *mean, *std, *size, *shorter;
    int bgr, no_optimize, quiet;
    sn_preprocess pre; /* parsed from --mean/--std/--size/--resize-shorter/--bgr */
} options;

static void usage(FILE *f) {
    fprintf(f,
            "usage: " PROG " MODEL.onnx -o OUT.sgraph [options]\n"
            "Converts an ONNX model (opsets 11-21) into a Sentinel model.\n"
            "  -o, --output FILE      the .sgraph file to write (atomically)\n"
            "  --labels FILE          class labels, one per line, stored in the model\n"
            "  --mean a,b,c           per-channel mean of pixels scaled to [0,1] (default 0,0,0)\n"
            "  --std a,b,c            per-channel std (default 1,1,1)\n"
            "  --size WxH | N         the network's input size (default: the model input's)\n"
            "  --resize-shorter N     resize the shorter side to N, then centre-crop to --size\n"
            "  --bgr                  the model wants BGR channel order\n"
            "  --no-optimize          keep the graph as imported (no optimisation passes)\n"
            "  --quiet                print nothing on success\n");
}

static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, PROG ": ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    usage(stderr);
    return 2;
}

static int parse_args(int argc, char **argv, options *o) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) slot = &o->out;
        else if (!strcmp(a, "--labels")) slot = &o->labels;
        else if (!strcmp(a, "--mean")) slot = &o->mean;
        else if (!strcmp(a, "--std")) slot = &o->std;
        else if (!strcmp(a, "--size")) slot = &o->size;
        else if (!strcmp(a, "--resize-shorter")) slot = &o->shorter;
        else if (!strcmp(a, "--bgr")) o->bgr = 1;
        else if (!strcmp(a, "--no-optimize")) o->no_optimize = 1;
        else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) o->quiet = 1;
        else if (a[0] == '-' && a[1]) return usage_error("unknown option '%s'", a);
        else if (o->model) return usage_error("more than one model given (second: '%s')", a);
        else o->model = a;
        if (slot) {
            if (i + 1 >= argc) return usage_error("%s needs a value", a);
            *slot = argv[++i];
        }
    }
    if (!o->model) return usage_error("%s", "no ONNX model given");
    if (!o->out || !*o->out) return usage_error("%s", "no output file given (-o OUT.sgraph)");
    return -1;
}

/* "a,b,c": three finite floats. */
static int parse3(const char *s, float *v) {
    for (int i = 0; i < 3; i++) {
        char *end;
        errno = 0;
        double x = strtod(s, &end);
        if (end == s || errno || !isfinite(x) || fabs(x) > 1e30) return -1;
        v[i] = (float)x;
        if (i < 2 && *end != ',') return -1;
        if (i == 2 && *end) return -1;
        s = end + 1;
    }
    return 0;
}

static int parse_pos(const char *s, int *v) {
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (end == s || *end || errno || x < 1 || x > SN_PREPROCESS_MAX_SIDE) return -1;
    *v = (int)x;
    return 0;
}

/* --size WxH or N. */
static int parse_size(const char *s, int *w, int *h) {
    const char *x = strchr(s, 'x');
    if (!x) {
        if (parse_pos(s, w)) return -1;
        *h = *w;
        return 0;
    }
    char buf[32];
    size_t n = (size_t)(x - s);
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    return parse_pos(buf, w) || parse_pos(x + 1, h) ? -1 : 0;
}

/* Labels: one per line (a final newline is optional; \r\n is accepted). */
static int set_labels(sn_graph *g, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, PROG ": --labels %s: %s\n", path, strerror(errno));
        return -1;
    }
    char *text = NULL;
    const char **lines = NULL;
    int n = 0, rc = -1;
    size_t len = 0, cap = 0;
    for (int ch; (ch = fgetc(f)) != EOF;) {
        if (len + 2 > cap) {
            cap = cap ? 2 * cap : 4096;
            char *t = cap <= MAX_LABELS_BYTES ? realloc(text, cap) : NULL;
            if (!t) {
                fprintf(stderr, PROG ": --labels %s: larger than %u MiB\n", path, MAX_LABELS_BYTES >> 20);
                goto done;
            }
            text = t;
        }
        if (ch == 0) {
            fprintf(stderr, PROG ": --labels %s: contains a NUL byte (not a text file)\n", path);
            goto done;
        }
        text[len++] = (char)ch;
    }
    if (ferror(f)) {
        fprintf(stderr, PROG ": --labels %s: read error\n", path);
        goto done;
    }
    if (!len) {
        fprintf(stderr, PROG ": --labels %s: the file is empty\n", path);
        goto done;
    }
    if (text[len - 1] != '\n') text[len++] = '\n';
    for (size_t i = 0; i < len; i++) n += text[i] == '\n';
    if (!(lines = malloc(sizeof *lines * (size_t)n))) goto done;
    n = 0;
    for (char *p = text; p < text + len;) {
        char *nl = memchr(p, '\n', (size_t)(text + len - p));
        *nl = 0;
        if (nl > p && nl[-1] == '\r') nl[-1] = 0;
        lines[n++] = p;
        p = nl + 1;
    }
    /* A classifier's labels name its classes: one output [N,K] needs K of them. */
    if (g->n_outputs == 1 && g->tensors[g->outputs[0]].shape.rank == 2) {
        const sn_tensor *y = &g->tensors[g->outputs[0]];
        int64_t k = y->shape.d[1];
        if (k != n) {
            fprintf(stderr, PROG ": --labels %s: %d labels, but the output '%s' has %lld classes\n",
                    path, n, y->name, (long long)k);
            goto done;
        }
    }
    sn_status st = sn_graph_set_labels(g, lines, n);
    if (st != SN_OK) {
        fprintf(stderr, PROG ": --labels %s: %s\n", path, sn_status_string(st));
        goto done;
    }
    rc = 0;
done:
    fclose(f);
    free(text);
    free(lines);
    return rc;
}

/* The preprocessing options' values, checked before any work is done. */
static int parse_preprocess(options *o) {
    sn_preprocess *p = &o->pre;
    *p = (sn_preprocess){.mean = {0, 0, 0}, .std = {1, 1, 1}};
    if (!o->mean && !o->std && !o->size && !o->shorter && !o->bgr) return -1;
    p->present = 1;
    if (o->mean && parse3(o->mean, p->mean)) return usage_error("--mean '%s': expected three numbers a,b,c", o->mean);
    if (o->std && parse3(o->std, p->std)) return usage_error("--std '%s': expected three numbers a,b,c", o->std);
    if (o->size && parse_size(o->size, &p->width, &p->height))
        return usage_error("--size '%s': expected WxH or N (1 to 16384)", o->size);
    if (o->shorter && parse_pos(o->shorter, &p->resize_shorter))
        return usage_error("--resize-shorter '%s': expected 1 to 16384", o->shorter);
    p->resize = o->shorter ? SN_RESIZE_SHORTER_CROP : SN_RESIZE_STRETCH;
    p->channels = o->bgr ? SN_CHANNELS_BGR : SN_CHANNELS_RGB;
    return -1;
}

/* Preprocessing metadata, validated against the model's image input. */
static int set_preprocess(sn_graph *g, const options *o) {
    if (!o->pre.present) return 0;
    sn_preprocess p = o->pre;
    if (g->n_inputs != 1) {
        fprintf(stderr, PROG ": preprocessing options need a model with one image input; this one has %d inputs\n",
                g->n_inputs);
        return 1;
    }
    const sn_tensor *in = &g->tensors[g->inputs[0]];
    bool nhwc = in->layout == SN_LAYOUT_NHWC;
    int64_t ch = in->shape.rank == 4 ? in->shape.d[nhwc ? 3 : 1] : 0;
    if (ch != 3) {
        fprintf(stderr, PROG ": preprocessing options need a 3-channel image input; '%s' is not one\n",
                in->name);
        return 1;
    }
    int64_t h = in->shape.d[nhwc ? 1 : 2], w = in->shape.d[nhwc ? 2 : 3];
    if (!o->size) {
        p.width = (int)w;
        p.height = (int)h;
    }
    sn_preprocess resolved;
    sn_error err = {0};
    if (sn_preprocess_resolve(&p, h, w, &resolved, &err) != SN_OK) {
        fprintf(stderr, PROG ": preprocessing: %s\n", err.message);
        return 1;
    }
    g->meta.preprocess = p;
    return 0;
}

static int live_nodes(const sn_graph *g) {
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) n += !g->nodes[i].dead;
    return n;
}

int main(int argc, char **argv) {
    options o = {0};
    int rc = parse_args(argc, argv, &o);
    if (rc < 0) rc = parse_preprocess(&o);
    if (rc >= 0) return rc;
    sn_error err = {0};
    sn_onnx_report rep;
    sn_graph *g = NULL;
    rc = 1;
    if (sn_onnx_import_file(o.model, NULL, &g, &rep, &err) != SN_OK) {
        if (rep.n_unsupported) {
            fprintf(stderr, PROG ": %s: cannot convert: %d node%s use%s what Sentinel does not support:\n",
                    o.model, rep.n_unsupported, rep.n_unsupported == 1 ? "" : "s",
                    rep.n_unsupported == 1 ? "s" : "");
            for (int i = 0; i < rep.n_unsupported; i++) {
                char line[2048];
                sn_onnx_unsupported_format(&rep.unsupported[i], line, sizeof line);
                fprintf(stderr, "  %s\n", line);
            }
        } else {
            fprintf(stderr, PROG ": %s\n", err.message);
        }
        goto done;
    }
    for (int i = 0; !o.quiet && i < rep.n_warnings; i++)
        fprintf(stderr, PROG ": %s: warning: %s\n", o.model, rep.warnings[i]);
    int imported = live_nodes(g);
    if (!o.no_optimize && sn_graph_optimize(g, NULL, NULL, NULL, &err) != SN_OK) {
        fprintf(stderr, PROG ": %s: optimising: %s\n", o.model, err.message);
        goto done;
    }
    if (o.labels && set_labels(g, o.labels)) goto done;
    if ((rc = set_preprocess(g, &o)) != 0) goto done;
    rc = 1;
    if (sn_sgraph_write_file(g, o.out, &err) != SN_OK) {
        fprintf(stderr, PROG ": writing %s: %s\n", o.out, err.message);
        goto done;
    }
    if (!o.quiet) {
        struct stat sb;
        long long bytes = stat(o.out, &sb) == 0 ? (long long)sb.st_size : -1;
        printf("%s: ONNX opset %lld, %d nodes (%d evaluated at import), %d initializers\n", o.model,
               (long long)rep.opset, rep.onnx_nodes, rep.folded_nodes, rep.initializers);
        printf("  -> %d Sentinel nodes", imported);
        if (!o.no_optimize) printf(", %d after optimisation", live_nodes(g));
        if (g->meta.n_labels) printf(", %d labels", g->meta.n_labels);
        if (g->meta.preprocess.present) printf(", preprocessing %dx%d", g->meta.preprocess.width, g->meta.preprocess.height);
        printf("\n  -> %s (%lld bytes)\n", o.out, bytes);
    }
    rc = 0;
done:
    sn_graph_destroy(g);
    sn_onnx_report_free(&rep);
    return rc;
}
