#!/usr/bin/env python3
"""ort_cpu.py - time an ONNX model on ONNX Runtime's CPU execution provider, the same way
sentinel-bench-cpu times Sentinel: per batch size, a warm-up of at least 2 runs or a tenth of
the budget, then single runs until the budget is spent (at least 5), reporting images/s and the
nearest-rank p50/p99 latency of one call. The JSON it writes has the machine and per-row fields
of `sentinel-bench-cpu --json` (less its memory figures), so the two can be put side by side.

--check DIR first runs the inputs `sentinel-bench-cpu --dump DIR` wrote for the same model and
batch (DIR/<name>_b<batch>_in0.npy) and compares ONNX Runtime's outputs with Sentinel's
(_out0.npy): a row whose max |difference| exceeds --atol + --rtol * max |Sentinel| is refused
(exit 1) before anything is timed, so a wrong model is never benchmarked; the timed runs then
use those same inputs; with --check-only nothing is timed. <name> is the .onnx file's name up to
its first dot.
bench/cpu_compare.py runs both sides this way (sentinel-export writes the .onnx from the same
.sgraph, so both run the very same weights).

    python3 bench/ort_cpu.py resnet18.onnx --batches 1,8 --threads 2 --seconds 3 --json ort.json
"""
import argparse
import json
import math
import os
import platform
import sys
import time


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def percentile(sorted_values, p):
    k = max(0, min(len(sorted_values) - 1, math.ceil(p * len(sorted_values)) - 1))
    return sorted_values[k]


def positive_list(text):
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of integers")
    if not values or any(v < 1 or v > 1024 for v in values):
        raise argparse.ArgumentTypeError(f"batch sizes must be in 1..1024: '{text}'")
    return values


def seconds_arg(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number")
    if not 0.01 <= v <= 3600:
        raise argparse.ArgumentTypeError("seconds must be in 0.01..3600")
    return v


def model_name(path):
    return os.path.basename(path).split(".", 1)[0]


def random_feeds(session, name, batch, rng, np):
    feeds = {}
    for inp in session.get_inputs():
        shape = [batch if (i == 0 and not isinstance(d, int)) else d for i, d in enumerate(inp.shape)]
        if any(not isinstance(d, int) for d in shape):
            sys.exit(f"ort_cpu.py: input {inp.name} has a dynamic dimension besides the batch: {inp.shape}")
        if inp.type != "tensor(float)":
            sys.exit(f"ort_cpu.py: input {inp.name} is {inp.type}; only float inputs are supported")
        feeds[inp.name] = rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)
    return feeds


def checked_feeds(session, name, batch, check_dir, atol, rtol, np):
    """The inputs Sentinel ran, after checking that ONNX Runtime's outputs match Sentinel's.
    Returns (feeds, check) or exits with the reason."""
    inputs, outputs = session.get_inputs(), session.get_outputs()
    feeds = {}
    for i, inp in enumerate(inputs):
        path = os.path.join(check_dir, f"{name}_b{batch}_in{i}.npy")
        if not os.path.isfile(path):
            sys.exit(f"ort_cpu.py: --check: {path} is missing (sentinel-bench-cpu --dump writes it)")
        feeds[inp.name] = np.load(path).astype(np.float32, copy=False)
    got = session.run(None, feeds)
    worst = {"max_abs_diff": 0.0, "max_abs_ref": 0.0}
    for i, out in enumerate(outputs):
        path = os.path.join(check_dir, f"{name}_b{batch}_out{i}.npy")
        if not os.path.isfile(path):
            sys.exit(f"ort_cpu.py: --check: {path} is missing")
        ref = np.load(path)
        if ref.size != got[i].size:
            sys.exit(f"ort_cpu.py: {name} batch {batch}: output {out.name} has {got[i].size} "
                     f"values, Sentinel's {ref.size}")
        ref = ref.reshape(got[i].shape).astype(np.float64)
        diff = float(np.max(np.abs(got[i].astype(np.float64) - ref))) if ref.size else 0.0
        scale = float(np.max(np.abs(ref))) if ref.size else 0.0
        if not np.isfinite(diff) or diff > atol + rtol * scale:
            sys.exit(f"ort_cpu.py: {name} batch {batch}: output {out.name} differs from "
                     f"Sentinel's by up to {diff:.3g} (max |Sentinel| {scale:.3g}, allowed "
                     f"{atol:g} + {rtol:g} * that): not timing a model that computes something else")
        worst["max_abs_diff"] = max(worst["max_abs_diff"], diff)
        worst["max_abs_ref"] = max(worst["max_abs_ref"], scale)
    return feeds, worst


