#!/usr/bin/env python3
"""int8_study.py - where a model's int8 error comes from, and how Sentinel's int8 TFLite export
compares with ONNX Runtime's static quantizer on the same model and the same inputs. Not a test:
the measurements behind test_export_zoo*.c's bounds and docs/export.md's tables.

    int8_study.py --export BUILD/bin/sentinel-export --model M.sgraph --cal CAL.npy
                  --eval EVAL.npy --work DIR [--ort] [--layers] [--tflite FILE...]

CAL.npy and EVAL.npy are preprocessed inputs [N,C,H,W] (sentinel-export --save-calibration
writes them from image folders). The float ONNX export of M, run in ONNX Runtime, is the
reference (it matches Sentinel's CPU backend within 1e-4, test_export_zoo.c). Printed, one
line each, on the EVAL inputs:

  sentinel mse / minmax   Sentinel's int8 TFLite (--calibration-ranges) in LiteRT
  FILE                    other int8 TFLite files of the same model (another build's, say)
  ort MinMax, Percentile 99.999 / 99.99, Entropy
                          onnxruntime.quantization.quantize_static on the float ONNX export:
                          QDQ, per-channel int8 weights, int8 activations, run in ONNX Runtime
                          (Entropy with 2048 histogram bins and 128 quantized bins: its
                          quantize_static defaults, 128 and 128, make it equal to MinMax)
  grid                    the reference's own outputs rounded to the int8 output grid of
                          Sentinel's model (nothing else quantized): the top-1 any full-integer
                          model can reach, over the output scale x (1 +- 2%)
and for each: top-1 agreement, 1 - cosine (mean, median, max over samples), the median
relative L2 error, and top-1 agreement by how far apart the reference's top two are, in steps
of the int8 output grid. With --layers, fake quantization in ONNX Runtime attributes the error:
each activation tensor (Sentinel's scheme, min/max) or each layer's weights quantized alone.
"""
import argparse
import os
import subprocess
import sys

import numpy as np


def stats(y, r):
    y, r = y.reshape(len(y), -1).astype(np.float64), r.reshape(len(r), -1).astype(np.float64)
    c = 1 - (y * r).sum(1) / np.linalg.norm(y, axis=1) / np.linalg.norm(r, axis=1)
    rel = np.linalg.norm(y - r, axis=1) / np.linalg.norm(r, axis=1)
    return (f"top1 {np.mean(y.argmax(1) == r.argmax(1)):.3f}  1-cos mean {c.mean():.3e} "
            f"median {np.median(c):.3e} max {c.max():.3e}  rel L2 median {np.median(rel):.4f}")


def by_gap(y, r, step):
    top2 = np.sort(r, 1)[:, -2:]
    gap = (top2[:, 1] - top2[:, 0]) / step
    same = y.argmax(1) == r.argmax(1)
    parts = []
    for lo, hi in ((0, 1), (1, 2), (2, 4), (4, np.inf)):
        sel = (gap >= lo) & (gap < hi)
        if sel.any():
            parts.append(f"{lo}-{hi} steps: {same[sel].sum()}/{sel.sum()}")
    return "  agreement by top-2 gap: " + ", ".join(parts)


def ort_session(path, optimize=True):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.log_severity_level = 3
    if not optimize:
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def ort_run(sess, x):
    name = sess.get_inputs()[0].name
    return np.concatenate([sess.run(None, {name: x[i:i + 16]})[0] for i in range(0, len(x), 16)])


def litert_run(path, x):
    from ai_edge_litert.interpreter import Interpreter
    it = Interpreter(model_path=path, num_threads=2)
    d = it.get_input_details()[0]
    xin = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    it.resize_tensor_input(d["index"], list(xin.shape), strict=True)
    it.allocate_tensors()
    it.set_tensor(d["index"], xin)
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"])


def output_grid(path):
    """Scale and zero point of the int8 tensor the model's final DEQUANTIZE reads."""
    from ai_edge_litert import schema_py_generated as schema
    buf = open(path, "rb").read()
    m = schema.ModelT.InitFromObj(schema.Model.GetRootAs(buf, 0))
    sg = m.subgraphs[0]
    q = sg.tensors[sg.operators[-1].inputs[0]].quantization
    return float(q.scale[0]), int(q.zeroPoint[0])


