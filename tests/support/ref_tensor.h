/*
 * ref_tensor.h - the one table of elementwise and tensor-manipulation op cases (activations,
 * Add/Sub/Mul/Div, Concat, Flatten, Reshape, Transpose, Pad, Resize) and their straightforward
 * double-precision reference.
 *
 * The table is data: the CPU-vs-reference tests (tests/test_ops_tensor.c), the GPU-vs-CPU tests
 * and the benchmarks all walk the same cases. A second table holds cases shape inference must
 * reject, with the status and a phrase the message must contain.
 */
#ifndef SN_REF_TENSOR_H
#define SN_REF_TENSOR_H

#include "graph.h"

#define SN_TCASE_MAX_INPUTS 4
#define SN_TCASE_MAX_ATTRS 5

typedef struct sn_tensor_case {
    const char *name; /* unique; also the node's name */
    sn_op op;
    int n_inputs;
    sn_shape in[SN_TCASE_MAX_INPUTS];
    sn_dtype dtype[SN_TCASE_MAX_INPUTS]; /* 0 = f32 */
    int n_attrs;
    sn_attr attrs[SN_TCASE_MAX_ATTRS];
    float lo, hi;   /* input values in [lo, hi); [-1, 1) when both are 0 */
    float min_abs;  /* when > 0, |x| >= min_abs (divisors) */
    sn_status expect;     /* error table: the status inference returns */
    const char *message;  /* error table: a phrase the message contains */
} sn_tensor_case;

extern const sn_tensor_case sn_tensor_cases[];
extern const int sn_tensor_case_count;
extern const sn_tensor_case sn_tensor_error_cases[];
extern const int sn_tensor_error_case_count;

/* A node for a case, as the runtime would see it: name, op, arity and the table's attributes
 * (borrowed). inputs/outputs point at dummy tensor indices 0..n-1 / n. */
void sn_tensor_case_node(const sn_tensor_case *c, sn_node *node, int *tensor_idx);

/* Input sn_values (shapes and dtypes, data NULL) for a case. */
void sn_tensor_case_inputs(const sn_tensor_case *c, sn_value *in);

/* Whether an op only moves elements (so works for every dtype). */
int sn_ref_is_data_movement(sn_op op);

/* Reference: computes the output shape by the op's own rules and the output values in double.
 * in[i].data are double arrays. *out_data is malloc'ed (caller frees). Returns 0, or -1 when
 * the reference finds the case invalid or does not know the op. */
int sn_ref_tensor_op(const sn_node *n, int n_in, const sn_shape *in_shape,
                     const double *const *in_data, sn_shape *out_shape, double **out_data);

#endif
