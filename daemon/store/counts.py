"""What status reports of the store: how many memories and jobs there are, and what the background
jobs still have to do (memories waiting for embeddings, documents for insights).

Every count reads the store on a read-only connection of its own in a worker thread: never on the
daemon's reader that chat waits on, nor on the event loop. During an ingest a count waited 2-7 ms
now and then (the job's commits change what it reads); the backlog walks every memory's id (a
millisecond or two per thousands). So a count is reused for `MAX_AGE_SECONDS`: an older one is
answered at once and counted again behind it. A count taken before the daemon's own latest write
(`written`: an owner's delete, a job submitted or ended) is counted again first, so status never
shows an owner's change as not made; only a job child's writes may be up to a second late, which is
how far they have got anyway.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from secondme.daemon.store.identity_job_store import NOT_A_COPY

MAX_AGE_SECONDS = 1.0
_BACKLOG = f"""SELECT
    (SELECT COUNT(*) FROM memories m
     WHERE EXISTS (SELECT 1 FROM chunks c WHERE c.memory_id = m.id)
       AND NOT EXISTS (SELECT 1 FROM memory_embeddings e WHERE e.memory_id = m.id AND e.model = ?)),
    (SELECT COUNT(*) FROM memories m
     WHERE EXISTS (SELECT 1 FROM chunks c WHERE c.memory_id = m.id) AND {NOT_A_COPY}
       AND NOT EXISTS (SELECT 1 FROM memory_insights i
                       WHERE i.memory_id = m.id AND (i.status != 'failed' OR i.attempts >= ?)))"""

T = TypeVar("T")


@dataclass(frozen=True)
class Totals:
    memories: int = 0
    jobs: int = 0


@dataclass(frozen=True)
class BacklogCounts:
    # Memories with chunks but no embedding from the current embedding model.
    awaiting_embedding: int = 0
    # Documents with text and no insight yet, or one that failed and will be tried again.
    awaiting_insight: int = 0


def count_totals(conn: sqlite3.Connection) -> Totals:
    row = conn.execute("SELECT (SELECT COUNT(*) FROM memories), (SELECT COUNT(*) FROM jobs)").fetchone()
    return Totals(int(row[0]), int(row[1]))


def backlog_counter(embedding_model: str, max_insight_attempts: int) -> Callable[[sqlite3.Connection], BacklogCounts]:
    def count(conn: sqlite3.Connection) -> BacklogCounts:
        row = conn.execute(_BACKLOG, (embedding_model, max_insight_attempts)).fetchone()
        return BacklogCounts(int(row[0]), int(row[1]))

    return count


class Recounted(Generic[T]):
    """One count (`count` on the connection), reused as the module says. One count runs at a time."""

    def __init__(
        self, db: Path, count: Callable[[sqlite3.Connection], T], written: Callable[[], int] = lambda: 0
    ) -> None:
        self._db = db
        self._count = count
        self._written = written
        self._conn: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()
        self._value: T | None = None
        self._counted_at = 0.0
        self._counted_after = 0  # `written` when the value was counted
        self._behind: asyncio.Task[None] | None = None

    def _current(self) -> bool:
        return self._value is not None and self._counted_after == self._written()

    async def get(self) -> T:
        if not self._current():
            async with self._lock:
                if not self._current():
                    await self._count_in_thread()
        elif time.monotonic() - self._counted_at >= MAX_AGE_SECONDS and (self._behind is None or self._behind.done()):
            self._behind = asyncio.create_task(self._count_behind(), name="status-count")
        assert self._value is not None
        return self._value

    async def _count_behind(self) -> None:
        async with self._lock:
            await self._count_in_thread()

    async def _count_in_thread(self) -> None:
        written = self._written()
        self._value = await asyncio.to_thread(self._count_now)
        self._counted_at, self._counted_after = time.monotonic(), written

    def _count_now(self) -> T:
        if self._conn is None:
            self._conn = sqlite3.connect(f"file:{self._db}?mode=ro", uri=True, check_same_thread=False)
        return self._count(self._conn)

    async def close(self) -> None:
        async with self._lock:
            if self._behind is not None:
                self._behind.cancel()  # waiting for the lock, or done: nothing is counting now
            if self._conn is not None:
                self._conn.close()
                self._conn = None
