/*
 * npy.c - the .npy reader and writer (format in npy.h).
 *
 * The header dict is parsed by a small recursive-descent reader that accepts what numpy writes
 * (either quote style, optional trailing commas, Python 2's "3L" integers) and nothing more:
 * exactly the three keys, each once. Sizes are checked against the bytes that remain before
 * anything is allocated.
 */
#include "npy.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "image.h" /* sn_read_file */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "npy.c reads and writes '<f4' by copying bytes: a little-endian host is assumed"
#endif

#define SN_NPY_MAGIC "\x93NUMPY"
#define SN_NPY_MAX_DIM (INT64_C(1) << 40)

typedef struct sn_npy_cursor {
    const char *p, *end;
} sn_npy_cursor;

static void sn__skip_ws(sn_npy_cursor *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int sn__eat(sn_npy_cursor *c, char ch) {
    sn__skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* A quoted string without escapes into buf; 0 on a syntax error. */
static int sn__string(sn_npy_cursor *c, char *buf, size_t size) {
    sn__skip_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return 0;
    char q = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != q) {
        if (*c->p == '\\' || *c->p == '\n' || n + 1 >= size) return 0;
        buf[n++] = *c->p++;
    }
    if (c->p >= c->end) return 0;
    c->p++;
    buf[n] = '\0';
    return 1;
}

static int sn__word(sn_npy_cursor *c, const char *w) {
    size_t n = strlen(w);
    sn__skip_ws(c);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0) return 0;
    if ((size_t)(c->end - c->p) > n && (isalnum((unsigned char)c->p[n]) || c->p[n] == '_'))
        return 0;
    c->p += n;
    return 1;
}

/* (d0, d1, ...) with an optional trailing comma; "(5,)" and "()" included. */
static sn_status sn__shape(sn_npy_cursor *c, sn_npy *out, sn_error *err) {
    if (!sn__eat(c, '('))
        return sn_errorf(err, SN_ERR_FORMAT, ".npy header: 'shape' is not a tuple");
    out->rank = 0;
    for (;;) {
        if (sn__eat(c, ')')) return SN_OK;
        sn__skip_ws(c);
        if (c->p >= c->end || !isdigit((unsigned char)*c->p))
            return sn_errorf(err, SN_ERR_FORMAT,
                             ".npy header: 'shape' holds something other than non-negative "
                             "integers");
        int64_t v = 0;
        while (c->p < c->end && isdigit((unsigned char)*c->p)) {
            v = v * 10 + (*c->p++ - '0');
            if (v > SN_NPY_MAX_DIM)
                return sn_errorf(err, SN_ERR_FORMAT, ".npy header: a dimension is too large");
        }
        if (c->p < c->end && *c->p == 'L') c->p++;
        if (out->rank == SN_MAX_RANK)
            return sn_errorf(err, SN_ERR_UNSUPPORTED, ".npy array has more than %d dimensions",
                             SN_MAX_RANK);
        out->dims[out->rank++] = v;
        if (sn__eat(c, ')')) return SN_OK;
        if (!sn__eat(c, ','))
            return sn_errorf(err, SN_ERR_FORMAT, ".npy header: 'shape' tuple is malformed");
    }
}

static sn_status sn__check_descr(const char *d, sn_error *err) {
    if (!strcmp(d, "<f4")) return SN_OK;
    if (!strcmp(d, ">f4"))
        return sn_errorf(err, SN_ERR_UNSUPPORTED,
                         ".npy dtype '>f4' is big-endian; only little-endian float32 '<f4' is "
                         "supported");
    return sn_errorf(err, SN_ERR_UNSUPPORTED,
                     ".npy dtype '%s' is not supported; only little-endian float32 '<f4' is "
                     "(convert with a.astype('<f4'))", d);
}

