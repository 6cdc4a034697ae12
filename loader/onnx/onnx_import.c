/*
 * onnx_import.c - the ONNX importer's entry points and driver: decode the ModelProto with
 * protobuf-c (after the nesting guard), check the IR version and opsets, define initializers and
 * graph inputs, convert the nodes in order through the op table, define the outputs, then either
 * refuse the model with the complete list of unsupported nodes or validate and shape-infer the
 * finished graph and take over its metadata (onnx_meta.c).
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"
#include "onnx_report.h"
#include "sgraph.h"

/* A set of the names some node or graph output reads: an output nobody reads may be left
 * uncomputed (Dropout's mask, BatchNormalization's running statistics). */
typedef struct sn__nameset {
    const char **slot;
    size_t cap;
} sn__nameset;

static uint64_t sn__h(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static bool sn__nameset_build(sn__nameset *s, const Onnx__GraphProto *gp) {
    size_t n = gp->n_output + 1;
    for (size_t i = 0; i < gp->n_node; i++) n += gp->node[i]->n_input;
    s->cap = 16;
    while (s->cap < 2 * n) s->cap *= 2;
    if (!(s->slot = calloc(s->cap, sizeof *s->slot))) return false;
    for (size_t i = 0; i <= gp->n_node; i++) {
        size_t cnt = i < gp->n_node ? gp->node[i]->n_input : gp->n_output;
        for (size_t k = 0; k < cnt; k++) {
            const char *name = i < gp->n_node ? gp->node[i]->input[k]
                               : gp->output[k] ? gp->output[k]->name : NULL;
            if (!name || !*name) continue;
            size_t h = sn__h(name) & (s->cap - 1);
            while (s->slot[h] && strcmp(s->slot[h], name)) h = (h + 1) & (s->cap - 1);
            s->slot[h] = name;
        }
    }
    return true;
}

static bool sn__nameset_has(const sn__nameset *s, const char *name) {
    for (size_t h = sn__h(name) & (s->cap - 1); s->slot[h]; h = (h + 1) & (s->cap - 1))
        if (!strcmp(s->slot[h], name)) return true;
    return false;
}

static int64_t sn__domain_opset(const Onnx__ModelProto *m, const char *domain) {
    bool dflt = !domain || !*domain || !strcmp(domain, "ai.onnx");
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = m->opset_import[i];
        const char *d = o && o->domain ? o->domain : "";
        bool odflt = !*d || !strcmp(d, "ai.onnx");
        if (o && (dflt ? odflt : !strcmp(d, domain))) return o->has_version ? o->version : 0;
    }
    return 0;
}

/* Define every named output of the current node that the handler did not as unusable. */
static sn_status sn__poison_outputs(sn__ox_ctx *c) {
    for (size_t k = 0; k < c->node->n_output; k++) {
        const char *o = c->node->output[k];
        if (!o || !*o || sn__ox_find(c, o)) continue;
        sn__ox_value *v;
        sn_status st = sn__ox_define(c, o, &v);
        if (st != SN_OK) return st;
        v->poisoned = true;
    }
    return SN_OK;
}

static sn_status sn__record(sn__ox_ctx *c, const Onnx__ModelProto *m, const char *reason) {
    if (sn__ox_report_add(c->rep, c->node, c->node_index, sn__domain_opset(m, c->node->domain),
                          reason) != SN_OK)
        return sn_errorf(c->err, SN_ERR_OUT_OF_MEMORY, "ONNX import: out of memory");
    return sn__poison_outputs(c);
}

