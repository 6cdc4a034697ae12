/*
 * onnx_meta.c - a model's metadata_props as the graph's metadata, the inverse of what
 * sn_export_onnx writes (docs/export.md):
 *
 *   sentinel.labels      the class labels, one per line (no final newline)
 *   sentinel.preprocess  a flat JSON object: width, height, resize ("stretch" or
 *                        "shorter_crop"), resize_shorter, channels ("rgb" or "bgr"), mean and
 *                        std (3 numbers each), and optionally scale (the formula, which must be
 *                        "x=(pixel/255-mean)/std") and layout ("NCHW")
 *   any other key        a free-form property (model, description, ...); other keys under
 *                        "sentinel." are reserved and left out
 *
 * Metadata never fails an import: the graph is the model, and a model without labels or
 * preprocessing still runs (sentinel-convert can supply both). An entry that does not
 * validate is left out whole - never half applied, since preprocessing with a wrong field
 * gives wrong results without any error - and the report's warnings say which and why.
 * The preprocessing must pass the .sgraph rules (sn__sg_preprocess_problem) and fit the
 * model's image input, and a classifier's labels must number its classes, as
 * sentinel-convert requires of its --labels.
 *
 * The JSON is only ever written by Sentinel's exporter, so the parser takes exactly that
 * shape (strings without escapes, numbers, arrays of numbers) and refuses anything else.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"
#include "onnx_report.h"
#include "preprocess.h"
#include "sgraph_reader.h"

#define SN__META_LABELS "sentinel.labels"
#define SN__META_PRE "sentinel.preprocess"
#define SN__META_SCALE "x=(pixel/255-mean)/std"

/* A cursor over the JSON text; `why` says what was wrong when a parse fails. */
typedef struct sn__js {
    const char *p;
    char why[200];
} sn__js;

static void sn__js_ws(sn__js *j) {
    while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r') j->p++;
}

static bool sn__js_fail(sn__js *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool sn__js_fail(sn__js *j, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->why, sizeof j->why, fmt, ap);
    va_end(ap);
    return false;
}

/* A string without escapes: its bytes in [*s, *s + *n). */
static bool sn__js_string(sn__js *j, const char **s, size_t *n) {
    sn__js_ws(j);
    if (*j->p != '"') return sn__js_fail(j, "expected a string at '%.20s'", j->p);
    const char *b = ++j->p;
    while (*j->p && *j->p != '"' && *j->p != '\\' && (unsigned char)*j->p >= 0x20) j->p++;
    if (*j->p != '"') return sn__js_fail(j, "a string is not closed, or has an escape or a control "
                                         "character, at '%.20s'", b);
    *s = b;
    *n = (size_t)(j->p++ - b);
    return true;
}

/* A JSON number (the grammar checked first: strtod alone would take "inf", "0x1p3"...). */
static bool sn__js_number(sn__js *j, double *v) {
    sn__js_ws(j);
    const char *b = j->p, *q = b;
    if (*q == '-') q++;
    if (*q == '0') {
        q++;
    } else if (*q >= '1' && *q <= '9') {
        while (*q >= '0' && *q <= '9') q++;
    } else {
        return sn__js_fail(j, "expected a number at '%.20s'", b);
    }
    if (*q == '.') {
        if (!(*++q >= '0' && *q <= '9')) return sn__js_fail(j, "bad number at '%.20s'", b);
        while (*q >= '0' && *q <= '9') q++;
    }
    if (*q == 'e' || *q == 'E') {
        q++;
        if (*q == '+' || *q == '-') q++;
        if (!(*q >= '0' && *q <= '9')) return sn__js_fail(j, "bad number at '%.20s'", b);
        while (*q >= '0' && *q <= '9') q++;
    }
    char buf[64];
    if ((size_t)(q - b) >= sizeof buf) return sn__js_fail(j, "a number is too long at '%.20s'", b);
    memcpy(buf, b, (size_t)(q - b));
    buf[q - b] = 0;
    *v = strtod(buf, NULL);
    j->p = q;
    if (!isfinite(*v)) return sn__js_fail(j, "a number is out of range at '%.20s'", b);
    return true;
}

