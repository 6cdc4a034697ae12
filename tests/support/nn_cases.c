/*
 * nn_cases.c - the table of neural-network op cases (see ref_nn.h). Sizes are odd on purpose so
 * no multiple of a vector width hides a tail bug; each kernel path is reached (pointwise 1x1,
 * im2col, grouped, and the depthwise kernel's padded-copy, long-row and in-place border modes
 * with strides 1/2/3, dilation and a channel multiplier), a few cases
 * are large enough to be split across threads, and every attribute of every op is varied.
 */
#include "ref_nn.h"

#define SH(...) {(int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), {__VA_ARGS__}}
#define SCALAR {0, {0}}
#define OMIT {-1, {0}}
#define INS(...) .n_inputs = (int)(sizeof((sn_shape[]){__VA_ARGS__}) / sizeof(sn_shape)), \
                 .in = {__VA_ARGS__}
#define ATTRS(...) .n_attrs = (int)(sizeof((sn_attr[]){__VA_ARGS__}) / sizeof(sn_attr)), \
                   .attrs = {__VA_ARGS__}
#define AI(nm, v) {nm, SN_ATTR_INT, 1, {.i = (v)}}
#define AF(nm, v) {nm, SN_ATTR_FLOAT, 1, {.f = (v)}}
#define AIS(nm, ...) {nm, SN_ATTR_INTS, (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), \
                      {.ints = (const int64_t[]){__VA_ARGS__}}}
#define PADS(...) AIS("pads", __VA_ARGS__)
#define STRIDES(...) AIS("strides", __VA_ARGS__)
#define DIL(...) AIS("dilations", __VA_ARGS__)
#define KS(...) AIS("kernel_shape", __VA_ARGS__)
#define ACT(a) AI("activation", (a))

