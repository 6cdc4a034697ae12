/*
 * ref_nn.h - the one table of neural-network op cases (Conv, FusedConv, BatchNormalization,
 * BiasAdd, MaxPool, AveragePool, GlobalAveragePool, MatMul, Gemm, Softmax) and their
 * straightforward double-precision reference.
 *
 * The table is data (op, input shapes, attributes): the CPU-vs-reference tests
 * (tests/test_ops_nn.c), the GPU-vs-CPU tests and the kernel benchmarks all walk the same cases.
 * A second table holds cases shape inference must reject, with the status and a phrase the
 * message must contain (the message must also name the node, which is the case's name).
 */
#ifndef SN_REF_NN_H
#define SN_REF_NN_H

#include "graph.h"
#include "test_support.h"

#define SN_NCASE_MAX_INPUTS 5
#define SN_NCASE_MAX_ATTRS 8

typedef struct sn_nn_case {
    const char *name; /* unique; also the node's name */
    sn_op op;
    int n_inputs;
    sn_shape in[SN_NCASE_MAX_INPUTS];    /* rank -1: an omitted optional input */
    sn_dtype dtype[SN_NCASE_MAX_INPUTS]; /* 0 = f32 */
    int n_attrs;
    sn_attr attrs[SN_NCASE_MAX_ATTRS];
    float lo, hi;         /* input values in [lo, hi); [-1, 1) when both are 0 */
    sn_status expect;     /* error table: the status inference returns */
    const char *message;  /* error table: a phrase the message contains */
} sn_nn_case;

extern const sn_nn_case sn_nn_cases[];
extern const int sn_nn_case_count;
extern const sn_nn_case sn_nn_error_cases[];
extern const int sn_nn_error_case_count;

/* A node for a case, as the runtime would see it: name, op, arity and the table's attributes
 * (borrowed). tensor_idx needs n_inputs + 1 entries; an omitted input gets index -1. */
void sn_nn_case_node(const sn_nn_case *c, sn_node *node, int *tensor_idx);

/* Input sn_values (present, dtype, shape; data NULL) for a case. */
void sn_nn_case_inputs(const sn_nn_case *c, sn_value *in);

/* Random values for input i of a case (n floats), in the range the op needs: the case's
 * [lo, hi), except BatchNormalization's variance, which is kept positive. */
void sn_nn_case_fill(const sn_nn_case *c, int i, sn_rng *r, float *x, size_t n);

/* Reference: computes the output shape by the op's own rules, independently of graph/ops, and
 * the output values in double. in_shape[i].rank < 0 (or in_data[i] NULL) marks an omitted
 * input. *out_data is malloc'ed (caller frees). Returns 0, or -1 when the reference finds the
 * case invalid or does not know the op. */
int sn_ref_nn_op(const sn_node *n, int n_in, const sn_shape *in_shape,
                 const double *const *in_data, sn_shape *out_shape, double **out_data);

#endif
