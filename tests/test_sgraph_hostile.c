/*
 * test_sgraph_hostile.c - the .sgraph reader on hostile input. Each case patches one field of a
 * good file, recomputes the checksums (so the structural checks are what is tested) and expects
 * a precise status with the byte offset in the message; truncations and bit flips sweep every
 * byte. Nothing may crash, hang or allocate what the file cannot back (the suite also runs under
 * ASan/UBSan, which fail on a wild read or a huge allocation).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sgraph.h"
#include "sgraph_fixtures.h"
#include "sgraph_format.h"
#include "test_support.h"

typedef struct file {
    uint8_t *b;
    size_t n;
} file;

static file make(int which, const char *test) {
    sn_graph *g = NULL;
    sn_status s = which ? sn_sgfx_chain(&g) : sn_sgfx_tiny_cnn(sn_test_fresh_seed(test), &g);
    cr_assert_eq(s, SN_OK);
    file f = {NULL, 0};
    sn_error e;
    cr_assert_eq(sn_sgraph_write_memory(g, (void **)&f.b, &f.n, &e), SN_OK, "%s", e.message);
    sn_graph_destroy(g);
    return f;
}

#define CNN(f) file f = make(0, __func__)
#define CHAIN(f) file f = make(1, __func__)

/* Read f (with fixed checksums when fix) and expect status want and substr in the message. */
static void expect(file f, bool fix, sn_status want, const char *substr) {
    if (fix) sn_sgfx_fix_crcs(f.b, f.n);
    sn_graph *g = (sn_graph *)&f; /* must be reset to NULL on failure */
    sn_error e;
    sn_status s = sn_sgraph_read(f.b, f.n, &g, &e);
    if (getenv("SN_TEST_VERBOSE")) fprintf(stderr, "%s: %s\n", sn_status_string(s), e.message);
    cr_assert_eq(s, want, "got %s (%s), want %s", sn_status_string(s), e.message,
                 sn_status_string(want));
    cr_assert_null(g);
    cr_assert_eq(e.status, want);
    cr_assert(strstr(e.message, "offset 0x"), "no offset in: %s", e.message);
    if (substr) cr_assert(strstr(e.message, substr), "'%s' not in: %s", substr, e.message);
    free(f.b);
}

static uint64_t sect(file f, uint32_t kind) {
    uint64_t off = 0, len = 0;
    cr_assert(sn_sgfx_section(f.b, f.n, kind, &off, &len));
    return off;
}

static uint64_t dir_entry(file f, uint32_t kind) {
    for (uint32_t i = 0;; i++) {
        uint64_t e = SN_SG_HEADER_SIZE + (uint64_t)i * SN_SG_DIR_ENTRY_SIZE;
        cr_assert(e + SN_SG_DIR_ENTRY_SIZE <= f.n);
        if (sn__sg_get32(f.b + e) == kind) return e;
    }
}

static uint64_t tensor(file f, const char *name) {
    uint64_t rec = sn_sgfx_tensor_named(f.b, f.n, name);
    cr_assert_neq(rec, UINT64_MAX, "no tensor %s", name);
    return rec;
}

Test(sgraph_hostile, header) {
    CNN(a);
    a.b[0] = 'X';
    expect(a, false, SN_ERR_FORMAT, "magic");
    CNN(b);
    sn__sg_put16(b.b + SN_SG_HDR_MAJOR, 2);
    expect(b, false, SN_ERR_VERSION, "newer");
    CNN(c);
    sn__sg_put16(c.b + SN_SG_HDR_MAJOR, 0);
    expect(c, true, SN_ERR_VERSION, "0.0");
    CNN(d);
    sn__sg_put32(d.b + SN_SG_HDR_FLAGS, 4);
    expect(d, true, SN_ERR_FORMAT, "flags");
    CNN(e);
    sn__sg_put64(e.b + SN_SG_HDR_FILE_SIZE, (uint64_t)1 << 63);
    expect(e, true, SN_ERR_FORMAT, "offset 0x10:");
    CNN(f);
    sn__sg_put32(f.b + SN_SG_HDR_SECTION_COUNT, 0x80000000u);
    expect(f, true, SN_ERR_FORMAT, "section count");
    CNN(g);
    g.b[SN_SG_HDR_CRC] ^= 1;
    expect(g, false, SN_ERR_FORMAT, "CRC");
    CHAIN(h);
    h.b[sect(h, SN_SG_SECT_STRINGS) + 1] ^= 0x20;
    expect(h, false, SN_ERR_FORMAT, "CRC");
}

