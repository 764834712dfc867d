"""The grant benchmark runs in CI (small sizes) so it cannot rot; its numbers are read, not asserted."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_grants.py"


def test_grant_bench_runs_and_prints_every_ratio() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "-n", "200", "--revoked", "500"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    print(result.stdout)
    for label in ("authorize(token text)", "authorize(wire bytes)", "open_session+close", "refuse a 1 MB token"):
        line = next((line for line in result.stdout.splitlines() if line.startswith(label)), "")
        assert re.search(r"ratio \d+\.\d+x", line), f"no ratio for {label!r} in:\n{result.stdout}"
