/*
 * sgraph_writer.h - the writer's plan, shared by sgraph_write.c (which lays the file out) and
 * sgraph_write_out.c (which emits it to memory or atomically to a file). Private to the loader.
 *
 * Everything before the weights section (header, directory, tables, padding) is built in one
 * small buffer; the weights are referenced where they live in the graph and streamed, so writing
 * a file never holds a second copy of them.
 */
#ifndef SN_SGRAPH_WRITER_H
#define SN_SGRAPH_WRITER_H

#include <stdint.h>

#include "graph.h"

typedef struct sn__sg_weight {
    const void *data;
    uint64_t off, size; /* absolute file offset, 64-byte aligned */
} sn__sg_weight;

typedef struct sn__sg_plan {
    uint8_t *head;    /* bytes [0, w_off): header, directory, tables, zero padding */
    uint64_t w_off;   /* start of the weights section */
    uint64_t size;    /* whole file */
    sn__sg_weight *w; /* in file order */
    uint32_t n_w;
} sn__sg_plan;

/* Lay out g (which must validate) with every checksum filled in. */
sn_status sn__sg_plan_build(const sn_graph *g, sn__sg_plan *plan, sn_error *err);
void sn__sg_plan_free(sn__sg_plan *plan);

#endif
