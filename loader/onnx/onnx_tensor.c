/*
 * onnx_tensor.c - TensorProto to host constant: every numeric ONNX data type, in raw_data
 * (little-endian) or the typed repeated fields, or in an external data file.
 *
 * Floating types (float, double, float16, bfloat16) are held as f32 and integer types (incl.
 * bool) as i64 - what Sentinel's kernels and the import-time shape arithmetic use. The element
 * count is checked against the bytes that are actually there before anything is allocated.
 *
 * External data (data_location = EXTERNAL; keys location, offset, length) is read from a file
 * that must lie inside the model's folder: absolute paths, '..' components and symbolic links
 * leading out of the folder are refused, and offset + length must lie within the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx_internal.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the ONNX importer reads raw_data as little-endian and assumes a little-endian host"
#endif

const char *sn__ox_type_name(int32_t t) {
    static const char *names[] = {"undefined", "float", "uint8", "int8", "uint16", "int16",
                                  "int32", "int64", "string", "bool", "float16", "double",
                                  "uint32", "uint64", "complex64", "complex128", "bfloat16"};
    if (t >= 0 && t < (int32_t)(sizeof names / sizeof names[0])) return names[t];
    return t >= 17 && t <= 23 ? "float8/int4" : "unknown";
}

int sn__ox_type_kind(int32_t t) {
    switch (t) {
    case SN__OX_T_FLOAT: case SN__OX_T_DOUBLE: case SN__OX_T_FLOAT16: case SN__OX_T_BFLOAT16:
        return SN__OX_FLOAT;
    case SN__OX_T_UINT8: case SN__OX_T_INT8: case SN__OX_T_UINT16: case SN__OX_T_INT16:
    case SN__OX_T_INT32: case SN__OX_T_INT64: case SN__OX_T_BOOL: case SN__OX_T_UINT32:
    case SN__OX_T_UINT64:
        return SN__OX_INT;
    default: return -1;
    }
}

static size_t sn__type_size(int32_t t) {
    switch (t) {
    case SN__OX_T_UINT8: case SN__OX_T_INT8: case SN__OX_T_BOOL: return 1;
    case SN__OX_T_UINT16: case SN__OX_T_INT16: case SN__OX_T_FLOAT16: case SN__OX_T_BFLOAT16:
        return 2;
    case SN__OX_T_FLOAT: case SN__OX_T_INT32: case SN__OX_T_UINT32: return 4;
    default: return 8;
    }
}

static float sn__half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu, bits;
    if (e == 0x1f) {
        bits = sign | 0x7f800000u | (m << 13);
    } else if (e) {
        bits = sign | ((e + 112u) << 23) | (m << 13);
    } else if (m) { /* subnormal: normalise */
        e = 113;
        while (!(m & 0x400u)) {
            m <<= 1;
            e--;
        }
        bits = sign | (e << 23) | ((m & 0x3ffu) << 13);
    } else {
        bits = sign;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Element i of little-endian bytes of type t, as float or int64. */
static void sn__load(int32_t t, const uint8_t *p, float *f, int64_t *i) {
    uint8_t u8; int8_t s8; uint16_t u16; int16_t s16; int32_t s32; uint32_t u32; float fl;
    double db; uint64_t u64;
    switch (t) {
    case SN__OX_T_FLOAT: memcpy(&fl, p, 4); *f = fl; break;
    case SN__OX_T_DOUBLE: memcpy(&db, p, 8); *f = (float)db; break;
    case SN__OX_T_FLOAT16: memcpy(&u16, p, 2); *f = sn__half_to_float(u16); break;
    case SN__OX_T_BFLOAT16: memcpy(&u16, p, 2); u32 = (uint32_t)u16 << 16; memcpy(f, &u32, 4); break;
    case SN__OX_T_UINT8: u8 = *p; *i = u8; break;
    case SN__OX_T_BOOL: *i = *p != 0; break;
    case SN__OX_T_INT8: memcpy(&s8, p, 1); *i = s8; break;
    case SN__OX_T_UINT16: memcpy(&u16, p, 2); *i = u16; break;
    case SN__OX_T_INT16: memcpy(&s16, p, 2); *i = s16; break;
    case SN__OX_T_INT32: memcpy(&s32, p, 4); *i = s32; break;
    case SN__OX_T_UINT32: memcpy(&u32, p, 4); *i = u32; break;
    default: memcpy(&u64, p, 8); memcpy(i, &u64, 8); break; /* int64, uint64 */
    }
}

static sn_status sn__fill_bytes(sn__ox_const *k, int32_t t, const uint8_t *p) {
    size_t es = sn__type_size(t);
    for (int64_t e = 0; e < k->numel; e++) {
        float f = 0;
        int64_t i = 0;
        sn__load(t, p + (size_t)e * es, &f, &i);
        if (k->kind == SN__OX_FLOAT) k->f[e] = f; else k->i[e] = i;
    }
    return SN_OK;
}

/* Parse a decimal, non-negative external_data value. */
static bool sn__parse_u64(const char *s, int64_t *out) {
    if (!s || !*s) return false;
    int64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || __builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, *s - '0', &v))
            return false;
    }
    *out = v;
    return true;
}

