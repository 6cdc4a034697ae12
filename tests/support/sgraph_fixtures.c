/* sgraph_fixtures.c - see sgraph_fixtures.h. */
#include "sgraph_fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "sgraph.h"
#include "sgraph_format.h"
#include "test_support.h"

/* --- graphs ------------------------------------------------------------------------------ */

static sn_status sn__sgfx_const(sn_graph *g, sn_rng *r, const char *name, int rank,
                                const int64_t *dims, int *out) {
    sn_shape sh = sn_shape_make(rank, dims);
    size_t n = (size_t)sn_shape_numel(&sh);
    float *w = malloc(n * sizeof *w);
    if (!w) return SN_ERR_OUT_OF_MEMORY;
    sn_rng_fill(r, w, n, -1.0f, 1.0f);
    sn_status s = sn_graph_add_const(g, name, SN_DTYPE_F32, &sh, w, n * sizeof *w, true, out);
    free(w);
    return s;
}

static sn_status sn__sgfx_node(sn_graph *g, sn_op op, const char *name, const int *in, int n_in,
                               const sn_attr *attrs, int n_attrs, int *out) {
    sn_status s = sn_graph_add_tensor(g, name, SN_DTYPE_F32, NULL, out);
    if (s == SN_OK) s = sn_graph_add_node(g, op, name, in, n_in, out, 1, attrs, n_attrs, NULL);
    return s;
}

sn_status sn_sgfx_tiny_cnn(uint64_t seed, sn_graph **out) {
    sn_rng r;
    sn_rng_seed(&r, seed);
    sn_graph *g = NULL;
    sn_status s = sn_graph_create(&g);
    if (s != SN_OK) return s;
    int x, up, w1, b1, conv, relu, pool, clip, gap, flat, w2, b2, logits, prob;
    const int64_t in_dims[] = {SN_DIM_BATCH, 3, 4, 4}, w1d[] = {4, 3, 3, 3}, b1d[] = {4};
    const int64_t w2d[] = {10, 4}, b2d[] = {10};
    sn_shape in_shape = sn_shape_make(4, in_dims);
    const float scales[] = {1, 1, 2, 2};
    const int64_t ones[] = {1, 1}, pads[] = {1, 1, 1, 1}, k2[] = {2, 2};
    sn_attr resize_a[] = {sn_attr_int("mode", 1), sn_attr_floats("scales", scales, 4)};
    sn_attr conv_a[] = {sn_attr_ints("strides", ones, 2), sn_attr_ints("pads", pads, 4),
                        sn_attr_int("group", 1)};
    sn_attr pool_a[] = {sn_attr_ints("kernel_shape", k2, 2), sn_attr_ints("strides", k2, 2)};
    sn_attr clip_a[] = {sn_attr_float("min", 0.0f), sn_attr_float("max", 6.0f)};
    sn_attr flat_a[] = {sn_attr_int("axis", 1)};
    sn_attr gemm_a[] = {sn_attr_int("transB", 1), sn_attr_float("alpha", 0.75f)};
    sn_attr soft_a[] = {sn_attr_int("axis", -1)};
    if ((s = sn_graph_add_tensor(g, "image", SN_DTYPE_F32, &in_shape, &x)) != SN_OK) goto fail;
    g->tensors[x].layout = SN_LAYOUT_NCHW;
    if ((s = sn_graph_add_input(g, x)) != SN_OK ||
        (s = sn__sgfx_node(g, SN_OP_RESIZE, "up", &x, 1, resize_a, 2, &up)) != SN_OK ||
        (s = sn__sgfx_const(g, &r, "conv1.weight", 4, w1d, &w1)) != SN_OK ||
        (s = sn__sgfx_const(g, &r, "conv1.bias", 1, b1d, &b1)) != SN_OK ||
        (s = sn__sgfx_node(g, SN_OP_CONV, "conv1", (int[]){up, w1, b1}, 3, conv_a, 3, &conv)) !=
            SN_OK ||
        (s = sn__sgfx_node(g, SN_OP_RELU, "relu1", &conv, 1, NULL, 0, &relu)) != SN_OK ||
        (s = sn__sgfx_node(g, SN_OP_MAX_POOL, "pool1", &relu, 1, pool_a, 2, &pool)) != SN_OK ||
        (s = sn__sgfx_node(g, SN_OP_CLIP, "clip1", &pool, 1, clip_a, 2, &clip)) != SN_OK ||
        (s = sn__sgfx_node(g, SN_OP_GLOBAL_AVG_POOL, "gap", &clip, 1, NULL, 0, &gap)) != SN_OK ||
        (s = sn__sgfx_node(g, SN_OP_FLATTEN, "flat", &gap, 1, flat_a, 1, &flat)) != SN_OK ||
        (s = sn__sgfx_const(g, &r, "fc.weight", 2, w2d, &w2)) != SN_OK ||
        (s = sn__sgfx_const(g, &r, "fc.bias", 1, b2d, &b2)) != SN_OK ||
        (s = sn__sgfx_node(g, SN_OP_GEMM, "logits", (int[]){flat, w2, b2}, 3, gemm_a, 2,
                           &logits)) != SN_OK ||
        (s = sn__sgfx_node(g, SN_OP_SOFTMAX, "prob", &logits, 1, soft_a, 1, &prob)) != SN_OK ||
        (s = sn_graph_add_output(g, prob)) != SN_OK ||
        (s = sn_graph_add_output(g, logits)) != SN_OK)
        goto fail;
    const char *labels[10];
    char buf[10][16];
    for (int i = 0; i < 10; i++) {
        snprintf(buf[i], sizeof buf[i], "class_%d", i);
        labels[i] = buf[i];
    }
    if ((s = sn_graph_set_labels(g, labels, 10)) != SN_OK ||
        (s = sn_graph_set_prop(g, "producer", "sgraph_fixtures")) != SN_OK ||
        (s = sn_graph_set_prop(g, "description", "a tiny CNN for format tests")) != SN_OK)
        goto fail;
    sn_preprocess pp = {1,
                        4,
                        4,
                        6,
                        SN_RESIZE_SHORTER_CROP,
                        SN_CHANNELS_RGB,
                        {0.485f, 0.456f, 0.406f},
                        {0.229f, 0.224f, 0.225f}};
    g->meta.preprocess = pp;
    *out = g;
    return SN_OK;
fail:
    sn_graph_destroy(g);
    return s;
}

