"""What the authority persists, as an interface the daemon implements over its store.

`permissions` never imports the daemon; the daemon hands `GrantAuthority` an object with these
methods (`secondme.daemon.store.grants.SqliteGrantLedger`). The authority keeps everything it
needs for a decision in memory and calls the ledger only to load at start and to write through
on issue, revoke and session start, so `authorize` does no I/O.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from secondme.permissions.model import Grant


@dataclass(frozen=True)
class LedgerState:
    """What survives a restart: revoked grant ids and today's session counts per grant."""

    revoked: frozenset[bytes] = frozenset()
    sessions_today: Mapping[bytes, int] = field(default_factory=dict)


class GrantLedger(Protocol):
    """Durable record of grants this node issued, revocations and session usage.

    Methods are synchronous and may be called from any thread (the network thread opens
    sessions); each call is one atomic write. Exceptions propagate to the caller.
    """

    def load_state(self, today: date) -> LedgerState:
        """All revocations, and the session counts recorded for `today` (UTC)."""
        ...

    def record_issued(self, grant: Grant, envelope: bytes) -> None:
        """Store a grant this node just signed (the envelope is what `grant export` returns)."""
        ...

    def record_revocation(self, grant_id: bytes, revoked_at: datetime) -> None:
        """Persist a revocation; the id need not be in the issued table (old backups)."""
        ...

    def record_session_count(self, grant_id: bytes, day: date, count: int) -> None:
        """Persist how many sessions `grant_id` has opened on `day` (UTC); keep the higher of old and new."""
        ...


class MemoryLedger:
    """A GrantLedger that keeps everything in this process: for tools and tests of the policy alone."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.issued: dict[bytes, tuple[Grant, bytes]] = {}
        self.revoked: dict[bytes, datetime] = {}
        self.sessions: dict[tuple[bytes, date], int] = {}

    def load_state(self, today: date) -> LedgerState:
        with self._lock:
            return LedgerState(
                revoked=frozenset(self.revoked),
                sessions_today={gid: n for (gid, day), n in self.sessions.items() if day == today},
            )

    def record_issued(self, grant: Grant, envelope: bytes) -> None:
        with self._lock:
            self.issued[grant.id] = (grant, envelope)

    def record_revocation(self, grant_id: bytes, revoked_at: datetime) -> None:
        with self._lock:
            self.revoked.setdefault(grant_id, revoked_at)

    def record_session_count(self, grant_id: bytes, day: date, count: int) -> None:
        with self._lock:
            self.sessions[(grant_id, day)] = max(count, self.sessions.get((grant_id, day), 0))
