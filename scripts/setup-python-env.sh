#!/usr/bin/env bash
# setup-python-env.sh - the Python virtual environment the ONNX parity tests use: onnx,
# onnxruntime and numpy from PyPI, in a venv under the build folder (and, optionally,
# ai-edge-litert, the TFLite interpreter, for the export tests).
#
#   scripts/setup-python-env.sh [VENV_DIR]        (default: $SENTINEL_VENV, else build/venv)
#
# Idempotent: a venv that was completed before (VENV_DIR/.sentinel-ready names the same
# requirements) is left alone and the script returns at once. The venv sees the system's
# packages (--system-site-packages), so Debian's python3-torch / python3-torchvision, when
# installed, let the tests also export real torchvision models; numpy stays below 2 because
# Debian's torch is built against numpy 1.x.
#
# When the environment cannot be made (no python3-venv, PyPI unreachable) the script still exits
# 0 but writes the reason to VENV_DIR/.sentinel-unavailable: the parity tests then SKIP, saying
# why, instead of passing silently or failing the whole suite on an offline machine.
# SENTINEL_VENV_STRICT=1 makes such a failure exit 1 instead.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv=${1:-${SENTINEL_VENV:-$root/build/venv}}
reqs=("numpy<2" "onnx" "onnxruntime")
# The TFLite interpreter, for the export tests only: optional, so a platform without a wheel
# keeps the ONNX tests; its absence is noted in .sentinel-litert-unavailable instead.
extra=("ai-edge-litert")
stamp="$venv/.sentinel-ready"
unavailable="$venv/.sentinel-unavailable"
litert_missing="$venv/.sentinel-litert-unavailable"
want="requirements: ${reqs[*]} + ${extra[*]}"

say() { printf 'setup-python-env: %s\n' "$*"; }
give_up() {
    mkdir -p "$venv"
    printf '%s\n' "$*" >"$unavailable"
    rm -f "$stamp"
    say "unavailable: $*"
    [ "${SENTINEL_VENV_STRICT:-0}" = 1 ] && exit 1
    exit 0
}

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ] &&
    "$venv/bin/python" -c 'import onnx, onnxruntime, numpy' >/dev/null 2>&1 &&
    { [ -f "$litert_missing" ] || "$venv/bin/python" -c 'import ai_edge_litert' >/dev/null 2>&1; }; then
    say "ready: $venv"
    exit 0
fi

# Debian's interpreter, so the venv can see Debian's python3-torch (built for it).
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3 || true)
[ -n "$py" ] || give_up "no python3 interpreter found"

mkdir -p "$(dirname "$venv")"
rm -f "$unavailable"
if [ ! -x "$venv/bin/python" ]; then
    say "creating $venv"
    "$py" -m venv --system-site-packages "$venv" >"$venv.log" 2>&1 ||
        give_up "python3 -m venv failed (is python3-venv installed?): $(tail -n 3 "$venv.log" | tr '\n' ' ')"
fi
say "installing ${reqs[*]} (pip)"
if ! "$venv/bin/python" -m pip install --disable-pip-version-check -q --timeout 60 --retries 2 \
    "${reqs[@]}" >"$venv/pip.log" 2>&1; then
    give_up "pip install ${reqs[*]} failed (PyPI unreachable?): $(tail -n 2 "$venv/pip.log" | tr '\n' ' ')"
fi
"$venv/bin/python" -c 'import onnx, onnxruntime, numpy' >"$venv/check.log" 2>&1 ||
    give_up "the venv cannot import onnx/onnxruntime/numpy: $(tail -n 2 "$venv/check.log" | tr '\n' ' ')"
say "installing ${extra[*]} (pip, optional)"
rm -f "$litert_missing"
if ! "$venv/bin/python" -m pip install --disable-pip-version-check -q --timeout 60 --retries 2 \
    "${extra[@]}" >"$venv/pip-extra.log" 2>&1 ||
    ! "$venv/bin/python" -c 'import ai_edge_litert.interpreter' >>"$venv/pip-extra.log" 2>&1; then
    printf 'pip install %s failed: %s\n' "${extra[*]}" "$(tail -n 2 "$venv/pip-extra.log" | tr '\n' ' ')" >"$litert_missing"
    say "without ${extra[*]}: $(cat "$litert_missing")"
fi
printf '%s\n' "$want" >"$stamp"
rm -f "$venv.log"
say "ready: $venv ($("$venv/bin/python" -c 'import onnx, onnxruntime, numpy; print("onnx", onnx.__version__, "onnxruntime", onnxruntime.__version__, "numpy", numpy.__version__)'))"
