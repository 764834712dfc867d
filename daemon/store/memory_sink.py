"""The ingest job's sink: writes new memories from the job child, in batched transactions.

Each memory's row, chunks, original and event are written in the same transaction; the
transaction is committed every `BATCH_DOCUMENTS` documents or `BATCH_SECONDS`, whichever comes
first, because a commit per note costs more than parsing it and fragments the full-text index.
A kill loses at most the batch in flight, never part of a document; a retry re-ingests exactly
what was lost (content-hash dedupe).
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time

from secondme.daemon.store.originals import Originals
from secondme.daemon.store.timeutil import now_db, to_db
from secondme.pipeline.ingest import NewMemory
from secondme.pipeline.parsers import ParsedDocument

BATCH_DOCUMENTS = 500
BATCH_SECONDS = 1.0


def new_memory_id() -> str:
    return "mem_" + secrets.token_hex(8)


class SqliteMemorySink:
    def __init__(self, conn: sqlite3.Connection, originals: Originals, job_id: str | None = None) -> None:
        self._conn = conn
        self._originals = originals
        self._job_id = job_id
        self._pending = 0
        self._opened_at = 0.0

    def find_by_hash(self, content_hash: str) -> str | None:
        row = self._conn.execute("SELECT id FROM memories WHERE content_hash = ?", (content_hash,)).fetchone()
        return row[0] if row else None

    def add(self, memory: NewMemory) -> str:
        doc = memory.document
        memory_id = new_memory_id()
        now = now_db()
        if not self._originals.inline(len(memory.data)):
            self._originals.write_file(memory.content_hash, memory.data)
        if not self._conn.in_transaction:
            self._conn.execute("BEGIN IMMEDIATE")
            self._opened_at = time.monotonic()
        try:
            self._write(memory_id, memory, doc, now)
        except BaseException:
            self._conn.execute("ROLLBACK")
            self._pending = 0
            raise
        self._pending += 1
        if self._pending >= BATCH_DOCUMENTS or time.monotonic() - self._opened_at >= BATCH_SECONDS:
            self.flush()
        return memory_id

    def flush(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("COMMIT")
        self._pending = 0

    def _write(self, memory_id: str, memory: NewMemory, doc: ParsedDocument, now: str) -> None:
        conn = self._conn
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
