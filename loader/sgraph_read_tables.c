/*
 * sgraph_read_tables.c - the reader's fixed-record sections: strings, graph inputs/outputs and
 * tensors (with their weight ranges). Steps 4-6 of the list at the top of sgraph_read.c. Each
 * count is checked against its section's size before anything is allocated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sgraph_reader.h"

typedef struct sn__sg_named {
    const char *s;
    uint32_t i;
} sn__sg_named;

static int sn__sg_cmp_named(const void *a, const void *b) {
    const sn__sg_named *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

int sn__sg_find_duplicate(const char *const *names, uint32_t n, uint32_t *a, uint32_t *b) {
    if (n < 2) return 1;
    sn__sg_named *v = malloc(sizeof *v * n);
    if (!v) return -1;
    for (uint32_t i = 0; i < n; i++) v[i] = (sn__sg_named){names[i], i};
    qsort(v, n, sizeof *v, sn__sg_cmp_named);
    int r = 1;
    for (uint32_t i = 1; i < n && r; i++)
        if (!strcmp(v[i - 1].s, v[i].s)) {
            *a = v[i - 1].i; /* the sort is stable by index among equals */
            *b = v[i].i;
            r = 0;
        }
    free(v);
    return r;
}

sn_status sn__sg_read_strings(sn__sg_reader *rd) {
    uint64_t off = rd->off[SN_SG_SECT_STRINGS], len = rd->len[SN_SG_SECT_STRINGS];
    if (len < 1 || rd->p[off] != 0)
        return sn__sg_fail(rd, SN_ERR_FORMAT, off,
                           "the string table must start with a NUL (ref 0 is the empty string)");
    if (rd->p[off + len - 1] != 0)
        return sn__sg_fail(rd, SN_ERR_FORMAT, off + len - 1,
                           "the string table does not end with a NUL");
    return SN_OK;
}

/* The tensor count first: graph inputs and outputs are checked against it. */
static sn_status sn__sg_tensor_count(sn__sg_reader *rd) {
    uint64_t off = rd->off[SN_SG_SECT_TENSORS], len = rd->len[SN_SG_SECT_TENSORS];
    if (len < SN_SG_TABLE_HEADER)
        return sn__sg_fail(rd, SN_ERR_FORMAT, off, "tensor table is %llu bytes, too short",
                           (unsigned long long)len);
    uint32_t n = sn__sg_get32(rd->p + off);
    if (sn__sg_get32(rd->p + off + 4))
        return sn__sg_fail(rd, SN_ERR_FORMAT, off + 4, "tensor table: reserved field is not 0");
    if (n > (len - SN_SG_TABLE_HEADER) / SN_SG_TENSOR_RECORD || n >= INT32_MAX ||
        len != SN_SG_TABLE_HEADER + (uint64_t)n * SN_SG_TENSOR_RECORD)
        return sn__sg_fail(
            rd, SN_ERR_FORMAT, off,
            "tensor count %u does not fit the %llu-byte tensor table (%d bytes each)", n,
            (unsigned long long)len, SN_SG_TENSOR_RECORD);
    rd->n_tensors = n;
    rd->t = calloc(n ? n : 1, sizeof *rd->t);
    rd->role = calloc(n ? n : 1, 1);
    if (!rd->t || !rd->role)
        return sn_errorf(rd->err, SN_ERR_OUT_OF_MEMORY, "out of memory for %u tensors", n);
    return SN_OK;
}

static sn_status sn__sg_index_list(sn__sg_reader *rd, uint64_t at, uint32_t n, unsigned role,
                                   const char *what) {
    for (uint32_t k = 0; k < n; k++, at += 4) {
        int32_t v = (int32_t)sn__sg_get32(rd->p + at);
        if (v < 0 || (uint32_t)v >= rd->n_tensors)
            return sn__sg_fail(rd, SN_ERR_FORMAT, at, "graph %s %u: tensor %d is outside 0..%u",
                               what, k, v, rd->n_tensors - 1);
        if (rd->role[v] & role)
            return sn__sg_fail(rd, SN_ERR_FORMAT, at, "graph %s %u: tensor %d is listed twice",
                               what, k, v);
        rd->role[v] |= role;
    }
    return SN_OK;
}