def ort_quantize(onnx_path, cal, out, method, percentile=None, bins=None):
    import onnx
    import onnxruntime.quantization as oq
    qz = sys.modules["onnxruntime.quantization.quantize"]
    from onnxruntime.quantization.shape_inference import quant_pre_process
    pre = out + ".pre.onnx"
    quant_pre_process(onnx_path, pre, skip_symbolic_shape=True)
    name = onnx.load(onnx_path, load_external_data=False).graph.input[0].name

    class Reader(oq.CalibrationDataReader):
        def __init__(self):
            self.i = 0

        def get_next(self):
            if self.i >= len(cal):
                return None
            self.i += 1
            return {name: cal[self.i - 1:self.i]}

    orig = qz.create_calibrator
    if bins:  # quantize_static does not pass these on to the calibrator
        def patched(*a, **k):
            k["extra_options"] = {**k.get("extra_options", {}), "num_bins": bins[0],
                                  "num_quantized_bins": bins[1]}
            return orig(*a, **k)
        qz.create_calibrator = patched
    try:
        extra = {"CalibPercentile": percentile} if percentile else {}
        oq.quantize_static(pre, out, Reader(), quant_format=oq.QuantFormat.QDQ, per_channel=True,
                           activation_type=oq.QuantType.QInt8, weight_type=oq.QuantType.QInt8,
                           calibrate_method=getattr(oq.CalibrationMethod, method),
                           extra_options=extra)
    finally:
        qz.create_calibrator = orig


