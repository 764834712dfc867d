"""The mesh address book in the store: known peers, their addresses, last card, and blocks."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from secondme.daemon.store.db import Store
from secondme.daemon.store.timeutil import from_db, now_db
from secondme.network.addresses import is_unspecified

# Enough to redial a peer that moved; older ones are dropped.
MAX_ADDRESSES = 8


@dataclass(frozen=True)
class PeerRecord:
    peer_id: str
    addresses: list[str]
    last_seen: datetime | None
    card: bytes | None
    card_fetched_at: datetime | None
    blocked: bool


def _record(row: sqlite3.Row) -> PeerRecord:
    return PeerRecord(
        peer_id=row["peer_id"],
        addresses=json.loads(row["addresses_json"]),
        last_seen=from_db(row["last_seen"]) if row["last_seen"] else None,
        card=row["card"],
        card_fetched_at=from_db(row["card_fetched_at"]) if row["card_fetched_at"] else None,
        blocked=bool(row["blocked"]),
    )


def _dial_address(address: str) -> str:
    return address.split("/p2p/", 1)[0]


class PeerRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def list(self) -> list[PeerRecord]:
        rows = await self._store.fetchall("SELECT * FROM peers ORDER BY last_seen DESC, peer_id")
        return [_record(r) for r in rows]

    async def get(self, peer_id: str) -> PeerRecord | None:
        row = await self._store.fetchone("SELECT * FROM peers WHERE peer_id = ?", (peer_id,))
        return _record(row) if row else None

    async def seen(self, peer_id: str, addresses: list[str]) -> None:
        """Record a connection: merge `addresses` (newest first) and stamp last_seen."""
        async with self._store.transaction() as conn:
            cursor = await conn.execute("SELECT addresses_json FROM peers WHERE peer_id = ?", (peer_id,))
            row = await cursor.fetchone()
            known = json.loads(row[0]) if row else []
            merged: list[str] = []
            for address in [_dial_address(a) for a in addresses] + known:
                if address and address not in merged and not is_unspecified(address):
                    merged.append(address)
            await conn.execute(
                "INSERT INTO peers (peer_id, addresses_json, last_seen) VALUES (?, ?, ?) "
                "ON CONFLICT(peer_id) DO UPDATE SET addresses_json = excluded.addresses_json, "
                "last_seen = excluded.last_seen",
                (peer_id, json.dumps(merged[:MAX_ADDRESSES]), now_db()),
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
