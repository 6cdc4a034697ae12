#!/usr/bin/env bash
# gpu-acceptance.sh - the "Done when" checks of the GPU backend (issue 4) and the input pipeline
# (issue 5), as one script a GPU session runs from the unpacked bundle (bundle/acceptance.sh),
# writing every log and a summary (summary.md) to OUT_DIR.
#
# Usage: acceptance.sh OUT_DIR [STEP...]      steps (default: all, in this order):
#   cache       resnet50 --random 256 --batch 64 on the GPU, twice with one fresh kernel cache:
#               outputs match the CPU's (|gpu-cpu| / max(|cpu|, rms) <= 1e-4, the GPU tests'
#               whole-model fp32 bound), one upload and one download per batch, the first run
#               compiles kernels and the second compiles none (--stats' kernels line)
#   throughput  images/s at batch 64, fp32 and fp16, for resnet50, mobilenetv2 and seed-cnn
#   images      3,000 generated images (JPEG and PNG kinds, 640x480) plus 3 bad files through
#               resnet50 --batch 64: top-5 for each good one, the bad ones named, exit 1, and
#               --stats' decode rate, uploads per batch and idle share
#   sanitize    compute-sanitizer memcheck and racecheck on sentinel-run over seed-cnn, resnet18
#               and mobilenetv2 (small batches)
# Steps are meant to fit the device tool's 10-minute calls (sanitize in a call of its own); the
# script has not run on a GPU yet, so no step's time is measured.
#
# Environment: SENTINEL_BIN (the programs; default: bin/ beside this script, else build/bin),
# PYTHON (with numpy; default python3), DEVICE (gpu; "cpu" runs the same checks on the CPU at
# small sizes: a smoke test of this script, CTest's gpu_acceptance_smoke, where the kernel and
# transfer checks do not apply and sanitize is skipped). Exit: 0 all checks passed, 1 some
# failed, 2 usage or setup error, 77 no numpy.
set -uo pipefail

die() { printf 'acceptance: error: %s\n' "$*" >&2; exit 2; }
[ $# -ge 1 ] || die "usage: $0 OUT_DIR [cache|throughput|images|sanitize ...]"
out=$1
shift
steps=${*:-cache throughput images sanitize}
here=$(cd "$(dirname "$0")" && pwd)
bin=${SENTINEL_BIN:-}
if [ -z "$bin" ]; then
    if [ -x "$here/bin/sentinel-run" ]; then bin=$here/bin; else bin=$here/../build/bin; fi
fi
[ -x "$bin/sentinel-run" ] || die "no sentinel-run in $bin (set SENTINEL_BIN)"
py=${PYTHON:-python3}
if ! "$py" -c 'import numpy' 2>/dev/null; then
    echo "acceptance: skipped: $py has no numpy (set PYTHON)" >&2
    exit 77
fi
device=${DEVICE:-gpu}
case $device in gpu | cpu) ;; *) die "DEVICE must be gpu or cpu" ;; esac
smoke=0
[ "$device" = cpu ] && smoke=1

mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd)
work=$out/work
rm -rf "$work" # inputs are made afresh each run: a reused OUT_DIR must not test stale ones
mkdir -p "$work"
summary=$out/summary.md
passed=0 failed=0

note() { printf '%s\n' "$*" | tee -a "$summary"; }
check() { # name, condition (0 = pass), detail
    if [ "$2" = 0 ]; then
        note "- PASS $1: $3"; passed=$((passed + 1))
    else
        note "- FAIL $1: $3"; failed=$((failed + 1))
    fi
}
# The number after a prefix on the first matching line of a log ("" when absent).
field() { grep -o -m1 "$2[0-9.]*" "$1" | sed "s/^$2//"; }

{
    echo "# Acceptance run $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo
    echo "bundle: $(cat "$here/COMMIT" 2>/dev/null || git -C "$here" describe --always --dirty 2>/dev/null || echo unknown)"
    echo "device: $device, $(nvidia-smi -L 2>/dev/null | head -1 || echo 'no nvidia-smi')"
    echo "host: $(nproc) cores"
    echo
} >"$summary"

model() { # zoo name -> path (written once)
    local f=$work/$1.sgraph
    [ -f "$f" ] || "$bin/sentinel-zoo" "$1" -o "$f" --seed 0 >/dev/null || return 1
    echo "$f"
}

