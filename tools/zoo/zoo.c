/* zoo.c - the table of zoo models and the build entry point that checks what a builder made. */
#include "zoo.h"

#include <string.h>

#include "error.h"

typedef struct sn__zoo_entry {
    const char *name;
    const char *description;
    sn_status (*build)(sn_graph *g, uint64_t seed, sn_error *err);
} sn__zoo_entry;

static const sn__zoo_entry sn__zoo_models[] = {
    {"seed-cnn", "two conv layers (separate Conv, BiasAdd, Relu) and a dense layer, 10 classes",
     sn_zoo_build_seed_cnn},
    {"resnet18", "ResNet-18 (torchvision: BasicBlock, 11.7M parameters, 1000 classes)",
     sn_zoo_build_resnet18},
    {"resnet50", "ResNet-50 (torchvision v1.5: Bottleneck, 25.6M parameters, 1000 classes)",
     sn_zoo_build_resnet50},
    {"mobilenetv2", "MobileNetV2 (torchvision: inverted residuals, ReLU6, 3.5M parameters)",
     sn_zoo_build_mobilenetv2},
    {"squeezenet1_1", "SqueezeNet 1.1 (torchvision: Fire modules with Concat, 1.2M parameters)",
     sn_zoo_build_squeezenet1_1},
    {"mobilenetv3_small",
     "MobileNetV3-Small (torchvision: HardSwish, squeeze-excitation with Mul, 2.5M parameters)",
     sn_zoo_build_mobilenetv3_small},
};

#define SN__ZOO_COUNT ((int)(sizeof sn__zoo_models / sizeof sn__zoo_models[0]))

int sn_zoo_count(void) { return SN__ZOO_COUNT; }

const char *sn_zoo_name(int i) {
    return i >= 0 && i < SN__ZOO_COUNT ? sn__zoo_models[i].name : NULL;
}

const char *sn_zoo_description(int i) {
    return i >= 0 && i < SN__ZOO_COUNT ? sn__zoo_models[i].description : NULL;
}

int sn_zoo_find(const char *name) {
    if (!name) return -1;
    for (int i = 0; i < SN__ZOO_COUNT; i++)
        if (strcmp(sn__zoo_models[i].name, name) == 0) return i;
    return -1;
}

sn_status sn_zoo_build(const char *name, uint64_t seed, sn_graph **out, sn_error *err) {
    if (!out) return sn_errorf(err, SN_ERR_INVALID_ARGUMENT, "sn_zoo_build: out is NULL");
    *out = NULL;
    int i = sn_zoo_find(name);
    if (i < 0)
        return sn_errorf(err, SN_ERR_NOT_FOUND, "unknown zoo model '%s'", name ? name : "(null)");
    sn_graph *g = NULL;
    sn_status st = sn_graph_create(&g);
    if (st != SN_OK) {
        sn_errorf(err, st, "zoo: creating the graph for %s", name);
        goto fail;
    }
    st = sn__zoo_models[i].build(g, seed, err);
    if (st != SN_OK) goto fail;
    st = sn_graph_validate(g, err);
    if (st == SN_OK) st = sn_graph_infer_shapes(g, err);
    if (st != SN_OK) {
        /* A builder that makes an invalid graph is a bug in the zoo, not bad input. */
        sn_error_prefix(err, "zoo model %s", name);
        goto fail;
    }
    *out = g;
    return SN_OK;
fail:
    sn_graph_destroy(g);
    return st;
}

int64_t sn_zoo_param_count(const sn_graph *g, int64_t *bn_stats) {
    int64_t total = 0, stats = 0;
    for (int t = 0; t < g->n_tensors; t++)
        if (g->tensors[t].flags & SN_TENSOR_CONST) total += sn_shape_numel(&g->tensors[t].shape);
    for (int i = 0; i < g->n_nodes; i++) {
        const sn_node *n = &g->nodes[i];
        if (n->dead || n->op != SN_OP_BATCHNORM) continue;
        for (int k = 3; k < n->n_inputs && k < 5; k++)
            if (n->inputs[k] >= 0 && (g->tensors[n->inputs[k]].flags & SN_TENSOR_CONST))
                stats += sn_shape_numel(&g->tensors[n->inputs[k]].shape);
    }
    if (bn_stats) *bn_stats = stats;
    return total - stats;
}
