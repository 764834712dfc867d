"""Saved web pages: the article's text, title, author and date, without menus and footers.

When no article is found (a page of links, or markup too deep for lxml: 100,000 nested divs),
the page's whole visible text is kept instead and the memory says so, rather than an empty one.
"""

from __future__ import annotations

import html.parser
from datetime import UTC, datetime
from pathlib import Path

from secondme.pipeline.errors import IngestError
from secondme.pipeline.parsers.base import ParsedDocument, ParseProgress, ParserSettings, ParseStatus, SourceType
from secondme.pipeline.parsers.text import decode_text

# Real articles are far smaller; a bigger page is generated markup (or an attack on the parser).
MAX_HTML_BYTES = 10 * 1024 * 1024
_INVISIBLE = {"script", "style", "noscript", "template", "head"}
_BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "blockquote"}


class _VisibleText(html.parser.HTMLParser):
    """Every piece of text a browser would show, in order; a tokenizer, so depth costs nothing."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self._hidden = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in _INVISIBLE:
            self._hidden += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in _INVISIBLE:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        elif not self._hidden:
            self.parts.append(data)


def visible_text(markup: str) -> tuple[str, str]:
    """(title, text) of a page without any tree: lines joined, blank runs squeezed."""
    reader = _VisibleText()
    reader.feed(markup)
    reader.close()
    lines = [" ".join(line.split()) for line in "".join(reader.parts).splitlines()]
    return " ".join("".join(reader.title).split()), "\n".join(line for line in lines if line)


class HtmlParser:
    source_type = SourceType.HTML

    def __init__(self, settings: ParserSettings | None = None) -> None:
        self.settings = settings or ParserSettings()

    def parse(self, data: bytes, path: Path | None, progress: ParseProgress | None = None) -> ParsedDocument:
        if len(data) > MAX_HTML_BYTES:
            raise IngestError(
                f"the page is {len(data) / 2**20:.0f} MB of markup (limit {MAX_HTML_BYTES // 2**20} MB); "
                "save it as text or PDF instead"
            )
        import trafilatura

        markup, _ = decode_text(data)
        try:
            doc = trafilatura.bare_extraction(markup, with_metadata=True, include_comments=False, favor_recall=True)
        except (ValueError, RecursionError):
            doc = None
        fields = (doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)) if doc is not None else {}
        text = (fields.get("text") or "").strip()
        status, detail = ParseStatus.OK, ""
        title = fields.get("title") or None
        if not text:
            page_title, text = visible_text(markup)
            title = title or page_title or None
            if text:
                status, detail = ParseStatus.PARTIAL, "no article found in the page; kept all of its visible text"
            else:
                status, detail = ParseStatus.EMPTY, "no text in the page"
        created = None
        if fields.get("date"):
            try:
                created = datetime.fromisoformat(str(fields["date"])).replace(tzinfo=UTC)
            except ValueError:
                created = None
        return ParsedDocument(
            text=text,
            source_type=self.source_type,
            media_type="text/html",
            title=title,
            created_at=created,
            status=status,
            status_detail=detail,
            metadata={k: fields.get(k) for k in ("author", "sitename", "url") if fields.get(k)},
        )
