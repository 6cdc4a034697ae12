#!/usr/bin/env python3
"""torch_peer.py - PyTorch eager (cudnn.benchmark on) and, with --compile, torch.compile
(mode max-autotune by default) on the zoo's architectures, timed as bench/e2e/common.py says.

The networks are torchvision's resnet50 and mobilenet_v2 (and a three-layer module for
seed-cnn) with every parameter and BatchNorm statistic loaded from MODEL.raw.onnx, which
sentinel-export wrote from the same .sgraph as everyone else's model, with torchvision's
parameter names; a name or shape that does not match stops the script. Before timing, each
(model, precision) runs the reference input and is compared with the CPU reference output.

As a user who wants speed would run it: eval mode, inference_mode, channels_last memory format
on CUDA, fp16 by .half() (weights and activations), tf32 through torch.backends' allow_tf32 flags
(off for fp32). torch.compile compiles each batch size once (dynamic=False); its compile time is
the first call at that size.

    python3 torch_peer.py --model-dir DIR [--compile [MODE]] [common options]
    python3 torch_peer.py --model-dir DIR --device cpu --batches 1 --iters 2     (smoke test)
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def onnx_weights(path):
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path)
    return {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}


def seed_cnn_module(torch):
    nn = torch.nn

    class SeedCNN(nn.Module):
        """tools/zoo/seed_cnn.c: conv 3->16 k3 s4 p1, bias, relu; conv 16->32 k3 s4 p1, bias,
        relu; flatten; dense 6272->10."""

        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 16, 3, stride=4, padding=1)
            self.conv2 = nn.Conv2d(16, 32, 3, stride=4, padding=1)
            self.fc = nn.Linear(32 * 14 * 14, 10)

        def forward(self, x):
            x = torch.relu(self.conv1(x))
            x = torch.relu(self.conv2(x))
            return self.fc(torch.flatten(x, 1))

    return SeedCNN()


def build(torch, model, raw_onnx):
    """The torchvision network with the ONNX file's weights (exact names and shapes)."""
    w = onnx_weights(raw_onnx)
    if model == "seed-cnn":
        net = seed_cnn_module(torch)
        # the zoo's BiasAdd stores the conv bias as [C,1,1]
        rename = {"conv1.weight": "conv1.weight", "conv1.bias": "conv1.bias_add.bias/bcast_0",
                  "conv2.weight": "conv2.weight", "conv2.bias": "conv2.bias_add.bias/bcast_1",
                  "fc.weight": "fc.weight", "fc.bias": "fc.bias"}
    else:
        import torchvision
        ctor = {"resnet50": torchvision.models.resnet50,
                "mobilenetv2": torchvision.models.mobilenet_v2}.get(model)
        if ctor is None:
            common.fail(f"no torchvision network for '{model}'")
        net = ctor(weights=None)
        rename = {k: k for k in net.state_dict()}
    sd = net.state_dict()
    new = {}
    for k, v in sd.items():
        if k.endswith("num_batches_tracked"):
            new[k] = v
            continue
        src = rename.get(k)
        if src not in w:
            common.fail(f"{raw_onnx}: no initializer '{src}' for parameter '{k}'")
        t = torch.from_numpy(w[src].copy())
        if t.numel() != v.numel():
            common.fail(f"{raw_onnx}: '{src}' has shape {tuple(t.shape)}, '{k}' needs {tuple(v.shape)}")
        new[k] = t.reshape(v.shape)
    net.load_state_dict(new, strict=True)
    return net.eval()


