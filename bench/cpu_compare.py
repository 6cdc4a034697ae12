#!/usr/bin/env python3
"""cpu_compare.py - Sentinel's CPU backend against ONNX Runtime's CPU execution provider, on the
same models with the same weights, the same threads pinned to the same cores, and the same
batches. Writes compare.json and compare.md (a Markdown table with the ratio Sentinel/ORT per
row) into --out.

For each model:
  1. sentinel-zoo writes MODEL.sgraph (seeded weights) and sentinel-export writes MODEL.onnx from
     it, so both runtimes read the very same weights;
  2. sentinel-bench-cpu runs each batch briefly and dumps its inputs and outputs (--dump), and
     ort_cpu.py --check runs ONNX Runtime on those inputs and refuses to go on when the outputs
     differ (max |diff| > atol + rtol * max |Sentinel|): a wrong model is never timed;
  3. both are timed, each under `taskset -c CORES`, Sentinel with --threads N and
     OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = N, ONNX Runtime with intra_op_num_threads = N
     (inter_op 1), the same --seconds per row; the order of the two alternates from model to
     model so that a change in the machine's load does not always favour the same side.
     --no-spin makes idle worker threads sleep on both sides (OMP_WAIT_POLICY=PASSIVE,
     allow_spinning=0): spinning threads on cores other work also wants can cost an order of
     magnitude (bench/RESULTS.md).

The machine's load average is recorded before and after: on a shared machine, quote it with the
numbers. Run it through bench/cpu_compare.sh, which finds the build and the Python venv.

    bench/cpu_compare.sh --models seed-cnn,resnet50,mobilenetv2 --batches 1,8 --threads 2 --seconds 5
"""
import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from ort_cpu import cpu_model  # noqa: E402  (the machine line both JSON files carry)


def git_commit():
    try:
        head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], check=True,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "bench",
                                "runtime", "kernels", "graph", "loader", "include"],
                               capture_output=True, text=True).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def int_list(text, lo, hi, what):
    try:
        values = [int(v) for v in text.split(",") if v != ""]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what}: '{text}' is not a comma-separated list of integers")
    if not values or any(v < lo or v > hi for v in values):
        raise argparse.ArgumentTypeError(f"{what}: values must be in {lo}..{hi}: '{text}'")
    return values


