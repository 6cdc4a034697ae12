/*
 * npy.h - reading and writing NumPy .npy files of float32, for feeding tensors to a model and
 * saving what it returns.
 *
 * Format (numpy.lib.format): the magic "\x93NUMPY", a major and minor version byte, the header
 * length (u16 little-endian for version 1, u32 for versions 2 and 3), then the header - a Python
 * dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with spaces
 * and ended by '\n' - then the raw data. Only '<f4' (little-endian float32) in C order is
 * accepted; every other dtype, Fortran order, a malformed dict, and a data size that does not
 * match the shape are refused with a message naming the problem.
 */
#ifndef SN_NPY_H
#define SN_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "sentinel.h"

/* Files larger than this are refused before they are read (4 GiB). */
#define SN_NPY_MAX_FILE_BYTES (UINT64_C(4) << 30)

typedef struct sn_npy {
    int rank; /* 0 for a scalar */
    int64_t dims[SN_MAX_RANK];
    size_t count; /* product of dims */
    float *data;  /* malloc'ed (NULL when count is 0); freed by sn_npy_free */
} sn_npy;

/* Parse a whole .npy image in memory (the data is copied). SN_ERR_FORMAT for a malformed file,
 * SN_ERR_UNSUPPORTED for a well-formed one we do not read (other dtype, Fortran order, rank over
 * SN_MAX_RANK), SN_ERR_VERSION for an unknown format version. */
sn_status sn_npy_parse(const void *bytes, size_t size, sn_npy *out, sn_error *err);

/* Read a file (messages do not repeat the path). SN_ERR_IO when it cannot be read. */
sn_status sn_npy_read_file(const char *path, sn_npy *out, sn_error *err);

/* Serialise data of the given shape as a version 1.0 '<f4' .npy (malloc'ed; caller frees). */
sn_status sn_npy_encode(const float *data, int rank, const int64_t *dims, void **bytes,
                        size_t *size, sn_error *err);

/* Write a .npy file atomically: to a temporary file beside `path`, flushed to disk, then renamed
 * over it, so a failure never leaves a partial file at `path`. */
sn_status sn_npy_write_file(const char *path, const float *data, int rank, const int64_t *dims,
                            sn_error *err);

void sn_npy_free(sn_npy *a);

#endif
