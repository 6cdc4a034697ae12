/*
 * test_sgraph.c - the .sgraph format on good input: write -> read -> write gives identical bytes
 * and an identical graph, weights are borrowed in place and 64-byte aligned, the writer is
 * deterministic and atomic, file mapping rejects what it cannot map, and the committed fuzz
 * seeds are current. Hostile input is in test_sgraph_hostile.c.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sgraph.h"
#include "sgraph_fixtures.h"
#include "sgraph_format.h"
#include "test_support.h"

static sn_graph *cnn(const char *test) {
    sn_graph *g = NULL;
    sn_status s = sn_sgfx_tiny_cnn(sn_test_fresh_seed(test), &g);
    cr_assert_eq(s, SN_OK, "building the fixture: %s", sn_status_string(s));
    return g;
}

static uint8_t *write_mem(const sn_graph *g, size_t *size) {
    void *buf = NULL;
    sn_error e;
    sn_status s = sn_sgraph_write_memory(g, &buf, size, &e);
    cr_assert_eq(s, SN_OK, "write: %s", e.message);
    return buf;
}

static sn_graph *read_mem(const uint8_t *buf, size_t size) {
    sn_graph *g = NULL;
    sn_error e;
    sn_status s = sn_sgraph_read(buf, size, &g, &e);
    cr_assert_eq(s, SN_OK, "read: %s: %s", sn_status_string(s), e.message);
    cr_assert_not_null(g);
    return g;
}

static void same_attr(const sn_attr *a, const sn_attr *b) {
    cr_assert_str_eq(a->name, b->name);
    cr_assert_eq(a->type, b->type, "attribute %s", a->name);
    cr_assert_eq(a->n, b->n, "attribute %s", a->name);
    switch (a->type) {
    case SN_ATTR_INT: cr_assert_eq(a->v.i, b->v.i); break;
    case SN_ATTR_FLOAT: cr_assert(!memcmp(&a->v.f, &b->v.f, sizeof(float))); break;
    case SN_ATTR_INTS:
        cr_assert(!memcmp(a->v.ints, b->v.ints, sizeof(int64_t) * (size_t)a->n));
        break;
    case SN_ATTR_FLOATS:
        cr_assert(!memcmp(a->v.floats, b->v.floats, sizeof(float) * (size_t)a->n));
        break;
    case SN_ATTR_STRING: cr_assert_str_eq(a->v.s, b->v.s); break;
    }
}

/* a: the graph as built (shapes inferred here), b: as read back. */
static void same_graph(sn_graph *a, const sn_graph *b) {
    sn_error e;
    cr_assert_eq(sn_graph_infer_shapes(a, &e), SN_OK, "%s", e.message);
    const unsigned flags = SN_TENSOR_CONST | SN_TENSOR_INPUT | SN_TENSOR_OUTPUT | SN_TENSOR_BATCHED;
    cr_assert_eq(a->n_tensors, b->n_tensors);
    for (int i = 0; i < a->n_tensors; i++) {
        const sn_tensor *x = &a->tensors[i], *y = &b->tensors[i];
        cr_assert_str_eq(x->name, y->name);
        cr_assert_eq(x->dtype, y->dtype, "%s", x->name);
        cr_assert_eq(x->layout, y->layout, "%s", x->name);
        cr_assert(sn_shape_equal(&x->shape, &y->shape), "%s", x->name);
        cr_assert_eq(x->flags & flags, y->flags & flags, "%s", x->name);
        cr_assert_eq(x->producer, y->producer, "%s", x->name);
        cr_assert_eq(x->nbytes, y->nbytes, "%s", x->name);
        if (x->nbytes) cr_assert(!memcmp(x->data, y->data, x->nbytes), "%s data", x->name);
    }
    cr_assert_eq(a->n_nodes, b->n_nodes);
    for (int i = 0; i < a->n_nodes; i++) {
        const sn_node *x = &a->nodes[i], *y = &b->nodes[i];
        cr_assert_eq(x->op, y->op);
        cr_assert_str_eq(x->name, y->name);
        cr_assert_eq(x->n_inputs, y->n_inputs);
        cr_assert_eq(x->n_outputs, y->n_outputs);
        cr_assert_eq(x->n_attrs, y->n_attrs, "node %s", x->name);
        cr_assert(!memcmp(x->inputs, y->inputs, sizeof(int) * (size_t)x->n_inputs));
        cr_assert(!memcmp(x->outputs, y->outputs, sizeof(int) * (size_t)x->n_outputs));
        for (int k = 0; k < x->n_attrs; k++) same_attr(&x->attrs[k], &y->attrs[k]);
    }
    cr_assert_eq(a->n_inputs, b->n_inputs);
    cr_assert_eq(a->n_outputs, b->n_outputs);
    cr_assert(!memcmp(a->inputs, b->inputs, sizeof(int) * (size_t)a->n_inputs));
    cr_assert(!memcmp(a->outputs, b->outputs, sizeof(int) * (size_t)a->n_outputs));
    const sn_metadata *m = &a->meta, *n = &b->meta;
    cr_assert_eq(m->n_labels, n->n_labels);
    for (int i = 0; i < m->n_labels; i++) cr_assert_str_eq(m->labels[i], n->labels[i]);
    cr_assert_eq(m->n_props, n->n_props);
    for (int i = 0; i < m->n_props; i++) {
        cr_assert_str_eq(m->prop_keys[i], n->prop_keys[i]);
        cr_assert_str_eq(m->prop_values[i], n->prop_values[i]);
    }
    const sn_preprocess *p = &m->preprocess, *q = &n->preprocess;
    cr_assert_eq(p->present, q->present);
    cr_assert_eq(p->width, q->width);
    cr_assert_eq(p->height, q->height);
    cr_assert_eq(p->resize_shorter, q->resize_shorter);
    cr_assert_eq(p->resize, q->resize);
    cr_assert_eq(p->channels, q->channels);
    cr_assert(!memcmp(p->mean, q->mean, sizeof p->mean) && !memcmp(p->std, q->std, sizeof p->std));
}

