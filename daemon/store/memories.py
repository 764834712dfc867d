"""Reading and deleting memories from the daemon."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from secondme.daemon.store.db import Store
from secondme.daemon.store.originals import Originals
from secondme.daemon.store.timeutil import from_db, now_db, to_db
from secondme.errors import InvalidArgument, NotFound


class MemoryNotFound(NotFound):
    def __init__(self, memory_id: str, detail: str = "") -> None:
        super().__init__(detail or f"no memory with id {memory_id!r}; `secondmectl memories list` shows them")


@dataclass(frozen=True)
class MemoryRecord:
    id: str
    title: str
    source_type: str
    source: str
    content_hash: str
    size_bytes: int
    created_at: datetime
    ingested_at: datetime
    parse_status: str
    parse_detail: str
    media_type: str
    metadata: dict[str, Any]
    chunk_count: int
    # The memory holding the same content in another form, when this one is the later copy.
    same_content_as: str = ""
    # The file's path exactly as the OS has it (None for URLs, uploads and rows from before).
    source_bytes: bytes | None = None


@dataclass(frozen=True)
class ChunkRecord:
    index: int
    text: str
    token_count: int
    start_char: int
    end_char: int


@dataclass(frozen=True)
class InsightRecord:
    """What the identity update learned from one document."""

    status: str
    title: str
    summary: str
    insight: str
    keywords: list[str]
    error: str
    model: str


@dataclass(frozen=True)
class MemoryFilter:
    source_type: str = ""
    query: str = ""
    created_after: datetime | None = None
    created_before: datetime | None = None


_COLUMNS = """m.id, m.title, m.source_type, m.source, m.source_bytes, m.content_hash, m.size_bytes, m.created_at,
    m.ingested_at, m.parse_status, m.parse_detail, m.media_type, m.metadata_json,
    (SELECT COUNT(*) FROM chunks c WHERE c.memory_id = m.id) AS chunk_count,
    (SELECT same_as FROM memory_links l WHERE l.memory_id = m.id) AS same_content_as"""


def _record(row: sqlite3.Row) -> MemoryRecord:
    return MemoryRecord(
        id=row["id"],
        title=row["title"],
        source_type=row["source_type"],
        source=row["source"],
        content_hash=row["content_hash"],
        size_bytes=row["size_bytes"],
        created_at=from_db(row["created_at"]),  # type: ignore[arg-type]
        ingested_at=from_db(row["ingested_at"]),  # type: ignore[arg-type]
        parse_status=row["parse_status"],
        parse_detail=row["parse_detail"],
        media_type=row["media_type"],
        metadata=json.loads(row["metadata_json"]),
        chunk_count=row["chunk_count"],
        same_content_as=row["same_content_as"] or "",
        source_bytes=bytes(row["source_bytes"]) if row["source_bytes"] is not None else None,
    )


class MemoryRepository:
    def __init__(self, store: Store, originals: Originals) -> None:
        self._store = store
        self._originals = originals

    async def count(self) -> int:
        row = await self._store.fetchone("SELECT COUNT(*) AS n FROM memories")
        return int(row["n"]) if row else 0

    async def list(self, filters: MemoryFilter, limit: int, offset: int) -> tuple[list[MemoryRecord], int]:
        clauses, params = [], []
        if filters.source_type:
            clauses.append("m.source_type = ?")
            params.append(filters.source_type)
        if filters.query:
            clauses.append("(m.title LIKE ? ESCAPE '\\' OR m.source LIKE ? ESCAPE '\\')")
            like = "%" + filters.query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            params.extend([like, like])
        if filters.created_after:
            clauses.append("m.created_at >= ?")
            params.append(to_db(filters.created_after))
        if filters.created_before:
            clauses.append("m.created_at < ?")
            params.append(to_db(filters.created_before))
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        total_row = await self._store.fetchone(f"SELECT COUNT(*) AS n FROM memories m {where}", params)
        rows = await self._store.fetchall(
            f"SELECT {_COLUMNS} FROM memories m {where} ORDER BY m.created_at DESC, m.id LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [_record(r) for r in rows], int(total_row["n"]) if total_row else 0

    async def resolve_id(self, id_or_prefix: str) -> str:
        """Accept a full id or an unambiguous prefix, as the owner types them."""
        rows = await self._store.fetchall(
            "SELECT id FROM memories WHERE id = ? OR id LIKE ? ESCAPE '\\' LIMIT 3",
            (id_or_prefix, id_or_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"),
        )
        ids = [r["id"] for r in rows]
        if id_or_prefix in ids:
            return id_or_prefix
        if len(ids) == 1:
            return ids[0]
        if not ids:
            raise MemoryNotFound(id_or_prefix)
        raise InvalidArgument(f"{id_or_prefix!r} matches several memories; give more of the id")

    async def get(self, memory_id: str) -> MemoryRecord:
        resolved = await self.resolve_id(memory_id)
        row = await self._store.fetchone(f"SELECT {_COLUMNS} FROM memories m WHERE m.id = ?", (resolved,))
        if row is None:
            raise MemoryNotFound(memory_id)
        return _record(row)

    async def text(self, memory_id: str) -> str:
        row = await self._store.fetchone("SELECT text FROM memories WHERE id = ?", (memory_id,))
        return row["text"] if row else ""

    async def chunks(self, memory_id: str) -> list[ChunkRecord]:
        rows = await self._store.fetchall(
            "SELECT idx, text, token_count, start_char, end_char FROM chunks WHERE memory_id = ? ORDER BY idx",
            (memory_id,),
        )
        return [ChunkRecord(r["idx"], r["text"], r["token_count"], r["start_char"], r["end_char"]) for r in rows]

    async def delete(self, memory_id: str) -> bool:
        """Delete a memory and its chunks; remove its original when nothing refers to it any more.

        Returns whether the original was removed.
        """
        record = await self.get(memory_id)
        async with self._store.transaction() as conn:
            await conn.execute("DELETE FROM memories WHERE id = ?", (record.id,))
            await conn.execute(
                "INSERT INTO memory_events(memory_id, at, action, detail_json) VALUES (?, ?, 'deleted', ?)",
                (record.id, now_db(), json.dumps({"title": record.title, "source": record.source})),
            )
            cursor = await conn.execute("SELECT 1 FROM memories WHERE content_hash = ? LIMIT 1", (record.content_hash,))
            orphaned = await cursor.fetchone() is None
            if orphaned:
                await conn.execute("DELETE FROM originals WHERE hash = ?", (record.content_hash,))
        if orphaned:
            self._originals.remove_file(record.content_hash)
        return orphaned

    async def insight(self, memory_id: str) -> InsightRecord | None:
        row = await self._store.fetchone("SELECT * FROM memory_insights WHERE memory_id = ?", (memory_id,))
        if row is None:
            return None
        return InsightRecord(
            row["status"], row["title"], row["summary"], row["insight"], json.loads(row["keywords_json"]),
            row["error"], row["model"],
        )  # fmt: skip

    async def file_backed_hashes(self) -> list[str]:
        """Hashes of originals stored as files (the inline ones need no file)."""
        rows = await self._store.fetchall("SELECT hash FROM originals WHERE data IS NULL")
        return [r["hash"] for r in rows]