/* The dict between the braces; fills dims and checks descr and fortran_order. */
static sn_status sn__header(sn_npy_cursor *c, sn_npy *out, sn_error *err) {
    int have_descr = 0, have_order = 0, have_shape = 0;
    sn_status s;
    if (!sn__eat(c, '{'))
        return sn_errorf(err, SN_ERR_FORMAT, ".npy header is not a dict (no '{')");
    for (;;) {
        if (sn__eat(c, '}')) break;
        char key[32], val[64];
        if (!sn__string(c, key, sizeof key))
            return sn_errorf(err, SN_ERR_FORMAT, ".npy header: expected a quoted key");
        if (!sn__eat(c, ':'))
            return sn_errorf(err, SN_ERR_FORMAT, ".npy header: no ':' after '%s'", key);
        if (!strcmp(key, "descr")) {
            if (have_descr++) goto duplicate;
            sn__skip_ws(c);
            if (c->p < c->end && *c->p == '[')
                return sn_errorf(err, SN_ERR_UNSUPPORTED,
                                 ".npy structured dtypes are not supported; only '<f4' is");
            if (!sn__string(c, val, sizeof val))
                return sn_errorf(err, SN_ERR_FORMAT, ".npy header: 'descr' is not a string");
            if ((s = sn__check_descr(val, err)) != SN_OK) return s;
        } else if (!strcmp(key, "fortran_order")) {
            if (have_order++) goto duplicate;
            if (sn__word(c, "True"))
                return sn_errorf(err, SN_ERR_UNSUPPORTED,
                                 ".npy array is in Fortran (column-major) order; only C order "
                                 "is supported (save np.ascontiguousarray(a))");
            if (!sn__word(c, "False"))
                return sn_errorf(err, SN_ERR_FORMAT,
                                 ".npy header: 'fortran_order' is not True or False");
        } else if (!strcmp(key, "shape")) {
            if (have_shape++) goto duplicate;
            if ((s = sn__shape(c, out, err)) != SN_OK) return s;
        } else {
            return sn_errorf(err, SN_ERR_FORMAT, ".npy header: unexpected key '%s'", key);
        }
        if (sn__eat(c, '}')) break;
        if (!sn__eat(c, ','))
            return sn_errorf(err, SN_ERR_FORMAT, ".npy header: expected ',' or '}' after '%s'",
                             key);
        continue;
    duplicate:
        return sn_errorf(err, SN_ERR_FORMAT, ".npy header: key '%s' appears twice", key);
    }
    sn__skip_ws(c);
    if (c->p != c->end)
        return sn_errorf(err, SN_ERR_FORMAT, ".npy header: text after the closing '}'");
    if (!have_descr || !have_order || !have_shape)
        return sn_errorf(err, SN_ERR_FORMAT, ".npy header lacks '%s'",
                         !have_descr ? "descr" : !have_order ? "fortran_order" : "shape");
    return SN_OK;
}

sn_status sn_npy_parse(const void *bytes, size_t size, sn_npy *out, sn_error *err) {
    const uint8_t *b = bytes;
    memset(out, 0, sizeof *out);
    if (size < 10 || memcmp(b, SN_NPY_MAGIC, 6) != 0)
        return sn_errorf(err, SN_ERR_FORMAT, size < 10 ? "not a .npy file: only %zu bytes"
                                                       : "not a .npy file (no \\x93NUMPY magic)",
                         size);
    int major = b[6], minor = b[7];
    size_t hlen, start;
    if (major == 1) {
        hlen = (size_t)b[8] | (size_t)b[9] << 8;
        start = 10;
    } else if (major == 2 || major == 3) {
        if (size < 12) return sn_errorf(err, SN_ERR_FORMAT, ".npy file is truncated in its header");
        hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
        start = 12;
    } else {
        return sn_errorf(err, SN_ERR_VERSION, ".npy format version %d.%d is not supported (1-3)",
                         major, minor);
    }
    if (hlen > size - start)
        return sn_errorf(err, SN_ERR_FORMAT,
                         ".npy header length %zu runs past the end of the %zu-byte file", hlen,
                         size);
    if (hlen == 0 || b[start + hlen - 1] != '\n')
        return sn_errorf(err, SN_ERR_FORMAT, ".npy header does not end with a newline");
    sn_npy_cursor c = {(const char *)b + start, (const char *)b + start + hlen};
    sn_status s = sn__header(&c, out, err);
    if (s != SN_OK) return s;

    size_t count = 1;
    for (int i = 0; i < out->rank; i++) {
        if (out->dims[i] != 0 && count > SIZE_MAX / 4 / (size_t)out->dims[i])
            return sn_errorf(err, SN_ERR_FORMAT, ".npy shape is too large");
        count *= (size_t)out->dims[i];
    }
    size_t have = size - start - hlen;
    if (have != count * 4)
        return sn_errorf(err, SN_ERR_FORMAT,
                         ".npy shape needs %zu data bytes but the file holds %zu (%s)", count * 4,
                         have, have < count * 4 ? "truncated" : "trailing bytes");
    out->count = count;
    if (count) {
        out->data = malloc(count * 4);
        if (!out->data)
            return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory for %zu floats", count);
        memcpy(out->data, b + start + hlen, count * 4);
    }
    return SN_OK;
}

