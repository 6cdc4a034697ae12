/*
 * tflite_schema.h - the numbers of the TFLite FlatBuffer schema (tensorflow/lite/schema/
 * schema.fbs, file identifier "TFL3", schema version 3) that the exporter writes: enum values
 * and the field slot of each table member it uses. Slots are a member's position in its table's
 * declaration; the schema only ever appends, so these never change.
 */
#ifndef SN_TFLITE_SCHEMA_H
#define SN_TFLITE_SCHEMA_H

#define SN_TFL_IDENTIFIER "TFL3"
#define SN_TFL_SCHEMA_VERSION 3

/* enum TensorType : byte */
enum { SN_TFL_FLOAT32 = 0, SN_TFL_FLOAT16 = 1, SN_TFL_INT32 = 2, SN_TFL_INT8 = 9 };

/* enum BuiltinOperator : int32 (OperatorCode.deprecated_builtin_code holds min(code, 127)) */
enum {
    SN_TFL_OP_ADD = 0,
    SN_TFL_OP_AVERAGE_POOL_2D = 1,
    SN_TFL_OP_CONCATENATION = 2,
    SN_TFL_OP_CONV_2D = 3,
    SN_TFL_OP_DEPTHWISE_CONV_2D = 4,
    SN_TFL_OP_DEQUANTIZE = 6,
    SN_TFL_OP_FULLY_CONNECTED = 9,
    SN_TFL_OP_LOGISTIC = 14,
    SN_TFL_OP_MAX_POOL_2D = 17,
    SN_TFL_OP_MUL = 18,
    SN_TFL_OP_RELU = 19,
    SN_TFL_OP_RELU_N1_TO_1 = 20,
    SN_TFL_OP_RELU6 = 21,
    SN_TFL_OP_RESHAPE = 22,
    SN_TFL_OP_RESIZE_BILINEAR = 23,
    SN_TFL_OP_SOFTMAX = 25,
    SN_TFL_OP_TANH = 28,
    SN_TFL_OP_PAD = 34,
    SN_TFL_OP_TRANSPOSE = 39,
    SN_TFL_OP_MEAN = 40,
    SN_TFL_OP_SUB = 41,
    SN_TFL_OP_STRIDED_SLICE = 45,
    SN_TFL_OP_DIV = 42,
    SN_TFL_OP_MAXIMUM = 55,
    SN_TFL_OP_MINIMUM = 57,
    SN_TFL_OP_PADV2 = 60,
    SN_TFL_OP_RESIZE_NEAREST_NEIGHBOR = 97,
    SN_TFL_OP_LEAKY_RELU = 98,
    SN_TFL_OP_MIRROR_PAD = 100,
    SN_TFL_OP_QUANTIZE = 114,
    SN_TFL_OP_HARD_SWISH = 117,
    SN_TFL_OP_BATCH_MATMUL = 126
};
#define SN_TFL_OP_PLACEHOLDER_FOR_GREATER_OP_CODES 127

/* union BuiltinOptions: the type tags */
enum {
    SN_TFL_OPT_NONE = 0,
    SN_TFL_OPT_CONV_2D = 1,
    SN_TFL_OPT_DEPTHWISE_CONV_2D = 2,
    SN_TFL_OPT_POOL_2D = 5,
    SN_TFL_OPT_FULLY_CONNECTED = 8,
    SN_TFL_OPT_SOFTMAX = 9,
    SN_TFL_OPT_CONCATENATION = 10,
    SN_TFL_OPT_ADD = 11,
    SN_TFL_OPT_RESIZE_BILINEAR = 15,
    SN_TFL_OPT_RESHAPE = 17,
    SN_TFL_OPT_MUL = 21,
    SN_TFL_OPT_PAD = 22,
    SN_TFL_OPT_TRANSPOSE = 26,
    SN_TFL_OPT_REDUCER = 27,
    SN_TFL_OPT_SUB = 28,
    SN_TFL_OPT_DIV = 29,
    SN_TFL_OPT_STRIDED_SLICE = 32,
    SN_TFL_OPT_DEQUANTIZE = 38,
    SN_TFL_OPT_MAXIMUM_MINIMUM = 39,
    SN_TFL_OPT_PADV2 = 43,
    SN_TFL_OPT_RESIZE_NEAREST_NEIGHBOR = 74,
    SN_TFL_OPT_LEAKY_RELU = 75,
    SN_TFL_OPT_MIRROR_PAD = 77,
    SN_TFL_OPT_QUANTIZE = 89,
    SN_TFL_OPT_HARD_SWISH = 91,
    SN_TFL_OPT_BATCH_MATMUL = 101
};

/* enum ActivationFunctionType : byte */
enum {
    SN_TFL_ACT_NONE = 0, SN_TFL_ACT_RELU = 1, SN_TFL_ACT_RELU_N1_TO_1 = 2, SN_TFL_ACT_RELU6 = 3
};
/* enum Padding : byte */
enum { SN_TFL_PAD_SAME = 0, SN_TFL_PAD_VALID = 1 };
/* enum MirrorPadMode : byte */
enum { SN_TFL_MIRROR_REFLECT = 0 };

