#!/usr/bin/env bash
# run_all.sh - the whole end-to-end benchmark on one GPU machine in one command, inside one
# 10-minute call: Sentinel (e2e_sentinel) against PyTorch eager, torch.compile, JAX/XLA and ONNX
# Runtime on seed-cnn, resnet50 and mobilenetv2, plus Sentinel's cold starts, the naive-loop
# before/after and the kernel microbenchmarks (sentinel-bench kernels); then report.py writes
# OUTDIR/results.json, results.md and chart.png.
#
#   bench/e2e/run_all.sh OUTDIR            on the GPU machine (from the unpacked bundle;
#                                          bench/README.md has the one-command procedure)
#   bench/e2e/run_all.sh --smoke OUTDIR    anywhere: every script once on the CPU, seed-cnn,
#                                          batch 1, 2 iterations - proves the scripts run; the
#                                          numbers mean nothing. Exit 77 when Python lacks numpy/onnx.
#
# Every step has its own time budget (seconds, overridable: E2E_BUDGET_PREP, _SENTINEL, _COLD,
# _NAIVE, _EAGER, _JAX, _ORT, _KERNELS, _COMPILE), runs under `timeout`, writes its rows as it
# goes (raw/<step>.jsonl), and is skipped with a note when its framework is missing or no time
# is left: one failing system never fails the run. torch.compile runs last with whatever time
# is left. E2E_TOTAL (570 s by default) is the hard deadline for everything but the report; a
# budget cut shows as "skipped: out of time budget" rows.
#
# Programs: $SENTINEL_BIN, else ../../bin beside this script (the bundle), else build/bin of the
# repository. Python: $PYTHON (default python3; it needs numpy and onnx, and whichever frameworks
# it has are used), $JAX_PYTHON for the JAX step (default $PYTHON). Optional: E2E_MODELS,
# E2E_PRECISIONS, E2E_BATCHES, E2E_WORK (the work folder; default a new one under $TMPDIR,
# removed at the end unless E2E_KEEP=1).
# cuBLAS and cuDNN for the kernel comparison: SENTINEL_CUBLAS_LIBRARY / SENTINEL_CUDNN_LIBRARY,
# else found on the loader path, in /usr/local/cuda, or in Python's nvidia-* wheels.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
smoke=0
if [ "${1:-}" = "--smoke" ]; then smoke=1; shift; fi
[ $# -eq 1 ] || { echo "usage: $0 [--smoke] OUTDIR" >&2; exit 2; }
dest=$(mkdir -p "$1" && cd "$1" && pwd) || { echo "run_all.sh: cannot create $1" >&2; exit 2; }
# Everything is made in a work folder (models, raw rows, logs); OUTDIR receives only the report
# and one archive, so few files come back from a device call: results.md, results.json,
# chart.png, run.log and logs.tar.gz (raw/*.jsonl, logs/, env.json, kernels.json).
own_work=0
if [ -n "${E2E_WORK:-}" ]; then out=$E2E_WORK; else out=$(mktemp -d "${TMPDIR:-/tmp}/sentinel-e2e.XXXXXX") && own_work=1; fi
mkdir -p "$out" || { echo "run_all.sh: cannot create $out" >&2; exit 2; }
rm -rf "$out/raw" "$out/logs" "$out/kernels.json" "$out/env.json" # rows are appended: start clean
t_start=$(date +%s)
total=${E2E_TOTAL:-570}

if [ -n "${SENTINEL_BIN:-}" ]; then bin=$SENTINEL_BIN
elif [ -x "$here/../../bin/e2e_sentinel" ]; then bin=$(cd "$here/../../bin" && pwd)
else bin=$(cd "$here/../.." && pwd)/build/bin; fi
py=${PYTHON:-python3}
jaxpy=${JAX_PYTHON:-$py}

say() { printf '[run_all %4ds] %s\n' "$(( $(date +%s) - t_start ))" "$*" | tee -a "$out/run.log"; }
note() { notes+=("$*"); say "note: $*"; }
notes=()
failed_steps=""
left() { echo $(( total - ($(date +%s) - t_start) )); }
# budget NAME DEFAULT: the step's budget, cut to what is left before the deadline (less 15 s for
# the report); 0 when too little is left to start.
budget() {
    local b=${!1:-$2} l
    l=$(( $(left) - 15 ))
    [ "$b" -gt "$l" ] && b=$l
    [ "$b" -lt 10 ] && b=0
    echo "$b"
}

mkdir -p "$out/raw" "$out/models/ref" "$out/logs"
: >"$out/run.log"

for p in sentinel-zoo sentinel-export sentinel-bench-cpu e2e_sentinel; do
    [ -x "$bin/$p" ] || { say "error: $bin/$p not found (set SENTINEL_BIN)"; exit 1; }
done
if ! "$py" -c 'import numpy, onnx' 2>"$out/logs/python.log"; then
    say "$py cannot import numpy and onnx: $(tail -1 "$out/logs/python.log")"
    [ $smoke = 1 ] && exit 77
    exit 1
fi

if [ $smoke = 1 ]; then
    models=${E2E_MODELS:-seed-cnn}; precs=${E2E_PRECISIONS:-fp32}; batches=${E2E_BATCHES:-1}
    common=(--device cpu --iters 2 --warmup 1 --batches "$batches" --u8-batches "$batches"
            --modes device,host,u8 --precisions "$precs" --models "$models")
    sdev=(--device cpu --iters 2 --warmup 1)
    export E2E_BUDGET_COMPILE=${E2E_BUDGET_COMPILE:-60}
else
    models=${E2E_MODELS:-seed-cnn,resnet50,mobilenetv2}; precs=${E2E_PRECISIONS:-fp32,tf32,fp16}
    batches=${E2E_BATCHES:-1,8,32,128,256}
    common=(--device cuda --batches "$batches" --u8-batches 1,128 --modes device,host,u8
            --precisions "$precs" --models "$models")
    sdev=(--device gpu)
fi
threads=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 4)
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$threads} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-$threads}
export PYTHONUNBUFFERED=1

