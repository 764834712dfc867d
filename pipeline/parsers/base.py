"""The one interface every L0 parser implements.

A parser turns one file's bytes into a `ParsedDocument`. The parser is chosen by content
sniffing (`secondme.pipeline.parsers.sniff`), not only by the file extension, so a PNG named
`.jpg` or a Markdown file named `.txt` still reaches the right code. Parsers never touch the
store: the ingest job decides what to keep.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

# Progress inside one file, for parsers that take long (audio): (stage, done, total, message).
# The ingest job passes its own reporter, so `secondmectl ingest` shows e.g. "transcribe 300/7200".
ParseProgress = Callable[[str, int, int, str], None]


class SourceType(enum.StrEnum):
    """What kind of input a memory came from; values are stored in the database."""

    TEXT = "text"
    MARKDOWN = "markdown"
    PDF = "pdf"
    HTML = "html"
    IMAGE = "image"
    AUDIO = "audio"
    URL = "url"


class ParseStatus(enum.StrEnum):
    OK = "ok"
    PARTIAL = "partial"  # some of the content could not be read (e.g. a scanned page OCR failed)
    EMPTY = "empty"  # no text at all: the ingest skips the file with `status_detail` as the reason


# The defaults of `[ingest] max_image_pixels` and `max_audio_seconds` (`pipeline.ingest.settings`).
MAX_IMAGE_PIXELS = 100_000_000
MAX_AUDIO_SECONDS = 4 * 3600.0


@dataclass(frozen=True)
class ParserSettings:
    """What parsers may spend on one file, and which speech model they use (from `[ingest]`)."""

    max_image_pixels: int = MAX_IMAGE_PIXELS
    max_audio_seconds: float = MAX_AUDIO_SECONDS
    # The owner's imported Whisper checkpoint ("" for none: the packaged speech model is used).
    whisper_checkpoint: str = ""


@dataclass(frozen=True)
class Segment:
    """A timed stretch of a transcript (audio) or a page (PDF), kept for provenance."""

    text: str
    start: float | None = None  # seconds for audio, page number for documents
    end: float | None = None


@dataclass(frozen=True)
class ParsedDocument:
    text: str
    source_type: SourceType
    media_type: str
    title: str | None = None
    # The document's own date (front matter, EXIF, PDF metadata, content), never the ingest time.
    created_at: datetime | None = None
    status: ParseStatus = ParseStatus.OK
    # Why the status is not OK, in words the owner can act on.
    status_detail: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    segments: tuple[Segment, ...] = ()


_loading_hook: Callable[[], AbstractContextManager[None]] = contextlib.nullcontext


def loading_libraries() -> AbstractContextManager[None]:
    """Wrap the loading of what every file of a kind needs (a speech model): the parse worker lifts
    the document's memory budget for it, since what a model takes is not the document's doing."""
    return _loading_hook()


def set_loading_hook(hook: Callable[[], AbstractContextManager[None]]) -> None:
    """Set by the parse worker (its memory budget's `lifted`); the default does nothing."""
    global _loading_hook
    _loading_hook = hook


class Parser(Protocol):
    """Parses one file's bytes. Raises `IngestError` (or a subclass) with a clear reason.

    A parser class takes its `ParserSettings` as its only constructor argument. `progress` may be
    called any number of times; parsers that finish quickly ignore it. Long parsers report it
    often (a PDF's pages, a memo's seconds): the parse worker's time budget runs between reports.
    """

    source_type: SourceType

    def parse(self, data: bytes, path: Path | None, progress: ParseProgress | None = None) -> ParsedDocument: ...
