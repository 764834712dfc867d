"""Start real daemons for benchmarks: a temp dir, `secondmectl init`, `secondmed`, wait for health."""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from secondme.daemon.client import Client
from secondme.daemon.client.jobs import Job


@dataclass
class BenchDaemon:
    root: Path
    process: subprocess.Popen[bytes]

    @property
    def socket(self) -> Path:
        return self.root / "run" / "secondmed.sock"

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)
        shutil.rmtree(self.root, ignore_errors=True)


def env_for(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SECONDME_CONFIG=str(root / "config.toml"),
        SECONDME_DATA_DIR=str(root / "data"),
        SECONDME_SOCKET=str(root / "run" / "secondmed.sock"),
        HF_HUB_OFFLINE="1",
    )
    return env


def wait_idle(client: Client, check: bool = False) -> list[Job]:
    """Until no job is queued or running (ingest -> embed -> identity, a capability check), each
    waited on in turn; with `check`, a job that did not succeed stops the bench."""
    finished = []
    while busy := client.jobs.list(["queued", "running"], limit=1):
        final = client.jobs.wait(busy[0].id)
        if check and not final.succeeded:
            raise RuntimeError(f"{final.kind} job {final.id} ended {final.state}: {final.error}")
        finished.append(final)
    return finished


def wait_healthy(socket_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if socket_path.exists():
            channel = grpc.insecure_channel(f"unix:{socket_path}")
            try:
                health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)
                return
            except grpc.RpcError:
                pass
            finally:
                channel.close()
        time.sleep(0.05)
    raise RuntimeError(f"nothing healthy on {socket_path} after {timeout}s")


def start_daemon(config_text: str = "", init_args: tuple[str, ...] = ()) -> BenchDaemon:
    root = Path(tempfile.mkdtemp(prefix="smb-", dir="/tmp"))
    env = env_for(root)
    init = [sys.executable, "-m", "secondme.daemon.cli.main", "init", *init_args]
    subprocess.run(init, env=env, check=True, capture_output=True)
    if config_text:
        (root / "config.toml").write_text(config_text)
    log = (root / "secondmed.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "secondme.daemon.main", "--log-level", "warning"], env=env, stdout=log, stderr=log
    )
    daemon = BenchDaemon(root, process)
    wait_healthy(daemon.socket)
    return daemon


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def latencies(call: Callable[[], object], n: int, warmup: int = 50) -> list[float]:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def describe(samples: list[float]) -> str:
    return (
        f"p50 {percentile(samples, 50) * 1e3:.3f} ms  p99 {percentile(samples, 99) * 1e3:.3f} ms  "
        f"mean {statistics.fmean(samples) * 1e3:.3f} ms  (n={len(samples)})"
    )
