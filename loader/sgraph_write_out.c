/*
 * sgraph_write_out.c - emitting a laid-out .sgraph (sgraph_write.c) into memory or into a file.
 *
 * A file is written as `<path>.tmp.XXXXXX` in the same directory, fsync'ed, then renamed over
 * `path` (rename is atomic within a file system), and the directory is fsync'ed so the new name
 * survives a crash. Any failure removes the temporary file: `path` is either the old file or
 * the complete new one, never a partial write.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "sgraph.h"
#include "sgraph_format.h"
#include "sgraph_writer.h"

sn_status sn_sgraph_write_memory(const sn_graph *g, void **data, size_t *size, sn_error *err) {
    if (!g || !data || !size)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "sn_sgraph_write_memory: NULL argument");
    *data = NULL;
    *size = 0;
    sn__sg_plan plan;
    sn_status s = sn__sg_plan_build(g, &plan, err);
    if (s != SN_OK) return s;
    uint8_t *buf = plan.size <= SIZE_MAX ? malloc((size_t)plan.size) : NULL;
    if (!buf) {
        s = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "sgraph write: cannot allocate %llu bytes",
                      (unsigned long long)plan.size);
        goto done;
    }
    memcpy(buf, plan.head, (size_t)plan.w_off);
    uint64_t at = plan.w_off;
    for (uint32_t k = 0; k < plan.n_w; k++) {
        memset(buf + at, 0, (size_t)(plan.w[k].off - at));
        if (plan.w[k].size) memcpy(buf + plan.w[k].off, plan.w[k].data, (size_t)plan.w[k].size);
        at = plan.w[k].off + plan.w[k].size;
    }
    *data = buf;
    *size = (size_t)plan.size;
done:
    sn__sg_plan_free(&plan);
    return s;
}

static int sn__sg_write_all(int fd, const void *p, uint64_t n) {
    const uint8_t *b = p;
    while (n) {
        size_t chunk = n > (1u << 30) ? (1u << 30) : (size_t)n;
        ssize_t w = write(fd, b, chunk);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        b += w;
        n -= (uint64_t)w;
    }
    return 0;
}

static int sn__sg_write_plan(int fd, const sn__sg_plan *plan) {
    static const uint8_t zeros[SN_SG_WEIGHT_ALIGN];
    if (sn__sg_write_all(fd, plan->head, plan->w_off)) return -1;
    uint64_t at = plan->w_off;
    for (uint32_t k = 0; k < plan->n_w; k++) {
        if (sn__sg_write_all(fd, zeros, plan->w[k].off - at) ||
            sn__sg_write_all(fd, plan->w[k].data, plan->w[k].size))
            return -1;
        at = plan->w[k].off + plan->w[k].size;
    }
    return 0;
}

/* Best effort: a file system that cannot fsync a directory still has the rename. */
static void sn__sg_sync_dir(const char *path) {
    char *copy = strdup(path);
    if (!copy) return;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(copy);
}

sn_status sn_sgraph_write_file(const sn_graph *g, const char *path, sn_error *err) {
    if (!g || !path || !*path)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "sn_sgraph_write_file: NULL graph or path");
    sn__sg_plan plan;
    sn_status s = sn__sg_plan_build(g, &plan, err);
    if (s != SN_OK) return s;
    size_t len = strlen(path);
    char *tmp = malloc(len + sizeof ".tmp.XXXXXX");
    int fd = -1;
    if (!tmp) {
        s = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "sgraph write: out of memory");
        goto done;
    }
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        s = sn_errorf(err, SN_ERR_IO, "cannot create a temporary file beside '%s': %s", path,
                      strerror(errno));
        free(tmp);
        tmp = NULL; /* nothing to remove */
        goto done;
    }
    /* mkostemp makes the file 0600; a model is meant to be read by others, like other outputs. */
    struct stat st;
    mode_t mode = stat(path, &st) == 0 && S_ISREG(st.st_mode) ? st.st_mode & 07777 : 0644;
    const char *step;
    if (fchmod(fd, mode) != 0)
        step = "chmod";
    else if (sn__sg_write_plan(fd, &plan) != 0)
        step = "write";
    else if (fsync(fd) != 0)
        step = "fsync";
    else
        step = NULL;
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
        s = sn_errorf(err, SN_ERR_IO, "writing '%s' (%s of %s): %s", path, step, tmp, strerror(e));
        goto done;
    }
    free(tmp);
    tmp = NULL;
    sn__sg_sync_dir(path);
done:
    if (tmp) {
        unlink(tmp);
        free(tmp);
    }
    sn__sg_plan_free(&plan);
    return s;
}