Test(sgraph_hostile, directory) {
    CNN(a);
    sn__sg_put64(a.b + dir_entry(a, SN_SG_SECT_NODES) + SN_SG_DIR_SIZE, (uint64_t)1 << 63);
    expect(a, true, SN_ERR_FORMAT, "outside the file");
    CNN(b);
    sn__sg_put64(b.b + dir_entry(b, SN_SG_SECT_NODES) + SN_SG_DIR_OFFSET, (uint64_t)1 << 63);
    expect(b, true, SN_ERR_FORMAT, "outside the file");
    CNN(c); /* the tensor table moved onto the string table */
    sn__sg_put64(c.b + dir_entry(c, SN_SG_SECT_TENSORS) + SN_SG_DIR_OFFSET,
                 sect(c, SN_SG_SECT_STRINGS));
    expect(c, true, SN_ERR_FORMAT, "overlaps");
    CNN(d);
    sn__sg_put32(d.b + dir_entry(d, SN_SG_SECT_METADATA), SN_SG_SECT_GRAPH);
    expect(d, true, SN_ERR_FORMAT, "second section");
    CNN(e);
    sn__sg_put32(e.b + dir_entry(e, SN_SG_SECT_METADATA), 99);
    expect(e, true, SN_ERR_FORMAT, "no section of kind 5");
    CNN(f);
    uint64_t w = dir_entry(f, SN_SG_SECT_WEIGHTS);
    sn__sg_put64(f.b + w + SN_SG_DIR_OFFSET, sn__sg_get64(f.b + w + SN_SG_DIR_OFFSET) - 8);
    expect(f, true, SN_ERR_FORMAT, "multiple of 64");
    CNN(g); /* a non-zero byte in the padding before the weights (no CRC covers it) */
    uint64_t mo = 0, ml = 0;
    cr_assert(sn_sgfx_section(g.b, g.n, SN_SG_SECT_METADATA, &mo, &ml));
    cr_assert_lt(mo + ml, sect(g, SN_SG_SECT_WEIGHTS), "the fixture should have padding here");
    g.b[sect(g, SN_SG_SECT_WEIGHTS) - 1] = 1;
    expect(g, false, SN_ERR_FORMAT, "padding");
}

Test(sgraph_hostile, huge_counts) {
    const uint32_t big[] = {0x80000000u, 0xffffffffu};
    for (int k = 0; k < 2; k++) {
        CNN(a);
        sn__sg_put32(a.b + sect(a, SN_SG_SECT_TENSORS), big[k]);
        expect(a, true, SN_ERR_FORMAT, "tensor count");
        CNN(b);
        sn__sg_put32(b.b + sect(b, SN_SG_SECT_NODES), big[k]);
        expect(b, true, SN_ERR_FORMAT, "node count");
        CNN(c);
        sn__sg_put32(c.b + sect(c, SN_SG_SECT_GRAPH), big[k]);
        expect(c, true, SN_ERR_FORMAT, "do not fit");
        CNN(d);
        sn__sg_put32(d.b + sect(d, SN_SG_SECT_METADATA) + SN_SG_M_N_LABELS, big[k]);
        expect(d, true, SN_ERR_FORMAT, "do not fit");
        CNN(e);
        sn__sg_put32(e.b + sect(e, SN_SG_SECT_METADATA) + SN_SG_M_N_PROPS, big[k]);
        expect(e, true, SN_ERR_FORMAT, "do not fit");
        CNN(f); /* node 2 (conv1): its input count, then its "pads" element count */
        sn__sg_put32(f.b + sn_sgfx_node_rec(f.b, f.n, 1) + 8, big[k]);
        expect(f, true, SN_ERR_FORMAT, "inputs");
        CNN(g);
        sn__sg_put32(g.b + sn_sgfx_node_attr(g.b, g.n, 1, "pads") + 8, big[k]);
        expect(g, true, SN_ERR_FORMAT, "pads");
        CNN(h);
        sn__sg_put32(h.b + sn_sgfx_node_rec(h.b, h.n, 1) + 16, big[k]);
        expect(h, true, SN_ERR_FORMAT, "attributes");
    }
}

