"""The mesh's pure parts: the guard's limits with a fake clock, frame parsing, the trio bridge."""

from __future__ import annotations

import asyncio
import threading

import multiaddr
import pytest
import trio
import trio.testing

from secondme.network.addresses import (
    InterfaceAddress,
    dialable,
    interface_ips,
    is_unspecified,
    local_interface_addresses,
)
from secondme.network.bridge import TrioBridge
from secondme.network.dialing import Backoff, DialPacer
from secondme.network.errors import FrameError, MeshError
from secondme.network.framing import FramedStream, encode_varint
from secondme.network.limits import Guard, MeshLimits
from secondme.v1 import wire_pb2


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_rate_limit_refills_over_time() -> None:
    clock = Clock()
    guard = Guard(MeshLimits(rate_per_second=2.0, rate_burst=3, max_streams_per_peer=100), clock)
    results = [guard.open_stream("p", "/x") for _ in range(4)]
    assert results[:3] == [None, None, None]
    assert results[3] == "rate limit exceeded"
    clock.now = 0.5  # one token back
    assert guard.open_stream("p", "/x") is None
    assert guard.open_stream("p", "/x") == "rate limit exceeded"
    assert guard.open_stream("q", "/x") is None  # other peers have their own bucket


def test_stream_limits_per_peer_and_per_protocol_are_released_on_close() -> None:
    guard = Guard(MeshLimits(max_streams_per_peer=2, max_streams_per_protocol=3, rate_burst=100))
    assert guard.open_stream("a", "/x") is None
    assert guard.open_stream("a", "/x") is None
    assert "per-peer" in (guard.open_stream("a", "/x") or "")
    assert guard.open_stream("b", "/x") is None
    assert "/x" in (guard.open_stream("c", "/x") or "")
    guard.close_stream("a", "/x")
    assert guard.open_stream("c", "/x") is None


def test_strikes_ban_for_a_while_then_forgive() -> None:
    clock = Clock()
    guard = Guard(MeshLimits(strikes_before_ban=2, ban_seconds=60), clock)
    assert guard.strike("p") is False
    assert guard.strike("p") is True
    assert guard.refuse_peer("p") is not None
    assert guard.open_stream("p", "/x") is not None
    clock.now = 61
    assert guard.refuse_peer("p") is None
    assert guard.strike("p") is False  # strikes were reset with the ban


def test_blocklist_and_connection_limits_at_accept_time() -> None:
    guard = Guard(MeshLimits(max_connections=3, max_connections_per_peer=1))
    guard.set_blocked(["bad"])
    assert guard.admit_connection("bad", 1, 1) == "blocked by the owner"
    assert guard.admit_connection("ok", 3, 1) is None
    assert "connection limit" in (guard.admit_connection("ok", 4, 1) or "")
    assert "per-peer" in (guard.admit_connection("ok", 2, 2) or "")


def test_idle_peers_are_those_without_streams_for_the_idle_time() -> None:
    clock = Clock()
    guard = Guard(MeshLimits(idle_connection_seconds=10, rate_burst=100), clock)
    guard.open_stream("busy", "/x")
    assert guard.idle_peers(["busy", "quiet"]) == []
    clock.now = 11
    assert guard.idle_peers(["busy", "quiet"]) == ["quiet"]


def test_peers_that_come_and_go_leave_no_entries_behind() -> None:
    clock = Clock()
    limits = MeshLimits(rate_per_second=10.0, rate_burst=5, strikes_before_ban=2, ban_seconds=60)
    guard = Guard(limits, clock)
    for i in range(100):  # throwaway identities: a stream, an offence, then gone
        peer = f"p{i}"
        assert guard.open_stream(peer, "/x") is None
        guard.close_stream(peer, "/x")
        guard.strike(peer)
        guard.forget(peer)
    guard.strike("p0")  # p0's second offence: banned
    sizes = guard.table_sizes()
    assert sizes["buckets"] == 100 and sizes["strikes"] == 100 and sizes["bans"] == 1 and sizes["last_active"] == 0
    clock.now = 1.0  # buckets have refilled (5 tokens at 10/s), strikes still count
    guard.prune(connected=[])
    assert guard.table_sizes()["buckets"] == 0 and guard.table_sizes()["strikes"] == 100
    assert guard.refuse_peer("p0") is not None
    clock.now = 61.0  # strikes aged out, the ban ended
    guard.prune(connected=[])
    assert set(guard.table_sizes().values()) == {0}
    assert guard.refuse_peer("p0") is None


