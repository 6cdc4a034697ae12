/*
 * onnx_report.c - the import report: every node Sentinel cannot convert (op, domain, node name,
 * opset, reason), and the one-message summary of that list an sn_error can hold. The full list
 * stays in the report, which sentinel-convert prints whole. Also the warnings: metadata the
 * import left out (onnx_meta.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_report.h"

void sn_onnx_report_free(sn_onnx_report *r) {
    if (!r) return;
    for (int i = 0; i < r->n_unsupported; i++) {
        sn_onnx_unsupported *u = &r->unsupported[i];
        free(u->op_type);
        free(u->domain);
        free(u->node_name);
        free(u->reason);
    }
    free(r->unsupported);
    for (int i = 0; i < r->n_warnings; i++) free(r->warnings[i]);
    free(r->warnings);
    memset(r, 0, sizeof *r);
}

sn_status sn__ox_report_warn(sn_onnx_report *r, const char *fmt, ...) {
    char **w = realloc(r->warnings, sizeof *w * ((size_t)r->n_warnings + 1));
    if (!w) return SN_ERR_OUT_OF_MEMORY;
    r->warnings = w;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&w[r->n_warnings], fmt, ap);
    va_end(ap);
    if (n < 0) return SN_ERR_OUT_OF_MEMORY;
    r->n_warnings++;
    return SN_OK;
}

static char *sn__dup(const char *s) { return strdup(s ? s : ""); }

sn_status sn__ox_report_add(sn_onnx_report *r, const Onnx__NodeProto *n, int index,
                            int64_t opset, const char *reason) {
    sn_onnx_unsupported *u = realloc(r->unsupported, sizeof *u * ((size_t)r->n_unsupported + 1));
    if (!u) return SN_ERR_OUT_OF_MEMORY;
    r->unsupported = u;
    u = &u[r->n_unsupported];
    memset(u, 0, sizeof *u);
    u->op_type = sn__dup(n->op_type);
    u->domain = sn__dup(n->domain);
    u->node_name = sn__dup(n->name);
    u->reason = sn__dup(reason);
    u->node_index = index;
    u->opset = opset;
    if (!u->op_type || !u->domain || !u->node_name || !u->reason) {
        free(u->op_type);
        free(u->domain);
        free(u->node_name);
        free(u->reason);
        return SN_ERR_OUT_OF_MEMORY;
    }
    r->n_unsupported++;
    return SN_OK;
}

int sn_onnx_unsupported_format(const sn_onnx_unsupported *u, char *buf, size_t size) {
    char dom[160] = "";
    if (u->domain[0]) snprintf(dom, sizeof dom, " of domain '%.120s'", u->domain);
    if (u->node_name[0])
        return snprintf(buf, size, "%s%s (node '%s', opset %lld): %s", u->op_type, dom,
                        u->node_name, (long long)u->opset, u->reason);
    return snprintf(buf, size, "%s%s (node #%d, unnamed, opset %lld): %s", u->op_type, dom,
                    u->node_index, (long long)u->opset, u->reason);
}

sn_status sn__ox_report_error(const sn_onnx_report *r, sn_error *err) {
    char msg[SN_ERROR_MESSAGE_SIZE];
    size_t pos = 0;
    int w = snprintf(msg, sizeof msg, "the model uses %d node%s Sentinel cannot convert:",
                     r->n_unsupported, r->n_unsupported == 1 ? "" : "s");
    pos = w > 0 ? (size_t)w : 0;
    int shown = 0;
    for (int i = 0; i < r->n_unsupported; i++) {
        char line[512];
        sn_onnx_unsupported_format(&r->unsupported[i], line, sizeof line);
        /* Keep room for the "and N more" tail. */
        if (pos + strlen(line) + 4 >= sizeof msg - 64) break;
        w = snprintf(msg + pos, sizeof msg - pos, "%s %s", i ? ";" : "", line);
        if (w > 0) pos += (size_t)w;
        shown++;
    }
    if (shown < r->n_unsupported)
        snprintf(msg + pos, sizeof msg - pos, "; and %d more (the import report lists all)",
                 r->n_unsupported - shown);
    return sn_errorf(err, SN_ERR_UNSUPPORTED, "%s", msg);
}