sn_status sn__sg_read_graph_io(sn__sg_reader *rd) {
    sn_status s = sn__sg_tensor_count(rd);
    if (s != SN_OK) return s;
    uint64_t off = rd->off[SN_SG_SECT_GRAPH], len = rd->len[SN_SG_SECT_GRAPH];
    if (len < SN_SG_GRAPH_HEADER)
        return sn__sg_fail(rd, SN_ERR_FORMAT, off, "graph section is %llu bytes, too short",
                           (unsigned long long)len);
    uint32_t ni = sn__sg_get32(rd->p + off), no = sn__sg_get32(rd->p + off + 4);
    uint64_t room = (len - SN_SG_GRAPH_HEADER) / 4;
    if (ni > room || no > room - ni || len != SN_SG_GRAPH_HEADER + 4 * ((uint64_t)ni + no))
        return sn__sg_fail(rd, SN_ERR_FORMAT, off,
                           "%u inputs and %u outputs do not fit the %llu-byte graph section", ni,
                           no, (unsigned long long)len);
    if (no == 0) return sn__sg_fail(rd, SN_ERR_FORMAT, off + 4, "the graph has no outputs");
    rd->n_inputs = ni;
    rd->n_outputs = no;
    if ((s = sn__sg_index_list(rd, off + 8, ni, SN__SG_ROLE_INPUT, "input")) != SN_OK) return s;
    return sn__sg_index_list(rd, off + 8 + 4 * (uint64_t)ni, no, SN__SG_ROLE_OUTPUT, "output");
}