def bench(session, name, batch, seconds, feeds, np):
    t0 = time.perf_counter()
    k = 0
    while k < 2 or time.perf_counter() - t0 < seconds * 0.1:
        outputs = session.run(None, feeds)
        k += 1
    for out in outputs:
        if out.dtype.kind == "f" and not np.all(np.isfinite(out)):
            sys.exit(f"ort_cpu.py: {name} batch {batch}: non-finite output")

    lat = []
    start = time.perf_counter()
    total = 0.0
    while len(lat) < 5 or total < seconds:
        t = time.perf_counter()
        session.run(None, feeds)
        t1 = time.perf_counter()
        lat.append(t1 - t)
        total = t1 - start
    lat.sort()
    return {
        "model": name,
        "batch": batch,
        "threads": session.get_session_options().intra_op_num_threads,
        "runs": len(lat),
        "images_per_s": len(lat) * batch / total,
        "p50_ms": percentile(lat, 0.50) * 1e3,
        "p99_ms": percentile(lat, 0.99) * 1e3,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="+", help=".onnx files (batch axis dynamic or matching)")
    ap.add_argument("--batches", type=positive_list, default=[1, 8])
    ap.add_argument("--threads", type=int, default=0, help="intra-op threads, 0 = ORT's default")
    ap.add_argument("--seconds", type=seconds_arg, default=3.0)
    ap.add_argument("--json", help="also write the results as JSON")
    ap.add_argument("--no-spin", action="store_true",
                    help="idle threads sleep instead of spinning (session.intra_op.allow_spinning=0)")
    ap.add_argument("--check", metavar="DIR",
                    help="compare with Sentinel's outputs in DIR (sentinel-bench-cpu --dump) first")
    ap.add_argument("--check-only", action="store_true",
                    help="with --check: compare the outputs, then stop (nothing is timed)")
    ap.add_argument("--atol", type=float, default=1e-4, help="--check: absolute tolerance")
    ap.add_argument("--rtol", type=float, default=1e-3,
                    help="--check: tolerance relative to the largest |Sentinel output|")
    args = ap.parse_args()
    if args.threads < 0:
        ap.error("--threads must be >= 0")
    if args.check and not os.path.isdir(args.check):
        ap.error(f"--check: {args.check} is not a folder")
    if args.check_only and not args.check:
        ap.error("--check-only needs --check DIR")

    try:
        import numpy as np
        import onnxruntime as ort
    except ImportError as e:
        sys.exit(f"ort_cpu.py: {e.name} is not installed: pip install onnxruntime numpy")

    rng = np.random.default_rng(20240601)
    print(f"ort_cpu.py: onnxruntime {ort.__version__}, {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}")
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores; threads requested: {args.threads}")
    print(f"{'model':<24} {'batch':>5} {'threads':>7} {'runs':>6} {'images/s':>10} {'p50 ms':>9} {'p99 ms':>9}")
    results = []
    for path in args.models:
        if not os.path.isfile(path):
            sys.exit(f"ort_cpu.py: {path}: no such file")
        so = ort.SessionOptions()
        so.intra_op_num_threads = args.threads
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if args.no_spin:
            so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        name = model_name(path)
        for batch in args.batches:
            check = None
            if args.check:
                feeds, check = checked_feeds(session, name, batch, args.check, args.atol,
                                             args.rtol, np)
                if args.check_only:
                    print(f"{name:<24} {batch:>5} outputs match Sentinel's: max abs diff "
                          f"{check['max_abs_diff']:.3g} (max |Sentinel| {check['max_abs_ref']:.3g})",
                          flush=True)
                    continue
            else:
                feeds = random_feeds(session, name, batch, rng, np)
            r = bench(session, name, batch, args.seconds, feeds, np)
            r["path"] = path
            if check:
                r.update(check)
            results.append(r)
            print(f"{r['model']:<24} {r['batch']:>5} {r['threads']:>7} {r['runs']:>6} "
                  f"{r['images_per_s']:>10.1f} {r['p50_ms']:>9.3f} {r['p99_ms']:>9.3f}", flush=True)

    if args.json:
        doc = {
            "tool": "ort_cpu.py",
            "version": ort.__version__,
            "provider": "CPUExecutionProvider",
            "spinning": not args.no_spin,
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "kernel": platform.release(),
            "seconds_per_row": args.seconds,
            "results": results,
        }
        tmp = args.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
        os.replace(tmp, args.json)


if __name__ == "__main__":
    main()
