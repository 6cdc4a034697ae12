#!/usr/bin/env bash
# onnx-test-models.sh - the CTest fixture of the ONNX parity tests: make (or reuse) the Python
# venv, then write the test models, inputs and ONNX Runtime outputs.
#
#   scripts/onnx-test-models.sh VENV_DIR MODELS_DIR
#
# Without a usable venv (offline machine) it writes nothing and exits 0: the parity tests then
# skip, giving the reason setup-python-env.sh recorded. A failure to build the models is an error.
# SENTINEL_ONNX_TORCH=yes|no|auto (default auto) controls the torchvision exports.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${1:?usage: onnx-test-models.sh VENV_DIR MODELS_DIR}
models=${2:?usage: onnx-test-models.sh VENV_DIR MODELS_DIR}

bash "$root/scripts/setup-python-env.sh" "$venv"
if [ -f "$venv/.sentinel-unavailable" ]; then
    echo "onnx-test-models: skipped: $(cat "$venv/.sentinel-unavailable")"
    exit 0
fi
rm -rf "$models"
mkdir -p "$models"
export OMP_NUM_THREADS=1 PYTHONDONTWRITEBYTECODE=1
"$venv/bin/python" "$root/tests/onnx/make_models.py" "$models" --torch "${SENTINEL_ONNX_TORCH:-auto}"
