"""The mesh node alone: real py-libp2p hosts on 127.0.0.1 in this process, real grants, real keys.

Each test runs its own trio loop with its own hosts. The daemon-level tests (separate secondmed
processes) are in test_mesh_daemons.py.
"""

from __future__ import annotations

import dataclasses
import errno
import logging
import os
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import multiaddr
import pytest
import trio
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from helpers import in_private_netns, rerun_in_private_netns
from libp2p import new_host
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import info_from_p2p_addr
from libp2p.security.insecure.transport import PLAINTEXT_PROTOCOL_ID, InsecureTransport

from secondme.network.errors import InvalidAddress, PeerUnreachable, RemoteRefused
from secondme.network.framing import encode_varint
from secondme.network.host import key_pair_from_seed
from secondme.network.limits import MeshLimits
from secondme.network.node import MeshNode
from secondme.network.protocols import CARD_PROTOCOL, GRANT_PROTOCOL, SESSION_PROTOCOL
from secondme.network.settings import NetworkSettings
from secondme.network.tcp import ListenFailed
from secondme.permissions import (
    Action,
    Disclosure,
    GrantAuthority,
    IdentityView,
    Limits,
    MemoryLedger,
    PublicCard,
    SessionHandle,
    ShadePrivacy,
    ShadeView,
    open_envelope,
    peer_id_from_public_key,
)
from secondme.v1 import wire_pb2

LOOPBACK = "/ip4/127.0.0.1/tcp/0"
ROLEPLAY = wire_pb2.SESSION_KIND_ROLEPLAY


@dataclass
class Delegate:
    """Records what the node asked of the daemon; answers turns by echoing them."""

    name: str
    peer_id: str = ""
    received: list[tuple[str, bytes]] = field(default_factory=list)
    seen: dict[str, list[str]] = field(default_factory=dict)
    identity_asked: int = 0
    discovered: dict[str, str] = field(default_factory=dict)
    dial_discovered: bool = True

    async def identity(self) -> IdentityView:
        self.identity_asked += 1
        shades = (
            ShadeView("1", "hiking", "weekend trails", ShadePrivacy.PUBLIC),
            ShadeView("2", "health", "private matter", ShadePrivacy.PRIVATE),
        )
        return IdentityView(PublicCard(self.name, f"{self.name} in short"), "the long story", shades)

    async def grant_received(self, peer_id: str, envelope: bytes) -> tuple[bool, str]:
        grant = open_envelope(envelope)
        if grant.issuer != peer_id or grant.audience != self.peer_id:
            return False, f"grant {grant.id_hex} is not from {peer_id} to this node"
        self.received.append((peer_id, envelope))
        return True, ""

    async def answer_turn(self, peer_id: str, session: SessionHandle, text: str) -> str:
        if text == "raise":
            raise RuntimeError("the model crashed")
        return f"{self.name} heard: {text}"

    async def peer_seen(self, peer_id: str, addresses: list[str]) -> None:
        self.seen[peer_id] = addresses

    async def peer_discovered(self, peer_id: str, addresses: list[str], source: str) -> bool:
        self.discovered[peer_id] = source
        return self.dial_discovered


@dataclass
class Self:
    node: MeshNode
    authority: GrantAuthority
    delegate: Delegate

    @property
    def peer_id(self) -> str:
        return self.node.peer_id

    @property
    def address(self) -> str:
        return self.node.addresses()[0]

    def grant_to(self, other: Self, *scopes: Action, **kwargs: object) -> bytes:
        issued = self.authority.issue(
            other.peer_id,
            scopes,
            expires=datetime.now(UTC) + timedelta(days=1),
            **kwargs,  # type: ignore[arg-type]
        )
        return issued.envelope


def make_self(
    name: str, limits: MeshLimits | None = None, bootstrap: tuple[str, ...] = (), blocked: tuple[str, ...] = ()
) -> Self:
    seed = os.urandom(32)
    key = Ed25519PrivateKey.from_private_bytes(seed)
    peer_id = peer_id_from_public_key(key.public_key())
    authority = GrantAuthority(peer_id, key, MemoryLedger())
    delegate = Delegate(name, peer_id)
    settings = NetworkSettings(
        listen=[LOOPBACK], bootstrap=list(bootstrap), mdns=False, **dataclasses.asdict(limits or MeshLimits())
    )
    return Self(MeshNode(seed, settings, authority, delegate, blocked, "test"), authority, delegate)