/* Table field slots. */
enum { /* Model */
    SN_TFL_MODEL_VERSION = 0, SN_TFL_MODEL_OPERATOR_CODES = 1, SN_TFL_MODEL_SUBGRAPHS = 2,
    SN_TFL_MODEL_DESCRIPTION = 3, SN_TFL_MODEL_BUFFERS = 4, SN_TFL_MODEL_METADATA = 6,
    SN_TFL_MODEL_SIGNATURE_DEFS = 7
};
enum { /* SubGraph */
    SN_TFL_SUBGRAPH_TENSORS = 0, SN_TFL_SUBGRAPH_INPUTS = 1, SN_TFL_SUBGRAPH_OUTPUTS = 2,
    SN_TFL_SUBGRAPH_OPERATORS = 3, SN_TFL_SUBGRAPH_NAME = 4
};
enum { /* Tensor */
    SN_TFL_TENSOR_SHAPE = 0, SN_TFL_TENSOR_TYPE = 1, SN_TFL_TENSOR_BUFFER = 2,
    SN_TFL_TENSOR_NAME = 3, SN_TFL_TENSOR_QUANTIZATION = 4, SN_TFL_TENSOR_SHAPE_SIGNATURE = 7
};
enum { /* QuantizationParameters */
    SN_TFL_QUANT_MIN = 0, SN_TFL_QUANT_MAX = 1, SN_TFL_QUANT_SCALE = 2,
    SN_TFL_QUANT_ZERO_POINT = 3, SN_TFL_QUANT_DIMENSION = 6
};
enum { /* Operator */
    SN_TFL_OPERATOR_OPCODE_INDEX = 0, SN_TFL_OPERATOR_INPUTS = 1, SN_TFL_OPERATOR_OUTPUTS = 2,
    SN_TFL_OPERATOR_OPTIONS_TYPE = 3, SN_TFL_OPERATOR_OPTIONS = 4
};
enum { /* OperatorCode */
    SN_TFL_OPCODE_DEPRECATED_BUILTIN = 0, SN_TFL_OPCODE_VERSION = 2, SN_TFL_OPCODE_BUILTIN = 3
};
enum { SN_TFL_BUFFER_DATA = 0 };                          /* Buffer */
enum { SN_TFL_METADATA_NAME = 0, SN_TFL_METADATA_BUFFER = 1 }; /* Metadata */
enum { /* SignatureDef and TensorMap */
    SN_TFL_SIGNATURE_INPUTS = 0, SN_TFL_SIGNATURE_OUTPUTS = 1, SN_TFL_SIGNATURE_KEY = 2,
    SN_TFL_SIGNATURE_SUBGRAPH = 4, SN_TFL_TENSORMAP_NAME = 0, SN_TFL_TENSORMAP_INDEX = 1
};

/* Option table slots, by table. */
enum { /* Conv2DOptions */
    SN_TFL_CONV_PADDING = 0, SN_TFL_CONV_STRIDE_W = 1, SN_TFL_CONV_STRIDE_H = 2,
    SN_TFL_CONV_ACT = 3, SN_TFL_CONV_DILATION_W = 4, SN_TFL_CONV_DILATION_H = 5
};
enum { /* DepthwiseConv2DOptions */
    SN_TFL_DW_PADDING = 0, SN_TFL_DW_STRIDE_W = 1, SN_TFL_DW_STRIDE_H = 2,
    SN_TFL_DW_MULTIPLIER = 3, SN_TFL_DW_ACT = 4, SN_TFL_DW_DILATION_W = 5,
    SN_TFL_DW_DILATION_H = 6
};
enum { /* Pool2DOptions */
    SN_TFL_POOL_PADDING = 0, SN_TFL_POOL_STRIDE_W = 1, SN_TFL_POOL_STRIDE_H = 2,
    SN_TFL_POOL_FILTER_W = 3, SN_TFL_POOL_FILTER_H = 4, SN_TFL_POOL_ACT = 5
};
enum { SN_TFL_FC_ACT = 0, SN_TFL_FC_KEEP_NUM_DIMS = 2 };  /* FullyConnectedOptions */
enum { SN_TFL_SOFTMAX_BETA = 0 };                         /* SoftmaxOptions */
enum { SN_TFL_CONCAT_AXIS = 0, SN_TFL_CONCAT_ACT = 1 };   /* ConcatenationOptions */
enum { SN_TFL_BINARY_ACT = 0 };   /* Add/Sub/Mul/DivOptions: fused_activation_function */
enum { SN_TFL_REDUCER_KEEP_DIMS = 0 };                    /* ReducerOptions */
enum { SN_TFL_RESIZE_BILINEAR_ALIGN = 2, SN_TFL_RESIZE_BILINEAR_HALF = 3 };
enum { SN_TFL_RESIZE_NEAREST_ALIGN = 0, SN_TFL_RESIZE_NEAREST_HALF = 1 };
enum { SN_TFL_LEAKY_RELU_ALPHA = 0 };                     /* LeakyReluOptions */
enum { SN_TFL_MIRROR_PAD_MODE = 0 };                      /* MirrorPadOptions */
enum { SN_TFL_SLICE_BEGIN_MASK = 0, SN_TFL_SLICE_END_MASK = 1 }; /* StridedSliceOptions */

#endif
