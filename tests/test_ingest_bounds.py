"""The ingest's bounds, file by file and in-process: names as bytes, the folder boundary, things that are
not files, front matter, decompression, and files with nothing to read. The same files go through a
real daemon in test_ingest_hostile.py."""

from __future__ import annotations

import base64
import json
import os
import socket
import time
from pathlib import Path

import pytest
from fixtures.hostile_corpus import (
    alias_bomb_note,
    blank_pages_pdf,
    inflating_pdf,
    long_alias_note,
    nested_html,
    pixel_bomb_png,
    text_pdf,
    wav,
)

from secondme.pipeline.errors import IngestError
from secondme.pipeline.ingest import IngestOptions, KnownMemory, NewMemory, OutcomeKind, ingest_paths, walk_paths
from secondme.pipeline.ingest.names import is_exact, printable, shown, to_json
from secondme.pipeline.ingest.reading import read_regular
from secondme.pipeline.parsers import ParseStatus, SourceType, parser_for
from secondme.pipeline.parsers.text import MAX_FRONT_MATTER_VALUES, MarkdownParser


class ListSink:
    """A MemorySink that keeps what it is given, for in-process runs."""

    def __init__(self) -> None:
        self.memories: dict[str, NewMemory] = {}

    def find_by_hash(self, content_hash: str) -> KnownMemory | None:
        found = [i for i, m in self.memories.items() if m.content_hash == content_hash]
        return KnownMemory(found[0]) if found else None

    def add(self, memory: NewMemory) -> str:
        memory_id = f"mem_{len(self.memories)}"
        self.memories[memory_id] = memory
        return memory_id

    def flush(self) -> None:
        pass


def _note(folder: Path, name: bytes | str, title: str) -> Path:
    path = Path(os.fsdecode(os.path.join(os.fsencode(folder), os.fsencode(name))))
    path.write_text(f"# {title}\n\nWords about {title.lower()} and the harbour.\n")
    return path


def test_names_are_bytes_shown_exactly_when_they_are_utf8():
    latin = os.fsdecode(b"caf\xe9.md")
    assert shown(latin) == "caf\\xe9.md" and not is_exact(latin)
    assert to_json(latin) == {"path": "caf\\xe9.md", "path_b64": base64.b64encode(b"caf\xe9.md").decode()}
    assert shown("two\nlines.md") == "two\nlines.md" and is_exact("two\nlines.md")
    assert printable("two\nlines\x07.md") == "two\\nlines\\x07.md"
    assert to_json("café.md") == {"path": "café.md"}


