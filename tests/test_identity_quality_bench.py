"""The identity quality bench runs end to end on the persona (retrieval part; the model part is opt-in)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_identity_quality.py"


def test_quality_bench_measures_retrieval_recall_on_the_persona_questions() -> None:
    result = subprocess.run([sys.executable, str(BENCH), "--no-model"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    recall = {m[0]: float(m[1]) for m in re.findall(r"recall@5 (\w+)\s+([0-9.]+)", result.stdout)}
    assert set(recall) == {"hybrid", "dense", "lexical"}
    # a floor well under what was measured (0.84 hybrid): retrieval that finds the evidence for most questions
    assert recall["hybrid"] >= 0.6 and recall["dense"] >= 0.6
    assert "ratio hybrid/dense" in result.stdout
    assert re.search(r"questions with evidence: (\d+)", result.stdout) is not None
