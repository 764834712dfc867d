"""The ingest job's sink: writes new memories from the job child, in batched transactions.

Parsed documents wait in memory and are written together every `BATCH_DOCUMENTS` documents,
`BATCH_BYTES` bytes or `BATCH_SECONDS`, whichever comes first, because a commit per note costs
more than parsing it and fragments the full-text index. A batch is written by a writer thread
on its own connection while the job goes on parsing the next files: SQLite releases the GIL
while it works, and most of a batch's cost is FTS5 tokenizing its chunks, so on two cores the
writing hides behind the parsing instead of adding to it. At most one batch is being written
while the next one fills; a writer that falls behind makes `add` wait.

The write lock is held only while a batch is written, never while files are parsed, and a batch
being written commits what it has when a daemon write (an owner's edit, a chat message) waits for
the lock, then goes on after it (`write_turn.py`): the daemon waits for one group of
`DOCUMENTS_PER_STATEMENT` documents (~10 ms of notes), not for the batch nor, as SQLite's polling
busy handler made it, for several. Each memory's row, chunks, original and event commit together;
a kill loses at most the batches in memory (the one filling and the one being written), never part
of a document, and a retry re-ingests exactly what was lost (content-hash dedupe).

A batch that cannot be committed fails the whole ingest (`BatchNotStored`), never one file: the
error comes from a batch of files already counted as stored, whichever file is in hand when it is
found. Once it happened, every later call raises it again, so no caller can swallow it.
"""

from __future__ import annotations

import functools
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from secondme.daemon.store.db import StoreError
from secondme.daemon.store.originals import Originals
from secondme.daemon.store.sync import daemon_waits, transaction
from secondme.daemon.store.timeutil import now_db, to_db
from secondme.pipeline.ingest import KnownMemory, NewMemory
from secondme.pipeline.parsers import ParseStatus

BATCH_DOCUMENTS = 100
BATCH_BYTES = 32 * 1024 * 1024
BATCH_SECONDS = 1.0
# Memories written by one group of statements (`_write`): a daemon write that waits for the lock waits
# at most for one group (~10 ms of notes) before what is written so far commits. An owner's delete
# during a 6,000-note ingest took 11-12 ms at the median with groups of 10 or 50 (8 with 1, 6 when
# every chunk was a statement), while the writer's processor time halved.
DOCUMENTS_PER_STATEMENT = 50
# The most variables one statement binds, in the oldest SQLite that may run this (newer ones allow 32,766).
MAX_VARIABLES = 999


class BatchNotStored(StoreError):
    """A batch of parsed documents could not be committed: the ingest stops, keeping what was stored before."""


def new_memory_id() -> str:
    return "mem_" + secrets.token_hex(8)


@dataclass(frozen=True)
class _Pending:
    memory_id: str
    memory: NewMemory
    added_at: str


