"""The ingest job's sink: writes each new memory in one transaction from the job child.

The original file is stored first, then the memory row, its chunks and its event commit
together; a kill between the two leaves only an orphaned original, which the daemon sweeps.
"""

from __future__ import annotations

import json
import secrets
import sqlite3

from secondme.daemon.store.originals import Originals
from secondme.daemon.store.sync import transaction
from secondme.daemon.store.timeutil import now_db, to_db
from secondme.pipeline.ingest import NewMemory


def new_memory_id() -> str:
    return "mem_" + secrets.token_hex(8)


class SqliteMemorySink:
    def __init__(self, conn: sqlite3.Connection, originals: Originals, job_id: str | None = None) -> None:
        self._conn = conn
        self._originals = originals
        self._job_id = job_id

    def find_by_hash(self, content_hash: str) -> str | None:
        row = self._conn.execute("SELECT id FROM memories WHERE content_hash = ?", (content_hash,)).fetchone()
        return row[0] if row else None

    def add(self, memory: NewMemory) -> str:
        doc = memory.document
        memory_id = new_memory_id()
        now = now_db()
        self._originals.put(memory.content_hash, memory.data)
        with transaction(self._conn) as conn:
            conn.execute(
                "INSERT OR IGNORE INTO originals(hash, size_bytes, stored_at) VALUES (?, ?, ?)",
                (memory.content_hash, len(memory.data), now),
            )
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
        return memory_id
