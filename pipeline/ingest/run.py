"""Ingest a set of paths and URLs: one document at a time, each stored atomically by the sink.

The orchestration is here, the storage is not: the daemon passes a `MemorySink` that writes
to its store, so this module runs the same in a job child, a test or a benchmark. One bad
file or URL never stops the batch; every one gets an outcome with a reason.
"""

from __future__ import annotations

import enum
import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Protocol
from urllib.parse import urlsplit

from secondme.pipeline.errors import IngestError
from secondme.pipeline.fetch import fetch_url
from secondme.pipeline.ingest.chunking import Chunk, chunk_text
from secondme.pipeline.ingest.walk import walk_paths
from secondme.pipeline.parsers import ParsedDocument, SourceType, parser_for, sniff
from secondme.pipeline.parsers.sniff import SNIFF_BYTES

# At most this many skipped/failed files are listed by name in a summary; all are counted.
MAX_LISTED_PROBLEMS = 500


class OutcomeKind(enum.StrEnum):
    INGESTED = "ingested"
    DUPLICATE = "duplicate"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True)
class FileOutcome:
    path: str
    kind: OutcomeKind
    reason: str = ""
    memory_id: str = ""


@dataclass(frozen=True)
class NewMemory:
    content_hash: str
    data: bytes
    source: str
    document: ParsedDocument
    title: str
    created_at: datetime
    chunks: list[Chunk]


class MemorySink(Protocol):
    def find_by_hash(self, content_hash: str) -> str | None:
        """The id of the memory with these exact bytes, if any."""

    def add(self, memory: NewMemory) -> str:
        """Store the memory, its chunks and its original atomically (possibly batched); return its id."""

    def flush(self) -> None:
        """Make everything added so far durable."""


@dataclass(frozen=True)
class IngestOptions:
    max_file_bytes: int = 50 * 1024 * 1024
    chunk_tokens: int = 256
    chunk_overlap: int = 32
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    # Shown instead of the path (e.g. "upload:notes.md" for a file streamed by a client).
    source_label: str = ""


@dataclass
class IngestSummary:
    total: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {k.value: 0 for k in OutcomeKind})
    problems: list[FileOutcome] = field(default_factory=list)
    memory_ids: list[str] = field(default_factory=list)

    def record(self, outcome: FileOutcome) -> None:
        self.counts[outcome.kind.value] += 1
        if outcome.memory_id and outcome.kind is OutcomeKind.INGESTED:
            self.memory_ids.append(outcome.memory_id)
        if outcome.kind in (OutcomeKind.SKIPPED, OutcomeKind.FAILED) and len(self.problems) < MAX_LISTED_PROBLEMS:
            self.problems.append(outcome)

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            **self.counts,
            "problems": [{"path": p.path, "kind": p.kind.value, "reason": p.reason} for p in self.problems],
            "memory_ids": self.memory_ids,
        }


ProgressCallback = Callable[[str, int, int, str], None]


def _read(path: Path, limit: int) -> bytes:
    size = path.stat().st_size
    if size > limit:
        raise IngestError(
            f"{size / 1e6:.1f} MB is above the {limit / 1e6:.1f} MB limit (raise ingest.max_file_bytes to allow it)"
        )
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise IngestError("the file grew past the size limit while being read")
    return data


def _mtime(path: Path) -> datetime:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    except OSError:
        return datetime.now(UTC)


@dataclass(frozen=True)
class _Origin:
    """Where some bytes came from: a file, an upload, or a URL the owner asked for."""

    shown: str  # the outcome's path: what the owner named
    source: str  # the memory's source (a URL after its redirects)
    name_hint: Path | None  # for sniffing, dates in file names, and the title when the content has none
    created: Callable[[], datetime]  # the memory's date when its content has none
    content_type: str = ""  # the server's media type, for URLs
    is_url: bool = False


# A server's word for a page that does not start like one (a fragment, a leading comment).
_HTML_MEDIA_TYPES = {"text/html", "application/xhtml+xml"}


def _parse(data: bytes, origin: _Origin, progress: ProgressCallback | None) -> ParsedDocument:
    source_type, _ = sniff(data[:SNIFF_BYTES], origin.name_hint)
    if origin.content_type in _HTML_MEDIA_TYPES and source_type in (SourceType.TEXT, SourceType.MARKDOWN):
        source_type = SourceType.HTML
    label = os.path.basename(origin.shown.rstrip("/")) or origin.shown

    def report(stage: str, done: int, total: int, message: str) -> None:
        if progress:
            progress(stage, done, total, f"{label}: {message}")

    document = parser_for(source_type).parse(data, origin.name_hint, report)
    if origin.is_url:
        metadata = {**document.metadata, "parsed_as": document.source_type.value}
        if origin.content_type:
            metadata["content_type"] = origin.content_type
        document = replace(document, source_type=SourceType.URL, metadata=metadata)
    return document


