"""Strangers against a real secondmed on 127.0.0.1: a thousand throwaway identities, a peer
pushing a thousand grants, and a restart that redials only the peers the owner chose.

The throwaway identities are real py-libp2p hosts in this process (bench/strangers.py), each
with a fresh key, connecting over Noise and Yamux, staying while the daemon runs identify on
them, reading the card, and leaving: 50 to warm up, then 950 more (past py-libp2p's 300 inbound
slots, which it never used to give back three times over); bench/bench_strangers.py measures them.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import trio
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from secondme.network.node import MeshNode
from secondme.network.settings import NetworkSettings
from secondme.permissions import Action, GrantAuthority, MemoryLedger, peer_id_from_public_key
from secondme.v1 import grant_pb2, peer_pb2

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from strangers import churn

WARM_UP, STRANGERS, AT_ONCE = 50, 950, 25
# RSS may move by a few MiB (allocator, caches); a leak per stranger would be tens of MiB here.
RSS_SLACK = 12 * 2**20


def config(name: str, extra: str = "") -> str:
    return f'version = 1\n[owner]\nname = "{name}"\n[network]\nlisten = ["/ip4/127.0.0.1/tcp/0"]\nmdns = false\n{extra}'


def me(daemon) -> peer_pb2.GetSelfResponse:  # type: ignore[no-untyped-def]
    return daemon.client.peers.GetSelf(peer_pb2.GetSelfRequest(), timeout=10)


def listed(daemon) -> list[peer_pb2.Peer]:  # type: ignore[no-untyped-def]
    return list(daemon.client.peers.ListPeers(peer_pb2.ListPeersRequest(), timeout=10).peers)


def address_book_rows(daemon) -> int:  # type: ignore[no-untyped-def]
    with sqlite3.connect(f"file:{daemon.data_dir / 'secondme.db'}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT COUNT(*) FROM peers").fetchone()[0])


def wait_for(predicate, what: str, limit: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.2)


def test_a_thousand_strangers_learn_nothing_and_leave_nothing_behind(start_daemon) -> None:  # type: ignore[no-untyped-def]
    daemon = start_daemon(config("Alex"))
    address = me(daemon).addresses[0]
    process = psutil.Process(daemon.process.pid)

    warm = trio.run(churn, address, WARM_UP, AT_ONCE)
    assert (warm.visits, warm.failed) == (WARM_UP, 0), warm.errors
    wait_for(lambda: not listed(daemon), "the warm-up strangers to be gone")
    rss, fds = process.memory_info().rss, process.num_fds()

    crowd = trio.run(churn, address, STRANGERS, AT_ONCE)
    assert (crowd.visits, crowd.failed) == (STRANGERS, 0), crowd.errors
    for card in warm.cards + crowd.cards:  # no name, no login, no version
        assert card.peer_id == me(daemon).peer_id and card.withheld.startswith("no grant presented")
        assert (card.display_name, card.bio, card.software_version, card.biography) == ("", "", "", "")
    assert "root" not in str(crowd.cards) and "Alex" not in str(crowd.cards)

    wait_for(lambda: not listed(daemon), "the strangers to be gone from peers list")
    assert address_book_rows(daemon) == 0
    wait_for(lambda: process.num_fds() <= fds, f"open files back to {fds} (now {process.num_fds()})")
    growth = process.memory_info().rss - rss
    assert growth < RSS_SLACK, f"RSS grew {growth / 2**20:.1f} MiB over {STRANGERS} strangers"
    assert trio.run(churn, address, 1, 1).visits == 1  # and it still takes the next one


async def push_grants(address: str, target: str, count: int) -> tuple[str, list[str], list[str]]:
    """A peer mints `count` grants for `target` and delivers each; returns (its peer ID, the grant
    ids in the order sent, the refusals)."""
    seed = os.urandom(32)
    key = Ed25519PrivateKey.from_private_bytes(seed)
    authority = GrantAuthority(peer_id_from_public_key(key.public_key()), key, MemoryLedger())
    node = MeshNode(seed, NetworkSettings(listen=["/ip4/127.0.0.1/tcp/0"], mdns=False), authority, _Quiet())
    sent, refused = [], []
    async with trio.open_nursery() as nursery:
        await nursery.start(node.run)
        await node.connect(address)
        expires = datetime.now(UTC) + timedelta(days=1)
        for _ in range(count):
            issued = authority.issue(target, [Action.CARD], expires=expires)
            receipt = await node.send_grant(target, issued.envelope)
            sent.append(issued.grant.id_hex)
            if not receipt.accepted:
                refused.append(receipt.message)
        nursery.cancel_scope.cancel()
    return node.peer_id, sent, refused


class _Quiet:
    async def identity(self):  # type: ignore[no-untyped-def]
        raise AssertionError("the pusher serves nothing")

    async def grant_received(self, peer_id: str, envelope: bytes) -> tuple[bool, str]:
        return False, ""

    async def answer_turn(self, peer_id: str, session: object, text: str) -> str:
        return ""

    async def peer_seen(self, peer_id: str, addresses: list[str]) -> None:
        return None

    async def peer_discovered(self, peer_id: str, addresses: list[str], source: str) -> bool:
        return False


def test_a_peer_pushing_a_thousand_grants_keeps_only_its_newest_share(start_daemon) -> None:  # type: ignore[no-untyped-def]
    daemon = start_daemon(config("Alex", "rate_per_second = 2000.0\n[grants]\nmax_received_per_peer = 16\n"))
    target = me(daemon)
    pusher, sent, refused = trio.run(push_grants, target.addresses[0], target.peer_id, 1000)
    assert refused == []
    received = daemon.client.grants.ListGrants(grant_pb2.ListGrantsRequest(), timeout=30).grants
    assert sorted(g.id for g in received) == sorted(sent[-16:])  # the newest 16, the rest dropped
    assert all(g.issuer == pusher for g in received)
    assert address_book_rows(daemon) == 0  # a peer that gave us grants is not one the owner chose
    assert "dropped its 1 oldest" in daemon.log_text()
    assert me(daemon).peer_id == target.peer_id


def test_after_a_restart_only_the_peers_the_owner_chose_are_redialled(start_daemon) -> None:  # type: ignore[no-untyped-def]
    a = start_daemon(config("Alex"))
    stranger = start_daemon(config("Sam"))
    friend = start_daemon(config("Casey"))
    a_id, stranger_id, friend_id = me(a).peer_id, me(stranger).peer_id, me(friend).peer_id
    stranger.ctl("peers", "connect", me(a).addresses[0])  # it dialled a: a stranger to a
    a.ctl("peers", "connect", me(friend).addresses[0])  # a's owner dialled this one
    wait_for(lambda: {p.peer_id for p in listed(a) if p.connected} == {stranger_id, friend_id}, "both connected")
    assert [(p.peer_id, p.known) for p in listed(a) if p.known] == [(friend_id, True)]
    assert address_book_rows(a) == 1

    a.restart()
    wait_for(lambda: any(p.peer_id == friend_id and p.connected for p in listed(a)), "a to redial its friend")
    assert stranger_id not in {p.peer_id for p in listed(a)}
    assert a_id not in {p.peer_id for p in listed(stranger) if p.connected}