Test(sgraph, round_trip_gives_identical_bytes_and_graph) {
    sn_graph *g = cnn("sgraph/round_trip");
    size_t n1, n2, n3;
    uint8_t *b1 = write_mem(g, &n1), *b3 = write_mem(g, &n3);
    cr_assert(n1 == n3 && !memcmp(b1, b3, n1), "writing one graph twice gave different bytes");
    sn_graph *r = read_mem(b1, n1);
    same_graph(g, r);
    uint8_t *b2 = write_mem(r, &n2);
    cr_assert_eq(n1, n2);
    cr_assert(!memcmp(b1, b2, n1), "write(read(file)) differs from file");
    cr_assert_eq(r->tensors[r->inputs[0]].shape.d[0], SN_DIM_BATCH);
    cr_assert(r->tensors[sn_graph_find_tensor(r, "relu1")].flags & SN_TENSOR_BATCHED);
    sn_graph_destroy(r);
    sn_graph_destroy(g);
    free(b1);
    free(b2);
    free(b3);
}

Test(sgraph, chain_without_weights_or_metadata_round_trips) {
    sn_graph *g = NULL;
    cr_assert_eq(sn_sgfx_chain(&g), SN_OK);
    size_t n1, n2;
    uint8_t *b1 = write_mem(g, &n1);
    sn_graph *r = read_mem(b1, n1);
    same_graph(g, r);
    uint8_t *b2 = write_mem(r, &n2);
    cr_assert(n1 == n2 && !memcmp(b1, b2, n1));
    uint64_t off, len;
    cr_assert(sn_sgfx_section(b1, n1, SN_SG_SECT_WEIGHTS, &off, &len));
    cr_assert_eq(len, 0);
    cr_assert_eq(off % SN_SG_WEIGHT_ALIGN, 0);
    sn_graph_destroy(r);
    sn_graph_destroy(g);
    free(b1);
    free(b2);
}

