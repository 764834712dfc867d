"""The mesh address book in the store: the peers the owner chose, their addresses, last card, blocks.

A peer gets a row only by the owner's choice: dialled (`dialled`), blocked (`set_blocked`),
looked at (`save_card`), or named by a grant this node issued (`seen` for such a peer). Peers
that merely connected or were discovered stay in memory (`daemon.recent_peers`); `is_chosen`
is the test, and `redial_candidates` the peers to reconnect to after a restart.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

from secondme.daemon.store.db import Store
from secondme.daemon.store.timeutil import from_db, now_db, to_db
from secondme.network.addresses import is_unspecified

# Enough to redial a peer that moved; older ones are dropped.
MAX_ADDRESSES = 8

# Peers this node issued a grant to that is neither expired nor revoked (parameter: now).
_GRANTED = """SELECT g.audience FROM grants g LEFT JOIN grant_revocations r ON r.grant_id = g.id
    WHERE g.direction = 'issued' AND g.expires > ? AND r.grant_id IS NULL"""


@dataclass(frozen=True)
class PeerRecord:
    peer_id: str
    addresses: list[str]
    last_seen: datetime | None
    card: bytes | None
    card_fetched_at: datetime | None
    blocked: bool
    dialled_at: datetime | None = None


def _record(row: sqlite3.Row) -> PeerRecord:
    return PeerRecord(
        peer_id=row["peer_id"],
        addresses=json.loads(row["addresses_json"]),
        last_seen=from_db(row["last_seen"]) if row["last_seen"] else None,
        card=row["card"],
        card_fetched_at=from_db(row["card_fetched_at"]) if row["card_fetched_at"] else None,
        blocked=bool(row["blocked"]),
        dialled_at=from_db(row["dialled_at"]) if row["dialled_at"] else None,
    )


def _dial_address(address: str) -> str:
    return address.split("/p2p/", 1)[0]


class PeerRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def list(self) -> list[PeerRecord]:
        rows = await self._store.fetchall("SELECT * FROM peers ORDER BY last_seen DESC, peer_id")
        return [_record(r) for r in rows]

    async def count(self) -> int:
        row = await self._store.fetchone("SELECT COUNT(*) FROM peers")
        return int(row[0]) if row else 0

    async def get(self, peer_id: str) -> PeerRecord | None:
        row = await self._store.fetchone("SELECT * FROM peers WHERE peer_id = ?", (peer_id,))
        return _record(row) if row else None

    async def is_chosen(self, peer_id: str) -> bool:
        """Did the owner dial, block, look at or grant this peer (so it belongs in the book)?"""
        row = await self._store.fetchone(
            f"""SELECT EXISTS (SELECT 1 FROM peers WHERE peer_id = ?
                    AND (dialled_at IS NOT NULL OR blocked = 1 OR card IS NOT NULL))
                OR ? IN ({_GRANTED})""",
            (peer_id, peer_id, to_db(datetime.now(UTC))),
        )
        return bool(row and row[0])

    async def redial_candidates(self) -> list[PeerRecord]:
        """Peers to reconnect to after a restart: dialled by the owner or granted, not blocked."""
        rows = await self._store.fetchall(
            f"""SELECT * FROM peers WHERE blocked = 0 AND addresses_json != '[]'
                AND (dialled_at IS NOT NULL OR peer_id IN ({_GRANTED}))
                ORDER BY last_seen DESC, peer_id""",
            (to_db(datetime.now(UTC)),),
        )
        return [_record(r) for r in rows]

    async def seen(self, peer_id: str, addresses: list[str]) -> None:
        """Record a connection: merge `addresses` (newest first) and stamp last_seen."""
        await self._upsert(peer_id, addresses, dialled=False)

    async def dialled(self, peer_id: str, addresses: list[str]) -> None:
        """The owner dialled this peer at `addresses`: it joins the book and is redialled."""
        await self._upsert(peer_id, addresses, dialled=True)

    async def _upsert(self, peer_id: str, addresses: list[str], dialled: bool) -> None:
        async with self._store.transaction() as conn:
            cursor = await conn.execute("SELECT addresses_json FROM peers WHERE peer_id = ?", (peer_id,))
            row = await cursor.fetchone()
            known = json.loads(row[0]) if row else []
            merged: list[str] = []
            for address in [_dial_address(a) for a in addresses] + known:
                if address and address not in merged and not is_unspecified(address):
                    merged.append(address)
            now = now_db()
            await conn.execute(
                "INSERT INTO peers (peer_id, addresses_json, last_seen, dialled_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(peer_id) DO UPDATE SET addresses_json = excluded.addresses_json, "
                "last_seen = excluded.last_seen, dialled_at = COALESCE(excluded.dialled_at, dialled_at)",
                (peer_id, json.dumps(merged[:MAX_ADDRESSES]), now, now if dialled else None),
            )

    async def save_card(self, peer_id: str, card: bytes) -> None:
        await self._store.execute(
            "INSERT INTO peers (peer_id, card, card_fetched_at) VALUES (?, ?, ?) "
            "ON CONFLICT(peer_id) DO UPDATE SET card = excluded.card, card_fetched_at = excluded.card_fetched_at",
            (peer_id, card, now_db()),
        )

    async def set_blocked(self, peer_id: str, blocked: bool) -> None:
        await self._store.execute(
            "INSERT INTO peers (peer_id, blocked) VALUES (?, ?) "
            "ON CONFLICT(peer_id) DO UPDATE SET blocked = excluded.blocked",
            (peer_id, int(blocked)),
        )

    async def blocked(self) -> list[str]:
        rows = await self._store.fetchall("SELECT peer_id FROM peers WHERE blocked = 1")
        return [r[0] for r in rows]