/* Convert one node: SN_OK (converted, folded, or recorded as unsupported) or a hard error. */
static sn_status sn__convert_node(sn__ox_ctx *c, const Onnx__ModelProto *m, const sn__nameset *used) {
    const Onnx__NodeProto *n = c->node;
    if (!n->op_type || !*n->op_type)
        return sn__ox_fail(c, SN_ERR_FORMAT, "the node has no op_type");
    bool poisoned = false, all_const = true;
    for (size_t k = 0; k < n->n_input; k++) {
        const char *name = n->input[k];
        if (!name || !*name) continue;
        sn__ox_value *v = sn__ox_find(c, name);
        if (!v)
            return sn__ox_fail(c, SN_ERR_FORMAT, "input %zu '%s' is not a graph input, an "
                               "initializer or the output of an earlier node", k, name);
        poisoned |= v->poisoned;
        all_const &= v->c != NULL;
    }
    for (size_t k = 0; k < n->n_output; k++)
        if (n->output[k] && *n->output[k] && sn__ox_find(c, n->output[k]))
            return sn__ox_fail(c, SN_ERR_FORMAT, "output '%s' is already defined", n->output[k]);
    /* An op Sentinel lacks is listed even below another unsupported node, so the report is
     * the complete list; a supported op that only depends on an unsupported one is not. */
    const char *dom = n->domain ? n->domain : "";
    if (*dom && strcmp(dom, "ai.onnx"))
        return sn__record(c, m, "ops of this domain are not supported (only the default ONNX domain)");
    const sn__ox_op *op = sn__ox_op_find(n->op_type);
    if (!op) return sn__record(c, m, "no such op in Sentinel");
    if (poisoned) return sn__poison_outputs(c);
    c->why[0] = 0;
    sn_status st = SN_ERR_NOT_FOUND;
    if (all_const && op->host) {
        st = op->host(c);
        if (st == SN_OK) c->rep->folded_nodes++;
    } else if (op->graph && op->graph == op->host) { /* Shape, Size: known from shapes */
        st = op->graph(c);
        if (st == SN_OK) c->rep->folded_nodes++;
    }
    if (st == SN_ERR_NOT_FOUND) {
        if (op->graph)
            st = op->graph(c);
        else
            st = sn__ox_unsupported(c, "Sentinel evaluates %s only at import time, on constant "
                                       "inputs, and some input here is computed at run time",
                                    n->op_type);
    }
    if (st == SN_ERR_UNSUPPORTED) {
        /* The reason: what sn__ox_unsupported said, or the Sentinel op's own message. */
        return sn__record(c, m, c->why[0] ? c->why : c->err ? c->err->message : "unsupported");
    }
    if (st != SN_OK) return st;
    for (size_t k = 0; k < n->n_output; k++) {
        const char *o = n->output[k];
        if (!o || !*o || sn__ox_find(c, o)) continue;
        if (sn__nameset_has(used, o)) {
            char why[600];
            snprintf(why, sizeof why, "output %zu ('%.400s') is used, but Sentinel computes only "
                     "the node's main output", k, o);
            return sn__record(c, m, why);
        }
    }
    return sn__poison_outputs(c);
}

static sn_status sn__import_graph(sn__ox_ctx *c, const Onnx__ModelProto *m) {
    const Onnx__GraphProto *gp = m->graph;
    sn_status st;
    if (gp->n_sparse_initializer)
        return sn_errorf(c->err, SN_ERR_UNSUPPORTED, "ONNX graph: sparse initializers are not "
                         "supported");
    for (size_t i = 0; i < gp->n_initializer; i++) {
        const Onnx__TensorProto *t = gp->initializer[i];
        const char *name = t && t->name ? t->name : "";
        sn__ox_value *v;
        sn__ox_const *k;
        if ((st = sn__ox_tensor_decode(c, t, name, &k)) != SN_OK) return st;
        if ((st = sn__ox_define(c, name, &v)) != SN_OK) return st;
        v->c = k;
    }
    c->rep->initializers = (int)gp->n_initializer;
    if ((st = sn__ox_graph_inputs(c, gp)) != SN_OK) return st;
    sn__nameset used = {0};
    if (!sn__nameset_build(&used, gp))
        return sn_errorf(c->err, SN_ERR_OUT_OF_MEMORY, "ONNX import: out of memory");
    for (size_t i = 0; i < gp->n_node && st == SN_OK; i++) {
        c->node = gp->node[i];
        c->node_index = (int)i;
        st = sn__convert_node(c, m, &used);
    }
    free(used.slot);
    c->node = NULL;
    c->node_index = -1;
    if (st != SN_OK) return st;
    return sn__ox_graph_outputs(c, gp);
}

