"""The hostile-ingest bench runs end to end at its quick size: both runs finish and every figure is
printed (the figures are read, not asserted: speed is the bench's business, not a test's)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_ingest_hostile.py"


def test_the_hostile_ingest_bench_prints_its_figures():
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    run = subprocess.run(
        [sys.executable, str(BENCH), "--quick"], capture_output=True, text=True, timeout=600, env=env, check=False
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = run.stdout
    labels = ("ingest job time", "good notes per second", "peak RSS daemon", "peak RSS job child", "CPU parse workers")
    for label in labels:
        assert re.search(rf"^  {label}\s+\d", out, re.MULTILINE), (label, out)
    assert re.search(r"^  peak RSS parse workers\s+\d+ MB\s+[1-9]\d* MB$", out, re.MULTILINE), out
    assert re.search(r"^processor time without/with hostile files: \d+\.\d\dx$", out, re.MULTILINE), out
    assert re.search(r"'failed': 0", out) and re.search(r"^   ratio \d+\.\d\dx$", out, re.MULTILINE), out
