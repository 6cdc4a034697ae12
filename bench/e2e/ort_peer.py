#!/usr/bin/env python3
"""ort_peer.py - ONNX Runtime with the best execution provider it has (TensorRT, else CUDA, else
CPU: every row says which), on MODEL.onnx as sentinel-export wrote it (the same weights as every
other system), timed as bench/e2e/common.py says.

Providers and precisions:
  TensorRT  fp32 (trt_fp16_enable off), fp16 (on); tf32 is TensorRT's own choice, not timed;
            the engine build (slow: TensorRT tunes it) is the first call, reported as compile_s;
  CUDA      fp32 (use_tf32 0), tf32 (use_tf32 1); fp16 would need a float16 copy of the model,
            which this script does not make: skipped with a note;
  CPU       fp32 only, and only batches up to --cpu-max-batch (a GPU run's budget is not spent on
            a CPU provider).
Device mode binds inputs and outputs to device memory with IOBinding (CUDA and TensorRT);
host mode runs session.run on host arrays; u8 mode is not available (ONNX Runtime would need the
preprocessing in the graph): skipped with a note. Before timing, each (model, precision) runs the
reference input and is compared with the CPU reference output.

    python3 ort_peer.py --model-dir DIR [--providers LIST] [common options]
    python3 ort_peer.py --model-dir DIR --device cpu --batches 1 --iters 2     (smoke test)
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

PREFERENCE = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")
SHORT = {"TensorrtExecutionProvider": "tensorrt", "CUDAExecutionProvider": "cuda",
         "CPUExecutionProvider": "cpu"}


def session_for(ort, path, provider, prec, cache_dir):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    if provider == "TensorrtExecutionProvider":
        opts = {"trt_fp16_enable": prec == "fp16", "trt_engine_cache_enable": False,
                "trt_max_workspace_size": 8 << 30}
        provs = [(provider, opts), ("CUDAExecutionProvider", {"use_tf32": 0})]
    elif provider == "CUDAExecutionProvider":
        provs = [(provider, {"use_tf32": int(prec == "tf32"), "cudnn_conv_algo_search": "EXHAUSTIVE"})]
    else:
        provs = [provider]
    return ort.InferenceSession(path, so, providers=provs)


def main():
    ap = common.parser(__doc__.split("\n\n")[0])
    ap.add_argument("--providers", default=",".join(PREFERENCE),
                    help="providers in order of preference; the first available is used")
    ap.add_argument("--cpu-max-batch", type=int, default=8,
                    help="with the CPU provider on a GPU run, larger batches are skipped (default 8)")
    args = common.finish_args(ap, ap.parse_args())
    system = "onnxruntime"
    try:
        import numpy as np
        import onnxruntime as ort
    except ImportError as e:
        common.skip_all(args, system, f"skipped: {e.name} is not installed")
        return
    available = ort.get_available_providers()
    wanted = [p for p in args.providers.split(",") if p]
    if args.device == "cpu":
        wanted = ["CPUExecutionProvider"]
    provider = next((p for p in wanted if p in available), None)
    version = f"onnxruntime {ort.__version__}"
    if provider is None:
        common.skip_all(args, system, f"skipped: none of {wanted} available (has {available})")
        return
    on_gpu = provider != "CPUExecutionProvider"
    gpu_run = args.device == "cuda"
    nvml = common.Nvml() if gpu_run else None
    short = SHORT.get(provider, provider)
    why_not_better = "" if provider == wanted[0] else f"; {wanted[0]} not available (has {', '.join(available)})"

    for (model, prec), runs in common.grouped(args):
        base = dict(system=system, model=model, precision=prec, provider=short, version=version,
                    device=provider)
        note = None
        reason = None
        if prec == "fp16" and provider != "TensorrtExecutionProvider":
            reason = f"skipped: fp16 needs a float16 model or TensorRT; provider is {short}"
        elif prec == "tf32" and provider != "CUDAExecutionProvider":
            reason = f"skipped: tf32 is a CUDA provider option; provider is {short}"
        elif common.out_of_budget(args):
            reason = "skipped: out of time budget"
        if reason:
            common.skip_runs(args, system, model, prec, runs, reason + why_not_better, provider=short)
            continue
        try:
            t0 = time.perf_counter()
            sess = session_for(ort, os.path.join(args.model_dir, model + ".onnx"), provider, prec, None)
            active = sess.get_providers()[0]
            if active != provider:
                note = f"asked for {provider}, session uses {active}"
            iname, oname = sess.get_inputs()[0].name, sess.get_outputs()[0].name
            rel, first_s, unchecked = common.check_reference(
                args, model, prec, lambda x: sess.run([oname], {iname: x})[0], t0)
            note = "; ".join(n for n in (note, unchecked) if n) or None
        except Exception as e:  # a mismatch or a framework failure ends this group, not the run
            common.fail_runs(args, base, runs, e)
            continue

        for mode, b in runs:
            row = dict(base, mode=mode, batch=b, max_rel_diff=rel, first_result_s=first_s,
                       note=(note or "") + why_not_better or None)
            if mode == "u8":
                common.skip(args, system, model, prec, mode, b,
                            "skipped: preprocessing is not part of the ONNX graph", provider=short)
                continue
            if gpu_run and not on_gpu and b > args.cpu_max_batch:
                common.skip(args, system, model, prec, mode, b,
                            f"skipped: CPU provider on a GPU run, batch over {args.cpu_max_batch}"
                            + why_not_better, provider=short)
                continue
            if common.out_of_budget(args):
                common.skip(args, system, model, prec, mode, b, "skipped: out of time budget", provider=short)
                continue
            try:
                hx = np.random.default_rng(b).standard_normal((b, 3, 224, 224), np.float32)
                if mode == "device" and on_gpu:
                    xv = ort.OrtValue.ortvalue_from_numpy(hx, "cuda", 0)
                    binding = sess.io_binding()
                    binding.bind_ortvalue_input(iname, xv)
                    binding.bind_output(oname, "cuda", 0)

                    def step():
                        sess.run_with_iobinding(binding)
                    sync = binding.synchronize_outputs
                else:
                    if mode == "device":
                        row["note"] = ((row["note"] or "") + "; CPU provider: inputs in host memory").lstrip("; ")

                    def step():
                        sess.run([oname], {iname: hx})
                    sync = lambda: None  # noqa: E731
                tc = time.perf_counter()
                step()
                sync()
                row["compile_s"] = time.perf_counter() - tc
                row.update(common.measure(args, step, sync, b, nvml))
                row["h2d_per_batch"] = 0 if (mode == "device" and on_gpu) else (1 if on_gpu else 0)
            except Exception as e:
                row["error"] = f"{type(e).__name__}: {e}"[:500]
            common.emit(args, row)
        del sess


if __name__ == "__main__":
    main()