sn_status sn_npy_read_file(const char *path, sn_npy *out, sn_error *err) {
    void *bytes;
    size_t size;
    memset(out, 0, sizeof *out);
    sn_status s = sn_read_file(path, SN_NPY_MAX_FILE_BYTES, &bytes, &size, err);
    if (s != SN_OK) return s;
    s = sn_npy_parse(bytes, size, out, err);
    free(bytes);
    return s;
}

sn_status sn_npy_encode(const float *data, int rank, const int64_t *dims, void **bytes,
                        size_t *size, sn_error *err) {
    *bytes = NULL;
    *size = 0;
    if (rank < 0 || rank > SN_MAX_RANK)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "rank %d outside 0..%d", rank,
                         SN_MAX_RANK);
    char dict[64 + 24 * SN_MAX_RANK];
    int n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    size_t count = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0 || dims[i] > SN_NPY_MAX_DIM ||
            (dims[i] && count > SIZE_MAX / 8 / (size_t)dims[i]))
            return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "bad dimension %lld",
                             (long long)dims[i]);
        count *= (size_t)dims[i];
        n += snprintf(dict + n, sizeof dict - (size_t)n, "%s%lld", i ? ", " : "",
                      (long long)dims[i]);
    }
    n += snprintf(dict + n, sizeof dict - (size_t)n, "%s), }", rank == 1 ? "," : "");
    /* numpy pads so the data starts on a 64-byte boundary. */
    size_t hlen = ((10 + (size_t)n + 1 + 63) / 64) * 64 - 10;
    size_t total = 10 + hlen + count * 4;
    uint8_t *buf = malloc(total);
    if (!buf) return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory for %zu bytes", total);
    memcpy(buf, SN_NPY_MAGIC, 6);
    buf[6] = 1;
    buf[7] = 0;
    buf[8] = (uint8_t)(hlen & 0xff);
    buf[9] = (uint8_t)(hlen >> 8);
    memcpy(buf + 10, dict, (size_t)n);
    memset(buf + 10 + n, ' ', hlen - (size_t)n - 1);
    buf[10 + hlen - 1] = '\n';
    if (count) memcpy(buf + 10 + hlen, data, count * 4);
    *bytes = buf;
    *size = total;
    return SN_OK;
}

sn_status sn_npy_write_file(const char *path, const float *data, int rank, const int64_t *dims,
                            sn_error *err) {
    void *bytes = NULL;
    size_t size;
    char *tmp = NULL;
    int fd = -1;
    sn_status s = sn_npy_encode(data, rank, dims, &bytes, &size, err);
    if (s != SN_OK) return s;
    size_t len = strlen(path) + 16;
    tmp = malloc(len);
    if (!tmp) {
        s = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory");
        goto fail;
    }
    snprintf(tmp, len, "%s.tmp.XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        s = sn_errorf(err, SN_ERR_IO, "cannot create a temporary file beside %s: %s", path,
                      strerror(errno));
        free(tmp);
        tmp = NULL;
        goto fail;
    }
    for (size_t done = 0; done < size;) {
        ssize_t w = write(fd, (const char *)bytes + done, size - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            s = sn_errorf(err, SN_ERR_IO, "writing %s: %s", tmp, strerror(w < 0 ? errno : EIO));
            goto fail;
        }
        done += (size_t)w;
    }
    if (fchmod(fd, 0644) != 0 || fsync(fd) != 0) {
        s = sn_errorf(err, SN_ERR_IO, "writing %s: %s", tmp, strerror(errno));
        goto fail;
    }
    int rc = close(fd);
    fd = -1;
    if (rc != 0 || rename(tmp, path) != 0) {
        s = sn_errorf(err, SN_ERR_IO, "writing %s: %s", path, strerror(errno));
        goto fail;
    }
    free(tmp);
    free(bytes);
    return SN_OK;

fail:
    if (fd >= 0) close(fd);
    if (tmp) unlink(tmp);
    free(tmp);
    free(bytes);
    return s;
}

void sn_npy_free(sn_npy *a) {
    if (!a) return;
    free(a->data);
    a->data = NULL;
    a->count = 0;
}
