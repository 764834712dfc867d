"""GrantAuthority decisions: one test per deny reason, limits, clock skew, revocation, threads.

Real Ed25519 keys are generated per test; the ledger here is the in-process one, and
test_grants_ledger.py runs the same authority over the daemon's SQLite store.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from secondme.permissions import (
    DOMAIN,
    Action,
    DenyReason,
    Grant,
    GrantAuthority,
    InvalidGrantRequest,
    Limits,
    MemoryLedger,
    encode_token,
    peer_id_from_public_key,
)
from secondme.permissions.codec import payload_bytes
from secondme.v1 import grant_pb2

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@dataclass
class Node:
    key: Ed25519PrivateKey
    peer_id: str
    authority: GrantAuthority
    ledger: MemoryLedger


def _node(ledger: MemoryLedger | None = None, key: Ed25519PrivateKey | None = None, skew: float = 60) -> Node:
    key = key or Ed25519PrivateKey.generate()
    peer_id = peer_id_from_public_key(key.public_key())
    ledger = ledger or MemoryLedger()
    return Node(key, peer_id, GrantAuthority(peer_id, key, ledger, skew, clock=lambda: NOW), ledger)


@pytest.fixture
def me() -> Node:
    return _node()


@pytest.fixture
def peer() -> Node:
    return _node()


def _issue(node: Node, audience: str, *, scopes=(Action.ROLEPLAY,), limits=None, start=NOW, days=30):
    return node.authority.issue(
        audience, scopes, expires=start + timedelta(days=days), not_before=start, limits=limits, now=NOW
    )


def _forge(grant: Grant, signer: Ed25519PrivateKey, domain: bytes = DOMAIN) -> str:
    payload = payload_bytes(grant)
    envelope = grant_pb2.GrantEnvelope(payload=payload, signature=signer.sign(domain + payload))
    return encode_token(envelope.SerializeToString(deterministic=True))


def test_the_audience_is_allowed_what_the_grant_scopes(me: Node, peer: Node) -> None:
    issued = _issue(me, peer.peer_id, scopes=(Action.ROLEPLAY, Action.ICEBREAK))
    decision = me.authority.authorize(peer.peer_id, Action.ICEBREAK, issued.token)
    assert decision.allowed and decision.reason is None
    assert decision.grant == issued.grant


def test_nothing_presented_is_no_grant_not_a_malformed_one(me: Node, peer: Node) -> None:
    for nothing in (b"", "", "  "):
        decision = me.authority.authorize(peer.peer_id, Action.ROLEPLAY, nothing)
        assert decision.reason == DenyReason.NO_GRANT and decision.grant is None
        assert decision.message.startswith("no grant presented")
        assert me.authority.open_session(peer.peer_id, Action.ROLEPLAY, nothing).reason == DenyReason.NO_GRANT


def test_malformed(me: Node, peer: Node) -> None:
    decision = me.authority.authorize(peer.peer_id, Action.CARD, "smg1_AAAA")
    assert decision.reason == DenyReason.MALFORMED and decision.grant is None


def test_bad_signature_when_signed_by_a_key_that_is_not_the_issuers(me: Node, peer: Node) -> None:
    grant = _issue(me, peer.peer_id).grant
    forged = _forge(grant, Ed25519PrivateKey.generate())
    decision = me.authority.authorize(peer.peer_id, Action.ROLEPLAY, forged)
    assert decision.reason == DenyReason.BAD_SIGNATURE and decision.grant is None
    # The audience cannot sign itself a grant "from" this node either.
    assert me.authority.authorize(peer.peer_id, Action.ROLEPLAY, _forge(grant, peer.key)).reason == (
        DenyReason.BAD_SIGNATURE
    )


def test_bad_signature_when_the_domain_prefix_is_missing(me: Node, peer: Node) -> None:
    grant = _issue(me, peer.peer_id).grant
    decision = me.authority.authorize(peer.peer_id, Action.ROLEPLAY, _forge(grant, me.key, domain=b""))
    assert decision.reason == DenyReason.BAD_SIGNATURE


def test_wrong_issuer_for_a_grant_another_node_issued(me: Node, peer: Node) -> None:
    someone = _node()
    issued = _issue(someone, peer.peer_id)
    decision = me.authority.authorize(peer.peer_id, Action.ROLEPLAY, issued.token)
    assert decision.reason == DenyReason.WRONG_ISSUER and decision.grant is None


def test_wrong_audience_when_a_third_peer_presents_the_grant(me: Node, peer: Node) -> None:
    third = _node()
    issued = _issue(me, peer.peer_id)
    decision = me.authority.authorize(third.peer_id, Action.ROLEPLAY, issued.token)
    assert decision.reason == DenyReason.WRONG_AUDIENCE and decision.grant == issued.grant
    assert peer.peer_id in decision.message and third.peer_id in decision.message


def test_not_yet_valid_beyond_the_clock_skew_and_allowed_within_it(me: Node, peer: Node) -> None:
    issued = _issue(me, peer.peer_id, start=NOW + timedelta(hours=1))
    early = me.authority.authorize(peer.peer_id, Action.ROLEPLAY, issued.token, NOW)
    assert early.reason == DenyReason.NOT_YET_VALID and early.grant == issued.grant
    within_skew = NOW + timedelta(hours=1) - timedelta(seconds=59)
    assert me.authority.authorize(peer.peer_id, Action.ROLEPLAY, issued.token, within_skew).allowed


def test_expired_beyond_the_clock_skew(me: Node, peer: Node) -> None:
    issued = _issue(me, peer.peer_id, days=1)
    expiry = NOW + timedelta(days=1)
    assert me.authority.authorize(peer.peer_id, Action.ROLEPLAY, issued.token, expiry + timedelta(seconds=59)).allowed
    late = me.authority.authorize(peer.peer_id, Action.ROLEPLAY, issued.token, expiry + timedelta(seconds=60))
    assert late.reason == DenyReason.EXPIRED


def test_clock_skew_is_configurable(peer: Node) -> None:
    strict = _node(skew=0)
    issued = _issue(strict, peer.peer_id, days=1)
    at_expiry = NOW + timedelta(days=1)
    assert strict.authority.authorize(peer.peer_id, Action.ROLEPLAY, issued.token, at_expiry).reason == (
        DenyReason.EXPIRED
    )


def test_revoked_is_refused_at_once_and_ends_running_sessions(me: Node, peer: Node) -> None:
    issued = _issue(me, peer.peer_id)
    session = me.authority.open_session(peer.peer_id, Action.ROLEPLAY, issued.token).session
    assert session is not None
    told: list[bytes] = []
    me.authority.on_revoke(told.append)
    assert me.authority.revoke(issued.grant.id) is True
    assert me.authority.revoke(issued.grant.id) is False
    assert told == [issued.grant.id]
    assert me.authority.authorize(peer.peer_id, Action.ROLEPLAY, issued.token).reason == DenyReason.REVOKED
    assert me.authority.record_turn(session).reason == DenyReason.REVOKED
    assert issued.grant.id in me.ledger.revoked


def test_scope_missing(me: Node, peer: Node) -> None:
    issued = _issue(me, peer.peer_id, scopes=(Action.CARD,))
    decision = me.authority.authorize(peer.peer_id, Action.BRAINSTORM, issued.token)
    assert decision.reason == DenyReason.SCOPE_MISSING and "card" in decision.message


def test_the_n_plus_first_session_of_a_day_is_refused_and_the_next_day_is_fresh(me: Node, peer: Node) -> None:
    issued = _issue(me, peer.peer_id, limits=Limits(max_sessions_per_day=3))
    for _ in range(3):
        decision = me.authority.open_session(peer.peer_id, Action.ROLEPLAY, issued.token, NOW)
        assert decision.allowed
        me.authority.close_session(decision.session)
    refused = me.authority.open_session(peer.peer_id, Action.ROLEPLAY, issued.token, NOW + timedelta(hours=1))
    assert refused.reason == DenyReason.LIMIT_SPENT and "per day" in refused.message
    # authorize alone counts nothing and still says yes: the limit is on sessions.
    assert me.authority.authorize(peer.peer_id, Action.ROLEPLAY, issued.token).allowed
    assert me.authority.open_session(peer.peer_id, Action.ROLEPLAY, issued.token, NOW + timedelta(days=1)).allowed


def test_daily_session_counts_survive_a_restart(peer: Node) -> None:
    ledger = MemoryLedger()
    first = _node(ledger)
    issued = _issue(first, peer.peer_id, limits=Limits(max_sessions_per_day=2))
    for _ in range(2):
        assert first.authority.open_session(peer.peer_id, Action.ROLEPLAY, issued.token).allowed
    restarted = _node(ledger, key=first.key)
    assert restarted.authority.open_session(peer.peer_id, Action.ROLEPLAY, issued.token).reason == (
        DenyReason.LIMIT_SPENT
    )


def test_concurrent_sessions_are_limited_and_closing_frees_a_slot(me: Node, peer: Node) -> None:
    issued = _issue(me, peer.peer_id, limits=Limits(max_concurrent_sessions=2))
    first = me.authority.open_session(peer.peer_id, Action.ROLEPLAY, issued.token).session
    assert me.authority.open_session(peer.peer_id, Action.ROLEPLAY, issued.token).allowed
    third = me.authority.open_session(peer.peer_id, Action.ROLEPLAY, issued.token)
    assert third.reason == DenyReason.LIMIT_SPENT and "concurrent" in third.message
    me.authority.close_session(first)
    me.authority.close_session(first)  # closing twice must not free a second slot
    assert me.authority.open_session(peer.peer_id, Action.ROLEPLAY, issued.token).allowed
    assert not me.authority.open_session(peer.peer_id, Action.ROLEPLAY, issued.token).allowed


def test_turns_beyond_the_limit_are_refused_and_closed_sessions_take_none(me: Node, peer: Node) -> None:
    issued = _issue(me, peer.peer_id, limits=Limits(max_turns_per_session=2))
    session = me.authority.open_session(peer.peer_id, Action.ROLEPLAY, issued.token).session
    assert me.authority.record_turn(session).allowed
    assert me.authority.record_turn(session).allowed
    spent = me.authority.record_turn(session)
    assert spent.reason == DenyReason.LIMIT_SPENT and "turn" in spent.message
    me.authority.close_session(session)
    assert me.authority.record_turn(session).reason == DenyReason.SESSION_CLOSED


def test_a_grant_missing_from_the_ledger_is_still_verified_and_revocable(peer: Node) -> None:
    before_backup = _node()
    issued = _issue(before_backup, peer.peer_id)
    restored = _node(MemoryLedger(), key=before_backup.key)  # same identity, empty store
    assert restored.authority.authorize(peer.peer_id, Action.ROLEPLAY, issued.token).allowed
    assert restored.authority.revoke(issued.grant.id)
    assert restored.authority.authorize(peer.peer_id, Action.ROLEPLAY, issued.token).reason == DenyReason.REVOKED


def test_concurrent_session_limit_holds_under_threads(me: Node, peer: Node) -> None:
    issued = _issue(me, peer.peer_id, limits=Limits(max_concurrent_sessions=3))
    results: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(12)

    def attempt() -> None:
        barrier.wait()
        decision = me.authority.open_session(peer.peer_id, Action.ROLEPLAY, issued.token)
        with lock:
            results.append(decision.allowed)

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 3


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"audience": "nope"}, "audience"),
        ({"scopes": ()}, "at least one scope"),
        ({"expires": NOW - timedelta(days=1)}, "in the past"),
        ({"not_before": NOW + timedelta(days=60)}, "before it starts"),
        ({"limits": Limits(max_turns_per_session=0)}, "at least 1"),
        ({"note": "x" * 281}, "at most 280"),
    ],
)
def test_issue_refuses_requests_that_cannot_be_a_grant(me: Node, peer: Node, kwargs: dict, expected: str) -> None:
    args = {"audience": peer.peer_id, "scopes": (Action.CARD,), "expires": NOW + timedelta(days=30), **kwargs}
    with pytest.raises(InvalidGrantRequest, match=expected):
        me.authority.issue(args.pop("audience"), args.pop("scopes"), now=NOW, **args)


def test_issuing_to_yourself_is_refused(me: Node) -> None:
    with pytest.raises(InvalidGrantRequest, match="itself"):
        _issue(me, me.peer_id)


class _FlakyLedger(MemoryLedger):
    """A ledger whose disk is full until `healed`: fault injection for the write-through paths."""

    def __init__(self) -> None:
        super().__init__()
        self.healed = False

    def _check(self) -> None:
        if not self.healed:
            raise OSError("database or disk is full")

    def record_revocation(self, grant_id: bytes, revoked_at: datetime) -> None:
        self._check()
        super().record_revocation(grant_id, revoked_at)

    def record_session_count(self, grant_id, day, count) -> None:  # type: ignore[no-untyped-def]
        self._check()
        super().record_session_count(grant_id, day, count)


def test_a_revocation_that_cannot_be_saved_still_refuses_and_a_retry_saves_it(peer: Node) -> None:
    ledger = _FlakyLedger()
    node = _node(ledger)
    ledger.healed = True
    issued = _issue(node, peer.peer_id)
    ledger.healed = False
    with pytest.raises(OSError):
        node.authority.revoke(issued.grant.id)
    assert node.authority.authorize(peer.peer_id, Action.ROLEPLAY, issued.token).reason == DenyReason.REVOKED
    ledger.healed = True
    assert node.authority.revoke(issued.grant.id) is False  # already refused; this call only saves it
    assert issued.grant.id in ledger.revoked


def test_a_session_whose_count_cannot_be_saved_is_not_opened(peer: Node) -> None:
    ledger = _FlakyLedger()
    node = _node(ledger)
    ledger.healed = True
    issued = _issue(node, peer.peer_id, limits=Limits(max_sessions_per_day=1, max_concurrent_sessions=1))
    ledger.healed = False
    with pytest.raises(OSError):
        node.authority.open_session(peer.peer_id, Action.ROLEPLAY, issued.token)
    assert node.authority.open_sessions(issued.grant.id) == []
    ledger.healed = True
    assert node.authority.open_session(peer.peer_id, Action.ROLEPLAY, issued.token).allowed
