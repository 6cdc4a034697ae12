#!/usr/bin/env bash
# cpu_compare.sh - run bench/cpu_compare.py (Sentinel's CPU backend vs ONNX Runtime's CPU
# provider) with the project's Python venv, making the venv first when it is missing
# (scripts/setup-python-env.sh) and building the three programs it needs.
#
#   bench/cpu_compare.sh [cpu_compare.py options]      e.g. --threads 2 --seconds 5
#
# Environment: SENTINEL_BUILD (default build/: a Release build folder, configured if absent),
# SENTINEL_VENV (default $SENTINEL_BUILD/venv), SENTINEL_NO_BUILD=1 (use the programs already in
# $SENTINEL_BUILD/bin as they are).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${SENTINEL_BUILD:-$root/build}
venv=${SENTINEL_VENV:-$build/venv}
command -v taskset >/dev/null || { echo "cpu_compare.sh: taskset not found (util-linux)" >&2; exit 1; }
if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
if [ "${SENTINEL_NO_BUILD:-0}" != 1 ]; then
    cmake --build "$build" -j"$(nproc)" --target sentinel-zoo sentinel-export sentinel-bench-cpu >/dev/null
fi
SENTINEL_VENV_STRICT=1 bash "$root/scripts/setup-python-env.sh" "$venv"
SENTINEL_BUILD=$build exec "$venv/bin/python" "$root/bench/cpu_compare.py" --build "$build" "$@"
