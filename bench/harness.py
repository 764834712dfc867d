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
    # The interpreter (a checkout's .venv) and folder its secondmed and secondmectl run with.
    python: str = sys.executable
    cwd: Path | None = None

    @property
    def socket(self) -> Path:
        return self.root / "run" / "secondmed.sock"

    @property
    def db(self) -> Path:
        return self.root / "data" / "secondme.db"

    def ctl(self, *argv: str) -> None:
        """Run `secondmectl ARGV` against this daemon (its output captured; a failure raises)."""
        _ctl(self.python, self.root, self.cwd, argv)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> BenchDaemon:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        """Stopped however the block ends; when it raised, the daemon's log is printed first, since
        the folder holding it goes with the daemon and a failed call's cause is only in the log."""
        if kind is not None:
            log = self.root / "secondmed.log"
            tail = log.read_text(errors="replace")[-6000:] if log.exists() else "(no log)"
            print(f"--- secondmed log ({log}) ---\n{tail}\n--- end of log ---", file=sys.stderr)
        self.stop()


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
                reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:  # listening comes before serving
                    return
            except grpc.RpcError:
                pass
            finally:
                channel.close()
        time.sleep(0.05)
    raise RuntimeError(f"nothing healthy on {socket_path} after {timeout}s")


def _ctl(python: str, root: Path, cwd: Path | None, argv: tuple[str, ...] | list[str]) -> None:
    command = [python, "-m", "secondme.daemon.cli.main", *argv]
    subprocess.run(command, env=env_for(root), check=True, capture_output=True, cwd=cwd)


# A bench's daemon joins no network beyond loopback: its mesh listens on 127.0.0.1 at a port the OS
# picks and never announces itself (mDNS), unless the bench's own config has a [network] section. As
# shipped (every interface, port 4001, mDNS) two benches' daemons clashed on the port, and a bench run
# by the tests announced itself on the machine's network.
LOOPBACK_NETWORK = '\n[network]\nlisten = ["/ip4/127.0.0.1/tcp/0"]\nmdns = false\n'


def start_daemon(
    config_text: str = "",
    init_args: tuple[str, ...] = (),
    settings: dict[str, str] | None = None,
    checkout: Path | None = None,
    log_level: str | None = "warning",
) -> BenchDaemon:
    """A fresh daemon in a folder of its own under /tmp, serving: `secondmectl init INIT_ARGS`, then
    `config_text` as its whole config or `settings` set one by one (`config set KEY VALUE`), run by
    `checkout`'s .venv (this checkout's interpreter by default) at `log_level` (None: the config's).
    Its mesh is on loopback only (`LOOPBACK_NETWORK`) unless the config says otherwise."""
    root = Path(tempfile.mkdtemp(prefix="smb-", dir="/tmp"))
    python = str(checkout / ".venv" / "bin" / "python") if checkout else sys.executable
    _ctl(python, root, checkout, ["init", *init_args])
    config = root / "config.toml"
    if config_text:
        config.write_text(config_text)
    if "[network]" not in config.read_text():
        config.write_text(config.read_text() + LOOPBACK_NETWORK)
    for key, value in (settings or {}).items():
        _ctl(python, root, checkout, ["config", "set", key, value])
    log = (root / "secondmed.log").open("wb")
    command = [python, "-m", "secondme.daemon.main", *(["--log-level", log_level] if log_level else [])]
    process = subprocess.Popen(command, env=env_for(root), stdout=log, stderr=log, cwd=checkout)
    log.close()
    daemon = BenchDaemon(root, process, python, checkout)
    try:
        wait_healthy(daemon.socket)
    except BaseException:
        daemon.stop()
        raise
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
