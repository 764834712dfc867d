"""What the background jobs still have to do: memories waiting for embeddings, documents for insights.

Retrieval misses a memory without its embedding, and the identity update has not read a document
without its insight; `status` says how many there are, so neither is silently behind. Counting
walks every memory's id (a millisecond or two per thousands), so it runs on its own read-only
connection in a worker thread, never on the daemon's reader that status and chat wait on, and a
count is reused for `MAX_AGE_SECONDS`: an older one is answered at once and counted again behind it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from secondme.daemon.store.identity_job_store import NOT_A_COPY

MAX_AGE_SECONDS = 1.0
_COUNTS = f"""SELECT
    (SELECT COUNT(*) FROM memories m
     WHERE EXISTS (SELECT 1 FROM chunks c WHERE c.memory_id = m.id)
       AND NOT EXISTS (SELECT 1 FROM memory_embeddings e WHERE e.memory_id = m.id AND e.model = ?)),
    (SELECT COUNT(*) FROM memories m
     WHERE EXISTS (SELECT 1 FROM chunks c WHERE c.memory_id = m.id) AND {NOT_A_COPY}
       AND NOT EXISTS (SELECT 1 FROM memory_insights i
                       WHERE i.memory_id = m.id AND (i.status != 'failed' OR i.attempts >= ?)))"""


@dataclass(frozen=True)
class BacklogCounts:
    # Memories with chunks but no embedding from the current embedding model.
    awaiting_embedding: int = 0
    # Documents with text and no insight yet, or one that failed and will be tried again.
    awaiting_insight: int = 0


class Backlog:
    def __init__(self, db: Path, embedding_model: str, max_insight_attempts: int) -> None:
        self._db = db
        self._model = embedding_model
        self._attempts = max_insight_attempts
        self._conn: sqlite3.Connection | None = None
        self._counts = BacklogCounts()
        self._counted_at: float | None = None
        self._refreshing: asyncio.Task[None] | None = None

    async def counts(self) -> BacklogCounts:
        if self._counted_at is None:
            await self._refresh()
        elif time.monotonic() - self._counted_at >= MAX_AGE_SECONDS and (
            self._refreshing is None or self._refreshing.done()
        ):
            self._refreshing = asyncio.create_task(self._refresh(), name="backlog-count")
        return self._counts

    async def _refresh(self) -> None:
        self._counts = await asyncio.to_thread(self._count)
        self._counted_at = time.monotonic()

    def _count(self) -> BacklogCounts:
        if self._conn is None:
            self._conn = sqlite3.connect(f"file:{self._db}?mode=ro", uri=True, check_same_thread=False)
        row = self._conn.execute(_COUNTS, (self._model, self._attempts)).fetchone()
        return BacklogCounts(int(row[0]), int(row[1]))

    async def close(self) -> None:
        if self._refreshing is not None:
            await asyncio.gather(self._refreshing, return_exceptions=True)
        if self._conn is not None:
            self._conn.close()
            self._conn = None