if [ $smoke = 1 ]; then
    big=seed-cnn n_random=24 batch=8 n_images=30 models="seed-cnn" n_tp=64
else
    big=resnet50 n_random=256 batch=64 n_images=3000 models="resnet50 mobilenetv2 seed-cnn" n_tp=2048
fi

step_cache() {
    note "## cache: $big --random $n_random --batch $batch"
    local m cache
    m=$(model "$big") || die "sentinel-zoo $big failed"
    cache=$(mktemp -d)
    local i
    for i in 1 2; do
        rm -rf "$work/out$i"
        SENTINEL_CACHE_DIR=$cache "$bin/sentinel-run" "$m" --random "$n_random" --batch "$batch" \
            --device "$device" --stats --quiet --save-npy "$work/out$i" >"$out/cache-run$i.log" 2>&1
        check "run $i exits 0" $? "log cache-run$i.log"
    done
    rm -rf "$work/cpu"
    "$bin/sentinel-run" "$m" --random "$n_random" --batch "$batch" --device cpu --quiet \
        --save-npy "$work/cpu" >"$out/cache-cpu.log" 2>&1
    check "CPU reference run exits 0" $? "log cache-cpu.log"
    local cmp
    cmp=$("$py" - "$work/out1" "$work/cpu" "$work/out2" <<'EOF'
import glob, os, sys
import numpy as np
a, ref, b = sys.argv[1:4]
names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ref, "*.npy")))
worst, where, same = 0.0, "", True
for n in names:
    x, r, y = (np.load(os.path.join(d, n)).astype(np.float64) for d in (a, ref, b))
    rms = float(np.sqrt(np.mean(r * r)))
    rel = np.abs(x - r) / np.maximum(np.maximum(np.abs(r), rms), 1e-30)
    rel[~np.isfinite(x)] = np.inf
    if rel.max() > worst:
        worst, where = float(rel.max()), n
    same = same and np.array_equal(x, y)
print(f"{len(names)} {worst:.3g} {where or '-'} {int(same)} {int(worst <= 1e-4)}")
EOF
)
    local n worst where same within
    read -r n worst where same within <<<"${cmp:-0 inf - 0 0}"
    local ok=1
    [ "$n" = "$n_random" ] && [ "$within" = 1 ] && ok=0
    check "outputs match the CPU" $ok "$n samples, worst |gpu-cpu|/max(|cpu|,rms) = $worst ($where)"
    note "- the two runs' outputs are $([ "$same" = 1 ] && echo "identical, bit for bit" || echo "not bit-identical")"
    if [ $smoke = 0 ]; then
        local up down c1 h2 c2
        up=$(field "$out/cache-run1.log" "per batch: ")
        down=$(grep -o -m1 '), [0-9.]* downloads' "$out/cache-run1.log" | grep -o '[0-9.]*')
        check "one upload and one download per batch" \
            $([ "$up" = 1.00 ] && [ "$down" = 1.00 ] && echo 0 || echo 1) \
            "$(grep -m1 'per batch' "$out/cache-run1.log")"
        c1=$(grep -o -m1 '([0-9]* compiled' "$out/cache-run1.log" | grep -o '[0-9]*')
        c2=$(grep -o -m1 '([0-9]* compiled' "$out/cache-run2.log" | grep -o '[0-9]*')
        h2=$(grep -o -m1 '[0-9]* from the kernel cache' "$out/cache-run2.log" | grep -o '^[0-9]*')
        check "cold start compiles, warm start compiles nothing" \
            $([ "${c1:-0}" -gt 0 ] && [ "${c2:-1}" = 0 ] && [ "${h2:-0}" -gt 0 ] && echo 0 || echo 1) \
            "run 1: $(grep -m1 'engine created' "$out/cache-run1.log"); run 2: $(grep -m1 'engine created' "$out/cache-run2.log")"
    fi
    rm -rf "$cache"
}

