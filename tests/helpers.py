"""Small helpers shared by the integration tests."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil

from secondme.daemon.client import Stubs
from secondme.v1 import jobs_pb2, memory_pb2

TERMINAL = {
    jobs_pb2.JOB_STATE_SUCCEEDED,
    jobs_pb2.JOB_STATE_FAILED,
    jobs_pb2.JOB_STATE_CANCELLED,
    jobs_pb2.JOB_STATE_INTERRUPTED,
}


def make_notes(folder: Path, count: int, words: int = 40, prefix: str = "note") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"{prefix}-{i:05d}.md"
        body = " ".join(f"w{(i * 7 + j) % 997}" for j in range(words))
        path.write_text(f"# {prefix} {i}\n\n{body}\n")
        paths.append(path)
    return paths


def ingest(client: Stubs, *paths: Path, **kwargs) -> jobs_pb2.Job:
    request = memory_pb2.IngestRequest(paths=[str(p) for p in paths], **kwargs)
    return client.memory.Ingest(request, timeout=30).job


def wait_until(condition: Callable[[], object], what: str, timeout: float = 60, every: float = 0.05) -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout` (a guard, not a speed check)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def stored_count(data_dir: Path) -> int:
    """The memories the store itself holds (a job's progress reaches the daemon behind its commits)."""
    conn = sqlite3.connect(data_dir / "secondme.db", timeout=30)
    try:
        return conn.execute("SELECT COUNT(*) FROM memories").fetchone()[0]
    finally:
        conn.close()


def wait_stored(data_dir: Path, count: int, timeout: float = 120) -> None:
    """Until the store holds `count` memories: mid-way through a job, read where it is written."""
    wait_until(lambda: stored_count(data_dir) >= count, f"the store to hold {count} memories", timeout, every=0.01)


def _children_whose_command_has(daemon_pid: int, marker: str) -> list[psutil.Process]:
    found = []
    for child in psutil.Process(daemon_pid).children():
        with contextlib.suppress(psutil.NoSuchProcess):
            if marker in " ".join(child.cmdline()):
                found.append(child)
    return found


def fork_servers(daemon_pid: int) -> list[psutil.Process]:
    """The daemon's fork server (multiprocessing's), which forks its jobs: none before the jobs start."""
    return _children_whose_command_has(daemon_pid, "multiprocessing.forkserver")


def job_children(daemon_pid: int) -> list[psutil.Process]:
    """The daemon's job processes: the children of its fork server (a fresh interpreter's `spawn_main`
    where there is none), not multiprocessing's helpers (the fork server, the resource tracker)."""
    forked = [job for server in fork_servers(daemon_pid) for job in server.children()]
    return forked + _children_whose_command_has(daemon_pid, "spawn_main")


def job_processes(daemon_pid: int) -> list[psutil.Process]:
    """The daemon's job processes and everything they started (parse workers)."""
    return [p for job in job_children(daemon_pid) for p in (job, *job.children(recursive=True))]


@contextlib.contextmanager
def frozen(processes: list[psutil.Process]) -> Iterator[list[psutil.Process]]:
    """The processes stand still (SIGSTOP) inside the block, so what the test does next lands mid-way
    however fast the machine would have finished the work; they go on (SIGCONT) after it. Yields
    those it holds (not one that had already ended)."""
    held: list[psutil.Process] = []
    try:
        for process in processes:
            with contextlib.suppress(psutil.NoSuchProcess):  # one that ended meanwhile (a retired worker)
                process.suspend()
                held.append(process)
        yield held
    finally:
        for process in held:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.resume()


def wait_job(client: Stubs, job_id: str, timeout: float = 300) -> jobs_pb2.Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.jobs.GetJob(jobs_pb2.GetJobRequest(job_id=job_id), timeout=10).job
        if job.state in TERMINAL:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish within {timeout}s")


def wait_progress(client: Stubs, job_id: str, at_least: int, timeout: float = 120) -> jobs_pb2.Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.jobs.GetJob(jobs_pb2.GetJobRequest(job_id=job_id), timeout=10).job
        if job.progress.stage == "ingest" and job.progress.done >= at_least:
            return job
        assert job.state not in TERMINAL, f"job ended early: {job}"
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} did not reach {at_least} within {timeout}s")


def result(job: jobs_pb2.Job) -> dict:
    return json.loads(job.result_json)


def all_memories(client: Stubs) -> list[memory_pb2.Memory]:
    found, token = [], ""
    while True:
        page = client.memory.ListMemories(memory_pb2.ListMemoriesRequest(page_size=1000, page_token=token), timeout=30)
        found.extend(page.memories)
        token = page.next_page_token
        if not token:
            return found


NETNS_ENV = "SECONDME_TEST_NETNS"


def in_private_netns() -> bool:
    """True inside the network namespace `rerun_in_private_netns` made for this test."""
    return os.environ.get(NETNS_ENV) == "1"


def rerun_in_private_netns(test_file: str, test_name: str, setup: str = "") -> None:
    """Run one test again in a network namespace made here (`unshare -rn`) and assert it passed.

    For tests that must bind the unspecified address (0.0.0.0) or a fixed port: in the namespace
    the only interface is loopback (plus whatever `setup`, shell run first, adds), so nothing
    can reach or be reached beyond it. The test calls this unless `in_private_netns()`.
    """
    here = f"{Path(test_file).resolve()}::{test_name}"
    prepare = f"ip link set lo up && {setup + ' && ' if setup else ''}"
    command = f"{prepare}exec {sys.executable} -m pytest -q -p no:cacheprovider {here}"
    result = subprocess.run(
        ["unshare", "-rn", "sh", "-c", command],
        env={**os.environ, NETNS_ENV: "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout, result.stdout
