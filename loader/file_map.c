/*
 * file_map.c - read-only mappings of whole files, so a model's weights are used where the page
 * cache holds them instead of being copied. Only regular, non-empty files are mapped: a
 * directory, a FIFO or a device has no stable size to map.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "sgraph.h"

sn_status sn_file_map_open(const char *path, sn_file_map *map, sn_error *err) {
    if (!map) return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "sn_file_map_open: NULL map");
    map->data = NULL;
    map->size = 0;
    if (!path || !*path)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "sn_file_map_open: empty path");
    /* O_NONBLOCK: opening a FIFO must not wait for a writer before fstat can reject it. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return sn_errorf(err, errno == ENOENT ? SN_ERR_NOT_FOUND : SN_ERR_IO,
                         "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    sn_status s = SN_OK;
    if (fstat(fd, &st) != 0)
        s = sn_errorf(err, SN_ERR_IO, "cannot stat '%s': %s", path, strerror(errno));
    else if (S_ISDIR(st.st_mode))
        s = sn_errorf(err, SN_ERR_IO, "'%s' is a directory, not a model file", path);
    else if (!S_ISREG(st.st_mode))
        s = sn_errorf(err, SN_ERR_IO, "'%s' is not a regular file (a device, FIFO or socket)",
                      path);
    else if (st.st_size == 0)
        s = sn_errorf(err, SN_ERR_FORMAT, "'%s' is empty", path);
    else if ((unsigned long long)st.st_size > SIZE_MAX)
        s = sn_errorf(err, SN_ERR_IO, "'%s' is too large to map", path);
    if (s != SN_OK) {
        close(fd);
        return s;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd); /* the mapping keeps the file alive */
    if (p == MAP_FAILED)
        return sn_errorf(err, e == ENOMEM ? SN_ERR_OUT_OF_MEMORY : SN_ERR_IO,
                         "cannot map '%s' (%lld bytes): %s", path, (long long)st.st_size,
                         strerror(e));
    map->data = p;
    map->size = (size_t)st.st_size;
    return SN_OK;
}

void sn_file_map_close(sn_file_map *map) {
    if (!map) return;
    if (map->data) munmap(map->data, map->size);
    map->data = NULL;
    map->size = 0;
}
