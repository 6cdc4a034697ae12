"""Whole networks shaped like ResNet, MobileNetV2, SqueezeNet and EfficientNet, small (few
channels, 64x64 inputs) so the parity suite stays fast, written the way exporters write them:
BatchNormalization after convs, Clip(0,6) with min/max inputs, Shape-computed Reshape targets,
Flatten + Gemm heads, SiLU as Sigmoid*Mul, squeeze-excitation with a broadcast Mul."""
import numpy as np

from common import G

N = "N"


def _input(g, rng, c=3, hw=64):
    return g.input("image", [N, c, hw, hw]), rng.uniform(-1, 1, size=(2, c, hw, hw)).astype(np.float32)


def _flatten_by_shape(g, x):
    s = g.node("Shape", [x])
    b = g.node("Gather", [s, g.init(np.array(0, dtype=np.int64))], axis=0)
    u = g.node("Unsqueeze", [b, g.ints([0])])
    return g.node("Reshape", [x, g.node("Concat", [u, g.ints([-1])], axis=0)])


def resnet(rng, opset=13):
    g = G(rng)
    x, data = _input(g, rng)
    y = g.node("Relu", [g.bn(g.conv(x, 3, 8, 7, stride=2, pad=3, bias=False), 8)])
    y = g.node("MaxPool", [y], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    c = 8
    for cout, stride in [(8, 1), (16, 2), (24, 2)]:
        h = g.node("Relu", [g.bn(g.conv(y, c, cout, 3, stride=stride, bias=False), cout)])
        h = g.bn(g.conv(h, cout, cout, 3, bias=False), cout)
        sc = y if stride == 1 and c == cout else g.bn(g.conv(y, c, cout, 1, stride=stride, pad=0, bias=False), cout)
        y = g.node("Relu", [g.node("Add", [h, sc])])
        c = cout
    y = g.node("Flatten", [g.node("GlobalAveragePool", [y])], axis=1)
    g.output(g.node("Gemm", [y, g.weight((10, c)), g.weight((10,), 0.5, "b")], transB=1))
    return g.model(opset), data


def mobilenet_v2(rng, opset=13):
    g = G(rng)
    x, data = _input(g, rng)

    def relu6(t):
        return g.node("Clip", [t, g.floats(0.0), g.floats(6.0)])

    y = relu6(g.bn(g.conv(x, 3, 8, 3, stride=2, bias=False), 8))
    c = 8
    for t, cout, stride in [(1, 8, 1), (4, 12, 2), (4, 12, 1), (4, 16, 2), (4, 16, 1)]:
        hid = c * t
        h = y
        if t != 1:
            h = relu6(g.bn(g.conv(h, c, hid, 1, pad=0, bias=False), hid))
        h = relu6(g.bn(g.conv(h, hid, hid, 3, stride=stride, group=hid, bias=False), hid))
        h = g.bn(g.conv(h, hid, cout, 1, pad=0, bias=False), cout)
        y = g.node("Add", [y, h]) if stride == 1 and c == cout else h
        c = cout
    y = relu6(g.bn(g.conv(y, c, 32, 1, pad=0, bias=False), 32))
    y = _flatten_by_shape(g, g.node("GlobalAveragePool", [y]))
    y = g.node("Dropout", [y])
    g.output(g.node("Gemm", [y, g.weight((10, 32)), g.weight((10,), 0.5, "b")], transB=1))
    return g.model(opset), data


def squeezenet(rng, opset=12):
    g = G(rng)
    x, data = _input(g, rng)
    y = g.node("Relu", [g.conv(x, 3, 16, 3, stride=2, pad=0)])
    y = g.node("MaxPool", [y], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)
    c = 16
    for i, (s, e) in enumerate([(4, 8), (4, 8), (8, 16)]):
        sq = g.node("Relu", [g.conv(y, c, s, 1, pad=0)])
        e1 = g.node("Relu", [g.conv(sq, s, e, 1, pad=0)])
        e3 = g.node("Relu", [g.conv(sq, s, e, 3, pad=1)])
        y = g.node("Concat", [e1, e3], axis=1)
        c = 2 * e
        if i == 1:
            y = g.node("MaxPool", [y], kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)
    y = g.node("Dropout", [y])
    y = g.node("Relu", [g.conv(y, c, 10, 1, pad=0)])
    y = g.node("GlobalAveragePool", [y])
    g.output(g.node("Flatten", [y]))
    return g.model(opset), data


def efficientnet(rng, opset=17):
    g = G(rng)
    x, data = _input(g, rng)

    def silu(t):
        return g.node("Mul", [t, g.node("Sigmoid", [t])])

    y = silu(g.bn(g.conv(x, 3, 8, 3, stride=2, bias=False), 8))
    c = 8
    for t, cout, k, stride in [(1, 8, 3, 1), (4, 12, 3, 2), (4, 16, 5, 2), (4, 16, 5, 1)]:
        hid = c * t
        h = y
        if t != 1:
            h = silu(g.bn(g.conv(h, c, hid, 1, pad=0, bias=False), hid))
        h = silu(g.bn(g.conv(h, hid, hid, k, stride=stride, group=hid, bias=False), hid))
        # Squeeze and excitation.
        se = g.node("GlobalAveragePool", [h])
        sq = max(1, c // 4)
        se = silu(g.conv(se, hid, sq, 1, pad=0))
        se = g.node("Sigmoid", [g.conv(se, sq, hid, 1, pad=0)])
        h = g.node("Mul", [h, se])
        h = g.bn(g.conv(h, hid, cout, 1, pad=0, bias=False), cout)
        y = g.node("Add", [h, y]) if stride == 1 and c == cout else h
        c = cout
    y = silu(g.bn(g.conv(y, c, 40, 1, pad=0, bias=False), 40))
    y = g.node("Flatten", [g.node("GlobalAveragePool", [y])])
    y = g.node("Gemm", [y, g.weight((10, 40)), g.weight((10,), 0.5, "b")], transB=1)
    g.output(g.node("Softmax", [y], axis=-1))
    return g.model(opset), data


def cases():
    return [("net_resnet", resnet), ("net_mobilenet_v2", mobilenet_v2),
            ("net_squeezenet", squeezenet), ("net_efficientnet", efficientnet)]