class SqliteMemorySink:
    """`conn` answers the job's lookups; `connect` opens the writer thread's own connection."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        originals: Originals,
        job_id: str | None = None,
        connect: Callable[[], sqlite3.Connection] | None = None,
    ) -> None:
        self._conn = conn
        self._connect = connect
        self._originals = originals
        self._job_id = job_id
        self._pending: list[_Pending] = []
        self._pending_by_hash: dict[str, str] = {}
        self._pending_bytes = 0
        self._first_pending_at = 0.0
        # The batch the writer thread is committing: its hashes are not in the database yet.
        self._writing_by_hash: dict[str, str] = {}
        self._writer: threading.Thread | None = None
        self._writer_conn: sqlite3.Connection | None = None
        self._writer_error: BaseException | None = None
        self._writer_batch = 0
        # The failure of a batch, once found: raised again by every later call.
        self._failed: BatchNotStored | None = None
        # The memories this run added (a resumed job's earlier ones are the others with its id).
        self._added: set[str] = set()

    def find_by_hash(self, content_hash: str) -> KnownMemory | None:
        self._raise_if_failed()
        if self._writer is not None and not self._writer.is_alive():
            self._wait_for_writer()  # a batch done writing: say now if it failed, before more is parsed
        known = self._pending_by_hash.get(content_hash) or self._writing_by_hash.get(content_hash)
        if known:
            return KnownMemory(known)
        row = self._conn.execute(
            "SELECT id, job_id, parse_status, parse_detail FROM memories WHERE content_hash = ?", (content_hash,)
        ).fetchone()
        if row is None:
            return None
        # Stored by this job, but not in this run: before the daemon's end interrupted it (credited once,
        # and listed again when it was only partly read).
        earlier = self._job_id is not None and row[1] == self._job_id and row[0] not in self._added
        if earlier:
            self._added.add(row[0])
        unread = row[3] if earlier and row[2] == ParseStatus.PARTIAL.value else ""
        return KnownMemory(row[0], same_job=earlier, unread=unread)

    def add(self, memory: NewMemory) -> str:
        self._raise_if_failed()
        memory_id = new_memory_id()
        if not self._originals.inline(len(memory.data)):
            self._originals.write_file(memory.content_hash, memory.data)
        if not self._pending:
            self._first_pending_at = time.monotonic()
        self._pending.append(_Pending(memory_id, memory, now_db()))
        self._added.add(memory_id)
        self._pending_by_hash[memory.content_hash] = memory_id
        self._pending_bytes += len(memory.data) + len(memory.document.text)
        if (
            len(self._pending) >= BATCH_DOCUMENTS
            or self._pending_bytes >= BATCH_BYTES
            or time.monotonic() - self._first_pending_at >= BATCH_SECONDS
        ):
            self._hand_over()
        return memory_id

    def flush(self) -> None:
        """Write everything added so far and wait until it is committed."""
        self._raise_if_failed()
        self._hand_over()
        self._wait_for_writer()
        if self._writer_conn is not None:
            self._writer_conn.close()
            self._writer_conn = None

    def _hand_over(self) -> None:
        """Give the filled batch to the writer thread (after the previous one is committed)."""
        self._wait_for_writer()
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        self._writing_by_hash, self._pending_by_hash = self._pending_by_hash, {}
        self._pending_bytes = 0
        if self._connect is None:  # no second connection: write here, in the job's thread
            try:
                self._commit(self._conn, batch)
            except Exception as exc:
                self._fail(exc, len(batch))
            self._writing_by_hash = {}
            return
        if self._writer_conn is None:
            self._writer_conn = self._connect()
        self._writer = threading.Thread(
            target=self._write_batch, args=(self._writer_conn, batch), name="memory-writer", daemon=True
        )
        self._writer.start()

    def _write_batch(self, conn: sqlite3.Connection, batch: list[_Pending]) -> None:
        try:
            self._commit(conn, batch)
        except BaseException as exc:  # raised in the job's thread at its next call
            self._writer_error = exc
            self._writer_batch = len(batch)

    def _wait_for_writer(self) -> None:
        if self._writer is not None:
            self._writer.join()
            self._writer = None
            self._writing_by_hash = {}
        if self._writer_error is not None:
            self._fail(self._writer_error, self._writer_batch)

    def _fail(self, exc: BaseException, documents: int) -> None:
        said = exc.args[0] if isinstance(exc, sqlite3.Error) and exc.args else f"{type(exc).__name__}: {exc}"
        self._failed = BatchNotStored(
            f"storing a batch of {documents} parsed documents failed (SQLite says: {said}); the ingest stopped. "
            "What it stored before is kept: once the cause is fixed, `secondmectl jobs retry` goes on from there"
        )
        self._failed.__cause__ = exc
        raise self._failed

    def _raise_if_failed(self) -> None:
        if self._failed is not None:
            raise self._failed

    def _commit(self, conn: sqlite3.Connection, batch: list[_Pending]) -> None:
        """The batch in as few transactions as the daemon lets it: when a daemon write waits (a batch
        takes ~0.1 s), what is written so far commits and the rest follows after the daemon's write."""
        left = batch
        while left:
            with transaction(conn):
                written = 0
                while written < len(left):
                    group = left[written : written + DOCUMENTS_PER_STATEMENT]
                    self._write(conn, group)
                    written += len(group)
                    if daemon_waits(conn):
                        break
            left = left[written:]

    def _write(self, conn: sqlite3.Connection, group: list[_Pending]) -> None:
        """A group of memories with their originals, chunks and events, one statement per table: the
        full-text index (a trigger on `chunks`) is written out at the end of every statement, so a
        statement per chunk cost ~4x the tokenizing, and every statement hands the GIL to the job's
        other threads and back."""
        job = self._job_id
        originals, memories, events, chunks = [], [], [], []
        for pending in group:
            memory_id, memory, now = pending.memory_id, pending.memory, pending.added_at
            doc = memory.document
            originals.append(self._originals.row(memory.content_hash, memory.data, now))
            memories.append(
                (
                    memory_id,
                    memory.content_hash,
                    doc.source_type.value,
                    memory.source,
                    memory.source_bytes,
                    memory.title,
                    doc.media_type,
                    len(memory.data),
                    to_db(memory.created_at),
                    now,
                    doc.status.value,
                    doc.status_detail,
                    json.dumps(doc.metadata, sort_keys=True, default=str),
                    doc.text,
                    job,
                )
            )
            events.append((memory_id, now, "created", json.dumps({"source": memory.source, "job_id": job})))
            chunks.extend((memory_id, c.index, c.text, c.token_count, c.start_char, c.end_char) for c in memory.chunks)
        _insert(conn, Originals.INSERT, originals)
        _insert(conn, _MEMORIES, memories)
        _insert(conn, _CHUNKS, chunks)
        _insert(conn, _EVENTS, events)


_MEMORIES = """INSERT INTO memories(id, content_hash, source_type, source, source_bytes, title, media_type,
    size_bytes, created_at, ingested_at, parse_status, parse_detail, metadata_json, text, job_id)"""
_CHUNKS = "INSERT INTO chunks(memory_id, idx, text, token_count, start_char, end_char)"
_EVENTS = "INSERT INTO memory_events(memory_id, at, action, detail_json)"


def _insert(conn: sqlite3.Connection, into: str, rows: list[tuple[Any, ...]]) -> None:
    """`rows` by as few statements as SQLite's oldest limit on variables (999) allows."""
    if not rows:
        return
    width = len(rows[0])
    per_statement = MAX_VARIABLES // width
    for start in range(0, len(rows), per_statement):
        part = rows[start : start + per_statement]
        conn.execute(_values(into, width, len(part)), [value for row in part for value in row])


@functools.lru_cache(maxsize=32)
def _values(into: str, width: int, rows: int) -> str:
    row = "(" + ", ".join("?" * width) + ")"
    return f"{into} VALUES {', '.join([row] * rows)}"
