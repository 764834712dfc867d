"""The memory bench runs end to end at a tiny size: every section prints its ratio (figures are read, not
asserted), and the synthetic clustering is checked for correctness, which is not a matter of timing."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_memory.py"
NUMBER = r"([0-9]+(?:\.[0-9]+)?(?:e[-+]?[0-9]+)?)"


def _ratio(stdout: str, label: str) -> float:
    match = re.search(rf"^   {re.escape(label)}\s+{NUMBER}x$", stdout, re.MULTILINE)
    assert match, f"no summary ratio {label!r} in:\n{stdout}"
    value = float(match.group(1))
    assert math.isfinite(value) and value > 0, f"{label}: {value}"
    return value


def _rates(stdout: str, pattern: str) -> list[float]:
    values = [float(v) for v in re.findall(pattern, stdout)]
    assert values and all(math.isfinite(v) and v > 0 for v in values), f"{pattern!r}: {values} in:\n{stdout}"
    return values


def test_memory_bench_prints_every_ratio_and_clusters_the_synthetic_themes() -> None:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    result = subprocess.run(
        [sys.executable, str(BENCH), "--quick"], capture_output=True, text=True, timeout=300, env=env, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    print(out)

    # 1. ingest: both baselines ran (docs/s from the in-process parser) next to the daemon's figure
    assert len(_rates(out, rf"in-process sniff\+parse\+chunk :\s+{NUMBER} docs/s")) == 2
    assert len(_rates(out, rf"secondmed ingest job\s+:\s+{NUMBER} docs/s")) == 2
    _ratio(out, "ingest Markdown daemon/raw")
    _ratio(out, "ingest PDF daemon/raw")

    # 2. embedding: the raw forward passes ran over the chunks the job embedded (16 notes, 2 chunks each)
    assert "2. Embedding throughput (16 memories, 32 chunks" in out
    _rates(out, rf"raw model forward \+ mean-pool :\s+{NUMBER} chunks/s")
    _rates(out, rf"secondmed embed job\s+:\s+{NUMBER} chunks/s")
    _ratio(out, "embed job/raw forward")
    _ratio(out, "embed job, embedding stage/raw forward")

    # 3. clustering at every size, scipy's exact linkage beside it, and the growth ratios
    for n in (300, 600, 2400):
        _ratio(out, f"cluster/scipy speed n={n}")
    _ratio(out, "cluster time per memory n=600/n=300")
    _ratio(out, "cluster time per memory n=2400/n=300")
    ari = _rates(out, rf"cluster ARI {NUMBER} \(vs true themes")
    assert len(ari) == 3 and min(ari) > 0.8, ari
    # the exact path (up to 2000 vectors) is scipy's own average linkage: the same clusters
    agree = [float(v) for v in re.findall(rf"ARI cluster vs scipy {NUMBER}", out)]
    assert len(agree) == 3 and min(agree[:2]) > 0.99 and agree[2] > 0.8, agree

    # incremental update: a ratio, and the 10 new memories land where their themes are
    _ratio(out, "from scratch/plan_membership n=600")
    placed = re.search(r"placed as expected: (\d+) of 10", out)
    assert placed and int(placed.group(1)) == 10, out