static bool sn__js_int(sn__js *j, const char *key, int *out) {
    double v;
    if (!sn__js_number(j, &v)) return false;
    if (v != floor(v) || v < 0 || v > 1e6) return sn__js_fail(j, "'%s' is not an integer in "
                                                              "0..1000000", key);
    *out = (int)v;
    return true;
}

static bool sn__js_floats3(sn__js *j, const char *key, float out[3]) {
    sn__js_ws(j);
    if (*j->p++ != '[') return sn__js_fail(j, "'%s' is not an array", key);
    for (int c = 0; c < 3; c++) {
        double v;
        if (!sn__js_number(j, &v)) return false;
        if (fabs(v) > FLT_MAX) return sn__js_fail(j, "'%s' has a value beyond float range", key);
        out[c] = (float)v;
        sn__js_ws(j);
        if (*j->p++ != (c < 2 ? ',' : ']'))
            return sn__js_fail(j, "'%s' is not an array of 3 numbers", key);
    }
    return true;
}

/* One of the allowed words; *out is its index. */
static bool sn__js_word(sn__js *j, const char *key, const char *const *words, int n, int *out) {
    const char *s;
    size_t len;
    if (!sn__js_string(j, &s, &len)) return false;
    for (int i = 0; i < n; i++)
        if (strlen(words[i]) == len && !memcmp(s, words[i], len)) {
            *out = i;
            return true;
        }
    return sn__js_fail(j, "'%s' has a value Sentinel does not know", key);
}

enum { K_WIDTH, K_HEIGHT, K_RESIZE, K_SHORTER, K_CHANNELS, K_SCALE, K_MEAN, K_STD, K_LAYOUT, K_N };
static const char *const sn__keys[K_N] = {"width", "height", "resize", "resize_shorter",
                                          "channels", "scale", "mean", "std", "layout"};

static bool sn__js_preprocess(sn__js *j, sn_preprocess *p) {
    *p = (sn_preprocess){.present = 1};
    bool seen[K_N] = {false};
    sn__js_ws(j);
    if (*j->p++ != '{') return sn__js_fail(j, "%s", "it is not a JSON object");
    sn__js_ws(j);
    for (bool first = true; *j->p != '}'; first = false) {
        if (!first && *j->p++ != ',')
            return sn__js_fail(j, "expected ',' or '}' at '%.20s'", j->p - 1);
        const char *s;
        size_t len;
        if (!sn__js_string(j, &s, &len)) return false;
        int k = 0;
        while (k < K_N && !(strlen(sn__keys[k]) == len && !memcmp(s, sn__keys[k], len))) k++;
        if (k == K_N) {
            char key[64];
            snprintf(key, sizeof key, "%.*s", (int)(len < 40 ? len : 40), s);
            return sn__js_fail(j, "unknown key '%s'", key);
        }
        if (seen[k]) return sn__js_fail(j, "key '%s' appears twice", sn__keys[k]);
        seen[k] = true;
        sn__js_ws(j);
        if (*j->p++ != ':') return sn__js_fail(j, "expected ':' after '%s'", sn__keys[k]);
        int w = 0;
        bool ok = true;
        switch (k) {
        case K_WIDTH: ok = sn__js_int(j, sn__keys[k], &p->width); break;
        case K_HEIGHT: ok = sn__js_int(j, sn__keys[k], &p->height); break;
        case K_SHORTER: ok = sn__js_int(j, sn__keys[k], &p->resize_shorter); break;
        case K_RESIZE:
            ok = sn__js_word(j, sn__keys[k], (const char *const[]){"stretch", "shorter_crop"}, 2,
                             &w);
            p->resize = w ? SN_RESIZE_SHORTER_CROP : SN_RESIZE_STRETCH;
            break;
        case K_CHANNELS:
            ok = sn__js_word(j, sn__keys[k], (const char *const[]){"rgb", "bgr"}, 2, &w);
            p->channels = w ? SN_CHANNELS_BGR : SN_CHANNELS_RGB;
            break;
        case K_SCALE: /* the formula the numbers mean: anything else would be misread */
            ok = sn__js_word(j, sn__keys[k], (const char *const[]){SN__META_SCALE}, 1, &w);
            break;
        case K_LAYOUT: /* ONNX graphs are NCHW; an NHWC spelling is a different model */
            ok = sn__js_word(j, sn__keys[k], (const char *const[]){"NCHW"}, 1, &w);
            break;
        case K_MEAN: ok = sn__js_floats3(j, sn__keys[k], p->mean); break;
        default: ok = sn__js_floats3(j, sn__keys[k], p->std); break;
        }
        if (!ok) return false;
        sn__js_ws(j);
    }
    j->p++;
    sn__js_ws(j);
    if (*j->p) return sn__js_fail(j, "text after the object: '%.20s'", j->p);
    static const int required[] = {K_WIDTH, K_HEIGHT, K_RESIZE, K_CHANNELS, K_MEAN, K_STD};
    for (size_t i = 0; i < sizeof required / sizeof *required; i++)
        if (!seen[required[i]]) return sn__js_fail(j, "'%s' is missing", sn__keys[required[i]]);
    if (p->resize == SN_RESIZE_SHORTER_CROP && !seen[K_SHORTER])
        return sn__js_fail(j, "%s", "'resize_shorter' is missing for resize 'shorter_crop'");
    return true;
}

