/*
 * tensor_cases.c - the table of elementwise / tensor-manipulation op cases (see ref_tensor.h).
 * Shapes are odd-sized on purpose (no multiple of a vector width hides a tail bug), a few are
 * large enough to be split across threads, and every attribute of every op is varied.
 */
#include <math.h>

#include "ref_tensor.h"

#define SH(...) {(int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), {__VA_ARGS__}}
#define SCALAR {0, {0}}
#define INS(...) .n_inputs = (int)(sizeof((sn_shape[]){__VA_ARGS__}) / sizeof(sn_shape)), \
                 .in = {__VA_ARGS__}
#define ATTRS(...) .n_attrs = (int)(sizeof((sn_attr[]){__VA_ARGS__}) / sizeof(sn_attr)), \
                   .attrs = {__VA_ARGS__}
#define AI(nm, v) {nm, SN_ATTR_INT, 1, {.i = (v)}}
#define AF(nm, v) {nm, SN_ATTR_FLOAT, 1, {.f = (v)}}
#define AIS(nm, ...) {nm, SN_ATTR_INTS, (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), \
                      {.ints = (const int64_t[]){__VA_ARGS__}}}
#define AFS(nm, ...) {nm, SN_ATTR_FLOATS, (int)(sizeof((float[]){__VA_ARGS__}) / sizeof(float)), \
                      {.floats = (const float[]){__VA_ARGS__}}}
#define AEMPTY(nm, type) {nm, type, 0, {.ints = NULL}}

