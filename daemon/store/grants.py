"""Grants in the store: the issued and received grants, revocations and session usage.

Two ways in, because two kinds of caller:
- `SqliteGrantLedger` is the `permissions.GrantLedger` the `GrantAuthority` writes through to.
  It is synchronous with its own connection, since the authority is called from the network
  thread as well as (through `asyncio.to_thread`) from the API, and must not need an event loop.
- `GrantRepository` is the async, read-mostly view the gRPC servicer lists and imports with.
Both speak to the same SQLite file; WAL and the busy timeout let their writes take turns.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal

import aiosqlite

from secondme.daemon.store import sync
from secondme.daemon.store.db import Store
from secondme.daemon.store.timeutil import from_db, now_db, to_db
from secondme.errors import InvalidArgument, Kind
from secondme.permissions import Grant, GrantError, GrantNotFound, LedgerState
from secondme.permissions.codec import parse_payload, split_envelope

Direction = Literal["issued", "received"]
# Prefixes shorter than this are refused: they would too easily name the wrong grant.
MIN_ID_PREFIX = 6


@dataclass(frozen=True)
class GrantRecord:
    grant: Grant
    direction: Direction
    envelope: bytes
    recorded_at: datetime
    revoked_at: datetime | None


class GrantConflict(GrantError):
    """A different grant with the same id is already stored (only a forger could cause this)."""

    kind = Kind.ALREADY_EXISTS


class SqliteGrantLedger:
    """`permissions.GrantLedger` over the daemon's database file (see the module docstring)."""

    def __init__(self, db_path: Path) -> None:
        self._conn = sync.connect(db_path)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def load_state(self, today: date) -> LedgerState:
        with self._lock:
            revoked = self._conn.execute("SELECT grant_id FROM grant_revocations").fetchall()
            usage = self._conn.execute(
                "SELECT grant_id, sessions FROM grant_usage WHERE day = ?", (today.isoformat(),)
            ).fetchall()
        return LedgerState(
            revoked=frozenset(bytes.fromhex(row["grant_id"]) for row in revoked),
            sessions_today={bytes.fromhex(row["grant_id"]): int(row["sessions"]) for row in usage},
        )

    def record_issued(self, grant: Grant, envelope: bytes) -> None:
        with self._lock, sync.transaction(self._conn) as conn:
            _insert(conn, grant, "issued", envelope)

    def record_revocation(self, grant_id: bytes, revoked_at: datetime) -> None:
        with self._lock, sync.transaction(self._conn) as conn:
            conn.execute(
                "INSERT OR IGNORE INTO grant_revocations(grant_id, revoked_at) VALUES (?, ?)",
                (grant_id.hex(), to_db(revoked_at)),
            )

    def record_session_count(self, grant_id: bytes, day: date, count: int) -> None:
        with self._lock, sync.transaction(self._conn) as conn:
            conn.execute(
                "INSERT INTO grant_usage(grant_id, day, sessions) VALUES (?, ?, ?) "
                "ON CONFLICT(grant_id, day) DO UPDATE SET sessions = MAX(sessions, excluded.sessions)",
                (grant_id.hex(), day.isoformat(), count),
            )


def _insert(conn: sqlite3.Connection, grant: Grant, direction: Direction, envelope: bytes) -> None:
    conn.execute(
        "INSERT INTO grants(id, direction, issuer, audience, expires, envelope, recorded_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (grant.id_hex, direction, grant.issuer, grant.audience, to_db(grant.expires), envelope, now_db()),
    )


_SELECT = """SELECT g.id, g.direction, g.envelope, g.recorded_at, r.revoked_at
    FROM grants g LEFT JOIN grant_revocations r ON r.grant_id = g.id"""


def _record(row: sqlite3.Row) -> GrantRecord:
    envelope = bytes(row["envelope"])
    payload, _signature = split_envelope(envelope)  # verified when it was stored
    return GrantRecord(
        grant=parse_payload(payload),
        direction=row["direction"],
        envelope=envelope,
        recorded_at=from_db(row["recorded_at"]),  # type: ignore[arg-type]
        revoked_at=from_db(row["revoked_at"]),
    )


class GrantRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def list(self, direction: Direction | None = None) -> list[GrantRecord]:
        if direction is None:
            rows = await self._store.fetchall(f"{_SELECT} ORDER BY g.recorded_at, g.id")
        else:
            rows = await self._store.fetchall(
                f"{_SELECT} WHERE g.direction = ? ORDER BY g.recorded_at, g.id", (direction,)
            )
        return [_record(row) for row in rows]

    async def received_from(self, issuer: str, now: datetime) -> list[GrantRecord]:
        """Unexpired grants `issuer` gave this node, latest expiry first: what to present to that peer."""
        rows = await self._store.fetchall(
            f"{_SELECT} WHERE g.direction = 'received' AND g.issuer = ? AND g.expires > ? ORDER BY g.expires DESC",
            (issuer, to_db(now)),
        )
        return [_record(row) for row in rows]

    async def count(self) -> int:
        row = await self._store.fetchone("SELECT COUNT(*) AS n FROM grants")
        return int(row["n"]) if row else 0

    async def resolve_id(self, id_or_prefix: str) -> str:
        """The full hex id for a unique prefix of at least MIN_ID_PREFIX hex digits."""
        prefix = id_or_prefix.strip().lower()
        if len(prefix) < MIN_ID_PREFIX or any(c not in "0123456789abcdef" for c in prefix):
            raise InvalidArgument(
                f"{id_or_prefix!r} is not a grant id: give at least {MIN_ID_PREFIX} of its hex digits "
                "(`secondmectl grant list` shows them)"
            )
        rows = await self._store.fetchall(
            "SELECT id FROM grants WHERE id >= ? AND id < ? ORDER BY id LIMIT 2", (prefix, prefix + "g")
        )
        if not rows:
            raise GrantNotFound(f"no grant with id {id_or_prefix!r}; `secondmectl grant list` shows them")
        if len(rows) > 1:
            raise InvalidArgument(f"{id_or_prefix!r} matches more than one grant; give more digits")
        return str(rows[0]["id"])

    async def get(self, id_or_prefix: str) -> GrantRecord:
        grant_id = await self.resolve_id(id_or_prefix)
        row = await self._store.fetchone(f"{_SELECT} WHERE g.id = ?", (grant_id,))
        if row is None:
            raise GrantNotFound(f"no grant with id {id_or_prefix!r}; `secondmectl grant list` shows them")
        return _record(row)

    async def find(self, grant_id: bytes) -> GrantRecord | None:
        row = await self._store.fetchone(f"{_SELECT} WHERE g.id = ?", (grant_id.hex(),))
        return _record(row) if row else None

    async def add(self, grant: Grant, direction: Direction, envelope: bytes) -> tuple[GrantRecord, bool]:
        """Store a verified grant; returns (record, already_present). Idempotent for the same envelope."""
        async with self._store.transaction() as conn:
            already = await _add(conn, grant, direction, envelope)
        record = await self.find(grant.id)
        assert record is not None
        return record, already

    async def add_delivered(self, grant: Grant, envelope: bytes, keep_per_issuer: int) -> tuple[bool, int]:
        """Store a grant a peer delivered over the mesh, keeping at most `keep_per_issuer` received
        from its issuer (the oldest dropped: a peer minting grants for us fills only its own share).
        Returns (already_present, how many older grants from that issuer were dropped)."""
        async with self._store.transaction() as conn:
            already = await _add(conn, grant, "received", envelope)
            cursor = await conn.execute(
                "DELETE FROM grants WHERE id IN (SELECT id FROM grants WHERE direction = 'received' AND issuer = ? "
                "ORDER BY recorded_at DESC, rowid DESC LIMIT -1 OFFSET ?)",
                (grant.issuer, keep_per_issuer),
            )
            dropped = cursor.rowcount
        return already, max(dropped, 0)

    async def received_count(self, issuer: str) -> int:
        row = await self._store.fetchone(
            "SELECT COUNT(*) FROM grants WHERE direction = 'received' AND issuer = ?", (issuer,)
        )
        return int(row[0]) if row else 0


async def _add(conn: aiosqlite.Connection, grant: Grant, direction: Direction, envelope: bytes) -> bool:
    """Insert a verified grant unless the same envelope is there; True when it already was."""
    cursor = await conn.execute("SELECT envelope FROM grants WHERE id = ?", (grant.id_hex,))
    existing = await cursor.fetchone()
    if existing is not None and bytes(existing["envelope"]) != envelope:
        raise GrantConflict(f"a different grant with id {grant.id_hex} is already stored; refusing to replace it")
    if existing is None:
        await conn.execute(
            "INSERT INTO grants(id, direction, issuer, audience, expires, envelope, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (grant.id_hex, direction, grant.issuer, grant.audience, to_db(grant.expires), envelope, now_db()),
        )
    return existing is not None