/* One 96-byte record: every field, then the element count and the data range. */
static sn_status sn__sg_tensor_record(sn__sg_reader *rd, uint32_t i) {
    sn__sg_tensor *t = &rd->t[i];
    uint64_t rec =
        rd->off[SN_SG_SECT_TENSORS] + SN_SG_TABLE_HEADER + (uint64_t)i * SN_SG_TENSOR_RECORD;
    const uint8_t *p = rd->p + rec;
    char what[48], q[SN__SG_QUOTE_SIZE];
    snprintf(what, sizeof what, "tensor %u name", i);
    sn_status s = sn__sg_string(rd, rec + SN_SG_T_NAME, what, &t->name);
    if (s != SN_OK) return s;
    if (!t->name[0]) return sn__sg_fail(rd, SN_ERR_FORMAT, rec, "tensor %u has an empty name", i);
    const char *nm = sn__sg_quote(t->name, q);
    t->rec = rec;
    if (p[SN_SG_T_DTYPE] >= SN_DTYPE_COUNT)
        return sn__sg_fail(rd, SN_ERR_FORMAT, rec + SN_SG_T_DTYPE,
                           "tensor %u '%s': unknown dtype %u", i, nm, p[SN_SG_T_DTYPE]);
    if (p[SN_SG_T_LAYOUT] > SN_LAYOUT_NHWC)
        return sn__sg_fail(rd, SN_ERR_FORMAT, rec + SN_SG_T_LAYOUT,
                           "tensor %u '%s': unknown layout %u", i, nm, p[SN_SG_T_LAYOUT]);
    if (p[SN_SG_T_RANK] > SN_MAX_RANK)
        return sn__sg_fail(rd, SN_ERR_FORMAT, rec + SN_SG_T_RANK,
                           "tensor %u '%s': rank %u exceeds %d", i, nm, p[SN_SG_T_RANK],
                           SN_MAX_RANK);
    if (p[SN_SG_T_RESERVED0] || sn__sg_get32(p + SN_SG_T_RESERVED1))
        return sn__sg_fail(rd, SN_ERR_FORMAT, rec + SN_SG_T_RESERVED0,
                           "tensor %u '%s': reserved fields are not 0", i, nm);
    t->dtype = (sn_dtype)p[SN_SG_T_DTYPE];
    t->layout = (sn_layout)p[SN_SG_T_LAYOUT];
    t->rank = p[SN_SG_T_RANK];
    t->flags = sn__sg_get32(p + SN_SG_T_FLAGS);
    bool is_const = t->flags & SN_SG_TF_CONST, batched = t->flags & SN_SG_TF_BATCHED;
    bool is_input = rd->role[i] & SN__SG_ROLE_INPUT;
    if (t->flags & ~SN_SG_TF_ALL)
        return sn__sg_fail(rd, SN_ERR_FORMAT, rec + SN_SG_T_FLAGS,
                           "tensor %u '%s': unknown flags 0x%x", i, nm, t->flags);
    if (is_const && (is_input || batched))
        return sn__sg_fail(rd, SN_ERR_FORMAT, rec + SN_SG_T_FLAGS,
                           "tensor %u '%s': a constant cannot be %s", i, nm,
                           is_input ? "a graph input" : "batched");

    int64_t numel = 1;
    for (int k = 0; k < SN_MAX_RANK; k++) {
        uint64_t at = rec + SN_SG_T_DIMS + 8 * (uint64_t)k;
        int64_t v = (int64_t)sn__sg_get64(rd->p + at), m = v;
        t->d[k] = v;
        if (k >= t->rank) {
            if (v != 0)
                return sn__sg_fail(rd, SN_ERR_FORMAT, at,
                                   "tensor %u '%s': dim %d is %lld, past rank %d (must be 0)", i,
                                   nm, k, (long long)v, t->rank);
            continue;
        }
        if (k == 0 && v == SN_DIM_BATCH && is_input) {
            m = 1;
        } else if (v < 0) {
            return sn__sg_fail(rd, SN_ERR_FORMAT, at, "tensor %u '%s': dim %d is %lld%s", i, nm, k,
                               (long long)v,
                               k == 0 && v == SN_DIM_BATCH ? " (the batch) but the tensor is not a "
                                                             "graph input"
                                                           : " (negative)");
        }
        if (__builtin_mul_overflow(numel, m, &numel))
            return sn__sg_fail(rd, SN_ERR_FORMAT, at,
                               "tensor %u '%s': the element count overflows at dim %d (%lld)", i,
                               nm, k, (long long)v);
    }
    if (is_input && t->rank >= 1 && batched != (t->d[0] == SN_DIM_BATCH))
        return sn__sg_fail(rd, SN_ERR_FORMAT, rec + SN_SG_T_FLAGS,
                           "graph input %u '%s': the BATCHED flag is %s but dim 0 is %lld", i, nm,
                           batched ? "set" : "clear", (long long)t->d[0]);
    bool overflow = false;
    size_t bytes = sn_bytes_for(t->dtype, numel, &overflow);
    if (overflow)
        return sn__sg_fail(rd, SN_ERR_FORMAT, rec + SN_SG_T_DIMS,
                           "tensor %u '%s': %lld elements of %s overflow a byte count", i, nm,
                           (long long)numel, sn_dtype_name(t->dtype));

    t->data_off = sn__sg_get64(p + SN_SG_T_DATA_OFFSET);
    t->data_size = sn__sg_get64(p + SN_SG_T_DATA_SIZE);
    uint64_t woff = rd->off[SN_SG_SECT_WEIGHTS], wlen = rd->len[SN_SG_SECT_WEIGHTS];
    if (!is_const) {
        if (t->data_off || t->data_size)
            return sn__sg_fail(rd, SN_ERR_FORMAT, rec + SN_SG_T_DATA_OFFSET,
                               "tensor %u '%s' is not a constant but has a data range", i, nm);
        return SN_OK;
    }
    if (t->data_size != bytes)
        return sn__sg_fail(
            rd, SN_ERR_FORMAT, rec + SN_SG_T_DATA_SIZE,
            "tensor %u '%s': data size %llu does not match its %s shape (%llu bytes)", i, nm,
            (unsigned long long)t->data_size, sn_dtype_name(t->dtype), (unsigned long long)bytes);
    if (t->data_off % SN_SG_WEIGHT_ALIGN)
        return sn__sg_fail(rd, SN_ERR_FORMAT, rec + SN_SG_T_DATA_OFFSET,
                           "tensor %u '%s': data offset 0x%llx is not %d-byte aligned", i, nm,
                           (unsigned long long)t->data_off, SN_SG_WEIGHT_ALIGN);
    if (t->data_off < woff || t->data_off - woff > wlen ||
        t->data_size > wlen - (t->data_off - woff))
        return sn__sg_fail(rd, SN_ERR_FORMAT, rec + SN_SG_T_DATA_OFFSET,
                           "tensor %u '%s': data range [0x%llx, +%llu) is outside the weights "
                           "section [0x%llx, +%llu) of a %llu-byte file",
                           i, nm, (unsigned long long)t->data_off, (unsigned long long)t->data_size,
                           (unsigned long long)woff, (unsigned long long)wlen,
                           (unsigned long long)rd->size);
    return SN_OK;
}

typedef struct sn__sg_range {
    uint64_t off, size;
    uint32_t i;
} sn__sg_range;

