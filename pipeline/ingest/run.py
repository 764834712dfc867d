"""Ingest a set of paths: one document at a time, each stored atomically by the sink.

The orchestration is here, the storage is not: the daemon passes a `MemorySink` that writes
to its store, so this module runs the same in a job child, a test or a benchmark. One bad
file never stops the batch; every file gets an outcome with a reason.
"""

from __future__ import annotations

import enum
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from secondme.pipeline.errors import IngestError
from secondme.pipeline.ingest.chunking import Chunk, chunk_text
from secondme.pipeline.ingest.walk import walk_paths
from secondme.pipeline.parsers import ParsedDocument, parser_for, sniff
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
    if not data:
        return FileOutcome(shown, OutcomeKind.SKIPPED, "the file is empty")
    content_hash = hashlib.sha256(data).hexdigest()
    existing = sink.find_by_hash(content_hash)
    if existing:
        return FileOutcome(shown, OutcomeKind.DUPLICATE, f"same content as memory {existing}", existing)
    name_hint = Path(options.source_label.split(":", 1)[-1]) if options.source_label else path
    label = os.path.basename(shown)

    def report(stage: str, done: int, total: int, message: str) -> None:
        if progress:
            progress(stage, done, total, f"{label}: {message}")

    try:
        source_type, _ = sniff(data[:SNIFF_BYTES], name_hint)
        document = parser_for(source_type).parse(data, name_hint, report)
    except IngestError as exc:
        return FileOutcome(shown, OutcomeKind.SKIPPED, str(exc))
    except Exception as exc:  # a parser bug must cost one file, not the batch
        return FileOutcome(shown, OutcomeKind.FAILED, f"parser error ({type(exc).__name__}): {exc}")
    chunks = chunk_text(document.text, options.chunk_tokens, options.chunk_overlap)
    memory = NewMemory(
        content_hash=content_hash,
        data=data,
        source=shown,
        document=document,
        title=document.title or name_hint.stem,
        created_at=document.created_at or _mtime(path),
        chunks=chunks,
    )
    memory_id = sink.add(memory)
    return FileOutcome(shown, OutcomeKind.INGESTED, memory_id=memory_id)


def ingest_paths(
    paths: list[Path], options: IngestOptions, sink: MemorySink, progress: ProgressCallback | None = None
) -> IngestSummary:
    """Ingest every file under `paths`.

    Progress is ("scan"|"ingest", done, total, message) per file, and a parser's own stages
    (e.g. "transcribe", seconds done of total) while a long file is being read.
    """
    report = progress or (lambda *_: None)
    summary = IngestSummary()
    candidates = []
    for candidate in walk_paths(paths, options.include, options.exclude):
        candidates.append(candidate)
        if len(candidates) % 1000 == 0:
            report("scan", len(candidates), 0, f"found {len(candidates)} files")
    summary.total = len(candidates)
    report("ingest", 0, summary.total, f"{summary.total} files to ingest")
    for done, candidate in enumerate(candidates, start=1):
        if candidate.problem:
            outcome = FileOutcome(str(candidate.path), OutcomeKind.SKIPPED, candidate.problem)
        else:
            outcome = ingest_file(candidate.path, options, sink, report)
        summary.record(outcome)
        report("ingest", done, summary.total, f"{outcome.kind.value}: {os.path.basename(outcome.path)}")
    sink.flush()
    return summary
