#!/usr/bin/env python3
"""check_reexport.py - ONNX models imported by Sentinel and exported again still compute what
the originals computed in ONNX Runtime.

    check_reexport.py ORIG_DIR EXPORT_DIR

ORIG_DIR is the ONNX parity suite (tests/onnx/make_models.py): NAME.onnx, NAME.in.npy and ONNX
Runtime's outputs NAME.out<k>.npy. EXPORT_DIR holds NAME.onnx and, for the models TFLite can
express, NAME.tflite, as Sentinel's exporters wrote them after importing the original. Each
exported ONNX model must pass onnx.checker (full check); every output of every exported file
(the TFLite ones run by LiteRT, 4-D tensors transposed to and from NHWC) must be within 1e-4
of the reference, relative to max(|reference|, RMS of the reference).
Prints one summary JSON line; exits 1 with the failures on stderr.
"""
import json
import os
import sys

import numpy as np


def run_tflite(path, x):
    """All outputs of a TFLite model for the batch x (NCHW in, NCHW out for 4-D tensors)."""
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=path, num_threads=1)
    d = it.get_input_details()[0]
    xin = np.ascontiguousarray(x.transpose(0, 2, 3, 1) if x.ndim == 4 else x, dtype=np.float32)
    it.resize_tensor_input(d["index"], list(xin.shape), strict=d["shape_signature"][0] == -1)
    it.allocate_tensors()
    it.set_tensor(d["index"], xin)
    it.invoke()
    ys = [it.get_tensor(o["index"]) for o in it.get_output_details()]
    return [y.transpose(0, 3, 1, 2) if y.ndim == 4 else y for y in ys]


def main():
    import onnx
    import onnxruntime as ort

    orig, exp = sys.argv[1], sys.argv[2]
    failures, worst, n = [], 0.0, 0
    n_tfl = 0
    for f in sorted(os.listdir(exp)):
        if not f.endswith(".onnx") and not f.endswith(".tflite"):
            continue
        name, tfl = f.rsplit(".", 1)[0], f.endswith(".tflite")
        path = os.path.join(exp, f)
        try:
            x = np.load(os.path.join(orig, name + ".in.npy"))
            if tfl:
                ys = run_tflite(path, x)
            else:
                onnx.checker.check_model(onnx.load(path), full_check=True)
                so = ort.SessionOptions()
                so.intra_op_num_threads = 1
                so.log_severity_level = 3
                sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
                ys = sess.run(None, {sess.get_inputs()[0].name: x})
            for k, y in enumerate(ys):
                ref = np.load(os.path.join(orig, f"{name}.out{k}.npy")).astype(np.float64)
                if y.shape != ref.shape:
                    raise ValueError(f"output {k} shape {y.shape} != {ref.shape}")
                scale = max(float(np.max(np.abs(ref))), float(np.sqrt(np.mean(ref ** 2))), 1e-12)
                err = float(np.max(np.abs(y - ref))) / scale if y.size else 0.0
                if not np.all(np.isfinite(y)) or not err <= 1e-4:
                    raise ValueError(f"output {k} differs: rel err {err:.3g}")
                worst = max(worst, err)
            n_tfl += tfl
            n += not tfl
        except Exception as e:  # noqa: BLE001 - any failure is reported by name
            failures.append(f"{f}: {type(e).__name__}: {e}")
    print(json.dumps({"reexported_onnx": n, "reexported_tflite": n_tfl, "failed": len(failures),
                      "worst_rel_err": worst}))
    for m in failures:
        print(f"check_reexport: {m}", file=sys.stderr)
    return 1 if failures or not n else 0


if __name__ == "__main__":
    sys.exit(main())
