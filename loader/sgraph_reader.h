/*
 * sgraph_reader.h - state shared by the reader's files (private to the loader):
 * sgraph_read.c (header, directory, checksums, the final shape check), sgraph_read_tables.c
 * (strings, graph inputs/outputs, tensors, weights), sgraph_read_nodes.c and sgraph_read_meta.c.
 * The writer uses sn__sg_preprocess_problem and sn__sg_find_duplicate too.
 *
 * Every `off`/`rec` below is an absolute byte offset into the file image, so each message can
 * name the exact field at fault.
 */
#ifndef SN_SGRAPH_READER_H
#define SN_SGRAPH_READER_H

#include <stdint.h>

#include "error.h"
#include "graph.h"
#include "sgraph_format.h"

/* A tensor record after validation. */
typedef struct sn__sg_tensor {
    const char *name; /* points into the string table */
    uint64_t rec;     /* offset of its record */
    sn_dtype dtype;
    sn_layout layout;
    int rank;
    unsigned flags; /* SN_SG_TF_* */
    int64_t d[SN_MAX_RANK];
    uint64_t data_off, data_size;
} sn__sg_tensor;

/* Per-tensor roles, filled as the sections are read. */
#define SN__SG_ROLE_INPUT 0x1u
#define SN__SG_ROLE_OUTPUT 0x2u
#define SN__SG_ROLE_PRODUCED 0x4u

typedef struct sn__sg_reader {
    const uint8_t *p;
    uint64_t size;
    sn_error *err; /* never NULL: the reader fills its own record and copies it out */
    uint64_t off[SN_SG_SECT_KNOWN_MAX + 1], len[SN_SG_SECT_KNOWN_MAX + 1]; /* by kind */
    uint32_t n_tensors;
    sn__sg_tensor *t;
    uint8_t *role;
    uint32_t n_inputs, n_outputs;
    sn_graph *g;
} sn__sg_reader;

/* Record "offset 0x<off>: <message>" with status s; returns s. */
sn_status sn__sg_fail(sn__sg_reader *rd, sn_status s, uint64_t off, const char *fmt, ...)
    SN_PRINTF(4, 5);

/* Read the u32 string ref stored at `at`; on success *out points at a NUL-terminated string in
 * the string table. what names the field for the message ("tensor 3 name"). */
sn_status sn__sg_string(sn__sg_reader *rd, uint64_t at, const char *what, const char **out);

/* A printable, bounded copy of a name from the file for messages (non-printing bytes become
 * '?', long names are cut with "..."). */
#define SN__SG_QUOTE_SIZE 64
const char *sn__sg_quote(const char *s, char buf[SN__SG_QUOTE_SIZE]);

/* Sections, in the order sn_sgraph_read calls them. */
sn_status sn__sg_read_strings(sn__sg_reader *rd);
sn_status sn__sg_read_graph_io(sn__sg_reader *rd); /* needs the tensor count */
sn_status sn__sg_read_tensors(sn__sg_reader *rd);  /* records, names, weight ranges */
sn_status sn__sg_add_tensors(sn__sg_reader *rd);   /* tensors and inputs into rd->g */
sn_status sn__sg_read_nodes(sn__sg_reader *rd);    /* validates and adds each node */
sn_status sn__sg_add_outputs(sn__sg_reader *rd);   /* outputs produced; no orphans */
sn_status sn__sg_read_metadata(sn__sg_reader *rd);

/* The rules on preprocessing metadata, shared with the writer so it never writes a file the
 * reader rejects: NULL when acceptable, else what is wrong. */
const char *sn__sg_preprocess_problem(const sn_preprocess *pp);

/* Sort-based duplicate finder over n strings (worst case O(total length * log n), so hostile
 * names cannot make it quadratic). Returns 0 and sets *a < *b to the positions of a duplicate
 * pair, 1 when all are distinct, -1 when out of memory. */
int sn__sg_find_duplicate(const char *const *names, uint32_t n, uint32_t *a, uint32_t *b);

#endif