def run(cmd, env=None, log=None):
    """Run a command, echoing it; exit with its output when it fails."""
    print("+ " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if log is not None:
        log.write(f"$ {' '.join(shlex.quote(c) for c in cmd)}\n{p.stdout}{p.stderr}\n")
    if p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        sys.exit(f"cpu_compare.py: failed (exit {p.returncode}): {' '.join(cmd)}")
    return p.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.environ.get("SENTINEL_BUILD", os.path.join(ROOT, "build")),
                    help="a Sentinel build folder with bin/ (default: $SENTINEL_BUILD, else build/)")
    ap.add_argument("--models", default="seed-cnn,resnet50,mobilenetv2",
                    help="zoo model names (default: seed-cnn,resnet50,mobilenetv2)")
    ap.add_argument("--batches", default="1,8", help="batch sizes (default: 1,8)")
    ap.add_argument("--threads", type=int, default=0,
                    help="threads on each side (default: every core this process may use)")
    ap.add_argument("--cores", default="",
                    help="CPU list for taskset, e.g. 0-3 (default: the first THREADS allowed cores)")
    ap.add_argument("--seconds", type=float, default=3.0, help="timed seconds per row (default 3)")
    ap.add_argument("--seed", type=int, default=0, help="zoo weight seed (default 0)")
    ap.add_argument("--no-spin", action="store_true",
                    help="idle worker threads sleep instead of spinning, on both sides: "
                         "OMP_WAIT_POLICY=PASSIVE for Sentinel, session.intra_op.allow_spinning=0 "
                         "for ONNX Runtime (fairer on a machine other work shares)")
    ap.add_argument("--atol", type=float, default=1e-4)
    ap.add_argument("--rtol", type=float, default=1e-3)
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "cpu-compare"),
                    help="output folder (default: build/cpu-compare)")
    args = ap.parse_args()
    batches = int_list(args.batches, 1, 1024, "--batches")
    models = [m for m in args.models.split(",") if m]
    if not models:
        ap.error("--models is empty")
    if not 0.01 <= args.seconds <= 3600:
        ap.error("--seconds must be in 0.01..3600")
    allowed = sorted(os.sched_getaffinity(0))
    threads = args.threads or len(allowed)
    if threads < 1 or threads > len(allowed):
        ap.error(f"--threads must be in 1..{len(allowed)} (the cores this process may use)")
    cores = args.cores or ",".join(str(c) for c in allowed[:threads])

    bin_dir = os.path.join(args.build, "bin")
    tools = {t: os.path.join(bin_dir, t) for t in ("sentinel-zoo", "sentinel-export", "sentinel-bench-cpu")}
    for t, path in tools.items():
        if not os.access(path, os.X_OK):
            sys.exit(f"cpu_compare.py: {path} not found: build it first "
                     f"(cmake --build {args.build} --target {t})")
    try:
        import numpy  # noqa: F401  (ort_cpu.py needs both; fail here, before minutes of work)
        import onnxruntime
    except ImportError as e:
        sys.exit(f"cpu_compare.py: {e.name} is not installed in {sys.executable}: "
                 "run bench/cpu_compare.sh, which uses the project's venv")

    out = os.path.abspath(args.out)
    model_dir, check_dir, raw_dir = (os.path.join(out, d) for d in ("models", "check", "raw"))
    for d in (model_dir, check_dir, raw_dir):
        os.makedirs(d, exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    if args.no_spin:
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    spin = ["--no-spin"] if args.no_spin else []
    pin = ["taskset", "-c", cores]
    blist = ",".join(str(b) for b in batches)
    load_before = os.getloadavg()
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    log = open(os.path.join(out, "commands.log"), "w")

    rows = []
    for k, m in enumerate(models):
        sgraph, onnx_path = os.path.join(model_dir, m + ".sgraph"), os.path.join(model_dir, m + ".onnx")
        run([tools["sentinel-zoo"], m, "-o", sgraph, "--seed", str(args.seed)], log=log)
        run([tools["sentinel-export"], sgraph, "-o", onnx_path, "--quiet"], log=log)
        # The check: Sentinel's inputs and first outputs (--dump), ...
        run(pin + [tools["sentinel-bench-cpu"], "--models", sgraph, "--batches", blist, "--threads",
                   str(threads), "--seconds", "0.01", "--dump", check_dir], env=env, log=log)
        sn_json, ort_json = os.path.join(raw_dir, m + ".sentinel.json"), os.path.join(raw_dir, m + ".ort.json")
        sn_cmd = pin + [tools["sentinel-bench-cpu"], "--models", sgraph, "--batches", blist,
                        "--threads", str(threads), "--seconds", str(args.seconds), "--json", sn_json]
        ort_check = pin + [sys.executable, os.path.join(HERE, "ort_cpu.py"), onnx_path, "--batches",
                           blist, "--threads", str(threads), "--check", check_dir, "--atol",
                           str(args.atol), "--rtol", str(args.rtol)]
        ort_cmd = ort_check + ["--seconds", str(args.seconds), "--json", ort_json] + spin
        # ONNX Runtime on Sentinel's dumped inputs, before either side is timed: exits unless the
        # outputs agree.
        run(ort_check + ["--check-only"], env=env, log=log)
        for cmd in ([ort_cmd, sn_cmd] if k % 2 == 0 else [sn_cmd, ort_cmd]):
            print(run(cmd, env=env, log=log), end="", flush=True)
        with open(sn_json) as f:
            sn = {r["batch"]: r for r in json.load(f)["results"]}
        with open(ort_json) as f:
            ort_doc = json.load(f)
            ort = {r["batch"]: r for r in ort_doc["results"]}
        for b in batches:
            s, o = sn[b], ort[b]
            rows.append({
                "model": m, "batch": b, "threads": threads,
                "sentinel_images_per_s": s["images_per_s"], "sentinel_p50_ms": s["p50_ms"],
                "sentinel_p99_ms": s["p99_ms"], "sentinel_threads": s["threads"],
                "ort_images_per_s": o["images_per_s"], "ort_p50_ms": o["p50_ms"], "ort_p99_ms": o["p99_ms"],
                "ratio_images_per_s": s["images_per_s"] / o["images_per_s"],
                "ratio_p50": s["p50_ms"] / o["p50_ms"],
                "max_abs_diff": o.get("max_abs_diff"), "max_abs_output": o.get("max_abs_ref"),
            })
    load_after = os.getloadavg()
    log.close()

    doc = {
        "tool": "cpu_compare.py", "date": started, "commit": git_commit(),
        "cpu": cpu_model(), "cores_online": os.cpu_count(), "cores_pinned": cores, "threads": threads,
        "kernel": platform.release(), "onnxruntime": onnxruntime.__version__,
        "ort_provider": "CPUExecutionProvider", "seconds_per_row": args.seconds,
        "idle_threads": "sleep (OMP_WAIT_POLICY=PASSIVE, allow_spinning=0)" if args.no_spin else "spin (defaults)",
        "load_average_before": load_before, "load_average_after": load_after,
        "command": " ".join(shlex.quote(a) for a in [os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]),
        "rows": rows,
    }
    with open(os.path.join(out, "compare.json.tmp"), "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(os.path.join(out, "compare.json.tmp"), os.path.join(out, "compare.json"))
    md = markdown(doc)
    with open(os.path.join(out, "compare.md"), "w") as f:
        f.write(md)
    print()
    print(md, end="")
    print(f"cpu_compare.py: wrote {out}/compare.json and compare.md")


def markdown(doc):
    la = lambda v: ", ".join(f"{x:.2f}" for x in v)  # noqa: E731
    lines = [
        f"Sentinel CPU backend vs ONNX Runtime {doc['onnxruntime']} (CPUExecutionProvider), "
        f"{doc['date']}, commit {doc['commit']}",
        "",
        f"Machine: {doc['cpu']}, {doc['cores_online']} cores online; both sides pinned to cores "
        f"{doc['cores_pinned']} with {doc['threads']} threads, idle threads {doc['idle_threads']}; "
        f"{doc['seconds_per_row']:g} s per row; "
        f"load average {la(doc['load_average_before'])} before, {la(doc['load_average_after'])} after.",
        f"Command: `{doc['command']}`",
        "",
        "| model | batch | threads | Sentinel images/s | ORT images/s | Sentinel/ORT | Sentinel p50 ms | "
        "ORT p50 ms | Sentinel p99 ms | ORT p99 ms | max abs diff |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in doc["rows"]:
        lines.append(
            f"| {r['model']} | {r['batch']} | {r['threads']} | {r['sentinel_images_per_s']:.1f} | "
            f"{r['ort_images_per_s']:.1f} | {r['ratio_images_per_s']:.2f}x | {r['sentinel_p50_ms']:.2f} | "
            f"{r['ort_p50_ms']:.2f} | {r['sentinel_p99_ms']:.2f} | {r['ort_p99_ms']:.2f} | "
            f"{r['max_abs_diff']:.1e} |")
    lines.append("")
    lines.append("Sentinel/ORT > 1: Sentinel serves more images per second. max abs diff: the largest "
                 "|Sentinel - ORT| over the checked outputs (logits), checked before timing.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