@asynccontextmanager
async def running(*selves: Self) -> AsyncIterator[trio.Nursery]:
    async with trio.open_nursery() as nursery:
        for s in selves:
            await nursery.start(s.node.run)
        yield nursery
        nursery.cancel_scope.cancel()


def run(test: Callable[[], Awaitable[None]]) -> None:
    trio.run(test)


async def raw_stream(client: Self, server: Self, protocol: str):  # type: ignore[no-untyped-def]
    return await client.node.host.new_stream(ID.from_base58(server.peer_id), [protocol])


async def still_serves(server: Self, client: Self) -> None:
    """The server answers a well-formed card request from `client` (daemon stayed up)."""
    card = await client.node.fetch_card(server.peer_id)
    assert card.peer_id == server.peer_id and CARD_PROTOCOL in card.protocols


# -- identity and security ------------------------------------------------------------------


def test_host_peer_id_is_the_node_keys_peer_id() -> None:
    seed = os.urandom(32)
    key = Ed25519PrivateKey.from_private_bytes(seed)
    pair = key_pair_from_seed(seed)
    assert str(ID.from_pubkey(pair.public_key)) == peer_id_from_public_key(key.public_key())
    me = make_self("a")
    assert me.peer_id == me.authority.peer_id


def test_plaintext_dialer_is_refused_and_noise_dialer_is_accepted() -> None:
    a, b = make_self("alex"), make_self("blake")

    async def main() -> None:
        pair = key_pair_from_seed(os.urandom(32))
        liar = new_host(
            key_pair=pair,
            sec_opt={PLAINTEXT_PROTOCOL_ID: InsecureTransport(pair)},
            listen_addrs=[multiaddr.Multiaddr(LOOPBACK)],
        )
        async with running(a, b), liar.run(listen_addrs=[multiaddr.Multiaddr(LOOPBACK)]):
            with pytest.raises(Exception):  # noqa: B017 - libp2p raises its own dial/negotiation errors
                with trio.fail_after(20):
                    await liar.connect(info_from_p2p_addr(multiaddr.Multiaddr(a.address)))
            assert str(liar.get_id()) not in a.node.connected_peers()
            assert await b.node.connect(a.address) == a.peer_id
            await still_serves(a, b)

    run(main)


def test_exception_in_a_handler_closes_only_that_stream() -> None:
    a, b = make_self("alex"), make_self("blake")

    async def main() -> None:
        async with running(a, b):
            await b.node.connect(a.address)
            grant = a.grant_to(b, Action.ROLEPLAY)
            session = await b.node.open_session(a.peer_id, ROLEPLAY, grant)
            with pytest.raises(PeerUnreachable):
                await session.turn("raise")  # the delegate raises inside a's handler
            await still_serves(a, b)
            assert await b.node.exchange(a.peer_id, ROLEPLAY, grant, ["hi"]) == ["alex heard: hi"]

    run(main)


def test_a_taken_port_is_never_shared_and_stops_a_second_node_naming_port_and_holder() -> None:
    a, c = make_self("alex"), make_self("casey")

    async def main() -> None:
        async with running(a, c):
            port = int(a.address.split("/")[4])
            # a's socket has no SO_REUSEPORT, so even a socket asking to share the port cannot bind it.
            with socket.socket() as sharer:
                sharer.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                with pytest.raises(OSError) as shared:
                    sharer.bind(("127.0.0.1", port))
                assert shared.value.errno == errno.EADDRINUSE
            second = make_self("blake")
            second.node.settings.listen = [f"/ip4/127.0.0.1/tcp/{port}"]
            taken = MeshNode(os.urandom(32), second.node.settings, second.authority, second.delegate)
            with pytest.raises(BaseExceptionGroup) as failed:
                async with trio.open_nursery() as nursery:
                    await nursery.start(taken.run)
            (error,) = failed.value.exceptions
            while isinstance(error, BaseExceptionGroup):
                (error,) = error.exceptions
            assert isinstance(error, ListenFailed)
            assert f"TCP port {port}" in str(error) and f"pid {os.getpid()}" in str(error)
            assert "/tcp/0" in str(error)
            await c.node.connect(a.address)
            await still_serves(a, c)  # the first node is untouched

    run(main)


# -- the three protocols --------------------------------------------------------------------


