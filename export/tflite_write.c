/*
 * tflite_write.c - the in-memory TFLite model as a FlatBuffer (schema: tflite_schema.h).
 *
 * Model { version 3, operator_codes, subgraphs [one], description, buffers, metadata,
 * signature_defs [serving_default] }. Buffer 0 is the empty buffer every activation points at;
 * each constant has its own buffer, 16-byte aligned as the schema's force_align asks. Metadata
 * entries (name -> buffer of UTF-8 text): "sentinel.labels" (one per line),
 * "sentinel.preprocess" and "sentinel.properties" (JSON). Children are built before parents,
 * as the builder requires (flatbuf.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_util.h"
#include "flatbuf.h"
#include "tflite_model.h"

typedef struct sn__tfl_meta {
    const char *name;
    char *text;
} sn__tfl_meta;

static sn_fb_ref sn__tfl_buffer(sn_fb *b, const void *data, size_t n) {
    sn_fb_ref v = n ? sn_fb_vector(b, data, n, 1, 16) : 0;
    sn_fb_table_begin(b);
    sn_fb_add_ref(b, SN_TFL_BUFFER_DATA, v);
    return sn_fb_table_end(b);
}

static sn_fb_ref sn__tfl_quant(sn_fb *b, const sn_tfl_tensor *t) {
    if (!t->n_quant) return 0;
    sn_fb_ref sc = sn_fb_vector(b, t->scale, (size_t)t->n_quant, 4, 4);
    sn_fb_ref zp = sn_fb_vector(b, t->zero_point, (size_t)t->n_quant, 8, 8);
    sn_fb_table_begin(b);
    sn_fb_add_ref(b, SN_TFL_QUANT_SCALE, sc);
    sn_fb_add_ref(b, SN_TFL_QUANT_ZERO_POINT, zp);
    sn_fb_add_i32(b, SN_TFL_QUANT_DIMENSION, t->quant_dim, 0);
    return sn_fb_table_end(b);
}

static sn_fb_ref sn__tfl_tensor(sn_fb *b, const sn_tfl_tensor *t, uint32_t buffer) {
    sn_fb_ref shape = sn_fb_vector(b, t->shape, (size_t)t->rank, 4, 4), sig = 0;
    if (t->batched) {
        int32_t s[SN_MAX_RANK];
        memcpy(s, t->shape, sizeof(int32_t) * (size_t)t->rank);
        s[0] = -1;
        sig = sn_fb_vector(b, s, (size_t)t->rank, 4, 4);
    }
    sn_fb_ref name = sn_fb_string(b, t->name), q = sn__tfl_quant(b, t);
    sn_fb_table_begin(b);
    sn_fb_add_ref(b, SN_TFL_TENSOR_SHAPE, shape);
    sn_fb_add_i8(b, SN_TFL_TENSOR_TYPE, (int8_t)t->type, 0);
    sn_fb_add_u32(b, SN_TFL_TENSOR_BUFFER, buffer, 0);
    sn_fb_add_ref(b, SN_TFL_TENSOR_NAME, name);
    sn_fb_add_ref(b, SN_TFL_TENSOR_QUANTIZATION, q);
    sn_fb_add_ref(b, SN_TFL_TENSOR_SHAPE_SIGNATURE, sig);
    return sn_fb_table_end(b);
}

static sn_fb_ref sn__tfl_options(sn_fb *b, const sn_tfl_op *o) {
    if (!o->opt_type) return 0;
    sn_fb_table_begin(b);
    for (int k = 0; k < o->n_opts; k++) {
        const sn_tfl_opt *f = &o->opts[k];
        if (f->kind == 'b')
            sn_fb_add_u8(b, f->slot, (uint8_t)f->i, 0);
        else if (f->kind == 'i')
            sn_fb_add_i32(b, f->slot, f->i, 0);
        else
            sn_fb_add_f32(b, f->slot, f->f, 0.0f);
    }
    return sn_fb_table_end(b);
}

/* Index of (code, version) in the operator code table, adding it when new. */
static int sn__tfl_opcode(int (*codes)[2], int *n, int code, int version) {
    for (int i = 0; i < *n; i++)
        if (codes[i][0] == code && codes[i][1] == version) return i;
    codes[*n][0] = code;
    codes[*n][1] = version;
    return (*n)++;
}

static sn_fb_ref sn__tfl_tensor_maps(sn_fb *b, const sn_tfl_model *m, const int *idx, int n,
                                     sn_fb_ref *tmp) {
    for (int i = 0; i < n; i++) {
        sn_fb_ref name = sn_fb_string(b, m->t[idx[i]].name);
        sn_fb_table_begin(b);
        sn_fb_add_ref(b, SN_TFL_TENSORMAP_NAME, name);
        sn_fb_add_u32(b, SN_TFL_TENSORMAP_INDEX, (uint32_t)idx[i], 0);
        tmp[i] = sn_fb_table_end(b);
    }
    return sn_fb_vector_refs(b, tmp, (size_t)n);
}

