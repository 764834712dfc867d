"""The ingest job's sink: writes new memories from the job child, in batched transactions.

Parsed documents wait in memory and are written together every `BATCH_DOCUMENTS` documents,
`BATCH_BYTES` bytes or `BATCH_SECONDS`, whichever comes first, because a commit per note costs
more than parsing it and fragments the full-text index. The write lock is held only while a
batch is written, never while the next files are parsed: the daemon's own writes (job
progress, the owner's edits) wait milliseconds, not until the ingest ends (SQLite's busy
handler would otherwise lose every race for the lock to the child). Each memory's row,
chunks, original and event commit together; a kill loses at most the batch in memory, never
part of a document, and a retry re-ingests exactly what was lost (content-hash dedupe).
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from dataclasses import dataclass

from secondme.daemon.store.originals import Originals
from secondme.daemon.store.sync import transaction
from secondme.daemon.store.timeutil import now_db, to_db
from secondme.pipeline.ingest import NewMemory

BATCH_DOCUMENTS = 500
BATCH_BYTES = 32 * 1024 * 1024
BATCH_SECONDS = 1.0


def new_memory_id() -> str:
    return "mem_" + secrets.token_hex(8)


@dataclass(frozen=True)
class _Pending:
    memory_id: str
    memory: NewMemory
    added_at: str


class SqliteMemorySink:
    def __init__(self, conn: sqlite3.Connection, originals: Originals, job_id: str | None = None) -> None:
        self._conn = conn
        self._originals = originals
        self._job_id = job_id
        self._pending: list[_Pending] = []
        self._pending_by_hash: dict[str, str] = {}
        self._pending_bytes = 0
        self._first_pending_at = 0.0

    def find_by_hash(self, content_hash: str) -> str | None:
        if content_hash in self._pending_by_hash:
            return self._pending_by_hash[content_hash]
        row = self._conn.execute("SELECT id FROM memories WHERE content_hash = ?", (content_hash,)).fetchone()
        return row[0] if row else None

    def add(self, memory: NewMemory) -> str:
        memory_id = new_memory_id()
        if not self._originals.inline(len(memory.data)):
            self._originals.write_file(memory.content_hash, memory.data)
        if not self._pending:
            self._first_pending_at = time.monotonic()
        self._pending.append(_Pending(memory_id, memory, now_db()))
        self._pending_by_hash[memory.content_hash] = memory_id
        self._pending_bytes += len(memory.data) + len(memory.document.text)
        if (
            len(self._pending) >= BATCH_DOCUMENTS
            or self._pending_bytes >= BATCH_BYTES
            or time.monotonic() - self._first_pending_at >= BATCH_SECONDS
        ):
            self.flush()
        return memory_id

    def flush(self) -> None:
        if not self._pending:
            return
        with transaction(self._conn):
            for pending in self._pending:
                self._write(pending)
        self._pending.clear()
        self._pending_by_hash.clear()
        self._pending_bytes = 0

    def _write(self, pending: _Pending) -> None:
        conn, memory_id, memory, now = self._conn, pending.memory_id, pending.memory, pending.added_at
        doc = memory.document
        self._originals.record(conn, memory.content_hash, memory.data, now)
        conn.execute(
            """INSERT INTO memories(id, content_hash, source_type, source, title, media_type, size_bytes,
                   created_at, ingested_at, parse_status, parse_detail, metadata_json, text, job_id)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                memory_id,
                memory.content_hash,
                doc.source_type.value,
                memory.source,
                memory.title,
                doc.media_type,
                len(memory.data),
                to_db(memory.created_at),
                now,
                doc.status.value,
                doc.status_detail,
                json.dumps(doc.metadata, sort_keys=True, default=str),
                doc.text,
                self._job_id,
            ),
        )
        conn.executemany(
            "INSERT INTO chunks(memory_id, idx, text, token_count, start_char, end_char) VALUES (?, ?, ?, ?, ?, ?)",
            [(memory_id, c.index, c.text, c.token_count, c.start_char, c.end_char) for c in memory.chunks],
        )
        conn.execute(
            "INSERT INTO memory_events(memory_id, at, action, detail_json) VALUES (?, ?, 'created', ?)",
            (memory_id, now, json.dumps({"source": memory.source, "job_id": self._job_id})),
        )
