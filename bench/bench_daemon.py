"""Daemon benchmarks, each a ratio against a baseline measured in the same run.

1. GetStatus latency through secondmed vs a bare grpc.aio server answering the same message.
2. GetStatus p99 while an ingest job of 2,000 Markdown files runs vs idle (goal <= 1.5x). The
   control: the bare server of 1., polled the same way while the same ingest runs outside any daemon
   (`ingest_load.py`: the job's pipeline in a process niced as a job is), shows how much of the
   ratio the machine itself makes: on 2 cores, the bare server's p99 under that load is 7-10x its idle one.
3. Ingest throughput of 2,000 Markdown files through the daemon vs reading and chunking them
   in-process (goal >= 0.5x): ingests of fresh copies that nobody polls (the client waits on
   WatchJob), since the status loop of 2. takes a core of its own on a 2-core machine; the
   throughput under that loop is printed too. Each round measures the in-process baseline and then
   the daemon's ingest of the same copy; the ratio is of the medians over the rounds, since one pair
   of ~1 s measurements swings by a third on a shared 2-core machine.
4. An owner's write (deleting a memory) while an ingest's batches take SQLite's write lock one after
   another vs idle: the daemon's writes take the next turn (daemon/store/write_turn.py).
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from statistics import median

import grpc
from harness import describe, latencies, percentile, start_daemon, wait_healthy, wait_idle

from secondme.daemon.client import Client
from secondme.pipeline.ingest import chunk_text
from secondme.pipeline.parsers.text import MarkdownParser
from secondme.v1 import daemon_pb2, daemon_pb2_grpc

HERE = Path(__file__).resolve().parent
# No model: a daemon with one checks it in a probe job at start, which would run during the idle
# measurement and make the ingest job wait behind it.
NO_MODEL = ("--no-default-model",)
WARMUP = 50


def make_notes(folder: Path, count: int, series: str = "Note") -> None:
    folder.mkdir(parents=True)
    for i in range(count):
        words = " ".join(f"word{(i * 13 + j) % 1009}" for j in range(300))
        (folder / f"note-{i:05d}.md").write_text(
            f"---\ntitle: {series} {i}\ndate: 2024-01-01\n---\n# {series} {i}\n\n{words}\n"
        )


@contextlib.contextmanager
def bare_server() -> Iterator[Callable[[], object]]:
    """A bare grpc.aio server answering GetStatus; yields a call to it through a raw stub."""
    with tempfile.TemporaryDirectory(prefix="smb-", dir="/tmp") as tmp:
        path = Path(tmp) / "bare.sock"
        bare = subprocess.Popen([sys.executable, str(HERE / "bare_status_server.py"), str(path)])
        try:
            wait_healthy(path)
            channel = grpc.insecure_channel(f"unix:{path}")
            stub = daemon_pb2_grpc.DaemonServiceStub(channel)
            yield lambda: stub.GetStatus(daemon_pb2.GetStatusRequest())
            channel.close()
        finally:
            bare.terminate()
            bare.wait()


def poll_while(running: Callable[[], bool], call: Callable[[], object]) -> list[float]:
    """Latencies of `call`, every 2 ms, for as long as `running()` says."""
    busy: list[float] = []
    while running():
        t0 = time.perf_counter()
        call()
        busy.append(time.perf_counter() - t0)
        time.sleep(0.002)
    return busy


def cancel_follow_ups(client: Client) -> None:
    """Cancel the embed (and identity) jobs an ingest queued: they must not share the next ingest's cores,
    and waiting for them to embed 2,000 notes takes minutes a round. They are queued before the ingest's
    end is published, so after `jobs.wait` they are listed."""
    for job in client.jobs.list(["queued", "running"]):
        client.jobs.cancel(job.id)


def bench_status_vs_bare(n: int) -> list[float]:
    """The server side alone: both servers are asked through the same raw stub (no typed client on top)."""
    with bare_server() as call:
        baseline = latencies(call, n)
    daemon = start_daemon(init_args=NO_MODEL)
    try:
        channel = grpc.insecure_channel(f"unix:{daemon.socket}")
        stub = daemon_pb2_grpc.DaemonServiceStub(channel)
        ours = latencies(lambda: stub.GetStatus(daemon_pb2.GetStatusRequest()), n)
        channel.close()
    finally:
        daemon.stop()
    print("1. GetStatus latency")
    print(f"   bare grpc.aio server : {describe(baseline)}")
    print(f"   secondmed            : {describe(ours)}")
    print(
        f"   ratio secondmed/bare : p50 {percentile(ours, 50) / percentile(baseline, 50):.2f}x  "
        f"p99 {percentile(ours, 99) / percentile(baseline, 99):.2f}x"
    )
    return ours


def read_in_process(folder: Path) -> float:
    """Documents per second, reading, parsing and chunking `folder`'s notes in this process."""
    started = time.perf_counter()
    parser = MarkdownParser()
    paths = sorted(folder.iterdir())
    for path in paths:
        chunk_text(parser.parse(path.read_bytes(), path).text, 256, 32)
    return len(paths) / (time.perf_counter() - started)