Test(sgraph, every_op_family_round_trips) {
    sn_graph *g = NULL;
    sn_status s = sn_sgfx_mixed(sn_test_fresh_seed("sgraph/mixed"), &g);
    cr_assert_eq(s, SN_OK, "%s", sn_status_string(s));
    size_t n1, n2;
    uint8_t *b1 = write_mem(g, &n1);
    sn_graph *r = read_mem(b1, n1);
    same_graph(g, r);
    uint8_t *b2 = write_mem(r, &n2);
    cr_assert(n1 == n2 && !memcmp(b1, b2, n1));
    sn_graph_destroy(r);
    sn_graph_destroy(g);
    free(b1);
    free(b2);
}

Test(sgraph, weights_are_borrowed_in_place_and_64_byte_aligned) {
    sn_graph *g = cnn("sgraph/aligned");
    size_t n;
    uint8_t *b = write_mem(g, &n);
    uint8_t *al = aligned_alloc(64, (n + 63) / 64 * 64); /* as an mmap'ed file would be */
    cr_assert_not_null(al);
    memcpy(al, b, n);
    sn_graph *r = read_mem(al, n);
    int consts = 0;
    for (int i = 0; i < r->n_tensors; i++) {
        const sn_tensor *t = &r->tensors[i];
        if (!(t->flags & SN_TENSOR_CONST)) continue;
        consts++;
        const uint8_t *d = t->data;
        cr_assert(d >= al && d + t->nbytes <= al + n, "%s was copied, not borrowed", t->name);
        cr_assert_eq((size_t)(d - al) % 64, 0, "%s at file offset %zu", t->name, (size_t)(d - al));
        cr_assert_eq((uintptr_t)d % 64, 0);
        cr_assert(!(t->flags & SN_TENSOR_OWNS_DATA));
        const sn_tensor *o = &g->tensors[sn_graph_find_tensor(g, t->name)];
        cr_assert(!memcmp(d, o->data, t->nbytes));
    }
    cr_assert_eq(consts, 4);
    sn_graph_destroy(r);
    sn_graph_destroy(g);
    free(al);
    free(b);
}

Test(sgraph, dead_nodes_and_unreferenced_tensors_are_left_out) {
    uint64_t seed = sn_test_fresh_seed("sgraph/dead");
    sn_graph *g = NULL, *h = NULL;
    cr_assert_eq(sn_sgfx_tiny_cnn(seed, &g), SN_OK);
    cr_assert_eq(sn_sgfx_tiny_cnn(seed, &h), SN_OK);
    const int64_t d[] = {3};
    const float v[] = {1, 2, 3};
    sn_shape sh = sn_shape_make(1, d);
    int unused, out, node;
    cr_assert_eq(sn_graph_add_const(h, "unused", SN_DTYPE_F32, &sh, v, sizeof v, true, &unused),
                 SN_OK);
    int relu = sn_graph_find_tensor(h, "relu1");
    cr_assert_eq(sn_graph_add_tensor(h, "dead_out", SN_DTYPE_F32, NULL, &out), SN_OK);
    cr_assert_eq(sn_graph_add_node(h, SN_OP_SIGMOID, "dead", &relu, 1, &out, 1, NULL, 0, &node),
                 SN_OK);
    h->nodes[node].dead = true;
    size_t n1, n2;
    uint8_t *b1 = write_mem(g, &n1), *b2 = write_mem(h, &n2);
    cr_assert(n1 == n2 && !memcmp(b1, b2, n1));
    sn_graph_destroy(g);
    sn_graph_destroy(h);
    free(b1);
    free(b2);
}

