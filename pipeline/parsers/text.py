"""Plain text and Markdown: decoding with a fallback, front matter, title and date."""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import charset_normalizer
import yaml

from secondme.pipeline.errors import IngestError, UnsupportedContent
from secondme.pipeline.parsers.base import ParsedDocument, ParseProgress, ParserSettings, ParseStatus, SourceType
from secondme.pipeline.parsers.sniff import looks_binary, wide_encoding

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_HEADER_LINE = re.compile(r"^([A-Za-z][A-Za-z-]{1,30}):[ \t]*(.*)$")
_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
TITLE_MAX_CHARS = 120
_WESTERN = ("cp1252", "latin_1", "iso8859_15")
# libyaml's safe loader when present: the same rules as yaml.safe_load, ten times faster.
_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Front matter is a title, a date and some tags. Beyond these bounds it is not read as YAML (a
# "billion laughs" of aliases is 400 bytes that expand to 387 million values) and stays in the text.
MAX_FRONT_MATTER_BYTES = 64 * 1024
MAX_FRONT_MATTER_VALUES = 10_000
MAX_FRONT_MATTER_DEPTH = 50
# What the values may add up to once aliases are expanded: a long value repeated by thousands of
# aliases fits the byte and value bounds above and would still be megabytes of metadata.
MAX_FRONT_MATTER_CHARS = 4 * MAX_FRONT_MATTER_BYTES


class FrontMatterRefused(IngestError):
    """The front matter cannot be read as metadata; the message says why, for the owner."""


def decode_text(data: bytes) -> tuple[str, str]:
    """Return (text, encoding). UTF-8 first; otherwise the most plausible other encoding."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    wide = wide_encoding(data[:8192])
    if wide:
        return data.decode(wide, errors="replace").removeprefix("\ufeff"), wide
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    matches = charset_normalizer.from_bytes(data)
    best = matches.best()
    if best is None or looks_binary(data[:8192]):
        raise UnsupportedContent("not text in any encoding secondme recognises")
    # Short texts fit several code pages equally well; the Western one is by far the most common.
    for match in matches:
        if match.encoding in _WESTERN and match.chaos <= best.chaos:
            best = match
            break
    return str(best), best.encoding


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _check_expansion(value: Any) -> None:
    """Refuse YAML whose aliases expand past MAX_FRONT_MATTER_VALUES values, MAX_FRONT_MATTER_CHARS
    characters of values or MAX_FRONT_MATTER_DEPTH levels.

    PyYAML builds an aliased value once and shares it, so loading stays cheap; it is every later walk
    over the result (to JSON, to the store) that would visit each alias again. This walk counts the
    same visits, and stops at the bound.
    """
    budget, chars = MAX_FRONT_MATTER_VALUES, MAX_FRONT_MATTER_CHARS
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        budget -= 1
        if isinstance(item, str | bytes):
            chars -= len(item)
            if chars < 0:
                raise FrontMatterRefused(
                    f"the front matter expands to more than {MAX_FRONT_MATTER_CHARS // 1024} KB of values "
                    "(YAML aliases repeating a long value); it was kept as text, not read"
                )
        if budget < 0:
            raise FrontMatterRefused(
                f"the front matter expands to more than {MAX_FRONT_MATTER_VALUES:,} values "
                "(YAML aliases repeated within each other); it was kept as text, not read"
            )
        if depth > MAX_FRONT_MATTER_DEPTH:
            raise FrontMatterRefused(
                f"the front matter is nested more than {MAX_FRONT_MATTER_DEPTH} levels deep; "
                "it was kept as text, not read"
            )
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for pair in item.items() for v in pair)
        elif isinstance(item, list | tuple | set):
            stack.extend((v, depth + 1) for v in item)


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Return (front matter, body). A block that is not a YAML mapping (a rule, prose) stays in the body.

    Raises FrontMatterRefused, saying why, for a block that looks like front matter but cannot be
    read within the bounds above (or is not YAML); the caller keeps it as text.
    """
    if not text.startswith("---"):
        return {}, text
    match = _FRONT_MATTER.match(text[: MAX_FRONT_MATTER_BYTES + 16])
    if not match:
        if _FRONT_MATTER.match(text):
            raise FrontMatterRefused(
                f"the front matter is longer than {MAX_FRONT_MATTER_BYTES // 1024} KB; it was kept as text, not read"
            )
        return {}, text
    try:
        data = yaml.load(match.group(1), Loader=_YamlLoader)
    except yaml.YAMLError as exc:
        if "alias" in str(exc):
            raise FrontMatterRefused(f"the front matter's YAML aliases are broken; kept as text ({exc})") from None
        raise FrontMatterRefused(
            "the block between the first two --- lines is not valid YAML, so it was kept as text, "
            "not read as front matter"
        ) from None
    except RecursionError:
        raise FrontMatterRefused("the front matter is nested too deeply; it was kept as text, not read") from None
    if not isinstance(data, dict):
        return {}, text
    _check_expansion(data)
    return {str(k): v for k, v in data.items()}, text[match.end() :]


def date_from_name(path: Path | None) -> datetime | None:
    if path is None:
        return None
    match = _DATE_IN_NAME.search(path.name)
    if not match:
        return None
    try:
        return datetime(int(match[1]), int(match[2]), int(match[3]), tzinfo=UTC)
    except ValueError:
        return None


def _first_line_title(body: str) -> str | None:
    """The first line with a letter or digit in it (not a JSON brace or a rule of dashes)."""
    for line in body.splitlines():
        stripped = line.strip().lstrip("#").strip()
        if any(c.isalnum() for c in stripped):
            return stripped[:TITLE_MAX_CHARS]
    return None


def email_headers(text: str) -> dict[str, str]:
    """The header block of a saved e-mail (From/To ... Subject, then a blank line), lower-cased keys; else {}."""
    headers: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            break
        match = _HEADER_LINE.match(line)
        if match is None:
            return {}
        headers[match[1].lower()] = match[2].strip()
    if "subject" not in headers or not {"from", "to"} & headers.keys():
        return {}
    return headers


def _email_date(value: str) -> datetime | None:
    parsed = _as_datetime(value)
    if parsed is not None:
        return parsed
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _jsonable(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


class TextParser:
    """Plain text: title from the first line, date from the file name."""

    source_type = SourceType.TEXT
    media_type = "text/plain"

    def __init__(self, settings: ParserSettings | None = None) -> None:
        self.settings = settings or ParserSettings()

    def parse(self, data: bytes, path: Path | None, progress: ParseProgress | None = None) -> ParsedDocument:
        text, encoding = decode_text(data)
        refused = ""
        try:
            front, body = self._front_matter(text)
        except FrontMatterRefused as exc:
            front, body, refused = {}, text, str(exc)
        title = front.get("title")
        created = _as_datetime(front.get("date")) or date_from_name(path)
        metadata: dict[str, Any] = {"encoding": encoding}
        if front:
            metadata["front_matter"] = _jsonable(front)
        body = body.strip("\n")
        if not body.strip():
            status, detail = ParseStatus.EMPTY, "no text in the file (only blank lines or spaces)"
        else:
            status, detail = (ParseStatus.PARTIAL, refused) if refused else (ParseStatus.OK, "")
        return ParsedDocument(
            text=body,
            source_type=self.source_type,
            media_type=self.media_type,
            title=str(title)[:TITLE_MAX_CHARS] if title else self._title(body),
            created_at=created,
            status=status,
            status_detail=detail,
            metadata=metadata,
        )

    def _front_matter(self, text: str) -> tuple[dict[str, Any], str]:
        """A saved e-mail's headers give its subject and date; the headers stay in the text (who it was to)."""
        headers = email_headers(text)
        if not headers:
            return {}, text
        front: dict[str, Any] = {"title": headers["subject"], **{k: headers[k] for k in ("from", "to") if k in headers}}
        if headers.get("date") and (moment := _email_date(headers["date"])) is not None:
            front["date"] = moment
        return front, text

    def _title(self, body: str) -> str | None:
        return _first_line_title(body)


class MarkdownParser(TextParser):
    """Markdown: YAML front matter for title/date, else the first heading."""

    source_type = SourceType.MARKDOWN
    media_type = "text/markdown"

    def _front_matter(self, text: str) -> tuple[dict[str, Any], str]:
        return split_front_matter(text)

    def _title(self, body: str) -> str | None:
        heading = _HEADING.search(body)
        return heading.group(1).strip()[:TITLE_MAX_CHARS] if heading else _first_line_title(body)