def test_a_stranger_reads_nothing_about_the_owner_and_a_card_grant_shows_what_it_allows() -> None:
    a, b = make_self("alex"), make_self("blake")

    async def main() -> None:
        async with running(a, b):
            await b.node.connect(a.address)
            stranger = await b.node.fetch_card(a.peer_id)
            assert stranger.peer_id == a.peer_id
            assert list(stranger.protocols) == [CARD_PROTOCOL, GRANT_PROTOCOL, SESSION_PROTOCOL]
            assert set(stranger.session_kinds) == {1, 2, 3}
            about_owner = (stranger.display_name, stranger.bio, list(stranger.shades), stranger.biography)
            assert about_owner == ("", "", [], "")
            assert stranger.software_version == ""  # not advertised unless the owner opts in
            assert stranger.withheld.startswith("no grant presented")
            assert a.delegate.identity_asked == 0  # the owner's identity was not even read

            roleplay_only = a.grant_to(b, Action.ROLEPLAY)
            refused = await b.node.fetch_card(a.peer_id, roleplay_only)
            assert refused.display_name == "" and "not card" in refused.withheld

            public = await b.node.fetch_card(a.peer_id, a.grant_to(b, Action.CARD))
            assert (public.display_name, public.bio, list(public.shades), public.biography, public.withheld) == (
                "alex",
                "alex in short",
                [],
                "",
                "",
            )
            grant = a.grant_to(b, Action.CARD, disclosure=Disclosure.ALL_BUT_PRIVATE)
            full = await b.node.fetch_card(a.peer_id, grant)
            assert [s.name for s in full.shades] == ["hiking"]
            assert full.biography == "the long story"

            a.node.settings.advertise_version = True
            assert (await b.node.fetch_card(a.peer_id)).software_version == "test"

    run(main)


def test_grant_delivery_is_stored_and_a_grant_for_someone_else_is_refused() -> None:
    a, b, c = make_self("alex"), make_self("blake"), make_self("casey")

    async def main() -> None:
        async with running(a, b, c):
            await a.node.connect(b.address)
            receipt = await a.node.send_grant(b.peer_id, a.grant_to(b, Action.ROLEPLAY))
            assert receipt.accepted
            assert [p for p, _ in b.delegate.received] == [a.peer_id]
            refused = await a.node.send_grant(b.peer_id, a.grant_to(c, Action.ROLEPLAY))
            assert not refused.accepted
            assert "not from" in refused.message
            assert len(b.delegate.received) == 1

    run(main)


def test_session_is_refused_without_grant_with_foreign_grant_and_after_revocation() -> None:
    a, b, c = make_self("alex"), make_self("blake"), make_self("casey")

    async def main() -> None:
        async with running(a, b, c):
            await b.node.connect(a.address)
            await c.node.connect(a.address)
            with pytest.raises(RemoteRefused) as none:
                await b.node.open_session(a.peer_id, ROLEPLAY, b"")
            assert none.value.reason == "no_grant"
            assert str(none.value).startswith("no grant presented: roleplay needs a grant")
            for_c = a.grant_to(c, Action.ROLEPLAY)
            with pytest.raises(RemoteRefused) as foreign:  # b presents c's grant
                await b.node.open_session(a.peer_id, ROLEPLAY, for_c)
            assert foreign.value.reason == "wrong_audience"
            assert await c.node.exchange(a.peer_id, ROLEPLAY, for_c, ["one", "two"]) == [
                "alex heard: one",
                "alex heard: two",
            ]
            for_b = a.grant_to(b, Action.ICEBREAK)
            with pytest.raises(RemoteRefused) as scope:
                await b.node.open_session(a.peer_id, ROLEPLAY, for_b)
            assert scope.value.reason == "scope_missing"
            assert await b.node.exchange(a.peer_id, wire_pb2.SESSION_KIND_ICEBREAK, for_b, ["x"]) == ["alex heard: x"]
            a.authority.revoke(open_envelope(for_b).id)
            with pytest.raises(RemoteRefused) as revoked:
                await b.node.open_session(a.peer_id, wire_pb2.SESSION_KIND_ICEBREAK, for_b)
            assert revoked.value.reason == "revoked"

    run(main)


def test_turn_limit_ends_the_session_with_a_refusal() -> None:
    a, b = make_self("alex"), make_self("blake")

    async def main() -> None:
        async with running(a, b):
            await b.node.connect(a.address)
            grant = a.grant_to(b, Action.ROLEPLAY, limits=Limits(max_turns_per_session=2))
            session = await b.node.open_session(a.peer_id, ROLEPLAY, grant)
            assert session.max_turns == 2
            await session.turn("1")
            await session.turn("2")
            with pytest.raises(RemoteRefused) as spent:
                await session.turn("3")
            assert spent.value.reason == "limit_spent"

    run(main)


