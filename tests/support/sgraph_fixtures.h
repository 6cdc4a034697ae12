/*
 * sgraph_fixtures.h - small graphs and byte-level helpers for the .sgraph tests: graphs built
 * with graph.h that exercise every attribute kind the op set accepts, and helpers that find and
 * patch fields of a written file (then fix its checksums) to make precise hostile inputs.
 */
#ifndef SN_SGRAPH_FIXTURES_H
#define SN_SGRAPH_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

#include "graph.h"

/* image f32 [N,3,4,4] NCHW -> Resize x2 (scales) -> Conv 3x3 (weight, bias, pads) -> Relu ->
 * MaxPool 2x2 -> Clip 0..6 -> GlobalAveragePool -> Flatten -> Gemm (transB, alpha) -> "logits"
 * -> Softmax -> "prob". Outputs prob and logits; 10 labels, ImageNet-like preprocessing and two
 * properties. Weights are random from seed (never zero). */
sn_status sn_sgfx_tiny_cnn(uint64_t seed, sn_graph **out);
/* x f32 [N,4,6,6] -> BatchNormalization -> Pad -> AveragePool -> x*Sigmoid(x) -> Concat ->
 * Transpose -> Reshape -> MatMul -> Add -> LeakyRelu "out": the ops tiny_cnn does not use. */
sn_status sn_sgfx_mixed(uint64_t seed, sn_graph **out);
/* x f32 [N,8] -> Relu "a" -> Relu "b" (output). No constants, no metadata. */
sn_status sn_sgfx_chain(sn_graph **out);

/* Section geometry of a file image; 0 if the kind is absent or the directory is broken. */
int sn_sgfx_section(const uint8_t *buf, size_t size, uint32_t kind, uint64_t *off, uint64_t *len);
/* Recompute every section CRC whose range lies in the file, then the header CRC: after a patch,
 * only the reader's structural checks stand between the patch and the graph. */
void sn_sgfx_fix_crcs(uint8_t *buf, size_t size);
/* Offset of tensor i's record, of node i's record (walking the variable-size records), of a
 * string's ref in the string table (UINT64_MAX when absent), of tensor `name`'s record. */
uint64_t sn_sgfx_tensor_rec(const uint8_t *buf, size_t size, uint32_t i);
uint64_t sn_sgfx_node_rec(const uint8_t *buf, size_t size, uint32_t i);
uint64_t sn_sgfx_string_ref(const uint8_t *buf, size_t size, const char *s);
uint64_t sn_sgfx_tensor_named(const uint8_t *buf, size_t size, const char *name);
/* Offset of attribute `name` in node i's record (UINT64_MAX when absent). */
uint64_t sn_sgfx_node_attr(const uint8_t *buf, size_t size, uint32_t i, const char *name);

/* The fuzzer's seed files: a few small valid and near-valid images (malloc'ed, caller frees
 * each data[i]). Returns the count written into names/data/sizes (at most max). */
int sn_sgfx_corpus(const char **names, uint8_t **data, size_t *sizes, int max);

#endif
