#!/usr/bin/env python3
"""check_export.py - run exported models in the real runtimes and compare them with Sentinel.

    check_export.py CASE_DIR...

CASE_DIR holds what the C tests (tests/test_export_*.c) wrote: x.npy (inputs, Sentinel's layout,
a batch of samples), y.npy (Sentinel's CPU outputs for them), case.json (what to expect), and
any of model.onnx, model.tflite, model.fp16.tflite, model.int8.tflite. Every file present is
checked:

  model.onnx          onnx.checker (full_check), opset, dynamic batch "N", metadata_props;
                      ONNX Runtime on the whole batch at once; max |y - ref| / max |ref| <= 1e-4
  model.tflite        read with LiteRT's own schema reader (float32 tensors, builtin ops,
                      metadata); LiteRT interpreter on the whole batch (dynamic batch via
                      shape_signature); relative error <= 1e-4
  model.fp16.tflite   FLOAT16 weights behind DEQUANTIZE ops; relative error <= 1e-2
  model.int8.tflite   INT8 activations, per-channel INT8 filters, INT32 biases, float I/O;
                      cosine similarity of the outputs (per sample, averaged) > 0.98 unless
                      case.json says "cosine": false, the worst sample's logged. For 2-D
                      outputs the top-1 agreement is measured, with how separated the
                      reference's top two scores are (in steps of the int8 output's grid):
                        "classes": true    it must reach 95% (scores with well-separated
                                           top classes: the prototype-head models)
                        "top1_min": F      the agreement rate must not be significantly below F:
                                           fails when k agreeing samples of n are that few with
                                           probability < 0.001 for a rate of F (one-sided
                                           binomial test), since the inputs are fresh each run
                      "int8_channel_bias_max": B  (4-D outputs) each channel's mean error over
                                           samples and positions is at most B of the output's
                                           RMS: what bias correction removes

TFLite models are NHWC: 4-D inputs are transposed from NCHW on the way in and 4-D outputs back.
Prints one JSON object with the measurements; exits 1 (with the reasons on stderr) when any
check fails, 2 when the case itself is malformed.
"""
import json
import math
import os
import sys

import numpy as np


def fail(msgs, what):  # noqa: D103
    msgs.append(what)


def binom_cdf(k, n, p):
    """P(X <= k) for X ~ Binomial(n, p)."""
    return sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(k + 1))


def rel_err(y, ref):
    scale = float(np.max(np.abs(ref))) if ref.size else 0.0
    if not np.all(np.isfinite(y)):
        return float("inf")
    return float(np.max(np.abs(y.astype(np.float64) - ref))) / max(scale, 1e-12)


def cosines(y, ref):
    a = y.reshape(len(y), -1).astype(np.float64)
    b = ref.reshape(len(ref), -1).astype(np.float64)
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    return (a * b).sum(axis=1) / np.maximum(na * nb, 1e-30)


def check_onnx(path, x, ref, case, out, msgs):
    import onnx
    import onnxruntime as ort

    model = onnx.load(path)
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as e:  # noqa: BLE001 - the checker's own message is the reason
        fail(msgs, f"onnx.checker: {e}")
    opsets = {o.domain: o.version for o in model.opset_import}
    out["onnx_opset"] = opsets.get("", 0)
    if case.get("opset") and opsets.get("", 0) != case["opset"]:
        fail(msgs, f"opset {opsets} != {case['opset']}")
    domains = {n.domain for n in model.graph.node} - {"", "ai.onnx"}
    if domains:
        fail(msgs, f"non-standard op domains {domains}")
    dims = model.graph.input[0].type.tensor_type.shape.dim
    if case.get("batched") and dims[0].dim_param != "N":
        fail(msgs, f"input batch dim is {dims[0]}, not dim_param N")
    props = {p.key: p.value for p in model.metadata_props}
    if case.get("labels"):
        n = len(props.get("sentinel.labels", "").split("\n"))
        if n != case["labels"]:
            fail(msgs, f"metadata sentinel.labels has {n} labels, expected {case['labels']}")
    if case.get("preprocess") and "sentinel.preprocess" not in props:
        fail(msgs, "metadata sentinel.preprocess is missing")
    if case.get("preprocess"):
        json.loads(props.get("sentinel.preprocess", "{}"))
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    y = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    if y.shape != ref.shape:
        fail(msgs, f"ONNX output shape {y.shape} != {ref.shape}")
        return
    out["onnx_rel_err"] = rel_err(y, ref)
    if not out["onnx_rel_err"] <= case.get("onnx_tol", 1e-4):
        fail(msgs, f"ONNX Runtime differs: rel err {out['onnx_rel_err']:.3g}")