_Static_assert(sizeof(int) == 4, "tensor indices are written as int32 vectors");

static sn_fb_ref sn__tfl_vec_i32(sn_fb *b, const int *v, int n) {
    return sn_fb_vector(b, v, (size_t)n, 4, 4);
}

sn_status sn_tfl_model_write(const sn_tfl_model *m, void **data, size_t *size, sn_error *err) {
    const sn_graph *g = m->g;
    sn_fb b;
    sn_fb_init(&b);
    sn__tfl_meta meta[3] = {
        {"sentinel.labels", NULL}, {"sentinel.preprocess", NULL}, {"sentinel.properties", NULL}};
    bool no_pre = false;
    meta[0].text = sn__export_labels_text(&g->meta);
    meta[1].text = sn__export_preprocess_json(&g->meta.preprocess, "NHWC", &no_pre);
    meta[2].text = sn__export_props_json(&g->meta);
    int n_big = m->n_t > m->n_ops ? m->n_t : m->n_ops;
    sn_fb_ref *refs = malloc(sizeof *refs * (size_t)(n_big + 4));
    uint32_t *buf_of = calloc((size_t)(m->n_t + 1), sizeof *buf_of);
    int(*codes)[2] = malloc(sizeof *codes * (size_t)(m->n_ops + 1));
    sn_status s = SN_OK;
    if (!refs || !buf_of || !codes || !meta[0].text || (!meta[1].text && !no_pre) ||
        !meta[2].text) {
        s = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory writing the TFLite model");
        goto done;
    }
    /* Buffers: 0 empty, then constants, then metadata texts. */
    sn_fb_ref *bufs = refs; /* n_t + 4 entries at least */
    int n_buf = 0;
    bufs[n_buf++] = sn__tfl_buffer(&b, NULL, 0);
    for (int i = 0; i < m->n_t; i++)
        if (m->t[i].data) {
            buf_of[i] = (uint32_t)n_buf;
            bufs[n_buf++] = sn__tfl_buffer(&b, m->t[i].data, m->t[i].nbytes);
        }
    int meta_buf[3], n_meta = 0;
    for (int i = 0; i < 3; i++)
        if (meta[i].text) {
            meta_buf[i] = n_buf;
            bufs[n_buf++] = sn__tfl_buffer(&b, meta[i].text, strlen(meta[i].text));
        }
    sn_fb_ref buffers = sn_fb_vector_refs(&b, bufs, (size_t)n_buf);
    sn_fb_ref metas[3];
    for (int i = 0; i < 3; i++) {
        if (!meta[i].text) continue;
        sn_fb_ref name = sn_fb_string(&b, meta[i].name);
        sn_fb_table_begin(&b);
        sn_fb_add_ref(&b, SN_TFL_METADATA_NAME, name);
        sn_fb_add_u32(&b, SN_TFL_METADATA_BUFFER, (uint32_t)meta_buf[i], 0);
        metas[n_meta++] = sn_fb_table_end(&b);
    }
    sn_fb_ref metadata = sn_fb_vector_refs(&b, metas, (size_t)n_meta);

    for (int i = 0; i < m->n_t; i++) refs[i] = sn__tfl_tensor(&b, &m->t[i], buf_of[i]);
    sn_fb_ref tensors = sn_fb_vector_refs(&b, refs, (size_t)m->n_t);
    int n_codes = 0;
    for (int i = 0; i < m->n_ops; i++) {
        const sn_tfl_op *o = &m->ops[i];
        sn_fb_ref in = sn__tfl_vec_i32(&b, o->in, o->n_in),
                  out = sn__tfl_vec_i32(&b, o->out, o->n_out);
        sn_fb_ref opts = sn__tfl_options(&b, o);
        int code = sn__tfl_opcode(codes, &n_codes, o->code, o->version);
        sn_fb_table_begin(&b);
        sn_fb_add_u32(&b, SN_TFL_OPERATOR_OPCODE_INDEX, (uint32_t)code, 0);
        sn_fb_add_ref(&b, SN_TFL_OPERATOR_INPUTS, in);
        sn_fb_add_ref(&b, SN_TFL_OPERATOR_OUTPUTS, out);
        sn_fb_add_u8(&b, SN_TFL_OPERATOR_OPTIONS_TYPE, (uint8_t)o->opt_type, 0);
        sn_fb_add_ref(&b, SN_TFL_OPERATOR_OPTIONS, opts);
        refs[i] = sn_fb_table_end(&b);
    }
    sn_fb_ref operators = sn_fb_vector_refs(&b, refs, (size_t)m->n_ops);
    sn_fb_ref inputs = sn__tfl_vec_i32(&b, m->inputs, m->n_inputs);
    sn_fb_ref outputs = sn__tfl_vec_i32(&b, m->outputs, m->n_outputs);
    sn_fb_ref sg_name = sn_fb_string(&b, "main");
    sn_fb_table_begin(&b);
    sn_fb_add_ref(&b, SN_TFL_SUBGRAPH_TENSORS, tensors);
    sn_fb_add_ref(&b, SN_TFL_SUBGRAPH_INPUTS, inputs);
    sn_fb_add_ref(&b, SN_TFL_SUBGRAPH_OUTPUTS, outputs);
    sn_fb_add_ref(&b, SN_TFL_SUBGRAPH_OPERATORS, operators);
    sn_fb_add_ref(&b, SN_TFL_SUBGRAPH_NAME, sg_name);
    sn_fb_ref subgraph = sn_fb_table_end(&b);
    sn_fb_ref subgraphs = sn_fb_vector_refs(&b, &subgraph, 1);

    for (int i = 0; i < n_codes; i++) {
        sn_fb_table_begin(&b);
        int c = codes[i][0];
        sn_fb_add_i8(&b, SN_TFL_OPCODE_DEPRECATED_BUILTIN,
                     (int8_t)(c < SN_TFL_OP_PLACEHOLDER_FOR_GREATER_OP_CODES
                                  ? c
                                  : SN_TFL_OP_PLACEHOLDER_FOR_GREATER_OP_CODES),
                     0);
        sn_fb_add_i32(&b, SN_TFL_OPCODE_VERSION, codes[i][1], 1);
        sn_fb_add_i32(&b, SN_TFL_OPCODE_BUILTIN, c, 0);
        refs[i] = sn_fb_table_end(&b);
    }
    sn_fb_ref opcodes = sn_fb_vector_refs(&b, refs, (size_t)n_codes);

    sn_fb_ref sig_in = sn__tfl_tensor_maps(&b, m, m->inputs, m->n_inputs, refs);
    sn_fb_ref sig_out = sn__tfl_tensor_maps(&b, m, m->outputs, m->n_outputs, refs);
    sn_fb_ref sig_key = sn_fb_string(&b, "serving_default");
    sn_fb_table_begin(&b);
    sn_fb_add_ref(&b, SN_TFL_SIGNATURE_INPUTS, sig_in);
    sn_fb_add_ref(&b, SN_TFL_SIGNATURE_OUTPUTS, sig_out);
    sn_fb_add_ref(&b, SN_TFL_SIGNATURE_KEY, sig_key);
    sn_fb_ref sig = sn_fb_table_end(&b);
    sn_fb_ref sigs = sn_fb_vector_refs(&b, &sig, 1);

    char desc[256];
    snprintf(desc, sizeof desc, "Sentinel %s export", sn_version_string());
    for (int i = 0; i < g->meta.n_props; i++)
        if (!strcmp(g->meta.prop_keys[i], "model"))
            snprintf(desc, sizeof desc, "Sentinel %s export of %.180s", sn_version_string(),
                     g->meta.prop_values[i]);
    sn_fb_ref description = sn_fb_string(&b, desc);
    sn_fb_table_begin(&b);
    sn_fb_add_u32(&b, SN_TFL_MODEL_VERSION, SN_TFL_SCHEMA_VERSION, 0);
    sn_fb_add_ref(&b, SN_TFL_MODEL_OPERATOR_CODES, opcodes);
    sn_fb_add_ref(&b, SN_TFL_MODEL_SUBGRAPHS, subgraphs);
    sn_fb_add_ref(&b, SN_TFL_MODEL_DESCRIPTION, description);
    sn_fb_add_ref(&b, SN_TFL_MODEL_BUFFERS, buffers);
    sn_fb_add_ref(&b, SN_TFL_MODEL_METADATA, metadata);
    sn_fb_add_ref(&b, SN_TFL_MODEL_SIGNATURE_DEFS, sigs);
    sn_fb_ref model = sn_fb_table_end(&b);
    s = sn_fb_finish(&b, model, SN_TFL_IDENTIFIER, data, size, err);
    if (s != SN_OK) sn_error_prefix(err, "writing the TFLite FlatBuffer");
done:
    sn_fb_free(&b);
    for (int i = 0; i < 3; i++) free(meta[i].text);
    free(refs);
    free(buf_of);
    free(codes);
    return s;
}