sn_status sn_sgfx_mixed(uint64_t seed, sn_graph **out) {
    sn_rng r;
    sn_rng_seed(&r, seed);
    sn_graph *g = NULL;
    sn_status s = sn_graph_create(&g);
    if (s != SN_OK) return s;
    const int64_t in_dims[] = {SN_DIM_BATCH, 4, 6, 6}, c4[] = {4}, wd[] = {128, 6}, c6[] = {6};
    const int64_t pads[] = {0, 0, 1, 1, 0, 0, 1, 1}, k2[] = {2, 2}, perm[] = {0, 2, 3, 1};
    const int64_t shape[] = {0, -1};
    sn_shape in_shape = sn_shape_make(4, in_dims);
    sn_attr bn_a[] = {sn_attr_float("epsilon", 1e-3f)};
    sn_attr pad_a[] = {sn_attr_ints("pads", pads, 8), sn_attr_int("mode", 0),
                       sn_attr_float("value", 0.5f)};
    sn_attr ap_a[] = {sn_attr_ints("kernel_shape", k2, 2), sn_attr_ints("strides", k2, 2),
                      sn_attr_int("count_include_pad", 1)};
    sn_attr cat_a[] = {sn_attr_int("axis", 1)};
    sn_attr tr_a[] = {sn_attr_ints("perm", perm, 4)};
    sn_attr rs_a[] = {sn_attr_ints("shape", shape, 2)};
    sn_attr lr_a[] = {sn_attr_float("alpha", 0.1f)};
    int x, sc, bi, me, va, bn, pad, ap, sig, mul, cat, tr, rs, w, mm, b, add, lr;
    if ((s = sn_graph_add_tensor(g, "x", SN_DTYPE_F32, &in_shape, &x)) != SN_OK) goto fail;
    g->tensors[x].layout = SN_LAYOUT_NCHW;
    if ((s = sn_graph_add_input(g, x)) != SN_OK ||
        (s = sn__sgfx_const(g, &r, "bn.scale", 1, c4, &sc)) != SN_OK ||
        (s = sn__sgfx_const(g, &r, "bn.bias", 1, c4, &bi)) != SN_OK ||
        (s = sn__sgfx_const(g, &r, "bn.mean", 1, c4, &me)) != SN_OK ||
        (s = sn__sgfx_const(g, &r, "bn.var", 1, c4, &va)) != SN_OK)
        goto fail;
    for (int i = 0; i < 4; i++) ((float *)g->tensors[va].data)[i] += 2.0f; /* positive */
    if ((s = sn__sgfx_node(g, SN_OP_BATCHNORM, "bn", (int[]){x, sc, bi, me, va}, 5, bn_a, 1,
                           &bn)) != SN_OK ||
        (s = sn__sgfx_node(g, SN_OP_PAD, "pad", &bn, 1, pad_a, 3, &pad)) != SN_OK ||
        (s = sn__sgfx_node(g, SN_OP_AVG_POOL, "ap", &pad, 1, ap_a, 3, &ap)) != SN_OK ||
        (s = sn__sgfx_node(g, SN_OP_SIGMOID, "sig", &ap, 1, NULL, 0, &sig)) != SN_OK ||
        (s = sn__sgfx_node(g, SN_OP_MUL, "mul", (int[]){ap, sig}, 2, NULL, 0, &mul)) != SN_OK ||
        (s = sn__sgfx_node(g, SN_OP_CONCAT, "cat", (int[]){mul, ap}, 2, cat_a, 1, &cat)) != SN_OK ||
        (s = sn__sgfx_node(g, SN_OP_TRANSPOSE, "tr", &cat, 1, tr_a, 1, &tr)) != SN_OK ||
        (s = sn__sgfx_node(g, SN_OP_RESHAPE, "rs", &tr, 1, rs_a, 1, &rs)) != SN_OK ||
        (s = sn__sgfx_const(g, &r, "fc.w", 2, wd, &w)) != SN_OK ||
        (s = sn__sgfx_node(g, SN_OP_MATMUL, "mm", (int[]){rs, w}, 2, NULL, 0, &mm)) != SN_OK ||
        (s = sn__sgfx_const(g, &r, "fc.b", 1, c6, &b)) != SN_OK ||
        (s = sn__sgfx_node(g, SN_OP_ADD, "add", (int[]){mm, b}, 2, NULL, 0, &add)) != SN_OK ||
        (s = sn__sgfx_node(g, SN_OP_LEAKY_RELU, "out", &add, 1, lr_a, 1, &lr)) != SN_OK ||
        (s = sn_graph_add_output(g, lr)) != SN_OK ||
        (s = sn_graph_set_prop(g, "model", "mixed")) != SN_OK)
        goto fail;
    *out = g;
    return SN_OK;
fail:
    sn_graph_destroy(g);
    return s;
}

