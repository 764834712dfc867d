"""The daemon itself: what it is doing, and stopping it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from secondme.daemon.client.convert import from_message
from secondme.daemon.client.stubs import Stubs
from secondme.v1 import daemon_pb2


@dataclass
class DaemonStatus:
    version: str
    uptime: timedelta | None
    data_dir: str
    peer_id: str
    memory_count: int
    # Background work still to reach them: retrieval misses what is not embedded yet.
    memories_awaiting_embedding: int
    documents_awaiting_insight: int
    job_count: int
    running_job_count: int
    socket_path: str
    config_path: str
    pid: int
    active_model: str
    # Where other selves can dial this one (every interface address of an unspecified listen address).
    addresses: list[str]


class DaemonCalls:
    def __init__(self, wire: Stubs) -> None:
        self._wire = wire

    def status(self, timeout: float | None = 10) -> DaemonStatus:
        response = self._wire.call(self._wire.daemon.GetStatus, daemon_pb2.GetStatusRequest(), timeout)
        return from_message(DaemonStatus, response)

    def shutdown(self) -> None:
        self._wire.call(self._wire.daemon.Shutdown, daemon_pb2.ShutdownRequest(), 10)