static int sn__sg_cmp_range(const void *a, const void *b) {
    const sn__sg_range *x = a, *y = b;
    if (x->off != y->off) return x->off < y->off ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

sn_status sn__sg_read_tensors(sn__sg_reader *rd) {
    uint32_t n = rd->n_tensors, nc = 0, a = 0, b = 0;
    sn_status s = SN_OK;
    for (uint32_t i = 0; i < n; i++) {
        if ((s = sn__sg_tensor_record(rd, i)) != SN_OK) return s;
        nc += (rd->t[i].flags & SN_SG_TF_CONST) != 0;
    }
    const char **names = malloc(sizeof *names * (n ? n : 1));
    sn__sg_range *r = malloc(sizeof *r * (nc ? nc : 1));
    char q1[SN__SG_QUOTE_SIZE], q2[SN__SG_QUOTE_SIZE];
    if (!names || !r) {
        s = sn_errorf(rd->err, SN_ERR_OUT_OF_MEMORY, "out of memory checking %u tensors", n);
        goto done;
    }
    for (uint32_t i = 0; i < n; i++) names[i] = rd->t[i].name;
    int dup = sn__sg_find_duplicate(names, n, &a, &b);
    if (dup < 0) {
        s = sn_errorf(rd->err, SN_ERR_OUT_OF_MEMORY, "out of memory checking %u tensor names", n);
        goto done;
    }
    if (dup == 0) {
        s = sn__sg_fail(rd, SN_ERR_FORMAT, rd->t[b].rec,
                        "tensor %u has the same name '%s' as tensor %u", b,
                        sn__sg_quote(rd->t[b].name, q1), a);
        goto done;
    }
    /* Constants must not share bytes: a pass that rewrites one in place would corrupt another. */
    nc = 0;
    for (uint32_t i = 0; i < n; i++)
        if (rd->t[i].flags & SN_SG_TF_CONST)
            r[nc++] = (sn__sg_range){rd->t[i].data_off, rd->t[i].data_size, i};
    qsort(r, nc, sizeof *r, sn__sg_cmp_range);
    for (uint32_t k = 1; k < nc; k++)
        if (r[k - 1].off + r[k - 1].size > r[k].off && r[k].size && r[k - 1].size) {
            s = sn__sg_fail(rd, SN_ERR_FORMAT, rd->t[r[k].i].rec + SN_SG_T_DATA_OFFSET,
                            "tensor %u '%s': data [0x%llx, +%llu) overlaps tensor %u '%s' data "
                            "[0x%llx, +%llu)",
                            r[k].i, sn__sg_quote(rd->t[r[k].i].name, q1),
                            (unsigned long long)r[k].off, (unsigned long long)r[k].size, r[k - 1].i,
                            sn__sg_quote(rd->t[r[k - 1].i].name, q2),
                            (unsigned long long)r[k - 1].off, (unsigned long long)r[k - 1].size);
            goto done;
        }
done:
    free(names);
    free(r);
    return s;
}

sn_status sn__sg_add_tensors(sn__sg_reader *rd) {
    char q[SN__SG_QUOTE_SIZE];
    for (uint32_t i = 0; i < rd->n_tensors; i++) {
        const sn__sg_tensor *t = &rd->t[i];
        sn_shape shape = sn_shape_make(t->rank, t->d);
        int idx = -1;
        sn_status s;
        if (t->flags & SN_SG_TF_CONST) /* borrowed: weights stay in the caller's bytes */
            s = sn_graph_add_const(rd->g, t->name, t->dtype, &shape, rd->p + t->data_off,
                                   (size_t)t->data_size, false, &idx);
        else
            s = sn_graph_add_tensor(rd->g, t->name, t->dtype,
                                    rd->role[i] & SN__SG_ROLE_INPUT ? &shape : NULL, &idx);
        if (s == SN_OK && idx != (int)i) s = SN_ERR_INTERNAL;
        if (s != SN_OK)
            return sn__sg_fail(rd, s, t->rec, "tensor %u '%s': cannot add it to the graph: %s", i,
                               sn__sg_quote(t->name, q), sn_status_string(s));
        rd->g->tensors[idx].layout = t->layout;
    }
    uint64_t at = rd->off[SN_SG_SECT_GRAPH] + SN_SG_GRAPH_HEADER;
    for (uint32_t k = 0; k < rd->n_inputs; k++, at += 4) {
        sn_status s = sn_graph_add_input(rd->g, (int)sn__sg_get32(rd->p + at));
        if (s != SN_OK)
            return sn__sg_fail(rd, s, at, "graph input %u: cannot add it: %s", k,
                               sn_status_string(s));
    }
    return SN_OK;
}
