/*
 * export_file.c - writing an exported model: atomically, as the .sgraph writer does
 * (loader/file_atomic.h), so `path` is either the old file or the whole new one.
 */
#include "export.h"
#include "file_atomic.h"

typedef struct sn__bytes {
    const void *data;
    size_t size;
} sn__bytes;

static int sn__emit_bytes(int fd, void *ctx) {
    const sn__bytes *b = ctx;
    return sn__file_write_all(fd, b->data, b->size);
}

sn_status sn_export_write_file(const char *path, const void *data, size_t size, sn_error *err) {
    if (!path || !*path || (!data && size))
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "sn_export_write_file: NULL path or data");
    sn__bytes b = {data, size};
    return sn__file_write_atomic(path, sn__emit_bytes, &b, err);
}
