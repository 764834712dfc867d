"""Fixtures that run the real thing: `secondmed` processes on temp sockets with temp data dirs."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from secondme.daemon.client import Stubs
from secondme.daemon.config import ConfigError, parse_config, render_config
from secondme.daemon.store import Store

# Session-scoped tiny model fixtures (tiny_hf_model_dir, tiny_gguf, tiny_gguf_q8, tiny_gguf_q4km).
pytest_plugins = ["fixtures.models"]

REPO = Path(__file__).resolve().parents[1]
# The project's own test persona (notes, media, questions): see tests/persona/README.md.
PERSONA = REPO / "tests" / "persona"
STARTUP_TIMEOUT = 60.0


# Test daemons listen on loopback only, on a port the OS picks, and never announce themselves by
# mDNS (its receiving socket binds 0.0.0.0:5353), unless a test's config says otherwise.
TEST_NETWORK = {"listen": ["/ip4/127.0.0.1/tcp/0"], "mdns": False}


def for_tests(text: str) -> str:
    """The config text with the test network settings for whatever of them it leaves unsaid."""
    try:
        config = parse_config(text)
        said = tomllib.loads(text).get("network", {})
    except ConfigError:
        return text  # a test of a broken config file gets it as written
    unsaid = {key: value for key, value in TEST_NETWORK.items() if key not in said}
    return render_config(dataclasses.replace(config, network=dataclasses.replace(config.network, **unsaid)), True)


@dataclass
class RunningDaemon:
    """A secondmed process with its own config, data dir and socket."""

    root: Path
    config: Path
    data_dir: Path
    socket: Path
    log: Path
    extra_args: list[str] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)
    # Keep [network] as the test wrote it (default: loopback only, no mDNS; see `for_tests`).
    network_as_shipped: bool = False
    process: subprocess.Popen[bytes] | None = None
    _client: Stubs | None = None
    # The text `write_config` last wrote: applying the test settings twice would lose what a test
    # said (a setting equal to its default is not rendered, so the second pass sees it unsaid).
    _written: str | None = None

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SECONDME_") and k != "NOTIFY_SOCKET"}
        env.update(
            SECONDME_CONFIG=str(self.config),
            SECONDME_DATA_DIR=str(self.data_dir),
            SECONDME_SOCKET=str(self.socket),
            HF_HUB_OFFLINE="1",
        )
        env.update(self.extra_env)  # a test's own values win, also over the ones above
        return env

    def write_config(self, text: str) -> None:
        """Write the daemon's config file as a test means it (see `for_tests`)."""
        self.config.parent.mkdir(parents=True, exist_ok=True)
        self._written = text if self.network_as_shipped else for_tests(text)
        self.config.write_text(self._written)

    @property
    def client(self) -> Stubs:
        if self._client is None:
            self._client = Stubs(self.socket)
        return self._client

    def ctl(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "secondme.daemon.cli.main", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"secondmectl {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
        return result

    def start(self, wait: bool = True) -> RunningDaemon:
        # Whoever made this daemon (the factory, a module fixture, `init` alone), it listens on
        # loopback unless the test asked for the network as shipped.
        current = self.config.read_text() if self.config.exists() else "version = 1\n"
        if not self.network_as_shipped and current != self._written:
            self.write_config(current)
        log = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "secondme.daemon.main", *self.extra_args],
            env=self.env,
            stdout=log,
            stderr=log,
        )
        log.close()
        if wait:
            self.wait_serving()
        return self

    def wait_serving(self, timeout: float = STARTUP_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"secondmed exited with {self.process.returncode}:\n{self.log_text()}")
            if self.socket.exists():
                channel = grpc.insecure_channel(f"unix:{self.socket}")
                try:
                    reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.RpcError:
                    pass
                finally:
                    channel.close()
            time.sleep(0.1)
        raise AssertionError(f"secondmed did not start serving within {timeout}s:\n{self.log_text()}")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM and wait; returns the exit code."""
        self._close_client()
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"secondmed did not stop within {timeout}s:\n{self.log_text()}") from None

    def kill(self) -> None:
        """kill -9: no cleanup of any kind."""
        self._close_client()
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def restart(self) -> RunningDaemon:
        self.stop()
        return self.start()

    def _close_client(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _init(daemon: RunningDaemon) -> None:
    # Tests bring their own tiny model; the packaged default is covered by its own test.
    daemon.ctl("init", "--no-default-model")


@pytest.fixture
def start_daemon() -> Iterator:
    """Factory: start_daemon(config_text=None, init=True, start=True, extra_args=(), extra_env={},
    network_as_shipped=False)."""
    started: list[RunningDaemon] = []
    roots: list[Path] = []

    def factory(
        config_text: str | None = None,
        *,
        init: bool = True,
        start: bool = True,
        extra_args: tuple[str, ...] = (),
        extra_env: dict[str, str] | None = None,
        network_as_shipped: bool = False,
    ) -> RunningDaemon:
        # Short paths: a Unix socket path must fit in ~104 bytes.
        root = Path(tempfile.mkdtemp(prefix="sm-", dir="/tmp"))
        roots.append(root)
        daemon = RunningDaemon(
            root=root,
            config=root / "config" / "config.toml",
            data_dir=root / "data",
            socket=root / "run" / "secondmed.sock",
            log=root / "secondmed.log",
            extra_args=list(extra_args),
            extra_env=dict(extra_env or {}),
            network_as_shipped=network_as_shipped,
        )
        if init:
            _init(daemon)
        if config_text is not None:
            daemon.write_config(config_text)
        started.append(daemon)
        if start:
            daemon.start()
        return daemon

    yield factory
    for daemon in started:
        with contextlib.suppress(AssertionError):
            daemon.stop()
    for root in roots:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def daemon(start_daemon) -> RunningDaemon:
    return start_daemon()


@pytest.fixture
def migrated_db(tmp_path) -> Path:
    """A store's database file, created and migrated as the daemon does, with no daemon running."""
    path = tmp_path / "secondme.db"

    async def migrate() -> None:
        await (await Store.open(path)).close()

    asyncio.run(migrate())
    return path


@pytest.fixture
def persona() -> Path:
    return PERSONA
