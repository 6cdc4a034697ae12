#!/usr/bin/env python3
"""report.py - turn one end-to-end run's raw results into OUTDIR/results.json, results.md and
chart.png.

Reads WORKDIR/raw/*.jsonl (one JSON row per line, as bench/e2e/common.py and e2e_sentinel write
them), WORKDIR/kernels.json (sentinel-bench kernels, when it ran) and WORKDIR/env.json (what
run_all.sh learned about the machine). Writes into OUTDIR:
  results.json  {"env": ..., "rows": [...], "kernels": ...}
  results.md    the issue's targets and the distance to each; images/s per model, precision and
                batch with the ratio Sentinel/peer for every peer; batch-1 latency; cold start
                and compile times; memory, uploads per batch and GPU utilisation; the naive loop
                against the batched pipeline; the slowest kernels by percent of roofline; every
                row that was skipped or failed, with the reason
  chart.png     images/s by batch size for each system (device mode), one panel per model and
                precision; left out, with a note in results.md, when matplotlib is missing

    python3 report.py WORKDIR [OUTDIR]      (OUTDIR defaults to WORKDIR)
"""
import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402  (the tolerances the protocol line quotes)

SYSTEMS = ["sentinel", "pytorch-eager", "torch-compile", "jax-xla", "onnxruntime"]
LABEL = {"sentinel": "Sentinel", "pytorch-eager": "PyTorch eager", "torch-compile": "torch.compile",
         "jax-xla": "JAX/XLA", "onnxruntime": "ONNX Runtime", "sentinel-naive": "Sentinel, naive loop",
         "sentinel-batched": "Sentinel, batched+fused"}
PEERS = SYSTEMS[1:]


def load_rows(outdir):
    rows = []
    for path in sorted(glob.glob(os.path.join(outdir, "raw", "*.jsonl"))):
        with open(path) as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    print(f"report.py: {path}:{n}: not JSON, ignored", file=sys.stderr)
    return rows


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError):
        return None


def timed(r):
    return r.get("images_per_s") is not None and not r.get("error")


def fmt(v, digits=1):
    if v is None:
        return "-"
    if isinstance(v, float) and v >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.2f}x"


def index(rows):
    """(system, model, precision, mode, batch) -> the row (the last one wins)."""
    return {(r.get("system"), r.get("model"), r.get("precision"), r.get("mode"), r.get("batch")): r
            for r in rows}


def ips(ix, system, model, prec, mode, batch):
    r = ix.get((system, model, prec, mode, batch))
    return r["images_per_s"] if r and timed(r) else None


def throughput_table(ix, rows, mode):
    keys = sorted({(r["model"], r["precision"], r["batch"]) for r in rows
                   if r.get("mode") == mode and r.get("system") in SYSTEMS},
                  key=lambda k: (k[0], ["fp16", "fp32", "tf32"].index(k[1]) if k[1] in ("fp16", "fp32", "tf32") else 9, k[2]))
    if not keys:
        return []
    present = [s for s in PEERS if any(r.get("system") == s and r.get("mode") == mode for r in rows)]
    head = "| model | precision | batch | Sentinel images/s |" + "".join(
        f" {LABEL[s]} | Sentinel/{LABEL[s]} |" for s in present)
    out = [head, "|" + " --- |" * 3 + " ---: |" + " ---: | ---: |" * len(present)]
    for m, p, b in keys:
        s = ips(ix, "sentinel", m, p, mode, b)
        cells = [f"| {m} | {p} | {b} | {fmt(s)} |"]
        for peer in present:
            v = ips(ix, peer, m, p, mode, b)
            cells.append(f" {fmt(v)} | {ratio(s, v)} |")
        out.append("".join(cells))
    return out