Test(sgraph, unknown_sections_of_a_newer_minor_are_skipped) {
    sn_graph *g = cnn("sgraph/unknown_section");
    size_t n;
    uint8_t *b = write_mem(g, &n);
    /* Insert a 32-byte directory entry and a 32-byte section: everything after moves 64 bytes. */
    uint32_t count = sn__sg_get32(b + SN_SG_HDR_SECTION_COUNT);
    size_t dir_end = SN_SG_HEADER_SIZE + SN_SG_DIR_ENTRY_SIZE * count, m = n + 64;
    uint8_t *c = calloc(1, m);
    memcpy(c, b, dir_end);
    memcpy(c + dir_end + 64, b + dir_end, n - dir_end);
    memcpy(c + dir_end + 32, "a section from the future.......", 32);
    for (uint32_t i = 0; i < count; i++) {
        uint8_t *e = c + SN_SG_HEADER_SIZE + SN_SG_DIR_ENTRY_SIZE * i;
        sn__sg_put64(e + SN_SG_DIR_OFFSET, sn__sg_get64(e + SN_SG_DIR_OFFSET) + 64);
    }
    uint8_t *e = c + dir_end;
    sn__sg_put32(e + SN_SG_DIR_KIND, 0x7777);
    sn__sg_put64(e + SN_SG_DIR_OFFSET, dir_end + 32);
    sn__sg_put64(e + SN_SG_DIR_SIZE, 32);
    sn__sg_put32(c + SN_SG_HDR_SECTION_COUNT, count + 1);
    sn__sg_put16(c + SN_SG_HDR_MINOR, 9);
    sn__sg_put64(c + SN_SG_HDR_FILE_SIZE, m);
    for (int i = 0; i < g->n_tensors; i++) {
        uint64_t rec = sn_sgfx_tensor_rec(c, m, (uint32_t)i);
        uint64_t off = sn__sg_get64(c + rec + SN_SG_T_DATA_OFFSET);
        if (off) sn__sg_put64(c + rec + SN_SG_T_DATA_OFFSET, off + 64);
    }
    sn_sgfx_fix_crcs(c, m);
    sn_graph *r = read_mem(c, m);
    same_graph(g, r);
    sn_graph_destroy(r);
    sn_graph_destroy(g);
    free(b);
    free(c);
}

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

Test(sgraph, write_file_is_atomic) {
    sn_graph *g = cnn("sgraph/write_file"), *empty = NULL;
    cr_assert_eq(sn_graph_create(&empty), SN_OK);
    char *dir = sn_test_mkdtemp(), path[512], missing[512], isdir[512];
    snprintf(path, sizeof path, "%s/model.sgraph", dir);
    snprintf(missing, sizeof missing, "%s/no/such/dir/model.sgraph", dir);
    snprintf(isdir, sizeof isdir, "%s/adir", dir);
    sn_error e;
    /* Into a directory that does not exist: fails, creates nothing. */
    cr_assert_eq(sn_sgraph_write_file(g, missing, &e), SN_ERR_IO);
    cr_assert(strstr(e.message, "no/such/dir"), "%s", e.message);
    cr_assert_eq(count_entries(dir), 0);
    /* An existing file survives a failed write (the graph does not validate). */
    cr_assert_eq(sn_test_write_file(path, "old", 3), 0);
    cr_assert_neq(sn_sgraph_write_file(empty, path, &e), SN_OK);
    size_t n = 0;
    char *old = sn_test_read_file(path, &n);
    cr_assert(old && n == 3 && !memcmp(old, "old", 3));
    free(old);
    /* A rename that fails (onto a directory) removes its temporary file. */
    cr_assert_eq(mkdir(isdir, 0755), 0);
    cr_assert_eq(sn_sgraph_write_file(g, isdir, &e), SN_ERR_IO);
    cr_assert(strstr(e.message, "rename"), "%s", e.message);
    cr_assert_eq(count_entries(dir), 2, "a temporary file was left behind");
    /* Success replaces the file with exactly write_memory's bytes, readable through a map. */
    cr_assert_eq(sn_sgraph_write_file(g, path, &e), SN_OK, "%s", e.message);
    cr_assert_eq(count_entries(dir), 2);
    size_t want_n;
    uint8_t *want = write_mem(g, &want_n);
    sn_file_map map;
    cr_assert_eq(sn_file_map_open(path, &map, &e), SN_OK, "%s", e.message);
    cr_assert(map.size == want_n && !memcmp(map.data, want, want_n));
    cr_assert_eq((uintptr_t)map.data % 64, 0);
    sn_graph *r = read_mem(map.data, map.size);
    same_graph(g, r);
    sn_graph_destroy(r);
    sn_file_map_close(&map);
    cr_assert_null(map.data);
    sn_test_rmtree(dir);
    free(dir);
    free(want);
    sn_graph_destroy(g);
    sn_graph_destroy(empty);
}

