"""Ingest a set of paths and URLs: one document at a time, each stored atomically by the sink.

The orchestration is here, the storage is not: the daemon passes a `MemorySink` that writes
to its store, so this module runs the same in a job child, a test or a benchmark. Parsing is
the `DocumentParser`'s (the daemon's runs in a worker process under memory and time budgets).
One bad file or URL never stops the batch: every one gets an outcome, and every one skipped,
failed or only partly read is listed with its reason. A sink that cannot store stops it.
"""

from __future__ import annotations

import enum
import hashlib
import itertools
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Protocol
from urllib.parse import urlsplit

from secondme.pipeline.errors import IngestError
from secondme.pipeline.fetch import fetch_url
from secondme.pipeline.ingest.chunking import Chunk
from secondme.pipeline.ingest.names import name_bytes, printable, shown, to_json
from secondme.pipeline.ingest.parse import (
    DocumentParser,
    InlineParser,
    Parsed,
    ParseRequest,
    ParseResult,
    ParseSettings,
    ProgressCallback,
)
from secondme.pipeline.ingest.reading import read_regular
from secondme.pipeline.ingest.settings import IngestSettings
from secondme.pipeline.ingest.walk import Candidate, walk_paths
from secondme.pipeline.parsers import ParsedDocument, ParserSettings, ParseStatus, SourceType
from secondme.pipeline.parsers.sniff import sniff

# A summary is a job's result, which travels in one message (8 MiB): it names at most this many
# skipped, failed or partly read files, in at most this many bytes (a name can be 4,096 bytes long),
# and lists at most this many of the new memories' ids. All are counted; the summary says how many
# were left out.
MAX_LISTED_PROBLEMS = 10_000
MAX_LISTED_PROBLEM_BYTES = 3 << 20
MAX_LISTED_MEMORY_IDS = 20_000


class OutcomeKind(enum.StrEnum):
    INGESTED = "ingested"
    DUPLICATE = "duplicate"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True)
class FileOutcome:
    path: str  # as shown (names.shown): exact when the name is UTF-8
    kind: OutcomeKind
    # Why it was skipped, failed or is a duplicate; for an ingested file, what of it was not read.
    reason: str = ""
    memory_id: str = ""
    # The exact name, for files (None for URLs and uploads).
    path_bytes: bytes | None = None

    @property
    def partial(self) -> bool:
        return self.kind is OutcomeKind.INGESTED and bool(self.reason)


@dataclass(frozen=True)
class NewMemory:
    content_hash: str
    data: bytes
    source: str  # what the owner named: a path as shown, a URL after its redirects, an upload's label
    document: ParsedDocument
    title: str
    created_at: datetime
    chunks: list[Chunk]
    # The file's path exactly as the OS has it; None for URLs and uploads.
    source_bytes: bytes | None = None


@dataclass(frozen=True)
class KnownMemory:
    id: str
    # Stored by this same job before it was interrupted (a resumed job counts it as its own).
    same_job: bool = False
    # What of it was not read, when it was stored partly read (a resumed job lists it again).
    unread: str = ""


class MemorySink(Protocol):
    """Where memories are stored. Its errors are never one file's: any of them stops the ingest, since
    the one raised while a file is in hand may be an earlier batch's, already counted as stored."""

    def find_by_hash(self, content_hash: str) -> KnownMemory | None:
        """The memory with these exact bytes, if any."""

    def add(self, memory: NewMemory) -> str:
        """Store the memory, its chunks and its original atomically (possibly batched); return its id."""

    def flush(self) -> None:
        """Make everything added so far durable."""


@dataclass
class IngestOptions(IngestSettings):
    """One ingest run: the `[ingest]` settings (the request's globs in place of the configured ones)
    and what only this run decides."""

    # Shown instead of the path (e.g. "upload:notes.md" for a file streamed by a client).
    source_label: str = ""
    # Follow symlinks whose targets lie outside the paths the owner named.
    follow_external_links: bool = False
    # The owner's imported Whisper checkpoint ("" for none: the packaged speech model is used).
    whisper_checkpoint: str = ""
    # Files and folders never read, whatever names them: the daemon's own data (its node key is a
    # private key in PEM text, its originals copies of what is stored).
    private: list[str] = field(default_factory=list)

    @property
    def parsers(self) -> ParserSettings:
        return ParserSettings(self.max_image_pixels, self.max_audio_seconds, self.whisper_checkpoint)

    def parse_settings(self) -> ParseSettings:
        return ParseSettings(self.parsers, self.chunk_tokens, self.chunk_overlap)


