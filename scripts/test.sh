#!/usr/bin/env bash
# Install everything and run the checks CI runs: generated stubs current, ruff clean, the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh "default-model,dev"
.venv/bin/python scripts/gen_protos.py --check
.venv/bin/ruff check .
.venv/bin/ruff format --check .
HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 exec .venv/bin/python -m pytest "$@"