def targets(ix, rows, kernels):
    out = ["| target (issue 8 / issue 4) | measured | distance |", "| --- | --- | --- |"]

    def row(name, measured, distance):
        out.append(f"| {name} | {measured} | {distance} |")

    s = ips(ix, "sentinel", "resnet50", "fp16", "u8", 128)
    for peer in ("torch-compile", "jax-xla"):
        p = ips(ix, peer, "resnet50", "fp16", "u8", 128)
        row(f"resnet50 fp16 batch 128 from 8-bit pinned images, >= 1.5x {LABEL[peer]}",
            f"Sentinel {fmt(s)} vs {fmt(p)} images/s", ratio(s, p) + " (goal 1.50x)" if s and p else "not measured")
    row("resnet50 fp16 batch 128, 8-bit images: 50,000 images/s", f"{fmt(s)} images/s",
        f"{s / 50000:.0%} of the goal" if s else "not measured")
    lat = ix.get(("sentinel", "resnet50", "fp16", "device", 1))
    p50 = lat.get("p50_ms") if lat and timed(lat) else None
    row("resnet50 fp16 batch 1 latency <= 0.35 ms (device buffers)", f"p50 {fmt(p50, 3)} ms",
        f"{p50 / 0.35:.2f}x the goal" if p50 else "not measured")
    cold = [r for r in rows if r.get("system") == "sentinel" and r.get("mode") == "cold-start"
            and r.get("model") == "resnet50" and "cache empty" in (r.get("note") or "")]
    c = cold[0].get("first_result_s") if cold and not cold[0].get("error") else None
    row("resnet50 cold start to first result <= 2 s, empty kernel cache", f"{fmt(c, 2)} s",
        f"{c / 2:.2f}x the goal" if c else "not measured")
    if kernels and kernels.get("rows"):
        mem = [k for k in kernels["rows"] if k.get("bound") == "memory" and k.get("pct_roofline") is not None]
        if mem:
            at = sum(1 for k in mem if k["pct_roofline"] >= 85)
            worst = min(mem, key=lambda k: k["pct_roofline"])
            row("memory-bound kernels >= 85% of the measured copy bandwidth",
                f"{at} of {len(mem)} rows", f"worst {worst['pct_roofline']:.0f}% ({worst['name']}, batch {worst['batch']})")
    for m in ("resnet50", "mobilenetv2"):
        s2, e = ips(ix, "sentinel", m, "fp16", "device", 128), ips(ix, "pytorch-eager", m, "fp16", "device", 128)
        row(f"issue 4: {m} fp16 batch 128 >= PyTorch eager", f"{fmt(s2)} vs {fmt(e)} images/s",
            ratio(s2, e) + " (goal 1.00x)" if s2 and e else "not measured")
    return out


def latency_table(rows):
    sel = [r for r in rows if r.get("batch") == 1 and r.get("mode") == "device" and timed(r)
           and r.get("system") in SYSTEMS]
    if not sel:
        return []
    out = ["| model | precision | system | p50 ms | p99 ms |", "| --- | --- | --- | ---: | ---: |"]
    for r in sorted(sel, key=lambda r: (r["model"], r["precision"], SYSTEMS.index(r["system"]))):
        out.append(f"| {r['model']} | {r['precision']} | {LABEL[r['system']]} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} |")
    return out


def startup_table(rows):
    out = ["| system | model | precision | what | seconds |", "| --- | --- | --- | --- | ---: |"]
    n = 0
    for r in rows:
        if r.get("mode") == "cold-start":
            nt = r.get("note") or ""
            what = "process start to first result, " + ("kernel cache empty" if "cache empty" in nt else
                                                        "kernel cache warm" if "cache warm" in nt else "no kernel cache")
            if r.get("error"):
                out.append(f"| {LABEL.get(r['system'], r['system'])} | {r['model']} | {r['precision']} | {what} | error: {r['error'][:80]} |")
            else:
                out.append(f"| {LABEL.get(r['system'], r['system'])} | {r['model']} | {r['precision']} | {what} "
                           f"(engine build {fmt(r.get('build_s'), 2)} s) | {fmt(r.get('first_result_s'), 2)} |")
            n += 1
    seen = set()
    for r in rows:
        k = (r.get("system"), r.get("model"), r.get("precision"))
        if r.get("system") in PEERS and r.get("first_result_s") is not None and k not in seen:
            seen.add(k)
            out.append(f"| {LABEL[r['system']]} | {r['model']} | {r['precision']} | model build to first result "
                       f"(batch 4, after imports) | {r['first_result_s']:.2f} |")
            n += 1
        if r.get("system") in ("torch-compile", "jax-xla", "onnxruntime") and r.get("compile_s") is not None \
                and r.get("batch") in (1, 128) and r.get("mode") == "device":
            out.append(f"| {LABEL[r['system']]} | {r['model']} | {r['precision']} | first call at batch "
                       f"{r['batch']} (compile / autotune / engine build) | {r['compile_s']:.2f} |")
            n += 1
    return out if n else []


