"""The strangers bench runs end to end at a tiny size (its figures are printed, never asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_strangers.py"


def test_strangers_bench_runs_and_every_stranger_comes_and_goes() -> None:
    args = ["--strangers", "10", "--warm-up", "5", "--at-once", "5", "--probes", "2"]
    result = subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "strangers: 10 came and went, 0 failed" in result.stdout
    assert "rows 0 -> 0" in result.stdout
    assert "ratio accept rate busy/idle" in result.stdout