/* Preprocessing for g, or false with the reason in j->why. */
static bool sn__meta_preprocess(const sn_graph *g, const char *text, sn__js *j, sn_preprocess *p) {
    j->p = text;
    if (!sn__js_preprocess(j, p)) return false;
    const char *why = sn__sg_preprocess_problem(p);
    if (why) return sn__js_fail(j, "%s", why);
    const sn_tensor *in = g->n_inputs == 1 ? &g->tensors[g->inputs[0]] : NULL;
    if (!in || in->shape.rank != 4 || in->shape.d[1] != 3 || in->layout == SN_LAYOUT_NHWC)
        return sn__js_fail(j, "%s", "the model has no single 3-channel NCHW image input");
    sn_preprocess resolved;
    sn_error e = {0};
    if (sn_preprocess_resolve(p, in->shape.d[2], in->shape.d[3], &resolved, &e) != SN_OK)
        return sn__js_fail(j, "%s", e.message);
    return true;
}

/* Labels split at newlines into g, or a warning. */
static sn_status sn__meta_labels(sn_graph *g, const char *text, sn_onnx_report *rep) {
    size_t n = 1;
    for (const char *s = text; *s; s++) n += *s == '\n';
    if (n > INT_MAX)
        return sn__ox_report_warn(rep, "metadata '" SN__META_LABELS "' ignored: %zu labels", n);
    /* A classifier's labels name its classes: one output [N,K] needs K of them. */
    if (g->n_outputs == 1) {
        const sn_tensor *y = &g->tensors[g->outputs[0]];
        if (y->shape.rank == 2 && y->shape.d[1] > 0 && y->shape.d[1] != (int64_t)n)
            return sn__ox_report_warn(rep, "metadata '" SN__META_LABELS "' ignored: %zu labels, "
                                      "but the output '%s' has %lld classes", n, y->name,
                                      (long long)y->shape.d[1]);
    }
    char *copy = strdup(text);
    const char **lines = malloc(sizeof *lines * n);
    sn_status s = SN_ERR_OUT_OF_MEMORY;
    if (copy && lines) {
        char *p = copy;
        for (size_t i = 0; i < n; i++) {
            lines[i] = p;
            char *nl = strchr(p, '\n');
            if (nl) *nl = 0, p = nl + 1;
        }
        s = sn_graph_set_labels(g, lines, (int)n);
    }
    free(copy);
    free(lines);
    return s;
}

static const char *sn__meta_key(const Onnx__ModelProto *m, size_t i) {
    const Onnx__StringStringEntryProto *e = m->metadata_props[i];
    return e && e->key ? e->key : "";
}

/* Entry indices ordered by key, then by position: a key equal to the one before it in this
 * order is a repeat (found in n log n: a hostile file may hold millions of entries). */