# -- hostile input: the node stays up and other peers are unaffected -------------------------

FAST = MeshLimits(read_timeout_seconds=1.0, strikes_before_ban=1000)


async def send_raw(client: Self, server: Self, protocol: str, data: bytes) -> bytes:
    """Write raw bytes on a fresh stream and return what came back before the server hung up."""
    stream = await raw_stream(client, server, protocol)
    await stream.write(data)
    received = b""
    with trio.move_on_after(5):
        try:
            while chunk := await stream.read(4096):
                received += chunk
        except Exception:  # reset by the server
            pass
    return received


def test_garbage_bytes_on_each_protocol_close_only_that_stream_and_the_log_says_why(caplog) -> None:
    caplog.set_level(logging.INFO, logger="secondme.network.node")
    a, b, c = make_self("alex", FAST), make_self("blake"), make_self("casey")
    protocols = (CARD_PROTOCOL, GRANT_PROTOCOL, SESSION_PROTOCOL)

    def closed() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.getMessage().startswith("closed ")]

    async def main() -> None:
        async with running(a, b, c):
            await b.node.connect(a.address)
            await c.node.connect(a.address)
            garbage = bytes(range(256)) * 4
            for protocol in protocols:
                assert await send_raw(b, a, protocol, encode_varint(len(garbage)) + garbage) == b""
                assert await send_raw(b, a, protocol, b"\xff" * 11) == b""  # endless varint
                await (await raw_stream(b, a, protocol)).close()  # nothing sent at all
            with trio.fail_after(10):
                while len(closed()) < 3 * len(protocols):  # noqa: ASYNC110 - the log has no event to wait on
                    await trio.sleep(0.02)
            await still_serves(a, b)
            await still_serves(a, c)

    run(main)
    lines = closed()
    assert len(lines) == 3 * len(protocols)
    for line in lines:  # "closed PROTOCOL stream from PEER: REASON", never an empty reason
        assert line.split(f" stream from {b.peer_id}: ", 1)[1].strip(), line
    assert sum("closed it before sending a complete request" in line for line in lines) == len(protocols)


def test_a_4_gb_length_prefix_is_refused_before_reading_the_body() -> None:
    a, b, c = make_self("alex", FAST), make_self("blake"), make_self("casey")

    async def main() -> None:
        async with running(a, b, c):
            await b.node.connect(a.address)
            await c.node.connect(a.address)
            for protocol in (CARD_PROTOCOL, GRANT_PROTOCOL, SESSION_PROTOCOL):
                assert await send_raw(b, a, protocol, encode_varint(4 * 1024**3) + b"x" * 100) == b""
            await still_serves(a, c)

    run(main)


def test_a_frame_that_never_finishes_is_cut_off_by_the_read_timeout() -> None:
    a, b, c = make_self("alex", FAST), make_self("blake"), make_self("casey")

    async def main() -> None:
        async with running(a, b, c):
            await b.node.connect(a.address)
            await c.node.connect(a.address)
            stream = await raw_stream(b, a, CARD_PROTOCOL)
            await stream.write(encode_varint(1000) + b"x" * 10)  # promises 1000 bytes, sends 10
            with trio.fail_after(10):  # the server's 1 s read timeout must end it, not this
                with pytest.raises(Exception):  # noqa: B017 - reset by the server
                    while await stream.read(10):
                        pass
                    raise EOFError
            await still_serves(a, c)

    run(main)


def test_500_streams_at_once_from_one_peer_are_limited_and_others_still_served() -> None:
    limits = MeshLimits(max_streams_per_peer=32, rate_burst=10_000, strikes_before_ban=1000)
    a, b, c = make_self("alex", limits), make_self("blake"), make_self("casey")

    async def main() -> None:
        async with running(a, b, c):
            await b.node.connect(a.address)
            await c.node.connect(a.address)
            held = []

            async def hold_one() -> None:
                with suppress(Exception):  # refused streams are the point
                    held.append(await raw_stream(b, a, CARD_PROTOCOL))  # opens and sends nothing

            async with trio.open_nursery() as nursery:
                for _ in range(500):
                    nursery.start_soon(hold_one)
            assert held
            assert a.node.guard.streams_open(b.peer_id) <= 32
            await still_serves(a, c)

    run(main)