def tflite_schema(path, variant, case, out, msgs):
    """Reads the file with LiteRT's generated schema code, independently of the interpreter."""
    from ai_edge_litert import schema_py_generated as schema

    buf = open(path, "rb").read()
    if buf[4:8] != b"TFL3":
        fail(msgs, f"{variant}: file identifier {buf[4:8]!r} is not TFL3")
    m = schema.ModelT.InitFromObj(schema.Model.GetRootAs(buf, 0))
    if m.version != 3:
        fail(msgs, f"{variant}: schema version {m.version}")
    sg = m.subgraphs[0]
    codes = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in m.operatorCodes]
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    ops = [names.get(codes[o.opcodeIndex], "?") for o in sg.operators]
    out[f"{variant}_ops"] = len(ops)
    if "CUSTOM" in ops or "?" in ops:
        fail(msgs, f"{variant}: custom or unknown ops {set(ops)}")
    def buf_bytes(i):
        data = m.buffers[i].data
        return b"" if data is None else bytes(bytearray(data))

    meta = {md.name.decode(): buf_bytes(md.buffer).decode() for md in (m.metadata or [])}
    if case.get("labels") and len(meta.get("sentinel.labels", "").split("\n")) != case["labels"]:
        fail(msgs, f"{variant}: metadata sentinel.labels does not hold {case['labels']} labels")
    if case.get("preprocess"):
        pre = json.loads(meta.get("sentinel.preprocess", "{}"))
        if pre.get("layout") != "NHWC":
            fail(msgs, f"{variant}: metadata sentinel.preprocess is {pre}")
    T = schema.TensorType
    io = set(sg.inputs) | set(sg.outputs)
    consts = {i for i, t in enumerate(sg.tensors) if t.buffer and m.buffers[t.buffer].data is not None}
    types = [t.type for t in sg.tensors]
    for i in io:
        if types[i] != T.FLOAT32:
            fail(msgs, f"{variant}: input/output tensor {i} is not FLOAT32")
    if variant == "float" and any(t not in (T.FLOAT32, T.INT32) for t in types):
        fail(msgs, "float: tensors other than FLOAT32/INT32")
    if variant == "fp16":
        halves = [i for i in consts if types[i] == T.FLOAT16]
        if halves and "DEQUANTIZE" not in ops:
            fail(msgs, "fp16: FLOAT16 weights without DEQUANTIZE")
        if any(types[i] == T.FLOAT32 and sg.tensors[i].shape is not None and
               np.prod(sg.tensors[i].shape) > 16 for i in consts):
            fail(msgs, "fp16: a float32 weight was left")
    if variant == "int8":
        acts = [i for i, t in enumerate(sg.tensors) if i not in consts and i not in io]
        bad = [sg.tensors[i].name for i in acts if types[i] != T.INT8]
        if bad:
            fail(msgs, f"int8: activations that are not INT8: {bad[:5]}")
        per_channel = 0
        for o in sg.operators:
            if names.get(codes[o.opcodeIndex]) in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
                w, b = sg.tensors[o.inputs[1]], sg.tensors[o.inputs[2]]
                if w.type != T.INT8 or b.type != T.INT32:
                    fail(msgs, f"int8: filter/bias types {w.type}/{b.type}")
                if w.quantization is not None and len(w.quantization.scale) > 1:
                    per_channel += 1
                if any(z != 0 for z in w.quantization.zeroPoint):
                    fail(msgs, "int8: a filter with a non-zero zero point")
        out["int8_per_channel_filters"] = per_channel
        if ops and ops[0] != "QUANTIZE" or ops and ops[-1] != "DEQUANTIZE":
            fail(msgs, "int8: the model does not start with QUANTIZE and end with DEQUANTIZE")
        elif sg.tensors[sg.operators[-1].inputs[0]].quantization is not None:
            # The grid the int8 output lives on: scores closer than a step may tie or swap.
            out["int8_output_step"] = float(sg.tensors[sg.operators[-1].inputs[0]].quantization.scale[0])


def run_tflite(path, x):
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=path, num_threads=2)
    d = it.get_input_details()[0]
    xin = x.transpose(0, 2, 3, 1) if x.ndim == 4 else x
    xin = np.ascontiguousarray(xin, dtype=np.float32)
    if d["shape_signature"][0] == -1:
        it.resize_tensor_input(d["index"], list(xin.shape), strict=True)
        it.allocate_tensors()
        it.set_tensor(d["index"], xin)
        it.invoke()
        y = it.get_tensor(it.get_output_details()[0]["index"])
    else:  # a fixed batch: one sample at a time
        it.allocate_tensors()
        ys = []
        for k in range(len(xin)):
            it.set_tensor(d["index"], xin[k:k + 1])
            it.invoke()
            ys.append(it.get_tensor(it.get_output_details()[0]["index"]).copy())
        y = np.concatenate(ys)
    return y.transpose(0, 3, 1, 2) if y.ndim == 4 else y


