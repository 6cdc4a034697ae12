/*
 * file_atomic.h - writing a file so that a failure never leaves a partial one: the bytes go to
 * `<path>.tmp.XXXXXX` in the same directory, which is fsync'ed and renamed over `path` (atomic
 * within a file system), then the directory is fsync'ed so the new name survives a crash. Any
 * failure removes the temporary file: `path` is either the old file or the whole new one.
 * Shared by the .sgraph writer and the exporters.
 */
#ifndef SN_FILE_ATOMIC_H
#define SN_FILE_ATOMIC_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Writes the content through fd; 0 on success, -1 with errno set on failure. */
typedef int (*sn__file_emit_fn)(int fd, void *ctx);

/* All n bytes at p to fd (retrying short writes and EINTR); 0, or -1 with errno set. */
int sn__file_write_all(int fd, const void *p, uint64_t n);

/* Replace `path` atomically with what emit(fd, ctx) writes. The new file keeps an existing
 * file's permissions, else gets 0644. SN_ERR_IO names the step that failed. */
sn_status sn__file_write_atomic(const char *path, sn__file_emit_fn emit, void *ctx,
                                sn_error *err);

#endif