def test_a_peer_that_disconnects_mid_message_does_not_disturb_others() -> None:
    a, b, c = make_self("alex", FAST), make_self("blake"), make_self("casey")

    async def main() -> None:
        async with running(a, b, c):
            await b.node.connect(a.address)
            await c.node.connect(a.address)
            stream = await raw_stream(b, a, SESSION_PROTOCOL)
            await stream.write(encode_varint(500) + b"\x0a\x05hal")
            await b.node.disconnect(a.peer_id)
            with trio.fail_after(30):  # a has seen the half-sent message's connection go
                while b.peer_id in a.node.connected_peers():  # noqa: ASYNC110 - a snapshot, no event
                    await trio.sleep(0.05)
            await still_serves(a, c)
            grant = a.grant_to(c, Action.ROLEPLAY)
            assert await c.node.exchange(a.peer_id, ROLEPLAY, grant, ["still there?"]) == ["alex heard: still there?"]

    run(main)


def test_repeated_violations_ban_the_peer_and_drop_its_connections() -> None:
    limits = MeshLimits(read_timeout_seconds=1.0, strikes_before_ban=2)
    a, b, c = make_self("alex", limits), make_self("blake"), make_self("casey")

    async def main() -> None:
        async with running(a, b, c):
            await b.node.connect(a.address)
            await c.node.connect(a.address)
            for _ in range(2):
                await send_raw(b, a, CARD_PROTOCOL, encode_varint(4 * 1024**3))
            with trio.fail_after(30):  # the ban and the dropped connection follow the second strike
                while a.node.guard.refuse_peer(b.peer_id) is None or b.peer_id in a.node.connected_peers():  # noqa: ASYNC110
                    await trio.sleep(0.05)
            with pytest.raises(PeerUnreachable):
                await b.node.fetch_card(a.peer_id)
            await still_serves(a, c)

    run(main)


def test_blocked_peer_is_refused_at_the_handshake_and_on_streams() -> None:
    a, b = make_self("alex"), make_self("blake")

    async def main() -> None:
        async with running(a, b):
            await b.node.connect(a.address)
            await a.node.block(b.peer_id)
            assert b.peer_id not in a.node.connected_peers()
            with pytest.raises(PeerUnreachable):  # Noise completes, then a's gate drops it
                await b.node.connect(a.address)
            with pytest.raises(PeerUnreachable):
                await b.node.fetch_card(a.peer_id)
            assert b.peer_id not in a.node.connected_peers()
            await a.node.unblock(b.peer_id)
            await b.node.connect(a.address)
            await still_serves(a, b)

    run(main)


def test_the_blocklist_holds_before_the_first_connection_and_a_node_cannot_block_itself() -> None:
    b = make_self("blake")
    a = make_self("alex", blocked=(b.peer_id,))

    async def main() -> None:
        async with running(a, b):
            with pytest.raises(PeerUnreachable):
                await b.node.connect(a.address)
            assert b.peer_id not in a.node.connected_peers() and b.peer_id not in a.delegate.seen
            with pytest.raises(InvalidAddress):
                await a.node.block(a.peer_id)
            assert a.peer_id not in a.node.guard.blocked

    run(main)
    seed = os.urandom(32)
    me = peer_id_from_public_key(Ed25519PrivateKey.from_private_bytes(seed).public_key())
    itself = MeshNode(seed, NetworkSettings(listen=[LOOPBACK], mdns=False), a.authority, a.delegate, (me, b.peer_id))
    assert itself.peer_id == me and itself.guard.blocked == {b.peer_id}


def test_the_guard_refuses_changes_from_another_thread() -> None:
    """The node's Guard belongs to the trio thread: the asyncio side must go through the bridge."""
    a = make_self("alex")
    errors: list[BaseException] = []

    def from_elsewhere() -> None:
        try:
            a.node.guard.block("12D3KooWsomeone")
        except RuntimeError as exc:
            errors.append(exc)

    worker = threading.Thread(target=from_elsewhere)
    worker.start()
    worker.join()
    assert errors and "bridge" in str(errors[0])
    assert not a.node.guard.blocked


