/*
 * sgraph.h - reading and writing .sgraph model files (format: docs/sgraph.md).
 *
 * The reader validates every count, offset, size, dtype, shape and reference against the bytes
 * that remain before it allocates or follows anything, so a hostile file gets an SN_ERR_FORMAT
 * (or SN_ERR_VERSION) naming the byte offset and the problem - never a crash, hang or huge
 * allocation. Weights are not copied: constant tensors point into the caller's bytes, which must
 * outlive the graph (the model keeps its mmap).
 */
#ifndef SN_SGRAPH_H
#define SN_SGRAPH_H

#include <stddef.h>

#include "graph.h"

/* Parse and validate a whole file image. On success *out is a new graph whose constants borrow
 * from `data`; it has passed sn_graph_validate and sn_graph_infer_shapes. */
sn_status sn_sgraph_read(const void *data, size_t size, sn_graph **out, sn_error *err);

/* Serialise a graph. The graph must validate. write_memory returns a malloc'ed buffer (caller
 * frees). write_file writes to a temporary file beside `path`, fsyncs and renames it into place,
 * so a failure never leaves a partial file at `path`. */
sn_status sn_sgraph_write_memory(const sn_graph *g, void **data, size_t *size, sn_error *err);
sn_status sn_sgraph_write_file(const sn_graph *g, const char *path, sn_error *err);

/* Read-only mapping of a whole file (mmap; empty files and non-regular files are rejected). */
typedef struct sn_file_map {
    void *data;
    size_t size;
} sn_file_map;
sn_status sn_file_map_open(const char *path, sn_file_map *map, sn_error *err);
void sn_file_map_close(sn_file_map *map);

#endif