@dataclass
class IngestSummary:
    total: int = 0
    # ingested, duplicate, skipped, failed; and partial: the ingested files that were only partly read.
    counts: dict[str, int] = field(default_factory=lambda: {k.value: 0 for k in OutcomeKind} | {"partial": 0})
    problems: list[FileOutcome] = field(default_factory=list)
    unlisted: int = 0
    memory_ids: list[str] = field(default_factory=list)
    memory_ids_unlisted: int = 0
    listed_bytes: int = 0

    def record(self, outcome: FileOutcome) -> None:
        self.counts[outcome.kind.value] += 1
        if outcome.memory_id and outcome.kind is OutcomeKind.INGESTED:
            if len(self.memory_ids) < MAX_LISTED_MEMORY_IDS:
                self.memory_ids.append(outcome.memory_id)
            else:
                self.memory_ids_unlisted += 1
        if outcome.partial:
            self.counts["partial"] += 1
        if outcome.kind in (OutcomeKind.SKIPPED, OutcomeKind.FAILED) or outcome.partial:
            if not self.unlisted and len(self.problems) < MAX_LISTED_PROBLEMS:
                self.listed_bytes += len(json.dumps(_listed(outcome))) + 2
            if (
                self.unlisted
                or self.listed_bytes > MAX_LISTED_PROBLEM_BYTES
                or len(self.problems) == MAX_LISTED_PROBLEMS
            ):
                self.unlisted += 1  # the list is full: the first ones are named, the rest counted
            else:
                self.problems.append(outcome)

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            **self.counts,
            "problems": [_listed(p) for p in self.problems],
            "problems_not_listed": self.unlisted,
            "memory_ids": self.memory_ids,
            "memory_ids_not_listed": self.memory_ids_unlisted,
        }


def _listed(outcome: FileOutcome) -> dict[str, Any]:
    """A file's entry in the summary's problems: its name (exact), what happened and why."""
    entry: dict[str, Any] = to_json(outcome.path_bytes) if outcome.path_bytes is not None else {"path": outcome.path}
    entry.update(kind="partial" if outcome.partial else outcome.kind.value, reason=outcome.reason)
    return entry


@dataclass(frozen=True)
class _Waiting:
    """What a request being parsed will need to be stored."""

    shown: str
    path_bytes: bytes | None
    source: str
    content_hash: str
    created: datetime
    name_hint: Path | None