Test(sgraph, file_map_rejects_what_it_cannot_map) {
    char *dir = sn_test_mkdtemp(), path[512];
    sn_file_map map = {(void *)1, 1};
    sn_error e;
    cr_assert_eq(sn_file_map_open(dir, &map, &e), SN_ERR_IO);
    cr_assert(strstr(e.message, "directory"), "%s", e.message);
    cr_assert_null(map.data);
    snprintf(path, sizeof path, "%s/empty", dir);
    cr_assert_eq(sn_test_write_file(path, "", 0), 0);
    cr_assert_eq(sn_file_map_open(path, &map, &e), SN_ERR_FORMAT);
    cr_assert(strstr(e.message, "empty"), "%s", e.message);
    snprintf(path, sizeof path, "%s/missing", dir);
    cr_assert_eq(sn_file_map_open(path, &map, &e), SN_ERR_NOT_FOUND);
    cr_assert(strstr(e.message, "missing"), "%s", e.message);
    cr_assert_eq(sn_file_map_open("/dev/null", &map, &e), SN_ERR_IO);
    cr_assert(strstr(e.message, "not a regular file"), "%s", e.message);
    sn_file_map_close(&map); /* closing a failed (zeroed) map is harmless */
    sn_test_rmtree(dir);
    free(dir);
}

Test(sgraph, writer_rejects_what_the_reader_would) {
    sn_graph *g = cnn("sgraph/writer_rejects");
    sn_error e;
    void *buf = NULL;
    size_t n = 0;
    g->meta.preprocess.std[1] = 0.0f;
    cr_assert_eq(sn_sgraph_write_memory(g, &buf, &n, &e), SN_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(e.message, "std"), "%s", e.message);
    cr_assert_null(buf);
    sn_graph_destroy(g);
    /* An output whose producer a pass marked dead (sn_graph_validate skips dead nodes). */
    cr_assert_eq(sn_sgfx_chain(&g), SN_OK);
    g->nodes[1].dead = true;
    cr_assert_eq(sn_sgraph_write_memory(g, &buf, &n, &e), SN_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(e.message, "'b'"), "%s", e.message);
    sn_graph_destroy(g);
    cr_assert_eq(sn_sgraph_read(NULL, 0, NULL, &e), SN_ERR_INVALID_ARGUMENT);
}

/* The seeds under fuzz/corpus/sgraph are what sn_sgfx_corpus makes today; regenerate them with
 * SN_SGRAPH_WRITE_CORPUS=<dir> build/tests/test_sgraph --filter 'sgraph/fuzz_corpus*'. */
Test(sgraph, fuzz_corpus_is_current) {
    const char *names[8];
    uint8_t *data[8];
    size_t sizes[8];
    int n = sn_sgfx_corpus(names, data, sizes, 8);
    cr_assert_eq(n, 5);
    const char *out = getenv("SN_SGRAPH_WRITE_CORPUS");
    for (int i = 0; i < n; i++) {
        char path[1024];
        if (out && *out) {
            snprintf(path, sizeof path, "%s/%s", out, names[i]);
            cr_assert_eq(sn_test_write_file(path, data[i], sizes[i]), 0, "cannot write %s", path);
        }
        snprintf(path, sizeof path, "%s/fuzz/corpus/sgraph/%s", SN_TEST_SOURCE_DIR, names[i]);
        size_t got_n = 0;
        uint8_t *got = sn_test_read_file(path, &got_n);
        cr_assert(got && got_n == sizes[i] && !memcmp(got, data[i], got_n),
                  "%s is stale: regenerate with SN_SGRAPH_WRITE_CORPUS", path);
        sn_graph *g = NULL;
        sn_error e;
        sn_status s = sn_sgraph_read(got, got_n, &g, &e);
        cr_assert_eq(s == SN_OK, i < 3, "%s: %s", names[i], e.message); /* then 2 near-misses */
        sn_graph_destroy(g);
        free(got);
        free(data[i]);
    }
}
