"""The ingest sink writes batches on a writer thread while parsing goes on: nothing lost, nothing twice."""

from __future__ import annotations

import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fixtures.hostile_corpus import alias_bomb_note
from helpers import make_notes

from secondme.daemon.store import memory_sink
from secondme.daemon.store.memory_sink import BatchNotStored, SqliteMemorySink
from secondme.daemon.store.originals import Originals
from secondme.daemon.store.sync import connect
from secondme.pipeline.ingest import IngestOptions, ingest_paths


@pytest.fixture
def db(migrated_db):
    return migrated_db


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


def test_a_group_of_documents_whose_chunks_need_several_statements_stores_each_chunk_in_place(db, tmp_path):
    # A group's chunks go in as few multi-row statements as SQLite's variable limit allows: 60 notes of
    # ~5 chunks each need two for the first group of 50. Each chunk keeps its place, text and index entry.
    make_notes(tmp_path / "notes", 60, words=1200)
    conn = connect(db)
    sink = SqliteMemorySink(conn, Originals(tmp_path / "originals"), "job", connect=lambda: connect(db))
    assert ingest_paths([tmp_path / "notes"], IngestOptions(), sink).counts["ingested"] == 60
    conn.close()
    check = sqlite3.connect(db)
    try:
        texts = dict(check.execute("SELECT id, text FROM memories"))
        rows = check.execute("SELECT memory_id, idx, text, start_char, end_char FROM chunks ORDER BY id").fetchall()
        hits = check.execute("SELECT COUNT(*) FROM chunks_fts WHERE chunks_fts MATCH 'w5'").fetchone()[0]
        expected = check.execute("SELECT COUNT(*) FROM chunks WHERE ' ' || text || ' ' LIKE '% w5 %'").fetchone()[0]
    finally:
        check.close()
    per_statement = memory_sink.MAX_VARIABLES // 6  # a chunk row binds 6 values
    assert len(rows) / 60 * memory_sink.DOCUMENTS_PER_STATEMENT > per_statement  # a group needs two or more
    by_memory: dict[str, list[int]] = {}
    for memory_id, idx, text, start, end in rows:
        assert texts[memory_id][start:end] == text
        by_memory.setdefault(memory_id, []).append(idx)
    assert len(by_memory) == 60 and all(order == list(range(len(order))) for order in by_memory.values())
    assert hits == expected > 0


def _sink_whose_writer_cannot_commit(db, tmp_path) -> tuple[sqlite3.Connection, SqliteMemorySink]:
    conn = connect(db)
    read_only = f"file:{db}?mode=ro"
    sink = SqliteMemorySink(
        conn,
        Originals(tmp_path / "originals"),
        "job",
        connect=lambda: sqlite3.connect(read_only, uri=True, isolation_level=None, check_same_thread=False),
    )
    return conn, sink


def test_a_batch_the_writer_cannot_commit_fails_the_ingest_instead_of_vanishing(db, tmp_path, monkeypatch):
    monkeypatch.setattr(memory_sink, "BATCH_DOCUMENTS", 2)
    make_notes(tmp_path / "notes", 5)
    conn, sink = _sink_whose_writer_cannot_commit(db, tmp_path)
    with pytest.raises(BatchNotStored, match="readonly") as failed:
        ingest_paths([tmp_path / "notes"], IngestOptions(), sink)
    conn.close()
    assert isinstance(failed.value.__cause__, sqlite3.OperationalError)
    assert "jobs retry" in str(failed.value) and _count(db, "memories") == 0


def _writer_done(deadline_seconds: float = 60) -> None:
    """Wait until no batch is being written (the sink's writer thread has ended)."""
    deadline = time.monotonic() + deadline_seconds
    while any(t.name == "memory-writer" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the writer thread never ended"
        time.sleep(0.01)


class _Pages(BaseHTTPRequestHandler):
    """Two pages; the second is sent only once the first one's batch is done being written."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/second":
            _writer_done()
        body = f"A page at {self.path} worth keeping, with words enough to be a memory.".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_a_failed_commit_found_while_a_url_is_in_hand_fails_the_ingest_not_the_url(db, tmp_path, monkeypatch):
    # Before: the error of the batch before was caught as the URL's own failure, and the job
    # succeeded with the batch's pages counted as ingested and never stored.
    monkeypatch.setattr(memory_sink, "BATCH_DOCUMENTS", 1)  # the first page goes to the writer at once
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site = f"http://127.0.0.1:{server.server_address[1]}"
    conn, sink = _sink_whose_writer_cannot_commit(db, tmp_path)
    seen: list[str] = []
    try:
        with pytest.raises(BatchNotStored, match="readonly"):
            ingest_paths(
                [], IngestOptions(), sink, lambda *p: seen.append(p[3]), urls=[f"{site}/first", f"{site}/second"]
            )
    finally:
        server.shutdown()
        server.server_close()
        conn.close()
    assert f"fetching {site}/second" in seen  # the error was found with the second page in hand
    assert not any(message.startswith("failed") for message in seen)
    assert _count(db, "memories") == 0


def test_a_resumed_job_counts_what_it_stored_before_as_its_own_and_copies_as_duplicates(db, tmp_path):
    notes = make_notes(tmp_path / "notes", 9)
    (tmp_path / "notes" / "laughs.md").write_bytes(alias_bomb_note())  # kept partly read
    conn = connect(db)
    first = ingest_paths(
        [tmp_path / "notes"], IngestOptions(), SqliteMemorySink(conn, Originals(tmp_path / "o"), "job")
    )
    assert (first.counts["ingested"], first.counts["partial"]) == (10, 1)
    (partly,) = first.problems
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
    assert again.counts["partial"] == 1 and partly in again.problems  # still listed with what was not read
    assert (other.counts["ingested"], other.counts["duplicate"]) == (0, 14)  # another job: all known already
    assert _count(db, "memories") == 13