const sn_nn_case sn_nn_cases[] = {
    /* Conv: im2col path */
    {"conv_3x3_p1", SN_OP_CONV, INS(SH(2, 5, 9, 11), SH(7, 5, 3, 3), SH(7)),
     ATTRS(PADS(1, 1, 1, 1))},
    {"conv_3x3_nopad_nobias", SN_OP_CONV, INS(SH(1, 3, 8, 7), SH(5, 3, 3, 3))},
    {"conv_3x3_s2_asym", SN_OP_CONV, INS(SH(1, 6, 13, 10), SH(8, 6, 3, 3), SH(8)),
     ATTRS(STRIDES(2, 2), PADS(0, 1, 2, 1))},
    {"conv_5x3_s2x1_dil", SN_OP_CONV, INS(SH(2, 3, 17, 12), SH(4, 3, 5, 3), SH(4)),
     ATTRS(STRIDES(2, 1), DIL(2, 3), PADS(2, 1, 1, 3))},
    {"conv_7x7_s2_p3", SN_OP_CONV, INS(SH(1, 3, 33, 31), SH(8, 3, 7, 7), SH(8)),
     ATTRS(STRIDES(2, 2), PADS(3, 3, 3, 3), KS(7, 7))},
    {"conv_kernel_equals_input", SN_OP_CONV, INS(SH(2, 2, 3, 3), SH(4, 2, 3, 3), SH(4))},
    {"conv_wide_kernel", SN_OP_CONV, INS(SH(1, 2, 4, 9), SH(3, 2, 1, 5)), ATTRS(PADS(0, 2, 0, 2))},
    {"conv_stride3_pad_end", SN_OP_CONV, INS(SH(1, 4, 10, 11), SH(3, 4, 2, 2), SH(3)),
     ATTRS(STRIDES(3, 3), PADS(0, 0, 2, 1))},
    {"conv_big_threads", SN_OP_CONV, INS(SH(1, 32, 28, 27), SH(33, 32, 3, 3), SH(33)),
     ATTRS(PADS(1, 1, 1, 1))},
    /* Conv: 1x1 */
    {"conv_1x1", SN_OP_CONV, INS(SH(2, 16, 7, 9), SH(24, 16, 1, 1), SH(24))},
    {"conv_1x1_nobias", SN_OP_CONV, INS(SH(1, 8, 5, 5), SH(12, 8, 1, 1))},
    {"conv_1x1_big", SN_OP_CONV, INS(SH(2, 64, 14, 15), SH(40, 64, 1, 1), SH(40))},
    {"conv_1x1_s2", SN_OP_CONV, INS(SH(1, 8, 9, 9), SH(6, 8, 1, 1), SH(6)), ATTRS(STRIDES(2, 2))},
    {"conv_1x1_padded", SN_OP_CONV, INS(SH(1, 4, 5, 6), SH(3, 4, 1, 1)), ATTRS(PADS(1, 0, 0, 1))},
    /* Conv: groups */
    {"conv_group2", SN_OP_CONV, INS(SH(2, 8, 9, 7), SH(6, 4, 3, 3), SH(6)),
     ATTRS(AI("group", 2), PADS(1, 1, 1, 1))},
    {"conv_group4_1x1", SN_OP_CONV, INS(SH(1, 8, 6, 6), SH(8, 2, 1, 1)), ATTRS(AI("group", 4))},
    {"conv_group3_s2", SN_OP_CONV, INS(SH(1, 9, 11, 8), SH(12, 3, 3, 3), SH(12)),
     ATTRS(AI("group", 3), STRIDES(2, 2), PADS(1, 0, 1, 2))},
    /* Conv: one input channel per group (direct kernel) */
    {"conv_dw_3x3", SN_OP_CONV, INS(SH(2, 12, 11, 13), SH(12, 1, 3, 3), SH(12)),
     ATTRS(AI("group", 12), PADS(1, 1, 1, 1))},
    {"conv_dw_s2_tfpad", SN_OP_CONV, INS(SH(1, 16, 14, 15), SH(16, 1, 3, 3), SH(16)),
     ATTRS(AI("group", 16), STRIDES(2, 2), PADS(0, 0, 1, 1))},
    {"conv_dw_5x5_dil2", SN_OP_CONV, INS(SH(1, 6, 12, 13), SH(6, 1, 5, 5)),
     ATTRS(AI("group", 6), PADS(2, 3, 4, 1), DIL(2, 2))},
    {"conv_dw_mult2", SN_OP_CONV, INS(SH(1, 4, 8, 9), SH(8, 1, 3, 3), SH(8)),
     ATTRS(AI("group", 4), PADS(1, 1, 1, 1))},
    {"conv_dw_s3", SN_OP_CONV, INS(SH(1, 3, 10, 11), SH(3, 1, 3, 3)),
     ATTRS(AI("group", 3), STRIDES(3, 3))},
    {"conv_dw_s1x2", SN_OP_CONV, INS(SH(2, 5, 9, 12), SH(5, 1, 3, 4), SH(5)),
     ATTRS(AI("group", 5), STRIDES(1, 2), PADS(1, 2, 0, 1))},
    {"conv_dw_big", SN_OP_CONV, INS(SH(1, 96, 29, 28), SH(96, 1, 3, 3), SH(96)),
     ATTRS(AI("group", 96), PADS(1, 1, 1, 1))},
    /* depthwise planes too big to copy padded: border outputs test their taps in place */
    {"conv_dw_large_3x3", SN_OP_CONV, INS(SH(1, 3, 97, 91), SH(3, 1, 3, 3), SH(3)),
     ATTRS(AI("group", 3), PADS(1, 1, 1, 1))},
    {"conv_dw_large_s2_asym", SN_OP_CONV, INS(SH(1, 2, 101, 90), SH(2, 1, 3, 3)),
     ATTRS(AI("group", 2), STRIDES(2, 2), PADS(0, 1, 1, 0))},
    {"conv_dw_large_5x5_dil", SN_OP_CONV, INS(SH(1, 2, 90, 95), SH(4, 1, 5, 5), SH(4)),
     ATTRS(AI("group", 2), DIL(2, 2), PADS(4, 3, 2, 5))},
    {"conv_dw_nopad_wide", SN_OP_CONV, INS(SH(2, 2, 40, 50), SH(2, 1, 3, 3), SH(2)),
     ATTRS(AI("group", 2))},
    {"conv_dw_nopad_narrow_5x5", SN_OP_CONV, INS(SH(1, 3, 12, 12), SH(3, 1, 5, 5)),
     ATTRS(AI("group", 3))},
    {"conv_single_channel", SN_OP_CONV, INS(SH(2, 1, 10, 10), SH(5, 1, 3, 3), SH(5))},
    /* FusedConv: residual and every activation */
    {"fused_relu_residual", SN_OP_FUSED_CONV,
     INS(SH(2, 8, 9, 9), SH(8, 8, 3, 3), SH(8), SH(2, 8, 9, 9)),
     ATTRS(PADS(1, 1, 1, 1), ACT(SN_ACT_RELU))},
    {"fused_residual_nobias", SN_OP_FUSED_CONV,
     INS(SH(1, 6, 7, 8), SH(5, 6, 3, 3), OMIT, SH(1, 5, 7, 8)), ATTRS(PADS(1, 1, 1, 1))},
    {"fused_none_bias_only", SN_OP_FUSED_CONV, INS(SH(1, 4, 6, 6), SH(3, 4, 3, 3), SH(3))},
    {"fused_relu6", SN_OP_FUSED_CONV, INS(SH(1, 5, 9, 7), SH(6, 5, 3, 3), SH(6)),
     ATTRS(PADS(1, 1, 1, 1), ACT(SN_ACT_CLIP), AF("act_alpha", 0.0f), AF("act_beta", 6.0f)),
     .lo = -2, .hi = 2},
    {"fused_clip_default", SN_OP_FUSED_CONV, INS(SH(1, 3, 6, 5), SH(4, 3, 3, 3), SH(4)),
     ATTRS(ACT(SN_ACT_CLIP))},
    {"fused_leaky", SN_OP_FUSED_CONV, INS(SH(1, 5, 8, 7), SH(4, 5, 3, 3), SH(4), SH(1, 4, 8, 7)),
     ATTRS(PADS(1, 1, 1, 1), ACT(SN_ACT_LEAKY_RELU), AF("act_alpha", 0.1f))},
    {"fused_leaky_default", SN_OP_FUSED_CONV, INS(SH(1, 3, 7, 7), SH(4, 3, 3, 3)),
     ATTRS(ACT(SN_ACT_LEAKY_RELU))},
    {"fused_sigmoid", SN_OP_FUSED_CONV, INS(SH(2, 4, 7, 6), SH(6, 4, 3, 3), SH(6), SH(2, 6, 5, 4)),
     ATTRS(ACT(SN_ACT_SIGMOID))},
    {"fused_tanh", SN_OP_FUSED_CONV, INS(SH(1, 4, 7, 6), SH(6, 4, 2, 2), SH(6)),
     ATTRS(STRIDES(2, 2), ACT(SN_ACT_TANH))},
    {"fused_hard_sigmoid", SN_OP_FUSED_CONV, INS(SH(1, 4, 7, 6), SH(5, 4, 3, 3), SH(5)),
     ATTRS(PADS(1, 1, 1, 1), ACT(SN_ACT_HARD_SIGMOID), AF("act_alpha", 1.0f / 6.0f),
           AF("act_beta", 0.5f))},
    {"fused_hard_sigmoid_default", SN_OP_FUSED_CONV, INS(SH(1, 4, 5, 6), SH(5, 4, 1, 1), SH(5)),
     ATTRS(ACT(SN_ACT_HARD_SIGMOID))},
    {"fused_hard_swish_residual", SN_OP_FUSED_CONV,
     INS(SH(1, 8, 6, 7), SH(10, 8, 1, 1), SH(10), SH(1, 10, 6, 7)), ATTRS(ACT(SN_ACT_HARD_SWISH)),
     .lo = -2, .hi = 2},
    {"fused_silu_residual", SN_OP_FUSED_CONV,
     INS(SH(2, 6, 9, 8), SH(6, 6, 3, 3), SH(6), SH(2, 6, 9, 8)),
     ATTRS(PADS(1, 1, 1, 1), ACT(SN_ACT_SILU))},
    {"fused_dw_relu6_residual", SN_OP_FUSED_CONV,
     INS(SH(2, 8, 10, 9), SH(8, 1, 3, 3), SH(8), SH(2, 8, 5, 5)),
     ATTRS(AI("group", 8), STRIDES(2, 2), PADS(1, 1, 1, 1), ACT(SN_ACT_CLIP), AF("act_alpha", 0.0f),
           AF("act_beta", 6.0f)), .lo = -2, .hi = 2},
    {"fused_dw_large_relu6_residual", SN_OP_FUSED_CONV,
     INS(SH(1, 2, 96, 97), SH(2, 1, 3, 3), SH(2), SH(1, 2, 96, 97)),
     ATTRS(AI("group", 2), PADS(1, 1, 1, 1), ACT(SN_ACT_CLIP), AF("act_alpha", 0.0f),
           AF("act_beta", 6.0f)), .lo = -2, .hi = 2},
    {"fused_dw_silu", SN_OP_FUSED_CONV, INS(SH(1, 7, 9, 9), SH(7, 1, 3, 3), SH(7)),
     ATTRS(AI("group", 7), PADS(1, 1, 1, 1), ACT(SN_ACT_SILU))},
    {"fused_group_relu_residual", SN_OP_FUSED_CONV,
     INS(SH(1, 6, 8, 8), SH(4, 3, 3, 3), SH(4), SH(1, 4, 8, 8)),
     ATTRS(AI("group", 2), PADS(1, 1, 1, 1), ACT(SN_ACT_RELU))},
    {"fused_big_relu_residual", SN_OP_FUSED_CONV,
     INS(SH(2, 24, 15, 16), SH(24, 24, 3, 3), SH(24), SH(2, 24, 15, 16)),
     ATTRS(PADS(1, 1, 1, 1), ACT(SN_ACT_RELU))},

    /* MaxPool */
    {"maxpool_3x3_s2_p1", SN_OP_MAX_POOL, INS(SH(2, 8, 17, 17)),
     ATTRS(KS(3, 3), STRIDES(2, 2), PADS(1, 1, 1, 1))},
    {"maxpool_2x2_odd", SN_OP_MAX_POOL, INS(SH(1, 5, 8, 9)), ATTRS(KS(2, 2), STRIDES(2, 2))},
    {"maxpool_3x3_s1_default", SN_OP_MAX_POOL, INS(SH(1, 3, 6, 7)), ATTRS(KS(3, 3))},
    {"maxpool_ceil", SN_OP_MAX_POOL, INS(SH(1, 3, 9, 10)),
     ATTRS(KS(3, 3), STRIDES(2, 2), AI("ceil_mode", 1))},
    {"maxpool_ceil_drop", SN_OP_MAX_POOL, INS(SH(1, 2, 5, 5)),
     ATTRS(KS(2, 2), STRIDES(2, 2), PADS(1, 1, 1, 1), AI("ceil_mode", 1))},
    {"maxpool_dilated", SN_OP_MAX_POOL, INS(SH(1, 4, 11, 12)),
     ATTRS(KS(3, 3), DIL(2, 2), PADS(1, 1, 1, 1))},
    {"maxpool_dilated_ceil", SN_OP_MAX_POOL, INS(SH(1, 2, 9, 8)),
     ATTRS(KS(2, 3), STRIDES(2, 2), DIL(2, 1), AI("ceil_mode", 1))},
    {"maxpool_asym", SN_OP_MAX_POOL, INS(SH(1, 3, 8, 7)),
     ATTRS(KS(3, 2), STRIDES(2, 1), PADS(0, 1, 2, 0))},
    {"maxpool_big", SN_OP_MAX_POOL, INS(SH(1, 64, 56, 55)),
     ATTRS(KS(3, 3), STRIDES(2, 2), PADS(1, 1, 1, 1))},
    /* AveragePool */
    {"avgpool_3x3_p1_excl", SN_OP_AVG_POOL, INS(SH(2, 4, 9, 8)), ATTRS(KS(3, 3), PADS(1, 1, 1, 1))},
    {"avgpool_3x3_p1_incl", SN_OP_AVG_POOL, INS(SH(2, 4, 9, 8)),
     ATTRS(KS(3, 3), PADS(1, 1, 1, 1), AI("count_include_pad", 1))},
    {"avgpool_2x2_s2", SN_OP_AVG_POOL, INS(SH(2, 4, 7, 7)), ATTRS(KS(2, 2), STRIDES(2, 2))},
    {"avgpool_ceil_incl", SN_OP_AVG_POOL, INS(SH(1, 3, 10, 12)),
     ATTRS(KS(3, 3), STRIDES(2, 2), PADS(1, 1, 1, 1), AI("ceil_mode", 1),
           AI("count_include_pad", 1))},
    {"avgpool_ceil_excl", SN_OP_AVG_POOL, INS(SH(1, 3, 10, 9)),
     ATTRS(KS(3, 2), STRIDES(2, 2), PADS(1, 0, 0, 1), AI("ceil_mode", 1))},
    {"avgpool_asym_incl", SN_OP_AVG_POOL, INS(SH(1, 3, 8, 9)),
     ATTRS(KS(3, 3), STRIDES(2, 2), PADS(1, 0, 0, 2), AI("count_include_pad", 1))},
    {"avgpool_big", SN_OP_AVG_POOL, INS(SH(1, 32, 28, 29)), ATTRS(KS(2, 2), STRIDES(2, 2))},
    /* GlobalAveragePool */
    {"gap_4d", SN_OP_GLOBAL_AVG_POOL, INS(SH(2, 16, 7, 7))},
    {"gap_big", SN_OP_GLOBAL_AVG_POOL, INS(SH(2, 64, 13, 11))},
    {"gap_3d", SN_OP_GLOBAL_AVG_POOL, INS(SH(2, 5, 17))},
    {"gap_1x1", SN_OP_GLOBAL_AVG_POOL, INS(SH(1, 8, 1, 1))},

    /* BatchNormalization, BiasAdd */
    {"bn_4d", SN_OP_BATCHNORM, INS(SH(2, 16, 9, 11), SH(16), SH(16), SH(16), SH(16))},
    {"bn_2d", SN_OP_BATCHNORM, INS(SH(5, 7), SH(7), SH(7), SH(7), SH(7))},
    {"bn_3d_eps", SN_OP_BATCHNORM, INS(SH(2, 6, 10), SH(6), SH(6), SH(6), SH(6)),
     ATTRS(AF("epsilon", 1e-3f), AF("momentum", 0.9f))},
    {"bn_big", SN_OP_BATCHNORM, INS(SH(1, 64, 56, 57), SH(64), SH(64), SH(64), SH(64))},
    {"bias_add_4d", SN_OP_BIAS_ADD, INS(SH(2, 9, 7, 5), SH(9))},
    {"bias_add_2d", SN_OP_BIAS_ADD, INS(SH(3, 17), SH(17))},
    {"bias_add_big", SN_OP_BIAS_ADD, INS(SH(1, 48, 40, 41), SH(48))},

    /* MatMul */
    {"matmul_2d", SN_OP_MATMUL, INS(SH(7, 5), SH(5, 9))},
    {"matmul_batched", SN_OP_MATMUL, INS(SH(3, 4, 6), SH(3, 6, 5))},
    {"matmul_shared_b", SN_OP_MATMUL, INS(SH(2, 3, 4, 6), SH(6, 5))},
    {"matmul_shared_a", SN_OP_MATMUL, INS(SH(4, 6), SH(3, 6, 5))},
    {"matmul_bcast_both", SN_OP_MATMUL, INS(SH(2, 1, 4, 6), SH(1, 3, 6, 5))},
    {"matmul_bcast_rank5", SN_OP_MATMUL, INS(SH(2, 1, 3, 4, 5), SH(3, 5, 2))},
    {"matmul_1d_left", SN_OP_MATMUL, INS(SH(6), SH(2, 6, 5))},
    {"matmul_1d_right", SN_OP_MATMUL, INS(SH(2, 4, 6), SH(6))},
    /* a single output has no rms to measure cancellation against: keep the terms positive */
    {"matmul_1d_both", SN_OP_MATMUL, INS(SH(6), SH(6)), .lo = 0.1f, .hi = 1.0f},
    {"matmul_big", SN_OP_MATMUL, INS(SH(65, 127), SH(127, 97))},
    /* Gemm */
    {"gemm_plain", SN_OP_GEMM, INS(SH(7, 5), SH(5, 9))},
    {"gemm_c_row", SN_OP_GEMM, INS(SH(7, 5), SH(5, 9), SH(9))},
    {"gemm_c_1xn", SN_OP_GEMM, INS(SH(7, 5), SH(5, 9), SH(1, 9)), ATTRS(AF("beta", 0.5f))},
    {"gemm_c_mx1", SN_OP_GEMM, INS(SH(7, 5), SH(5, 9), SH(7, 1))},
    {"gemm_c_mxn", SN_OP_GEMM, INS(SH(7, 5), SH(5, 9), SH(7, 9)), ATTRS(AF("alpha", -1.5f))},
    {"gemm_c_scalar", SN_OP_GEMM, INS(SH(7, 5), SH(5, 9), SCALAR)},
    {"gemm_c_one", SN_OP_GEMM, INS(SH(7, 5), SH(5, 9), SH(1))},
    {"gemm_c_1x1", SN_OP_GEMM, INS(SH(4, 5), SH(5, 1), SH(1, 1))},
    {"gemm_trans_a", SN_OP_GEMM, INS(SH(5, 7), SH(5, 9), SH(9)), ATTRS(AI("transA", 1))},
    {"gemm_trans_b", SN_OP_GEMM, INS(SH(7, 5), SH(9, 5), SH(9)), ATTRS(AI("transB", 1))},
    {"gemm_trans_both", SN_OP_GEMM, INS(SH(5, 7), SH(9, 5), SH(7, 9)),
     ATTRS(AI("transA", 1), AI("transB", 1), AF("alpha", 0.5f), AF("beta", 2.0f))},
    {"gemm_beta0", SN_OP_GEMM, INS(SH(7, 5), SH(5, 9), SH(9)), ATTRS(AF("beta", 0.0f))},
    {"gemm_relu", SN_OP_GEMM, INS(SH(6, 11), SH(11, 13), SH(13)), ATTRS(ACT(SN_ACT_RELU))},
    {"gemm_clip", SN_OP_GEMM, INS(SH(6, 11), SH(13, 11), SH(13)),
     ATTRS(AI("transB", 1), ACT(SN_ACT_CLIP), AF("act_alpha", -0.5f), AF("act_beta", 0.75f))},
    {"gemm_leaky", SN_OP_GEMM, INS(SH(6, 11), SH(11, 13), SH(6, 1)),
     ATTRS(ACT(SN_ACT_LEAKY_RELU), AF("act_alpha", 0.2f))},
    {"gemm_sigmoid", SN_OP_GEMM, INS(SH(6, 11), SH(11, 13)), ATTRS(ACT(SN_ACT_SIGMOID))},
    {"gemm_tanh", SN_OP_GEMM, INS(SH(6, 11), SH(11, 13), SH(13)), ATTRS(ACT(SN_ACT_TANH))},
    {"gemm_hard_sigmoid", SN_OP_GEMM, INS(SH(6, 11), SH(11, 13), SH(13)),
     ATTRS(ACT(SN_ACT_HARD_SIGMOID))},
    {"gemm_hard_swish", SN_OP_GEMM, INS(SH(6, 11), SH(11, 13), SH(13)),
     ATTRS(ACT(SN_ACT_HARD_SWISH))},
    {"gemm_silu", SN_OP_GEMM, INS(SH(6, 11), SH(11, 13), SH(6, 13)), ATTRS(ACT(SN_ACT_SILU))},
    {"gemm_classifier", SN_OP_GEMM, INS(SH(3, 512), SH(1000, 512), SH(1000)),
     ATTRS(AI("transB", 1))},
    {"gemm_big_relu", SN_OP_GEMM, INS(SH(129, 65), SH(65, 257), SH(257)), ATTRS(ACT(SN_ACT_RELU))},

    /* Softmax */
    {"softmax_default", SN_OP_SOFTMAX, INS(SH(3, 10))},
    {"softmax_rank1", SN_OP_SOFTMAX, INS(SH(7))},
    {"softmax_axis1", SN_OP_SOFTMAX, INS(SH(2, 5, 7)), ATTRS(AI("axis", 1))},
    {"softmax_axis0", SN_OP_SOFTMAX, INS(SH(4, 3, 5)), ATTRS(AI("axis", 0))},
    {"softmax_axis_neg2", SN_OP_SOFTMAX, INS(SH(2, 6, 3, 5)), ATTRS(AI("axis", -2))},
    {"softmax_channels", SN_OP_SOFTMAX, INS(SH(2, 3, 4, 5)), ATTRS(AI("axis", 1))},
    {"softmax_wide_inner", SN_OP_SOFTMAX, INS(SH(2, 8, 300)), ATTRS(AI("axis", 1))},
    {"softmax_classes", SN_OP_SOFTMAX, INS(SH(5, 1000))},
    {"softmax_large_values", SN_OP_SOFTMAX, INS(SH(4, 33)), .lo = -100, .hi = 100},
    {"softmax_large_values_cols", SN_OP_SOFTMAX, INS(SH(3, 9, 17)), ATTRS(AI("axis", 1)),
     .lo = -100, .hi = 100},
    {"softmax_big", SN_OP_SOFTMAX, INS(SH(64, 1001))},
};
const int sn_nn_case_count = (int)(sizeof sn_nn_cases / sizeof sn_nn_cases[0]);

