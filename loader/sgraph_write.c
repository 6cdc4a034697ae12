/*
 * sgraph_write.c - laying a graph out as .sgraph bytes (format: docs/sgraph.md).
 *
 * The output is a function of the graph alone (same graph, same bytes): dead nodes and tensors
 * nothing refers to are left out, the rest keep their order; the string table is the sorted set
 * of distinct strings; shapes are recorded as sn_graph_infer_concrete gives them at batch 1
 * (dim 0 of a batched graph input as -1) with BATCHED where dim 0 changes at batch 2; every pad
 * byte is zero. The writer checks what the reader would reject, so it never writes a file that
 * sn_sgraph_read refuses.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "sgraph_format.h"
#include "sgraph_reader.h"
#include "sgraph_writer.h"

typedef struct sn__sg_writer {
    const sn_graph *g;
    sn_error *err;
    int *map;  /* graph tensor -> file tensor, -1 when left out */
    int *list; /* file tensor -> graph tensor */
    int nt;
    sn_shape *s1, *s2;
    sn_dtype *dt;
    const char **str; /* sorted distinct strings */
    uint32_t *str_off;
    uint32_t n_str;
} sn__sg_writer;

static int sn__sg_cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static uint32_t sn__sg_ref(const sn__sg_writer *w, const char *s) {
    const char **hit = bsearch(&s, w->str, w->n_str, sizeof *w->str, sn__sg_cmp_str);
    return hit ? w->str_off[hit - w->str] : 0; /* always found: every string was collected */
}

static uint64_t sn__sg_align(uint64_t x, uint64_t a) {
    return (x + a - 1) / a * a;
}

/* Tensors kept (referenced by a live node or the graph's inputs/outputs) and their shapes. */
static sn_status sn__sg_collect(sn__sg_writer *w) {
    const sn_graph *g = w->g;
    size_t n = (size_t)g->n_tensors + 1;
    w->map = malloc(sizeof(int) * n);
    w->list = malloc(sizeof(int) * n);
    w->s1 = malloc(sizeof(sn_shape) * n);
    w->s2 = malloc(sizeof(sn_shape) * n);
    w->dt = malloc(sizeof(sn_dtype) * n);
    if (!w->map || !w->list || !w->s1 || !w->s2 || !w->dt)
        return sn_errorf(w->err, SN_ERR_OUT_OF_MEMORY, "sgraph write: out of memory");
    for (int i = 0; i < g->n_tensors; i++) w->map[i] = -1;
    for (int i = 0; i < g->n_inputs; i++) w->map[g->inputs[i]] = 0;
    for (int i = 0; i < g->n_outputs; i++) w->map[g->outputs[i]] = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const sn_node *nd = &g->nodes[i];
        if (nd->dead) continue;
        for (int k = 0; k < nd->n_inputs; k++)
            if (nd->inputs[k] >= 0) w->map[nd->inputs[k]] = 0;
        for (int k = 0; k < nd->n_outputs; k++) w->map[nd->outputs[k]] = 0;
    }
    for (int i = 0; i < g->n_tensors; i++)
        if (w->map[i] == 0) {
            w->list[w->nt] = i;
            w->map[i] = w->nt++;
        }
    sn_status s = sn_graph_infer_concrete(g, 1, w->s1, w->dt, w->err);
    if (s == SN_OK) s = sn_graph_infer_concrete(g, 2, w->s2, NULL, w->err);
    if (s != SN_OK) sn_error_prefix(w->err, "sgraph write: shape inference");
    return s;
}

