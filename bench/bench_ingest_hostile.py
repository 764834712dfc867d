"""Ingest beside hostile files: the good notes' throughput with the hostile corpus beside them vs without.

Two fresh daemons ingest the same good notes (5,000 by default), the second with the project's
hostile corpus in the same folder (tests/fixtures/hostile_corpus.py: names that are not UTF-8,
links out of the folder, pipes and sockets, a billion laughs, a PDF stream inflating to 1 GiB, a
2,000-page PDF without text, a 10-gigapixel PNG, silence, 100,000 nested divs, ...). For each:
the ingest job's time (its started_at to finished_at), the good notes per second, and peak
memory (VmHWM) of the daemon, the job child and its parse workers, and the processor time of the
job child and its workers (which, unlike the wall time, does not depend on the machine's load).
The goal: the good notes go at least 0.9x as fast with the hostile files beside them.

Run: .venv/bin/python bench/bench_ingest_hostile.py [--notes 5000] [--rounds 1] [--quick]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
from fixtures.hostile_corpus import write_hostile_corpus  # noqa: E402
from harness import start_daemon  # noqa: E402

from secondme.daemon.client import Client  # noqa: E402

CONFIG = "version = 1\n[network]\nenabled = false\n[identity]\nauto_update = false\n"
WORDS = ["harbour", "ferry", "garden", "letter", "bread", "tide", "walk", "kiln", "glaze", "hive", "train", "map"]


def write_notes(folder: Path, count: int) -> None:
    """Markdown notes of about 150 words with front matter, each different."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        words = " ".join(f"{WORDS[(i + j) % len(WORDS)]}{(i * 31 + j) % 997}" for j in range(150))
        (folder / f"note-{i:05d}.md").write_text(
            f"---\ntitle: Note {i}\ndate: 2024-{1 + i % 12:02d}-{1 + i % 28:02d}\ntags: [bench]\n---\n"
            f"# Note {i}\n\n{words}\n"
        )


def _vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Run:
    seconds: float
    result: dict
    daemon_peak_mb: float

    def rate(self, notes: int) -> float:
        return notes / self.seconds


def _cpu(run: Run) -> float:
    return run.result["cpu_seconds"]["job"] + run.result["cpu_seconds"]["parsers"]


def ingest_once(folder: Path) -> Run:
    with start_daemon(CONFIG) as daemon:
        with Client.connect(daemon.socket) as client:
            job = client.jobs.wait(client.memories.ingest([folder]).id)
        if not job.succeeded:
            raise RuntimeError(f"the ingest ended {job.state}: {job.error}")
        assert job.started_at is not None and job.finished_at is not None
        seconds = (job.finished_at - job.started_at).total_seconds()
        return Run(seconds, job.result, _vm_hwm_mb(daemon.process.pid))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=1, help="pairs of runs, alternating (noise shows in the spread)")
    parser.add_argument("--quick", action="store_true", help="300 notes and a 64 MiB stream: the size the test runs")
    args = parser.parse_args()
    notes, inflated = (300, 64 << 20) if args.quick else (args.notes, 1 << 30)
    root = Path(tempfile.mkdtemp(prefix="smb-hostile-", dir="/tmp"))
    try:
        good, mixed = root / "good" / "notes", root / "mixed" / "notes"
        write_notes(good, notes)
        shutil.copytree(good, mixed)
        hostile = write_hostile_corpus(mixed, inflated_bytes=inflated)
        print(
            f"{notes} good notes; beside them {len(hostile)} hostile files (a stream inflates to {inflated >> 20} MiB)"
        )
        pairs = []
        for _ in range(args.rounds):
            pairs.append((ingest_once(good), ingest_once(mixed)))
        print()
        print(f"{'':28}{'good notes only':>18}{'with hostile files':>22}")
        for number, (alone, beside) in enumerate(pairs, start=1):
            print(f"round {number}")
            print(f"  {'ingest job time':26}{alone.seconds:>15.1f} s{beside.seconds:>19.1f} s")
            print(f"  {'good notes per second':26}{alone.rate(notes):>17.0f}{beside.rate(notes):>21.0f}")
            print(f"  {'peak RSS daemon':26}{alone.daemon_peak_mb:>14.0f} MB{beside.daemon_peak_mb:>18.0f} MB")
            for who, label in (("job", "peak RSS job child"), ("parsers", "peak RSS parse workers")):
                print(
                    f"  {label:26}{alone.result['peak_memory_mb'][who]:>14.0f} MB"
                    f"{beside.result['peak_memory_mb'][who]:>18.0f} MB"
                )
            for who, label in (("job", "CPU job child"), ("parsers", "CPU parse workers")):
                print(
                    f"  {label:26}{alone.result['cpu_seconds'][who]:>15.1f} s"
                    f"{beside.result['cpu_seconds'][who]:>19.1f} s"
                )
        _, beside = pairs[-1]
        counts = {k: beside.result[k] for k in ("ingested", "partial", "duplicate", "skipped", "failed")}
        print(f"\nwith the hostile files: {counts}; every problem listed: {len(beside.result['problems'])}")
        ratios = [beside.rate(notes) / alone.rate(notes) for alone, beside in pairs]
        print(f"\nthroughput with/without hostile files: {' '.join(f'{r:.2f}x' for r in ratios)} (goal >= 0.9x)")
        print(f"   ratio {min(ratios):.2f}x")
        # Processor time does not depend on the load of the machine: where the two runs share it with
        # other work, the wall-time ratio tends to this one; on idle cores the parse workers run beside
        # the notes and the wall-time ratio is higher.
        cpu = [_cpu(alone) / _cpu(beside) for alone, beside in pairs]
        print(f"processor time without/with hostile files: {' '.join(f'{r:.2f}x' for r in cpu)}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