const sn_tensor_case sn_tensor_cases[] = {
    /* activations */
    {"relu_4d", SN_OP_RELU, INS(SH(2, 8, 15, 17))},
    {"relu_big", SN_OP_RELU, INS(SH(1, 64, 56, 56))},
    {"relu_rank0", SN_OP_RELU, INS(SCALAR)},
    {"clip_relu6", SN_OP_CLIP, INS(SH(2, 5, 9, 11)),
     ATTRS(AF("min", 0.0f), AF("max", 6.0f)), .lo = -8, .hi = 8},
    {"clip_default", SN_OP_CLIP, INS(SH(3, 7, 13))},
    {"clip_min_only", SN_OP_CLIP, INS(SH(3, 7, 13)), ATTRS(AF("min", -0.25f))},
    {"clip_max_only", SN_OP_CLIP, INS(SH(1000)), ATTRS(AF("max", 0.3f))},
    {"leaky_default", SN_OP_LEAKY_RELU, INS(SH(2, 6, 7, 9))},
    {"leaky_alpha", SN_OP_LEAKY_RELU, INS(SH(2, 6, 7, 9)), ATTRS(AF("alpha", 0.2f))},
    {"leaky_big", SN_OP_LEAKY_RELU, INS(SH(100003)), ATTRS(AF("alpha", 1.5f))},
    {"sigmoid", SN_OP_SIGMOID, INS(SH(2, 16, 9, 9)), .lo = -8, .hi = 8},
    {"sigmoid_big", SN_OP_SIGMOID, INS(SH(1, 32, 64, 33)), .lo = -12, .hi = 12},
    {"tanh", SN_OP_TANH, INS(SH(4, 33, 17)), .lo = -4, .hi = 4},
    {"hard_sigmoid_default", SN_OP_HARD_SIGMOID, INS(SH(2, 8, 11, 5)), .lo = -4, .hi = 4},
    {"hard_sigmoid_torch", SN_OP_HARD_SIGMOID, INS(SH(2, 8, 11, 5)),
     ATTRS(AF("alpha", 1.0f / 6.0f), AF("beta", 0.5f)), .lo = -5, .hi = 5},
    {"hard_swish", SN_OP_HARD_SWISH, INS(SH(2, 12, 13, 7)), .lo = -5, .hi = 5},
    {"silu", SN_OP_SILU, INS(SH(2, 12, 13, 7)), .lo = -8, .hi = 8},
    {"silu_big", SN_OP_SILU, INS(SH(1, 96, 40, 40)), .lo = -8, .hi = 8},
    {"identity", SN_OP_IDENTITY, INS(SH(3, 5, 7))},

    /* binary ops: every broadcasting pattern */
    {"add_same", SN_OP_ADD, INS(SH(2, 3, 4, 5), SH(2, 3, 4, 5))},
    {"add_scalar_rank0", SN_OP_ADD, INS(SH(2, 3, 4, 5), SCALAR)},
    {"add_scalar_rank1", SN_OP_ADD, INS(SH(2, 3, 4, 5), SH(1))},
    {"add_channel", SN_OP_ADD, INS(SH(2, 16, 7, 9), SH(16, 1, 1))},
    {"add_channel_big", SN_OP_ADD, INS(SH(4, 64, 28, 28), SH(64, 1, 1))},
    {"add_long_row", SN_OP_ADD, INS(SH(1, 40001), SH(1))},
    {"add_rank8", SN_OP_ADD, INS(SH(2, 1, 2, 1, 3, 1, 2, 2), SH(1, 2, 1, 3, 1, 2, 1, 2))},
    {"add_both_rank0", SN_OP_ADD, INS(SCALAR, SCALAR)},
    {"sub_rank_mismatch", SN_OP_SUB, INS(SH(4, 5, 6), SH(6))},
    {"sub_scalar_left", SN_OP_SUB, INS(SCALAR, SH(3, 4))},
    {"sub_col_row", SN_OP_SUB, INS(SH(257, 1), SH(1, 3))},
    {"sub_same_big", SN_OP_SUB, INS(SH(40003), SH(40003))},
    {"mul_channel_4d", SN_OP_MUL, INS(SH(2, 16, 7, 9), SH(1, 16, 1, 1))},
    {"mul_inner_bcast", SN_OP_MUL, INS(SH(3, 4, 5), SH(3, 4, 1))},
    {"mul_left_bcast", SN_OP_MUL, INS(SH(1, 5), SH(6, 5))},
    {"mul_same_big", SN_OP_MUL, INS(SH(1, 64, 56, 56), SH(1, 64, 56, 56))},
    {"div_same", SN_OP_DIV, INS(SH(3, 5, 7), SH(3, 5, 7)), .lo = -2, .hi = 2, .min_abs = 0.5f},
    {"div_both_bcast", SN_OP_DIV, INS(SH(3, 1, 5), SH(1, 4, 1)), .lo = -2, .hi = 2, .min_abs = 0.5f},
    {"div_both_bcast_rank5", SN_OP_DIV, INS(SH(2, 1, 4, 1, 3), SH(5, 1, 6, 1)), .lo = -2, .hi = 2,
     .min_abs = 0.5f},
    {"div_scalar", SN_OP_DIV, INS(SH(5, 7), SH(1, 1)), .lo = -2, .hi = 2, .min_abs = 0.5f},
    {"div_channel", SN_OP_DIV, INS(SH(2, 16, 7, 9), SH(16, 1, 1)), .lo = -2, .hi = 2, .min_abs = 0.5f},

    /* concat: each axis, 3 inputs */
    {"concat_axis0", SN_OP_CONCAT, INS(SH(2, 3, 4), SH(1, 3, 4), SH(3, 3, 4)), ATTRS(AI("axis", 0))},
    {"concat_axis1", SN_OP_CONCAT, INS(SH(2, 3, 4), SH(2, 5, 4), SH(2, 1, 4)), ATTRS(AI("axis", 1))},
    {"concat_axis2", SN_OP_CONCAT, INS(SH(2, 3, 4), SH(2, 3, 1), SH(2, 3, 6)), ATTRS(AI("axis", 2))},
    {"concat_axis_neg1", SN_OP_CONCAT, INS(SH(2, 4, 5, 3), SH(2, 4, 5, 2), SH(2, 4, 5, 1)),
     ATTRS(AI("axis", -1))},
    {"concat_axis_neg3", SN_OP_CONCAT, INS(SH(2, 4, 5, 3), SH(2, 2, 5, 3), SH(2, 7, 5, 3)),
     ATTRS(AI("axis", -3))},
    {"concat_one_input", SN_OP_CONCAT, INS(SH(2, 3)), ATTRS(AI("axis", 1))},
    {"concat_channels_big", SN_OP_CONCAT, INS(SH(1, 64, 28, 28), SH(1, 32, 28, 28), SH(1, 96, 28, 28)),
     ATTRS(AI("axis", 1))},
    {"concat_many_rows", SN_OP_CONCAT, INS(SH(64, 8, 5), SH(64, 3, 5), SH(64, 1, 5)), ATTRS(AI("axis", 1))},

    /* flatten */
    {"flatten_default", SN_OP_FLATTEN, INS(SH(2, 3, 4, 5))},
    {"flatten_axis0", SN_OP_FLATTEN, INS(SH(2, 3, 4, 5)), ATTRS(AI("axis", 0))},
    {"flatten_axis2", SN_OP_FLATTEN, INS(SH(2, 3, 4, 5)), ATTRS(AI("axis", 2))},
    {"flatten_axis_rank", SN_OP_FLATTEN, INS(SH(2, 3, 4, 5)), ATTRS(AI("axis", 4))},
    {"flatten_axis_neg1", SN_OP_FLATTEN, INS(SH(2, 3, 4, 5)), ATTRS(AI("axis", -1))},
    {"flatten_axis_neg4", SN_OP_FLATTEN, INS(SH(2, 3, 4, 5)), ATTRS(AI("axis", -4))},

    /* reshape */
    {"reshape_keep_batch", SN_OP_RESHAPE, INS(SH(2, 3, 4, 5)), ATTRS(AIS("shape", 0, -1))},
    {"reshape_all", SN_OP_RESHAPE, INS(SH(2, 3, 4, 5)), ATTRS(AIS("shape", -1))},
    {"reshape_two_zeros", SN_OP_RESHAPE, INS(SH(2, 3, 4, 5)), ATTRS(AIS("shape", 0, 0, -1))},
    {"reshape_infer_middle", SN_OP_RESHAPE, INS(SH(2, 3, 4, 5)), ATTRS(AIS("shape", 6, -1, 5))},
    {"reshape_explicit", SN_OP_RESHAPE, INS(SH(2, 3, 4, 5)), ATTRS(AIS("shape", 2, 3, 20))},
    {"reshape_split", SN_OP_RESHAPE, INS(SH(2, 12, 5)), ATTRS(AIS("shape", 0, 3, 4, -1))},
    {"reshape_to_rank0", SN_OP_RESHAPE, INS(SH(1, 1)), ATTRS(AEMPTY("shape", SN_ATTR_INTS))},
    {"reshape_rank8", SN_OP_RESHAPE, INS(SH(4, 6, 5)), ATTRS(AIS("shape", 2, 1, 2, 3, 1, 2, -1, 1))},

    /* transpose: ranks 2..5 */
    {"transpose_2d_default", SN_OP_TRANSPOSE, INS(SH(37, 53))},
    {"transpose_2d_big", SN_OP_TRANSPOSE, INS(SH(301, 203)), ATTRS(AIS("perm", 1, 0))},
    {"transpose_3d_021", SN_OP_TRANSPOSE, INS(SH(4, 5, 6)), ATTRS(AIS("perm", 0, 2, 1))},
    {"transpose_3d_201", SN_OP_TRANSPOSE, INS(SH(4, 5, 6)), ATTRS(AIS("perm", 2, 0, 1))},
    {"transpose_3d_102", SN_OP_TRANSPOSE, INS(SH(4, 5, 6)), ATTRS(AIS("perm", 1, 0, 2))},
    {"transpose_3d_identity", SN_OP_TRANSPOSE, INS(SH(4, 5, 6)), ATTRS(AIS("perm", 0, 1, 2))},
    {"transpose_nchw_nhwc", SN_OP_TRANSPOSE, INS(SH(2, 16, 9, 11)), ATTRS(AIS("perm", 0, 2, 3, 1))},
    {"transpose_nhwc_nchw", SN_OP_TRANSPOSE, INS(SH(2, 9, 11, 16)), ATTRS(AIS("perm", 0, 3, 1, 2))},
    {"transpose_4d_default", SN_OP_TRANSPOSE, INS(SH(2, 3, 4, 5))},
    {"transpose_nchw_nhwc_big", SN_OP_TRANSPOSE, INS(SH(1, 64, 56, 56)), ATTRS(AIS("perm", 0, 2, 3, 1))},
    {"transpose_rgb_to_hwc", SN_OP_TRANSPOSE, INS(SH(1, 3, 40, 41)), ATTRS(AIS("perm", 0, 2, 3, 1))},
    {"transpose_unit_dims", SN_OP_TRANSPOSE, INS(SH(1, 5, 1, 7)), ATTRS(AIS("perm", 3, 2, 1, 0))},
    {"transpose_5d", SN_OP_TRANSPOSE, INS(SH(2, 3, 4, 5, 6)), ATTRS(AIS("perm", 4, 2, 0, 3, 1))},
    {"transpose_5d_last_two", SN_OP_TRANSPOSE, INS(SH(2, 3, 4, 5, 6)), ATTRS(AIS("perm", 0, 1, 2, 4, 3))},
    {"transpose_shuffle", SN_OP_TRANSPOSE, INS(SH(2, 4, 3, 7, 7)), ATTRS(AIS("perm", 0, 2, 1, 3, 4))},

    /* pad */
    {"pad_constant_hw", SN_OP_PAD, INS(SH(2, 3, 5, 7)),
     ATTRS(AIS("pads", 0, 0, 1, 2, 0, 0, 3, 1), AF("value", 0.5f))},
    {"pad_constant_all_axes", SN_OP_PAD, INS(SH(3, 4, 5)),
     ATTRS(AIS("pads", 1, 0, 2, 2, 1, 0), AI("mode", 0))},
    {"pad_constant_default_value", SN_OP_PAD, INS(SH(9, 11)), ATTRS(AIS("pads", 2, 0, 0, 3))},
    {"pad_reflect_hw", SN_OP_PAD, INS(SH(2, 3, 5, 7)),
     ATTRS(AIS("pads", 0, 0, 2, 3, 0, 0, 4, 1), AI("mode", 1))},
    {"pad_reflect_1d_max", SN_OP_PAD, INS(SH(6)), ATTRS(AIS("pads", 5, 5), AI("mode", 1))},
    {"pad_reflect_channels", SN_OP_PAD, INS(SH(1, 4, 3, 3)),
     ATTRS(AIS("pads", 0, 3, 1, 0, 0, 2, 0, 2), AI("mode", 1))},
    {"pad_edge_hw", SN_OP_PAD, INS(SH(2, 3, 5, 7)),
     ATTRS(AIS("pads", 0, 1, 2, 3, 1, 0, 4, 9), AI("mode", 2))},
    {"pad_edge_1d", SN_OP_PAD, INS(SH(1)), ATTRS(AIS("pads", 3, 2), AI("mode", 2))},
    {"pad_big", SN_OP_PAD, INS(SH(1, 32, 56, 56)), ATTRS(AIS("pads", 0, 0, 1, 1, 0, 0, 1, 1))},

    /* resize: nearest */
    {"resize_nearest_2x", SN_OP_RESIZE, INS(SH(1, 3, 5, 7)), ATTRS(AFS("scales", 1, 1, 2, 2))},
    {"resize_nearest_torch", SN_OP_RESIZE, INS(SH(2, 3, 5, 7)),
     ATTRS(AFS("scales", 1, 1, 2, 3), AI("coord_mode", SN_COORD_ASYMMETRIC),
           AI("nearest_mode", SN_NEAREST_FLOOR))},
    {"resize_nearest_asym_ties_floor", SN_OP_RESIZE, INS(SH(1, 2, 6, 5)),
     ATTRS(AFS("scales", 1, 1, 2, 2), AI("coord_mode", SN_COORD_ASYMMETRIC))},
    {"resize_nearest_asym_ties_ceil", SN_OP_RESIZE, INS(SH(1, 2, 6, 5)),
     ATTRS(AFS("scales", 1, 1, 2, 2), AI("coord_mode", SN_COORD_ASYMMETRIC),
           AI("nearest_mode", SN_NEAREST_ROUND_PREFER_CEIL))},
    {"resize_nearest_down_prefer_floor", SN_OP_RESIZE, INS(SH(1, 3, 8, 10)),
     ATTRS(AFS("scales", 1, 1, 0.5f, 0.5f))},
    {"resize_nearest_down_prefer_ceil", SN_OP_RESIZE, INS(SH(1, 3, 8, 10)),
     ATTRS(AFS("scales", 1, 1, 0.5f, 0.5f), AI("nearest_mode", SN_NEAREST_ROUND_PREFER_CEIL))},
    {"resize_nearest_ceil_align", SN_OP_RESIZE, INS(SH(1, 2, 5, 6)),
     ATTRS(AIS("sizes", 1, 2, 9, 4), AI("coord_mode", SN_COORD_ALIGN_CORNERS),
           AI("nearest_mode", SN_NEAREST_CEIL))},
    {"resize_nearest_pytorch_half", SN_OP_RESIZE, INS(SH(1, 2, 7, 6)),
     ATTRS(AFS("scales", 1, 1, 1.7f, 0.6f), AI("coord_mode", SN_COORD_PYTORCH_HALF_PIXEL))},
    {"resize_nearest_floor_half", SN_OP_RESIZE, INS(SH(2, 2, 7, 6)),
     ATTRS(AFS("scales", 1, 1, 1.5f, 2.5f), AI("nearest_mode", SN_NEAREST_FLOOR))},
    {"resize_nearest_sizes_keep", SN_OP_RESIZE, INS(SH(2, 3, 5, 7)), ATTRS(AIS("sizes", 0, 0, 11, 3))},
    {"resize_nearest_big", SN_OP_RESIZE, INS(SH(1, 32, 28, 28)), ATTRS(AFS("scales", 1, 1, 2, 2))},
    /* resize: linear */
    {"resize_linear_2x", SN_OP_RESIZE, INS(SH(1, 3, 5, 7)), ATTRS(AI("mode", 1), AFS("scales", 1, 1, 2, 2))},
    {"resize_linear_align", SN_OP_RESIZE, INS(SH(2, 3, 5, 7)),
     ATTRS(AI("mode", 1), AIS("sizes", 2, 3, 9, 13), AI("coord_mode", SN_COORD_ALIGN_CORNERS))},
    {"resize_linear_align_to_1", SN_OP_RESIZE, INS(SH(1, 2, 5, 7)),
     ATTRS(AI("mode", 1), AIS("sizes", 1, 2, 1, 4), AI("coord_mode", SN_COORD_ALIGN_CORNERS))},
    {"resize_linear_asym", SN_OP_RESIZE, INS(SH(1, 3, 5, 7)),
     ATTRS(AI("mode", 1), AFS("scales", 1, 1, 1.5f, 2.25f), AI("coord_mode", SN_COORD_ASYMMETRIC))},
    {"resize_linear_pytorch_half_to_1", SN_OP_RESIZE, INS(SH(2, 3, 5, 7)),
     ATTRS(AI("mode", 1), AIS("sizes", 2, 3, 1, 5), AI("coord_mode", SN_COORD_PYTORCH_HALF_PIXEL))},
    {"resize_linear_pytorch_half", SN_OP_RESIZE, INS(SH(1, 3, 6, 7)),
     ATTRS(AI("mode", 1), AFS("scales", 1, 1, 0.75f, 1.25f), AI("coord_mode", SN_COORD_PYTORCH_HALF_PIXEL))},
    {"resize_linear_down", SN_OP_RESIZE, INS(SH(1, 3, 10, 11)),
     ATTRS(AI("mode", 1), AFS("scales", 1, 1, 0.4f, 0.5f))},
    {"resize_linear_sizes_odd", SN_OP_RESIZE, INS(SH(2, 3, 5, 7)),
     ATTRS(AI("mode", 1), AIS("sizes", 2, 3, 7, 11))},
    {"resize_linear_big", SN_OP_RESIZE, INS(SH(1, 16, 56, 56)),
     ATTRS(AI("mode", 1), AFS("scales", 1, 1, 2, 2))},
};
const int sn_tensor_case_count = (int)(sizeof sn_tensor_cases / sizeof sn_tensor_cases[0]);

