"""The one place that decides what another self may do with this one.

`GrantAuthority` is built once by the daemon with this node's key and a `GrantLedger`, and
called by the network layer for every incoming request. Its public methods:

    authorize(remote_peer_id: str, action: Action, token: str | bytes, now: datetime | None = None) -> Decision
        Is this presented grant valid for this peer and action right now? Counts nothing.
    open_session(remote_peer_id: str, action: Action, token: str | bytes, now: datetime | None = None) -> Decision
        authorize, then check and count the per-day and concurrent session limits;
        `decision.session` is the SessionHandle when allowed, else None.
    record_turn(handle: SessionHandle, now: datetime | None = None) -> Decision
        Count one turn; refused when the turn limit is spent, the grant was revoked or expired
        since the session opened, or the session is closed.
    close_session(handle: SessionHandle) -> None
        Free the concurrent-session slot; idempotent.
    issue(audience: str, scopes: Iterable[Action], *, expires: datetime, not_before: datetime | None = None,
          limits: Limits = Limits(), disclosure: Disclosure = Disclosure.PUBLIC_CARD, note: str = "",
          now: datetime | None = None) -> IssuedGrant
        Sign a new grant with this node's key and record it.
    revoke(grant_id: bytes, now: datetime | None = None) -> bool
        Refuse the grant from now on, including running sessions; True if newly revoked.
    is_revoked(grant_id: bytes) -> bool
    verify(token: str | bytes) -> Grant
        Signature check against the issuer inside the grant (any issuer): for imports.
    on_revoke(callback: Callable[[bytes], None]) -> None
        Called with the grant id after each new revocation (to end running sessions at once).
    open_sessions(grant_id: bytes) -> list[SessionHandle]
    set_clock_skew(seconds: float) -> None

`remote_peer_id` must be the authenticated peer ID of the connection the request came on (from
the Noise handshake), never a peer ID read from a message: the audience check is only as good
as that value.

Decisions are synchronous and do no I/O: revocations and usage counters live in memory, loaded
from the ledger at construction and written through on change. All methods are thread-safe.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from secondme.permissions.codec import open_envelope, parse_payload, sign_grant, split_envelope, verify_signature
from secondme.permissions.errors import GrantError, InvalidGrantRequest, InvalidPeerId
from secondme.permissions.ledger import GrantLedger
from secondme.permissions.model import (
    GRANT_ID_BYTES,
    MAX_NOTE_CHARS,
    Action,
    DenyReason,
    Disclosure,
    Grant,
    Limits,
    utc,
)
from secondme.permissions.peer_id import canonical_peer_id, peer_id_from_public_key
from secondme.permissions.token import decode_token, encode_token

log = logging.getLogger(__name__)

DEFAULT_CLOCK_SKEW_SECONDS = 60.0


@dataclass(frozen=True)
class SessionHandle:
    """An open session counted against a grant's limits; give it back with `close_session`."""

    id: int
    grant_id: bytes
    peer_id: str
    action: Action


@dataclass(frozen=True)
class Decision:
    """Allow or deny, why (machine-readable `reason`, human `message`), and the grant.

    `grant` is set whenever the grant could be decoded and its signature verified, also on
    denials after that point (expired, revoked, ...); it is None for malformed, forged or foreign
    grants, whose content must not be trusted. `session` is set only by an allowed `open_session`.
    """

    allowed: bool
    reason: DenyReason | None
    message: str
    grant: Grant | None
    session: SessionHandle | None = None


@dataclass(frozen=True)
class IssuedGrant:
    grant: Grant
    envelope: bytes
    token: str


@dataclass
class _Session:
    handle: SessionHandle
    grant: Grant
    turns: int = 0


@dataclass
class _DayCount:
    day: date
    count: int = 0


def _now() -> datetime:
    return datetime.now(UTC)


def _deny(reason: DenyReason, message: str, grant: Grant | None = None) -> Decision:
    return Decision(allowed=False, reason=reason, message=message, grant=grant)


@dataclass
class _State:
    revoked: set[bytes]
    day_counts: dict[bytes, _DayCount]
    sessions: dict[int, _Session] = field(default_factory=dict)
    concurrent: dict[bytes, int] = field(default_factory=dict)


