"""common.py - what every end-to-end peer script shares, so that all systems are measured and
reported the same way:

* the command line (models, precisions, batches, modes, device, iterations, time budget);
* the models: DIR/<model>.onnx (sentinel-export, BatchNorm folded), DIR/<model>.raw.onnx
  (sentinel-export --no-optimize: the zoo's layers as built, with torchvision's parameter names)
  and the reference DIR/ref/<model>_b4_in0.npy / _out0.npy (Sentinel's CPU backend, written by
  `sentinel-bench-cpu --dump`, which bench/cpu_compare.py checks against ONNX Runtime);
* the output check before timing (max |out - ref| / max |ref| per precision);
* the timing protocol: warm-up, then single calls each ending in a synchronisation, until both
  --iters calls and --seconds have passed; images/s over all timed calls, nearest-rank p50/p99 of
  one call;
* GPU utilisation and device memory sampled through NVML (nvidia-ml-py) while timing;
* one JSON object per line (the fields of ROW_FIELDS), appended to --out and printed.

A peer script imports this module, builds its model for (model, precision), and calls
`measure()` with a function that runs one batch.
"""
import argparse
import json
import math
import os
import sys
import threading
import time

PRECISIONS = ("fp32", "tf32", "fp16")
MODES = ("device", "host", "u8")
# Tolerance on max |out - ref| / max |ref| against the fp32 CPU reference.
TOLERANCE = {"fp32": 2e-3, "tf32": 3e-2, "fp16": 6e-2, "bf16": 1.5e-1}
# u8 mode: images of this size in host memory; preprocessing is the zoo's (resize the shorter side
# to 256: a no-op here, centre crop 224, (x/255 - mean) / std).
U8_SIDE, CROP = 256, 224
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)

ROW_FIELDS = (
    "system", "model", "precision", "batch", "mode", "images_per_s", "p50_ms", "p99_ms", "runs",
    "first_result_s", "compile_s", "peak_mem_bytes", "nvml_used_bytes", "gpu_util_pct",
    "h2d_per_batch", "max_rel_diff", "device", "version", "provider", "note", "error")

# Headline configurations first, so a budget that runs out cuts the least important rows: per
# model and precision, the targets (8-bit images at batch 128, device buffers at 128,
# latency at batch 1), then the rest.
MODEL_ORDER = {"resnet50": 0, "mobilenetv2": 1, "seed-cnn": 2}
PRECISION_ORDER = {"fp16": 0, "fp32": 1, "tf32": 2}
HEADLINE = {("u8", 128): 0, ("device", 128): 1, ("device", 1): 2}
BATCH_ORDER = {128: 0, 1: 1, 256: 2, 32: 3, 8: 4}


def int_list(text):
    try:
        v = [int(x) for x in text.split(",") if x]
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of integers")
    if not v or any(b < 1 or b > 4096 for b in v):
        raise argparse.ArgumentTypeError(f"batch sizes must be in 1..4096: '{text}'")
    return v


def choice_list(allowed):
    def parse(text):
        v = [x for x in text.split(",") if x]
        bad = [x for x in v if x not in allowed]
        if not v or bad:
            raise argparse.ArgumentTypeError(f"'{text}': each must be one of {', '.join(allowed)}")
        return v
    return parse


def parser(description):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--model-dir", required=True,
                    help="folder with <model>.onnx, <model>.raw.onnx and ref/ (run_all.sh makes it)")
    ap.add_argument("--models", default="seed-cnn,resnet50,mobilenetv2")
    ap.add_argument("--precisions", type=choice_list(PRECISIONS), default=list(PRECISIONS))
    ap.add_argument("--batches", type=int_list, default=[1, 8, 32, 128, 256])
    ap.add_argument("--modes", type=choice_list(MODES), default=["device"],
                    help="device: inputs and outputs stay on the device; host: f32 inputs in pinned "
                         "host memory, outputs back to the host; u8: 8-bit 256x256 images in pinned "
                         "host memory, preprocessing on the device, outputs back (default: device)")
    ap.add_argument("--u8-batches", type=int_list, default=None,
                    help="batches for the host and u8 modes (default: --batches)")
    ap.add_argument("--device", default="cuda", choices=("cuda", "cpu"),
                    help="cpu: a smoke test of the script itself; nothing it prints is a benchmark")
    ap.add_argument("--iters", type=int, default=20, help="at least this many timed calls per row")
    ap.add_argument("--seconds", type=float, default=None,
                    help="and at least this long per row (default 0.5 on cuda, 0 on cpu)")
    ap.add_argument("--warmup", type=int, default=5, help="untimed calls before timing (at least 1)")
    ap.add_argument("--budget", type=float, default=0,
                    help="seconds for the whole script; rows not started by then are reported as "
                         "skipped (0: no limit)")
    ap.add_argument("--out", help="append the JSON lines to this file too")
    return ap


