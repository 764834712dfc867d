"""What the background jobs still have to do: memories waiting for embeddings, documents for insights.

Retrieval misses a memory without its embedding, and the identity update has not read a document
without its insight; `status` says how many there are, so neither is silently behind. Counting
walks every memory, so a count is reused for `MAX_AGE_SECONDS` (status is polled, and the counts
move only as jobs commit batches).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from secondme.daemon.store.db import Store
from secondme.daemon.store.identity_job_store import NOT_A_COPY

MAX_AGE_SECONDS = 1.0


@dataclass(frozen=True)
class BacklogCounts:
    # Memories with chunks but no embedding from the current embedding model.
    awaiting_embedding: int = 0
    # Documents with text and no insight yet, or one that failed and will be tried again.
    awaiting_insight: int = 0


class Backlog:
    def __init__(self, store: Store, embedding_model: str, max_insight_attempts: int) -> None:
        self._store = store
        self._model = embedding_model
        self._attempts = max_insight_attempts
        self._counts = BacklogCounts()
        self._counted_at = float("-inf")
        self._lock = asyncio.Lock()

    async def counts(self) -> BacklogCounts:
        async with self._lock:
            if time.monotonic() - self._counted_at >= MAX_AGE_SECONDS:
                self._counts = await self._count()
                self._counted_at = time.monotonic()
            return self._counts

    async def _count(self) -> BacklogCounts:
        row = await self._store.fetchone(
            f"""SELECT
                  (SELECT COUNT(*) FROM memories m
                   WHERE EXISTS (SELECT 1 FROM chunks c WHERE c.memory_id = m.id)
                     AND NOT EXISTS (SELECT 1 FROM memory_embeddings e WHERE e.memory_id = m.id AND e.model = ?)),
                  (SELECT COUNT(*) FROM memories m LEFT JOIN memory_insights i ON i.memory_id = m.id
                   WHERE m.parse_status != 'empty' AND {NOT_A_COPY}
                     AND (i.memory_id IS NULL OR (i.status = 'failed' AND i.attempts < ?)))""",
            (self._model, self._attempts),
        )
        return BacklogCounts(int(row[0]), int(row[1])) if row else BacklogCounts()