/* Every string the file refers to, sorted and deduplicated, with its table offset. */
static sn_status sn__sg_strings(sn__sg_writer *w, uint64_t *table_size) {
    const sn_graph *g = w->g;
    uint64_t cap = 1 + (uint64_t)w->nt + (uint64_t)g->meta.n_labels + 2 * (uint64_t)g->meta.n_props;
    for (int i = 0; i < g->n_nodes; i++)
        if (!g->nodes[i].dead) cap += 2 + 2 * (uint64_t)g->nodes[i].n_attrs;
    w->str = malloc(sizeof(char *) * cap);
    w->str_off = malloc(sizeof(uint32_t) * cap);
    if (!w->str || !w->str_off)
        return sn_errorf(w->err, SN_ERR_OUT_OF_MEMORY, "sgraph write: out of memory for strings");
    uint64_t n = 0;
    w->str[n++] = "";
    for (int j = 0; j < w->nt; j++) w->str[n++] = g->tensors[w->list[j]].name;
    for (int i = 0; i < g->n_nodes; i++) {
        const sn_node *nd = &g->nodes[i];
        if (nd->dead) continue;
        w->str[n++] = sn_op_name(nd->op);
        w->str[n++] = nd->name ? nd->name : "";
        for (int a = 0; a < nd->n_attrs; a++) {
            w->str[n++] = nd->attrs[a].name;
            if (nd->attrs[a].type == SN_ATTR_STRING)
                w->str[n++] = nd->attrs[a].v.s ? nd->attrs[a].v.s : "";
        }
    }
    for (int i = 0; i < g->meta.n_labels; i++) w->str[n++] = g->meta.labels[i];
    for (int i = 0; i < g->meta.n_props; i++) {
        w->str[n++] = g->meta.prop_keys[i];
        w->str[n++] = g->meta.prop_values[i];
    }
    qsort(w->str, n, sizeof *w->str, sn__sg_cmp_str);
    uint64_t size = 0, u = 0;
    for (uint64_t k = 0; k < n; k++) {
        if (u && !strcmp(w->str[u - 1], w->str[k])) continue;
        if (size > UINT32_MAX)
            return sn_errorf(w->err, SN_ERR_INVALID_ARGUMENT, "sgraph write: strings exceed 4 GiB");
        w->str[u] = w->str[k];
        w->str_off[u++] = (uint32_t)size;
        size += strlen(w->str[k]) + 1;
    }
    w->n_str = (uint32_t)u;
    *table_size = size;
    return SN_OK;
}

static sn_status sn__sg_tensor_record(sn__sg_writer *w, int j, uint8_t *rec, uint64_t *w_cur,
                                      sn__sg_plan *plan) {
    const sn_tensor *t = &w->g->tensors[w->list[j]];
    int i = w->list[j];
    sn_shape sh = w->s1[i];
    bool batched = sh.rank > 0 && sh.rank == w->s2[i].rank && sh.d[0] != w->s2[i].d[0];
    bool input = t->flags & SN_TENSOR_INPUT, is_const = t->flags & SN_TENSOR_CONST;
    if (batched && input) sh.d[0] = SN_DIM_BATCH;
    if (sh.rank < 0 || sh.rank > SN_MAX_RANK || (unsigned)t->layout > SN_LAYOUT_NHWC)
        return sn_errorf(w->err, SN_ERR_INVALID_ARGUMENT,
                         "sgraph write: tensor '%s' has rank %d, layout %d", t->name, sh.rank,
                         (int)t->layout);
    for (int k = 0; k < sh.rank; k++)
        if (sh.d[k] < 0 && !(k == 0 && input && batched))
            return sn_errorf(w->err, SN_ERR_INVALID_ARGUMENT,
                             "sgraph write: tensor '%s' dim %d is %lld", t->name, k,
                             (long long)sh.d[k]);
    sn__sg_put32(rec + SN_SG_T_NAME, sn__sg_ref(w, t->name));
    rec[SN_SG_T_DTYPE] = (uint8_t)w->dt[i];
    rec[SN_SG_T_LAYOUT] = (uint8_t)t->layout;
    rec[SN_SG_T_RANK] = (uint8_t)sh.rank;
    sn__sg_put32(rec + SN_SG_T_FLAGS,
                 (is_const ? SN_SG_TF_CONST : 0) | (batched ? SN_SG_TF_BATCHED : 0));
    for (int k = 0; k < sh.rank; k++) sn__sg_put64(rec + SN_SG_T_DIMS + 8 * k, (uint64_t)sh.d[k]);
    if (!is_const) return SN_OK;
    bool overflow = false;
    size_t bytes = sn_bytes_for(t->dtype, sn_shape_numel(&t->shape), &overflow);
    if (overflow || bytes != t->nbytes || (!t->data && t->nbytes) || batched)
        return sn_errorf(w->err, SN_ERR_INVALID_ARGUMENT,
                         "sgraph write: constant '%s' has %zu bytes of data for its shape", t->name,
                         t->nbytes);
    *w_cur = sn__sg_align(*w_cur, SN_SG_WEIGHT_ALIGN);
    sn__sg_put64(rec + SN_SG_T_DATA_OFFSET, *w_cur);
    sn__sg_put64(rec + SN_SG_T_DATA_SIZE, t->nbytes);
    plan->w[plan->n_w++] = (sn__sg_weight){t->data, *w_cur, t->nbytes};
    *w_cur += t->nbytes;
    return SN_OK;
}

