"""The ingest sink writes batches on a writer thread while parsing goes on: nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from helpers import make_notes

from secondme.daemon.store import Store, memory_sink
from secondme.daemon.store.memory_sink import SqliteMemorySink
from secondme.daemon.store.originals import Originals
from secondme.daemon.store.sync import connect
from secondme.pipeline.ingest import IngestOptions, ingest_paths


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "secondme.db"

    async def migrate() -> None:
        await (await Store.open(path)).close()

    asyncio.run(migrate())
    return path


def _count(db, table: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def test_batches_written_behind_the_parsing_keep_every_document_once(db, tmp_path, monkeypatch):
    monkeypatch.setattr(memory_sink, "BATCH_DOCUMENTS", 3)  # many batches, one always being written
    notes = make_notes(tmp_path / "notes", 20)
    for i, note in enumerate(notes[:6]):  # copies that land in the batch being written, or just after
        (tmp_path / "notes" / f"copy-{i}.md").write_bytes(note.read_bytes())
    conn = connect(db)
    sink = SqliteMemorySink(conn, Originals(tmp_path / "originals"), "job", connect=lambda: connect(db))
    summary = ingest_paths([tmp_path / "notes"], IngestOptions(), sink)
    conn.close()
    assert (summary.counts["ingested"], summary.counts["duplicate"]) == (20, 6)
    assert _count(db, "memories") == 20 and _count(db, "memory_events") == 20
    assert _count(db, "chunks") == _count(db, "chunks_fts") and _count(db, "chunks") >= 20
    search = sqlite3.connect(db)
    try:  # every chunk is in the full-text index
        hits = search.execute("SELECT COUNT(*) FROM chunks_fts WHERE chunks_fts MATCH 'note'").fetchone()[0]
    finally:
        search.close()
    assert hits == _count(db, "chunks")


def test_a_batch_the_writer_cannot_commit_fails_the_ingest_instead_of_vanishing(db, tmp_path, monkeypatch):
    monkeypatch.setattr(memory_sink, "BATCH_DOCUMENTS", 2)
    make_notes(tmp_path / "notes", 5)
    conn = connect(db)
    read_only = f"file:{db}?mode=ro"
    sink = SqliteMemorySink(
        conn,
        Originals(tmp_path / "originals"),
        "job",
        connect=lambda: sqlite3.connect(read_only, uri=True, isolation_level=None, check_same_thread=False),
    )
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        ingest_paths([tmp_path / "notes"], IngestOptions(), sink)
    conn.close()
    assert _count(db, "memories") == 0


def test_a_resumed_job_counts_what_it_stored_before_as_its_own_and_copies_as_duplicates(db, tmp_path):
    notes = make_notes(tmp_path / "notes", 10)
    conn = connect(db)
    first = ingest_paths(
        [tmp_path / "notes"], IngestOptions(), SqliteMemorySink(conn, Originals(tmp_path / "o"), "job")
    )
    assert first.counts["ingested"] == 10
    (tmp_path / "notes" / "copy.md").write_bytes(notes[0].read_bytes())  # the same content twice in this run
    make_notes(tmp_path / "notes", 3, prefix="late")
    again = ingest_paths(
        [tmp_path / "notes"], IngestOptions(), SqliteMemorySink(conn, Originals(tmp_path / "o"), "job")
    )
    other = ingest_paths(
        [tmp_path / "notes"], IngestOptions(), SqliteMemorySink(conn, Originals(tmp_path / "o"), "new")
    )
    conn.close()
    # The same job resumed: its 10 earlier memories and the 3 new ones are its work; the copy is not.
    assert (again.counts["ingested"], again.counts["duplicate"]) == (13, 1)
    assert (other.counts["ingested"], other.counts["duplicate"]) == (0, 14)  # another job: all known already
    assert _count(db, "memories") == 13
