"""Baseline for bench_daemon: a bare grpc.aio server answering GetStatus on a Unix socket."""

from __future__ import annotations

import asyncio
import sys

import grpc
from grpc_health.v1 import health, health_pb2_grpc

from secondme.v1 import daemon_pb2, daemon_pb2_grpc

REPLY = daemon_pb2.GetStatusResponse(
    version="0.1.0",
    data_dir="/tmp/x/data",
    peer_id="12D3KooWJdQqZ4zB5KKAHCem9mTFprj254s7fJymdSGpaV3BUkZm",
    memory_count=2000,
    job_count=3,
    socket_path="/tmp/x/run/secondmed.sock",
    pid=1,
)


class Bare(daemon_pb2_grpc.DaemonServiceServicer):
    async def GetStatus(self, request, context):
        return REPLY


async def main(path: str) -> None:
    server = grpc.aio.server()
    daemon_pb2_grpc.add_DaemonServiceServicer_to_server(Bare(), server)
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
    server.add_insecure_port(f"unix:{path}")
    await server.start()
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
