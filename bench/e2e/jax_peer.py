#!/usr/bin/env python3
"""jax_peer.py - JAX jit (XLA) on the zoo's architectures, timed as bench/e2e/common.py says.

No Flax: the network is MODEL.onnx (sentinel-export: BatchNorm folded into the convolutions, the
same weights as everyone else) written out op by op in jax.lax / jax.numpy by a small
interpreter that runs while jax.jit traces, so XLA sees one straight-line program of
convolutions, pools, adds, activations and a dense layer - what a hand-written JAX model of
resnet50, mobilenetv2 or seed-cnn compiles to. Activations are NHWC (the layout XLA's GPU
convolutions prefer; the NCHW input is transposed inside the jitted function), weights HWIO.
Before timing, each (model, precision) runs the reference input and is compared with the CPU
reference output.

Precisions: fp32 = lax.Precision.HIGHEST on every convolution and dot; tf32 = DEFAULT (XLA uses
TF32 for f32 on Ampere and later); fp16 = float16 weights and activations. jit compiles each
batch size once; its compile time is the first call at that size.

    python3 jax_peer.py --model-dir DIR [common options]
    python3 jax_peer.py --model-dir DIR --device cpu --batches 1 --iters 2     (smoke test)
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def attrs(node):
    from onnx import helper
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


class OnnxProgram:
    """MODEL.onnx as parameters (a dict of arrays, HWIO for convolution filters) and a function
    of (params, x) that jax.jit can trace."""

    def __init__(self, path, np):
        import onnx
        from onnx import numpy_helper
        m = onnx.load(path)
        g = m.graph
        self.inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
        self.nodes = list(g.node)
        self.input = g.input[0].name
        self.outputs = [o.name for o in g.output]
        if len([i for i in g.input if i.name not in self.inits]) != 1:
            raise ValueError(f"{path}: one graph input expected")
        self.params = {}
        for n in self.nodes:
            if n.op_type == "Conv":
                w = n.input[1]
                self.params[w] = np.ascontiguousarray(self.inits[w].transpose(2, 3, 1, 0))  # OIHW->HWIO
                if len(n.input) > 2 and n.input[2]:
                    self.params[n.input[2]] = self.inits[n.input[2]]
            elif n.op_type in ("Gemm", "BatchNormalization", "Add", "Mul", "Sub"):
                for t in n.input[1:]:
                    if t in self.inits:
                        self.params[t] = self.inits[t]
            elif n.op_type not in ("Relu", "Clip", "MaxPool", "GlobalAveragePool", "Flatten",
                                   "AveragePool", "Sigmoid", "HardSigmoid", "HardSwish"):
                raise ValueError(f"{path}: op {n.op_type} (node '{n.name}') is not implemented here")

    def scalar(self, name, default):
        return float(self.inits[name]) if name and name in self.inits else default

    def forward(self, params, x, precision, dtype, nhwc_input=False):
        import jax.numpy as jnp
        from jax import lax
        env = {self.input: x.astype(dtype) if nhwc_input else jnp.transpose(x, (0, 2, 3, 1)).astype(dtype)}

        def val(name):
            if name in env:
                return env[name]
            a = params[name]
            return a

        def bcast_c(a):  # an NCHW-broadcastable constant [C,1,1] or [C] -> NHWC [C]
            return a.reshape(-1) if a.ndim >= 1 and a.size == a.shape[0] else a

        for n in self.nodes:
            op, at = n.op_type, attrs(n)
            if op == "Conv":
                xin = val(n.input[0])
                w = params[n.input[1]]
                pads = at.get("pads", [0, 0, 0, 0])
                y = lax.conv_general_dilated(
                    xin, w, window_strides=tuple(at.get("strides", [1, 1])),
                    padding=((pads[0], pads[2]), (pads[1], pads[3])),
                    rhs_dilation=tuple(at.get("dilations", [1, 1])),
                    dimension_numbers=("NHWC", "HWIO", "NHWC"),
                    feature_group_count=at.get("group", 1), precision=precision)
                if len(n.input) > 2 and n.input[2]:
                    y = y + params[n.input[2]]
            elif op == "Relu":
                y = jnp.maximum(val(n.input[0]), 0)
            elif op == "Clip":
                lo = self.scalar(n.input[1] if len(n.input) > 1 else "", at.get("min", -float("inf")))
                hi = self.scalar(n.input[2] if len(n.input) > 2 else "", at.get("max", float("inf")))
                y = jnp.clip(val(n.input[0]), lo, hi)
            elif op in ("Add", "Mul", "Sub"):
                a, b = val(n.input[0]), val(n.input[1])
                if n.input[1] in params and a.ndim == 4:
                    b = bcast_c(b)
                f = {"Add": jnp.add, "Mul": jnp.multiply, "Sub": jnp.subtract}[op]
                y = f(a, b)
            elif op == "BatchNormalization":
                xin = val(n.input[0])
                s, b, mu, var = (params[t] for t in n.input[1:5])
                scale = s / jnp.sqrt(var + at.get("epsilon", 1e-5))
                y = xin * scale.astype(xin.dtype) + (b - mu * scale).astype(xin.dtype)
            elif op in ("MaxPool", "AveragePool"):
                xin = val(n.input[0])
                kh, kw = at["kernel_shape"]
                sh, sw = at.get("strides", [1, 1])
                pads = at.get("pads", [0, 0, 0, 0])
                if at.get("ceil_mode", 0):
                    h, w_ = xin.shape[1], xin.shape[2]
                    for ax, (size, k, st) in enumerate(((h, kh, sh), (w_, kw, sw))):
                        total = size + pads[ax] + pads[ax + 2] - k
                        extra = (-total) % st
                        pads = list(pads)
                        pads[ax + 2] += extra
                padding = ((0, 0), (pads[0], pads[2]), (pads[1], pads[3]), (0, 0))
                if op == "MaxPool":
                    y = lax.reduce_window(xin, -jnp.inf, lax.max, (1, kh, kw, 1), (1, sh, sw, 1), padding)
                else:
                    y = lax.reduce_window(xin, 0.0, lax.add, (1, kh, kw, 1), (1, sh, sw, 1), padding)
                    if at.get("count_include_pad", 0):
                        y = y / (kh * kw)
                    else:
                        ones = jnp.ones(xin.shape[:3] + (1,), xin.dtype)
                        y = y / lax.reduce_window(ones, 0.0, lax.add, (1, kh, kw, 1), (1, sh, sw, 1), padding)
            elif op == "GlobalAveragePool":
                y = jnp.mean(val(n.input[0]), axis=(1, 2), keepdims=True)
            elif op == "Flatten":
                xin = val(n.input[0])
                if xin.ndim == 4:  # back to NCHW order first: flattening must match ONNX's
                    xin = jnp.transpose(xin, (0, 3, 1, 2))
                y = xin.reshape(xin.shape[0], -1)
            elif op == "Gemm":
                a, b = val(n.input[0]), params[n.input[1]]
                if at.get("transA", 0):
                    a = a.T
                b = b.T if at.get("transB", 0) else b
                y = at.get("alpha", 1.0) * jnp.dot(a, b.astype(a.dtype), precision=precision)
                if len(n.input) > 2 and n.input[2]:
                    y = y + at.get("beta", 1.0) * params[n.input[2]].astype(a.dtype)
            elif op == "Sigmoid":
                y = 1 / (1 + jnp.exp(-val(n.input[0])))
            elif op == "HardSigmoid":
                y = jnp.clip(val(n.input[0]) * at.get("alpha", 0.2) + at.get("beta", 0.5), 0, 1)
            elif op == "HardSwish":
                xin = val(n.input[0])
                y = xin * jnp.clip(xin / 6 + 0.5, 0, 1)
            else:
                raise ValueError(f"op {op} is not implemented")
            env[n.output[0]] = y
        return env[self.outputs[0]].astype(jnp.float32)


def main():
    ap = common.parser(__doc__.split("\n\n")[0])
    args = common.finish_args(ap, ap.parse_args())
    system = "jax-xla"
    try:
        import numpy as np
        import jax
        import jax.numpy as jnp
        from jax import lax
    except ImportError as e:
        common.skip_all(args, system, f"skipped: {e.name} is not installed")
        return
    try:
        dev = jax.devices("gpu" if args.device == "cuda" else "cpu")[0]
    except RuntimeError as e:
        common.skip_all(args, system, f"skipped: no JAX {args.device} device ({e})"[:300])
        return
    cuda = args.device == "cuda"
    version = f"jax {jax.__version__}"
    name = getattr(dev, "device_kind", str(dev))
    nvml = common.Nvml() if cuda else None
    lo = (common.U8_SIDE - common.CROP) // 2
    mean = np.array(common.MEAN, np.float32)
    std = np.array(common.STD, np.float32)

    for (model, prec), runs in common.grouped(args):
        base = dict(system=system, model=model, precision=prec, device=name, version=version)
        reason = common.group_skip_reason(args, prec)
        if reason:
            common.skip_runs(args, system, model, prec, runs, reason)
            continue
        precision = lax.Precision.HIGHEST if prec == "fp32" else lax.Precision.DEFAULT
        dtype = jnp.float16 if prec == "fp16" else jnp.float32
        try:
            t0 = time.perf_counter()
            prog = OnnxProgram(os.path.join(args.model_dir, model + ".onnx"), np)
            params = {k: jax.device_put(v.astype(np.float16) if prec == "fp16" and v.dtype == np.float32 else v, dev)
                      for k, v in prog.params.items()}
            fwd = jax.jit(lambda p, x: prog.forward(p, x, precision, dtype))

            def pre_fwd(p, u):  # u8 NHWC 256x256 -> crop, normalise, network
                x = (u[:, lo:lo + common.CROP, lo:lo + common.CROP, :].astype(jnp.float32) / 255.0 - mean) / std
                return prog.forward(p, x, precision, dtype, nhwc_input=True)
            fwd_u8 = jax.jit(pre_fwd)
            rel, first_s, note = common.check_reference(
                args, model, prec, lambda x: np.asarray(fwd(params, jax.device_put(x, dev))), t0)
        except Exception as e:  # a mismatch or a framework failure ends this group, not the run
            common.fail_runs(args, base, runs, e)
            continue

        for mode, b in runs:
            if common.out_of_budget(args):
                common.skip(args, system, model, prec, mode, b, "skipped: out of time budget")
                continue
            row = dict(base, mode=mode, batch=b, max_rel_diff=rel, first_result_s=first_s, note=note)
            try:
                last = [None]
                if mode == "device":
                    x = jax.device_put(np.random.default_rng(b).standard_normal((b, 3, 224, 224), np.float32), dev)

                    def step():
                        last[0] = fwd(params, x)
                    sync = lambda: last[0].block_until_ready()  # noqa: E731
                elif mode == "host":
                    hx = np.random.default_rng(b).standard_normal((b, 3, 224, 224), np.float32)

                    def step():
                        last[0] = np.asarray(fwd(params, jax.device_put(hx, dev)))
                    sync = lambda: None  # noqa: E731  (np.asarray waited)
                    row["note"] = "host memory not pinned (numpy arrays)"
                else:
                    hu = common.u8_images(b)

                    def step():
                        last[0] = np.asarray(fwd_u8(params, jax.device_put(hu, dev)))
                    sync = lambda: None  # noqa: E731
                    row["note"] = "host memory not pinned (numpy arrays)"
                tc = time.perf_counter()
                step()
                sync()
                row["compile_s"] = time.perf_counter() - tc
                row.update(common.measure(args, step, sync, b, nvml))
                stats = dev.memory_stats() if hasattr(dev, "memory_stats") else None
                if stats and "peak_bytes_in_use" in stats:
                    row["peak_mem_bytes"] = stats["peak_bytes_in_use"]  # process peak so far
                row["h2d_per_batch"] = 0 if mode == "device" else 1
            except Exception as e:
                row["error"] = f"{type(e).__name__}: {e}"[:500]
            common.emit(args, row)
        del fwd, fwd_u8, params


if __name__ == "__main__":
    main()