def test_mdns_lists_selves_and_dials_only_those_the_daemon_says_in_a_private_netns() -> None:
    """zeroconf's receiving socket binds 0.0.0.0:5353, so this runs in a network namespace made
    here (only a loopback interface), where that can reach nothing else."""
    if not in_private_netns():
        rerun_in_private_netns(
            __file__, "test_mdns_lists_selves_and_dials_only_those_the_daemon_says_in_a_private_netns"
        )
        return
    a, b, c = make_self("alex"), make_self("blake"), make_self("casey")
    for s in (a, b, c):
        s.node.settings.mdns = True
    a.delegate.dial_discovered = b.delegate.dial_discovered = False  # c's daemon says dial

    async def main() -> None:
        async with running(a, b, c):
            with trio.fail_after(30):
                while not (  # noqa: ASYNC110 - a snapshot, no event to wait on
                    {a.peer_id, b.peer_id} <= set(c.node.connected_peers())
                    and a.delegate.discovered.get(b.peer_id) == "mdns"
                    and b.delegate.discovered.get(a.peer_id) == "mdns"
                ):
                    await trio.sleep(0.1)
            assert a.peer_id not in b.node.connected_peers()  # found each other, dialled nobody
            await still_serves(a, c)

    run(main)


def test_dht_provider_records_let_selves_find_each_other_through_a_common_peer() -> None:
    a, b, c = make_self("alex"), make_self("blake"), make_self("casey")
    for s in (a, b, c):
        s.node.settings.dht = True
        s.node.settings.dht_interval_seconds = 1.0

    async def main() -> None:
        async with running(a, b, c):
            await b.node.connect(a.address)
            await c.node.connect(a.address)  # b and c know only a
            with trio.fail_after(30):
                while c.peer_id not in b.node.connected_peers():  # noqa: ASYNC110 - a snapshot, no event
                    await trio.sleep(0.2)
            await still_serves(b, c)
            # Garbage on the DHT's protocol closes that stream only.
            assert await send_raw(c, a, "/ipfs/kad/1.0.0", encode_varint(4 * 1024**3) + b"x") == b""
            await still_serves(a, c)

    run(main)


def test_bootstrap_peers_are_dialled_at_start_and_redialled_when_dropped() -> None:
    a = make_self("alex")

    async def main() -> None:
        async with running(a):
            b = make_self("blake", bootstrap=(a.address,))
            async with running(b):
                with trio.fail_after(20):
                    while a.peer_id not in b.node.connected_peers():  # noqa: ASYNC110 - a snapshot, no event
                        await trio.sleep(0.1)
                await a.node.disconnect(b.peer_id)  # the bootstrap peer drops us
                with trio.fail_after(30):
                    while a.peer_id not in b.node.connected_peers():  # noqa: ASYNC110 - a snapshot, no event
                        await trio.sleep(0.2)
                await still_serves(a, b)

    run(main)


def test_concurrent_sessions_per_peer_are_limited_and_freed_when_one_ends() -> None:
    a, b = make_self("alex", MeshLimits(max_sessions_per_peer=1)), make_self("blake")

    async def main() -> None:
        async with running(a, b):
            await b.node.connect(a.address)
            grant = a.grant_to(b, Action.ROLEPLAY)
            first = await b.node.open_session(a.peer_id, ROLEPLAY, grant)
            with pytest.raises(RemoteRefused) as busy:
                await b.node.open_session(a.peer_id, ROLEPLAY, grant)
            assert busy.value.reason == "busy"
            await first.end()
            assert await b.node.exchange(a.peer_id, ROLEPLAY, grant, ["next"]) == ["alex heard: next"]

    run(main)


def test_idle_connections_are_trimmed() -> None:
    a, b = make_self("alex", MeshLimits(idle_connection_seconds=1.0)), make_self("blake")

    async def main() -> None:
        async with running(a, b):
            await b.node.connect(a.address)
            await still_serves(a, b)
            with trio.fail_after(15):
                while b.peer_id in a.node.connected_peers():  # noqa: ASYNC110 - a snapshot, no event
                    await trio.sleep(0.2)

    run(main)


def test_rendezvous_point_lets_selves_find_each_other() -> None:
    point = make_self("point")
    point.node.settings.rendezvous_server = True

    async def main() -> None:
        async with running(point):
            b, c = make_self("blake"), make_self("casey")
            for s in (b, c):
                s.node.settings.rendezvous = [point.address]
                s.node.settings.rendezvous_interval_seconds = 1.0
            async with running(b, c):
                with trio.fail_after(30):
                    while c.peer_id not in b.node.connected_peers():  # noqa: ASYNC110 - a snapshot, no event
                        await trio.sleep(0.2)
                await still_serves(b, c)
                assert await send_raw(b, point, "/rendezvous/1.0.0", encode_varint(4 * 1024**3)) == b""
                await still_serves(point, c)

    run(main)
