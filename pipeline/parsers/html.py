"""Saved web pages: the article's text, title, author and date, without menus and footers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from secondme.pipeline.errors import IngestError
from secondme.pipeline.parsers.base import ParsedDocument, ParseProgress, ParseStatus, SourceType
from secondme.pipeline.parsers.text import decode_text

# Real articles are far smaller; a bigger page is generated markup (or an attack on the parser).
MAX_HTML_BYTES = 10 * 1024 * 1024


class HtmlParser:
    source_type = SourceType.HTML

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
        except (ValueError, RecursionError, MemoryError) as exc:
            raise IngestError(f"the page could not be parsed ({type(exc).__name__})") from exc
        if doc is None:
            return ParsedDocument(
                "", self.source_type, "text/html", status=ParseStatus.EMPTY, status_detail="no article text found"
            )
        fields = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
        created = None
        if fields.get("date"):
            try:
                created = datetime.fromisoformat(str(fields["date"])).replace(tzinfo=UTC)
            except ValueError:
                created = None
        text = (fields.get("text") or "").strip()
        return ParsedDocument(
            text=text,
            source_type=self.source_type,
            media_type="text/html",
            title=fields.get("title") or None,
            created_at=created,
            status=ParseStatus.OK if text else ParseStatus.EMPTY,
            status_detail="" if text else "no article text found",
            metadata={k: fields.get(k) for k in ("author", "sitename", "url") if fields.get(k)},
        )