sn_status sn_sgfx_chain(sn_graph **out) {
    sn_graph *g = NULL;
    sn_status s = sn_graph_create(&g);
    if (s != SN_OK) return s;
    const int64_t d[] = {SN_DIM_BATCH, 8};
    sn_shape sh = sn_shape_make(2, d);
    int x, a, b;
    if ((s = sn_graph_add_tensor(g, "x", SN_DTYPE_F32, &sh, &x)) != SN_OK ||
        (s = sn_graph_add_input(g, x)) != SN_OK ||
        (s = sn__sgfx_node(g, SN_OP_RELU, "a", &x, 1, NULL, 0, &a)) != SN_OK ||
        (s = sn__sgfx_node(g, SN_OP_RELU, "b", &a, 1, NULL, 0, &b)) != SN_OK ||
        (s = sn_graph_add_output(g, b)) != SN_OK) {
        sn_graph_destroy(g);
        return s;
    }
    *out = g;
    return SN_OK;
}

/* --- byte helpers ------------------------------------------------------------------------ */

static uint32_t sn__sgfx_count(const uint8_t *buf, size_t size) {
    if (size < SN_SG_HEADER_SIZE) return 0;
    uint32_t n = sn__sg_get32(buf + SN_SG_HDR_SECTION_COUNT);
    if (n > SN_SG_MAX_SECTIONS || SN_SG_HEADER_SIZE + (uint64_t)n * SN_SG_DIR_ENTRY_SIZE > size)
        return 0;
    return n;
}

