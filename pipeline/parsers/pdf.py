"""PDF: text per page with pypdf; pages without text (scans) are read by OCR of their images."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from secondme.pipeline.errors import IngestError
from secondme.pipeline.parsers.base import ParsedDocument, ParseProgress, ParseStatus, Segment, SourceType
from secondme.pipeline.parsers.ocr import ocr_image
from secondme.pipeline.parsers.text import date_from_name


def _pdf_date(value: object) -> datetime | None:
    text = str(value or "")
    if not text.startswith("D:") or len(text) < 10:
        return None
    try:
        return datetime.strptime(text[2:16].ljust(14, "0"), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None


_PLACEHOLDER_TITLES = {"(anonymous)", "untitled", "anonymous", "microsoft word - document1"}


def body_lines(segments: list[Segment]) -> list[str]:
    return segments[0].text.splitlines()[:3] if segments else []


class PdfParser:
    source_type = SourceType.PDF

    def parse(self, data: bytes, path: Path | None, progress: ParseProgress | None = None) -> ParsedDocument:
        from pypdf import PdfReader
        from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError, WrongPasswordError

        try:
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise IngestError("the PDF is encrypted with a password; save an unlocked copy to ingest it")
            pages = list(reader.pages)
        except (FileNotDecryptedError, WrongPasswordError) as exc:
            raise IngestError("the PDF is encrypted with a password; save an unlocked copy to ingest it") from exc
        except DependencyError as exc:
            raise IngestError(f"the PDF uses encryption this install cannot read ({exc})") from exc
        except (PdfReadError, ValueError, KeyError, TypeError) as exc:
            raise IngestError(f"corrupt or unreadable PDF ({type(exc).__name__}: {exc})") from exc
        if not pages:
            raise IngestError("the PDF has no pages")
        segments: list[Segment] = []
        unread: list[int] = []
        for number, page in enumerate(pages, start=1):
            try:
                text = (page.extract_text() or "").strip()
            except Exception:  # one broken page must not lose the others
                text = ""
            if not text:
                text = self._ocr_page(page)
            if text:
                segments.append(Segment(text, start=number, end=number))
            else:
                unread.append(number)
        meta = reader.metadata or {}
        title = str(meta.get("/Title") or "").strip()
        if title.lower() in _PLACEHOLDER_TITLES:
            title = ""
        title = title or next((line.strip() for line in body_lines(segments) if line.strip()), None)
        body = "\n\n".join(s.text for s in segments)
        status = ParseStatus.OK if not unread else ParseStatus.PARTIAL if segments else ParseStatus.EMPTY
        detail = f"no text on page(s) {', '.join(map(str, unread[:20]))}" if unread else ""
        return ParsedDocument(
            text=body,
            source_type=self.source_type,
            media_type="application/pdf",
            title=title,
            # The owner's own dating (file name) beats the PDF's generation timestamp.
            created_at=date_from_name(path) or _pdf_date(meta.get("/CreationDate")),
            status=status,
            status_detail=detail,
            metadata={"pages": len(pages), "author": str(meta.get("/Author") or "") or None},
            segments=tuple(segments),
        )

    @staticmethod
    def _ocr_page(page: object) -> str:
        texts = []
        try:
            images = list(page.images)  # type: ignore[attr-defined]
        except Exception:
            return ""
        for image in images:
            try:
                texts.append(ocr_image(image.data))
            except IngestError:
                continue
        return "\n".join(t for t in texts if t).strip()