Test(sgraph_hostile, references_out_of_range) {
    CNN(a);
    uint64_t slen = 0, soff = 0;
    cr_assert(sn_sgfx_section(a.b, a.n, SN_SG_SECT_STRINGS, &soff, &slen));
    sn__sg_put32(a.b + tensor(a, "relu1") + SN_SG_T_NAME, (uint32_t)slen);
    expect(a, true, SN_ERR_FORMAT, "string table");
    CNN(b);
    sn__sg_put32(b.b + sn_sgfx_node_rec(b.b, b.n, 0), 0xffffffffu);
    expect(b, true, SN_ERR_FORMAT, "node 0 op");
    const int32_t bad[] = {14, 1000, -2, INT32_MIN};
    for (int k = 0; k < 4; k++) {
        CNN(c);
        sn__sg_put32(c.b + sn_sgfx_node_rec(c.b, c.n, 2) + SN_SG_NODE_HEADER, (uint32_t)bad[k]);
        expect(c, true, SN_ERR_FORMAT, "out of range");
        CNN(d);
        sn__sg_put32(d.b + sn_sgfx_node_rec(d.b, d.n, 2) + SN_SG_NODE_HEADER + 4, (uint32_t)bad[k]);
        expect(d, true, SN_ERR_FORMAT, "output 0");
        CNN(e);
        sn__sg_put32(e.b + sect(e, SN_SG_SECT_GRAPH) + SN_SG_GRAPH_HEADER + 4, (uint32_t)bad[k]);
        expect(e, true, SN_ERR_FORMAT, "graph output 0");
    }
    CNN(f); /* Relu's one required input omitted */
    sn__sg_put32(f.b + sn_sgfx_node_rec(f.b, f.n, 2) + SN_SG_NODE_HEADER, 0xffffffffu);
    expect(f, true, SN_ERR_FORMAT, "requires");
    CNN(g); /* relu1 written by pool1 as well */
    sn__sg_put32(g.b + sn_sgfx_node_rec(g.b, g.n, 3) + SN_SG_NODE_HEADER + 4,
                 sn__sg_get32(g.b + sn_sgfx_node_rec(g.b, g.n, 2) + SN_SG_NODE_HEADER + 4));
    expect(g, true, SN_ERR_FORMAT, "already has a producer");
    CNN(h); /* a node writing a constant */
    sn__sg_put32(h.b + sn_sgfx_node_rec(h.b, h.n, 2) + SN_SG_NODE_HEADER + 4, 2);
    expect(h, true, SN_ERR_FORMAT, "constant");
    CNN(i); /* two tensors with one name */
    sn__sg_put32(i.b + tensor(i, "relu1"), sn__sg_get32(i.b + tensor(i, "conv1")));
    expect(i, true, SN_ERR_FORMAT, "same name");
}

Test(sgraph_hostile, tensor_fields) {
    CNN(a);
    sn__sg_put64(a.b + tensor(a, "relu1") + SN_SG_T_DIMS + 16, (uint64_t)-5);
    expect(a, true, SN_ERR_FORMAT, "negative");
    CNN(b);
    sn__sg_put64(b.b + tensor(b, "relu1") + SN_SG_T_DIMS, (uint64_t)SN_DIM_BATCH);
    expect(b, true, SN_ERR_FORMAT, "not a graph input");
    CNN(c); /* [2^62, 2^62, ...] overflows the element count */
    sn__sg_put64(c.b + tensor(c, "relu1") + SN_SG_T_DIMS + 8, (uint64_t)1 << 62);
    sn__sg_put64(c.b + tensor(c, "relu1") + SN_SG_T_DIMS + 16, (uint64_t)1 << 62);
    expect(c, true, SN_ERR_FORMAT, "overflows");
    CNN(d); /* 2^61 f32 elements: the count fits int64, the bytes do not */
    sn__sg_put64(d.b + tensor(d, "conv1.bias") + SN_SG_T_DIMS, (uint64_t)1 << 61);
    expect(d, true, SN_ERR_FORMAT, "overflow a byte count");
    CNN(e);
    e.b[tensor(e, "relu1") + SN_SG_T_DTYPE] = SN_DTYPE_COUNT;
    expect(e, true, SN_ERR_FORMAT, "dtype");
    CNN(f);
    f.b[tensor(f, "relu1") + SN_SG_T_RANK] = 9;
    expect(f, true, SN_ERR_FORMAT, "rank 9");
    CNN(g);
    sn__sg_put64(g.b + tensor(g, "relu1") + SN_SG_T_DIMS + 8 * 6, 3);
    expect(g, true, SN_ERR_FORMAT, "past rank");
    CNN(h);
    sn__sg_put32(h.b + tensor(h, "relu1") + SN_SG_T_FLAGS, 0x10);
    expect(h, true, SN_ERR_FORMAT, "unknown flags");
    CNN(i);
    sn__sg_put32(i.b + tensor(i, "image") + SN_SG_T_FLAGS, 0);
    expect(i, true, SN_ERR_FORMAT, "BATCHED");
    CNN(j);
    sn__sg_put32(j.b + tensor(j, "relu1") + SN_SG_T_FLAGS, SN_SG_TF_CONST);
    expect(j, true, SN_ERR_FORMAT, "data size");
    CNN(k);
    sn__sg_put64(k.b + tensor(k, "relu1") + SN_SG_T_DATA_OFFSET, 64);
    expect(k, true, SN_ERR_FORMAT, "not a constant");
}