int sn_sgfx_section(const uint8_t *buf, size_t size, uint32_t kind, uint64_t *off, uint64_t *len) {
    uint32_t n = sn__sgfx_count(buf, size);
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = buf + SN_SG_HEADER_SIZE + i * SN_SG_DIR_ENTRY_SIZE;
        uint64_t o = sn__sg_get64(e + SN_SG_DIR_OFFSET), l = sn__sg_get64(e + SN_SG_DIR_SIZE);
        if (sn__sg_get32(e) == kind && o <= size && l <= size - o) {
            *off = o;
            *len = l;
            return 1;
        }
    }
    return 0;
}

void sn_sgfx_fix_crcs(uint8_t *buf, size_t size) {
    uint32_t n = sn__sgfx_count(buf, size);
    if (size < SN_SG_HEADER_SIZE) return;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *e = buf + SN_SG_HEADER_SIZE + i * SN_SG_DIR_ENTRY_SIZE;
        uint64_t o = sn__sg_get64(e + SN_SG_DIR_OFFSET), l = sn__sg_get64(e + SN_SG_DIR_SIZE);
        if (o <= size && l <= size - o)
            sn__sg_put32(e + SN_SG_DIR_CRC, (uint32_t)crc32_z(0, buf + o, l));
    }
    uLong crc = crc32_z(0, buf, SN_SG_HDR_CRC);
    crc = crc32_z(crc, buf + SN_SG_HEADER_SIZE, (size_t)n * SN_SG_DIR_ENTRY_SIZE);
    sn__sg_put32(buf + SN_SG_HDR_CRC, (uint32_t)crc);
}

uint64_t sn_sgfx_tensor_rec(const uint8_t *buf, size_t size, uint32_t i) {
    uint64_t off = 0, len = 0;
    if (!sn_sgfx_section(buf, size, SN_SG_SECT_TENSORS, &off, &len)) return UINT64_MAX;
    return off + SN_SG_TABLE_HEADER + (uint64_t)i * SN_SG_TENSOR_RECORD;
}

static uint64_t sn__sgfx_attr_size(const uint8_t *a) {
    uint32_t type = sn__sg_get32(a + 4), count = sn__sg_get32(a + 8);
    uint64_t elem = type == SN_ATTR_INT || type == SN_ATTR_INTS ? 8 : 4;
    return SN_SG_ATTR_HEADER + elem * count;
}

uint64_t sn_sgfx_node_rec(const uint8_t *buf, size_t size, uint32_t i) {
    uint64_t off = 0, len = 0;
    if (!sn_sgfx_section(buf, size, SN_SG_SECT_NODES, &off, &len)) return UINT64_MAX;
    uint64_t cur = off + SN_SG_TABLE_HEADER;
    for (uint32_t k = 0; k < i; k++) {
        const uint8_t *p = buf + cur;
        uint32_t nio = sn__sg_get32(p + 8) + sn__sg_get32(p + 12), na = sn__sg_get32(p + 16);
        cur += SN_SG_NODE_HEADER + 4 * (uint64_t)nio;
        for (uint32_t a = 0; a < na; a++) cur += sn__sgfx_attr_size(buf + cur);
    }
    return cur;
}

