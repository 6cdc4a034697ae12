/*
 * sgraph_read.c - reading a .sgraph file image into a validated graph (format: docs/sgraph.md).
 *
 * The layout, as this reader checks it. All integers little-endian; offsets are from the start
 * of the file; every check happens before anything it guards is allocated or followed.
 *
 *  1. Header, 32 bytes: magic "SGRAPH\0\1"; u16 major (must be 1: anything else is
 *     SN_ERR_VERSION), u16 minor (any); u32 flags (0); u64 file_size (== the bytes given);
 *     u32 section_count (1..64); u32 header CRC32 over bytes [0,28) then the directory.
 *  2. Directory at 32: section_count entries of {u32 kind, u32 flags (0), u64 offset, u64 size,
 *     u32 CRC32 of the section, u32 reserved (0)}. Every section lies inside the file after the
 *     directory, no two overlap, each known kind appears exactly once, the weights section
 *     starts on a 64-byte boundary. Unknown kinds (a newer minor's) are checked and skipped.
 *     Bytes outside every section (alignment padding) must be zero.
 *  3. Every section's CRC32 is checked, weights included.
 *  4. Strings (kind 1): NUL-terminated strings back to back; the first and last bytes are NUL,
 *     so any ref (a u32 byte offset) below the size names a terminated string; ref 0 is "".
 *  5. Tensors (kind 2): u32 count, u32 0, count 96-byte records {u32 name, u8 dtype, u8 layout,
 *     u8 rank, u8 0, u32 flags (1 CONST, 2 BATCHED), u32 0, i64 dims[8] (0 past rank),
 *     u64 data_offset, u64 data_size}. Names are non-empty and unique; dims >= 0 except dim 0 of
 *     a batched graph input, which is -1; the element count times the dtype size must not
 *     overflow. A constant's data is exactly that many bytes, starts on a 64-byte boundary,
 *     lies inside the weights section and overlaps no other constant's.
 *  6. Graph (kind 4): u32 n_inputs, u32 n_outputs, i32 tensor indices. Inputs are distinct,
 *     non-constant; outputs distinct and (checked after the nodes) produced or constant.
 *  7. Nodes (kind 3): u32 count, u32 0, records {u32 op name ref, u32 name ref, u32 n_inputs,
 *     u32 n_outputs, u32 n_attrs, i32 inputs[] (-1: omitted optional input), i32 outputs[],
 *     attributes {u32 name ref, u32 type, u32 count, payload}}. The op is looked up by name
 *     (unknown: SN_ERR_UNSUPPORTED); arity and attribute names and types must match its
 *     definition; outputs are produced once and are neither constants nor graph inputs.
 *  8. Metadata (kind 5): u32 n_labels, u32 n_props, preprocessing (u32 present, i32 width,
 *     height, resize_shorter, u32 resize, u32 channels, f32 mean[3], f32 std[3]), label refs,
 *     (key, value) ref pairs with unique non-empty keys.
 *  9. Weights (kind 6): raw tensor data, used in place (never copied).
 * 10. The built graph must pass sn_graph_validate (cycles...) and sn_graph_infer_shapes, and
 *     every recorded dtype, shape and BATCHED flag must equal the inferred one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "sgraph.h"
#include "sgraph_reader.h"

sn_status sn__sg_fail(sn__sg_reader *rd, sn_status s, uint64_t off, const char *fmt, ...) {
    char msg[SN_ERROR_MESSAGE_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sn_errorf(rd->err, s, "offset 0x%llx: %s", (unsigned long long)off, msg);
}

const char *sn__sg_quote(const char *s, char buf[SN__SG_QUOTE_SIZE]) {
    size_t n = 0;
    for (; s[n] && n < SN__SG_QUOTE_SIZE - 4; n++) {
        unsigned char c = (unsigned char)s[n];
        buf[n] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (s[n]) { /* cut: end with "..." */
        n -= 3;
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
    return buf;
}

sn_status sn__sg_string(sn__sg_reader *rd, uint64_t at, const char *what, const char **out) {
    uint32_t ref = sn__sg_get32(rd->p + at);
    if (ref >= rd->len[SN_SG_SECT_STRINGS])
        return sn__sg_fail(rd, SN_ERR_FORMAT, at,
                           "%s: string ref 0x%x is outside the string table (%llu bytes)", what,
                           ref, (unsigned long long)rd->len[SN_SG_SECT_STRINGS]);
    *out = (const char *)rd->p + rd->off[SN_SG_SECT_STRINGS] + ref;
    return SN_OK;
}