Test(sgraph_hostile, weight_ranges) {
    CNN(a); /* fc.weight moved onto conv1.weight */
    sn__sg_put64(a.b + tensor(a, "fc.weight") + SN_SG_T_DATA_OFFSET,
                 sn__sg_get64(a.b + tensor(a, "conv1.weight") + SN_SG_T_DATA_OFFSET));
    expect(a, true, SN_ERR_FORMAT, "overlaps");
    CNN(b);
    uint64_t at = tensor(b, "fc.bias") + SN_SG_T_DATA_OFFSET;
    sn__sg_put64(b.b + at, sn__sg_get64(b.b + at) + 4);
    expect(b, true, SN_ERR_FORMAT, "aligned");
    CNN(c);
    sn__sg_put64(c.b + tensor(c, "fc.bias") + SN_SG_T_DATA_OFFSET, c.n + 64 - c.n % 64);
    expect(c, true, SN_ERR_FORMAT, "outside the weights");
    CNN(d);
    sn__sg_put64(d.b + tensor(d, "fc.bias") + SN_SG_T_DATA_OFFSET, (uint64_t)1 << 63);
    expect(d, true, SN_ERR_FORMAT, "outside the weights");
    CNN(e);
    sn__sg_put64(e.b + tensor(e, "fc.bias") + SN_SG_T_DATA_SIZE, (uint64_t)1 << 63);
    expect(e, true, SN_ERR_FORMAT, "data size");
    CNN(f); /* aligned, but pointing at the header */
    sn__sg_put64(f.b + tensor(f, "fc.bias") + SN_SG_T_DATA_OFFSET, 0);
    expect(f, true, SN_ERR_FORMAT, "outside the weights");
}

Test(sgraph_hostile, nodes_and_attributes) {
    CNN(a); /* "Relu" -> "Relx": the string is used only as relu1's op */
    uint64_t soff = sect(a, SN_SG_SECT_STRINGS);
    a.b[soff + sn_sgfx_string_ref(a.b, a.n, "Relu") + 3] = 'x';
    expect(a, true, SN_ERR_UNSUPPORTED, "unknown op 'Relx'");
    CNN(b); /* Conv's group (int) declared as ints of one element: same payload size */
    sn__sg_put32(b.b + sn_sgfx_node_attr(b.b, b.n, 1, "group") + 4, SN_ATTR_INTS);
    expect(b, true, SN_ERR_FORMAT, "must be int");
    CNN(c);
    sn__sg_put32(c.b + sn_sgfx_node_attr(c.b, c.n, 1, "group") + 4, 9);
    expect(c, true, SN_ERR_FORMAT, "unknown type 9");
    CNN(d); /* an attribute name Conv does not have */
    sn__sg_put32(d.b + sn_sgfx_node_attr(d.b, d.n, 1, "group"),
                 (uint32_t)sn_sgfx_string_ref(d.b, d.n, "axis"));
    expect(d, true, SN_ERR_FORMAT, "no attribute 'axis'");
    CNN(e); /* pads named strides: a duplicate */
    sn__sg_put32(e.b + sn_sgfx_node_attr(e.b, e.n, 1, "pads"),
                 (uint32_t)sn_sgfx_string_ref(e.b, e.n, "strides"));
    expect(e, true, SN_ERR_FORMAT, "twice");
    CNN(f); /* Relu with two outputs */
    sn__sg_put32(f.b + sn_sgfx_node_rec(f.b, f.n, 2) + 12, 2);
    expect(f, true, SN_ERR_FORMAT, "outputs");
    CNN(g);
    sn__sg_put32(g.b + sn_sgfx_node_attr(g.b, g.n, 1, "group") + 8, 2);
    expect(g, true, SN_ERR_FORMAT, "count 2");
    CNN(h); /* one node fewer than the table holds */
    uint64_t n_off = sect(h, SN_SG_SECT_NODES);
    sn__sg_put32(h.b + n_off, sn__sg_get32(h.b + n_off) - 1);
    expect(h, true, SN_ERR_FORMAT, "stray bytes");
}

