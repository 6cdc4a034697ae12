/*
 * onnx_ops.c - the table of ONNX ops (default domain, opsets 11-21) the importer converts, and
 * for each how: evaluated at import time when all its inputs are constants (`host`), and/or
 * turned into Sentinel nodes (`graph`). An op missing here is reported as unsupported; so is an
 * op whose attributes ask for something Sentinel does not do (each handler says what).
 * docs/onnx.md describes the mapping of each.
 */
#include <string.h>

#include "onnx_internal.h"

/* Sorted by name (binary search). */
static const sn__ox_op sn__ops[] = {
    {"Add", sn__ox_fold_binary, sn__ox_binary},
    {"AveragePool", NULL, sn__ox_pool},
    {"BatchNormalization", NULL, sn__ox_batchnorm},
    {"Cast", sn__ox_fold_cast, sn__ox_cast},
    {"Clip", NULL, sn__ox_clip},
    {"Concat", sn__ox_fold_concat, sn__ox_concat},
    {"Constant", sn__ox_fold_constant, NULL},
    {"ConstantOfShape", sn__ox_fold_constant_of_shape, NULL},
    {"Conv", NULL, sn__ox_conv},
    {"Div", sn__ox_fold_binary, sn__ox_binary},
    {"Dropout", sn__ox_fold_identity, sn__ox_identity},
    {"Expand", sn__ox_fold_expand, NULL},
    {"Flatten", sn__ox_fold_flatten, sn__ox_flatten},
    {"Gather", sn__ox_fold_gather, sn__ox_gather},
    {"Gemm", NULL, sn__ox_gemm},
    {"GlobalAveragePool", NULL, sn__ox_global_pool},
    {"GlobalMaxPool", NULL, sn__ox_global_pool},
    {"HardSigmoid", NULL, sn__ox_activation},
    {"HardSwish", NULL, sn__ox_activation},
    {"Identity", sn__ox_fold_identity, sn__ox_identity},
    {"LeakyRelu", NULL, sn__ox_activation},
    {"MatMul", NULL, sn__ox_matmul},
    {"MaxPool", NULL, sn__ox_pool},
    {"Mul", sn__ox_fold_binary, sn__ox_binary},
    {"Neg", sn__ox_fold_neg, NULL},
    {"Pad", NULL, sn__ox_pad},
    {"Range", sn__ox_fold_range, NULL},
    {"ReduceMean", NULL, sn__ox_reduce_mean},
    {"Relu", NULL, sn__ox_activation},
    {"Reshape", sn__ox_fold_reshape, sn__ox_reshape},
    {"Resize", NULL, sn__ox_resize},
    {"Shape", sn__ox_fold_shape, sn__ox_fold_shape},
    {"Sigmoid", NULL, sn__ox_activation},
    {"Size", sn__ox_fold_size, sn__ox_fold_size},
    {"Slice", sn__ox_fold_slice, sn__ox_slice},
    {"Softmax", NULL, sn__ox_softmax},
    {"Split", NULL, sn__ox_split},
    {"Squeeze", sn__ox_fold_squeeze, sn__ox_squeeze},
    {"Sub", sn__ox_fold_binary, sn__ox_binary},
    {"Sum", NULL, sn__ox_sum},
    {"Tanh", NULL, sn__ox_activation},
    {"Transpose", NULL, sn__ox_transpose},
    {"Unsqueeze", sn__ox_fold_unsqueeze, sn__ox_unsqueeze},
};

#define SN__N_OPS ((int)(sizeof sn__ops / sizeof sn__ops[0]))

const sn__ox_op *sn__ox_op_find(const char *op_type) {
    int lo = 0, hi = SN__N_OPS - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp(op_type, sn__ops[mid].op_type);
        if (!c) return &sn__ops[mid];
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return NULL;
}

int sn__ox_op_count(void) { return SN__N_OPS; }

const char *sn__ox_op_name(int i) { return i >= 0 && i < SN__N_OPS ? sn__ops[i].op_type : NULL; }
