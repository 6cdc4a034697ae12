/*
 * model.c - sn_model: loading from a file or memory, and the read-only queries on a model
 * (inputs, outputs, labels, preprocessing). A model is a validated, shape-inferred graph plus
 * the bytes its weights point into (a file mapping or a private copy).
 */
#include "model.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

const sn_graph *sn_model_graph(const sn_model *m) { return m ? m->graph : NULL; }

static sn_status sn__model_alloc(sn_model **out, sn_error *err) {
    sn_model *m = calloc(1, sizeof *m);
    if (!m) return sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory allocating a model");
    *out = m;
    return SN_OK;
}

sn_status sn_model_from_graph(sn_graph *g, sn_model **out, sn_error *err) {
    if (out) *out = NULL;
    if (!g || !out) {
        sn_graph_destroy(g);
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "sn_model_from_graph: NULL argument");
    }
    /* The same guarantees a file-loaded model has: valid structure and inferred shapes. */
    sn_status st = sn_graph_validate(g, err);
    if (st == SN_OK) st = sn_graph_infer_shapes(g, err);
    sn_model *m = NULL;
    if (st == SN_OK) st = sn__model_alloc(&m, err);
    if (st != SN_OK) {
        sn_graph_destroy(g);
        return st;
    }
    m->graph = g;
    *out = m;
    return SN_OK;
}

sn_status sn_model_load_file(const char *path, sn_model **out, sn_error *err) {
    if (out) *out = NULL;
    if (!path || !out)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "sn_model_load_file: NULL %s",
                         !path ? "path" : "out");
    sn_model *m = NULL;
    sn_status st = sn__model_alloc(&m, err);
    if (st != SN_OK) return st;
    st = sn_file_map_open(path, &m->map, err);
    if (st != SN_OK) goto fail;
    st = sn_sgraph_read(m->map.data, m->map.size, &m->graph, err);
    if (st != SN_OK) goto fail;
    *out = m;
    return SN_OK;

fail:
    /* Say which file, unless the layer below already did. */
    if (err && !strstr(err->message, path)) sn_error_prefix(err, "%s", path);
    sn_model_destroy(m);
    return st;
}

sn_status sn_model_load_memory(const void *data, size_t size, unsigned flags, sn_model **out,
                               sn_error *err) {
    if (out) *out = NULL;
    if (!data || !out)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "sn_model_load_memory: NULL %s",
                         !data ? "data" : "out");
    if (size == 0)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "sn_model_load_memory: size is 0");
    if (flags & ~SN_MODEL_LOAD_BORROW)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                         "sn_model_load_memory: unknown flags 0x%x", flags & ~SN_MODEL_LOAD_BORROW);
    sn_model *m = NULL;
    sn_status st = sn__model_alloc(&m, err);
    if (st != SN_OK) return st;
    const void *bytes = data;
    if (!(flags & SN_MODEL_LOAD_BORROW)) {
        /* 64-byte aligned like an mmap, so weights keep the alignment the format promises. */
        if (posix_memalign(&m->owned, 64, size) != 0) m->owned = NULL;
        if (!m->owned) {
            st = sn_errorf(err, SN_ERR_OUT_OF_MEMORY,
                           "sn_model_load_memory: out of memory copying %zu bytes", size);
            goto fail;
        }
        memcpy(m->owned, data, size);
        bytes = m->owned;
    }
    st = sn_sgraph_read(bytes, size, &m->graph, err);
    if (st != SN_OK) goto fail;
    *out = m;
    return SN_OK;

fail:
    sn_model_destroy(m);
    return st;
}

void sn_model_destroy(sn_model *m) {
    if (!m) return;
    /* The graph borrows from the mapping or the copy, so it goes first. */
    sn_graph_destroy(m->graph);
    if (m->map.data) sn_file_map_close(&m->map);
    free(m->owned);
    free(m);
}

int sn_model_input_count(const sn_model *m) { return m && m->graph ? m->graph->n_inputs : 0; }

int sn_model_output_count(const sn_model *m) { return m && m->graph ? m->graph->n_outputs : 0; }

static void sn__tensor_info(const sn_tensor *t, bool is_input, sn_tensor_info *out) {
    memset(out, 0, sizeof *out);
    out->name = t->name;
    out->dtype = t->dtype;
    out->layout = t->layout;
    out->rank = t->shape.rank;
    for (int i = 0; i < t->shape.rank && i < SN_MAX_RANK; i++) out->dims[i] = t->shape.d[i];
    /* Inputs declare the dynamic batch in their shape; other tensors carry the batch-1 shape
     * with a flag once shapes are inferred. */
    bool batched = (t->flags & SN_TENSOR_BATCHED) ||
                   (is_input && t->shape.rank > 0 && t->shape.d[0] == SN_DIM_BATCH);
    if (batched && out->rank > 0) out->dims[0] = SN_DIM_BATCH;
}

sn_status sn_model_input_info(const sn_model *m, int index, sn_tensor_info *out) {
    if (!m || !m->graph || !out || index < 0 || index >= m->graph->n_inputs)
        return SN_ERR_INVALID_ARGUMENT;
    sn__tensor_info(&m->graph->tensors[m->graph->inputs[index]], true, out);
    return SN_OK;
}

sn_status sn_model_output_info(const sn_model *m, int index, sn_tensor_info *out) {
    if (!m || !m->graph || !out || index < 0 || index >= m->graph->n_outputs)
        return SN_ERR_INVALID_ARGUMENT;
    sn__tensor_info(&m->graph->tensors[m->graph->outputs[index]], false, out);
    return SN_OK;
}

int sn_model_label_count(const sn_model *m) {
    return m && m->graph ? m->graph->meta.n_labels : 0;
}

const char *sn_model_label(const sn_model *m, int index) {
    if (!m || !m->graph || index < 0 || index >= m->graph->meta.n_labels) return NULL;
    return m->graph->meta.labels[index];
}

sn_status sn_model_preprocess(const sn_model *m, sn_preprocess *out) {
    if (!m || !m->graph || !out) return SN_ERR_INVALID_ARGUMENT;
    *out = m->graph->meta.preprocess;
    return SN_OK;
}
