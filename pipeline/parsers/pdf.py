"""PDF: text per page with pypdf; pages without text (scans) are read by OCR of their images.

Decompression is bounded by pypdf (a stream that inflates past 75 MB raises `LimitReachedError`,
which is said as such, not taken for a page without text) and page images by the pixel limit of
`ParserSettings`. Long PDFs report progress page by page, which keeps the parse worker's time
budget per page.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from secondme.pipeline.errors import IngestError
from secondme.pipeline.parsers.base import (
    ParsedDocument,
    ParseProgress,
    ParserSettings,
    ParseStatus,
    Segment,
    SourceType,
)
from secondme.pipeline.parsers.ocr import bound_pixels, ocr_image, tesseract_available
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


# Progress is reported page by page for PDFs longer than this (shorter ones are quick).
PROGRESS_PAGES = 20


def _page_list(numbers: list[int]) -> str:
    shown = ", ".join(map(str, numbers[:20]))
    return shown + (f" and {len(numbers) - 20:,} more" if len(numbers) > 20 else "")


class PdfParser:
    source_type = SourceType.PDF

    def __init__(self, settings: ParserSettings | None = None) -> None:
        self.settings = settings or ParserSettings()

    def parse(self, data: bytes, path: Path | None, progress: ParseProgress | None = None) -> ParsedDocument:
        from pypdf import PdfReader
        from pypdf.errors import (
            DependencyError,
            FileNotDecryptedError,
            LimitReachedError,
            PdfReadError,
            WrongPasswordError,
        )

        bound_pixels(self.settings.max_image_pixels)

        try:
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise IngestError("the PDF is encrypted with a password; save an unlocked copy to ingest it")
            pages = list(reader.pages)
        except (FileNotDecryptedError, WrongPasswordError) as exc:
            raise IngestError("the PDF is encrypted with a password; save an unlocked copy to ingest it") from exc
        except DependencyError as exc:
            raise IngestError(f"the PDF uses encryption this install cannot read ({exc})") from exc
        except LimitReachedError as exc:
            raise IngestError(f"the PDF's structure is past pypdf's limits, a decompression bomb? ({exc})") from exc
        except (PdfReadError, ValueError, KeyError, TypeError) as exc:
            raise IngestError(f"corrupt or unreadable PDF ({type(exc).__name__}: {exc})") from exc
        if not pages:
            raise IngestError("the PDF has no pages")
        segments: list[Segment] = []
        unread: list[int] = []
        bombs: list[int] = []
        for number, page in enumerate(pages, start=1):
            if progress and len(pages) > PROGRESS_PAGES:
                progress("read", number - 1, len(pages), f"page {number:,} of {len(pages):,}")
            try:
                text = (page.extract_text() or "").strip()
                # pypdf's text extraction swallows its own limit errors; an empty page is asked again
                if not text:
                    contents = page.get_contents()
                    if contents is not None:
                        contents.get_data()
                    text = self._ocr_page(page)
            except LimitReachedError:
                bombs.append(number)
                continue
            except MemoryError:
                raise  # the file's memory budget is spent: the parse worker says so
            except Exception:  # one broken page must not lose the others
                text = ""
            if text:
                segments.append(Segment(text, start=number, end=number))
            else:
                unread.append(number)
        if bombs and not segments:
            raise IngestError(
                f"a stream on page {_page_list(bombs)} inflates past pypdf's decompression limit (a decompression "
                "bomb), and nothing else in the PDF has text"
            )
        meta = reader.metadata or {}
        title = str(meta.get("/Title") or "").strip()
        if title.lower() in _PLACEHOLDER_TITLES:
            title = ""
        title = title or next((line.strip() for line in body_lines(segments) if line.strip()), None)
        body = "\n\n".join(s.text for s in segments)
        if not segments:
            status = ParseStatus.EMPTY
            ocr = "OCR found none" if tesseract_available() else "install tesseract to read scanned pages"
            detail = f"no text on {len(pages):,} page{'s' if len(pages) > 1 else ''} ({ocr})"
        elif unread or bombs:
            status = ParseStatus.PARTIAL
            parts = [f"no text on page {_page_list(unread)}"] if unread else []
            if bombs:
                parts.append(f"page {_page_list(bombs)} inflates past pypdf's decompression limit and was not read")
            detail = "; ".join(parts)
        else:
            status, detail = ParseStatus.OK, ""
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
        """The text of a page's images (a scan); "" when it has none, or they cannot be decoded.

        Raises pypdf's LimitReachedError for an image stream that inflates past its limit.
        """
        from pypdf.errors import LimitReachedError

        texts = []
        try:
            images = list(page.images)  # type: ignore[attr-defined]
        except (LimitReachedError, MemoryError):
            raise
        except Exception:
            return ""
        for image in images:
            try:
                texts.append(ocr_image(image.data))
            except IngestError:
                continue
        return "\n".join(t for t in texts if t).strip()