#define ERR(st, msg) .expect = (st), .message = (msg)

const sn_nn_case sn_nn_error_cases[] = {
    {"conv_err_channels", SN_OP_CONV, INS(SH(1, 4, 5, 5), SH(2, 3, 3, 3)),
     ERR(SN_ERR_SHAPE, "3 input channels per group")},
    {"conv_err_group_divides", SN_OP_CONV, INS(SH(1, 6, 5, 5), SH(4, 2, 3, 3)),
     ATTRS(AI("group", 4)),
     ERR(SN_ERR_SHAPE, "group 4 must divide")},
    {"conv_err_group_out", SN_OP_CONV, INS(SH(1, 6, 5, 5), SH(5, 2, 3, 3)), ATTRS(AI("group", 3)),
     ERR(SN_ERR_SHAPE, "the 5 output channels")},
    {"conv_err_group_zero", SN_OP_CONV, INS(SH(1, 6, 5, 5), SH(4, 6, 3, 3)), ATTRS(AI("group", 0)),
     ERR(SN_ERR_INVALID_ARGUMENT, "'group' = 0")},
    {"conv_err_kernel_big", SN_OP_CONV, INS(SH(1, 2, 3, 3), SH(2, 2, 5, 5)),
     ERR(SN_ERR_SHAPE, "larger than the padded input 3x3")},
    {"conv_err_dilated_big", SN_OP_CONV, INS(SH(1, 2, 5, 5), SH(2, 2, 3, 3)), ATTRS(DIL(3, 3)),
     ERR(SN_ERR_SHAPE, "dilated 7x7")},
    {"conv_err_x_rank", SN_OP_CONV, INS(SH(2, 5, 9), SH(4, 5, 3, 3)),
     ERR(SN_ERR_SHAPE, "X (input 0) must be 4-D")},
    {"conv_err_w_rank", SN_OP_CONV, INS(SH(2, 5, 9, 9), SH(4, 5, 3)),
     ERR(SN_ERR_SHAPE, "W (input 1) must be 4-D")},
    {"conv_err_bias", SN_OP_CONV, INS(SH(1, 3, 5, 5), SH(4, 3, 3, 3), SH(5)),
     ERR(SN_ERR_SHAPE, "expected [4]")},
    {"conv_err_missing_w", SN_OP_CONV, INS(SH(1, 3, 5, 5)), ERR(SN_ERR_GRAPH, "needs 2 inputs")},
    {"conv_err_omitted_w", SN_OP_CONV, INS(SH(1, 3, 5, 5), OMIT),
     ERR(SN_ERR_GRAPH, "input 1 is missing")},
    {"conv_err_strides_count", SN_OP_CONV, INS(SH(1, 3, 5, 5), SH(4, 3, 3, 3)),
     ATTRS(STRIDES(1, 1, 1)),
     ERR(SN_ERR_INVALID_ARGUMENT, "'strides' must be 2 ints")},
    {"conv_err_stride_zero", SN_OP_CONV, INS(SH(1, 3, 5, 5), SH(4, 3, 3, 3)), ATTRS(STRIDES(1, 0)),
     ERR(SN_ERR_INVALID_ARGUMENT, "'strides'[1] = 0")},
    {"conv_err_negative_pad", SN_OP_CONV, INS(SH(1, 3, 5, 5), SH(4, 3, 3, 3)),
     ATTRS(PADS(0, -1, 0, 0)),
     ERR(SN_ERR_INVALID_ARGUMENT, "'pads'[1] = -1")},
    {"conv_err_group_type", SN_OP_CONV, INS(SH(1, 3, 5, 5), SH(4, 3, 3, 3)),
     ATTRS(AF("group", 1.0f)),
     ERR(SN_ERR_INVALID_ARGUMENT, "'group' must be an int")},
    {"conv_err_kernel_shape", SN_OP_CONV, INS(SH(1, 3, 5, 5), SH(4, 3, 3, 3)), ATTRS(KS(3, 2)),
     ERR(SN_ERR_INVALID_ARGUMENT, "'kernel_shape' does not match")},
    {"conv_err_f16", SN_OP_CONV, INS(SH(1, 3, 5, 5), SH(4, 3, 3, 3)), .dtype = {SN_DTYPE_F16},
     ERR(SN_ERR_UNSUPPORTED, "input 0 is f16")},
    {"conv_err_zero_dim", SN_OP_CONV, INS(SH(0, 3, 5, 5), SH(4, 3, 3, 3)),
     ERR(SN_ERR_SHAPE, "dim 0 = 0")},
    {"fused_err_residual", SN_OP_FUSED_CONV,
     INS(SH(1, 3, 5, 5), SH(4, 3, 3, 3), SH(4), SH(1, 4, 5, 5)),
     ERR(SN_ERR_SHAPE, "expected the output shape [1,4,3,3]")},
    {"fused_err_activation", SN_OP_FUSED_CONV, INS(SH(1, 3, 5, 5), SH(4, 3, 3, 3)), ATTRS(ACT(99)),
     ERR(SN_ERR_INVALID_ARGUMENT, "'activation' = 99")},
    {"fused_err_act_alpha_nan", SN_OP_FUSED_CONV, INS(SH(1, 3, 5, 5), SH(4, 3, 3, 3)),
     ATTRS(ACT(SN_ACT_LEAKY_RELU), AF("act_alpha", __builtin_nanf(""))),
     ERR(SN_ERR_INVALID_ARGUMENT, "NaN")},
    {"fused_err_z_i8", SN_OP_FUSED_CONV, INS(SH(1, 3, 5, 5), SH(4, 3, 3, 3), OMIT, SH(1, 4, 3, 3)),
     .dtype = {0, 0, 0, SN_DTYPE_I8}, ERR(SN_ERR_UNSUPPORTED, "input 3 is i8")},
    {"maxpool_err_no_kernel", SN_OP_MAX_POOL, INS(SH(1, 3, 5, 5)), ATTRS(STRIDES(2, 2)),
     ERR(SN_ERR_INVALID_ARGUMENT, "missing required attribute 'kernel_shape'")},
    {"maxpool_err_kernel_big", SN_OP_MAX_POOL, INS(SH(1, 3, 4, 5)), ATTRS(KS(5, 5)),
     ERR(SN_ERR_SHAPE, "larger than the padded input")},
    {"maxpool_err_pad_ge_kernel", SN_OP_MAX_POOL, INS(SH(1, 3, 8, 8)),
     ATTRS(KS(2, 2), PADS(0, 2, 0, 0)),
     ERR(SN_ERR_INVALID_ARGUMENT, "smaller than the kernel")},
    {"maxpool_err_rank", SN_OP_MAX_POOL, INS(SH(3, 8, 8)), ATTRS(KS(2, 2)),
     ERR(SN_ERR_SHAPE, "must be 4-D")},
    {"maxpool_err_kernel_rank", SN_OP_MAX_POOL, INS(SH(1, 3, 8, 8)), ATTRS(KS(2, 2, 2)),
     ERR(SN_ERR_INVALID_ARGUMENT, "'kernel_shape' must be 2 positive ints")},
    {"avgpool_err_ceil_mode", SN_OP_AVG_POOL, INS(SH(1, 3, 8, 8)),
     ATTRS(KS(2, 2), AI("ceil_mode", 2)),
     ERR(SN_ERR_INVALID_ARGUMENT, "'ceil_mode' = 2")},
    {"avgpool_err_include_pad", SN_OP_AVG_POOL, INS(SH(1, 3, 8, 8)),
     ATTRS(KS(2, 2), AI("count_include_pad", -1)),
     ERR(SN_ERR_INVALID_ARGUMENT, "'count_include_pad' = -1")},
    {"avgpool_err_i32", SN_OP_AVG_POOL, INS(SH(1, 3, 8, 8)), .dtype = {SN_DTYPE_I32},
     ATTRS(KS(2, 2)),
     ERR(SN_ERR_UNSUPPORTED, "i32")},
    {"gap_err_rank", SN_OP_GLOBAL_AVG_POOL, INS(SH(3, 8)), ERR(SN_ERR_SHAPE, "[N,C,spatial...]")},
    {"bn_err_channels", SN_OP_BATCHNORM, INS(SH(1, 4, 3, 3), SH(4), SH(4), SH(5), SH(4)),
     ERR(SN_ERR_SHAPE, "mean (input 3) is [5]")},
    {"bn_err_rank", SN_OP_BATCHNORM, INS(SH(4), SH(4), SH(4), SH(4), SH(4)),
     ERR(SN_ERR_SHAPE, "[N,C,...]")},
    {"bn_err_epsilon", SN_OP_BATCHNORM, INS(SH(1, 4, 3, 3), SH(4), SH(4), SH(4), SH(4)),
     ATTRS(AF("epsilon", -1.0f)), ERR(SN_ERR_INVALID_ARGUMENT, "'epsilon'")},
    {"bn_err_missing_var", SN_OP_BATCHNORM, INS(SH(1, 4, 3, 3), SH(4), SH(4), SH(4)),
     ERR(SN_ERR_GRAPH, "needs 5 inputs")},
    {"bias_add_err_len", SN_OP_BIAS_ADD, INS(SH(2, 6, 3), SH(3)),
     ERR(SN_ERR_SHAPE, "B (input 1) is [3]")},
    {"matmul_err_k", SN_OP_MATMUL, INS(SH(3, 4), SH(5, 6)), ERR(SN_ERR_SHAPE, "inner dims differ")},
    {"matmul_err_batch", SN_OP_MATMUL, INS(SH(2, 3, 4), SH(3, 4, 5)),
     ERR(SN_ERR_SHAPE, "do not broadcast")},
    {"matmul_err_scalar", SN_OP_MATMUL, INS(SCALAR, SH(3, 4)), ERR(SN_ERR_SHAPE, "at least 1-D")},
    {"matmul_err_i64", SN_OP_MATMUL, INS(SH(3, 4), SH(4, 2)), .dtype = {0, SN_DTYPE_I64},
     ERR(SN_ERR_UNSUPPORTED, "input 1 is i64")},
    {"gemm_err_rank", SN_OP_GEMM, INS(SH(2, 3, 4), SH(4, 5)),
     ERR(SN_ERR_SHAPE, "A (input 0) must be 2-D")},
    {"gemm_err_k", SN_OP_GEMM, INS(SH(3, 4), SH(5, 6)), ATTRS(AI("transB", 1)),
     ERR(SN_ERR_SHAPE, "inner dims differ")},
    {"gemm_err_c", SN_OP_GEMM, INS(SH(7, 5), SH(5, 9), SH(3, 9)),
     ERR(SN_ERR_SHAPE, "does not broadcast to [7,9]")},
    {"gemm_err_c_rank", SN_OP_GEMM, INS(SH(7, 5), SH(5, 9), SH(1, 7, 9)),
     ERR(SN_ERR_SHAPE, "does not broadcast")},
    {"gemm_err_trans", SN_OP_GEMM, INS(SH(7, 5), SH(5, 9)), ATTRS(AI("transA", 2)),
     ERR(SN_ERR_INVALID_ARGUMENT, "'transA' = 2")},
    {"gemm_err_activation", SN_OP_GEMM, INS(SH(7, 5), SH(5, 9)), ATTRS(ACT(-1)),
     ERR(SN_ERR_INVALID_ARGUMENT, "'activation' = -1")},
    {"softmax_err_axis", SN_OP_SOFTMAX, INS(SH(3, 4)), ATTRS(AI("axis", 2)),
     ERR(SN_ERR_INVALID_ARGUMENT, "'axis' = 2")},
    {"softmax_err_axis_neg", SN_OP_SOFTMAX, INS(SH(3, 4)), ATTRS(AI("axis", -3)),
     ERR(SN_ERR_INVALID_ARGUMENT, "'axis' = -3")},
    {"softmax_err_scalar", SN_OP_SOFTMAX, INS(SCALAR), ERR(SN_ERR_SHAPE, "at least 1-D")},
};
const int sn_nn_error_case_count = (int)(sizeof sn_nn_error_cases / sizeof sn_nn_error_cases[0]);

