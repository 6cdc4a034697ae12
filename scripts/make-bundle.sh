#!/usr/bin/env bash
# make-bundle.sh - a relocatable copy of a Sentinel build for a machine without its Debian
# libraries (a GPU machine): programs, test executables, and every shared library they load
# except the C library's own, plus run-gpu-tests.sh to run the GPU tests there.
#
# Usage: scripts/make-bundle.sh BUILD_DIR OUT_DIR [--tar]
#   BUILD_DIR  a configured and built tree (cmake --build BUILD_DIR)
#   OUT_DIR    created (replaced if it exists):  bin/  tests/  lib/  run-gpu-tests.sh
#              acceptance.sh  bench/e2e/ (the end-to-end benchmark's scripts)  COMMIT
#   --tar      also write OUT_DIR.tar.xz (OpenBLAS alone is ~35 MB; xz shrinks it ~4x)
#
# Libraries are found with ldd and copied into lib/; the wrapper scripts point LD_LIBRARY_PATH
# there, so no RPATH editing tool is needed. glibc's own libraries (libc, libm, libdl,
# libpthread, librt, libresolv, ld-linux) are left out: they must match the target's loader,
# and any glibc at least as new as this machine's runs these binaries. The CUDA driver
# (libcuda.so.1) and NVRTC are never linked - Sentinel loads them at run time from the target's
# driver and toolkit (SENTINEL_NVRTC_LIBRARY names NVRTC when it is somewhere unusual).
set -euo pipefail

die() { printf 'make-bundle: error: %s\n' "$*" >&2; exit 1; }

[ $# -ge 2 ] || die "usage: $0 BUILD_DIR OUT_DIR [--tar]"
build=$(cd "$1" && pwd) || die "no build folder $1"
out=$2
tar=0
[ "${3:-}" = "--tar" ] && tar=1
[ -d "$build/bin" ] || die "$build/bin does not exist: build first"
command -v ldd >/dev/null || die "ldd not found"

rm -rf "$out"
mkdir -p "$out/bin" "$out/tests" "$out/lib"

copy_exe() { # file dest-folder
    cp -p "$1" "$2/"
    chmod +x "$2/$(basename "$1")"
}

n_bin=0 n_tests=0
for f in "$build"/bin/*; do
    [ -f "$f" ] && [ -x "$f" ] || continue
    copy_exe "$f" "$out/bin"; n_bin=$((n_bin + 1))
done
if [ -d "$build/tests" ]; then
    for f in "$build"/tests/test_*; do
        [ -f "$f" ] && [ -x "$f" ] || continue
        copy_exe "$f" "$out/tests"; n_tests=$((n_tests + 1))
    done
fi

# Shared libraries every executable needs (ldd lists the transitive closure).
skip='^(linux-vdso|ld-linux|libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so|libresolv\.so|libutil\.so|libcuda\.so|libnvrtc)'
n_libs=0
for f in "$out"/bin/* "$out"/tests/*; do
    while read -r name _ path _; do
        [ -n "${path:-}" ] && [ -f "$path" ] || continue
        [[ $name =~ $skip ]] && continue
        if [ ! -e "$out/lib/$name" ]; then
            cp -L "$path" "$out/lib/$name"
            n_libs=$((n_libs + 1))
        fi
    done < <(ldd "$f" 2>/dev/null | grep '=>' || true)
done

cat >"$out/run-gpu-tests.sh" <<'EOS'
#!/usr/bin/env bash
# run-gpu-tests.sh - the tests a GPU machine should run, with this bundle's libraries.
# Usage: ./run-gpu-tests.sh [LOG_DIR]     (logs and a summary go to LOG_DIR when given)
# Every test prints its own result; the last line is "N passed, N failed".
here=$(cd "$(dirname "$0")" && pwd)
export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export SENTINEL_CACHE_DIR="${SENTINEL_CACHE_DIR:-$(mktemp -d)}"
export SENTINEL_REQUIRE_GPU="${SENTINEL_REQUIRE_GPU:-1}" # a GPU test that cannot find one fails
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-8}" OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-8}"
logs=${1:-}
[ -n "$logs" ] && mkdir -p "$logs"
nvidia-smi -L 2>/dev/null || echo "nvidia-smi: not available"
passed=0 failed=0
for t in test_cuda_plan test_cuda_cache test_gpu_ops test_gpu_zoo test_gpu_preprocess \
    test_cuda_compile test_cuda_preprocess; do
    exe="$here/tests/$t"
    [ -x "$exe" ] || { echo "missing $t"; failed=$((failed + 1)); continue; }
    echo "=== $t"
    start=$(date +%s)
    if [ -n "$logs" ]; then
        "$exe" --jobs 1 --verbose >"$logs/$t.log" 2>&1; rc=$?
        grep -E '^\[(FAIL|SKIP|PASS|----|====)' "$logs/$t.log" | tail -40
    else
        "$exe" --jobs 1 --verbose 2>&1 | grep -E '^\[(FAIL|SKIP|PASS|----|====)'; rc=${PIPESTATUS[0]}
    fi
    echo "=== $t: exit $rc in $(( $(date +%s) - start )) s"
    if [ "$rc" = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
EOS
chmod +x "$out/run-gpu-tests.sh"

# Each program also gets a wrapper that finds the bundled libraries.
for f in "$out"/bin/*; do
    name=$(basename "$f")
    case $name in *.real) continue ;; esac
    mv "$f" "$f.real"
    cat >"$f" <<EOS
#!/bin/sh
here=\$(cd "\$(dirname "\$0")" && pwd)
LD_LIBRARY_PATH="\$here/../lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "\$here/$name.real" "\$@"
EOS
    chmod +x "$f"
done

# The benchmark scripts beside the programs: bundle/bench/e2e/run_all.sh OUTDIR runs the whole
# end-to-end benchmark there (it finds ../../bin), and COMMIT names what the bundle was built
# from, for the benchmark's report (bench/README.md has the GPU procedure).
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -d "$root/bench/e2e" ]; then
    mkdir -p "$out/bench/e2e"
    cp -p "$root"/bench/e2e/*.py "$root"/bench/e2e/*.sh "$out/bench/e2e/"
fi
# acceptance.sh: the GPU issues' "Done when" checks in one script (scripts/gpu-acceptance.sh).
cp -p "$root/scripts/gpu-acceptance.sh" "$out/acceptance.sh"
git -C "$root" describe --always --dirty >"$out/COMMIT" 2>/dev/null || echo unknown >"$out/COMMIT"

size=$(du -sh "$out" | cut -f1)
printf 'make-bundle: %s: %d programs, %d tests, %d libraries (%s)\n' "$out" "$n_bin" "$n_tests" \
    "$n_libs" "$size"
if [ $tar = 1 ]; then
    tar -C "$(dirname "$out")" -cJf "$out.tar.xz" "$(basename "$out")"
    printf 'make-bundle: %s.tar.xz (%s)\n' "$out" "$(du -sh "$out.tar.xz" | cut -f1)"
fi