# --- the machine -------------------------------------------------------------------------------
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
driver=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -1)
commit=$(cat "$here/../../COMMIT" 2>/dev/null || git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')
say "machine: GPU ${gpu:-none} (driver ${driver:-none}), CPU $cpu x $threads; commit $commit; smoke=$smoke"
nvidia-smi >"$out/logs/nvidia-smi.txt" 2>&1 || true

# --- models and the reference (same weights for everyone: sentinel-export of the zoo .sgraph) ----
mdir=$out/models
b=$(budget E2E_BUDGET_PREP 60)
say "models: $models -> $mdir (budget ${b}s)"
deadline=$(( $(date +%s) + b ))
tleft() { local t=$(( deadline - $(date +%s) )); echo $(( t > 1 ? t : 1 )); }
for m in ${models//,/ }; do
    timeout -k 5 "$(tleft)" "$bin/sentinel-zoo" "$m" -o "$mdir/$m.sgraph" &&
        timeout -k 5 "$(tleft)" "$bin/sentinel-export" "$mdir/$m.sgraph" -o "$mdir/$m.onnx" --quiet &&
        timeout -k 5 "$(tleft)" "$bin/sentinel-export" "$mdir/$m.sgraph" -o "$mdir/$m.raw.onnx" \
            --no-optimize --quiet &&
        timeout -k 5 "$(tleft)" "$bin/sentinel-bench-cpu" --models "$mdir/$m.sgraph" --batches 4 \
            --seconds 0.01 --dump "$mdir/ref" ||
        { say "error: making $m failed: $(tail -3 "$out/logs/prep.log" | tr '\n' ' ')"; exit 1; }
done >>"$out/logs/prep.log" 2>&1

# step NAME BUDGET_VAR DEFAULT command... : run a step under its budget; rows go to raw/NAME.jsonl
# (the command gets --out), the log to logs/NAME.log.
step() {
    local name=$1 var=$2 def=$3 b rc
    shift 3
    b=$(budget "$var" "$def")
    if [ "$b" = 0 ]; then note "$name: skipped, no time left before the ${total}s deadline"; return; fi
    say "$name: budget ${b}s"
    local t0=$(date +%s)
    timeout -k 5 "$b" "$@" --out "$out/raw/$name.jsonl" >"$out/logs/$name.log" 2>&1
    rc=$?
    if [ $rc = 124 ] || [ $rc = 137 ]; then note "$name: stopped at its ${b}s budget; the rows it finished are kept"
    elif [ $rc != 0 ]; then note "$name: exit $rc: $(tail -2 "$out/logs/$name.log" | tr '\n' ' ' | cut -c1-300)"; fi
    [ $rc = 0 ] || failed_steps="$failed_steps $name"
    say "$name: $(( $(date +%s) - t0 ))s, $(cat "$out/raw/$name.jsonl" 2>/dev/null | grep -c .) rows"
}
# Each Python step stops starting rows 15 s before its budget ends (--budget), so its last row
# is rarely cut off.
pybudget() { local b; b=$(budget "$1" "$2"); echo $(( b > 20 ? b - 15 : b )); }

# --- Sentinel ----------------------------------------------------------------------------------
cache=$(mktemp -d)
export SENTINEL_CACHE_DIR=$cache
step sentinel E2E_BUDGET_SENTINEL 110 "$bin/e2e_sentinel" --model-dir "$mdir" "${common[@]}" \
    --budget "$(pybudget E2E_BUDGET_SENTINEL 110)"
# Cold starts: an empty kernel cache, then the same folder again (warm); one process each.
b=$(budget E2E_BUDGET_COLD 40)
if [ "$b" != 0 ]; then
    say "cold starts: budget ${b}s"
    deadline=$(( $(date +%s) + b ))
    cm=${models%%,*}; [[ ,$models, == *,resnet50,* ]] && cm=resnet50
    for p in ${precs//,/ }; do
        case $p in fp16|fp32) ;; *) continue ;; esac
        [ $smoke = 1 ] && [ "$p" != fp32 ] && continue
        c=$(mktemp -d)
        for pass in empty warm; do
            SENTINEL_CACHE_DIR=$c timeout -k 5 "$(tleft)" "$bin/e2e_sentinel" --model-dir "$mdir" \
                --cold-start --models "$cm" --precisions "$p" "${sdev[@]}" --out "$out/raw/cold.jsonl" \
                >>"$out/logs/cold.log" 2>&1 ||
                { note "cold start $cm $p ($pass cache): exit $? (logs/cold.log)"; failed_steps="$failed_steps cold"; }
        done
        rm -rf "$c"
    done
fi
nm=$(echo "$models" | tr , '\n' | grep -xE 'resnet50|seed-cnn' | paste -sd,); [ -n "$nm" ] || nm=${models%%,*}
step naive E2E_BUDGET_NAIVE 25 "$bin/e2e_sentinel" --model-dir "$mdir" --naive "$([ $smoke = 1 ] && echo 4 || echo 128)" \
    --models "$nm" --precisions fp32 "${sdev[@]}"
rm -rf "$cache"

# --- the peers ---------------------------------------------------------------------------------
step pytorch-eager E2E_BUDGET_EAGER 60 "$py" "$here/torch_peer.py" --model-dir "$mdir" "${common[@]}" \
    --budget "$(pybudget E2E_BUDGET_EAGER 60)"
if [ $smoke = 1 ]; then jb=(); else jb=(--u8-batches 128); fi
# No preallocation of 75% of the GPU, so NVML's memory in use means what it says.
step jax-xla E2E_BUDGET_JAX 80 env XLA_PYTHON_CLIENT_PREALLOCATE=false "$jaxpy" "$here/jax_peer.py" --model-dir "$mdir" "${common[@]}" "${jb[@]}" \
    --budget "$(pybudget E2E_BUDGET_JAX 80)"
step onnxruntime E2E_BUDGET_ORT 30 "$py" "$here/ort_peer.py" --model-dir "$mdir" "${common[@]}" \
    --budget "$(pybudget E2E_BUDGET_ORT 30)"

# --- kernels -----------------------------------------------------------------------------------
if [ $smoke = 1 ]; then
    note "kernels: sentinel-bench kernels needs a GPU; not run in the smoke test"
elif [ ! -x "$bin/sentinel-bench" ]; then
    note "kernels: $bin/sentinel-bench not found (a build without the CUDA toolkit)"
else
    # cuDNN / cuBLAS from Python's nvidia-* wheels when the system has none (PyTorch's own)
    for lib in cudnn:libcudnn.so.9 cublas:libcublas.so.13; do
        var=SENTINEL_$(echo "${lib%%:*}" | tr a-z A-Z)_LIBRARY
        [ -n "${!var:-}" ] && continue
        ldconfig -p 2>/dev/null | grep -q "${lib#*:}" && continue
        [ -e "/usr/local/cuda/lib64/${lib#*:}" ] && continue
        p=$("$py" -c "import nvidia.${lib%%:*} as m, os; print(os.path.join(list(m.__path__)[0], 'lib', '${lib#*:}'))" 2>/dev/null)
        [ -n "$p" ] && [ -e "$p" ] && export "$var=$p" && say "kernels: ${lib#*:} from $p"
    done
    b=$(budget E2E_BUDGET_KERNELS 60)
    if [ "$b" = 0 ]; then note "kernels: skipped, no time left"
    else
        say "kernels: budget ${b}s"
        SENTINEL_CACHE_DIR=$(mktemp -d) timeout -k 5 "$b" "$bin/sentinel-bench" kernels --models "$models" \
            --budget $(( b > 20 ? b - 10 : b )) --json "$out/kernels.json" >"$out/logs/kernels.log" 2>&1 ||
            note "kernels: exit $? ($(tail -2 "$out/logs/kernels.log" | tr '\n' ' ' | cut -c1-300))"
        tail -25 "$out/logs/kernels.log"
    fi
fi

# --- torch.compile, last: max-autotune benchmarks candidate kernels for every shape it compiles,
# so it gets whatever time is left (the headline rows, resnet50 fp16 at batch 128, first) ------
if [ $smoke = 1 ]; then cb=(); else cb=(--u8-batches 128); fi
step torch-compile E2E_BUDGET_COMPILE 600 "$py" "$here/torch_peer.py" --compile max-autotune \
    --model-dir "$mdir" "${common[@]}" "${cb[@]}" --budget "$(pybudget E2E_BUDGET_COMPILE 600)"

# --- report ------------------------------------------------------------------------------------
E2E_JAX_VERSION=$("$jaxpy" -c 'import jax; print(jax.__version__)' 2>/dev/null || echo "not installed") \
E2E_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ) E2E_GPU=${gpu:-none} E2E_DRIVER=${driver:-none} E2E_CPU=$cpu \
E2E_CORES=$threads E2E_COMMIT=$commit E2E_SMOKE=$smoke E2E_LOG=$out/run.log \
"$py" - "$out/env.json" <<'EOF'
import json, os, sys
e = os.environ
v = {}
for name in ("torch", "torchvision", "onnxruntime", "onnx", "numpy", "matplotlib"):
    try:
        v[name] = __import__(name).__version__
    except Exception:
        v[name] = "not installed"