void sn_nn_case_node(const sn_nn_case *c, sn_node *node, int *tensor_idx) {
    for (int i = 0; i < c->n_inputs; i++) tensor_idx[i] = c->in[i].rank < 0 ? -1 : i;
    tensor_idx[c->n_inputs] = c->n_inputs;
    *node = (sn_node){0};
    node->name = c->name;
    node->op = c->op;
    node->n_inputs = c->n_inputs;
    node->n_outputs = 1;
    node->inputs = tensor_idx;
    node->outputs = tensor_idx + c->n_inputs;
    node->n_attrs = c->n_attrs;
    node->attrs = (sn_attr *)c->attrs; /* read only: the getters never write */
}

void sn_nn_case_inputs(const sn_nn_case *c, sn_value *in) {
    for (int i = 0; i < c->n_inputs; i++) {
        in[i] = (sn_value){0};
        if (c->in[i].rank < 0) continue;
        in[i].present = true;
        in[i].dtype = c->dtype[i];
        in[i].rank = c->in[i].rank;
        for (int k = 0; k < c->in[i].rank; k++) in[i].d[k] = c->in[i].d[k];
    }
}

void sn_nn_case_fill(const sn_nn_case *c, int i, sn_rng *r, float *x, size_t n) {
    float lo = c->lo, hi = c->hi;
    if (lo == 0.0f && hi == 0.0f) lo = -1.0f, hi = 1.0f;
    if (c->op == SN_OP_BATCHNORM && i == 4) lo = 0.05f, hi = 2.0f; /* variance */
    sn_rng_fill(r, x, n, lo, hi);
}