class GrantAuthority:
    """Issues, verifies, limits and revokes grants for this node (see the module docstring)."""

    def __init__(
        self,
        peer_id: str,
        private_key: Ed25519PrivateKey,
        ledger: GrantLedger,
        clock_skew_seconds: float = DEFAULT_CLOCK_SKEW_SECONDS,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        if peer_id_from_public_key(private_key.public_key()) != peer_id:
            raise ValueError(f"the node key does not belong to peer {peer_id}")
        self.peer_id = peer_id
        self._key = private_key
        self._public_key = private_key.public_key()
        self._ledger = ledger
        self._clock = clock
        self.set_clock_skew(clock_skew_seconds)
        self._lock = threading.Lock()
        today = clock().astimezone(UTC).date()
        loaded = ledger.load_state(today)
        self._state = _State(
            revoked=set(loaded.revoked),
            day_counts={gid: _DayCount(today, n) for gid, n in loaded.sessions_today.items()},
        )
        self._session_ids = itertools.count(1)
        self._unsaved_revocations: set[bytes] = set()
        self._listeners: list[Callable[[bytes], None]] = []

    def set_clock_skew(self, seconds: float) -> None:
        """How far a peer's clock may be off at the edges of a validity window (config reload)."""
        if seconds < 0:
            raise ValueError("clock_skew_seconds must be >= 0")
        self.clock_skew = timedelta(seconds=seconds)

    # -- decisions -------------------------------------------------------------------------

    def authorize(
        self, remote_peer_id: str, action: Action, token: str | bytes, now: datetime | None = None
    ) -> Decision:
        """Decide whether `remote_peer_id` may do `action` with the presented grant now.

        `token` is the `smg1_...` string or the raw envelope bytes from the wire. Never raises
        for a bad token: every refusal is a Decision with a reason. `now`, when given, must be
        timezone-aware (tests pass it; the network layer leaves it out).
        """
        moment = utc(now) if now is not None else self._clock()
        if not (token.strip() if isinstance(token, str) else token):
            return _deny(
                DenyReason.NO_GRANT,
                f"no grant presented: {action} needs a grant from this self's owner ({self.peer_id})",
            )
        try:
            envelope = decode_token(token) if isinstance(token, str) else token
            payload, signature = split_envelope(envelope)
            # Issuer and audience are compared with known-good peer IDs below, so they need not
            # be decoded; the issuer must be this node, whose key is at hand.
            claimed = parse_payload(payload, check_peer_ids=False)
            if claimed.issuer != self.peer_id:
                return _deny(
                    DenyReason.WRONG_ISSUER,
                    f"this grant was issued by {claimed.issuer[:64]}, not by this node ({self.peer_id})",
                )
            verify_signature(claimed, payload, signature, self._public_key)
            grant = claimed
        except GrantError as exc:
            return _deny(exc.reason or DenyReason.MALFORMED, exc.message)
        if grant.audience != remote_peer_id:
            return _deny(
                DenyReason.WRONG_AUDIENCE,
                f"grant {grant.id_hex} is for {grant.audience}, but was presented by {remote_peer_id}",
                grant,
            )
        with self._lock:
            revoked = grant.id in self._state.revoked
        if revoked:
            return _deny(DenyReason.REVOKED, f"grant {grant.id_hex} was revoked", grant)
        window = self._check_window(grant, moment)
        if window is not None:
            return window
        if not grant.allows(action):
            allowed = ", ".join(sorted(grant.scopes))
            return _deny(
                DenyReason.SCOPE_MISSING,
                f"grant {grant.id_hex} allows {allowed}, not {action}",
                grant,
            )
        return Decision(allowed=True, reason=None, message=f"allowed by grant {grant.id_hex}", grant=grant)

    def _check_window(self, grant: Grant, moment: datetime) -> Decision | None:
        if moment < grant.not_before - self.clock_skew:
            return _deny(
                DenyReason.NOT_YET_VALID,
                f"grant {grant.id_hex} is valid from {grant.not_before.isoformat()}",
                grant,
            )
        if moment >= grant.expires + self.clock_skew:
            return _deny(DenyReason.EXPIRED, f"grant {grant.id_hex} expired at {grant.expires.isoformat()}", grant)
        return None

    def open_session(
        self, remote_peer_id: str, action: Action, token: str | bytes, now: datetime | None = None
    ) -> Decision:
        """`authorize`, then count one session against the daily and concurrent limits.

        An allowed Decision carries `session`; pass it to `record_turn` and `close_session`.
        The day is the UTC calendar day. The session is counted in memory under the lock, then
        the new daily count is written through to the ledger outside it (so a slow disk never
        stalls `authorize` on another thread); if that write fails, the session is undone and
        the ledger's exception propagates.
        """
        moment = utc(now) if now is not None else self._clock()
        decision = self.authorize(remote_peer_id, action, token, moment)
        if not decision.allowed:
            return decision
        grant = decision.grant
        assert grant is not None
        limits = grant.limits
        today = moment.date()
        with self._lock:
            if grant.id in self._state.revoked:  # revoked between authorize and here
                return _deny(DenyReason.REVOKED, f"grant {grant.id_hex} was revoked", grant)
            running = self._state.concurrent.get(grant.id, 0)
            if limits.max_concurrent_sessions is not None and running >= limits.max_concurrent_sessions:
                return _deny(
                    DenyReason.LIMIT_SPENT,
                    f"grant {grant.id_hex} allows {limits.max_concurrent_sessions} concurrent session(s); "
                    f"{running} running",
                    grant,
                )
            counted = self._state.day_counts.get(grant.id)
            if counted is None or counted.day != today:
                counted = _DayCount(today)
            if limits.max_sessions_per_day is not None and counted.count >= limits.max_sessions_per_day:
                return _deny(
                    DenyReason.LIMIT_SPENT,
                    f"grant {grant.id_hex} allows {limits.max_sessions_per_day} session(s) per day; "
                    f"all used on {today.isoformat()} (UTC)",
                    grant,
                )
            counted.count += 1
            count = counted.count
            self._state.day_counts[grant.id] = counted
            self._state.concurrent[grant.id] = running + 1
            handle = SessionHandle(next(self._session_ids), grant.id, remote_peer_id, action)
            self._state.sessions[handle.id] = _Session(handle, grant)
        try:
            # Counts may reach the ledger out of order from two threads; it keeps the highest.
            self._ledger.record_session_count(grant.id, today, count)
        except BaseException:
            self.close_session(handle)
            with self._lock:
                if counted.count > 0:
                    counted.count -= 1
            raise
        return Decision(
            allowed=True,
            reason=None,
            message=f"session {handle.id} opened under grant {grant.id_hex}",
            grant=grant,
            session=handle,
        )

    def record_turn(self, handle: SessionHandle, now: datetime | None = None) -> Decision:
        """Count one turn of an open session; refused once the grant's turn limit is reached."""
        moment = utc(now) if now is not None else self._clock()
        with self._lock:
            session = self._state.sessions.get(handle.id)
            if session is None:
                return _deny(DenyReason.SESSION_CLOSED, f"session {handle.id} is not open")
            grant = session.grant
            if grant.id in self._state.revoked:
                return _deny(DenyReason.REVOKED, f"grant {grant.id_hex} was revoked", grant)
            window = self._check_window(grant, moment)
            if window is not None:
                return window
            limit = grant.limits.max_turns_per_session
            if limit is not None and session.turns >= limit:
                return _deny(
                    DenyReason.LIMIT_SPENT,
                    f"grant {grant.id_hex} allows {limit} turn(s) per session; all used",
                    grant,
                )
            session.turns += 1
            turns = session.turns
        return Decision(allowed=True, reason=None, message=f"turn {turns} of session {handle.id}", grant=grant)

    def close_session(self, handle: SessionHandle) -> None:
        """Give back the concurrent-session slot; closing twice does nothing."""
        with self._lock:
            session = self._state.sessions.pop(handle.id, None)
            if session is None:
                return
            running = self._state.concurrent.get(handle.grant_id, 1) - 1
            if running > 0:
                self._state.concurrent[handle.grant_id] = running
            else:
                self._state.concurrent.pop(handle.grant_id, None)

    def open_sessions(self, grant_id: bytes) -> list[SessionHandle]:
        with self._lock:
            return [s.handle for s in self._state.sessions.values() if s.handle.grant_id == grant_id]

    # -- issue and revoke ------------------------------------------------------------------

    def issue(
        self,
        audience: str,
        scopes: Iterable[Action],
        *,
        expires: datetime,
        not_before: datetime | None = None,
        limits: Limits | None = None,
        disclosure: Disclosure = Disclosure.PUBLIC_CARD,
        note: str = "",
        now: datetime | None = None,
    ) -> IssuedGrant:
        """Sign a grant for `audience` and record it; raises InvalidGrantRequest saying what to fix."""
        moment = utc(now) if now is not None else self._clock()
        try:
            audience = canonical_peer_id(audience)
        except InvalidPeerId as exc:
            raise InvalidGrantRequest(f"audience: {exc.message}") from exc
        if audience == self.peer_id:
            raise InvalidGrantRequest("a grant to this node itself is pointless; give the peer ID of another self")
        scope_set = frozenset(Action(s) for s in scopes)
        if not scope_set:
            raise InvalidGrantRequest("a grant needs at least one scope: card, roleplay, icebreak, brainstorm")
        start = utc(not_before) if not_before is not None else moment
        start = start.replace(microsecond=0)
        end = utc(expires).replace(microsecond=0)
        if end <= moment:
            raise InvalidGrantRequest(f"the expiry {end.isoformat()} is already in the past")
        if end <= start:
            raise InvalidGrantRequest(
                f"the grant would expire ({end.isoformat()}) before it starts ({start.isoformat()})"
            )
        limits = limits or Limits()
        for name in ("max_turns_per_session", "max_sessions_per_day", "max_concurrent_sessions"):
            value = getattr(limits, name)
            if value is not None and not 1 <= value <= 2**32 - 1:
                raise InvalidGrantRequest(f"{name.replace('_', '-')} must be at least 1 (leave it out for no limit)")
        if len(note) > MAX_NOTE_CHARS:
            raise InvalidGrantRequest(f"a grant note is at most {MAX_NOTE_CHARS} characters, got {len(note)}")
        grant = Grant(
            id=secrets.token_bytes(GRANT_ID_BYTES),
            issuer=self.peer_id,
            audience=audience,
            scopes=scope_set,
            not_before=start,
            expires=end,
            disclosure=Disclosure(disclosure),
            limits=limits,
            note=note,
        )
        envelope = sign_grant(grant, self._key)
        self._ledger.record_issued(grant, envelope)
        return IssuedGrant(grant, envelope, encode_token(envelope))

    def revoke(self, grant_id: bytes, now: datetime | None = None) -> bool:
        """Refuse `grant_id` from now on (running sessions included); True when newly revoked.

        Works for any id, also one this node has no record of. It takes effect in memory first
        and is persisted before this returns; if persisting fails the grant stays refused for
        this process's lifetime (fail closed), the ledger's exception propagates, and calling
        `revoke` again retries the write.
        """
        if len(grant_id) != GRANT_ID_BYTES:
            raise InvalidGrantRequest(f"a grant id is {GRANT_ID_BYTES} bytes ({GRANT_ID_BYTES * 2} hex digits)")
        moment = utc(now) if now is not None else self._clock()
        with self._lock:
            newly = grant_id not in self._state.revoked
            if not newly and grant_id not in self._unsaved_revocations:
                return False
            self._state.revoked.add(grant_id)
            self._unsaved_revocations.add(grant_id)
            listeners = list(self._listeners) if newly else []
        for callback in listeners:
            try:
                callback(grant_id)
            except Exception:  # a listener's bug must not undo or hide the revocation
                log.exception("revocation listener failed for grant %s", grant_id.hex())
        self._ledger.record_revocation(grant_id, moment)
        with self._lock:
            self._unsaved_revocations.discard(grant_id)
        return newly

    def is_revoked(self, grant_id: bytes) -> bool:
        with self._lock:
            return grant_id in self._state.revoked

    def on_revoke(self, callback: Callable[[bytes], None]) -> None:
        with self._lock:
            self._listeners.append(callback)

    def verify(self, token: str | bytes) -> Grant:
        """The grant inside `token`, verified against its own issuer's key; raises GrantError."""
        envelope = decode_token(token) if isinstance(token, str) else token
        return open_envelope(envelope)
