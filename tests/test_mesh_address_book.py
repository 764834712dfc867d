"""Who gets a row in the address book, what is redialled, and the bounded tables for the rest:
the real SQLite store and real signed grants, no network."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from secondme.daemon.recent_peers import RecentPeers
from secondme.daemon.store import Store
from secondme.daemon.store.grants import GrantRepository, SqliteGrantLedger
from secondme.daemon.store.peers import PeerRepository
from secondme.permissions import Action, GrantAuthority, MemoryLedger, peer_id_from_public_key


def authority(ledger=None) -> GrantAuthority:  # type: ignore[no-untyped-def]
    key = Ed25519PrivateKey.generate()
    return GrantAuthority(peer_id_from_public_key(key.public_key()), key, ledger or MemoryLedger())


@pytest.fixture
async def store(tmp_path):  # type: ignore[no-untyped-def]
    opened = await Store.open(tmp_path / "s.db")
    yield opened
    await opened.close()


async def test_only_peers_the_owner_chose_are_in_the_book_and_redialled(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    peers = PeerRepository(store)
    ledger = SqliteGrantLedger(tmp_path / "s.db")
    me = authority(ledger)
    dialled, granted, expired, revoked, blocked, looked_at, stranger = (authority().peer_id for _ in range(7))
    try:
        await peers.dialled(dialled, ["/ip4/127.0.0.1/tcp/4001/p2p/" + dialled, "/ip4/0.0.0.0/tcp/4001"])
        me.issue(granted, [Action.ROLEPLAY], expires=datetime.now(UTC) + timedelta(days=1))
        long_ago = datetime.now(UTC) - timedelta(days=2)
        me.issue(expired, [Action.ROLEPLAY], expires=long_ago + timedelta(days=1), not_before=long_ago, now=long_ago)
        me.revoke(me.issue(revoked, [Action.CARD], expires=datetime.now(UTC) + timedelta(days=1)).grant.id)
        await peers.set_blocked(blocked, True)
        await peers.save_card(looked_at, b"")

        everyone = (dialled, granted, expired, revoked, blocked, looked_at, stranger)
        chosen = [await peers.is_chosen(p) for p in everyone]
        assert chosen == [True, True, False, False, True, True, False]
        for peer in (granted, expired, revoked):  # each connects to us and identify tells where it listens
            if await peers.is_chosen(peer):
                await peers.seen(peer, ["/ip4/127.0.0.1/tcp/5000"])
        assert (await peers.get(dialled)).addresses == ["/ip4/127.0.0.1/tcp/4001"]  # never 0.0.0.0
        assert await peers.get(expired) is None and await peers.get(stranger) is None
        redial = [p.peer_id for p in await peers.redial_candidates()]
        assert sorted(redial) == sorted([dialled, granted])  # blocked, looked-at (no address) and the rest: no
    finally:
        ledger.close()


async def test_a_peer_pushing_grants_keeps_only_its_newest_share(store) -> None:  # type: ignore[no-untyped-def]
    grants = GrantRepository(store)
    me, pusher, other = authority(), authority(), authority()
    mine = other.issue(me.peer_id, [Action.ROLEPLAY], expires=datetime.now(UTC) + timedelta(days=1))
    await grants.add_delivered(mine.grant, mine.envelope, keep_per_issuer=3)
    sent = [pusher.issue(me.peer_id, [Action.CARD], expires=datetime.now(UTC) + timedelta(days=1)) for _ in range(10)]
    dropped = 0
    for issued in sent:
        already, gone = await grants.add_delivered(issued.grant, issued.envelope, keep_per_issuer=3)
        assert not already
        dropped += gone
    assert (await grants.add_delivered(sent[-1].grant, sent[-1].envelope, keep_per_issuer=3)) == (True, 0)
    assert dropped == 7 and await grants.received_count(pusher.peer_id) == 3
    kept = {r.grant.id for r in await grants.list("received") if r.grant.issuer == pusher.peer_id}
    assert kept == {s.grant.id for s in sent[-3:]}
    assert await grants.received_count(other.peer_id) == 1  # another peer's share is untouched


def test_recent_peers_are_bounded_least_recent_first_and_expire() -> None:
    now = [0.0]
    table = RecentPeers(max_entries=3, max_age_seconds=60, clock=lambda: now[0])
    for i in range(5):
        now[0] = float(i)
        table.seen(f"p{i}", [f"/ip4/127.0.0.1/tcp/{i}"] * 20, "connected")
    assert [e.peer_id for e in table.entries()] == ["p4", "p3", "p2"]
    assert len(table.get("p4").addresses) == 1  # duplicates folded, at most 8 kept
    table.seen("p2", ["/ip4/0.0.0.0/tcp/4001", "/ip4/10.0.0.2/tcp/4001"], "mdns")  # seen again: now the most recent
    assert table.get("p2").addresses == ["/ip4/10.0.0.2/tcp/4001"]  # never an unspecified address
    now[0] = 5.0
    table.seen("p5", [], "connected")
    assert [e.peer_id for e in table.entries()] == ["p5", "p2", "p4"]
    now[0] = 64.5  # p4 was last seen at 4.0, p2 and p5 at 4.0 and 5.0: all past 60 s but p5
    assert [e.peer_id for e in table.entries()] == ["p5"] and len(table) == 1
    now[0] = 70.0
    assert table.entries() == [] and table.get("p5") is None