Test(sgraph_hostile, graph_level) {
    CHAIN(a); /* a = relu(b), b = relu(a): a cycle */
    sn__sg_put32(a.b + sn_sgfx_node_rec(a.b, a.n, 0) + SN_SG_NODE_HEADER, 2);
    expect(a, true, SN_ERR_GRAPH, "cycle");
    CNN(b); /* conv1.weight with 2 input channels: Conv's inference rejects the graph */
    uint64_t w = tensor(b, "conv1.weight");
    sn__sg_put64(b.b + w + SN_SG_T_DIMS + 8, 2);
    sn__sg_put64(b.b + w + SN_SG_T_DATA_SIZE, 4 * 2 * 3 * 3 * 4);
    expect(b, true, SN_ERR_SHAPE, "node table");
    CNN(c); /* a recorded shape that contradicts inference */
    sn__sg_put64(c.b + tensor(c, "relu1") + SN_SG_T_DIMS + 8, 5);
    expect(c, true, SN_ERR_FORMAT, "'relu1' is recorded as f32 [N,5,8,8]");
    CNN(d);
    sn__sg_put32(d.b + tensor(d, "gap") + SN_SG_T_FLAGS, 0);
    expect(d, true, SN_ERR_FORMAT, "'gap'");
    CNN(e);
    e.b[tensor(e, "prob") + SN_SG_T_DTYPE] = SN_DTYPE_F16;
    expect(e, true, SN_ERR_FORMAT, "'prob'");
    CHAIN(f); /* drop the last node: its output "b" is a graph output nothing produces */
    uint64_t off = sect(f, SN_SG_SECT_NODES), last = sn_sgfx_node_rec(f.b, f.n, 1);
    uint64_t dir = dir_entry(f, SN_SG_SECT_NODES);
    sn__sg_put32(f.b + off, 1);
    sn__sg_put64(f.b + dir + SN_SG_DIR_SIZE, last - off);
    memset(f.b + last, 0, SN_SG_NODE_HEADER + 8); /* it becomes padding */
    expect(f, true, SN_ERR_FORMAT, "not produced by any node");
    CNN(g);
    sn__sg_put32(g.b + sect(g, SN_SG_SECT_GRAPH) + 4, 0);
    expect(g, true, SN_ERR_FORMAT, "do not fit");
    CNN(h); /* an attribute value the op rejects: a file problem, not a caller's bad argument */
    sn__sg_put64(h.b + sn_sgfx_node_attr(h.b, h.n, 0, "mode") + SN_SG_ATTR_HEADER, 7);
    expect(h, true, SN_ERR_FORMAT, "mode 7");
    CNN(i); /* a NaN float attribute */
    sn__sg_put32(i.b + sn_sgfx_node_attr(i.b, i.n, 4, "min") + SN_SG_ATTR_HEADER, 0x7fc00000u);
    expect(i, true, SN_ERR_GRAPH, "NaN");
}

Test(sgraph_hostile, metadata) {
    CNN(a);
    uint64_t m = sect(a, SN_SG_SECT_METADATA);
    sn__sg_put32(a.b + m + SN_SG_M_RESIZE, 7);
    expect(a, true, SN_ERR_FORMAT, "resize mode");
    CNN(b);
    m = sect(b, SN_SG_SECT_METADATA);
    sn__sg_put32(b.b + m + SN_SG_M_STD + 4, 0x7fc00000u); /* NaN */
    expect(b, true, SN_ERR_FORMAT, "std");
    CNN(c);
    m = sect(c, SN_SG_SECT_METADATA);
    sn__sg_put32(c.b + m + SN_SG_M_PRESENT, 0);
    expect(c, true, SN_ERR_FORMAT, "absent");
    CNN(d);
    m = sect(d, SN_SG_SECT_METADATA);
    sn__sg_put32(d.b + m + SN_SG_M_WIDTH, (uint32_t)-4);
    expect(d, true, SN_ERR_FORMAT, "width");
    CNN(e); /* the second property's key made equal to the first's */
    m = sect(e, SN_SG_SECT_METADATA) + SN_SG_META_FIXED + 4 * 10;
    sn__sg_put32(e.b + m + 8, sn__sg_get32(e.b + m));
    expect(e, true, SN_ERR_FORMAT, "same key");
    CNN(f);
    m = sect(f, SN_SG_SECT_METADATA) + SN_SG_META_FIXED;
    sn__sg_put32(f.b + m + 4 * 3, 0x7fffffffu);
    expect(f, true, SN_ERR_FORMAT, "label 3");
}

