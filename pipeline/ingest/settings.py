"""`[ingest]` in the config, defined once: the daemon's config loads and validates it, the ingest job runs on it.

The pipeline's own defaults (`IngestOptions`, `ParseSettings`, `ParseBudget`, `ParserSettings`) are
read from here, so a default changes in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from secondme.pipeline.parsers.base import MAX_AUDIO_SECONDS, MAX_IMAGE_PIXELS


@dataclass
class IngestSettings:
    # Files above this size are skipped with a reason instead of being read into memory.
    max_file_bytes: int = 50 * 1024 * 1024
    # Chunks of about this many tokens, each overlapping the previous by `chunk_overlap`.
    chunk_tokens: int = 256
    chunk_overlap: int = 32
    # Globs a folder's files must match (any of `include`, when given; none of `exclude`).
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    # An image with more pixels is refused before it is decoded: a few bytes can claim gigapixels.
    max_image_pixels: int = MAX_IMAGE_PIXELS
    # A voice memo is transcribed up to this many seconds; the rest is left out and the memory says so.
    max_audio_seconds: float = MAX_AUDIO_SECONDS
    # Memory one file's parse may take beyond what the parsers' libraries and models need: a file that
    # needs more is listed as failed, instead of growing until the system kills the whole ingest.
    parse_memory_mb: int = 1024
    # The longest one file's parse may run without progress (a PDF's page, a stretch of a memo) before
    # it is stopped and listed as failed.
    parse_timeout_seconds: float = 120.0