static uint64_t sn__sg_node_size(const sn_node *nd) {
    uint64_t size = SN_SG_NODE_HEADER + 4 * ((uint64_t)nd->n_inputs + (uint64_t)nd->n_outputs);
    for (int a = 0; a < nd->n_attrs; a++) {
        const sn_attr *at = &nd->attrs[a];
        uint64_t n = at->type == SN_ATTR_INTS || at->type == SN_ATTR_FLOATS ? (uint64_t)at->n : 1;
        size +=
            SN_SG_ATTR_HEADER + n * (at->type == SN_ATTR_INT || at->type == SN_ATTR_INTS ? 8 : 4);
    }
    return size;
}

static void sn__sg_putf(uint8_t *p, float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u); /* the bit pattern: NaN payloads and -0 survive */
    sn__sg_put32(p, u);
}

static uint8_t *sn__sg_node_record(const sn__sg_writer *w, const sn_node *nd, uint8_t *p) {
    sn__sg_put32(p, sn__sg_ref(w, sn_op_name(nd->op)));
    sn__sg_put32(p + 4, sn__sg_ref(w, nd->name ? nd->name : ""));
    sn__sg_put32(p + 8, (uint32_t)nd->n_inputs);
    sn__sg_put32(p + 12, (uint32_t)nd->n_outputs);
    sn__sg_put32(p + 16, (uint32_t)nd->n_attrs);
    p += SN_SG_NODE_HEADER;
    for (int k = 0; k < nd->n_inputs; k++, p += 4)
        sn__sg_put32(p, (uint32_t)(nd->inputs[k] < 0 ? -1 : w->map[nd->inputs[k]]));
    for (int k = 0; k < nd->n_outputs; k++, p += 4)
        sn__sg_put32(p, (uint32_t)w->map[nd->outputs[k]]);
    for (int a = 0; a < nd->n_attrs; a++) {
        const sn_attr *at = &nd->attrs[a];
        bool array = at->type == SN_ATTR_INTS || at->type == SN_ATTR_FLOATS;
        uint32_t n = array ? (uint32_t)at->n : 1;
        sn__sg_put32(p, sn__sg_ref(w, at->name));
        sn__sg_put32(p + 4, (uint32_t)at->type);
        sn__sg_put32(p + 8, n);
        p += SN_SG_ATTR_HEADER;
        for (uint32_t e = 0; e < n; e++) {
            switch (at->type) {
            case SN_ATTR_INT: sn__sg_put64(p, (uint64_t)at->v.i); break;
            case SN_ATTR_FLOAT: sn__sg_putf(p, at->v.f); break;
            case SN_ATTR_INTS: sn__sg_put64(p, (uint64_t)at->v.ints[e]); break;
            case SN_ATTR_FLOATS: sn__sg_putf(p, at->v.floats[e]); break;
            case SN_ATTR_STRING: sn__sg_put32(p, sn__sg_ref(w, at->v.s ? at->v.s : "")); break;
            }
            p += at->type == SN_ATTR_INT || at->type == SN_ATTR_INTS ? 8 : 4;
        }
    }
    return p;
}

