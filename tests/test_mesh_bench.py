"""The mesh bench runs end to end at a tiny size (its figures are printed, never asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_mesh.py"


def test_mesh_bench_runs_and_every_exchange_completes() -> None:
    args = ["--turns", "20", "--fresh", "1", "--peers", "3", "--exchanges", "2"]
    result = subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ratio p50 session/TCP" in result.stdout
    assert "3 peers x 2 turns: completed 6, failed 0" in result.stdout
