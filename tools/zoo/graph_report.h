/*
 * graph_report.h - what `sentinel-inspect` shows about a graph, computed apart from how it is
 * printed: nodes in topological order with their shapes at batch 1, a brief attribute string
 * and FLOPs, and totals (nodes by op, parameters, weight bytes, FLOPs per image).
 *
 * FLOPs come from each op definition's flops() with concrete batch-1 shapes (a multiply-add
 * counts 2); an op without one counts its output elements. Keeping this apart from the printer
 * lets a tool report a graph before and after optimisation passes, and lets tests check the
 * numbers directly.
 */
#ifndef SN_GRAPH_REPORT_H
#define SN_GRAPH_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "graph.h"

#define SN_REPORT_ATTRS_SIZE 192

typedef struct sn_report_row {
    int node;                         /* index into g->nodes */
    double flops;                     /* per image */
    char attrs[SN_REPORT_ATTRS_SIZE]; /* e.g. "k3x3 s2 p1,1,1,1 g32 act=relu6" */
} sn_report_row;

typedef struct sn_graph_report {
    int n_rows; /* live nodes, in topological order */
    sn_report_row *rows;
    sn_shape *shapes; /* g->n_tensors concrete shapes at batch 1 */
    sn_dtype *dtypes;
    int op_counts[SN_OP_COUNT];
    int64_t params;        /* as torchvision counts them (sn_zoo_param_count) */
    int64_t bn_stats;      /* BatchNormalization running mean/var elements */
    uint64_t weight_bytes; /* bytes of all constant tensors */
    double flops;          /* per image */
} sn_graph_report;

/* Fill r for a graph that has passed sn_graph_infer_shapes. Free with sn_graph_report_free. */
sn_status sn_graph_report_build(const sn_graph *g, sn_graph_report *r, sn_error *err);
void sn_graph_report_free(sn_graph_report *r);

/* Brief attribute string of one node (kernel from the weight shape for convs, defaults left
 * out): "k7x7 s2 p3,3,3,3", "k3x3 p1,1,1,1 g32 act=relu6", "min=0 max=6", "transB=1". Strings
 * from the graph are written with non-printable bytes as '?'. */
void sn_report_node_attrs(const sn_graph *g, const sn_node *n, const sn_shape *shapes, char *buf,
                          size_t size);

/* "12,345,678" */
const char *sn_report_grouped(uint64_t v, char *buf, size_t size);
/* "236.0M", "8.21G" */
const char *sn_report_si(double v, char *buf, size_t size);

#endif