def check_tflite(path, variant, x, ref, case, out, msgs):
    tflite_schema(path, variant, case, out, msgs)
    y = run_tflite(path, x)
    if y.shape != ref.shape:
        fail(msgs, f"{variant}: output shape {y.shape} != {ref.shape}")
        return
    out[f"tflite_{variant}_rel_err"] = e = rel_err(y, ref)
    if variant in ("float", "fp16"):
        tol = case.get(f"{variant}_tol", 1e-4 if variant == "float" else 1e-2)
        if not e <= tol:
            fail(msgs, f"TFLite {variant} differs: rel err {e:.3g} > {tol:g}")
        return
    if case.get("int8_channel_bias_max") and ref.ndim == 4:
        # Each channel's mean error over samples and positions, relative to the output's RMS:
        # what bias correction removes (the weights' rounding shifts whole channels).
        bias = (y.astype(np.float64) - ref).mean(axis=(0, 2, 3))
        out["int8_channel_bias"] = b = float(np.abs(bias).max() / np.sqrt(np.mean(ref ** 2)))
        if not b <= case["int8_channel_bias_max"]:
            fail(msgs, f"int8 per-channel mean error {b:.3g} of the output's RMS exceeds "
                       f"{case['int8_channel_bias_max']:g}")
    cos = cosines(y, ref)
    out["int8_cosine_min"] = float(cos.min())
    out["int8_cosine_mean"] = float(cos.mean())
    if case.get("cosine", True) and not cos.mean() > 0.98:
        fail(msgs, f"int8 cosine similarity {cos.mean():.4f} (mean over samples) is not above 0.98")
    if ref.ndim == 2 and ref.shape[1] > 1:
        same = y.argmax(1) == ref.argmax(1)
        k, n = int(same.sum()), len(same)
        agree = k / n
        out["int8_top1_agreement"] = agree
        # How separated the reference scores are: the median gap between the top two, in units
        # of the scores' spread (random-weight classifiers have near-ties, ~0.1), and in steps
        # of the int8 output's grid, below one of which int8 cannot tell the two apart.
        top2 = np.sort(ref, axis=1)[:, -2:]
        gap = top2[:, 1] - top2[:, 0]
        out["ref_top1_margin"] = float(np.median(gap / ref.std(axis=1)))
        step = out.get("int8_output_step")
        if step:
            out["ref_top2_gap_steps_median"] = float(np.median(gap / step))
            wide = gap >= 2 * step
            out["int8_top1_agreement_gap_2_steps"] = [int(same[wide].sum()), int(wide.sum())]
        if case.get("classes") and agree < 0.95:
            fail(msgs, f"int8 top-1 agreement {agree:.3f} < 0.95")
        floor = case.get("top1_min")
        if floor:
            p = binom_cdf(k, n, floor)
            out["int8_top1_floor"] = floor
            out["int8_top1_p_below_floor"] = p
            if p < 1e-3:
                fail(msgs, f"int8 top-1 agreement {k}/{n} is significantly below {floor} "
                           f"(one-sided binomial test, p = {p:.2g})")


def check_case(d):
    """Checks one case folder; returns 0 (pass), 1 (a check failed) or 2 (malformed case)."""
    try:
        x = np.load(os.path.join(d, "x.npy"))
        ref = np.load(os.path.join(d, "y.npy")).astype(np.float64)
        case = json.load(open(os.path.join(d, "case.json")))
    except (OSError, ValueError) as e:
        print(f"check_export: bad case {d}: {e}", file=sys.stderr)
        return 2
    out, msgs = {"case": case.get("name", d), "samples": int(len(x))}, []
    checks = [("model.onnx", lambda p: check_onnx(p, x, ref, case, out, msgs))]
    for v, f in (("float", "model.tflite"), ("fp16", "model.fp16.tflite"),
                 ("int8", "model.int8.tflite")):
        checks.append((f, lambda p, v=v: check_tflite(p, v, x, ref, case, out, msgs)))
    ran = 0
    for f, fn in checks:
        p = os.path.join(d, f)
        if os.path.exists(p):
            ran += 1
            out.setdefault("sizes", {})[f] = os.path.getsize(p)
            try:
                fn(p)
            except Exception as e:  # noqa: BLE001 - a runtime refusing the file is a failure
                fail(msgs, f"{f}: {type(e).__name__}: {e}")
    if not ran:
        fail(msgs, "no exported model in the case folder")
    out["ok"] = not msgs
    print(json.dumps(out, sort_keys=True))
    for m in msgs:
        print(f"check_export: {out['case']}: {m}", file=sys.stderr)
    return 0 if not msgs else 1


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    return max(check_case(d) for d in sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