def main():
    ap = common.parser(__doc__.split("\n\n")[0])
    ap.add_argument("--compile", nargs="?", const="max-autotune", default=None, metavar="MODE",
                    help="time torch.compile(model, mode=MODE) (default mode: max-autotune)")
    ap.add_argument("--no-channels-last", action="store_true",
                    help="keep NCHW memory format on CUDA (default: channels_last)")
    args = common.finish_args(ap, ap.parse_args())
    system = "torch-compile" if args.compile else "pytorch-eager"
    t_import = time.perf_counter()
    try:
        import numpy as np
        import torch
    except ImportError as e:
        common.skip_all(args, system, f"skipped: {e.name} is not installed")
        return
    import_s = time.perf_counter() - t_import
    cuda = args.device == "cuda"
    if cuda and not torch.cuda.is_available():
        common.skip_all(args, system, "skipped: torch.cuda.is_available() is False")
        return
    if args.compile and not hasattr(torch, "compile"):
        common.skip_all(args, system, f"skipped: torch {torch.__version__} has no torch.compile")
        return
    dev = torch.device(args.device)
    torch.backends.cudnn.benchmark = True
    gpu = torch.cuda.get_device_name(0) if cuda else "cpu"
    version = f"torch {torch.__version__}"
    nvml = common.Nvml() if cuda else None
    channels_last = cuda and not args.no_channels_last
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    mean = torch.tensor(common.MEAN, device=dev).view(1, 3, 1, 1)
    std = torch.tensor(common.STD, device=dev).view(1, 3, 1, 1)
    lo = (common.U8_SIDE - common.CROP) // 2

    for (model, prec), runs in common.grouped(args):
        base = dict(system=system, model=model, precision=prec, device=gpu, version=version)
        reason = common.group_skip_reason(args, prec)
        if reason:
            common.skip_runs(args, system, model, prec, runs, reason)
            continue
        torch.backends.cuda.matmul.allow_tf32 = prec == "tf32"
        torch.backends.cudnn.allow_tf32 = prec == "tf32"
        dtype = torch.float16 if prec == "fp16" else torch.float32
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        try:
            t0 = time.perf_counter()
            net = build(torch, model, os.path.join(args.model_dir, model + ".raw.onnx"))
            net = net.to(device=dev, dtype=dtype, memory_format=fmt)
            fn = torch.compile(net, mode=args.compile, dynamic=False) if args.compile else net

            def run_ref(x):
                x = torch.from_numpy(x).to(dev, dtype).contiguous(memory_format=fmt)
                return fn(x).float().cpu().numpy()
            with torch.inference_mode():
                rel, first_s, note = common.check_reference(args, model, prec, run_ref, t0)
        except Exception as e:  # a mismatch or a framework failure ends this group, not the run
            common.fail_runs(args, base, runs, e)
            continue

        for mode, b in runs:
            if common.out_of_budget(args):
                common.skip(args, system, model, prec, mode, b, "skipped: out of time budget")
                continue
            row = dict(base, mode=mode, batch=b, max_rel_diff=rel, first_result_s=first_s,
                       import_s=import_s, channels_last=channels_last, note=note)
            try:
                with torch.inference_mode():
                    if mode == "device":
                        x = torch.randn(b, 3, 224, 224, device=dev).to(dtype).contiguous(memory_format=fmt)
                        step = lambda: fn(x)  # noqa: E731
                    elif mode == "host":
                        hx = torch.randn(b, 3, 224, 224)
                        hx = hx.pin_memory() if cuda else hx

                        def step():
                            xd = hx.to(dev, non_blocking=True).to(dtype).contiguous(memory_format=fmt)
                            return fn(xd).float().cpu()
                    else:
                        hu = torch.from_numpy(common.u8_images(b))
                        hu = hu.pin_memory() if cuda else hu

                        def step():
                            u = hu.to(dev, non_blocking=True)[:, lo:lo + common.CROP, lo:lo + common.CROP]
                            xd = ((u.permute(0, 3, 1, 2).float() / 255.0 - mean) / std)
                            return fn(xd.to(dtype).contiguous(memory_format=fmt)).float().cpu()
                    if cuda:
                        torch.cuda.reset_peak_memory_stats()
                    tc = time.perf_counter()
                    step()
                    sync()
                    if args.compile:
                        row["compile_s"] = time.perf_counter() - tc
                    row.update(common.measure(args, step, sync, b, nvml))
                    if cuda:
                        row["peak_mem_bytes"] = torch.cuda.max_memory_allocated()
                    row["h2d_per_batch"] = 0 if mode == "device" else 1
            except Exception as e:
                row["error"] = f"{type(e).__name__}: {e}"[:500]
            common.emit(args, row)
        del fn, net
        if cuda:
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
