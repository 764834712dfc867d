"""DaemonService: status and shutdown."""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import grpc
from google.protobuf.duration_pb2 import Duration

from secondme.daemon import __version__
from secondme.daemon.api.errors import grpc_errors
from secondme.daemon.store.counts import BacklogCounts, Totals
from secondme.v1 import daemon_pb2, daemon_pb2_grpc


@dataclass(frozen=True)
class StatusSources:
    """What GetStatus reports, as callables so the servicer holds no daemon internals."""

    data_dir: str
    socket_path: str
    config_path: str
    peer_id: str
    started_monotonic: float
    counts: Callable[[], Awaitable[Totals]]
    running_job_count: Callable[[], int]
    active_model: Callable[[], str]
    # The mesh's dialable addresses; [] when the mesh is off.
    addresses: Callable[[], Awaitable[list[str]]]
    # What the background jobs still have to do.
    backlog: Callable[[], Awaitable[BacklogCounts]]


class DaemonServicer(daemon_pb2_grpc.DaemonServiceServicer):
    def __init__(self, sources: StatusSources, request_shutdown: Callable[[], None]) -> None:
        self._sources = sources
        self._request_shutdown = request_shutdown

    @grpc_errors
    async def GetStatus(self, request: daemon_pb2.GetStatusRequest, context: grpc.aio.ServicerContext):
        s = self._sources
        totals = await s.counts()
        backlog = await s.backlog()
        uptime = Duration()
        uptime.FromNanoseconds(int((time.monotonic() - s.started_monotonic) * 1e9))
        return daemon_pb2.GetStatusResponse(
            version=__version__,
            uptime=uptime,
            data_dir=s.data_dir,
            peer_id=s.peer_id,
            memory_count=totals.memories,
            job_count=totals.jobs,
            running_job_count=s.running_job_count(),
            socket_path=s.socket_path,
            config_path=s.config_path,
            pid=os.getpid(),
            active_model=s.active_model(),
            addresses=await s.addresses(),
            memories_awaiting_embedding=backlog.awaiting_embedding,
            documents_awaiting_insight=backlog.awaiting_insight,
        )

    @grpc_errors
    async def Shutdown(self, request: daemon_pb2.ShutdownRequest, context: grpc.aio.ServicerContext):
        self._request_shutdown()
        return daemon_pb2.ShutdownResponse()
