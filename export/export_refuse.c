/*
 * export_refuse.c - how an exporter refuses a node it cannot write: SN_ERR_UNSUPPORTED with
 * "node 'NAME' (Op): reason", NAME being the node's name or, for an unnamed node, its output's.
 */
#include <stdio.h>

#include "export_util.h"

const char *sn__export_node_name(const sn_graph *g, int ni) {
    const sn_node *n = &g->nodes[ni];
    return n->name[0] ? n->name : g->tensors[n->outputs[0]].name;
}

sn_status sn__export_refusev(const sn_graph *g, int ni, sn_error *err, const char *fmt,
                             va_list ap) {
    char why[700];
    vsnprintf(why, sizeof why, fmt, ap);
    return sn_errorf(err, SN_ERR_UNSUPPORTED, "node '%s' (%s): %s", sn__export_node_name(g, ni),
                     sn_op_name(g->nodes[ni].op), why);
}

sn_status sn__export_refuse(const sn_graph *g, int ni, sn_error *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sn_status s = sn__export_refusev(g, ni, err, fmt, ap);
    va_end(ap);
    return s;
}
