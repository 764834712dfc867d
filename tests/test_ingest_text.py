"""Ingesting text and Markdown through the daemon: dedupe, bad input, upload, delete, paging."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3

import grpc
import pytest
from helpers import all_memories, ingest, make_notes, result, wait_job

from secondme.v1 import jobs_pb2, memory_pb2


def test_ingesting_the_persona_notes_makes_one_memory_per_text_file(daemon, persona):
    notes = sorted(p for p in (persona / "notes").iterdir() if p.suffix in (".md", ".txt"))
    job = wait_job(daemon.client, ingest(daemon.client, persona / "notes", include=["*.md", "*.txt"]).id)
    assert job.state == jobs_pb2.JOB_STATE_SUCCEEDED, job.error
    assert result(job)["ingested"] == len(notes)
    memories = all_memories(daemon.client)
    assert sorted(m.source for m in memories) == sorted(str(p) for p in notes)
    by_source = {m.source: m for m in memories}
    move = by_source[str(persona / "notes" / "2024-01-20-moving-to-york.md")]
    assert move.source_type == memory_pb2.SOURCE_TYPE_MARKDOWN
    assert move.created_at.ToDatetime().date().isoformat() == "2024-01-20"  # the note's own date
    assert (
        move.content_hash
        == hashlib.sha256((persona / "notes" / "2024-01-20-moving-to-york.md").read_bytes()).hexdigest()
    )
    todo = by_source[str(persona / "notes" / "2023-01-08-todo.txt")]
    assert todo.source_type == memory_pb2.SOURCE_TYPE_TEXT
    assert all(m.chunk_count >= 1 for m in memories)


def test_reingesting_the_same_files_creates_nothing_and_says_so(daemon, tmp_path):
    make_notes(tmp_path / "notes", 12)
    first = wait_job(daemon.client, ingest(daemon.client, tmp_path / "notes").id)
    second = wait_job(daemon.client, ingest(daemon.client, tmp_path / "notes").id)
    assert result(first)["ingested"] == 12
    assert result(second)["ingested"] == 0 and result(second)["duplicate"] == 12
    assert len(all_memories(daemon.client)) == 12
    cli = daemon.ctl("ingest", str(tmp_path / "notes"))
    assert "0 ingested, 12 already known" in cli.stdout


def test_cli_memories_list_json_lists_every_document_once(daemon, tmp_path):
    make_notes(tmp_path / "a", 5)
    daemon.ctl("ingest", str(tmp_path / "a"), str(tmp_path / "a"))
    listed = json.loads(daemon.ctl("memories", "list", "--json").stdout)
    assert len(listed) == 5
    assert len({m["content_hash"] for m in listed}) == 5


def test_front_matter_sets_title_and_date(daemon, tmp_path):
    note = tmp_path / "untitled.md"
    note.write_text(
        "---\ntitle: Harbour swim\ndate: 2021-06-03\ntags: [sea]\n---\n# Heading\nCold water, clear head.\n"
    )
    wait_job(daemon.client, ingest(daemon.client, note).id)
    (memory,) = all_memories(daemon.client)
    assert memory.title == "Harbour swim"
    assert memory.created_at.ToDatetime().date().isoformat() == "2021-06-03"
    assert json.loads(memory.metadata_json)["front_matter"]["tags"] == ["sea"]


def test_bad_files_are_skipped_with_reasons_and_the_rest_is_ingested(start_daemon, tmp_path):
    daemon = start_daemon("version = 1\n[ingest]\nmax_file_bytes = 20000\n")
    folder = tmp_path / "mixed"
    make_notes(folder, 3)
    (folder / "program.bin").write_bytes(b"\x7fELF" + bytes(range(256)) * 4)
    (folder / "random.dat").write_bytes(os.urandom(4096))
    (folder / "huge.md").write_text("big " * 10000)
    (folder / "latin1.txt").write_bytes("Caf\xe9 cr\xe8me br\xfbl\xe9e, na\xefve fa\xe7ade".encode("latin-1"))
    (folder / "empty.txt").write_bytes(b"")
    (folder / ".hidden.md").write_text("# secret editor state")
    (folder / "loop").symlink_to(folder)
    (folder / "dangling.md").symlink_to(tmp_path / "nowhere.md")
    os.mkfifo(folder / "pipe.txt")

    job = wait_job(daemon.client, ingest(daemon.client, folder).id)
    assert job.state == jobs_pb2.JOB_STATE_SUCCEEDED, job.error
    summary = result(job)
    reasons = {os.path.basename(p["path"]): p["reason"] for p in summary["problems"]}
    assert "ELF executable" in reasons["program.bin"]
    assert "binary content" in reasons["random.dat"]
    assert "max_file_bytes" in reasons["huge.md"]
    assert "empty" in reasons["empty.txt"]
    assert "loop" in reasons["loop"]
    assert "symlink" in reasons["dangling.md"]
    assert "named pipe" in reasons["pipe.txt"]
    assert ".hidden.md" not in reasons
    assert summary["ingested"] == 4  # three notes and the latin-1 file
    latin = next(m for m in all_memories(daemon.client) if m.source.endswith("latin1.txt"))
    text = daemon.client.memory.GetMemory(memory_pb2.GetMemoryRequest(memory_id=latin.id, include_text=True)).text
    assert "Café crème brûlée" in text


def test_ingest_of_a_missing_path_is_a_clear_invalid_argument(daemon, tmp_path):
    with pytest.raises(grpc.RpcError) as caught:
        ingest(daemon.client, tmp_path / "does-not-exist")
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "no such file or folder" in caught.value.details()
    with pytest.raises(grpc.RpcError) as relative:
        daemon.client.memory.Ingest(memory_pb2.IngestRequest(paths=["notes/a.md"]))
    assert relative.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "absolute" in relative.value.details()
    cli = daemon.ctl("ingest", str(tmp_path / "nope"), check=False)
    assert cli.returncode == 2 and "no such file or folder" in cli.stderr


def test_include_and_exclude_globs_select_files(daemon, tmp_path):
    make_notes(tmp_path / "n", 4)
    (tmp_path / "n" / "keep.txt").write_text("plain text note")
    (tmp_path / "n" / "drafts").mkdir()
    (tmp_path / "n" / "drafts" / "draft.md").write_text("# draft")
    job = wait_job(daemon.client, ingest(daemon.client, tmp_path / "n", include=["*.md"], exclude=["drafts/*"]).id)
    assert result(job)["ingested"] == 4
    assert not any(m.source.endswith(("keep.txt", "draft.md")) for m in all_memories(daemon.client))


def test_uploaded_file_becomes_a_memory_and_the_upload_is_removed(daemon, tmp_path):
    messages = [
        memory_pb2.UploadFileRequest(metadata=memory_pb2.UploadMetadata(filename="from-phone.md", size_bytes=26)),
        memory_pb2.UploadFileRequest(data=b"# From my phone\n"),
        memory_pb2.UploadFileRequest(data=b"Tide at 6.\n"),
    ]
    job = daemon.client.memory.UploadFile(iter(messages), timeout=30).job
    assert wait_job(daemon.client, job.id).state == jobs_pb2.JOB_STATE_SUCCEEDED
    (memory,) = all_memories(daemon.client)
    assert memory.source == "upload:from-phone.md" and memory.title == "From my phone"
    assert list((daemon.data_dir / "uploads").iterdir()) == []


def test_upload_without_metadata_first_is_refused(daemon):
    with pytest.raises(grpc.RpcError) as caught:
        daemon.client.memory.UploadFile(iter([memory_pb2.UploadFileRequest(data=b"x")]), timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def _original_row(daemon, content_hash):
    conn = sqlite3.connect(daemon.data_dir / "secondme.db")
    try:
        return conn.execute("SELECT data FROM originals WHERE hash = ?", (content_hash,)).fetchone()
    finally:
        conn.close()


def test_deleting_a_memory_removes_its_chunks_and_original(daemon, tmp_path):
    (note,) = make_notes(tmp_path / "one", 1)
    big = tmp_path / "big.txt"
    big.write_text("a long transcript line\n" * 20_000)  # above the inline limit: stored as a file
    wait_job(daemon.client, ingest(daemon.client, note, big).id)
    small, large = sorted(all_memories(daemon.client), key=lambda m: m.size_bytes)
    assert bytes(_original_row(daemon, small.content_hash)[0]) == note.read_bytes()
    large_file = daemon.data_dir / "originals" / large.content_hash[:2] / large.content_hash
    assert _original_row(daemon, large.content_hash)[0] is None
    assert large_file.read_bytes() == big.read_bytes()

    for memory in (small, large):
        reply = daemon.client.memory.DeleteMemory(memory_pb2.DeleteMemoryRequest(memory_id=memory.id[:10]))
        assert reply.original_removed
        assert _original_row(daemon, memory.content_hash) is None
        with pytest.raises(grpc.RpcError) as caught:
            daemon.client.memory.GetMemory(memory_pb2.GetMemoryRequest(memory_id=memory.id))
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert not large_file.exists()
    conn = sqlite3.connect(daemon.data_dir / "secondme.db")
    assert conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0] == 0
    conn.close()
    again = wait_job(daemon.client, ingest(daemon.client, note).id)
    assert result(again)["ingested"] == 1  # deleting forgets it: ingesting again brings it back


def test_memories_page_through_and_filter(daemon, tmp_path):
    make_notes(tmp_path / "p", 25)
    (tmp_path / "p" / "special.txt").write_text("a plain text file")
    wait_job(daemon.client, ingest(daemon.client, tmp_path / "p").id)
    seen, token, pages = [], "", 0
    while True:
        page = daemon.client.memory.ListMemories(memory_pb2.ListMemoriesRequest(page_size=10, page_token=token))
        assert page.total_count == 26
        seen.extend(m.id for m in page.memories)
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert pages == 3 and len(set(seen)) == 26
    texts = daemon.client.memory.ListMemories(memory_pb2.ListMemoriesRequest(source_type=memory_pb2.SOURCE_TYPE_TEXT))
    assert [m.title for m in texts.memories] == ["a plain text file"]
    query = daemon.client.memory.ListMemories(memory_pb2.ListMemoriesRequest(query="note 7"))
    assert {m.title for m in query.memories} == {"note 7"}
    with pytest.raises(grpc.RpcError) as caught:
        daemon.client.memory.ListMemories(memory_pb2.ListMemoriesRequest(page_token="garbage!"))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_get_memory_returns_text_and_chunks_with_offsets(start_daemon, tmp_path):
    daemon = start_daemon("version = 1\n[ingest]\nchunk_tokens = 50\nchunk_overlap = 10\n")
    note = tmp_path / "long.md"
    note.write_text(" ".join(f"word{i}" for i in range(180)))
    wait_job(daemon.client, ingest(daemon.client, note).id)
    (memory,) = all_memories(daemon.client)
    full = daemon.client.memory.GetMemory(
        memory_pb2.GetMemoryRequest(memory_id=memory.id, include_text=True, include_chunks=True)
    )
    assert len(full.chunks) == memory.chunk_count == 5  # 180 tokens: windows of 50 starting at 0, 40, ..., 160
    for chunk in full.chunks:
        assert full.text[chunk.start_char : chunk.end_char] == chunk.text
    assert full.chunks[0].text.split()[-10:] == full.chunks[1].text.split()[:10]  # the overlap
