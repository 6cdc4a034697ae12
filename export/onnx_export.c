/*
 * onnx_export.c - sn_export_onnx: a Sentinel graph as an ONNX ModelProto, serialised with the
 * protobuf-c code generated from Debian's onnx.proto (target sentinel_onnx_proto).
 *
 * The model: ir_version to match the opset (7 for 13-14, 8 for 15-18, 9 for 19-20, 10 for 21),
 * one default-domain opset import, producer "Sentinel"; graph inputs and outputs keep Sentinel's
 * names, dtypes and shapes with the dynamic batch as dim_param "N"; weights are initializers
 * with raw_data (little-endian, as ONNX specifies); labels and preprocessing go into
 * metadata_props ("sentinel.labels": one per line, "sentinel.preprocess": JSON) beside the
 * graph's free-form properties. Nodes: onnx_export_nodes.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_util.h"
#include "onnx_writer.h"

/* A graph input or output as a ValueInfoProto: dtype and shape, dim 0 "N" when batched. */
static Onnx__ValueInfoProto *sn__ow_value_info(sn__ow *w, int t) {
    const sn_tensor *x = &w->g->tensors[t];
    Onnx__ValueInfoProto *v = sn__ow_alloc(w, sizeof *v);
    Onnx__TypeProto *tp = sn__ow_alloc(w, sizeof *tp);
    Onnx__TypeProto__Tensor *tt = sn__ow_alloc(w, sizeof *tt);
    Onnx__TensorShapeProto *sp = sn__ow_alloc(w, sizeof *sp);
    int rank = x->shape.rank > 0 ? x->shape.rank : 0;
    Onnx__TensorShapeProto__Dimension **dims = sn__ow_alloc(w, sizeof *dims * (size_t)(rank + 1));
    if (!v || !tp || !tt || !sp || !dims) return NULL;
    *v = (Onnx__ValueInfoProto)ONNX__VALUE_INFO_PROTO__INIT;
    *tp = (Onnx__TypeProto)ONNX__TYPE_PROTO__INIT;
    *tt = (Onnx__TypeProto__Tensor)ONNX__TYPE_PROTO__TENSOR__INIT;
    *sp = (Onnx__TensorShapeProto)ONNX__TENSOR_SHAPE_PROTO__INIT;
    bool batched = (x->flags & SN_TENSOR_BATCHED) || (rank > 0 && x->shape.d[0] == SN_DIM_BATCH);
    for (int i = 0; i < rank; i++) {
        Onnx__TensorShapeProto__Dimension *d = sn__ow_alloc(w, sizeof *d);
        if (!d) return NULL;
        *d = (Onnx__TensorShapeProto__Dimension)ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
        if (i == 0 && batched) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d->dim_param = sn__ow_strdup(w, "N");
        } else {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = x->shape.d[i];
        }
        dims[i] = d;
    }
    sp->n_dim = (size_t)rank;
    sp->dim = dims;
    tt->has_elem_type = 1;
    tt->elem_type = sn__ow_dtype(x->dtype);
    tt->shape = sp;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    v->type = tp;
    v->name = sn__ow_strdup(w, x->name);
    return w->status == SN_OK ? v : NULL;
}

static Onnx__StringStringEntryProto *sn__ow_prop(sn__ow *w, const char *k, const char *v) {
    Onnx__StringStringEntryProto *e = sn__ow_alloc(w, sizeof *e);
    if (!e) return NULL;
    *e = (Onnx__StringStringEntryProto)ONNX__STRING_STRING_ENTRY_PROTO__INIT;
    e->key = sn__ow_strdup(w, k);
    e->value = sn__ow_strdup(w, v);
    return e;
}

static int64_t sn__ow_ir_version(int opset) {
    return opset <= 14 ? 7 : opset <= 18 ? 8 : opset <= 20 ? 9 : 10;
}

