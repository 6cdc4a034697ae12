/*
 * onnx_build.h - building small ONNX models in C (protobuf-c structs, packed to bytes) for the
 * importer's error tests and the fuzzer's seed corpus, where no Python is at hand. Everything a
 * builder allocates lives until sn_ob_free; functions abort on out-of-memory (tests only).
 */
#ifndef SN_ONNX_BUILD_H
#define SN_ONNX_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "onnx.pb-c.h"

typedef struct sn_ob sn_ob;

/* A model importing the default domain at `opset` (ir_version 8). */
sn_ob *sn_ob_new(int64_t opset);
void sn_ob_free(sn_ob *b);
Onnx__ModelProto *sn_ob_model(sn_ob *b);
/* Import another domain too. */
void sn_ob_opset(sn_ob *b, const char *domain, int64_t version);

/* A float graph input; a dim of -1 is the symbolic 'N', -2 a symbolic 'H'. */
void sn_ob_input(sn_ob *b, const char *name, int rank, const int64_t *dims);
/* A float graph output; rank -1 declares no shape. */
void sn_ob_output(sn_ob *b, const char *name, int rank, const int64_t *dims);
/* Initializers (raw_data, little-endian). Returns the TensorProto to tamper with. */
Onnx__TensorProto *sn_ob_init_f32(sn_ob *b, const char *name, int rank, const int64_t *dims,
                                  const float *data);
Onnx__TensorProto *sn_ob_init_i64(sn_ob *b, const char *name, int rank, const int64_t *dims,
                                  const int64_t *data);
/* A node with outputs; inputs may include "" for omitted ones. */
Onnx__NodeProto *sn_ob_node(sn_ob *b, const char *op, const char *name, int n_in,
                            const char *const *in, int n_out, const char *const *out);
void sn_ob_attr_int(sn_ob *b, Onnx__NodeProto *n, const char *name, int64_t v);
void sn_ob_attr_float(sn_ob *b, Onnx__NodeProto *n, const char *name, float v);
void sn_ob_attr_ints(sn_ob *b, Onnx__NodeProto *n, const char *name, int count, const int64_t *v);
void sn_ob_attr_string(sn_ob *b, Onnx__NodeProto *n, const char *name, const char *v);

/* Strings and arrays that live as long as the builder. */
char *sn_ob_strdup(sn_ob *b, const char *s);
void *sn_ob_alloc(sn_ob *b, size_t bytes);

/* x[N,3,8,8] -> Conv 'conv1' (W [4,3,3,3] uniform in [-0.5,0.5) from `seed`, pads 1) -> 'c' ->
 * Relu 'relu1' -> y, declared [N,4,8,8]. */
sn_ob *sn_ob_tiny(int64_t opset, uint64_t seed);

/* Serialise (malloc'ed; the caller frees). */
void *sn_ob_pack(sn_ob *b, size_t *size);

#endif