def _ingest_bytes(
    data: bytes, origin: _Origin, options: IngestOptions, sink: MemorySink, progress: ProgressCallback | None
) -> FileOutcome:
    if not data:
        return FileOutcome(origin.shown, OutcomeKind.SKIPPED, "the file is empty")
    content_hash = hashlib.sha256(data).hexdigest()
    existing = sink.find_by_hash(content_hash)
    if existing:
        return FileOutcome(origin.shown, OutcomeKind.DUPLICATE, f"same content as memory {existing}", existing)
    try:
        document = _parse(data, origin, progress)
    except IngestError as exc:
        return FileOutcome(origin.shown, OutcomeKind.SKIPPED, str(exc))
    except Exception as exc:  # a parser bug must cost one file, not the batch
        return FileOutcome(origin.shown, OutcomeKind.FAILED, f"parser error ({type(exc).__name__}): {exc}")
    chunks = chunk_text(document.text, options.chunk_tokens, options.chunk_overlap)
    memory = NewMemory(
        content_hash=content_hash,
        data=data,
        source=origin.source,
        document=document,
        title=document.title or (origin.name_hint.stem if origin.name_hint else origin.source),
        created_at=document.created_at or origin.created(),
        chunks=chunks,
    )
    memory_id = sink.add(memory)
    return FileOutcome(origin.shown, OutcomeKind.INGESTED, memory_id=memory_id)


def ingest_file(
    path: Path, options: IngestOptions, sink: MemorySink, progress: ProgressCallback | None = None
) -> FileOutcome:
    """Read, parse and store one file; `progress` hears long parsers (audio) as they go."""
    shown = options.source_label or str(path)
    try:
        data = _read(path, options.max_file_bytes)
    except IngestError as exc:
        return FileOutcome(shown, OutcomeKind.SKIPPED, str(exc))
    except OSError as exc:
        return FileOutcome(shown, OutcomeKind.SKIPPED, f"cannot read: {exc.strerror or exc}")
    name_hint = Path(options.source_label.split(":", 1)[-1]) if options.source_label else path
    origin = _Origin(shown, shown, name_hint, lambda: _mtime(path))
    return _ingest_bytes(data, origin, options, sink, progress)


def ingest_url(
    url: str, options: IngestOptions, sink: MemorySink, progress: ProgressCallback | None = None
) -> FileOutcome:
    """Fetch one URL and store what it serves, parsed by its content (an article, a PDF, ...)."""
    try:
        page = fetch_url(url, options.max_file_bytes)
    except IngestError as exc:
        return FileOutcome(url, OutcomeKind.SKIPPED, str(exc))
    name = PurePosixPath(urlsplit(page.final_url).path).name
    fetched_at = datetime.now(UTC)
    origin = _Origin(
        shown=url,
        source=page.final_url,
        name_hint=Path(name) if name else None,
        created=lambda: page.last_modified or fetched_at,
        content_type=page.content_type,
        is_url=True,
    )
    return _ingest_bytes(page.data, origin, options, sink, progress)


def ingest_paths(
    paths: list[Path],
    options: IngestOptions,
    sink: MemorySink,
    progress: ProgressCallback | None = None,
    urls: Sequence[str] = (),
) -> IngestSummary:
    """Ingest every file under `paths`, then every URL in `urls`.

    Progress is ("scan"|"ingest", done, total, message) per file or URL, and a parser's own
    stages (e.g. "transcribe", seconds done of total) while a long file is being read.
    """
    report = progress or (lambda *_: None)
    summary = IngestSummary()
    candidates = []
    for candidate in walk_paths(paths, options.include, options.exclude):
        candidates.append(candidate)
        if len(candidates) % 1000 == 0:
            report("scan", len(candidates), 0, f"found {len(candidates)} files")
    summary.total = len(candidates) + len(urls)
    report("ingest", 0, summary.total, f"{summary.total} files to ingest")
    done = 0
    for candidate in candidates:
        if candidate.problem:
            outcome = FileOutcome(str(candidate.path), OutcomeKind.SKIPPED, candidate.problem)
        else:
            outcome = ingest_file(candidate.path, options, sink, report)
        done += 1
        summary.record(outcome)
        report("ingest", done, summary.total, f"{outcome.kind.value}: {os.path.basename(outcome.path)}")
    for url in urls:
        report("ingest", done, summary.total, f"fetching {url}")
        try:
            outcome = ingest_url(url, options, sink, report)
        except Exception as exc:  # a bug must cost one URL, not the batch
            outcome = FileOutcome(url, OutcomeKind.FAILED, f"error ({type(exc).__name__}): {exc}")
        done += 1
        summary.record(outcome)
        report("ingest", done, summary.total, f"{outcome.kind.value}: {url}")
    sink.flush()
    return summary
