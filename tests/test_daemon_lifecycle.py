"""secondmed as a process: socket, status, health, reflection, signals, one daemon per socket."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
from helpers import wait_until
from libp2p.crypto.ed25519 import Ed25519PrivateKey as Libp2pKey
from libp2p.peer.id import ID

from secondme.daemon.node_key import load_node_key, private_key_seed
from secondme.v1 import daemon_pb2, memory_pb2


def test_socket_and_key_are_private_to_the_owner(daemon):
    assert stat.S_IMODE(daemon.socket.stat().st_mode) == 0o600
    assert stat.S_IMODE((daemon.data_dir / "node.key").stat().st_mode) == 0o600
    assert stat.S_IMODE(daemon.socket.parent.stat().st_mode) == 0o700


def test_status_reports_the_daemon_and_the_libp2p_peer_id(daemon):
    status = daemon.client.daemon.GetStatus(daemon_pb2.GetStatusRequest(), timeout=5)
    assert status.data_dir == str(daemon.data_dir)
    assert status.socket_path == str(daemon.socket)
    assert status.memory_count == 0 and status.job_count == 0
    assert status.pid == daemon.process.pid
    assert status.uptime.ToTimedelta().total_seconds() >= 0
    seed = private_key_seed(load_node_key(daemon.data_dir / "node.key"))
    assert status.peer_id == ID.from_pubkey(Libp2pKey.from_bytes(seed).get_public_key()).to_base58()


def test_health_reports_every_secondme_service_serving(daemon):
    channel = grpc.insecure_channel(f"unix:{daemon.socket}")
    stub = health_pb2_grpc.HealthStub(channel)
    for service in ("", "secondme.v1.DaemonService", "secondme.v1.JobService", "secondme.v1.MemoryService"):
        reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING, service
    channel.close()


def test_reflection_lists_the_services_to_any_client(daemon):
    channel = grpc.insecure_channel(f"unix:{daemon.socket}")
    database = ProtoReflectionDescriptorDatabase(channel)
    services = set(database.get_services())
    assert {"secondme.v1.DaemonService", "secondme.v1.JobService", "secondme.v1.MemoryService"} <= services
    assert "grpc.health.v1.Health" in services
    method = database.FindFileContainingSymbol("secondme.v1.MemoryService")
    assert method.package == "secondme.v1"
    channel.close()


def test_sigterm_stops_cleanly_and_removes_the_socket(daemon):
    assert daemon.stop() == 0
    assert not daemon.socket.exists()
    assert "stopped" in daemon.log_text()


def test_shutdown_rpc_stops_the_daemon(daemon):
    daemon.client.daemon.Shutdown(daemon_pb2.ShutdownRequest(), timeout=5)
    assert daemon.process.wait(30) == 0


def test_second_daemon_on_the_same_socket_is_refused(daemon, start_daemon):
    other = start_daemon(start=False)
    other.socket = daemon.socket
    other.start(wait=False)
    assert other.process.wait(30) == 1
    assert "already listening" in other.log_text()
    # the first daemon is untouched
    daemon.client.daemon.GetStatus(daemon_pb2.GetStatusRequest(), timeout=5)


def test_second_daemon_on_the_same_data_dir_is_refused(daemon, start_daemon):
    other = start_daemon(start=False)
    other.data_dir = daemon.data_dir
    other.start(wait=False)
    assert other.process.wait(30) == 1
    assert "is using the data dir" in other.log_text()


def test_a_stale_socket_file_is_taken_over(start_daemon):
    daemon = start_daemon(start=False)
    daemon.socket.parent.mkdir(parents=True, mode=0o700)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(daemon.socket))
    stale.close()  # the file stays, nobody listens: what a crashed daemon leaves
    assert daemon.socket.exists()
    daemon.start()
    daemon.client.daemon.GetStatus(daemon_pb2.GetStatusRequest(), timeout=5)


def test_a_config_typo_is_refused_with_the_key_named(start_daemon):
    daemon = start_daemon("version = 1\n[ingest]\nchunk_tokenz = 100\n", start=False)
    daemon.start(wait=False)
    assert daemon.process.wait(30) == 78
    assert "unknown key 'ingest.chunk_tokenz'" in daemon.log_text()


def test_sighup_reloads_the_config(daemon, tmp_path):
    big = tmp_path / "big.md"
    big.write_text("word " * 5000)

    def upload() -> None:
        messages = [
            memory_pb2.UploadFileRequest(metadata=memory_pb2.UploadMetadata(filename="big.md")),
            memory_pb2.UploadFileRequest(data=big.read_bytes()),
        ]
        daemon.client.memory.UploadFile(iter(messages), timeout=10)

    upload()  # accepted under the default 50 MB limit
    daemon.write_config("version = 1\n[ingest]\nmax_file_bytes = 1000\n")
    daemon.process.send_signal(signal.SIGHUP)
    wait_until(lambda: "reloaded config" in daemon.log_text(), "the daemon to reload its config")
    try:
        upload()
    except grpc.RpcError as exc:
        assert exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "ingest.max_file_bytes" in exc.details()
    else:
        raise AssertionError("the reloaded size limit was not applied")


def test_systemd_notify_ready_then_stopping(start_daemon, tmp_path):
    notify_path = Path(f"/tmp/sm-notify-{os.getpid()}.sock")
    notify_path.unlink(missing_ok=True)
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(str(notify_path))
    receiver.settimeout(60)
    try:
        daemon = start_daemon(start=False, extra_env={"NOTIFY_SOCKET": str(notify_path)})
        daemon.start(wait=False)
        ready = receiver.recv(4096).decode()
        assert "READY=1" in ready.splitlines()
        assert daemon.socket.exists()  # READY only after the socket is bound
        daemon.process.send_signal(signal.SIGTERM)
        assert "STOPPING=1" in receiver.recv(4096).decode().splitlines()
        assert daemon.process.wait(30) == 0
    finally:
        receiver.close()
        notify_path.unlink(missing_ok=True)


def test_json_log_format_writes_one_json_object_per_line(start_daemon):
    daemon = start_daemon(extra_args=("--log-format", "json"))
    daemon.stop()
    lines = [line for line in daemon.log_text().splitlines() if line.startswith("{")]
    assert lines, daemon.log_text()
    records = [json.loads(line) for line in lines]
    assert any("serving on" in r["message"] for r in records)
    assert all({"time", "level", "logger", "message"} <= r.keys() for r in records)


def test_cli_says_how_to_start_the_daemon_when_it_is_not_running(start_daemon):
    daemon = start_daemon(start=False)
    result = subprocess.run(
        [sys.executable, "-m", "secondme.daemon.cli.main", "status"],
        env=daemon.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3
    assert "secondmed is not running" in result.stderr
    assert "start it with" in result.stderr