v["jax"] = e["E2E_JAX_VERSION"]
with open(e["E2E_LOG"]) as f:
    notes = [l.split("note: ", 1)[1] for l in f.read().splitlines() if "note: " in l]
json.dump({"date": e["E2E_DATE"], "gpu": e["E2E_GPU"], "driver": e["E2E_DRIVER"], "cpu": e["E2E_CPU"],
           "cores": int(e["E2E_CORES"]), "commit": e["E2E_COMMIT"], "smoke": e["E2E_SMOKE"] == "1",
           "command": "bench/e2e/run_all.sh " + ("--smoke " if e["E2E_SMOKE"] == "1" else "") + "OUTDIR",
           "versions": v, "notes": notes}, open(sys.argv[1], "w"), indent=1)
EOF
"$py" "$here/report.py" "$out" "$dest" | tee -a "$out/run.log"
tar -C "$out" -czf "$dest/logs.tar.gz" raw logs env.json $([ -f "$out/kernels.json" ] && echo kernels.json)
say "done in $(( $(date +%s) - t_start ))s: $dest/results.md"
if [ $smoke = 1 ]; then
    ran=$(cat "$out"/raw/*.jsonl 2>/dev/null | grep -c '"images_per_s": [0-9]')
    sentinel_timed=$(grep -c '"images_per_s": [0-9]' "$out/raw/sentinel.jsonl" 2>/dev/null)
    skipped=$(cat "$out"/raw/*.jsonl 2>/dev/null | grep -o '"note": "skipped: [^"]*"' | sort | uniq -c)
    say "smoke: $ran timed rows; skipped:"
    printf '%s\n' "$skipped" | tee -a "$out/run.log"
fi
cp "$out/run.log" "$dest/run.log"
[ $own_work = 1 ] && [ "${E2E_KEEP:-0}" != 1 ] && rm -rf "$out"
# The smoke test fails when a step failed (a crash, a sanitizer report) or Sentinel timed nothing;
# frameworks that are missing only give "skipped" rows.
if [ $smoke = 1 ]; then
    [ -z "$failed_steps" ] || { echo "run_all.sh: smoke: failed steps:$failed_steps" >&2; exit 1; }
    [ "${sentinel_timed:-0}" -gt 0 ] || { echo "run_all.sh: smoke: Sentinel timed no row" >&2; exit 1; }
fi
exit 0
