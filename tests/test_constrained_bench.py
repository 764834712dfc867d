"""The constrained-generation bench runs end to end (its speeds are printed, never asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_constrained.py"


def test_constrained_bench_measures_all_three_ways_of_generating() -> None:
    args = ["--runs", "1", "--tokens", "40"]
    result = subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    rates = dict(re.findall(r"^(lazy|llama-cpp-python grammar|plain)\s+([0-9.]+) tok/s", result.stdout, re.M))
    assert set(rates) == {"lazy", "llama-cpp-python grammar", "plain"} and all(float(v) > 0 for v in rates.values())
    assert re.search(r"ratio lazy/llama-cpp-python grammar [0-9.]+x", result.stdout)