/* Every strict prefix fails (the header records the size); with the recorded size patched to
 * match, sections run past the end and must still be caught. */
Test(sgraph_hostile, truncation_at_every_offset) {
    CNN(f);
    for (size_t k = 0; k < f.n; k++) {
        for (int patch = 0; patch < 2; patch++) {
            uint8_t *t = malloc(k ? k : 1); /* exactly k bytes: ASan sees any read past them */
            memcpy(t, f.b, k);
            if (patch && k >= SN_SG_HDR_CRC + 4) {
                sn__sg_put64(t + SN_SG_HDR_FILE_SIZE, k);
                sn_sgfx_fix_crcs(t, k);
            }
            sn_graph *g = NULL;
            sn_error e;
            sn_status s = sn_sgraph_read(t, k, &g, &e);
            cr_assert_neq(s, SN_OK, "a %zu-byte prefix of %zu was accepted", k, f.n);
            cr_assert_null(g);
            cr_assert(strstr(e.message, "offset 0x"), "%s", e.message);
            free(t);
        }
    }
    free(f.b);
}

/* A flipped bit is always caught by a CRC or a zero check; with the checksums recomputed, it is
 * caught by a structural check or leaves a valid graph that writes and reads back. */
static void flip_sweep(file f, int bits_per_byte, uint64_t seed) {
    sn_rng r;
    sn_rng_seed(&r, seed);
    uint8_t *t = malloc(f.n);
    int accepted = 0;
    for (size_t k = 0; k < f.n; k++) {
        for (int j = 0; j < bits_per_byte; j++) {
            int bit = bits_per_byte == 8 ? j : (int)(sn_rng_u64(&r) % 8);
            for (int fix = 0; fix < 2; fix++) {
                memcpy(t, f.b, f.n);
                t[k] ^= (uint8_t)(1u << bit);
                if (fix) sn_sgfx_fix_crcs(t, f.n);
                sn_graph *g = NULL;
                sn_error e;
                sn_status s = sn_sgraph_read(t, f.n, &g, &e);
                if (!fix)
                    cr_assert_neq(s, SN_OK, "flip of bit %d at offset %zu was not detected", bit,
                                  k);
                if (s != SN_OK) {
                    cr_assert_null(g);
                    cr_assert(strstr(e.message, "offset 0x"), "flip at %zu: %s", k, e.message);
                    continue;
                }
                accepted++;
                cr_assert_eq(sn_graph_validate(g, &e), SN_OK, "flip at %zu: %s", k, e.message);
                void *again = NULL;
                size_t n = 0;
                cr_assert_eq(sn_sgraph_write_memory(g, &again, &n, &e), SN_OK, "flip at %zu: %s", k,
                             e.message);
                sn_graph *g2 = NULL;
                cr_assert_eq(sn_sgraph_read(again, n, &g2, &e), SN_OK, "flip at %zu: %s", k,
                             e.message);
                sn_graph_destroy(g2);
                sn_graph_destroy(g);
                free(again);
            }
        }
    }
    cr_assert_gt(accepted, 0); /* weight bytes at least: the sweep reached valid graphs */
    free(t);
    free(f.b);
}

Test(sgraph_hostile, bit_flips_everywhere_in_a_cnn) {
    uint64_t seed = sn_test_fresh_seed("sgraph_hostile/bit_flips");
    sn_graph *g = NULL;
    cr_assert_eq(sn_sgfx_tiny_cnn(seed, &g), SN_OK);
    file f = {NULL, 0};
    cr_assert_eq(sn_sgraph_write_memory(g, (void **)&f.b, &f.n, NULL), SN_OK);
    sn_graph_destroy(g);
    flip_sweep(f, 1, seed);
}

Test(sgraph_hostile, every_bit_of_a_chain) {
    CHAIN(f);
    flip_sweep(f, 8, 0);
}