uint64_t sn_sgfx_node_attr(const uint8_t *buf, size_t size, uint32_t i, const char *name) {
    uint64_t rec = sn_sgfx_node_rec(buf, size, i), ref = sn_sgfx_string_ref(buf, size, name);
    if (rec == UINT64_MAX || ref == UINT64_MAX) return UINT64_MAX;
    const uint8_t *p = buf + rec;
    uint64_t cur =
        rec + SN_SG_NODE_HEADER + 4 * ((uint64_t)sn__sg_get32(p + 8) + sn__sg_get32(p + 12));
    for (uint32_t a = 0; a < sn__sg_get32(p + 16); a++) {
        if (sn__sg_get32(buf + cur) == ref) return cur;
        cur += sn__sgfx_attr_size(buf + cur);
    }
    return UINT64_MAX;
}

uint64_t sn_sgfx_string_ref(const uint8_t *buf, size_t size, const char *s) {
    uint64_t off = 0, len = 0;
    if (!sn_sgfx_section(buf, size, SN_SG_SECT_STRINGS, &off, &len)) return UINT64_MAX;
    for (uint64_t k = 0; k < len; k += strlen((const char *)buf + off + k) + 1)
        if (!strcmp((const char *)buf + off + k, s)) return k;
    return UINT64_MAX;
}

uint64_t sn_sgfx_tensor_named(const uint8_t *buf, size_t size, const char *name) {
    uint64_t off = 0, len = 0, ref = sn_sgfx_string_ref(buf, size, name);
    if (ref == UINT64_MAX || !sn_sgfx_section(buf, size, SN_SG_SECT_TENSORS, &off, &len))
        return UINT64_MAX;
    uint32_t n = sn__sg_get32(buf + off);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t rec = sn_sgfx_tensor_rec(buf, size, i);
        if (sn__sg_get32(buf + rec) == ref) return rec;
    }
    return UINT64_MAX;
}

/* --- fuzz corpus ------------------------------------------------------------------------- */

static int sn__sgfx_add(const char **names, uint8_t **data, size_t *sizes, int n, int max,
                        const char *name, sn_graph *g) {
    void *buf = NULL;
    size_t size = 0;
    if (n >= max || !g || sn_sgraph_write_memory(g, &buf, &size, NULL) != SN_OK) return n;
    names[n] = name;
    data[n] = buf;
    sizes[n] = size;
    return n + 1;
}

int sn_sgfx_corpus(const char **names, uint8_t **data, size_t *sizes, int max) {
    sn_graph *g = NULL;
    int n = 0;
    if (sn_sgfx_tiny_cnn(1, &g) == SN_OK)
        n = sn__sgfx_add(names, data, sizes, n, max, "tiny_cnn.sgraph", g);
    sn_graph_destroy(g);
    g = NULL;
    if (sn_sgfx_chain(&g) == SN_OK) n = sn__sgfx_add(names, data, sizes, n, max, "chain.sgraph", g);
    sn_graph_destroy(g);
    g = NULL;
    if (sn_sgfx_mixed(2, &g) == SN_OK)
        n = sn__sgfx_add(names, data, sizes, n, max, "mixed.sgraph", g);
    sn_graph_destroy(g);
    /* Near-misses that take the reader deep before failing: a contradicting recorded shape and
     * a cycle, both with valid checksums. */
    if (n == 3 && max >= 5) {
        uint8_t *a = malloc(sizes[0]), *b = malloc(sizes[1]);
        if (a && b) {
            memcpy(a, data[0], sizes[0]);
            uint64_t rec = sn_sgfx_tensor_named(a, sizes[0], "relu1");
            if (rec != UINT64_MAX) sn__sg_put64(a + rec + SN_SG_T_DIMS + 8, 5);
            sn_sgfx_fix_crcs(a, sizes[0]);
            memcpy(b, data[1], sizes[1]);
            uint64_t node = sn_sgfx_node_rec(b, sizes[1], 0);
            if (node != UINT64_MAX) sn__sg_put32(b + node + SN_SG_NODE_HEADER, 2); /* a reads b */
            sn_sgfx_fix_crcs(b, sizes[1]);
            names[n] = "tiny_cnn_bad_shape.sgraph";
            data[n] = a;
            sizes[n++] = sizes[0];
            names[n] = "chain_cycle.sgraph";
            data[n] = b;
            sizes[n++] = sizes[1];
            return n;
        }
        free(a);
        free(b);
    }
    return n;
}