static void sn__sg_metadata(const sn__sg_writer *w, uint8_t *p) {
    const sn_metadata *m = &w->g->meta;
    sn__sg_put32(p + SN_SG_M_N_LABELS, (uint32_t)m->n_labels);
    sn__sg_put32(p + SN_SG_M_N_PROPS, (uint32_t)m->n_props);
    const sn_preprocess *pp = &m->preprocess;
    if (pp->present) { /* absent preprocessing is all zeros */
        sn__sg_put32(p + SN_SG_M_PRESENT, 1);
        sn__sg_put32(p + SN_SG_M_WIDTH, (uint32_t)pp->width);
        sn__sg_put32(p + SN_SG_M_HEIGHT, (uint32_t)pp->height);
        sn__sg_put32(p + SN_SG_M_RESIZE_SHORTER, (uint32_t)pp->resize_shorter);
        sn__sg_put32(p + SN_SG_M_RESIZE, (uint32_t)pp->resize);
        sn__sg_put32(p + SN_SG_M_CHANNELS, (uint32_t)pp->channels);
        for (int c = 0; c < 3; c++) {
            sn__sg_putf(p + SN_SG_M_MEAN + 4 * c, pp->mean[c]);
            sn__sg_putf(p + SN_SG_M_STD + 4 * c, pp->std[c]);
        }
    }
    p += SN_SG_META_FIXED;
    for (int i = 0; i < m->n_labels; i++, p += 4) sn__sg_put32(p, sn__sg_ref(w, m->labels[i]));
    for (int i = 0; i < m->n_props; i++, p += 8) {
        sn__sg_put32(p, sn__sg_ref(w, m->prop_keys[i]));
        sn__sg_put32(p + 4, sn__sg_ref(w, m->prop_values[i]));
    }
}

/* What the graph API does not already guarantee but the reader insists on. */
static sn_status sn__sg_check_graph(const sn__sg_writer *w) {
    const sn_metadata *m = &w->g->meta;
    const char *why = sn__sg_preprocess_problem(&m->preprocess);
    if (why)
        return sn_errorf(w->err, SN_ERR_INVALID_ARGUMENT, "sgraph write: preprocessing: %s", why);
    for (int i = 0; i < m->n_props; i++)
        if (!m->prop_keys[i][0])
            return sn_errorf(w->err, SN_ERR_INVALID_ARGUMENT,
                             "sgraph write: property %d has an empty key", i);
    for (int j = 0; j < w->nt; j++) {
        const sn_tensor *t = &w->g->tensors[w->list[j]];
        if (!(t->flags & (SN_TENSOR_CONST | SN_TENSOR_INPUT)) &&
            (t->producer < 0 || t->producer >= w->g->n_nodes || w->g->nodes[t->producer].dead))
            return sn_errorf(w->err, SN_ERR_INVALID_ARGUMENT,
                             "sgraph write: tensor '%s' is not a graph input, a constant or the "
                             "output of a live node",
                             t->name);
    }
    const char **names = malloc(sizeof(char *) * ((size_t)w->nt + 1));
    if (!names) return sn_errorf(w->err, SN_ERR_OUT_OF_MEMORY, "sgraph write: out of memory");
    for (int j = 0; j < w->nt; j++) names[j] = w->g->tensors[w->list[j]].name;
    uint32_t a = 0, b = 0;
    int t = sn__sg_find_duplicate(names, (uint32_t)w->nt, &a, &b);
    int p = t == 1 ? sn__sg_find_duplicate(m->prop_keys, (uint32_t)m->n_props, &a, &b) : t;
    free(names);
    if (t < 0 || p < 0)
        return sn_errorf(w->err, SN_ERR_OUT_OF_MEMORY, "sgraph write: out of memory");
    if (t == 0 || p == 0)
        return sn_errorf(w->err, SN_ERR_INVALID_ARGUMENT, "sgraph write: two %s share a name",
                         t == 0 ? "tensors" : "properties");
    return SN_OK;
}

