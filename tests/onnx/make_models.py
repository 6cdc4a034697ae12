#!/usr/bin/env python3
"""Write the ONNX parity suite's models: for each case NAME, NAME.onnx, a random input
NAME.in.npy and ONNX Runtime's outputs NAME.out<k>.npy, plus manifest.txt (one line per case:
name, outputs, batch, relative tolerance) that tests/test_onnx_parity.c reads.

    make_models.py OUTDIR [--seed S] [--torch auto|yes|no] [--only SUBSTRING]

Run with the venv that scripts/setup-python-env.sh makes. The seed defaults to a fresh one,
printed so a failure can be replayed (SN_TEST_SEED in the environment fixes it too).
"""
import argparse
import os
import sys
import time

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import nets  # noqa: E402
import op_cases  # noqa: E402
import torch_models  # noqa: E402
from common import write_case  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--torch", choices=["auto", "yes", "no"], default="auto")
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    seed = a.seed
    if seed is None:
        env = os.environ.get("SN_TEST_SEED")
        seed = int(env, 0) if env else (int(time.time() * 1000) ^ os.getpid()) & 0xFFFFFFFF
    print(f"make_models: seed {seed} (set SN_TEST_SEED={seed} to replay)", flush=True)
    os.makedirs(a.outdir, exist_ok=True)
    manifest, notes = [], []
    t0 = time.time()
    builders = op_cases.cases(None) + nets.cases()
    for i, (name, build) in enumerate(builders):
        if a.only and a.only not in name:
            continue
        rng = np.random.default_rng([seed, i])
        model, x = build(rng)
        write_case(a.outdir, name, model, {model.graph.input[0].name: x}, manifest)
    why = torch_models.available() if a.torch != "no" else "disabled (--torch no)"
    if why and a.torch == "yes":
        sys.exit(f"make_models: --torch yes but {why}")
    if why:
        notes.append(f"torchvision models skipped: {why}")
    else:
        for i, (name, opset) in enumerate(torch_models.VARIANTS):
            case = f"torch_{name}" + ("" if opset == 13 else f"_op{opset}")
            if a.only and a.only not in case:
                continue
            model, x = torch_models.export(name, seed + i, opset=opset)
            write_case(a.outdir, case, model, {model.graph.input[0].name: x}, manifest)
    with open(os.path.join(a.outdir, "manifest.txt.tmp"), "w") as f:
        f.write(f"# seed {seed}\n")
        for n in notes:
            f.write(f"# note {n}\n")
        f.write("\n".join(manifest) + "\n")
    os.replace(os.path.join(a.outdir, "manifest.txt.tmp"), os.path.join(a.outdir, "manifest.txt"))
    print(f"make_models: {len(manifest)} cases in {time.time() - t0:.1f}s -> {a.outdir}")
    for n in notes:
        print(f"make_models: {n}")


if __name__ == "__main__":
    main()
