"""One document's bytes to its text and chunks: the part of an ingest that reads untrusted content.

`parse_document` is what the parse worker runs for each file (under a memory and a time budget,
`isolation.py`); `InlineParser` runs it in the calling process, without budgets, for tests and
baselines. Every request gets a result: a parsed document with its chunks, or the reason it was
not one. A document with no text is not a memory: it is refused with the parser's reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from secondme.pipeline.errors import IngestError
from secondme.pipeline.ingest.chunking import Chunk, chunk_text
from secondme.pipeline.ingest.settings import IngestSettings
from secondme.pipeline.parsers import ParsedDocument, Parser, ParserSettings, ParseStatus, SourceType, parser_for
from secondme.pipeline.parsers.sniff import SNIFF_BYTES, sniff

# A server's word for a page that does not start like one (a fragment, a leading comment).
_HTML_MEDIA_TYPES = {"text/html", "application/xhtml+xml"}

# (stage, done, total, message), as the ingest reports it.
ProgressCallback = Callable[[str, int, int, str], None]


@dataclass(frozen=True)
class ParseSettings:
    parsers: ParserSettings = field(default_factory=ParserSettings)
    chunk_tokens: int = IngestSettings.chunk_tokens
    chunk_overlap: int = IngestSettings.chunk_overlap


@dataclass(frozen=True)
class ParseRequest:
    key: int
    data: bytes
    # For sniffing (an extension), a date in the file name, and a title when the content has none.
    name_hint: Path | None
    # Shown in progress messages.
    label: str
    # The server's media type, for URLs.
    content_type: str = ""
    is_url: bool = False
    # What sniffing the bytes found, when the job already did (a file's first bytes are sniffed as it
    # is read, to refuse what no parser takes unread): not done again, once per file is enough.
    sniffed: tuple[SourceType, str] | None = None

    def source_type(self) -> SourceType:
        """What the bytes are, by their content first (raises UnsupportedContent)."""
        source_type, _ = self.sniffed or sniff(self.data[:SNIFF_BYTES], self.name_hint)
        return source_type


@dataclass(frozen=True)
class Parsed:
    document: ParsedDocument
    chunks: list[Chunk]


@dataclass(frozen=True)
class Refused:
    reason: str
    # False: the content cannot be a memory (skipped). True: reading it went wrong (a parser
    # error, a crash, a budget exceeded), which a fix or a bigger budget may change.
    failed: bool = False


ParseResult = Parsed | Refused


def choose_parser(request: ParseRequest, settings: ParserSettings) -> Parser:
    """The parser for these bytes, by their content first (raises UnsupportedContent)."""
    source_type = request.source_type()
    if request.content_type in _HTML_MEDIA_TYPES and source_type in (SourceType.TEXT, SourceType.MARKDOWN):
        source_type = SourceType.HTML
    return parser_for(source_type, settings)


def finish_document(document: ParsedDocument, request: ParseRequest, settings: ParseSettings) -> ParseResult:
    """A parser's document as the ingest keeps it: chunked, or refused when it holds no text."""
    if request.is_url:
        metadata = {**document.metadata, "parsed_as": document.source_type.value}
        if request.content_type:
            metadata["content_type"] = request.content_type
        document = replace(document, source_type=SourceType.URL, metadata=metadata)
    chunks = chunk_text(document.text, settings.chunk_tokens, settings.chunk_overlap) if document.text.strip() else []
    if document.status is ParseStatus.EMPTY or not chunks:
        return Refused(document.status_detail or "no text in the file")
    return Parsed(document, chunks)


def parse_document(
    request: ParseRequest, settings: ParseSettings, progress: ProgressCallback | None = None
) -> ParseResult:
    """Parse in this process. A parser's exception costs this document, never the caller."""

    def report(stage: str, done: int, total: int, message: str) -> None:
        if progress:
            progress(stage, done, total, f"{request.label}: {message}")

    try:
        parser = choose_parser(request, settings.parsers)
        document = parser.parse(request.data, request.name_hint, report)
    except IngestError as exc:
        return Refused(str(exc))
    except RecursionError:
        return Refused("the content is nested too deeply for the parser", failed=True)
    except MemoryError:
        raise  # the parse worker's budget was spent: it says so, and starts afresh
    except Exception as exc:  # a parser bug must cost one file, not the batch
        return Refused(f"parser error ({type(exc).__name__}): {exc}", failed=True)
    return finish_document(document, request, settings)


class DocumentParser(Protocol):
    """Parses a stream of requests; results come in the order of the requests, one each."""

    def parse_all(
        self, requests: Iterable[ParseRequest], progress: ProgressCallback | None = None
    ) -> Iterator[tuple[ParseRequest, ParseResult]]: ...

    def close(self) -> None: ...


class InlineParser:
    """Every document parsed in the calling process: no isolation, no budgets (tests, baselines)."""

    def __init__(self, settings: ParseSettings) -> None:
        self.settings = settings

    def parse_all(
        self, requests: Iterable[ParseRequest], progress: ProgressCallback | None = None
    ) -> Iterator[tuple[ParseRequest, ParseResult]]:
        for request in requests:
            yield request, parse_document(request, self.settings, progress)

    def close(self) -> None:
        pass
