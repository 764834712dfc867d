"""Hostile input against a real secondmed: a py-libp2p host in this process attacks it on every
protocol; afterwards the daemon still serves its owner and another real daemon, and the
attacker is banned for its repeated violations."""

from __future__ import annotations

import os
from contextlib import suppress

import trio
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from libp2p.peer.id import ID

from secondme.network.framing import encode_varint
from secondme.network.node import MeshNode
from secondme.network.protocols import CARD_PROTOCOL, GRANT_PROTOCOL, SESSION_PROTOCOL
from secondme.network.settings import NetworkSettings
from secondme.permissions import GrantAuthority, IdentityView, MemoryLedger, PublicCard, peer_id_from_public_key
from secondme.v1 import daemon_pb2, peer_pb2

CONFIG = (
    'version = 1\n[owner]\nname = "Target"\n[network]\nlisten = ["/ip4/127.0.0.1/tcp/0"]\n'
    "read_timeout_seconds = 1.0\nmax_streams_per_peer = 16\n"
)


class Attacker:
    async def identity(self) -> IdentityView:
        return IdentityView(PublicCard("mallory"))

    async def grant_received(self, peer_id: str, envelope: bytes) -> tuple[bool, str]:
        return False, ""

    async def answer_turn(self, peer_id: str, session: object, text: str) -> str:
        return ""

    async def peer_seen(self, peer_id: str, addresses: list[str]) -> None:
        return None

    async def peer_discovered(self, peer_id: str, addresses: list[str], source: str) -> bool:
        return False


def attacker_node() -> MeshNode:
    seed = os.urandom(32)
    key = Ed25519PrivateKey.from_private_bytes(seed)
    authority = GrantAuthority(peer_id_from_public_key(key.public_key()), key, MemoryLedger())
    return MeshNode(seed, NetworkSettings(listen=["/ip4/127.0.0.1/tcp/0"], mdns=False), authority, Attacker())


async def attack(address: str, target: str) -> dict[str, int]:
    node = attacker_node()
    outcomes = {"answered": 0, "streams_opened": 0}
    async with trio.open_nursery() as nursery:
        await nursery.start(node.run)
        await node.connect(address)
        peer = ID.from_base58(target)

        async def raw(protocol: str, data: bytes, hang: bool = False) -> None:
            try:
                stream = await node.host.new_stream(peer, [protocol])
            except Exception:
                return
            outcomes["streams_opened"] += 1
            with suppress(Exception):
                await stream.write(data)
                if hang:
                    await trio.sleep(30)  # never finish the frame
                with trio.move_on_after(5):
                    if await stream.read(4096):
                        outcomes["answered"] += 1

        for protocol in (CARD_PROTOCOL, GRANT_PROTOCOL, SESSION_PROTOCOL):
            await raw(protocol, encode_varint(50) + b"\xff" * 50)  # garbage: not protobuf
            await raw(protocol, encode_varint(4 * 1024**3) + b"x" * 64)  # claims 4 GB
        async with trio.open_nursery() as burst:
            burst.start_soon(raw, CARD_PROTOCOL, encode_varint(100) + b"x", True)  # slowloris
            for _ in range(500):  # 500 streams at once
                burst.start_soon(raw, CARD_PROTOCOL, b"")
            await trio.sleep(3)  # well past the target's 1 s read timeout
            burst.cancel_scope.cancel()
        # A mid-message disconnect.
        with suppress(Exception):
            stream = await node.host.new_stream(peer, [SESSION_PROTOCOL])
            await stream.write(encode_varint(500) + b"\x0a\x05hal")
        await node.disconnect(target)
        nursery.cancel_scope.cancel()
    return outcomes


def test_hostile_peer_cannot_take_the_daemon_down_or_disturb_other_peers(start_daemon) -> None:  # type: ignore[no-untyped-def]
    target = start_daemon(CONFIG)
    friend = start_daemon('version = 1\n[owner]\nname = "Friend"\n')
    me = target.client.peers.GetSelf(peer_pb2.GetSelfRequest(), timeout=10)
    friend.ctl("peers", "connect", me.addresses[0])

    outcomes = trio.run(attack, me.addresses[0], me.peer_id)
    assert outcomes["answered"] == 0  # no garbage ever got an answer

    assert target.process is not None and target.process.poll() is None
    assert target.client.daemon.GetStatus(daemon_pb2.GetStatusRequest(), timeout=10).peer_id == me.peer_id
    card = friend.client.peers.GetCard(peer_pb2.GetCardRequest(peer_id=me.peer_id), timeout=30).card
    assert card.peer_id == me.peer_id
    log = target.log_text()
    assert "exceeds the" in log and "banned" in log
