"""Saved web pages: the article's text, title, author and date, without menus and footers.

When no article is found (a page of links), the page's whole visible text is kept instead and
the memory says so, rather than an empty one. Markup nested deeper than any extractor reads
(lxml stops at 256 levels: 100,000 nested divs lost their one sentence) goes straight to its text.
"""

from __future__ import annotations

import html
import html.parser
import itertools
import re
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


# Elements that never have a closing tag, left out of the nesting count.
_OPENING = re.compile(
    r"<(/?)(?!(?:area|base|br|col|embed|hr|img|input|link|meta|param|source|track|wbr)\b)[A-Za-z]", re.IGNORECASE
)
# Deeper than this, no article extractor can read the page (lxml stops at 256 levels): skip to the text.
MAX_ARTICLE_DEPTH = 1000
_TAG = re.compile(r"<[^<>]*>")  # stops at the next "<": linear even when a ">" never comes
_INVISIBLE_BLOCK = re.compile(r"<(script|style|noscript|template|head)\b", re.IGNORECASE)


def nesting_depth(markup: str) -> int:
    """How deep the elements nest (void elements aside), from the tags alone, in one pass."""
    steps = (-1 if slash else 1 for slash in _OPENING.findall(markup))
    return max(itertools.accumulate(steps, initial=0))


def _stripped_text(markup: str) -> tuple[str, str]:
    """(title, text) by removing tags, for markup too deep to parse as a tree; linear in its length."""
    kept, at = [], 0
    for block in _INVISIBLE_BLOCK.finditer(markup):
        if block.start() < at:
            continue
        kept.append(markup[at : block.start()])
        end = markup.lower().find(f"</{block[1].lower()}", block.end())
        at = len(markup) if end < 0 else end
    kept.append(markup[at:])
    visible = html.unescape(_TAG.sub("\n", "".join(kept)))
    title = re.search(r"<title[^<>]*>([^<]*)", markup, re.IGNORECASE)
    lines = (" ".join(line.split()) for line in visible.splitlines())
    return (" ".join(title[1].split()) if title else ""), "\n".join(line for line in lines if line)


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
        markup, _ = decode_text(data)
        doc = None
        deep = nesting_depth(markup) > MAX_ARTICLE_DEPTH
        if not deep:
            import trafilatura

            try:
                doc = trafilatura.bare_extraction(markup, with_metadata=True, include_comments=False, favor_recall=True)
            except (ValueError, RecursionError):
                doc = None
        fields = (doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)) if doc is not None else {}
        text = (fields.get("text") or "").strip()
        status, detail = ParseStatus.OK, ""
        title = fields.get("title") or None
        if not text:
            page_title, text = _stripped_text(markup) if deep else visible_text(markup)
            title = title or page_title or None
            if not text:
                status, detail = ParseStatus.EMPTY, "no text in the page"
            elif deep:
                detail = (
                    f"the page nests more than {MAX_ARTICLE_DEPTH:,} levels deep; kept all of its text, not an article"
                )
                status = ParseStatus.PARTIAL
            else:
                status, detail = ParseStatus.PARTIAL, "no article found in the page; kept all of its visible text"
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