def test_pruning_keeps_what_still_decides_something() -> None:
    clock = Clock()
    guard = Guard(MeshLimits(rate_per_second=1.0, rate_burst=3, idle_connection_seconds=10), clock)
    for _ in range(3):
        assert guard.open_stream("hot", "/x") is None
    guard.close_stream("hot", "/x")
    guard.prune(connected=["hot"])
    assert guard.open_stream("hot", "/x") == "rate limit exceeded"  # its empty bucket was kept
    assert guard.table_sizes()["last_active"] == 1  # still connected: its idle clock runs on


def test_session_limit_per_peer() -> None:
    guard = Guard(MeshLimits(max_sessions_per_peer=1))
    assert guard.open_session("p") is None
    assert guard.open_session("p") is not None
    guard.close_session("p")
    assert guard.open_session("p") is None


class Chunks:
    """A byte stream that returns the given chunks, then EOF."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = list(chunks)

    async def read(self, n: int | None = None) -> bytes:
        return self.chunks.pop(0) if self.chunks else b""

    async def write(self, data: bytes) -> None:
        self.chunks.append(data)


def read_one(*chunks: bytes, max_bytes: int = 1024) -> wire_pb2.Card:
    async def main() -> wire_pb2.Card:
        return await FramedStream(Chunks(*chunks), max_bytes, 5).read(wire_pb2.Card)

    return trio.run(main)


def test_frames_split_anywhere_are_reassembled_and_back_to_back_frames_kept() -> None:
    body = wire_pb2.Card(display_name="Alex", bio="hi").SerializeToString()
    frame = encode_varint(len(body)) + body
    assert read_one(frame[:1], frame[1:3], frame[3:]).display_name == "Alex"

    async def two() -> list[str]:
        framed = FramedStream(Chunks(frame + frame), 1024, 5)
        return [(await framed.read(wire_pb2.Card)).bio for _ in range(2)]

    assert trio.run(two) == ["hi", "hi"]


@pytest.mark.parametrize(
    ("chunks", "says"),
    [
        ((encode_varint(4 * 1024**3),), "exceeds"),
        ((b"\xff" * 11,), "longer than 10"),
        ((encode_varint(10) + b"abc",), "after 3 of 10"),
        ((b"\x80",), "middle of a length prefix"),
        ((encode_varint(3) + b"\xff\xff\xff",), "not a valid Card"),
    ],
)
def test_bad_frames_are_refused_with_a_reason(chunks: tuple[bytes, ...], says: str) -> None:
    with pytest.raises(FrameError, match=says):
        read_one(*chunks)


def test_bridge_returns_results_propagates_errors_and_cancels() -> None:
    class Node:
        async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
            task_status.started()
            await trio.sleep_forever()

    cancelled, cancel_seen = [], threading.Event()

    async def add(a: int, b: int) -> int:
        await trio.lowlevel.checkpoint()
        return a + b

    async def fail() -> None:
        raise ValueError("nope")

    async def forever() -> None:
        try:
            await trio.sleep_forever()
        finally:
            cancelled.append(True)
            cancel_seen.set()

    async def main() -> None:
        bridge = TrioBridge()
        await bridge.start(Node)  # type: ignore[arg-type]
        assert await bridge.call(add, 2, 3) == 5
        with pytest.raises(ValueError, match="nope"):
            await bridge.call(fail)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(bridge.call(forever), 0.2)
        assert await asyncio.to_thread(cancel_seen.wait, 30)  # the cancellation reaches the trio side
        assert cancelled == [True]

        async def daemon_side() -> str:
            return "from asyncio"

        async def ask_daemon() -> str:
            return await bridge.to_daemon(daemon_side())

        assert await bridge.call(ask_daemon) == "from asyncio"
        await bridge.stop()
        with pytest.raises(MeshError, match="not running"):
            await bridge.call(add, 1, 1)

    asyncio.run(main())


def test_bridge_start_reports_a_node_that_cannot_start() -> None:
    class Broken:
        async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
            raise OSError("address already in use")

    async def main() -> None:
        with pytest.raises(OSError, match="already in use"):
            await TrioBridge().start(Broken)  # type: ignore[arg-type]

    asyncio.run(main())


# -- dialable addresses ---------------------------------------------------------------------

LAPTOP = [
    InterfaceAddress("eth0", "192.168.1.20"),
    InterfaceAddress("lo", "127.0.0.1"),
    InterfaceAddress("eth0", "fe80::1"),  # link-local: needs a zone, never listed
    InterfaceAddress("wlan0", "10.0.0.7"),
    InterfaceAddress("lo", "::1"),
    InterfaceAddress("eth0", "2001:db8::20"),
    InterfaceAddress("docker0", "169.254.3.3"),  # link-local IPv4 too
]


def test_an_unspecified_listen_address_becomes_every_interface_address_loopback_first() -> None:
    listen = [multiaddr.Multiaddr("/ip4/0.0.0.0/tcp/4001"), multiaddr.Multiaddr("/ip6/::/tcp/4002")]
    assert [str(a) for a in dialable(listen, LAPTOP)] == [
        "/ip4/127.0.0.1/tcp/4001",
        "/ip4/192.168.1.20/tcp/4001",
        "/ip4/10.0.0.7/tcp/4001",
        "/ip6/::1/tcp/4002",
        "/ip6/2001:db8::20/tcp/4002",
    ]


def test_concrete_addresses_stay_as_they_are_and_nothing_is_listed_twice() -> None:
    listen = [
        multiaddr.Multiaddr("/ip4/192.168.1.20/tcp/4001"),
        multiaddr.Multiaddr("/ip4/0.0.0.0/tcp/4001"),
        multiaddr.Multiaddr("/ip4/127.0.0.1/tcp/5000"),
    ]
    assert [str(a) for a in dialable(listen, LAPTOP)] == [
        "/ip4/192.168.1.20/tcp/4001",
        "/ip4/127.0.0.1/tcp/4001",
        "/ip4/10.0.0.7/tcp/4001",
        "/ip4/127.0.0.1/tcp/5000",
    ]
    assert dialable([multiaddr.Multiaddr("/ip4/0.0.0.0/tcp/1")], []) == []  # no interface, no address
    assert is_unspecified("/ip4/0.0.0.0/tcp/4001") and is_unspecified("/ip6/::/tcp/1")
    assert not is_unspecified("/ip4/127.0.0.1/tcp/4001")


def test_this_machines_interfaces_include_loopback() -> None:
    assert "127.0.0.1" in interface_ips(local_interface_addresses(), "ip4")


def test_automatic_dials_are_paced_per_minute() -> None:
    async def main() -> list[float]:
        pacer = DialPacer(per_minute=2)
        times = []
        for _ in range(5):
            await pacer.wait()
            times.append(trio.current_time())
        return times

    assert trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0)) == [0.0, 0.0, 60.0, 60.0, 120.0]


def test_backoff_doubles_to_its_cap_and_resets() -> None:
    backoff = Backoff(30.0, 100.0)
    assert [backoff.next() for _ in range(4)] == [30.0, 60.0, 100.0, 100.0]
    backoff.reset()
    assert backoff.next() == 30.0