def resources_table(rows):
    sel = [r for r in rows if timed(r) and r.get("batch") in (1, 128) and r.get("system") in SYSTEMS]
    if not sel:
        return []
    out = ["| system | model | precision | mode | batch | peak memory MiB | device memory in use MiB (NVML) | "
           "GPU util % | H2D copies / batch | H2D MiB / batch |",
           "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    mib = lambda v: f"{v / 2**20:,.0f}" if v is not None else "-"  # noqa: E731
    for r in sorted(sel, key=lambda r: (r["model"], r["precision"], r["mode"], r["batch"], SYSTEMS.index(r["system"]))):
        out.append(f"| {LABEL[r['system']]} | {r['model']} | {r['precision']} | {r['mode']} | {r['batch']} | "
                   f"{mib(r.get('peak_mem_bytes'))} | {mib(r.get('nvml_used_bytes'))} | {fmt(r.get('gpu_util_pct'), 0)} | "
                   f"{fmt(r.get('h2d_per_batch'), 2)} | {mib(r.get('h2d_bytes_per_batch')) if r.get('h2d_bytes_per_batch') is not None else '-'} |")
    return out


def naive_table(rows):
    sel = [r for r in rows if r.get("system") in ("sentinel-naive", "sentinel-batched")]
    if not sel:
        return []
    out = ["| model | precision | pipeline | batch | images/s | p50 ms per call |", "| --- | --- | --- | ---: | ---: | ---: |"]
    for r in sel:
        out.append(f"| {r['model']} | {r['precision']} | {LABEL[r['system']]} | {r['batch']} | "
                   f"{fmt(r.get('images_per_s'))} | {fmt(r.get('p50_ms'), 3)} |" + (f" error: {r['error'][:80]}" if r.get("error") else ""))
    by = {(r["model"], r["precision"], r["system"]): r for r in sel if timed(r)}
    for (m, p, s), r in by.items():
        if s == "sentinel-batched" and (m, p, "sentinel-naive") in by:
            out.append(f"\n{m} {p}: batched and fused / naive loop = "
                       f"{r['images_per_s'] / by[(m, p, 'sentinel-naive')]['images_per_s']:.1f}x")
    return out


def kernel_section(k):
    if not k:
        return ["sentinel-bench kernels did not run (see the run log)."]
    out = []
    roof = k.get("roofline", {})
    if roof:
        out.append("Roofline measured in the same run: " + "; ".join(
            f"{name} {v:,.0f} {'GB/s' if name == 'copy' else 'TFLOP/s'}" for name, v in roof.items() if v))
        out.append("")
    rows = [r for r in k.get("rows", []) if r.get("pct_roofline") is not None]
    if rows:
        rows.sort(key=lambda r: r["pct_roofline"])
        # at batch 1 most kernels are a few microseconds, bound by launch and tail effects: the
        # list that says where the kernels themselves fall short is the one at large batches
        big = [r for r in rows if r["batch"] >= 32] or rows
        out += [f"Slowest kernels by percent of roofline, batch {'32 and over' if big is not rows else 'any'} "
                "(all rows: kernels.json in logs.tar.gz):", "",
                "| kernel | family | precision | batch | time us | GB/s | TFLOP/s | % roofline | bound | vs cuDNN/cuBLAS |",
                "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |"]
        for r in big[:15]:
            out.append(f"| {r['name']} | {r['family']} | {r['precision']} | {r['batch']} | {r['time_us']:.1f} | "
                       f"{r['gbps']:.0f} | {r['tflops']:.2f} | {r['pct_roofline']:.0f}% | {r['bound']} | "
                       f"{ratio(r.get('vendor_us'), r['time_us']) if r.get('vendor_us') else '-'} |")
        fams = {}
        for r in rows:
            fams.setdefault((r["family"], r["precision"]), []).append(r["pct_roofline"])
        out += ["", "| family | precision | rows | median % roofline | min % |", "| --- | --- | ---: | ---: | ---: |"]
        for (fam, p), v in sorted(fams.items()):
            v.sort()
            out.append(f"| {fam} | {p} | {len(v)} | {v[len(v) // 2]:.0f}% | {v[0]:.0f}% |")
    for note in k.get("notes", []):
        out.append(f"\nNote: {note}")
    return out


def chart(outdir, rows):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "chart.png was not drawn: matplotlib is not installed"
    panels = sorted({(r["model"], r["precision"]) for r in rows if r.get("mode") == "device" and timed(r)
                     and r.get("system") in SYSTEMS})
    if not panels:
        return "chart.png was not drawn: no timed device-mode rows"
    cols = 3
    nrow = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(nrow, cols, figsize=(5 * cols, 3.6 * nrow), squeeze=False)
    for ax, (m, p) in zip(axes.flat, panels):
        for s in SYSTEMS:
            pts = sorted((r["batch"], r["images_per_s"]) for r in rows if r.get("system") == s and r.get("model") == m
                         and r.get("precision") == p and r.get("mode") == "device" and timed(r))
            if pts:
                ax.plot([b for b, _ in pts], [v for _, v in pts], marker="o", label=LABEL[s])
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title(f"{m} {p}")
        ax.set_xlabel("batch")
        ax.set_ylabel("images/s")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "chart.png"), dpi=110)
    return None