static uint32_t sn__sg_crc(const uint8_t *p, uint64_t n) {
    return (uint32_t)crc32_z(0L, p, (z_size_t)n);
}

/* Steps 1 and 2: header and directory. */
static sn_status sn__sg_read_header(sn__sg_reader *rd) {
    const uint8_t *p = rd->p;
    if (rd->size < SN_SG_HEADER_SIZE)
        return sn__sg_fail(rd, SN_ERR_FORMAT, 0,
                           "file is %llu bytes, shorter than the %d-byte header",
                           (unsigned long long)rd->size, SN_SG_HEADER_SIZE);
    if (memcmp(p, SN_SG_MAGIC, SN_SG_MAGIC_SIZE) != 0)
        return sn__sg_fail(rd, SN_ERR_FORMAT, 0, "bad magic: not a .sgraph file");
    unsigned major = sn__sg_get16(p + SN_SG_HDR_MAJOR), minor = sn__sg_get16(p + SN_SG_HDR_MINOR);
    if (major != SN_SG_VERSION_MAJOR)
        return sn__sg_fail(rd, SN_ERR_VERSION, SN_SG_HDR_MAJOR,
                           "format version %u.%u is %s; this reader supports %d.x", major, minor,
                           major > SN_SG_VERSION_MAJOR ? "newer than this build of Sentinel"
                                                       : "not supported",
                           SN_SG_VERSION_MAJOR);
    uint32_t flags = sn__sg_get32(p + SN_SG_HDR_FLAGS);
    if (flags)
        return sn__sg_fail(rd, SN_ERR_FORMAT, SN_SG_HDR_FLAGS, "unknown header flags 0x%x", flags);
    uint64_t fsize = sn__sg_get64(p + SN_SG_HDR_FILE_SIZE);
    if (fsize != rd->size)
        return sn__sg_fail(
            rd, SN_ERR_FORMAT, SN_SG_HDR_FILE_SIZE,
            "header records a %llu-byte file but %llu bytes were given (truncated or "
            "extended?)",
            (unsigned long long)fsize, (unsigned long long)rd->size);
    uint32_t count = sn__sg_get32(p + SN_SG_HDR_SECTION_COUNT);
    if (count < 1 || count > SN_SG_MAX_SECTIONS)
        return sn__sg_fail(rd, SN_ERR_FORMAT, SN_SG_HDR_SECTION_COUNT,
                           "section count %u is outside 1..%d", count, SN_SG_MAX_SECTIONS);
    uint64_t dir_end = SN_SG_HEADER_SIZE + (uint64_t)count * SN_SG_DIR_ENTRY_SIZE;
    if (dir_end > rd->size)
        return sn__sg_fail(rd, SN_ERR_FORMAT, SN_SG_HDR_SECTION_COUNT,
                           "directory of %u sections ends at 0x%llx, past the end of the file",
                           count, (unsigned long long)dir_end);
    uint32_t crc = (uint32_t)crc32_z(crc32_z(0L, p, SN_SG_HDR_CRC), p + SN_SG_HEADER_SIZE,
                                     (z_size_t)(dir_end - SN_SG_HEADER_SIZE));
    uint32_t want = sn__sg_get32(p + SN_SG_HDR_CRC);
    if (crc != want)
        return sn__sg_fail(
            rd, SN_ERR_FORMAT, SN_SG_HDR_CRC,
            "header/directory CRC32 is 0x%08x, the file records 0x%08x (corrupt file)", crc, want);

    /* Entries sorted by offset for the overlap check; count <= 64 so insertion sort is fine. */
    uint64_t s_off[SN_SG_MAX_SECTIONS], s_end[SN_SG_MAX_SECTIONS];
    uint32_t s_idx[SN_SG_MAX_SECTIONS];
    bool seen[SN_SG_SECT_KNOWN_MAX + 1] = {false};
    for (uint32_t i = 0; i < count; i++) {
        uint64_t e = SN_SG_HEADER_SIZE + (uint64_t)i * SN_SG_DIR_ENTRY_SIZE;
        uint32_t kind = sn__sg_get32(p + e + SN_SG_DIR_KIND);
        uint64_t off = sn__sg_get64(p + e + SN_SG_DIR_OFFSET),
                 len = sn__sg_get64(p + e + SN_SG_DIR_SIZE);
        if (sn__sg_get32(p + e + SN_SG_DIR_FLAGS) || sn__sg_get32(p + e + SN_SG_DIR_RESERVED))
            return sn__sg_fail(rd, SN_ERR_FORMAT, e + SN_SG_DIR_FLAGS,
                               "section %u (kind %u): non-zero flags or reserved field", i, kind);
        if (off < dir_end || off > rd->size || len > rd->size - off)
            return sn__sg_fail(rd, SN_ERR_FORMAT, e + SN_SG_DIR_OFFSET,
                               "section %u (kind %u) range [0x%llx, +%llu) is outside the file "
                               "body [0x%llx, 0x%llx)",
                               i, kind, (unsigned long long)off, (unsigned long long)len,
                               (unsigned long long)dir_end, (unsigned long long)rd->size);
        if (kind >= 1 && kind <= SN_SG_SECT_KNOWN_MAX) {
            if (seen[kind])
                return sn__sg_fail(rd, SN_ERR_FORMAT, e + SN_SG_DIR_KIND,
                                   "section %u: a second section of kind %u", i, kind);
            seen[kind] = true;
            rd->off[kind] = off;
            rd->len[kind] = len;
        }
        if (kind == SN_SG_SECT_WEIGHTS && off % SN_SG_WEIGHT_ALIGN)
            return sn__sg_fail(rd, SN_ERR_FORMAT, e + SN_SG_DIR_OFFSET,
                               "weights section offset 0x%llx is not a multiple of %d",
                               (unsigned long long)off, SN_SG_WEIGHT_ALIGN);
        uint32_t j = i;
        for (; j > 0 && s_off[j - 1] > off; j--) {
            s_off[j] = s_off[j - 1];
            s_end[j] = s_end[j - 1];
            s_idx[j] = s_idx[j - 1];
        }
        s_off[j] = off;
        s_end[j] = off + len;
        s_idx[j] = i;
    }
    for (uint32_t j = 1; j < count; j++)
        if (s_end[j - 1] > s_off[j])
            return sn__sg_fail(rd, SN_ERR_FORMAT,
                               SN_SG_HEADER_SIZE + (uint64_t)s_idx[j] * SN_SG_DIR_ENTRY_SIZE +
                                   SN_SG_DIR_OFFSET,
                               "section %u overlaps section %u", s_idx[j], s_idx[j - 1]);
    /* Bytes outside every section are padding and must be zero, so a checksum or a zero check
     * covers every byte of the file. */
    uint64_t pos = dir_end;
    for (uint32_t j = 0; j <= count; j++) {
        uint64_t stop = j < count ? s_off[j] : rd->size;
        for (; pos < stop; pos++)
            if (p[pos])
                return sn__sg_fail(rd, SN_ERR_FORMAT, pos,
                                   "padding byte outside every section is 0x%02x, not 0", p[pos]);
        if (j < count && s_end[j] > pos) pos = s_end[j];
    }
    for (int k = 1; k <= SN_SG_SECT_KNOWN_MAX; k++)
        if (!seen[k])
            return sn__sg_fail(rd, SN_ERR_FORMAT, SN_SG_HEADER_SIZE,
                               "the directory has no section of kind %d", k);
    /* Step 3. */
    for (uint32_t i = 0; i < count; i++) {
        uint64_t e = SN_SG_HEADER_SIZE + (uint64_t)i * SN_SG_DIR_ENTRY_SIZE;
        uint64_t off = sn__sg_get64(p + e + SN_SG_DIR_OFFSET),
                 len = sn__sg_get64(p + e + SN_SG_DIR_SIZE);
        uint32_t got = sn__sg_crc(p + off, len), rec = sn__sg_get32(p + e + SN_SG_DIR_CRC);
        if (got != rec)
            return sn__sg_fail(rd, SN_ERR_FORMAT, e + SN_SG_DIR_CRC,
                               "section %u (kind %u, %llu bytes at 0x%llx): CRC32 is 0x%08x, the "
                               "directory records 0x%08x (corrupt file)",
                               i, sn__sg_get32(p + e), (unsigned long long)len,
                               (unsigned long long)off, got, rec);
    }
    return SN_OK;
}