step_throughput() {
    note "## throughput: --random $n_tp --batch $batch"
    note ""
    note "| model | precision | images/s | engine created |"
    note "| --- | --- | --- | --- |"
    local name m p log rate created
    for name in $models; do
        m=$(model "$name") || die "sentinel-zoo $name failed"
        for p in fp32 fp16; do
            log=$out/throughput-$name-$p.log
            "$bin/sentinel-run" "$m" --random "$n_tp" --batch "$batch" --device "$device" \
                --precision "$p" --stats --quiet >"$log" 2>&1
            local rc=$?
            rate=$(field "$log" "throughput ")
            created=$(grep -o -m1 'engine created in [0-9.]* ms' "$log" | grep -o '[0-9.]* ms')
            note "| $name | $p | ${rate:-(failed: exit $rc)} | ${created:--} |"
            [ $rc = 0 ] && [ -n "$rate" ] && passed=$((passed + 1)) || failed=$((failed + 1))
        done
    done
    note ""
}

step_images() {
    note "## images: $n_images generated images and 3 bad files, $big --batch $batch"
    local dir=$work/images m
    m=$(model "$big") || die "sentinel-zoo $big failed"
    if [ ! -d "$dir" ]; then
        local t0=$SECONDS
        "$bin/sentinel-mkimages" "$dir" --count "$n_images" --size 640x480 --seed 1 \
            >"$out/images-mkimages.log" 2>&1 || die "sentinel-mkimages failed (images-mkimages.log)"
        head -c 3000 "$(ls "$dir"/*.jpg | head -1)" >"$dir/zz-truncated.jpg"
        head -c 20000 /dev/urandom >"$dir/zz-random.png"
        printf 'not an image\n' >"$dir/zz-text.jpg"
        note "- generated in $((SECONDS - t0)) s"
    fi
    local log=$out/images-run.log
    "$bin/sentinel-run" "$m" "$dir" --batch "$batch" --device "$device" --top 5 --stats \
        -o "$out/images.jsonl" >"$out/images-top5.txt" 2>"$log"
    local rc=$?
    grep '^stats:' "$out/images-top5.txt" >>"$log"
    check "exit status 1 (some inputs failed)" $([ $rc = 1 ] && echo 0 || echo 1) "exit $rc"
    local good bad
    good=$(grep -c '^  ' "$out/images-top5.txt")
    check "top-5 for every good image" $([ "$good" = $((5 * n_images)) ] && echo 0 || echo 1) \
        "$good score lines for $n_images images"
    bad=$(grep -c 'zz-' "$log")
    check "the 3 bad files named" $([ "$bad" -ge 3 ] && echo 0 || echo 1) \
        "$(grep 'zz-' "$log" | tr '\n' ' ')"
    check "summary line" $(grep -q "$((n_images + 3)) inputs: $n_images succeeded, 3 failed" "$log" && echo 0 || echo 1) \
        "$(grep -m1 'inputs:' "$log")"
    note "- $(grep -m1 'throughput' "$log")"
    note "- $(grep -m1 'stats: decode:' "$log")"
    note "- $(grep -m1 'idle waiting' "$log")"
    note "- $(grep -m1 'per batch' "$log")"
}

step_sanitize() {
    note "## sanitize"
    if [ $smoke = 1 ]; then
        note "- skipped: DEVICE=cpu"
        return
    fi
    local cs
    cs=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null)
    if [ -z "$cs" ]; then
        check "compute-sanitizer found" 1 "not on PATH or in /usr/local/cuda/bin"
        return
    fi
    local real=$bin/sentinel-run
    [ -x "$bin/sentinel-run.real" ] && real=$bin/sentinel-run.real
    local libdir
    libdir=$(cd "$bin/../lib" 2>/dev/null && pwd)
    local name tool m log
    for name in seed-cnn resnet18 mobilenetv2; do
        m=$(model "$name") || die "sentinel-zoo $name failed"
        for tool in memcheck racecheck; do
            log=$out/sanitize-$name-$tool.log
            LD_LIBRARY_PATH="${libdir:+$libdir:}${LD_LIBRARY_PATH:-}" \
                "$cs" --tool "$tool" --error-exitcode 99 "$real" "$m" --random 4 --batch 2 \
                --device gpu --quiet >"$log" 2>&1
            local rc=$?
            check "$tool $name" $([ $rc = 0 ] && echo 0 || echo 1) \
                "exit $rc; $(grep -m1 -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$log")"
        done
    done
}

for s in $steps; do
    case $s in
    cache | throughput | images | sanitize) "step_$s" ;;
    *) die "unknown step '$s' (cache, throughput, images, sanitize)" ;;
    esac
done
note ""
note "$passed passed, $failed failed"
[ $failed = 0 ]
