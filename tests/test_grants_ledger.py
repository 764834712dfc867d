"""The store side of grants on a real SQLite file: the authority's ledger and the repository."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from secondme.daemon.store import Store
from secondme.daemon.store.grants import GrantConflict, GrantRepository, SqliteGrantLedger
from secondme.errors import InvalidArgument
from secondme.permissions import (
    Action,
    DenyReason,
    GrantAuthority,
    GrantNotFound,
    Limits,
    MemoryLedger,
    peer_id_from_public_key,
    sign_grant,
)

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
KEY = Ed25519PrivateKey.generate()
ME = peer_id_from_public_key(KEY.public_key())
PEER = peer_id_from_public_key(Ed25519PrivateKey.generate().public_key())


@pytest.fixture
async def store(tmp_path: Path):
    store = await Store.open(tmp_path / "secondme.db")
    yield store
    await store.close()


def _authority(db: Path) -> tuple[GrantAuthority, SqliteGrantLedger]:
    ledger = SqliteGrantLedger(db)
    return GrantAuthority(ME, KEY, ledger, clock=lambda: NOW), ledger


async def test_revocations_and_session_counts_survive_a_restart(store: Store) -> None:
    authority, ledger = _authority(store.path)
    issued = authority.issue(PEER, [Action.ROLEPLAY], expires=NOW + timedelta(days=1), limits=Limits(None, 2, None))
    kept = authority.issue(PEER, [Action.ROLEPLAY], expires=NOW + timedelta(days=1), limits=Limits(None, 2, None))
    for _ in range(2):
        assert authority.open_session(PEER, Action.ROLEPLAY, kept.token).allowed
    authority.revoke(issued.grant.id)
    ledger.close()

    restarted, ledger = _authority(store.path)
    try:
        assert restarted.authorize(PEER, Action.ROLEPLAY, issued.token).reason == DenyReason.REVOKED
        assert restarted.open_session(PEER, Action.ROLEPLAY, kept.token).reason == DenyReason.LIMIT_SPENT
    finally:
        ledger.close()

    repo = GrantRepository(store)
    records = {r.grant.id: r for r in await repo.list("issued")}
    assert set(records) == {issued.grant.id, kept.grant.id}
    assert records[issued.grant.id].revoked_at is not None and records[kept.grant.id].revoked_at is None
    assert records[issued.grant.id].envelope == issued.envelope


async def test_repository_resolves_prefixes_and_refuses_short_unknown_and_conflicting_ids(store: Store) -> None:
    repo = GrantRepository(store)
    other_key = Ed25519PrivateKey.generate()
    other = GrantAuthority(peer_id_from_public_key(other_key.public_key()), other_key, MemoryLedger())
    received = other.issue(ME, [Action.CARD], expires=datetime.now(UTC) + timedelta(days=1))
    record, already = await repo.add(received.grant, "received", received.envelope)
    assert not already and record.direction == "received"
    assert (await repo.add(received.grant, "received", received.envelope))[1] is True
    assert (await repo.get(received.grant.id_hex[:6])).grant == received.grant
    issuer = received.grant.issuer
    assert [r.grant for r in await repo.received_from(issuer, datetime.now(UTC))] == [received.grant]
    assert await repo.received_from(issuer, datetime.now(UTC) + timedelta(days=2)) == []
    assert await repo.received_from(PEER, datetime.now(UTC)) == []
    with pytest.raises(InvalidArgument, match="at least 6"):
        await repo.get("abc")
    with pytest.raises(GrantNotFound, match="no grant"):
        await repo.get("ffffffffffff" if not received.grant.id_hex.startswith("ff") else "000000000000")
    # Same id, different content: a forger's trick, refused rather than overwriting.
    again = other.issue(ME, [Action.ROLEPLAY], expires=datetime.now(UTC) + timedelta(days=2))
    twin = dataclasses.replace(again.grant, id=received.grant.id)
    with pytest.raises(GrantConflict):
        await repo.add(twin, "received", sign_grant(twin, other_key))
