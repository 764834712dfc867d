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


def _text_like(sample: str) -> bool:
    if not sample:
        return False
    printable = sum(1 for c in sample if c.isprintable() or c in "\t\n\r\f")
    return printable / len(sample) >= 0.95


def wide_encoding(head: bytes) -> str | None:
    """The encoding of text written two or four bytes a character (UTF-16, as Windows' Notepad and
    PowerShell save "Unicode" text, or UTF-32), by its byte-order mark or, without one, by the NULs
    of ASCII characters at every other byte; None for anything else. The decoded start must read as
    text (an MPEG audio frame can begin like a UTF-16 byte-order mark)."""
    candidates = []
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        candidates.append("utf-32")
    elif head.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates.append("utf-16")
    elif len(head) >= 8:
        even, odd = head[0:-1:2], head[1::2]
        if odd.count(0) >= 0.9 * len(odd) and even.count(0) <= 0.1 * len(even):
            candidates.append("utf-16-le")
        elif even.count(0) >= 0.9 * len(even) and odd.count(0) <= 0.1 * len(odd):
            candidates.append("utf-16-be")
    for encoding in candidates:
        width = 4 if encoding == "utf-32" else 2
        sample = head[: len(head) // width * width]
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            # The sample may end inside a surrogate pair: one character less.
            try:
                text = sample[:-width].decode(encoding)
            except UnicodeDecodeError:
                continue
        if _text_like(text):
            return encoding
    return None


def _looks_html(head: bytes) -> bool:
    start = head.lstrip()[:512].lower()
    if start.startswith((b"<!doctype html", b"<html")):
        return True
    return start.startswith(b"<?xml") and b"<html" in head[:4096].lower()


def sniff(head: bytes, path: Path | None = None) -> tuple[SourceType, str]:
    """Return (source type, media type) for a file's first bytes, or raise UnsupportedContent."""
    wide = wide_encoding(head)
    if wide:
        head = head.decode(wide, errors="ignore").encode("utf-8")  # text: told apart as UTF-8 text is
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
