/* graph_report.c - node rows, FLOPs and totals for sentinel-inspect (see graph_report.h). */
#include "graph_report.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "zoo.h"

/* Appends to a fixed buffer, silently truncating: the brief is for reading, not parsing. */
typedef struct sn__buf {
    char *p;
    size_t size, used;
} sn__buf;

static void sn__put(sn__buf *b, const char *fmt, ...) SN_PRINTF(2, 3);
static void sn__put(sn__buf *b, const char *fmt, ...) {
    if (b->used + 1 >= b->size) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->used, b->size - b->used, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    b->used += (size_t)n < b->size - b->used ? (size_t)n : b->size - b->used - 1;
}

/* A string from the file, with anything but printable ASCII shown as '?'. */
static void sn__put_safe(sn__buf *b, const char *s, int max) {
    for (int i = 0; s[i] && i < max && b->used + 1 < b->size; i++) {
        unsigned char c = (unsigned char)s[i];
        b->p[b->used++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
        b->p[b->used] = '\0';
    }
}

static bool sn__all(const int64_t *v, int n, int64_t x) {
    for (int i = 0; i < n; i++)
        if (v[i] != x) return false;
    return true;
}

static void sn__put_ints(sn__buf *b, const int64_t *v, int n, const char *sep) {
    for (int i = 0; i < n; i++) sn__put(b, "%s%lld", i ? sep : "", (long long)v[i]);
}

/* "s2" when both spatial values agree, else "s2x1". */
static void sn__put_pair(sn__buf *b, const char *tag, const int64_t *v, int n) {
    sn__put(b, " %s", tag);
    if (n == 2 && v[0] == v[1])
        sn__put(b, "%lld", (long long)v[0]);
    else
        sn__put_ints(b, v, n, "x");
}

static void sn__put_activation(sn__buf *b, const sn_node *n) {
    int64_t act = sn_node_attr_int(n, "activation", SN_ACT_NONE);
    if (act == SN_ACT_NONE) return;
    float alpha = sn_node_attr_float(n, "act_alpha", 0.0f),
          beta = sn_node_attr_float(n, "act_beta", 0.0f);
    if (act == SN_ACT_CLIP && alpha == 0.0f && beta == 6.0f)
        sn__put(b, " act=relu6");
    else if (act == SN_ACT_CLIP || act == SN_ACT_HARD_SIGMOID)
        sn__put(b, " act=%s(%g,%g)", sn_activation_name((sn_activation)act), alpha, beta);
    else if (act == SN_ACT_LEAKY_RELU)
        sn__put(b, " act=%s(%g)", sn_activation_name((sn_activation)act), alpha);
    else
        sn__put(b, " act=%s", sn_activation_name((sn_activation)act));
}

static bool sn__is_brief_attr(const char *name) {
    static const char *const known[] = {"kernel_shape", "strides",   "pads",
                                        "dilations",    "group",     "activation",
                                        "act_alpha",    "act_beta",  "layout"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(name, known[i])) return true;
    return false;
}

/* Attributes at their usual value say nothing in a brief. */
static bool sn__is_default(const sn_node *n, const sn_attr *a) {
    if (n->op == SN_OP_BATCHNORM && !strcmp(a->name, "epsilon"))
        return a->type == SN_ATTR_FLOAT && a->v.f == 1e-5f;
    if (n->op == SN_OP_FLATTEN && !strcmp(a->name, "axis"))
        return a->type == SN_ATTR_INT && a->v.i == 1;
    return false;
}

void sn_report_node_attrs(const sn_graph *g, const sn_node *n, const sn_shape *shapes, char *buf,
                          size_t size) {
    sn__buf b = {buf, size, 0};
    if (!size) return;
    buf[0] = '\0';
    int cnt;
    const bool nhwc = sn_node_attr_int(n, "layout", SN_LAYOUT_NCHW) == SN_LAYOUT_NHWC;
    const int64_t *v = sn_node_attr_ints(n, "kernel_shape", &cnt);
    if (nhwc) sn__put(&b, " nhwc");
    if (v) {
        sn__put(&b, " k");
        sn__put_ints(&b, v, cnt, "x");
    } else if ((n->op == SN_OP_CONV || n->op == SN_OP_FUSED_CONV) && n->n_inputs > 1 &&
               n->inputs[1] >= 0 && n->inputs[1] < g->n_tensors && shapes[n->inputs[1]].rank == 4) {
        const int k0 = nhwc ? 1 : 2; /* OHWI or OIHW */
        sn__put(&b, " k%lldx%lld", (long long)shapes[n->inputs[1]].d[k0],
                (long long)shapes[n->inputs[1]].d[k0 + 1]);
    }
    if ((v = sn_node_attr_ints(n, "strides", &cnt)) && !sn__all(v, cnt, 1))
        sn__put_pair(&b, "s", v, cnt);
    if ((v = sn_node_attr_ints(n, "pads", &cnt)) && !sn__all(v, cnt, 0)) {
        sn__put(&b, " p");
        sn__put_ints(&b, v, cnt, ",");
    }
    if ((v = sn_node_attr_ints(n, "dilations", &cnt)) && !sn__all(v, cnt, 1))
        sn__put_pair(&b, "d", v, cnt);
    int64_t group = sn_node_attr_int(n, "group", 1);
    if (group != 1) sn__put(&b, " g%lld", (long long)group);
    sn__put_activation(&b, n);
    for (int i = 0; i < n->n_attrs; i++) {
        const sn_attr *a = &n->attrs[i];
        if (sn__is_brief_attr(a->name) || sn__is_default(n, a)) continue;
        sn__put(&b, " ");
        sn__put_safe(&b, a->name, 64);
        sn__put(&b, "=");
        switch (a->type) {
        case SN_ATTR_INT: sn__put(&b, "%lld", (long long)a->v.i); break;
        case SN_ATTR_FLOAT: sn__put(&b, "%g", a->v.f); break;
        case SN_ATTR_INTS: sn__put_ints(&b, a->v.ints, a->n < 16 ? a->n : 16, ","); break;
        case SN_ATTR_FLOATS:
            for (int k = 0; k < a->n && k < 16; k++)
                sn__put(&b, "%s%g", k ? "," : "", a->v.floats[k]);
            break;
        case SN_ATTR_STRING:
            sn__put(&b, "\"");
            sn__put_safe(&b, a->v.s, 64);
            sn__put(&b, "\"");
            break;
        default: sn__put(&b, "?"); break;
        }
    }
    /* Every part above starts with a space; drop the first. */
    if (buf[0] == ' ') memmove(buf, buf + 1, strlen(buf));
}

static sn_value sn__value(const sn_graph *g, const sn_graph_report *r, int t) {
    sn_value v;
    memset(&v, 0, sizeof v);
    if (t < 0 || t >= g->n_tensors) return v;
    v.present = true;
    v.dtype = r->dtypes[t];
    v.rank = r->shapes[t].rank;
    for (int i = 0; i < v.rank && i < SN_MAX_RANK; i++) v.d[i] = r->shapes[t].d[i];
    if (g->tensors[t].flags & SN_TENSOR_CONST) v.data = (void *)g->tensors[t].data;
    return v;
}

static double sn__node_flops(const sn_graph *g, const sn_graph_report *r, const sn_node *n) {
    const sn_op_def *def = sn_op_get(n->op);
    sn_value stack_in[8], stack_out[4];
    sn_value *in = stack_in, *out = stack_out;
    double f = 0;
    if (n->n_inputs > 8) in = calloc((size_t)n->n_inputs, sizeof *in);
    if (n->n_outputs > 4) out = calloc((size_t)n->n_outputs, sizeof *out);
    if (!in || !out) goto done; /* a report without this node's FLOPs beats no report */
    for (int i = 0; i < n->n_inputs; i++) in[i] = sn__value(g, r, n->inputs[i]);
    for (int i = 0; i < n->n_outputs; i++) out[i] = sn__value(g, r, n->outputs[i]);
    if (def && def->flops)
        f = def->flops(n, in, out);
    else
        for (int i = 0; i < n->n_outputs; i++)
            if (out[i].present) f += (double)sn_value_numel(&out[i]);
done:
    if (in != stack_in) free(in);
    if (out != stack_out) free(out);
    return f;
}

sn_status sn_graph_report_build(const sn_graph *g, sn_graph_report *r, sn_error *err) {
    memset(r, 0, sizeof *r);
    int *order = NULL, count = 0;
    size_t nt = g->n_tensors > 0 ? (size_t)g->n_tensors : 1;
    sn_status st = SN_OK;
    r->shapes = calloc(nt, sizeof *r->shapes);
    r->dtypes = calloc(nt, sizeof *r->dtypes);
    if (!r->shapes || !r->dtypes) {
        st = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "report: no memory for %d tensors", g->n_tensors);
        goto fail;
    }
    st = sn_graph_infer_concrete(g, 1, r->shapes, r->dtypes, err);
    if (st == SN_OK) st = sn_graph_topo_order(g, &order, &count, err);
    if (st != SN_OK) goto fail;
    r->rows = calloc(count > 0 ? (size_t)count : 1, sizeof *r->rows);
    if (!r->rows) {
        st = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "report: no memory for %d nodes", count);
        goto fail;
    }
    r->n_rows = count;
    for (int i = 0; i < count; i++) {
        const sn_node *n = &g->nodes[order[i]];
        sn_report_row *row = &r->rows[i];
        row->node = order[i];
        row->flops = sn__node_flops(g, r, n);
        sn_report_node_attrs(g, n, r->shapes, row->attrs, sizeof row->attrs);
        if ((int)n->op >= 0 && n->op < SN_OP_COUNT) r->op_counts[n->op]++;
        r->flops += row->flops;
    }
    for (int t = 0; t < g->n_tensors; t++)
        if (g->tensors[t].flags & SN_TENSOR_CONST) r->weight_bytes += g->tensors[t].nbytes;
    r->params = sn_zoo_param_count(g, &r->bn_stats);
    free(order);
    return SN_OK;
fail:
    free(order);
    sn_graph_report_free(r);
    return st;
}

void sn_graph_report_free(sn_graph_report *r) {
    if (!r) return;
    free(r->rows);
    free(r->shapes);
    free(r->dtypes);
    memset(r, 0, sizeof *r);
}

const char *sn_report_grouped(uint64_t v, char *buf, size_t size) {
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v), j = 0;
    if (!size) return buf;
    for (int i = 0; i < n && (size_t)j + 2 < size; i++) {
        if (i && (n - i) % 3 == 0) buf[j++] = ',';
        buf[j++] = digits[i];
    }
    buf[j] = '\0';
    return buf;
}

const char *sn_report_si(double v, char *buf, size_t size) {
    static const char *const unit[] = {"", "K", "M", "G", "T", "P"};
    int u = 0;
    while (v >= 1000.0 && u < 5) {
        v /= 1000.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, size, "%.0f", v);
    else
        snprintf(buf, size, "%.*f%s", v < 10 ? 2 : 1, v, unit[u]);
    return buf;
}