/* Step 10: recorded shapes against inferred ones. */
static sn_status sn__sg_check_shapes(sn__sg_reader *rd) {
    uint32_t n = rd->n_tensors;
    sn_status s = SN_ERR_OUT_OF_MEMORY;
    sn_shape *s1 = malloc(sizeof(sn_shape) * (n ? n : 1));
    sn_shape *s2 = malloc(sizeof(sn_shape) * (n ? n : 1));
    sn_dtype *dt = malloc(sizeof(sn_dtype) * (n ? n : 1));
    if (!s1 || !s2 || !dt) {
        sn_errorf(rd->err, s, "out of memory checking the shapes of %u tensors", n);
        goto done;
    }
    if ((s = sn_graph_infer_concrete(rd->g, 1, s1, dt, rd->err)) != SN_OK ||
        (s = sn_graph_infer_concrete(rd->g, 2, s2, NULL, rd->err)) != SN_OK) {
        if (s == SN_ERR_INVALID_ARGUMENT) s = SN_ERR_FORMAT;
        sn_error_prefix(rd->err, "offset 0x%llx (node table)",
                        (unsigned long long)rd->off[SN_SG_SECT_NODES]);
        goto done;
    }
    for (uint32_t i = 0; i < n; i++) {
        const sn__sg_tensor *t = &rd->t[i];
        sn_shape want = s1[i];
        /* The rule sn_graph_infer_shapes uses for SN_TENSOR_BATCHED. */
        bool batched = want.rank > 0 && want.rank == s2[i].rank && s1[i].d[0] != s2[i].d[0];
        if (batched && (rd->role[i] & SN__SG_ROLE_INPUT)) want.d[0] = SN_DIM_BATCH;
        sn_shape got = sn_shape_make(t->rank, t->d);
        if (dt[i] != t->dtype || !sn_shape_equal(&want, &got) ||
            batched != ((t->flags & SN_SG_TF_BATCHED) != 0)) {
            char q[SN__SG_QUOTE_SIZE], a[128], b[128];
            s = sn__sg_fail(rd, SN_ERR_FORMAT, t->rec,
                            "tensor %u '%s' is recorded as %s %s but the graph infers %s %s", i,
                            sn__sg_quote(t->name, q), sn_dtype_name(t->dtype),
                            sn_shape_format(&got, t->flags & SN_SG_TF_BATCHED, a, sizeof a),
                            sn_dtype_name(dt[i]), sn_shape_format(&want, batched, b, sizeof b));
            goto done;
        }
    }
    s = SN_OK;
done:
    free(s1);
    free(s2);
    free(dt);
    return s;
}