def finish_args(ap, args):
    args.models = [m for m in args.models.split(",") if m]
    if not args.models:
        ap.error("--models is empty")
    if args.iters < 1 or args.warmup < 1:
        ap.error("--iters and --warmup must be at least 1")
    if args.seconds is None:
        args.seconds = 0.5 if args.device == "cuda" else 0.0
    if args.u8_batches is None:
        args.u8_batches = args.batches
    for m in args.models:
        for suffix in (".onnx", ".raw.onnx"):
            if not os.path.isfile(os.path.join(args.model_dir, m + suffix)):
                ap.error(f"{os.path.join(args.model_dir, m + suffix)} is missing "
                         "(bench/e2e/run_all.sh makes it with sentinel-zoo and sentinel-export)")
    args.started = time.monotonic()
    return args


def out_of_budget(args):
    return args.budget > 0 and time.monotonic() - args.started > args.budget


def configs(args):
    """(model, precision, mode, batch) in headline-first order."""
    out = []
    for m in args.models:
        for p in args.precisions:
            for mode in args.modes:
                for b in (args.batches if mode == "device" else args.u8_batches):
                    out.append((m, p, mode, b))
    out.sort(key=lambda c: (MODEL_ORDER.get(c[0], 9), PRECISION_ORDER.get(c[1], 9),
                            HEADLINE.get((c[2], c[3]), 9), MODES.index(c[2]),
                            BATCH_ORDER.get(c[3], 9), c[3]))
    return out


def grouped(args):
    """Configurations grouped by (model, precision), groups in headline-first order, so a script
    builds each model once per precision."""
    groups = {}
    for c in configs(args):
        groups.setdefault((c[0], c[1]), []).append((c[2], c[3]))
    return list(groups.items())


def emit(args, row):
    full = {k: row.get(k) for k in ROW_FIELDS}
    full.update({k: v for k, v in row.items() if k not in full})
    line = json.dumps(full, sort_keys=False)
    # the terminal gets the fields that were measured; --out gets every field
    print(json.dumps({k: v for k, v in full.items() if v is not None}), flush=True)
    if args.out:
        with open(args.out, "a") as f:
            f.write(line + "\n")


def skip(args, system, model, precision, mode, batch, why, **extra):
    emit(args, dict(system=system, model=model, precision=precision, mode=mode, batch=batch,
                    note=why, error=extra.pop("error", None), **extra))


def skip_all(args, system, why, **extra):
    """A skipped row for every configuration (the framework or its device is missing)."""
    for m, p, mode, b in configs(args):
        skip(args, system, m, p, mode, b, why, **extra)


def skip_runs(args, system, model, precision, runs, why, **extra):
    """A skipped row for every (mode, batch) of one (model, precision) group."""
    for mode, b in runs:
        skip(args, system, model, precision, mode, b, why, **extra)


def fail_runs(args, base, runs, exc):
    """An error row for every (mode, batch) of a group that cannot be timed because of exc: a
    Mismatch says how far the output is off, any other exception its type and message. base
    holds the group's fields (system, model, precision, ...)."""
    if isinstance(exc, Mismatch):
        error, extra = str(exc), {"max_rel_diff": exc.rel}
    else:
        error, extra = f"{type(exc).__name__}: {exc}"[:500], {}
    for mode, b in runs:
        emit(args, dict(base, mode=mode, batch=b, error=error, **extra))


def group_skip_reason(args, precision):
    """Why a (model, precision) group of a framework script is not run, or None."""
    if out_of_budget(args):
        return "skipped: out of time budget"
    if args.device == "cpu" and precision != "fp32":
        return "skipped: the CPU smoke run is fp32 only"
    return None


