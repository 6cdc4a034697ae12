"""One or more small ONNX models per op the importer supports, with the attribute variety that
matters (strides, asymmetric pads, dilations, groups, auto_pad, broadcasting, axis choices, the
input forms of Clip/Pad/Resize/Slice/Split/Squeeze, opsets 11 to 21). Each builder returns
(model, input). Inputs have a dynamic batch 'N' (fed with 2) unless a case needs a fixed one."""
import numpy as np
from onnx import TensorProto, helper

from common import G

N = "N"


def _x(rng, shape):
    return rng.uniform(-1, 1, size=shape).astype(np.float32)


def conv_case(rng, opset=13, c=4, m=6, hw=(9, 11), k=3, **attrs):
    g = G(rng)
    x = g.input("x", [N, c, *hw])
    group = attrs.get("group", 1)
    ins = [x, g.weight((m, c // group, k, k))]
    if attrs.pop("bias", True):
        ins.append(g.weight((m,), 0.5, "b"))
    g.output(g.node("Conv", ins, name="conv", **attrs))
    return g.model(opset), _x(rng, (2, c, *hw))


def pool_case(rng, op, opset=13, c=3, hw=(10, 9), **attrs):
    g = G(rng)
    x = g.input("x", [N, c, *hw])
    g.output(g.node(op, [x], name="pool", **attrs))
    return g.model(opset), _x(rng, (2, c, *hw))


def unary_case(rng, op, opset=13, shape=(3, 5, 4), **attrs):
    g = G(rng)
    x = g.input("x", [N, *shape])
    g.output(g.node(op, [x], **attrs))
    return g.model(opset), _x(rng, (2, *shape)) * 4


def clip_case(rng, opset, lo, hi):
    g = G(rng)
    x = g.input("x", [N, 3, 4, 4])
    ins = [x, g.floats(lo) if lo is not None else "", g.floats(hi) if hi is not None else ""]
    while ins and ins[-1] == "":
        ins.pop()
    g.output(g.node("Clip", ins))
    return g.model(opset), _x(rng, (2, 3, 4, 4)) * 8


def binary_case(rng, op, other_shape, opset=13, x_shape=(3, 4, 5)):
    g = G(rng)
    x = g.input("x", [N, *x_shape])
    o = rng.uniform(0.5, 1.5, size=other_shape).astype(np.float32)
    g.output(g.node(op, [x, g.init(o, "c")]))
    return g.model(opset), _x(rng, (2, *x_shape))


def binary_two_act(rng, op):
    g = G(rng)
    x = g.input("x", [N, 4, 3, 3])
    a = g.node("Relu", [x])
    b = g.node("Sigmoid", [x])  # positive: safe for Div
    g.output(g.node(op, [a, b]))
    return g.model(13), _x(rng, (2, 4, 3, 3))


def sum_case(rng):
    g = G(rng)
    x = g.input("x", [N, 3, 4])
    g.output(g.node("Sum", [x, g.node("Relu", [x]), g.weight((3, 4), 1.0, "c")]))
    return g.model(13), _x(rng, (2, 3, 4))


def softmax_case(rng, opset, axis, shape=(3, 4, 5)):
    g = G(rng)
    x = g.input("x", [N, *shape])
    g.output(g.node("Softmax", [x], axis=axis))
    return g.model(opset), _x(rng, (2, *shape)) * 3


def gemm_case(rng, trans_b, alpha, beta, c_shape):
    g = G(rng)
    x = g.input("x", [N, 12])
    w = g.weight((7, 12) if trans_b else (12, 7))
    ins = [x, w] + ([g.weight(c_shape, 1.0, "c")] if c_shape else [])
    g.output(g.node("Gemm", ins, transB=trans_b, alpha=alpha, beta=beta))
    return g.model(13), _x(rng, (2, 12))


def gemm_trans_a(rng):
    g = G(rng)
    x = g.input("x", [12, 5])  # fixed shape: transA makes dim 0 the reduction
    g.output(g.node("Gemm", [x, g.weight((12, 7)), g.weight((5, 7), 1.0, "c")], transA=1, alpha=0.7))
    return g.model(13), _x(rng, (12, 5))


def matmul_case(rng, x_shape, w_shape, add_bias):
    g = G(rng)
    x = g.input("x", [N, *x_shape])
    y = g.node("MatMul", [x, g.weight(w_shape)])
    if add_bias:
        y = g.node("Add", [y, g.weight((w_shape[-1],), 1.0, "b")])
    g.output(y)
    return g.model(13), _x(rng, (2, *x_shape))


def concat_case(rng, axis):
    g = G(rng)
    x = g.input("x", [N, 3, 4, 5])
    g.output(g.node("Concat", [g.node("Relu", [x]), x, g.node("Sigmoid", [x])], axis=axis))
    return g.model(13), _x(rng, (2, 3, 4, 5))


def flatten_case(rng, axis, opset=13):
    g = G(rng)
    x = g.input("x", [N, 3, 4, 5])
    g.output(g.node("Flatten", [x], axis=axis))
    return g.model(opset), _x(rng, (2, 3, 4, 5))


def reshape_const(rng):
    g = G(rng)
    x = g.input("x", [N, 6, 4, 2])
    g.output(g.node("Reshape", [x, g.ints([0, 3, -1, 2])]))
    return g.model(14), _x(rng, (2, 6, 4, 2))


def reshape_shape_chain(rng, opset):
    """The exporters' flatten: Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1]))."""
    g = G(rng)
    x = g.input("x", [N, 4, 3, 3])
    y = g.node("Relu", [x])
    s = g.node("Shape", [y])
    b = g.node("Gather", [s, g.init(np.array(0, dtype=np.int64))], axis=0)
    if opset < 13:
        u = g.node("Unsqueeze", [b], axes=[0])
    else:
        u = g.node("Unsqueeze", [b, g.ints([0])])
    shape = g.node("Concat", [u, g.ints([-1])], axis=0)
    f = g.node("Reshape", [y, shape])
    g.output(g.node("Gemm", [f, g.weight((36, 5)), g.weight((5,), 1.0, "b")]))
    return g.model(opset), _x(rng, (2, 4, 3, 3))


def channel_shuffle(rng):
    """ShuffleNet's shuffle with shapes computed from Shape (static dims, dynamic batch)."""
    g = G(rng)
    x = g.input("x", [N, 6, 4, 4])
    s = g.node("Shape", [x])
    n = g.node("Slice", [s, g.ints([0]), g.ints([1])])
    c = g.node("Gather", [s, g.ints([1])], axis=0)
    cpg = g.node("Div", [c, g.ints([2])])
    hw = g.node("Slice", [s, g.ints([2]), g.ints([4])])
    shape5 = g.node("Concat", [n, g.ints([2]), cpg, hw], axis=0)
    r = g.node("Reshape", [x, shape5])
    t = g.node("Transpose", [r], perm=[0, 2, 1, 3, 4])
    g.output(g.node("Reshape", [t, g.node("Concat", [n, g.ints([-1]), hw], axis=0)]))
    return g.model(13), _x(rng, (2, 6, 4, 4))


def transpose_case(rng, perm):
    g = G(rng)
    x = g.input("x", [N, 3, 4, 5])
    g.output(g.node("Transpose", [x], perm=perm))
    return g.model(13), _x(rng, (2, 3, 4, 5))


def transpose_static(rng):
    g = G(rng)
    x = g.input("x", [2, 3, 4])
    g.output(g.node("Transpose", [x]))
    return g.model(13), _x(rng, (2, 3, 4))


def pad_case(rng, mode, pads, opset=13, value=None, axes=None):
    g = G(rng)
    x = g.input("x", [N, 3, 6, 7])
    ins = [x, g.ints(pads)]
    if value is not None or axes is not None:
        ins.append(g.floats(value) if value is not None else "")
    if axes is not None:
        ins.append(g.ints(axes))
    g.output(g.node("Pad", ins, mode=mode))
    return g.model(opset), _x(rng, (2, 3, 6, 7))


def resize_case(rng, opset, scales=None, sizes=None, hw=(5, 6), axes=None, **attrs):
    g = G(rng)
    # Constant sizes fix the batch too: such a model has a fixed batch of 2.
    x = g.input("x", [2 if sizes else N, 3, *hw])
    if opset < 13:
        empty = g.floats([])
        ins = [x, empty, g.floats(scales) if scales else empty] + ([g.ints(sizes)] if sizes else [])
    else:
        ins = [x, "", g.floats(scales) if scales else ""] + ([g.ints(sizes)] if sizes else [])
        while ins[-1] == "":
            ins.pop()
    if axes is not None:
        attrs["axes"] = axes
    g.output(g.node("Resize", ins, **attrs))
    return g.model(opset), _x(rng, (2, 3, *hw))


def resize_sizes_from_shape(rng):
    """Upsample to twice the size with sizes = Concat(Shape(x)[0:2], [2H, 2W])."""
    g = G(rng)
    x = g.input("x", [N, 3, 4, 5])
    s = g.node("Shape", [x])
    nc = g.node("Slice", [s, g.ints([0]), g.ints([2])])
    hw = g.node("Mul", [g.node("Slice", [s, g.ints([2]), g.ints([4])]), g.ints([2, 2])])
    sizes = g.node("Concat", [nc, hw], axis=0)
    g.output(g.node("Resize", [x, "", "", sizes], mode="linear"))
    return g.model(13), _x(rng, (2, 3, 4, 5))


def squeeze_unsqueeze(rng, opset):
    g = G(rng)
    x = g.input("x", [N, 4, 3, 1])
    if opset < 13:
        s = g.node("Squeeze", [x], axes=[3])
        u = g.node("Unsqueeze", [s], axes=[1, -1])
    else:
        s = g.node("Squeeze", [x, g.ints([-1])])
        u = g.node("Unsqueeze", [s, g.ints([1, 4])])
    g.output(u)
    return g.model(opset), _x(rng, (2, 4, 3, 1))


def slice_case(rng, starts, ends, axes=None, steps=None, opset=13):
    g = G(rng)
    x = g.input("x", [N, 6, 7, 8])
    ins = [x, g.ints(starts), g.ints(ends)]
    if axes is not None or steps is not None:
        ins.append(g.ints(axes) if axes is not None else "")
    if steps is not None:
        ins.append(g.ints(steps))
    g.output(g.node("Slice", ins))
    return g.model(opset), _x(rng, (2, 6, 7, 8))


def split_case(rng, opset, split, n_out, axis=1):
    g = G(rng)
    x = g.input("x", [N, 6, 4, 5])
    attrs = {"axis": axis}
    ins = [x]
    if split is not None:
        if opset < 13:
            attrs["split"] = split
        else:
            ins.append(g.ints(split))
    elif opset >= 18:
        attrs["num_outputs"] = n_out
    outs = g.node("Split", ins, n_out=n_out, **attrs)
    # One output: the parts, transformed differently and put back together.
    parts = [g.node("Relu", [o]) if i % 2 else g.node("Sigmoid", [o]) for i, o in enumerate(outs)]
    g.output(g.node("Concat", parts, axis=axis))
    return g.model(opset), _x(rng, (2, 6, 4, 5))


def gather_case(rng, indices, axis):
    g = G(rng)
    x = g.input("x", [N, 5, 4, 3])
    g.output(g.node("Gather", [x, g.init(np.array(indices, dtype=np.int64))], axis=axis))
    return g.model(13), _x(rng, (2, 5, 4, 3))


def reduce_mean(rng, keepdims, opset):
    g = G(rng)
    x = g.input("x", [N, 5, 4, 3])
    if opset >= 18:
        y = g.node("ReduceMean", [x, g.ints([2, 3])], keepdims=keepdims)
    else:
        y = g.node("ReduceMean", [x], axes=[-1, 2], keepdims=keepdims)
    g.output(y)
    return g.model(opset), _x(rng, (2, 5, 4, 3))


def misc_identity(rng):
    g = G(rng)
    x = g.input("x", [N, 3, 4])
    d = g.node("Dropout", [x, g.floats(0.3)])
    c = g.node("Cast", [d], to=TensorProto.FLOAT)
    g.output(g.node("Identity", [c]))
    return g.model(13), _x(rng, (2, 3, 4))


def constant_folding(rng):
    """Constant, ConstantOfShape, Expand, Range, Cast and arithmetic evaluated at import."""
    g = G(rng)
    x = g.input("x", [N, 4, 3])
    cst = g.node("Constant", [], value=helper.make_tensor("v", TensorProto.FLOAT, [3], [0.5, -1, 2]))
    ones = g.node("ConstantOfShape", [g.ints([4, 3])],
                  value=helper.make_tensor("o", TensorProto.FLOAT, [1], [1.5]))
    rng_f = g.node("Cast", [g.node("Range", [g.ints(0), g.ints(3), g.ints(1)])], to=TensorProto.FLOAT)
    e = g.node("Expand", [cst, g.ints([4, 1])])
    t = g.node("Mul", [g.node("Add", [ones, e]), rng_f])
    k = g.node("Constant", [], value_floats=[2.0])
    g.output(g.node("Mul", [g.node("Add", [x, t]), k]))
    return g.model(13), _x(rng, (2, 4, 3))


def cases(rng):
    """(name, builder) for every op case; builders take the generator."""
    c = []
    add = lambda name, f: c.append((name, f))  # noqa: E731
    # Conv
    add("conv_basic", lambda r: conv_case(r, pads=[1, 1, 1, 1]))
    add("conv_strided_asym_pads", lambda r: conv_case(r, strides=[2, 2], pads=[0, 1, 2, 1], bias=False))
    add("conv_strides_hw", lambda r: conv_case(r, strides=[1, 2], pads=[1, 0, 1, 2], k=3))
    add("conv_dilated", lambda r: conv_case(r, dilations=[2, 2], pads=[2, 2, 2, 2], opset=11))
    add("conv_group2", lambda r: conv_case(r, group=2, pads=[1, 1, 1, 1]))
    add("conv_depthwise", lambda r: conv_case(r, c=6, m=6, group=6, pads=[1, 1, 1, 1], strides=[2, 2]))
    add("conv_same_upper", lambda r: conv_case(r, auto_pad="SAME_UPPER", strides=[2, 2], k=4, opset=17))
    add("conv_same_lower", lambda r: conv_case(r, auto_pad="SAME_LOWER", k=4, opset=21))
    add("conv_valid_k5", lambda r: conv_case(r, auto_pad="VALID", strides=[3, 3], k=5))
    add("conv_1x1", lambda r: conv_case(r, k=1, kernel_shape=[1, 1]))
    # Pools
    add("maxpool_k3s2p1", lambda r: pool_case(r, "MaxPool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]))
    add("maxpool_ceil", lambda r: pool_case(r, "MaxPool", kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1))
    add("maxpool_dilated", lambda r: pool_case(r, "MaxPool", kernel_shape=[2, 2], dilations=[2, 2], opset=12))
    add("maxpool_same_upper", lambda r: pool_case(r, "MaxPool", kernel_shape=[3, 2], strides=[2, 2], auto_pad="SAME_UPPER"))
    add("avgpool_asym_exclude", lambda r: pool_case(r, "AveragePool", kernel_shape=[3, 3], strides=[2, 1], pads=[1, 0, 2, 1]))
    add("avgpool_include_pad", lambda r: pool_case(r, "AveragePool", kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1, opset=19))
    add("avgpool_ceil", lambda r: pool_case(r, "AveragePool", kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1, opset=11))
    add("global_avgpool", lambda r: pool_case(r, "GlobalAveragePool"))
    add("global_maxpool", lambda r: pool_case(r, "GlobalMaxPool"))
    add("reduce_mean_keep", lambda r: reduce_mean(r, 1, 13))
    add("reduce_mean_nokeep_op18", lambda r: reduce_mean(r, 0, 18))

    def bn(r):
        g = G(r)
        x = g.input("x", [N, 5, 3, 4])
        g.output(g.bn(x, 5))
        return g.model(15), _x(r, (2, 5, 3, 4))
    add("batchnorm", bn)
    # Activations
    for op, kw, opset in [("Relu", {}, 13), ("Sigmoid", {}, 13), ("Tanh", {}, 13),
                          ("LeakyRelu", {"alpha": 0.2}, 11), ("HardSigmoid", {"alpha": 0.3, "beta": 0.4}, 13),
                          ("HardSwish", {}, 14)]:
        add(f"act_{op.lower()}", lambda r, op=op, kw=kw, opset=opset: unary_case(r, op, opset, **kw))
    add("clip_min_max", lambda r: clip_case(r, 11, 0.0, 6.0))
    add("clip_min_only", lambda r: clip_case(r, 13, -0.5, None))
    add("clip_max_only", lambda r: clip_case(r, 21, None, 1.5))
    # Binary ops, broadcasting
    for op in ["Add", "Sub", "Mul", "Div"]:
        add(f"{op.lower()}_channel", lambda r, op=op: binary_case(r, op, (3, 1, 1)))
        add(f"{op.lower()}_rows", lambda r, op=op: binary_case(r, op, (4, 5), opset=14))
        add(f"{op.lower()}_two_inputs", lambda r, op=op: binary_two_act(r, op))
    add("add_scalar", lambda r: binary_case(r, "Add", ()))
    add("mul_full", lambda r: binary_case(r, "Mul", (1, 3, 4, 5)))
    add("sum3", sum_case)
    # Softmax
    add("softmax_op13_axis1", lambda r: softmax_case(r, 13, 1))
    add("softmax_op11_axis1", lambda r: softmax_case(r, 11, 1))
    add("softmax_op11_last", lambda r: softmax_case(r, 11, -1))
    add("softmax_op12_axis2", lambda r: softmax_case(r, 12, 2))
    # Dense
    add("gemm_transb_alpha_beta", lambda r: gemm_case(r, 1, 0.5, 2.0, (7,)))
    add("gemm_plain_c_matrix", lambda r: gemm_case(r, 0, 1.0, 1.0, (1, 7)))
    add("gemm_no_c", lambda r: gemm_case(r, 1, 1.5, 1.0, None))
    add("gemm_trans_a", gemm_trans_a)
    add("matmul_2d_bias", lambda r: matmul_case(r, (12,), (12, 9), True))
    add("matmul_3d", lambda r: matmul_case(r, (5, 12), (12, 9), False))
    # Tensor ops
    add("concat_axis1", lambda r: concat_case(r, 1))
    add("concat_axis_neg1", lambda r: concat_case(r, -1))
    add("flatten_axis1", lambda r: flatten_case(r, 1))
    add("flatten_axis2", lambda r: flatten_case(r, 2, 11))
    add("reshape_const", reshape_const)
    add("reshape_shape_chain_op11", lambda r: reshape_shape_chain(r, 11))
    add("reshape_shape_chain_op13", lambda r: reshape_shape_chain(r, 13))
    add("channel_shuffle", channel_shuffle)
    add("transpose_nhwc", lambda r: transpose_case(r, [0, 2, 3, 1]))
    add("transpose_default", transpose_static)
    add("pad_constant_value", lambda r: pad_case(r, "constant", [0, 0, 1, 2, 0, 0, 2, 0], value=0.5))
    add("pad_reflect", lambda r: pad_case(r, "reflect", [0, 0, 2, 1, 0, 0, 1, 3], opset=11))
    add("pad_edge", lambda r: pad_case(r, "edge", [0, 1, 1, 0, 0, 0, 2, 2]))
    add("pad_axes_op18", lambda r: pad_case(r, "constant", [1, 2, 3, 0], opset=18, axes=[2, -1]))
    add("resize_nearest_scales", lambda r: resize_case(r, 13, scales=[1, 1, 2, 3], mode="nearest"))
    add("resize_nearest_asym_floor", lambda r: resize_case(
        r, 11, scales=[1, 1, 2.0, 1.5], coordinate_transformation_mode="asymmetric", nearest_mode="floor"))
    add("resize_nearest_ceil_sizes", lambda r: resize_case(
        r, 13, sizes=[2, 3, 7, 4], nearest_mode="round_prefer_ceil"))
    add("resize_linear_half_pixel", lambda r: resize_case(r, 13, scales=[1, 1, 2, 2], mode="linear"))
    add("resize_linear_align_corners", lambda r: resize_case(
        r, 11, sizes=[2, 3, 9, 4], mode="linear", coordinate_transformation_mode="align_corners"))
    add("resize_linear_pytorch_down", lambda r: resize_case(
        r, 13, sizes=[2, 3, 3, 4], hw=(7, 9), mode="linear", coordinate_transformation_mode="pytorch_half_pixel"))
    add("resize_axes_op18", lambda r: resize_case(r, 18, scales=[2.0, 1.5], axes=[2, 3], mode="linear"))
    add("resize_sizes_from_shape", resize_sizes_from_shape)
    add("squeeze_unsqueeze_op11", lambda r: squeeze_unsqueeze(r, 11))
    add("squeeze_unsqueeze_op13", lambda r: squeeze_unsqueeze(r, 13))
    add("slice_basic", lambda r: slice_case(r, [1, 2], [5, -1], axes=[1, 3]))
    add("slice_steps", lambda r: slice_case(r, [0, 1], [100, 7], axes=[2, 3], steps=[2, 3]))
    add("slice_negative_step", lambda r: slice_case(r, [-1, 5], [-100, 0], axes=[3, 1], steps=[-2, -1], opset=11))
    add("slice_default_axes", lambda r: slice_case(r, [0, 1, 2], [9223372036854775807, 5, 6]))
    add("split_attr_op11", lambda r: split_case(r, 11, [2, 4], 2))
    add("split_input_op13", lambda r: split_case(r, 13, [1, 2, 3], 3))
    add("split_equal_op13", lambda r: split_case(r, 13, None, 3))
    add("split_num_outputs_op18", lambda r: split_case(r, 18, None, 2, axis=2))
    add("gather_scalar", lambda r: gather_case(r, 2, 1))
    add("gather_vector", lambda r: gather_case(r, [3, -1, 0], 2))
    add("identity_dropout_cast", misc_identity)
    add("constant_folding", constant_folding)
    return c
