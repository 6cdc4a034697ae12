/*
 * export_file.c - writing an exported model atomically: `<path>.tmp.XXXXXX` in the same
 * directory, fsync'ed, renamed over `path` (atomic within a file system), then the directory
 * fsync'ed so the new name survives a crash. Any failure removes the temporary file, so `path`
 * is either the old file or the whole new one. (The same protocol as the .sgraph writer.)
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export.h"

static int sn__write_all(int fd, const void *p, size_t n) {
    const unsigned char *b = p;
    while (n) {
        size_t chunk = n > (1u << 30) ? (1u << 30) : n;
        ssize_t w = write(fd, b, chunk);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static void sn__sync_dir(const char *path) {
    char *copy = strdup(path);
    if (!copy) return;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd); /* best effort: some file systems cannot sync a directory */
        close(fd);
    }
    free(copy);
}

sn_status sn_export_write_file(const char *path, const void *data, size_t size, sn_error *err) {
    if (!path || !*path || (!data && size))
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "sn_export_write_file: NULL path or data");
    size_t len = strlen(path);
    char *tmp = malloc(len + sizeof ".tmp.XXXXXX");
    if (!tmp) return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory writing '%s'", path);
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        sn_status s = sn_errorf(err, SN_ERR_IO, "cannot create a temporary file beside '%s': %s",
                                path, strerror(errno));
        free(tmp);
        return s;
    }
    /* mkostemp makes the file 0600; keep an existing file's mode, else the usual 0644. */
    struct stat st;
    mode_t mode = stat(path, &st) == 0 && S_ISREG(st.st_mode) ? st.st_mode & 07777 : 0644;
    const char *step = NULL;
    if (fchmod(fd, mode) != 0)
        step = "chmod";
    else if (sn__write_all(fd, data, size) != 0)
        step = "write";
    else if (fsync(fd) != 0)
        step = "fsync";
    int e = errno;
    if (close(fd) != 0 && !step) {
        step = "close";
        e = errno;
    }
    if (!step && rename(tmp, path) != 0) {
        step = "rename";
        e = errno;
    }
    if (step) {
        sn_status s =
            sn_errorf(err, SN_ERR_IO, "writing '%s' (%s of %s): %s", path, step, tmp, strerror(e));
        unlink(tmp);
        free(tmp);
        return s;
    }
    free(tmp);
    sn__sync_dir(path);
    return SN_OK;
}