def reference(args, model):
    """(input, output) float32 arrays of the CPU reference at batch 4, or None when absent."""
    import numpy as np
    d = os.path.join(args.model_dir, "ref")
    pin, pout = (os.path.join(d, f"{model}_b4_{k}0.npy") for k in ("in", "out"))
    if not (os.path.isfile(pin) and os.path.isfile(pout)):
        return None
    return np.load(pin).astype(np.float32), np.load(pout).astype(np.float32)


def check(precision, got, ref):
    """(ok, max |got - ref| / max |ref|)."""
    import numpy as np
    got = np.asarray(got, dtype=np.float64).reshape(ref.shape)
    scale = float(np.max(np.abs(ref))) or 1.0
    rel = float(np.max(np.abs(got - ref.astype(np.float64)))) / scale
    return (math.isfinite(rel) and rel <= TOLERANCE[precision]), rel


class Mismatch(Exception):
    """The reference batch's output is out of tolerance: the group is not timed."""

    def __init__(self, precision, rel):
        super().__init__(f"output differs from the reference by {rel:.3g} (relative; allowed "
                         f"{TOLERANCE[precision]:g}): not timed")
        self.rel = rel


def check_reference(args, model, precision, run, t0):
    """Runs the reference batch through run(input array) -> output array and checks it against
    the CPU reference. Returns (max_rel_diff, first_result_s: seconds from t0 to that result,
    note): all but the note None when there is no reference. Raises Mismatch when the output is
    out of tolerance."""
    ref = reference(args, model)
    if ref is None:
        return None, None, "unchecked: no reference in --model-dir/ref"
    y = run(ref[0])
    first_s = time.perf_counter() - t0
    ok, rel = check(precision, y, ref[1])
    if not ok:
        raise Mismatch(precision, rel)
    return rel, first_s, None


def percentile(sorted_values, p):
    k = max(0, min(len(sorted_values) - 1, math.ceil(p * len(sorted_values)) - 1))
    return sorted_values[k]


class Nvml:
    """GPU utilisation and used memory, sampled every 20 ms between start() and stop(), through
    nvidia-ml-py when it is installed and a driver answers; otherwise every figure is None."""

    def __init__(self, index=0):
        self.ok = False
        try:
            import pynvml
            pynvml.nvmlInit()
            self.nv = pynvml
            self.h = pynvml.nvmlDeviceGetHandleByIndex(index)
            self.ok = True
        except Exception:  # no package, no driver: the figures are simply absent
            pass
        self._thread = None

    def _loop(self):
        while not self._stop.is_set():
            try:
                self.util.append(self.nv.nvmlDeviceGetUtilizationRates(self.h).gpu)
                self.used = max(self.used, self.nv.nvmlDeviceGetMemoryInfo(self.h).used)
            except Exception:
                return
            self._stop.wait(0.02)

    def start(self):
        self.util, self.used = [], 0
        if not self.ok:
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def stop(self):
        if self._thread:
            self._stop.set()
            self._thread.join()
            self._thread = None
        util = sum(self.util) / len(self.util) if self.util else None
        return util, (self.used or None)


def measure(args, run_once, sync, batch, nvml=None):
    """Warm up, then time single calls of run_once() each followed by sync(). Returns the timing
    fields of a row."""
    for _ in range(args.warmup):
        run_once()
    sync()
    lat = []
    if nvml:
        nvml.start()
    start = time.perf_counter()
    total = 0.0
    while len(lat) < args.iters or total < args.seconds:
        t = time.perf_counter()
        run_once()
        sync()
        t1 = time.perf_counter()
        lat.append(t1 - t)
        total = t1 - start
    util, used = nvml.stop() if nvml else (None, None)
    lat.sort()
    return {"images_per_s": len(lat) * batch / total, "p50_ms": percentile(lat, 0.5) * 1e3,
            "p99_ms": percentile(lat, 0.99) * 1e3, "runs": len(lat), "gpu_util_pct": util,
            "nvml_used_bytes": used}


def u8_images(batch, seed=7):
    import numpy as np
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(batch, U8_SIDE, U8_SIDE, 3), dtype=np.uint8)


def fail(msg):
    sys.exit(f"{os.path.basename(sys.argv[0])}: {msg}")
