"""Time per memory of the identity update with the packaged model, against a baseline checkout, in one run.

For each checkout (this one, and with `--baseline DIR` another one with its own `.venv`, e.g. a
`git worktree` of an older commit), a fresh secondmed with the packaged Gemma 3 270M active ingests
the first N notes of the persona and updates the identity; the identity jobs' run time (from the
job records) divided by N is the time per memory. The capability check (once per model, in its own
job or at the start of the first identity job) is reported apart: it is paid once, not per memory.

    .venv/bin/python bench/bench_identity_throughput.py [--memories 12] [--baseline DIR] [PERSONA_DIR]

Slow (minutes per checkout on 2 cores) and noisy on a shared machine: compare within one run.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from harness import start_daemon

from secondme.daemon.client import Client
from secondme.daemon.client.jobs import Job

REPO = Path(__file__).resolve().parents[1]
PERSONA = REPO / "tests" / "persona"
BUSY = ("queued", "running")


@dataclass
class Measured:
    memories: int
    identity_seconds: float
    probe_seconds: float
    report: str

    @property
    def per_memory(self) -> float:
        return self.identity_seconds / self.memories


def _seconds(job: Job) -> float:
    assert job.started_at is not None and job.finished_at is not None
    return (job.finished_at - job.started_at).total_seconds()


def measure(checkout: Path, notes: list[Path], timeout: float) -> Measured:
    """Ingest `notes` into a fresh daemon run from `checkout` and time its identity update."""
    daemon = start_daemon(
        init_args=("--name", "Owner"), settings={"network.enabled": "false"}, checkout=checkout, log_level=None
    )
    try:
        folder = daemon.root / "notes"
        folder.mkdir()
        for note in notes:
            shutil.copy(note, folder / note.name)
        client = Client.connect(daemon.socket)
        client.memories.ingest([folder])
        deadline = time.monotonic() + timeout
        while True:  # until the identity update has run and nothing is left to do
            jobs = client.jobs.list(limit=100)
            if any(j.kind == "identity" for j in jobs) and not any(j.state in BUSY for j in jobs):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the pipeline of {checkout} did not finish within {timeout:.0f} s")
            time.sleep(1)
        failed = [j for j in jobs if not j.succeeded]
        if failed:
            raise RuntimeError(f"{failed[0].kind} job failed in {checkout}: {failed[0].error}")
        identity = [j for j in jobs if j.kind == "identity"]
        probe = [j for j in jobs if j.kind == "probe"]
        client.close()
        return Measured(
            memories=len(notes),
            identity_seconds=sum(_seconds(j) for j in identity),
            probe_seconds=sum(_seconds(j) for j in probe),
            report=identity[0].result_json[:400] if identity else "",
        )
    finally:
        daemon.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memories", type=int, default=12, help="notes ingested (the first N by name)")
    parser.add_argument("--baseline", type=Path, help="another checkout with its own .venv to compare against")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed per checkout")
    parser.add_argument("persona", nargs="?", type=Path, default=PERSONA, help="persona folder (default: %(default)s)")
    args = parser.parse_args()
    notes = sorted((args.persona / "notes").iterdir())[: args.memories]
    runs = {"this checkout": REPO}
    if args.baseline:
        runs = {"baseline": args.baseline.resolve(), **runs}
    measured: dict[str, Measured] = {}
    for label, checkout in runs.items():
        result = measure(checkout, notes, args.timeout)
        measured[label] = result
        print(
            f"{label} ({checkout}): identity update {result.identity_seconds:.1f} s for {result.memories} "
            f"memories = {result.per_memory:.2f} s/memory; capability-check job {result.probe_seconds:.1f} s"
        )
        print(f"   report: {result.report}")
    if "baseline" in measured:
        base, now = measured["baseline"], measured["this checkout"]
        print(f"ratio baseline/this checkout, time per memory: {base.per_memory / max(now.per_memory, 1e-9):.1f}x")
        with_probe = (now.identity_seconds + now.probe_seconds) / now.memories
        print(f"ratio counting this checkout's one-time capability check as well: {base.per_memory / with_probe:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