def main():
    if len(sys.argv) not in (2, 3) or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0 if len(sys.argv) == 2 else 2)
    work = sys.argv[1]
    outdir = sys.argv[2] if len(sys.argv) == 3 else work
    os.makedirs(outdir, exist_ok=True)
    rows = load_rows(work)
    env = load_json(os.path.join(work, "env.json")) or {}
    kernels = load_json(os.path.join(work, "kernels.json"))
    ix = index(rows)
    doc = {"env": env, "rows": rows, "kernels": kernels}
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    chart_note = chart(outdir, rows)

    md = [f"# Sentinel end-to-end benchmark, {env.get('date', '?')}", ""]
    md.append(f"GPU: {env.get('gpu', '?')}; driver {env.get('driver', '?')}; host: {env.get('cpu', '?')}, "
              f"{env.get('cores', '?')} cores; commit {env.get('commit', '?')}; command: `{env.get('command', '?')}`")
    if env.get("versions"):
        md.append("Versions: " + "; ".join(f"{k} {v}" for k, v in env["versions"].items()))
    tol = ", ".join(f"{common.TOLERANCE[p]:g} {p}" for p in common.PRECISIONS)
    md += ["", "Protocol: per row, warm-up calls, then single calls each ending in a synchronisation until at least "
           "--iters calls and --seconds have passed; images/s over all timed calls; p50/p99 of one call. Every system "
           f"first ran a reference batch and matched the CPU reference output (max |diff| / max |ref| within {tol}) "
           "or was not timed. Modes: device = inputs and outputs in device memory; host = f32 inputs in host memory, "
           "outputs back on the host; u8 = 8-bit 256x256 images in (pinned) host memory, crop and normalisation on "
           "the device, outputs back on the host.", ""]
    md += ["## Targets", ""] + targets(ix, rows, kernels) + [""]
    for mode, title in (("device", "Throughput, device buffers"), ("u8", "Throughput from 8-bit images (preprocessing included)"),
                        ("host", "Throughput from host memory (f32)")):
        t = throughput_table(ix, rows, mode)
        if t:
            md += [f"## {title}", "", "images/s; Sentinel/peer > 1 means Sentinel is faster.", ""] + t + [""]
    for title, t in (("Latency at batch 1 (device buffers)", latency_table(rows)),
                     ("Start-up and compile times", startup_table(rows)),
                     ("Memory, transfers and utilisation (batches 1 and 128)", resources_table(rows)),
                     ("The seeds' before/after: one image at a time vs batched and fused", naive_table(rows))):
        if t:
            md += [f"## {title}", ""] + t + [""]
    md += ["## Kernels (sentinel-bench kernels)", ""] + kernel_section(kernels) + [""]
    if chart_note:
        md += [f"Note: {chart_note}.", ""]
    else:
        md += ["![images/s by batch](chart.png)", ""]
    bad = [r for r in rows if r.get("error") or (r.get("images_per_s") is None and r.get("mode") != "cold-start")]
    if bad:
        md += ["## Rows not timed", "", "| system | model | precision | mode | batch | why |", "| --- | --- | --- | --- | ---: | --- |"]
        for r in bad:
            why = (r.get("error") or r.get("note") or "").replace("|", "/").replace("\n", " ")[:160]
            md.append(f"| {r.get('system')} | {r.get('model')} | {r.get('precision')} | {r.get('mode')} | {r.get('batch')} | {why} |")
        md.append("")
    for n in env.get("notes", []):
        md.append(f"Note: {n}")
    with open(os.path.join(outdir, "results.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print(f"report.py: {len(rows)} rows -> {outdir}/results.json, results.md"
          + ("" if chart_note else ", chart.png"))


if __name__ == "__main__":
    main()