/* Open `location` under the base folder, refusing anything that leaves it. */
static sn_status sn__open_external(sn__ox_ctx *c, const char *what, const char *loc, int *fd) {
    char joined[PATH_MAX], base_real[PATH_MAX], file_real[PATH_MAX];
    if (!c->base_dir)
        return sn_errorf(c->err, SN_ERR_FORMAT, "ONNX tensor '%s': its data is in an external file "
                         "('%s'), but the model was given as bytes with no folder to look in",
                         what, loc);
    if (!*loc || loc[0] == '/' || !strcmp(loc, "..") || !strncmp(loc, "../", 3) ||
        strstr(loc, "/../") || (strlen(loc) >= 3 && !strcmp(loc + strlen(loc) - 3, "/..")))
        return sn_errorf(c->err, SN_ERR_FORMAT, "ONNX tensor '%s': external data location '%s' "
                         "is not a relative path inside the model's folder", what, loc);
    if (snprintf(joined, sizeof joined, "%s/%s", c->base_dir, loc) >= (int)sizeof joined)
        return sn_errorf(c->err, SN_ERR_FORMAT, "ONNX tensor '%s': external data path is too long",
                         what);
    if (!realpath(c->base_dir, base_real))
        return sn_errorf(c->err, SN_ERR_IO, "ONNX tensor '%s': model folder %s: %s", what,
                         c->base_dir, strerror(errno));
    if (!realpath(joined, file_real))
        return sn_errorf(c->err, SN_ERR_IO, "ONNX tensor '%s': external data file %s: %s", what,
                         joined, strerror(errno));
    size_t bl = strlen(base_real);
    if (strncmp(file_real, base_real, bl) != 0 || (file_real[bl] != '/' && bl != 1))
        return sn_errorf(c->err, SN_ERR_FORMAT, "ONNX tensor '%s': external data '%s' resolves to "
                         "%s, outside the model's folder %s", what, loc, file_real, base_real);
    *fd = open(file_real, O_RDONLY | O_CLOEXEC);
    if (*fd < 0)
        return sn_errorf(c->err, SN_ERR_IO, "ONNX tensor '%s': cannot open %s: %s", what,
                         file_real, strerror(errno));
    return SN_OK;
}

static sn_status sn__read_external(sn__ox_ctx *c, const Onnx__TensorProto *t, const char *what,
                                   size_t need, uint8_t **out) {
    const char *loc = NULL;
    int64_t offset = 0, length = -1;
    *out = NULL;
    for (size_t i = 0; i < t->n_external_data; i++) {
        const Onnx__StringStringEntryProto *e = t->external_data[i];
        if (!e || !e->key) continue;
        bool ok = true;
        if (!strcmp(e->key, "location")) loc = e->value;
        else if (!strcmp(e->key, "offset")) ok = sn__parse_u64(e->value, &offset);
        else if (!strcmp(e->key, "length")) ok = sn__parse_u64(e->value, &length);
        if (!ok)
            return sn_errorf(c->err, SN_ERR_FORMAT, "ONNX tensor '%s': external data %s '%s' is not "
                             "a non-negative integer", what, e->key, e->value ? e->value : "");
    }
    if (!loc)
        return sn_errorf(c->err, SN_ERR_FORMAT, "ONNX tensor '%s': external data without a location",
                         what);
    if (length >= 0 && (uint64_t)length != need)
        return sn_errorf(c->err, SN_ERR_FORMAT, "ONNX tensor '%s': external data length %lld does not "
                         "match its shape and type (%zu bytes)", what, (long long)length, need);
    int fd = -1;
    sn_status st = sn__open_external(c, what, loc, &fd);
    if (st != SN_OK) return st;
    struct stat sb;
    uint8_t *buf = NULL;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = sn_errorf(c->err, SN_ERR_IO, "ONNX tensor '%s': external data '%s' is not a regular file",
                       what, loc);
        goto done;
    }
    if ((uint64_t)offset > (uint64_t)sb.st_size || need > (uint64_t)sb.st_size - (uint64_t)offset) {
        st = sn_errorf(c->err, SN_ERR_FORMAT, "ONNX tensor '%s': external data '%s' needs bytes "
                       "[%lld, %lld) but the file has %lld", what, loc, (long long)offset,
                       (long long)offset + (long long)need, (long long)sb.st_size);
        goto done;
    }
    if (!(buf = malloc(need ? need : 1))) {
        st = sn_errorf(c->err, SN_ERR_OUT_OF_MEMORY, "ONNX tensor '%s': out of memory for %zu bytes",
                       what, need);
        goto done;
    }
    for (size_t got = 0; got < need;) {
        ssize_t r = pread(fd, buf + got, need - got, (off_t)(offset + (int64_t)got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            st = sn_errorf(c->err, SN_ERR_IO, "ONNX tensor '%s': reading external data '%s': %s",
                           what, loc, r < 0 ? strerror(errno) : "unexpected end of file");
            goto done;
        }
        got += (size_t)r;
    }
    *out = buf;
    buf = NULL;
done:
    free(buf);
    close(fd);
    return st;
}