static sn_status sn__import_model(const Onnx__ModelProto *m, const char *base_dir, sn_graph **out,
                                  sn_onnx_report *rep, sn_error *err) {
    if (!m->has_ir_version || m->ir_version < 3)
        return sn_errorf(err, SN_ERR_FORMAT, "not an ONNX model: %s",
                         m->has_ir_version ? "IR version below 3" : "no IR version");
    if (!m->graph) return sn_errorf(err, SN_ERR_FORMAT, "not an ONNX model: it has no graph");
    rep->ir_version = m->ir_version;
    rep->opset = sn__domain_opset(m, "");
    rep->onnx_nodes = (int)m->graph->n_node;
    if (rep->opset == 0)
        return sn_errorf(err, SN_ERR_FORMAT, "ONNX model: it imports no version of the default "
                         "operator set");
    if (rep->opset < SN__OX_MIN_OPSET || rep->opset > SN__OX_MAX_OPSET)
        return sn_errorf(err, SN_ERR_VERSION, "ONNX model: opset %lld; Sentinel imports opsets %d "
                         "to %d (onnx.version_converter can convert the model)",
                         (long long)rep->opset, SN__OX_MIN_OPSET, SN__OX_MAX_OPSET);
    sn_graph *g = NULL;
    sn__ox_ctx c;
    sn_status st = sn_graph_create(&g);
    if (st != SN_OK) return sn_errorf(err, st, "ONNX import: cannot create a graph");
    if ((st = sn__ox_ctx_init(&c, g, rep, err)) != SN_OK) goto fail;
    c.opset = rep->opset;
    c.base_dir = base_dir;
    st = sn__import_graph(&c, m);
    if (st == SN_OK && rep->n_unsupported) st = sn__ox_report_error(rep, err);
    if (st == SN_OK) st = sn_graph_validate(g, err);
    if (st == SN_OK) st = sn_graph_infer_shapes(g, err);
    if (st == SN_OK) st = sn__ox_import_metadata(m, g, rep, err);
    if (st == SN_OK) {
        char buf[64];
        snprintf(buf, sizeof buf, "%lld", (long long)rep->opset);
        st = sn_graph_set_prop(g, "source", "onnx");
        if (st == SN_OK) st = sn_graph_set_prop(g, "onnx.opset", buf);
        if (st == SN_OK && m->producer_name && *m->producer_name) {
            char p[256];
            snprintf(p, sizeof p, "%.120s %.120s", m->producer_name,
                     m->producer_version ? m->producer_version : "");
            st = sn_graph_set_prop(g, "onnx.producer", p);
        }
        if (st != SN_OK) sn_errorf(err, st, "ONNX import: cannot set metadata");
    }
    sn__ox_ctx_free(&c);
    if (st != SN_OK) goto fail;
    *out = g;
    return SN_OK;
fail:
    sn_graph_destroy(g);
    return st;
}

sn_status sn_onnx_import_memory(const void *data, size_t size, const sn_onnx_options *opt,
                                sn_graph **out, sn_onnx_report *report, sn_error *err) {
    sn_onnx_report local;
    sn_onnx_report *rep = report ? report : &local;
    sn_error local_err; /* handlers read back the status of what they report */
    if (!err) err = &local_err;
    memset(rep, 0, sizeof *rep);
    if (out) *out = NULL;
    if (!data || !out || size == 0)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "sn_onnx_import_memory: %s",
                         !out ? "NULL out" : !data ? "NULL data" : "no bytes");
    if (opt && opt->size < sizeof(size_t))
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "sn_onnx_import_memory: bad options size");
    const char *base = opt && opt->size >= sizeof *opt ? opt->base_dir : NULL;
    sn_status st = sn__ox_check_nesting(data, size, err);
    if (st != SN_OK) return st;
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, size, data);
    if (!m)
        return sn_errorf(err, SN_ERR_FORMAT, "not a valid ONNX model: the protobuf cannot be "
                         "decoded as a ModelProto (truncated or corrupt)");
    st = sn__import_model(m, base, out, rep, err);
    onnx__model_proto__free_unpacked(m, NULL);
    if (rep == &local) sn_onnx_report_free(&local);
    return st;
}

sn_status sn_onnx_import_file(const char *path, const sn_onnx_options *opt, sn_graph **out,
                              sn_onnx_report *report, sn_error *err) {
    if (out) *out = NULL;
    if (report) memset(report, 0, sizeof *report); /* also when the file cannot be read */
    if (!path || !out)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "sn_onnx_import_file: NULL %s",
                         !path ? "path" : "out");
    sn_onnx_options o = SN_ONNX_OPTIONS_INIT;
    if (opt && opt->size >= sizeof o) o = *opt;
    char *dir = NULL;
    if (!o.base_dir) {
        char *copy = strdup(path);
        dir = copy ? strdup(dirname(copy)) : NULL;
        free(copy);
        if (!dir) return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory");
        o.base_dir = dir;
    }
    sn_file_map map = {0};
    sn_status st = sn_file_map_open(path, &map, err);
    if (st == SN_OK) {
        st = sn_onnx_import_memory(map.data, map.size, &o, out, report, err);
        sn_file_map_close(&map);
    }
    if (st != SN_OK && err && !strstr(err->message, path)) sn_error_prefix(err, "%s", path);
    free(dir);
    return st;
}

int sn_onnx_sniff(const void *data, size_t size) {
    /* ModelProto's fields: ir_version (1, varint) comes first in every exporter's output;
     * opset_import (8), producer_name (2), graph (7)... as length-delimited fields otherwise. */
    const uint8_t *p = data;
    if (!p || size < 2) return 0;
    if (p[0] == 0x08) return 1;
    return p[0] == 0x12 || p[0] == 0x1a || p[0] == 0x22 || p[0] == 0x28 || p[0] == 0x32 ||
           p[0] == 0x3a || p[0] == 0x42;
}