def layers(onnx_path, cal, x, ref):
    """Fake quantization in float (QuantizeLinear/DequantizeLinear pairs, weights rounded in
    place) of one activation tensor or one layer's weights at a time, in Sentinel's scheme: the
    tensors TFLite quantizes (ReLU/Clip fused into the op before them, pools and Flatten
    sharing their input's parameters), min/max ranges, per-channel symmetric weights."""
    import onnx
    from onnx import helper, numpy_helper, TensorProto
    model = onnx.load(onnx_path)
    g = model.graph
    readers = {}
    for n in g.node:
        for i in n.input:
            readers.setdefault(i, []).append(n)
    pts = [g.input[0].name]
    for n in g.node:
        o = n.output[0]
        if n.op_type in ("MaxPool", "Flatten", "Reshape"):
            continue
        if (n.op_type in ("Conv", "Add", "Gemm") and readers.get(o) and
                all(c.op_type in ("Relu", "Clip") for c in readers[o])):
            continue
        pts.append(o)
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    for t in pts[1:]:
        probe.graph.output.append(helper.make_tensor_value_info(t, TensorProto.FLOAT, None))
    sess = ort_session(probe.SerializeToString(), optimize=False)
    outs = [o.name for o in sess.get_outputs()]
    lo, hi = {t: np.inf for t in pts}, {t: -np.inf for t in pts}
    for i in range(0, len(cal), 8):
        ys = sess.run(None, {g.input[0].name: cal[i:i + 8]})
        for t in pts:
            v = cal[i:i + 8] if t == g.input[0].name else ys[outs.index(t)]
            lo[t], hi[t] = min(lo[t], float(v.min())), max(hi[t], float(v.max()))

    def qdq(t):
        a, b = min(lo[t], 0.0), max(hi[t], 0.0)
        s = max((b - a) / 255.0, 1e-12)
        z = int(np.clip(np.round(-128 - a / s), -128, 127))
        m = onnx.ModelProto()
        m.CopyFrom(model)
        m.graph.initializer.extend([numpy_helper.from_array(np.array(s, np.float32), "qs"),
                                    numpy_helper.from_array(np.array(z, np.int8), "qz")])
        nodes = [helper.make_node("QuantizeLinear", [t, "qs", "qz"], ["q_"]),
                 helper.make_node("DequantizeLinear", ["q_", "qs", "qz"], ["dq_"])]
        out = list(m.graph.node)
        for n in out:
            for k, i in enumerate(n.input):
                if i == t:
                    n.input[k] = "dq_"
        at = 0 if t == g.input[0].name else [k for k, n in enumerate(out) if t in n.output][0] + 1
        del m.graph.node[:]
        m.graph.node.extend(out[:at] + nodes + out[at:])
        for o in m.graph.output:
            if o.name == t:
                m.graph.node.append(helper.make_node("Identity", ["dq_"], [t + "_out"]))
                o.name = t + "_out"
        return m

    def wq(node):
        m = onnx.ModelProto()
        m.CopyFrom(model)
        init = {i.name: i for i in m.graph.initializer}
        w = numpy_helper.to_array(init[node.input[1]])
        flat = w.reshape(w.shape[0], -1)
        s = np.abs(flat).max(1) / 127
        s[s == 0] = 1
        q = (np.clip(np.round(flat / s[:, None]), -127, 127) * s[:, None]).reshape(w.shape)
        init[node.input[1]].CopyFrom(numpy_helper.from_array(q.astype(np.float32), node.input[1]))
        return m

    rows = []
    for t in pts:
        y = ort_run(ort_session(qdq(t).SerializeToString(), optimize=False), x)
        rows.append((f"activation {t}", y))
    for n in g.node:
        if n.op_type in ("Conv", "Gemm"):
            y = ort_run(ort_session(wq(n).SerializeToString(), optimize=False), x)
            rows.append((f"weights of {n.output[0]}", y))
    for what, y in rows:
        print(f"  {what:52s} {stats(y, ref)}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--export", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--cal", required=True)
    ap.add_argument("--eval", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--ort", action="store_true", help="ONNX Runtime's quantizer too")
    ap.add_argument("--layers", action="store_true", help="per-tensor attribution")
    ap.add_argument("--tflite", nargs="*", default=[], help="other TFLite files to compare")
    a = ap.parse_args()
    os.makedirs(os.path.join(a.work, "cal"), exist_ok=True)
    cal, x = np.load(a.cal), np.load(a.eval)
    np.save(os.path.join(a.work, "cal", "cal.npy"), cal)
    onnx_path = os.path.join(a.work, "model.onnx")
    subprocess.run([a.export, a.model, "-o", onnx_path, "--quiet"], check=True)
    ref = ort_run(ort_session(onnx_path), x)
    print(f"{os.path.basename(a.model)}: {len(cal)} calibration, {len(x)} compared inputs")
    step = None
    for ranges in ("mse", "minmax"):
        path = os.path.join(a.work, f"int8.{ranges}.tflite")
        subprocess.run([a.export, a.model, "-o", path, "--quantize", "int8", "--calibration",
                        os.path.join(a.work, "cal"), "--calibration-max", str(len(cal)),
                        "--calibration-ranges", ranges, "--threads", "2", "--quiet"], check=True)
        y = litert_run(path, x)
        if step is None:
            step, zp = output_grid(path)
        print(f"sentinel {ranges:22s} {stats(y, ref)}")
        print(by_gap(y, ref, step))
    for path in a.tflite:
        y = litert_run(path, x)
        print(f"{os.path.basename(path):31s} {stats(y, ref)}")
        print(by_gap(y, ref, step))
    if a.ort:
        for label, method, pct, bins in (("MinMax", "MinMax", None, None),
                                         ("Percentile 99.999", "Percentile", None, None),
                                         ("Percentile 99.99", "Percentile", 99.99, None),
                                         ("Entropy", "Entropy", None, (2048, 128))):
            path = os.path.join(a.work, f"ort.{method}.{pct or ''}.onnx")
            ort_quantize(onnx_path, cal, path, method, pct, bins)
            y = ort_run(ort_session(path), x)
            print(f"ort {label:27s} {stats(y, ref)}")
            print(by_gap(y, ref, step))
    tops = []
    for e in np.linspace(-0.02, 0.02, 21):
        s = step * (1 + e)
        q = (np.clip(np.round(ref / s) + zp, -128, 127) - zp) * s
        tops.append(np.mean(q.argmax(1) == ref.argmax(1)))
    print(f"grid: reference rounded to the int8 output grid alone: top1 {min(tops):.3f} to "
          f"{max(tops):.3f} (step {step:.4g} x (1 +- 2%))")
    if a.layers:
        print("one tensor quantized at a time:")
        layers(onnx_path, cal, x, ref)
    return 0


if __name__ == "__main__":
    sys.exit(main())