sn_status sn__ox_tensor_decode(sn__ox_ctx *c, const Onnx__TensorProto *t, const char *what,
                               sn__ox_const **out) {
    *out = NULL;
    int32_t dt = t->has_data_type ? t->data_type : 0;
    int kind = sn__ox_type_kind(dt);
    if (kind < 0)
        return sn_errorf(c->err, dt == SN__OX_T_STRING || (dt >= 14 && dt <= 23) ? SN_ERR_UNSUPPORTED
                                                                                  : SN_ERR_FORMAT,
                         "ONNX tensor '%s': data type %d (%s) is not supported", what, (int)dt,
                         sn__ox_type_name(dt));
    if (t->segment)
        return sn_errorf(c->err, SN_ERR_UNSUPPORTED, "ONNX tensor '%s' is segmented", what);
    if (t->n_dims > SN_MAX_RANK)
        return sn_errorf(c->err, SN_ERR_UNSUPPORTED, "ONNX tensor '%s' has rank %zu (at most %d)",
                         what, t->n_dims, SN_MAX_RANK);
    int64_t numel = 1;
    for (size_t i = 0; i < t->n_dims; i++)
        if (t->dims[i] < 0 || __builtin_mul_overflow(numel, t->dims[i], &numel) ||
            numel > ((int64_t)1 << 40))
            return sn_errorf(c->err, SN_ERR_FORMAT, "ONNX tensor '%s' has invalid dims", what);
    const size_t es = sn__type_size(dt), need = (size_t)numel * es;
    bool external = t->has_data_location &&
                    t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    /* Count what is present before allocating anything of the declared size. */
    size_t typed = dt == SN__OX_T_FLOAT ? t->n_float_data
                   : dt == SN__OX_T_INT64 ? t->n_int64_data
                   : dt == SN__OX_T_DOUBLE ? t->n_double_data
                   : (dt == SN__OX_T_UINT32 || dt == SN__OX_T_UINT64) ? t->n_uint64_data
                                                                     : t->n_int32_data;
    uint8_t *ext = NULL;
    sn_status st;
    if (external) {
        if ((st = sn__read_external(c, t, what, need, &ext)) != SN_OK) return st;
    } else if (t->has_raw_data) {
        if (t->raw_data.len != need)
            return sn_errorf(c->err, SN_ERR_FORMAT, "ONNX tensor '%s': raw_data has %zu bytes, its "
                             "shape and type need %zu", what, t->raw_data.len, need);
    } else if (typed != (size_t)numel) {
        return sn_errorf(c->err, SN_ERR_FORMAT, "ONNX tensor '%s': holds %zu values, its shape needs "
                         "%lld", what, typed, (long long)numel);
    }
    int64_t d[SN_MAX_RANK];
    for (size_t i = 0; i < t->n_dims; i++) d[i] = t->dims[i];
    /* Sized by the bytes present, so not subject to the limit on what nodes compute. */
    const Onnx__NodeProto *node = c->node;
    c->node = NULL;
    sn__ox_const *k = sn__ox_const_new(c, kind, dt, (int)t->n_dims, d);
    c->node = node;
    if (!k) {
        free(ext);
        return c->err ? c->err->status : SN_ERR_OUT_OF_MEMORY;
    }
    if (ext || t->has_raw_data) {
        sn__fill_bytes(k, dt, ext ? ext : t->raw_data.data);
        free(ext);
    } else {
        for (int64_t e = 0; e < numel; e++) {
            switch (dt) {
            case SN__OX_T_FLOAT: k->f[e] = t->float_data[e]; break;
            case SN__OX_T_INT64: k->i[e] = t->int64_data[e]; break;
            case SN__OX_T_DOUBLE: k->f[e] = (float)t->double_data[e]; break;
            case SN__OX_T_UINT32: case SN__OX_T_UINT64: k->i[e] = (int64_t)t->uint64_data[e]; break;
            case SN__OX_T_FLOAT16: case SN__OX_T_BFLOAT16: {
                uint16_t h = (uint16_t)t->int32_data[e];
                uint8_t b[2];
                int64_t unused = 0;
                memcpy(b, &h, 2);
                sn__load(dt, b, &k->f[e], &unused);
                break;
            }
            default: k->i[e] = dt == SN__OX_T_BOOL ? t->int32_data[e] != 0 : t->int32_data[e]; break;
            }
        }
    }
    *out = k;
    return SN_OK;
}