static void sn__sg_dir(uint8_t *head, int i, uint32_t kind, uint64_t off, uint64_t size) {
    uint8_t *e = head + SN_SG_HEADER_SIZE + SN_SG_DIR_ENTRY_SIZE * i;
    sn__sg_put32(e + SN_SG_DIR_KIND, kind);
    sn__sg_put64(e + SN_SG_DIR_OFFSET, off);
    sn__sg_put64(e + SN_SG_DIR_SIZE, size);
    if (kind != SN_SG_SECT_WEIGHTS)
        sn__sg_put32(e + SN_SG_DIR_CRC, (uint32_t)crc32_z(0L, head + off, (z_size_t)size));
}

static sn_status sn__sg_layout(sn__sg_writer *w, sn__sg_plan *plan) {
    const sn_graph *g = w->g;
    uint64_t str_size = 0, sec[SN_SG_SECT_KNOWN_MAX + 1], len[SN_SG_SECT_KNOWN_MAX + 1];
    sn_status s = sn__sg_strings(w, &str_size);
    if (s != SN_OK) return s;
    uint64_t nodes_size = SN_SG_TABLE_HEADER;
    uint32_t n_live = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (!g->nodes[i].dead) {
            nodes_size += sn__sg_node_size(&g->nodes[i]);
            n_live++;
        }
    len[SN_SG_SECT_STRINGS] = str_size;
    len[SN_SG_SECT_TENSORS] = SN_SG_TABLE_HEADER + SN_SG_TENSOR_RECORD * (uint64_t)w->nt;
    len[SN_SG_SECT_NODES] = nodes_size;
    len[SN_SG_SECT_GRAPH] = SN_SG_GRAPH_HEADER + 4 * ((uint64_t)g->n_inputs + g->n_outputs);
    len[SN_SG_SECT_METADATA] =
        SN_SG_META_FIXED + 4 * (uint64_t)g->meta.n_labels + 8 * (uint64_t)g->meta.n_props;
    uint64_t cur = SN_SG_HEADER_SIZE + SN_SG_DIR_ENTRY_SIZE * SN_SG_SECT_KNOWN_MAX;
    for (int k = SN_SG_SECT_STRINGS; k <= SN_SG_SECT_METADATA; k++) {
        sec[k] = sn__sg_align(cur, SN_SG_TABLE_ALIGN);
        cur = sec[k] + len[k];
    }
    plan->w_off = sec[SN_SG_SECT_WEIGHTS] = sn__sg_align(cur, SN_SG_WEIGHT_ALIGN);
    if (plan->w_off > SIZE_MAX)
        return sn_errorf(w->err, SN_ERR_OUT_OF_MEMORY, "sgraph write: tables too large");
    plan->head = calloc(1, (size_t)plan->w_off);
    plan->w = malloc(sizeof *plan->w * ((size_t)w->nt + 1));
    if (!plan->head || !plan->w)
        return sn_errorf(w->err, SN_ERR_OUT_OF_MEMORY, "sgraph write: out of memory");
    uint8_t *h = plan->head;

    uint8_t *p = h + sec[SN_SG_SECT_STRINGS];
    for (uint32_t k = 0; k < w->n_str; k++)
        memcpy(p + w->str_off[k], w->str[k], strlen(w->str[k]) + 1);
    sn__sg_put32(h + sec[SN_SG_SECT_TENSORS], (uint32_t)w->nt);
    uint64_t w_cur = plan->w_off;
    for (int j = 0; j < w->nt; j++) {
        uint8_t *rec =
            h + sec[SN_SG_SECT_TENSORS] + SN_SG_TABLE_HEADER + SN_SG_TENSOR_RECORD * (uint64_t)j;
        if ((s = sn__sg_tensor_record(w, j, rec, &w_cur, plan)) != SN_OK) return s;
    }
    len[SN_SG_SECT_WEIGHTS] = w_cur - plan->w_off;
    plan->size = w_cur;
    sn__sg_put32(h + sec[SN_SG_SECT_NODES], n_live);
    p = h + sec[SN_SG_SECT_NODES] + SN_SG_TABLE_HEADER;
    for (int i = 0; i < g->n_nodes; i++)
        if (!g->nodes[i].dead) p = sn__sg_node_record(w, &g->nodes[i], p);
    p = h + sec[SN_SG_SECT_GRAPH];
    sn__sg_put32(p, (uint32_t)g->n_inputs);
    sn__sg_put32(p + 4, (uint32_t)g->n_outputs);
    p += SN_SG_GRAPH_HEADER;
    for (int i = 0; i < g->n_inputs; i++, p += 4) sn__sg_put32(p, (uint32_t)w->map[g->inputs[i]]);
    for (int i = 0; i < g->n_outputs; i++, p += 4) sn__sg_put32(p, (uint32_t)w->map[g->outputs[i]]);
    sn__sg_metadata(w, h + sec[SN_SG_SECT_METADATA]);

    memcpy(h, SN_SG_MAGIC, SN_SG_MAGIC_SIZE);
    sn__sg_put16(h + SN_SG_HDR_MAJOR, SN_SG_VERSION_MAJOR);
    sn__sg_put16(h + SN_SG_HDR_MINOR, SN_SG_VERSION_MINOR);
    sn__sg_put64(h + SN_SG_HDR_FILE_SIZE, plan->size);
    sn__sg_put32(h + SN_SG_HDR_SECTION_COUNT, SN_SG_SECT_KNOWN_MAX);
    for (int k = SN_SG_SECT_STRINGS; k <= SN_SG_SECT_KNOWN_MAX; k++)
        sn__sg_dir(h, k - 1, (uint32_t)k, sec[k], len[k]);
    /* The weights' CRC, streamed over the data where it lives plus the zero padding. */
    static const uint8_t zeros[SN_SG_WEIGHT_ALIGN];
    uLong crc = crc32_z(0L, NULL, 0);
    uint64_t at = plan->w_off;
    for (uint32_t k = 0; k < plan->n_w; k++) {
        crc = crc32_z(crc, zeros, (z_size_t)(plan->w[k].off - at));
        crc = crc32_z(crc, plan->w[k].data, (z_size_t)plan->w[k].size);
        at = plan->w[k].off + plan->w[k].size;
    }
    sn__sg_put32(h + SN_SG_HEADER_SIZE + SN_SG_DIR_ENTRY_SIZE * (SN_SG_SECT_WEIGHTS - 1) +
                     SN_SG_DIR_CRC,
                 (uint32_t)crc);
    uint64_t dir_end = SN_SG_HEADER_SIZE + SN_SG_DIR_ENTRY_SIZE * SN_SG_SECT_KNOWN_MAX;
    crc = crc32_z(crc32_z(0L, h, SN_SG_HDR_CRC), h + SN_SG_HEADER_SIZE,
                  (z_size_t)(dir_end - SN_SG_HEADER_SIZE));
    sn__sg_put32(h + SN_SG_HDR_CRC, (uint32_t)crc);
    return SN_OK;
}

sn_status sn__sg_plan_build(const sn_graph *g, sn__sg_plan *plan, sn_error *err) {
    memset(plan, 0, sizeof *plan);
    sn__sg_writer w;
    memset(&w, 0, sizeof w);
    w.g = g;
    w.err = err;
    sn_status s = sn_graph_validate(g, err);
    if (s != SN_OK) {
        sn_error_prefix(err, "sgraph write: the graph does not validate");
        goto done;
    }
    if ((s = sn__sg_collect(&w)) != SN_OK || (s = sn__sg_check_graph(&w)) != SN_OK ||
        (s = sn__sg_layout(&w, plan)) != SN_OK)
        goto done;
done:
    if (s != SN_OK) sn__sg_plan_free(plan);
    free(w.map);
    free(w.list);
    free(w.s1);
    free(w.s2);
    free(w.dt);
    free(w.str);
    free(w.str_off);
    return s;
}

void sn__sg_plan_free(sn__sg_plan *plan) {
    free(plan->head);
    free(plan->w);
    memset(plan, 0, sizeof *plan);
}