/* Graph, opset and metadata around the nodes; packs into *data. */
static sn_status sn__ow_model(sn__ow *w, void **data, size_t *size) {
    const sn_graph *g = w->g;
    Onnx__GraphProto gp = ONNX__GRAPH_PROTO__INIT;
    Onnx__ModelProto mp = ONNX__MODEL_PROTO__INIT;
    Onnx__OperatorSetIdProto os = ONNX__OPERATOR_SET_ID_PROTO__INIT, *osp = &os;
    gp.name = "main";
    gp.n_node = w->n_nodes;
    gp.node = w->nodes;
    gp.n_initializer = w->n_inits;
    gp.initializer = w->inits;
    gp.input = sn__ow_alloc(w, sizeof *gp.input * (size_t)(g->n_inputs + 1));
    gp.output = sn__ow_alloc(w, sizeof *gp.output * (size_t)(g->n_outputs + 1));
    for (int i = 0; gp.input && i < g->n_inputs; i++)
        if ((gp.input[gp.n_input] = sn__ow_value_info(w, g->inputs[i]))) gp.n_input++;
    for (int i = 0; gp.output && i < g->n_outputs; i++)
        if ((gp.output[gp.n_output] = sn__ow_value_info(w, g->outputs[i]))) gp.n_output++;

    os.domain = "";
    os.has_version = 1;
    os.version = w->opset;
    mp.has_ir_version = 1;
    mp.ir_version = sn__ow_ir_version(w->opset);
    mp.n_opset_import = 1;
    mp.opset_import = &osp;
    mp.producer_name = "Sentinel";
    mp.producer_version = (char *)sn_version_string();
    mp.graph = &gp;

    /* Labels and preprocessing, then the free-form properties (which name the model). */
    bool none = false;
    char *labels = sn__export_labels_text(&g->meta);
    char *pre = sn__export_preprocess_json(&g->meta.preprocess, "NCHW", &none);
    mp.metadata_props = sn__ow_alloc(w, sizeof *mp.metadata_props * (size_t)(g->meta.n_props + 2));
    if (!labels || (!pre && !none))
        w->status = sn_errorf(w->err, SN_ERR_OUT_OF_MEMORY, "out of memory");
    if (mp.metadata_props && labels && g->meta.n_labels)
        mp.metadata_props[mp.n_metadata_props++] = sn__ow_prop(w, "sentinel.labels", labels);
    if (mp.metadata_props && pre)
        mp.metadata_props[mp.n_metadata_props++] = sn__ow_prop(w, "sentinel.preprocess", pre);
    free(labels);
    free(pre);
    for (int i = 0; mp.metadata_props && i < g->meta.n_props; i++) {
        if (!strcmp(g->meta.prop_keys[i], "description"))
            mp.doc_string = sn__ow_strdup(w, g->meta.prop_values[i]);
        mp.metadata_props[mp.n_metadata_props++] =
            sn__ow_prop(w, g->meta.prop_keys[i], g->meta.prop_values[i]);
    }
    if (w->status != SN_OK) return w->status;
    size_t n = protobuf_c_message_get_packed_size(&mp.base);
    /* protobuf-c sizes fields as 32-bit: ONNX's own 2 GiB limit for one file. */
    if (n > (size_t)INT32_MAX)
        return sn_errorf(w->err, SN_ERR_UNSUPPORTED,
                         "the model needs %zu bytes; a single ONNX "
                         "file holds at most 2 GiB",
                         n);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) return sn_errorf(w->err, SN_ERR_OUT_OF_MEMORY, "out of memory packing ONNX");
    size_t got = protobuf_c_message_pack(&mp.base, buf);
    if (got != n) {
        free(buf);
        return sn_errorf(w->err, SN_ERR_INTERNAL, "protobuf-c packed %zu of %zu bytes", got, n);
    }
    *data = buf;
    *size = n;
    return SN_OK;
}

sn_status sn_export_onnx(const sn_graph *g, const sn_onnx_export_options *opt, void **data,
                         size_t *size, sn_error *err) {
    sn_error local = {0};
    if (!err) err = &local;
    sn_error_clear(err);
    if (!g || !data || !size)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "sn_export_onnx: NULL argument");
    *data = NULL;
    *size = 0;
    sn_onnx_export_options o = SN_ONNX_EXPORT_OPTIONS_INIT;
    if (opt) {
        if (opt->size < sizeof o.size)
            return sn_errorf(err, SN_ERR_INVALID_ARGUMENT,
                             "ONNX export options: size is %zu; "
                             "initialise them with SN_ONNX_EXPORT_OPTIONS_INIT",
                             opt->size);
        memcpy(&o, opt, opt->size < sizeof o ? opt->size : sizeof o);
    }
    if (o.opset == 0) o.opset = SN_ONNX_OPSET_DEFAULT;
    if (o.opset < SN_ONNX_OPSET_MIN || o.opset > SN_ONNX_OPSET_MAX)
        return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "ONNX opset %d is outside %d..%d", o.opset,
                         SN_ONNX_OPSET_MIN, SN_ONNX_OPSET_MAX);
    sn_status ms = sn__export_meta_check(&g->meta, true, err);
    if (ms != SN_OK) return ms;
    sn__ow w = {.g = g, .opset = o.opset, .err = err};
    int *order = NULL, count = 0;
    sn_status s = sn_graph_topo_order(g, &order, &count, err);
    w.const_done = calloc((size_t)(g->n_tensors ? g->n_tensors : 1), sizeof *w.const_done);
    if (s == SN_OK && !w.const_done)
        s = sn_errorf(err, SN_ERR_OUT_OF_MEMORY, "out of memory writing ONNX");
    w.status = s;
    for (int k = 0; k < count && w.status == SN_OK; k++) sn__ow_node_emit(&w, order[k]);
    /* Graph outputs that no node computes (a constant) are initializers. */
    for (int i = 0; i < g->n_outputs && w.status == SN_OK; i++)
        if (g->tensors[g->outputs[i]].flags & SN_TENSOR_CONST) sn__ow_const(&w, g->outputs[i]);
    s = w.status;
    if (s == SN_OK) s = sn__ow_model(&w, data, size);
    free(order);
    sn__ow_free(&w);
    return s;
}
