/*
 * file_atomic.c - the atomic file write (protocol in file_atomic.h).
 */
#include "file_atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sn__file_write_all(int fd, const void *p, uint64_t n) {
    const unsigned char *b = p;
    while (n) {
        size_t chunk = n > (1u << 30) ? (1u << 30) : (size_t)n;
        ssize_t w = write(fd, b, chunk);
        if (w < 0 && errno == EINTR) continue;
        if (w == 0) errno = EIO;
        if (w <= 0) return -1;
        b += w;
        n -= (uint64_t)w;
    }
    return 0;
}

/* Best effort: a file system that cannot fsync a directory still has the rename. */
static void sn__file_sync_dir(const char *path) {
    char *copy = strdup(path);
    if (!copy) return;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(copy);
}

sn_status sn__file_write_atomic(const char *path, sn__file_emit_fn emit, void *ctx,
                                sn_error *err) {
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
    /* mkostemp makes the file 0600; a model is meant to be read by others, like other outputs,
     * and a replaced file keeps its mode. */
    struct stat st;
    mode_t mode = stat(path, &st) == 0 && S_ISREG(st.st_mode) ? st.st_mode & 07777 : 0644;
    const char *step = NULL;
    if (fchmod(fd, mode) != 0)
        step = "chmod";
    else if (emit(fd, ctx) != 0)
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
    sn_status s = SN_OK;
    if (step) {
        s = sn_errorf(err, SN_ERR_IO, "writing '%s' (%s of %s): %s", path, step, tmp, strerror(e));
        unlink(tmp);
    }
    free(tmp);
    if (s == SN_OK) sn__file_sync_dir(path);
    return s;
}