sn_status sn_sgraph_read(const void *data, size_t size, sn_graph **out, sn_error *err) {
    sn_error local;
    sn_error_clear(&local);
    sn__sg_reader rd;
    memset(&rd, 0, sizeof rd);
    rd.p = data;
    rd.size = size;
    rd.err = &local;
    sn_status s;
    if (out) *out = NULL;
    if (!data || !out) {
        s = sn_errorf(&local, SN_ERR_INVALID_ARGUMENT, "sn_sgraph_read: NULL %s",
                      data ? "out" : "data");
        goto fail;
    }
    if ((s = sn__sg_read_header(&rd)) != SN_OK || (s = sn__sg_read_strings(&rd)) != SN_OK ||
        (s = sn__sg_read_graph_io(&rd)) != SN_OK || (s = sn__sg_read_tensors(&rd)) != SN_OK)
        goto fail;
    if ((s = sn_graph_create(&rd.g)) != SN_OK) {
        sn_errorf(&local, s, "out of memory creating the graph");
        goto fail;
    }
    if ((s = sn__sg_add_tensors(&rd)) != SN_OK || (s = sn__sg_read_nodes(&rd)) != SN_OK ||
        (s = sn__sg_add_outputs(&rd)) != SN_OK || (s = sn__sg_read_metadata(&rd)) != SN_OK)
        goto fail;
    if ((s = sn_graph_validate(rd.g, &local)) != SN_OK ||
        (s = sn_graph_infer_shapes(rd.g, &local)) != SN_OK) {
        /* An op rejecting an attribute value says "invalid argument"; here the file is. */
        if (s == SN_ERR_INVALID_ARGUMENT) s = SN_ERR_FORMAT;
        sn_error_prefix(&local, "offset 0x%llx (node table)",
                        (unsigned long long)rd.off[SN_SG_SECT_NODES]);
        goto fail;
    }
    if ((s = sn__sg_check_shapes(&rd)) != SN_OK) goto fail;
    free(rd.t);
    free(rd.role);
    *out = rd.g;
    return SN_OK;
fail:
    local.status = s;
    if (!local.message[0]) /* a graph call that left no message */
        snprintf(local.message, sizeof local.message, "%s", sn_status_string(s));
    sn_graph_destroy(rd.g);
    free(rd.t);
    free(rd.role);
    if (err) *err = local;
    return s;
}