class _Run:
    def __init__(self, options: IngestOptions, sink: MemorySink, report: ProgressCallback, summary: IngestSummary):
        self.options = options
        self.sink = sink
        self.report = report
        self.summary = summary
        self.waiting: dict[int, _Waiting] = {}
        self.parsing: dict[str, str] = {}  # content hash -> the file being parsed with it
        self.keys = itertools.count()
        self.done = 0

    def finish(self, outcome: FileOutcome) -> None:
        self.summary.record(outcome)
        self.done += 1
        name = os.path.basename(outcome.path.rstrip("/")) or outcome.path
        self.report("ingest", self.done, self.summary.total, f"{outcome.kind.value}: {printable(name)}")

    def requests(self, candidates: list[Candidate], urls: Sequence[str]) -> Iterator[ParseRequest]:
        for candidate in candidates:
            prepared = self.prepare_file(candidate)
            if isinstance(prepared, FileOutcome):
                self.finish(prepared)
            else:
                yield prepared
        for url in urls:
            self.report("ingest", self.done, self.summary.total, f"fetching {url}")
            prepared = self.prepare_url(url)
            if isinstance(prepared, FileOutcome):
                self.finish(prepared)
            else:
                yield prepared

    def prepare_file(self, candidate: Candidate) -> FileOutcome | ParseRequest:
        label = self.options.source_label
        raw = None if label else name_bytes(candidate.path)
        path = label or shown(candidate.path)
        if candidate.problem:
            return FileOutcome(path, OutcomeKind.SKIPPED, candidate.problem, path_bytes=raw)
        if candidate.same_as is not None:
            reason = f"another name (a link) of {shown(candidate.same_as)}, ingested once"
            return FileOutcome(path, OutcomeKind.DUPLICATE, reason, path_bytes=raw)
        assert candidate.real is not None
        name_hint = Path(label.split(":", 1)[-1]) if label else candidate.path
        try:
            # A file whose first bytes say no parser reads it (an archive, an executable, binary data)
            # is refused by them, not read whole and sent to the parse worker to be refused there.
            data, mtime, sniffed = read_regular(
                candidate.real, self.options.max_file_bytes, lambda head: sniff(head, name_hint)
            )
        except IngestError as exc:
            return FileOutcome(path, OutcomeKind.SKIPPED, str(exc), path_bytes=raw)
        created = datetime.fromtimestamp(mtime, tz=UTC)
        waiting = _Waiting(path, raw, path, "", created, name_hint)
        return self.request(data, waiting, name_hint, sniffed=sniffed)

    def prepare_url(self, url: str) -> FileOutcome | ParseRequest:
        try:
            page = fetch_url(url, self.options.max_file_bytes)
        except IngestError as exc:
            return FileOutcome(url, OutcomeKind.SKIPPED, str(exc))
        except (
            Exception
        ) as exc:  # a bug in fetching must cost one URL, not the batch (the sink's errors are not caught)
            return FileOutcome(url, OutcomeKind.FAILED, f"error ({type(exc).__name__}): {exc}")
        name = PurePosixPath(urlsplit(page.final_url).path).name
        hint = Path(name) if name else None
        waiting = _Waiting(url, None, page.final_url, "", page.last_modified or datetime.now(UTC), hint)
        return self.request(page.data, waiting, hint, page.content_type, is_url=True)

    def request(
        self,
        data: bytes,
        waiting: _Waiting,
        hint: Path | None,
        content_type: str = "",
        is_url: bool = False,
        sniffed: tuple[SourceType, str] | None = None,
    ) -> FileOutcome | ParseRequest:
        if not data:
            return FileOutcome(waiting.shown, OutcomeKind.SKIPPED, "the file is empty", path_bytes=waiting.path_bytes)
        content_hash = hashlib.sha256(data).hexdigest()
        known = self.sink.find_by_hash(content_hash)
        if known is not None:
            if known.same_job:  # stored by this job before an interruption: its work, resumed
                return FileOutcome(waiting.shown, OutcomeKind.INGESTED, known.unread, known.id, waiting.path_bytes)
            reason = f"same content as memory {known.id}"
            return FileOutcome(waiting.shown, OutcomeKind.DUPLICATE, reason, known.id, waiting.path_bytes)
        if content_hash in self.parsing:
            reason = f"same content as {self.parsing[content_hash]}"
            return FileOutcome(waiting.shown, OutcomeKind.DUPLICATE, reason, path_bytes=waiting.path_bytes)
        key = next(self.keys)
        self.waiting[key] = replace(waiting, content_hash=content_hash)
        self.parsing[content_hash] = waiting.shown
        label = os.path.basename(waiting.shown.rstrip("/")) or waiting.shown
        return ParseRequest(key, data, hint, printable(label), content_type, is_url, sniffed)

    def store(self, request: ParseRequest, result: ParseResult) -> FileOutcome:
        waiting = self.waiting.pop(request.key)
        del self.parsing[waiting.content_hash]
        if not isinstance(result, Parsed):
            kind = OutcomeKind.FAILED if result.failed else OutcomeKind.SKIPPED
            return FileOutcome(waiting.shown, kind, result.reason, path_bytes=waiting.path_bytes)
        document = result.document
        hint = waiting.name_hint
        memory = NewMemory(
            content_hash=waiting.content_hash,
            data=request.data,
            source=waiting.source,
            document=document,
            title=document.title or (shown(hint.stem) if hint else waiting.source),
            created_at=document.created_at or waiting.created,
            chunks=result.chunks,
            source_bytes=waiting.path_bytes,
        )
        memory_id = self.sink.add(memory)
        note = document.status_detail if document.status is ParseStatus.PARTIAL else ""
        return FileOutcome(waiting.shown, OutcomeKind.INGESTED, note, memory_id, waiting.path_bytes)


def ingest_paths(
    paths: list[Path],
    options: IngestOptions,
    sink: MemorySink,
    progress: ProgressCallback | None = None,
    urls: Sequence[str] = (),
    parser: DocumentParser | None = None,
) -> IngestSummary:
    """Ingest every file under `paths`, then every URL in `urls`.

    Progress is ("scan"|"ingest", done, total, message) per file or URL, and a parser's own
    stages (e.g. "transcribe", seconds done of total) while a long file is being read. Without a
    `parser`, documents are parsed in this process.
    """
    report = progress or (lambda *_: None)
    summary = IngestSummary()
    candidates = []
    walked = walk_paths(paths, options.include, options.exclude, options.follow_external_links, options.private)
    for candidate in walked:
        candidates.append(candidate)
        if len(candidates) % 1000 == 0:
            report("scan", len(candidates), 0, f"found {len(candidates)} files")
    summary.total = len(candidates) + len(urls)
    report("ingest", 0, summary.total, f"{summary.total} files to ingest")
    run = _Run(options, sink, report, summary)
    parser = parser or InlineParser(options.parse_settings())
    for request, result in parser.parse_all(run.requests(candidates, urls), report):
        run.finish(run.store(request, result))
    sink.flush()
    return summary
