/*
 * zoo.h - the model zoo: builders of real vision architectures with deterministic, seeded
 * weights, for tests, benchmarks and `sentinel-zoo`.
 *
 * The structures follow torchvision (same layers, shapes and parameter counts) with unfused
 * layers - Conv without bias, then BatchNormalization, then a separate activation - so the
 * optimisation passes have the real patterns to fuse. Weights are random (He-uniform, see
 * builder.h) but identical for the same name and seed on every machine. Every model takes
 * "input" f32 [N,3,224,224] NCHW and produces "logits" [N,classes], and carries ImageNet-style
 * labels and preprocessing metadata.
 *
 * Models: seed-cnn (the seeds' small network), resnet18, resnet50, mobilenetv2, and, for more
 * of the op set, squeezenet1_1 (Concat, ceil-mode pools, biased convs) and mobilenetv3_small
 * (HardSwish, HardSigmoid, squeeze-excitation Mul).
 */
#ifndef SN_ZOO_H
#define SN_ZOO_H

#include <stdint.h>

#include "graph.h"

/* Build model `name` into a new graph (caller destroys). The graph has passed
 * sn_graph_validate and sn_graph_infer_shapes. SN_ERR_NOT_FOUND for an unknown name. */
sn_status sn_zoo_build(const char *name, uint64_t seed, sn_graph **out, sn_error *err);

/* The models, in a fixed order: 0 <= i < sn_zoo_count(). NULL when i is out of range. */
int sn_zoo_count(void);
const char *sn_zoo_name(int i);
const char *sn_zoo_description(int i);
/* The index of a model by name, or -1. */
int sn_zoo_find(const char *name);

/* Parameters as torchvision counts them: the elements of every constant except the running
 * mean and variance inputs of BatchNormalization nodes, which go to *bn_stats (may be NULL). */
int64_t sn_zoo_param_count(const sn_graph *g, int64_t *bn_stats);

/* The model builders the table in zoo.c dispatches to (one file each). They fill an empty
 * graph; sn_zoo_build validates and infers shapes. */
sn_status sn_zoo_build_seed_cnn(sn_graph *g, uint64_t seed, sn_error *err);
sn_status sn_zoo_build_resnet18(sn_graph *g, uint64_t seed, sn_error *err);
sn_status sn_zoo_build_resnet50(sn_graph *g, uint64_t seed, sn_error *err);
sn_status sn_zoo_build_mobilenetv2(sn_graph *g, uint64_t seed, sn_error *err);
sn_status sn_zoo_build_squeezenet1_1(sn_graph *g, uint64_t seed, sn_error *err);
sn_status sn_zoo_build_mobilenetv3_small(sn_graph *g, uint64_t seed, sn_error *err);

#endif
