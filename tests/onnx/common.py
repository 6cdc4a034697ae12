"""Helpers shared by the ONNX test-model builders: a small graph builder on onnx.helper, and
writing a case (model, random input, ONNX Runtime's outputs) for tests/test_onnx_parity.c."""
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper


class G:
    """Builds one ONNX graph: nodes, initializers, inputs and outputs, with fresh names."""

    def __init__(self, rng):
        self.rng = rng
        self.nodes, self.inits, self.inputs, self.outputs = [], [], [], []
        self.n = 0

    def name(self, base):
        self.n += 1
        return f"{base}_{self.n}"

    def init(self, array, base="w"):
        name = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def weight(self, shape, scale=None, base="w"):
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else int(shape[0])
        s = scale if scale is not None else 1.0 / np.sqrt(max(fan_in, 1))
        return self.init(self.rng.uniform(-s, s, size=shape).astype(np.float32), base)

    def ints(self, values, base="i"):
        return self.init(np.asarray(values, dtype=np.int64), base)

    def floats(self, values, base="f"):
        return self.init(np.asarray(values, dtype=np.float32), base)

    def input(self, name, shape):
        self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))
        return name

    def node(self, op, inputs, n_out=1, name=None, **attrs):
        name = name or self.name(op.lower())
        outs = [f"{name}_out{i}" if n_out > 1 else f"{name}_out" for i in range(n_out)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=name, **attrs))
        return outs if n_out > 1 else outs[0]

    def output(self, name):
        self.outputs.append(name)

    def model(self, opset, graph_name="g"):
        """The model, its outputs declared with the shapes ONNX's shape inference gives."""
        untyped = [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in self.outputs]
        g = helper.make_graph(self.nodes, graph_name, self.inputs, untyped, self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="sentinel-tests")
        m.ir_version = min(m.ir_version, 10)
        inferred = onnx.shape_inference.infer_shapes(m, strict_mode=True, data_prop=True)
        known = {v.name: v for v in inferred.graph.value_info}
        known.update({v.name: v for v in inferred.graph.output})
        missing = [o for o in self.outputs
                   if o not in known or not known[o].type.tensor_type.HasField("shape")]
        # Where shape inference cannot follow the graph, declare the rank ORT finds, every dim
        # symbolic.
        ranks = _output_ranks(m) if missing else {}
        del m.graph.output[:]
        for o in self.outputs:
            v = known.get(o)
            if o in missing:
                v = helper.make_tensor_value_info(o, TensorProto.FLOAT,
                                                  [f"{o}_d{i}" for i in range(ranks[o])])
            m.graph.output.append(v)
        onnx.checker.check_model(m, full_check=True)
        return m

    # Building blocks used by the network builders.
    def conv(self, x, cin, cout, k, stride=1, pad=None, group=1, bias=True, dil=1):
        pad = (k // 2) * dil if pad is None else pad
        ins = [x, self.weight((cout, cin // group, k, k))]
        if bias:
            ins.append(self.weight((cout,), 0.1, "b"))
        return self.node("Conv", ins, kernel_shape=[k, k], strides=[stride, stride],
                         pads=[pad] * 4, group=group, dilations=[dil, dil])

    def bn(self, x, c):
        r = self.rng
        return self.node("BatchNormalization",
                         [x, self.floats(r.uniform(0.5, 1.5, c)), self.floats(r.uniform(-.2, .2, c)),
                          self.floats(r.uniform(-.2, .2, c)), self.floats(r.uniform(0.5, 1.5, c))],
                         epsilon=1e-5)


def _output_ranks(m):
    feeds = {}
    for i in m.graph.input:
        dims = [d.dim_value if d.HasField("dim_value") else 2 for d in i.type.tensor_type.shape.dim]
        feeds[i.name] = np.zeros(dims, dtype=np.float32)
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    return {o.name: np.asarray(y).ndim for o, y in zip(sess.get_outputs(), sess.run(None, feeds))}


def write_case(outdir, name, model, feeds, manifest, rtol=1e-4):
    """Save the model, run ONNX Runtime (CPU) on the inputs and save its outputs as .npy."""
    path = os.path.join(outdir, name + ".onnx")
    onnx.save(model, path)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.log_severity_level = 3
    # ORT's own graph optimisations may fuse differently; the reference is the plain graph.
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    outs = sess.run(None, feeds)
    assert len(feeds) == 1, "the parity test feeds one input"
    (x,) = feeds.values()
    np.save(os.path.join(outdir, name + ".in.npy"), np.ascontiguousarray(x, dtype=np.float32))
    for i, y in enumerate(outs):
        y = np.asarray(y, dtype=np.float32)
        assert np.all(np.isfinite(y)), f"{name}: ONNX Runtime gives non-finite outputs"
        np.save(os.path.join(outdir, f"{name}.out{i}.npy"), np.ascontiguousarray(y))
    manifest.append(f"{name} {len(outs)} {x.shape[0]} {rtol:g}")