static int sn__cmp_entry(const void *a, const void *b, void *model) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strcmp(sn__meta_key(model, x), sn__meta_key(model, y));
    return c ? c : (x > y) - (x < y);
}

/* Warnings kept in the report; past this many, one more says how many were left out. */
#define SN__META_MAX_WARNINGS 32

sn_status sn__ox_import_metadata(const Onnx__ModelProto *m, sn_graph *g, sn_onnx_report *rep,
                                 sn_error *err) {
    size_t n = m->n_metadata_props, n_props = 0, n_warn = 0;
    if (!n) return SN_OK;
    size_t *order = malloc(sizeof *order * n);
    bool *repeat = calloc(n, sizeof *repeat);
    size_t *props = malloc(sizeof *props * n); /* entries that are properties, in file order */
    sn_status s = order && repeat && props ? SN_OK : SN_ERR_OUT_OF_MEMORY;
    if (s == SN_OK) {
        for (size_t i = 0; i < n; i++) order[i] = i;
        qsort_r(order, n, sizeof *order, sn__cmp_entry, (void *)m);
        for (size_t i = 1; i < n; i++)
            repeat[order[i]] = !strcmp(sn__meta_key(m, order[i]), sn__meta_key(m, order[i - 1]));
    }
    char why[300];
    for (size_t i = 0; i < n && s == SN_OK; i++) {
        const char *key = sn__meta_key(m, i);
        const char *val = m->metadata_props[i] && m->metadata_props[i]->value
                              ? m->metadata_props[i]->value : "";
        why[0] = 0;
        if (!*key) {
            snprintf(why, sizeof why, "metadata entry %zu ignored: it has no key", i);
        } else if (repeat[i]) {
            snprintf(why, sizeof why, "metadata '%.200s' (entry %zu) ignored: the key appeared "
                     "before, the first is kept", key, i);
        } else if (!strcmp(key, SN__META_LABELS)) {
            s = sn__meta_labels(g, val, rep);
        } else if (!strcmp(key, SN__META_PRE)) {
            sn__js j = {0};
            sn_preprocess p;
            if (sn__meta_preprocess(g, val, &j, &p))
                g->meta.preprocess = p;
            else
                snprintf(why, sizeof why, "metadata '" SN__META_PRE "' ignored: %s", j.why);
        } else if (!strncmp(key, "sentinel.", 9)) {
            snprintf(why, sizeof why, "metadata '%.200s' ignored: Sentinel does not know this "
                     "key of its own", key);
        } else {
            props[n_props++] = i;
        }
        if (why[0] && n_warn++ < SN__META_MAX_WARNINGS) s = sn__ox_report_warn(rep, "%s", why);
    }
    if (s == SN_OK && n_warn > SN__META_MAX_WARNINGS)
        s = sn__ox_report_warn(rep, "and %zu more metadata warnings",
                               n_warn - SN__META_MAX_WARNINGS);
    /* Filled directly: sn_graph_set_prop looks for the key first, quadratic in the count. */
    if (s == SN_OK && n_props) {
        sn_metadata *md = &g->meta;
        if (md->n_props || n_props > INT_MAX) {
            s = SN_ERR_INTERNAL; /* called on the new graph, before any property is set */
        } else {
            md->prop_keys = sn_graph_alloc(g, sizeof(char *) * n_props);
            md->prop_values = sn_graph_alloc(g, sizeof(char *) * n_props);
            if (!md->prop_keys || !md->prop_values) s = SN_ERR_OUT_OF_MEMORY;
        }
        for (size_t k = 0; s == SN_OK && k < n_props; k++) {
            const Onnx__StringStringEntryProto *e = m->metadata_props[props[k]];
            md->prop_keys[k] = sn_graph_strdup(g, e->key);
            md->prop_values[k] = sn_graph_strdup(g, e->value ? e->value : "");
            if (!md->prop_keys[k] || !md->prop_values[k])
                s = SN_ERR_OUT_OF_MEMORY;
            else
                md->n_props = (int)k + 1;
        }
    }
    free(order);
    free(repeat);
    free(props);
    return s == SN_OK ? SN_OK : sn_errorf(err, s, "ONNX import: cannot store the metadata");
}
