"""Mesh benchmark: a real secondmed on 127.0.0.1 against py-libp2p client hosts in this process.

Prints, all measured in this one run:
1. round-trip latency (p50/p99) of a small turn on /secondme/session/1.0.0 over an established
   connection, next to a raw TCP length-prefixed echo on loopback (a separate process), and
   their ratio;
2. time to connect + first exchange from a fresh host (Noise + Yamux + handshake + one turn);
3. 50 concurrent peers each doing 20 turns: completed/failed counts and the daemon's RSS.

Run: .venv/bin/python bench/bench_mesh.py [--turns 500] [--peers 50]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import trio
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import BenchDaemon, describe, start_daemon

from secondme.daemon.client import Client
from secondme.network.node import MeshNode
from secondme.network.settings import NetworkSettings
from secondme.permissions import (
    GrantAuthority,
    IdentityView,
    MemoryLedger,
    PublicCard,
    SessionHandle,
    decode_token,
    peer_id_from_public_key,
)
from secondme.v1 import wire_pb2

CONFIG = 'version = 1\n[network]\nlisten = ["/ip4/127.0.0.1/tcp/0"]\nmdns = false\n'
MESSAGE = "hello there, how are you today?"
ECHO_SERVER = """
import asyncio, sys
async def serve(reader, writer):
    try:
        while True:
            head = await reader.readexactly(1)
            body = await reader.readexactly(head[0])
            writer.write(head + body)
            await writer.drain()
    except asyncio.IncompleteReadError:
        writer.close()
async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()
asyncio.run(main())
"""


class Quiet:
    """A client's delegate: it never serves, so answers are never asked of it."""

    async def identity(self) -> IdentityView:
        return IdentityView(PublicCard("bench"))

    async def grant_received(self, peer_id: str, envelope: bytes) -> tuple[bool, str]:
        return False, "bench clients take no grants"

    async def answer_turn(self, peer_id: str, session: SessionHandle, text: str) -> str:
        return ""

    async def peer_seen(self, peer_id: str, addresses: list[str]) -> None:
        return None

    async def peer_discovered(self, peer_id: str, addresses: list[str], source: str) -> bool:
        return False


def client_node() -> MeshNode:
    seed = os.urandom(32)
    key = Ed25519PrivateKey.from_private_bytes(seed)
    authority = GrantAuthority(peer_id_from_public_key(key.public_key()), key, MemoryLedger())
    settings = NetworkSettings(listen=["/ip4/127.0.0.1/tcp/0"], mdns=False)
    return MeshNode(seed, settings, authority, Quiet(), software_version="bench")


def issue(client: Client, audience: str) -> bytes:
    issued = client.grants.issue(audience, ["roleplay"], datetime.now(UTC) + timedelta(hours=1))
    return decode_token(issued.token)


async def tcp_echo_latencies(port: int, n: int) -> list[float]:
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    body = MESSAGE.encode()
    frame = bytes([len(body)]) + body
    samples = []
    for i in range(n + 50):
        started = time.perf_counter()
        await stream.send_all(frame)
        got = b""
        while len(got) < len(frame):
            got += await stream.receive_some(4096)
        if i >= 50:
            samples.append(time.perf_counter() - started)
    await stream.aclose()
    return samples


async def session_latencies(node: MeshNode, server: str, grant: bytes, n: int) -> list[float]:
    session = await node.open_session(server, wire_pb2.SESSION_KIND_ROLEPLAY, grant)
    samples = []
    for i in range(n + 50):
        started = time.perf_counter()
        await session.turn(MESSAGE)
        if i >= 50:
            samples.append(time.perf_counter() - started)
    await session.end()
    return samples


async def main(args: argparse.Namespace, daemon: BenchDaemon, client: Client, port: int) -> None:
    me = client.peers.me()
    server, address = me.peer_id, me.addresses[0]
    rss = psutil.Process(daemon.process.pid)
    print(f"daemon {server} at {address}; RSS at start {rss.memory_info().rss / 2**20:.1f} MiB")

    async with trio.open_nursery() as nursery:
        # 1. latency over an established connection vs raw TCP echo.
        first = client_node()
        await nursery.start(first.run)
        await first.connect(address)
        grant = issue(client, first.peer_id)
        mesh = await session_latencies(first, server, grant, args.turns)
        tcp = await tcp_echo_latencies(port, args.turns)
        print(f"session turn   {describe(mesh)}")
        print(f"raw TCP echo   {describe(tcp)}")
        mesh_p50, tcp_p50 = sorted(mesh)[len(mesh) // 2], sorted(tcp)[len(tcp) // 2]
        print(f"ratio p50 session/TCP: {mesh_p50 / tcp_p50:.1f}x")

        # 2. connect + first exchange from fresh hosts.
        firsts = []
        for _ in range(args.fresh):
            node = client_node()
            await nursery.start(node.run)
            node_grant = issue(client, node.peer_id)
            started = time.perf_counter()
            await node.connect(address)
            assert await node.exchange(server, wire_pb2.SESSION_KIND_ROLEPLAY, node_grant, [MESSAGE])
            firsts.append(time.perf_counter() - started)
        print(f"connect + first exchange  {describe(firsts)}")

        # 3. many peers at once.
        print(f"daemon RSS before the crowd {rss.memory_info().rss / 2**20:.1f} MiB")
        nodes = [client_node() for _ in range(args.peers)]
        for node in nodes:
            await nursery.start(node.run)
        grants = {node.peer_id: issue(client, node.peer_id) for node in nodes}
        counts = {"completed": 0, "failed": 0}
        peak = [rss.memory_info().rss]

        async def one_peer(node: MeshNode) -> None:
            try:
                await node.connect(address)
                session = await node.open_session(server, wire_pb2.SESSION_KIND_ROLEPLAY, grants[node.peer_id])
            except Exception:
                counts["failed"] += args.exchanges
                return
            for _ in range(args.exchanges):
                try:
                    await session.turn(MESSAGE)
                    counts["completed"] += 1
                except Exception:
                    counts["failed"] += 1
            await session.end()

        async def sample_rss(stop: trio.Event) -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], rss.memory_info().rss)
                await trio.sleep(0.1)

        done = trio.Event()
        started = time.perf_counter()
        async with trio.open_nursery() as sampler:
            sampler.start_soon(sample_rss, done)
            async with trio.open_nursery() as crowd:
                for node in nodes:
                    crowd.start_soon(one_peer, node)
            done.set()
        elapsed = time.perf_counter() - started
        print(
            f"{args.peers} peers x {args.exchanges} turns: completed {counts['completed']}, "
            f"failed {counts['failed']}, {elapsed:.1f} s; daemon RSS peak {peak[0] / 2**20:.1f} MiB, "
            f"now {rss.memory_info().rss / 2**20:.1f} MiB"
        )
        nursery.cancel_scope.cancel()


def run(args: argparse.Namespace) -> None:
    daemon = start_daemon(CONFIG)
    echo = subprocess.Popen([sys.executable, "-c", ECHO_SERVER], stdout=subprocess.PIPE, text=True)
    client = Client.connect(daemon.socket)
    try:
        assert echo.stdout is not None
        trio.run(main, args, daemon, client, int(echo.stdout.readline()))
    finally:
        client.close()
        echo.kill()
        daemon.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=500)
    parser.add_argument("--fresh", type=int, default=5)
    parser.add_argument("--peers", type=int, default=50)
    parser.add_argument("--exchanges", type=int, default=20)
    run(parser.parse_args())