#define ERR(st, msg) .expect = (st), .message = (msg)

const sn_tensor_case sn_tensor_error_cases[] = {
    {"add_incompatible", SN_OP_ADD, INS(SH(2, 3), SH(4)), ERR(SN_ERR_SHAPE, "cannot broadcast")},
    {"mul_incompatible_4d", SN_OP_MUL, INS(SH(2, 3, 4, 5), SH(3, 3, 1, 1)), ERR(SN_ERR_SHAPE, "[3,3,1,1]")},
    {"add_i32", SN_OP_ADD, INS(SH(2), SH(2)), .dtype = {SN_DTYPE_I32, SN_DTYPE_I32},
     ERR(SN_ERR_UNSUPPORTED, "i32")},
    {"relu_f16", SN_OP_RELU, INS(SH(2)), .dtype = {SN_DTYPE_F16}, ERR(SN_ERR_UNSUPPORTED, "f16")},
    {"pad_u8", SN_OP_PAD, INS(SH(2)), .dtype = {SN_DTYPE_U8}, ATTRS(AIS("pads", 1, 1)),
     ERR(SN_ERR_UNSUPPORTED, "u8")},
    {"clip_min_gt_max", SN_OP_CLIP, INS(SH(2)), ATTRS(AF("min", 1.0f), AF("max", 0.0f)),
     ERR(SN_ERR_INVALID_ARGUMENT, "greater than max")},
    {"leaky_inf_alpha", SN_OP_LEAKY_RELU, INS(SH(2)), ATTRS(AF("alpha", INFINITY)),
     ERR(SN_ERR_INVALID_ARGUMENT, "finite")},
    {"transpose_dup_perm", SN_OP_TRANSPOSE, INS(SH(2, 3, 4)), ATTRS(AIS("perm", 0, 0, 1)),
     ERR(SN_ERR_INVALID_ARGUMENT, "not a permutation")},
    {"transpose_perm_range", SN_OP_TRANSPOSE, INS(SH(2, 3, 4)), ATTRS(AIS("perm", 0, 3, 1)),
     ERR(SN_ERR_INVALID_ARGUMENT, "[0,3,1]")},
    {"transpose_perm_length", SN_OP_TRANSPOSE, INS(SH(2, 3, 4)), ATTRS(AIS("perm", 1, 0)),
     ERR(SN_ERR_INVALID_ARGUMENT, "rank 3")},
    {"transpose_perm_negative", SN_OP_TRANSPOSE, INS(SH(2, 3)), ATTRS(AIS("perm", -1, 0)),
     ERR(SN_ERR_INVALID_ARGUMENT, "not a permutation")},
    {"reshape_count", SN_OP_RESHAPE, INS(SH(2, 3, 4)), ATTRS(AIS("shape", 5, 5)),
     ERR(SN_ERR_SHAPE, "24 elements")},
    {"reshape_two_minus_one", SN_OP_RESHAPE, INS(SH(2, 3, 4)), ATTRS(AIS("shape", -1, 2, -1)),
     ERR(SN_ERR_INVALID_ARGUMENT, "more than one -1")},
    {"reshape_indivisible", SN_OP_RESHAPE, INS(SH(2, 3, 4)), ATTRS(AIS("shape", 5, -1)),
     ERR(SN_ERR_SHAPE, "cannot be inferred")},
    {"reshape_zero_past_rank", SN_OP_RESHAPE, INS(SH(6, 4)), ATTRS(AIS("shape", 0, 0, 0)),
     ERR(SN_ERR_SHAPE, "shape[2] is 0")},
    {"reshape_below_minus_one", SN_OP_RESHAPE, INS(SH(6, 4)), ATTRS(AIS("shape", -2, 12)),
     ERR(SN_ERR_INVALID_ARGUMENT, "shape[0] is -2")},
    {"reshape_missing_shape", SN_OP_RESHAPE, INS(SH(6, 4)), ERR(SN_ERR_INVALID_ARGUMENT, "'shape'")},
    {"flatten_axis_range", SN_OP_FLATTEN, INS(SH(2, 3, 4)), ATTRS(AI("axis", 4)),
     ERR(SN_ERR_INVALID_ARGUMENT, "axis 4")},
    {"concat_mismatch", SN_OP_CONCAT, INS(SH(2, 3, 4), SH(2, 4, 4), SH(2, 3, 1)), ATTRS(AI("axis", 2)),
     ERR(SN_ERR_SHAPE, "input 1 has shape [2,4,4]")},
    {"concat_rank_mismatch", SN_OP_CONCAT, INS(SH(2, 3, 4), SH(2, 3)), ATTRS(AI("axis", 0)),
     ERR(SN_ERR_SHAPE, "input 1")},
    {"concat_dtype_mismatch", SN_OP_CONCAT, INS(SH(2, 3), SH(2, 3)), .dtype = {SN_DTYPE_F32, SN_DTYPE_I64},
     ATTRS(AI("axis", 0)), ERR(SN_ERR_UNSUPPORTED, "i64")},
    {"concat_axis_range", SN_OP_CONCAT, INS(SH(2, 3), SH(2, 3)), ATTRS(AI("axis", -3)),
     ERR(SN_ERR_INVALID_ARGUMENT, "axis -3")},
    {"concat_no_axis", SN_OP_CONCAT, INS(SH(2, 3), SH(2, 3)), ERR(SN_ERR_INVALID_ARGUMENT, "'axis'")},
    {"pad_reflect_too_large", SN_OP_PAD, INS(SH(1, 2, 5, 7)),
     ATTRS(AIS("pads", 0, 0, 1, 7, 0, 0, 1, 0), AI("mode", 1)), ERR(SN_ERR_SHAPE, "smaller than the dim 7")},
    {"pad_negative", SN_OP_PAD, INS(SH(4, 4)), ATTRS(AIS("pads", 0, -1, 0, 0)),
     ERR(SN_ERR_INVALID_ARGUMENT, "negative")},
    {"pad_count", SN_OP_PAD, INS(SH(4, 4)),
     ATTRS(AIS("pads", 1, 1)), ERR(SN_ERR_INVALID_ARGUMENT, "needs 4")},
    {"pad_mode", SN_OP_PAD, INS(SH(4, 4)), ATTRS(AIS("pads", 1, 1, 1, 1), AI("mode", 3)),
     ERR(SN_ERR_INVALID_ARGUMENT, "mode 3")},
    {"resize_both", SN_OP_RESIZE, INS(SH(1, 3, 4, 4)),
     ATTRS(AFS("scales", 1, 1, 2, 2), AIS("sizes", 1, 3, 8, 8)), ERR(SN_ERR_INVALID_ARGUMENT, "exactly one")},
    {"resize_neither", SN_OP_RESIZE, INS(SH(1, 3, 4, 4)), ERR(SN_ERR_INVALID_ARGUMENT, "exactly one")},
    {"resize_channel_scale", SN_OP_RESIZE, INS(SH(1, 3, 4, 4)), ATTRS(AFS("scales", 1, 2, 2, 2)),
     ERR(SN_ERR_UNSUPPORTED, "only H and W")},
    {"resize_sizes_channel", SN_OP_RESIZE, INS(SH(1, 3, 4, 4)), ATTRS(AIS("sizes", 1, 4, 8, 8)),
     ERR(SN_ERR_UNSUPPORTED, "sizes[1] is 4")},
    {"resize_rank3", SN_OP_RESIZE, INS(SH(3, 4, 4)), ATTRS(AFS("scales", 1, 1, 2)), ERR(SN_ERR_SHAPE, "4-D")},
    {"resize_scales_count", SN_OP_RESIZE, INS(SH(1, 3, 4, 4)), ATTRS(AFS("scales", 2, 2)),
     ERR(SN_ERR_INVALID_ARGUMENT, "not 4")},
    {"resize_zero_output", SN_OP_RESIZE, INS(SH(1, 3, 4, 4)), ATTRS(AFS("scales", 1, 1, 0.1f, 1)),
     ERR(SN_ERR_SHAPE, "0x4 output")},
    {"resize_bad_mode", SN_OP_RESIZE, INS(SH(1, 3, 4, 4)), ATTRS(AI("mode", 2), AFS("scales", 1, 1, 2, 2)),
     ERR(SN_ERR_INVALID_ARGUMENT, "mode 2")},
    {"resize_bad_coord", SN_OP_RESIZE, INS(SH(1, 3, 4, 4)),
     ATTRS(AI("coord_mode", 7), AFS("scales", 1, 1, 2, 2)), ERR(SN_ERR_INVALID_ARGUMENT, "coord_mode 7")},
    {"resize_bad_nearest", SN_OP_RESIZE, INS(SH(1, 3, 4, 4)),
     ATTRS(AI("nearest_mode", -1), AFS("scales", 1, 1, 2, 2)),
           ERR(SN_ERR_INVALID_ARGUMENT, "nearest_mode -1")},
};
const int sn_tensor_error_case_count =
    (int)(sizeof sn_tensor_error_cases / sizeof sn_tensor_error_cases[0]);

void sn_tensor_case_node(const sn_tensor_case *c, sn_node *node, int *tensor_idx) {
    for (int i = 0; i <= c->n_inputs; i++) tensor_idx[i] = i;
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

void sn_tensor_case_inputs(const sn_tensor_case *c, sn_value *in) {
    for (int i = 0; i < c->n_inputs; i++) {
        in[i] = (sn_value){0};
        in[i].present = true;
        in[i].dtype = c->dtype[i];
        in[i].rank = c->in[i].rank;
        for (int k = 0; k < c->in[i].rank; k++) in[i].d[k] = c->in[i].d[k];
    }
}
