"""Decide what a file is from its bytes first and its name second.

Extensions lie (a PNG saved as .jpg, a note saved without one), so magic numbers and a
text/binary check decide; the extension only separates kinds that look alike inside
(Markdown vs plain text).
"""

from __future__ import annotations

from pathlib import Path

from secondme.pipeline.errors import UnsupportedContent
from secondme.pipeline.parsers.base import SourceType

SNIFF_BYTES = 8192
MARKDOWN_SUFFIXES = {".md", ".markdown", ".mdown", ".mkd", ".mdx"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}

_MAGIC: list[tuple[bytes, int, SourceType, str]] = [
    (b"%PDF-", 0, SourceType.PDF, "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", 0, SourceType.IMAGE, "image/png"),
    (b"\xff\xd8\xff", 0, SourceType.IMAGE, "image/jpeg"),
    (b"GIF87a", 0, SourceType.IMAGE, "image/gif"),
    (b"GIF89a", 0, SourceType.IMAGE, "image/gif"),
    (b"II*\x00", 0, SourceType.IMAGE, "image/tiff"),
    (b"MM\x00*", 0, SourceType.IMAGE, "image/tiff"),
    (b"BM", 0, SourceType.IMAGE, "image/bmp"),
    (b"ID3", 0, SourceType.AUDIO, "audio/mpeg"),
    (b"OggS", 0, SourceType.AUDIO, "audio/ogg"),
    (b"fLaC", 0, SourceType.AUDIO, "audio/flac"),
]
# Formats that are certainly not something we can read, named so the owner sees why.
_KNOWN_BINARY: list[tuple[bytes, str]] = [
    (b"\x7fELF", "an ELF executable"),
    (b"MZ", "a Windows executable"),
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\xcf\xfa\xed\xfe", "a Mach-O executable"),
]


def _riff_or_iso(head: bytes) -> tuple[SourceType, str] | None:
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return SourceType.AUDIO, "audio/wav"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return SourceType.IMAGE, "image/webp"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B ", b"mp42", b"isom", b"dash"):
            return SourceType.AUDIO, "audio/mp4"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06:
        return SourceType.AUDIO, "audio/mpeg"  # bare MPEG audio frame sync
    return None


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))


def looks_binary(head: bytes) -> bool:
    """True for bytes no text encoding produces: NULs, or many C0 control characters."""
    if not head:
        return False
    if b"\x00" in head:
        return True
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls / len(head) > 0.10


def _looks_html(head: bytes) -> bool:
    start = head.lstrip()[:512].lower()
    if start.startswith((b"<!doctype html", b"<html")):
        return True
    return start.startswith(b"<?xml") and b"<html" in head[:4096].lower()


def sniff(head: bytes, path: Path | None = None) -> tuple[SourceType, str]:
    """Return (source type, media type) for a file's first bytes, or raise UnsupportedContent."""
    for magic, offset, source_type, media_type in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return source_type, media_type
    container = _riff_or_iso(head)
    if container:
        return container
    for magic, what in _KNOWN_BINARY:
        if head.startswith(magic):
            raise UnsupportedContent(f"this is {what}, which secondme cannot read")
    if looks_binary(head):
        raise UnsupportedContent("binary content of an unknown type (not text, PDF, HTML, image or audio)")
    suffix = path.suffix.lower() if path else ""
    if suffix in HTML_SUFFIXES or _looks_html(head):
        return SourceType.HTML, "text/html"
    if suffix in MARKDOWN_SUFFIXES:
        return SourceType.MARKDOWN, "text/markdown"
    return SourceType.TEXT, "text/plain"