def bench_status_under_ingest_and_throughput(files: int, n: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="smb-notes-") as tmp:
        polled, load = Path(tmp) / "polled", Path(tmp) / "load"
        quiet = [Path(tmp) / f"quiet-{i}" for i in range(rounds)]
        make_notes(polled, files)
        for i, folder in enumerate(quiet):
            make_notes(folder, files, series=f"Copy {i}")  # other bytes: not duplicates of another folder
        make_notes(load, files, series="Load")
        in_process: list[float] = []
        through_daemon: list[float] = []

        daemon = start_daemon(init_args=NO_MODEL)
        try:
            client = Client.connect(daemon.socket)
            idle = latencies(client.daemon.status, n)
            started = time.perf_counter()
            job = client.memories.ingest([str(polled)])
            done = threading.Event()

            def watch() -> None:
                client.jobs.wait(job.id)
                done.set()

            watcher = threading.Thread(target=watch)
            watcher.start()
            busy = poll_while(lambda: not done.is_set(), client.daemon.status)
            under_polling = files / (time.perf_counter() - started)
            watcher.join()
            final = client.jobs.get(job.id)
            assert final.succeeded, final.error
            for folder in quiet:
                cancel_follow_ups(client)
                in_process.append(read_in_process(folder))
                started = time.perf_counter()
                final = client.jobs.wait(client.memories.ingest([str(folder)]).id)
                through_daemon.append(files / (time.perf_counter() - started))
                assert final.succeeded, final.error
            client.close()
        finally:
            daemon.stop()
        with bare_server() as call:
            bare_idle = latencies(call, n)
            (Path(tmp) / "store").mkdir()
            loading = subprocess.Popen(
                [sys.executable, str(HERE / "ingest_load.py"), str(load), str(Path(tmp) / "store")]
            )
            bare_busy = poll_while(lambda: loading.poll() is None, call)
            assert loading.returncode == 0, "the control's ingest failed"
    print(f"2. GetStatus while ingesting {files} Markdown files")
    print(f"   idle   : {describe(idle)}")
    print(f"   busy   : {describe(busy)}")
    print(f"   ratio busy/idle p99: {percentile(busy, 99) / percentile(idle, 99):.2f}x (goal <= 1.5x)")
    print("   control, the bare server while the same ingest runs outside a daemon:")
    print(f"   idle   : {describe(bare_idle)}")
    print(f"   busy   : {describe(bare_busy)}")
    print(f"   ratio busy/idle p99: {percentile(bare_busy, 99) / percentile(bare_idle, 99):.2f}x (the machine's own)")
    print(f"3. Ingest throughput of {files} Markdown files, median of {rounds} rounds")
    print(f"   in-process read+parse+chunk : {median(in_process):8.0f} docs/s  ({_rates(in_process)})")
    print(
        f"   secondmed ingest job        : {median(through_daemon):8.0f} docs/s  ({_rates(through_daemon)}; "
        "incl. storing originals, chunks, FTS)"
    )
    print(f"   ratio daemon/in-process     : {median(through_daemon) / median(in_process):.2f}x (goal >= 0.5x)")
    print(f"   (under 2.'s status loop     : {under_polling:8.0f} docs/s)")


def _rates(rates: list[float]) -> str:
    return ", ".join(f"{rate:.0f}" for rate in rates)


def bench_write_under_ingest(files: int, deletes: int) -> None:
    with tempfile.TemporaryDirectory(prefix="smb-write-") as tmp:
        notes, kept = Path(tmp) / "notes", Path(tmp) / "kept"
        make_notes(notes, files, series="Write")
        make_notes(kept, 2 * deletes + WARMUP, series="Kept")  # what the owner deletes, one per call
        daemon = start_daemon(init_args=NO_MODEL)
        try:
            client = Client.connect(daemon.socket)
            assert client.jobs.wait(client.memories.ingest([str(kept)]).id).succeeded
            wait_idle(client)
            victims = [m.id for m in client.memories.list(limit=2 * deletes + WARMUP)]
            idle = latencies(lambda: client.memories.delete(victims.pop()), deletes, warmup=WARMUP)
            job = client.memories.ingest([str(notes)])
            while not (progress := client.jobs.get(job.id).progress) or progress.done == 0:  # parsing begun
                time.sleep(0.005)
            busy: list[float] = []
            while victims and not client.jobs.get(job.id).finished:
                t0 = time.perf_counter()
                client.memories.delete(victims.pop())
                busy.append(time.perf_counter() - t0)
                time.sleep(0.01)
            assert client.jobs.wait(job.id).succeeded
            client.close()
        finally:
            daemon.stop()
    print(f"4. Deleting a memory while ingesting {files} Markdown files")
    print(f"   idle   : {describe(idle)}")
    print(f"   busy   : {describe(busy)}")
    print(
        f"   ratio busy/idle p50 {percentile(busy, 50) / percentile(idle, 50):.2f}x  "
        f"p99 {percentile(busy, 99) / percentile(idle, 99):.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3, help="ingests measured for 3.")
    args = parser.parse_args()
    bench_status_vs_bare(args.calls)
    bench_status_under_ingest_and_throughput(args.files, args.calls, args.rounds)
    bench_write_under_ingest(args.files * 3, 200)


if __name__ == "__main__":
    main()