def test_every_name_the_os_allows_is_ingested_and_kept_exactly(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    names = [b"caf\xe9 \xff\xfe.md", b"two\nlines.md", b"-rf --help.md", b"n" * 252 + b".md", b"$(id) `x` *?|&>.md"]
    for number, name in enumerate(names):
        _note(folder, name, f"Note {number}")
    sink = ListSink()
    summary = ingest_paths([folder], IngestOptions(), sink)
    assert summary.counts["ingested"] == len(names) and not summary.problems
    kept = {m.source_bytes: m for m in sink.memories.values()}
    assert set(kept) == {os.path.join(os.fsencode(folder), name) for name in names}
    latin = kept[os.path.join(os.fsencode(folder), names[0])]
    assert latin.source.endswith("caf\\xe9 \\xff\\xfe.md") and latin.title == "Note 0"
    latin.source.encode("utf-8")  # valid text: SQLite, JSON and gRPC take it


def test_links_are_followed_inside_the_folders_named_and_skipped_outside(tmp_path):
    folder, outside = tmp_path / "notes", tmp_path / "elsewhere"
    (folder / "sub").mkdir(parents=True)
    outside.mkdir()
    real = _note(folder / "sub", "real.md", "Real")
    secret = _note(outside, "secret.md", "Secret")
    (folder / "a-link-first.md").symlink_to(real)  # sorts before sub/: the real name still wins
    (folder / "passwd.md").symlink_to("/etc/passwd")
    (folder / "secret.md").symlink_to(secret)
    (folder / "up.md").symlink_to("../elsewhere/secret.md")
    (folder / "loop").symlink_to(folder)
    (folder / "dangling.md").symlink_to(tmp_path / "nowhere.md")
    (folder / "ping.md").symlink_to("pong.md")  # two links naming each other
    (folder / "pong.md").symlink_to("ping.md")
    found = {c.path.name: c for c in walk_paths([folder])}
    assert found["real.md"].real == real and found["real.md"].same_as is None
    assert found["a-link-first.md"].same_as == folder / "sub" / "real.md"
    for name in ("passwd.md", "secret.md", "up.md"):
        assert "outside the folders you named" in found[name].problem, name
        assert "--follow-external-links" in found[name].problem
    assert "loop" in found["loop"].problem and "broken" in found["dangling.md"].problem
    assert all(found[name].problem.startswith("a symlink loop") for name in ("ping.md", "pong.md"))
    followed = {c.path.name: c for c in walk_paths([folder], follow_external=True)}
    assert followed["secret.md"].real == secret and not followed["secret.md"].problem
    assert followed["passwd.md"].real == Path("/etc/passwd")
    # the same file named twice, and a folder inside another named folder, are walked once
    twice = [c for c in walk_paths([folder, folder / "sub", real]) if not c.problem and c.same_as is None]
    assert [c.path.name for c in twice].count("real.md") == 1


def test_pipes_sockets_and_devices_are_listed_without_being_opened(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    _note(folder, "note.md", "Note")
    os.mkfifo(folder / "pipe.md")  # opening it for reading would wait for a writer forever
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(folder / "socket.md"))
    server.close()
    (folder / "zero.md").symlink_to("/dev/zero")
    started = time.monotonic()
    found = {c.path.name: c.problem for c in walk_paths([folder], follow_external=True)}
    assert time.monotonic() - started < 30  # it returned at all: nothing blocked on the pipe
    assert found["pipe.md"].startswith("a named pipe") and "without opening" in found["pipe.md"]
    assert found["socket.md"].startswith("a socket")
    assert found["zero.md"].startswith("a device")
    with pytest.raises(IngestError, match="stopped being a regular file"):
        read_regular(folder / "pipe.md", 1000)  # replaced after the walk: still never blocks


def test_a_billion_laughs_in_front_matter_is_refused_at_once_and_the_note_kept():
    started = time.monotonic()
    doc = MarkdownParser().parse(alias_bomb_note(), None)
    assert time.monotonic() - started < 30  # unbounded, it grew by GBs for many minutes
    assert doc.status is ParseStatus.PARTIAL
    assert f"more than {MAX_FRONT_MATTER_VALUES:,} values" in doc.status_detail and "aliases" in doc.status_detail
    assert "The body after the bomb." in doc.text and "front_matter" not in doc.metadata
    tame = MarkdownParser().parse(b"---\na: &x [1, 2]\nb: *x\ntitle: Tame\n---\nbody\n", None)
    assert tame.status is ParseStatus.OK and tame.metadata["front_matter"]["b"] == [1, 2]


def test_a_long_value_repeated_by_aliases_is_refused_and_the_note_kept():
    # Before: this 42 KB note became 54 MB of metadata (within the value and byte bounds), more than a
    # message carries: a page of `memories list` holding it could not be sent.
    doc = MarkdownParser().parse(long_alias_note(), None)
    assert doc.status is ParseStatus.PARTIAL and "more than 256 KB of values" in doc.status_detail
    assert "The body after the long laughs." in doc.text and "front_matter" not in doc.metadata
    assert len(json.dumps(doc.metadata)) < 10_000


def test_front_matter_that_is_not_yaml_is_kept_as_text_and_said_so():
    doc = MarkdownParser().parse(b"---\ntitle: [unclosed\n: : :\n---\n# Kept\n\nThe body.\n", None)
    assert doc.status is ParseStatus.PARTIAL and "not valid YAML" in doc.status_detail
    assert doc.text.startswith("---\ntitle: [unclosed") and doc.title == "Kept"
    deep = MarkdownParser().parse(b"---\nx: " + b"[" * 20_000 + b"\n---\nDeep body.\n", None)
    assert deep.status is ParseStatus.PARTIAL and "Deep body." in deep.text
    rule = MarkdownParser().parse(b"---\nA thought between rules.\n---\nMore.\n", None)
    assert rule.status is ParseStatus.OK  # a Markdown rule, not front matter: nothing to say


def test_decompression_is_bounded_in_pdfs_and_images():
    with pytest.raises(IngestError, match="inflates past"):
        parser_for(SourceType.PDF).parse(inflating_pdf(256 << 20), None)
    with pytest.raises(IngestError, match="pixels"):
        parser_for(SourceType.IMAGE).parse(pixel_bomb_png(), None)


def test_files_with_nothing_to_read_say_why(tmp_path):
    folder = tmp_path / "nothing"
    folder.mkdir()
    (folder / "blank-2000.pdf").write_bytes(blank_pages_pdf(2000))
    (folder / "no-samples.wav").write_bytes(wav(b""))
    (folder / "silence.wav").write_bytes(wav(b"\x00\x00" * 1600))
    (folder / "deep.html").write_bytes(nested_html(100_000, "The one sentence in the deep page."))
    (folder / "blank.md").write_bytes(b"\n  \n")
    (folder / "report.pdf").write_bytes(text_pdf(["A quarterly report", "on the harbour"]))
    sink = ListSink()
    summary = ingest_paths([folder], IngestOptions(), sink)
    reasons = {os.path.basename(p.path): (p.kind, p.reason) for p in summary.problems}
    assert reasons["blank-2000.pdf"] == (OutcomeKind.SKIPPED, "no text on 2,000 pages (OCR found none)")
    assert reasons["no-samples.wav"][1].startswith("no audio samples")
    assert reasons["silence.wav"][1] == "silence: 0:00:00.1 of audio without a sound"
    assert reasons["blank.md"][1].startswith("no text in the file")
    assert reasons["deep.html"][0] is OutcomeKind.INGESTED and "nests more than 1,000 levels" in reasons["deep.html"][1]
    stored = {os.path.basename(m.source): m for m in sink.memories.values()}
    assert set(stored) == {"deep.html", "report.pdf"}  # nothing empty is a memory
    assert "The one sentence in the deep page." in stored["deep.html"].document.text
    assert all(m.chunks for m in stored.values())
    assert summary.counts == {"ingested": 2, "duplicate": 0, "skipped": 4, "failed": 0, "partial": 1}
    listed = summary.to_dict()["problems"]
    assert {p["kind"] for p in listed} == {"skipped", "partial"} and all(p["reason"] for p in listed)


def test_the_notes_worker_started_with_the_job_is_the_one_that_parses_them():
    """An ingest starts the notes' worker before its walk (its start then overlaps it): the notes must go
    to that worker, not to a second one started at the first note."""
    from secondme.pipeline.ingest.isolation import IsolatedParser, ParseBudget
    from secondme.pipeline.ingest.parse import Parsed, ParseRequest

    requests = [ParseRequest(i, f"# Note {i}\n\nbody {i}\n".encode(), Path(f"{i}.md"), f"{i}.md") for i in range(5)]
    with IsolatedParser(IngestOptions().parse_settings(), ParseBudget()) as parser:
        parser.start_text_worker()
        parser.start_text_worker()  # already started: not again
        results = list(parser.parse_all(requests))
        assert parser.workers_started == 1
    assert [request.key for request, _ in results] == list(range(5))
    assert all(isinstance(result, Parsed) and result.chunks for _, result in results)


def test_a_slow_document_never_holds_up_the_notes_behind_it():
    import io

    import numpy as np
    from PIL import Image

    from secondme.pipeline.ingest.isolation import IsolatedParser, ParseBudget
    from secondme.pipeline.ingest.parse import ParseRequest

    noise = io.BytesIO()
    Image.fromarray((np.random.default_rng(2).random((2000, 2000)) * 255).astype("uint8")).save(noise, format="PNG")
    requests = [ParseRequest(0, noise.getvalue(), Path("noise.png"), "noise.png")]
    notes = [(i, f"# Note {i}\n\nbody {i}\n".encode()) for i in range(1, 21)]
    requests += [ParseRequest(i, text, Path(f"{i}.md"), f"{i}.md") for i, text in notes]
    with IsolatedParser(IngestOptions().parse_settings(), ParseBudget()) as parser:
        order = [request.key for request, _ in parser.parse_all(requests)]
        assert parser.workers_started == 2  # one for notes, one for the heavier kinds
    assert sorted(order) == list(range(21))
    assert order[-1] == 0  # the notes came back while tesseract was still reading the noise


def test_a_summary_of_any_size_fits_the_message_a_job_result_travels_in():
    """300,000 files stored and 10,000 refused, each with a 4,000-byte name that is not UTF-8: the
    summary counts them all, names as many as fit and says how many it left out."""
    import json

    from secondme.pipeline.ingest.run import FileOutcome, IngestSummary

    summary = IngestSummary(total=330_000)
    for i in range(300_000):
        summary.record(FileOutcome(f"/notes/{i}.md", OutcomeKind.INGESTED, memory_id=f"{i:032x}"))
    for i in range(10_000):
        name = b"/notes/" + b"\xff" * 3_990 + b"%05d" % i
        summary.record(FileOutcome(shown(name), OutcomeKind.SKIPPED, "binary data, not text", path_bytes=name))
    as_json = json.dumps(summary.to_dict())
    assert len(as_json) < 6 << 20  # the daemon's messages carry 8 MiB
    result = json.loads(as_json)
    assert result["ingested"] == 300_000 and result["skipped"] == 10_000
    assert len(result["memory_ids"]) + result["memory_ids_not_listed"] == 300_000
    assert len(result["problems"]) + result["problems_not_listed"] == 10_000 and result["problems"]
    assert base64.b64decode(result["problems"][-1]["path_b64"]).startswith(b"/notes/\xff")


def test_a_text_file_just_under_the_size_limit_is_read_within_the_default_memory_budget(tmp_path):
    # Before: 45 MB of plain text failed, "needs more than its 1,024 MB memory budget": the chunker
    # held the offsets of all 7 million tokens at once (some 120 bytes each).
    from secondme.pipeline.ingest.isolation import IsolatedParser, ParseBudget

    folder = tmp_path / "big"
    folder.mkdir()
    line = b"tide harbour bread ferry garden letter walk kiln glaze hive train map.\n"
    (folder / "journal.txt").write_bytes(line * (45_000_000 // len(line)))
    options = IngestOptions()
    assert (folder / "journal.txt").stat().st_size < options.max_file_bytes
    sink = ListSink()
    budget = ParseBudget(options.parse_memory_mb * 2**20, options.parse_timeout_seconds)
    with IsolatedParser(options.parse_settings(), budget) as parser:
        summary = ingest_paths([folder], options, sink, parser=parser)
    assert summary.counts["ingested"] == 1 and not summary.problems, summary.problems
    (memory,) = sink.memories.values()
    assert memory.chunks[-1].end_char == len(memory.document.text.rstrip())


def test_a_file_its_first_bytes_refuse_is_not_read_whole(tmp_path):
    # 40 MB of archive under the 50 MB limit: refused by its first 8 KB, not read, hashed and sent to
    # the parse worker whole to be refused there.
    archive = tmp_path / "photos.zip"
    with open(archive, "wb") as out:
        out.write(b"PK\x03\x04" + os.urandom(40 << 20))
    seen: list[int] = []

    def check(head: bytes) -> None:
        seen.append(len(head))
        raise IngestError("refused by its head")

    with pytest.raises(IngestError, match="refused by its head"):
        read_regular(archive, 50 << 20, check)
    assert seen == [8192]
    summary = ingest_paths([tmp_path], IngestOptions(), ListSink())
    ((path, kind, reason),) = [(p.path, p.kind, p.reason) for p in summary.problems]
    assert path == str(archive) and kind is OutcomeKind.SKIPPED and "a ZIP archive" in reason


def test_a_parse_worker_leads_a_process_group_of_its_own_in_the_jobs_session():
    """Its own group, so a kill takes what it started along; the job's session, because where Linux
    schedules by session (autogroup, on by default on desktop Linux) a session of its own weighs as
    much as the daemon's whole session whatever the job's niceness: during an ingest, status's median
    latency was 1.38x idle with the worker in a session of its own, 1.08x in the job's."""
    import psutil

    from secondme.pipeline.ingest.isolation import IsolatedParser, ParseBudget
    from secondme.pipeline.ingest.parse import Parsed, ParseRequest

    before = {p.pid for p in psutil.Process().children()}
    with IsolatedParser(IngestOptions().parse_settings(), ParseBudget()) as parser:
        request = ParseRequest(0, b"# A note\n\nbody\n", Path("a.md"), "a.md")
        [(_, result)] = list(parser.parse_all([request]))
        assert isinstance(result, Parsed)
        (worker,) = [p for p in psutil.Process().children() if p.pid not in before]
        assert os.getpgid(worker.pid) == worker.pid
        assert os.getsid(worker.pid) == os.getsid(0)
