"""Images: OCR text (whiteboards, receipts, screenshots) and EXIF date and place.

An image with no text in it is not a memory (the ingest skips it, saying so): a memory is what
the self can read and cite. Its pixel count is checked before anything is decoded.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from secondme.pipeline.errors import IngestError
from secondme.pipeline.parsers.base import ParsedDocument, ParseProgress, ParserSettings, ParseStatus, SourceType
from secondme.pipeline.parsers.ocr import ocr_image, tesseract_available
from secondme.pipeline.parsers.text import date_from_name

_EXIF_DATETIME_ORIGINAL = 36867
_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825


def _degrees(value: Any, ref: str) -> float:
    d, m, s = (float(x) for x in value)
    sign = -1 if ref in ("S", "W") else 1
    return round(sign * (d + m / 60 + s / 3600), 6)


def _exif(image: Any) -> tuple[datetime | None, dict[str, Any]]:
    exif = image.getexif()
    taken = None
    raw = exif.get_ifd(_EXIF_IFD).get(_EXIF_DATETIME_ORIGINAL) or exif.get(306)
    if raw:
        try:
            taken = datetime.strptime(str(raw), "%Y:%m:%d %H:%M:%S").replace(tzinfo=UTC)
        except ValueError:
            taken = None
    meta: dict[str, Any] = {}
    gps = exif.get_ifd(_GPS_IFD)
    if gps and 2 in gps and 4 in gps:
        try:
            meta["latitude"] = _degrees(gps[2], gps.get(1, "N"))
            meta["longitude"] = _degrees(gps[4], gps.get(3, "E"))
        except (TypeError, ValueError, ZeroDivisionError):
            pass
    return taken, meta


class ImageParser:
    source_type = SourceType.IMAGE

    def __init__(self, settings: ParserSettings | None = None) -> None:
        self.settings = settings or ParserSettings()

    def parse(self, data: bytes, path: Path | None, progress: ParseProgress | None = None) -> ParsedDocument:
        from PIL import Image, UnidentifiedImageError

        limit = self.settings.max_image_pixels
        Image.MAX_IMAGE_PIXELS = None  # opening reads the header only; the size is checked below, in words
        try:
            with Image.open(io.BytesIO(data)) as image:
                width, height, fmt = image.width, image.height, (image.format or "").lower()
                if width * height > limit:
                    raise IngestError(
                        f"the image is {width:,} x {height:,} pixels, more than the {limit:,} pixels allowed "
                        "(ingest.max_image_pixels); it was not decoded"
                    )
                image.load()  # a truncated file fails here, not later
                taken, meta = _exif(image)
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
            raise IngestError(f"unreadable or truncated image ({exc})") from exc
        text = ocr_image(data)
        meta.update({"width": width, "height": height, "format": fmt})
        if text:
            status, detail = ParseStatus.OK, ""
        elif tesseract_available():
            status, detail = ParseStatus.EMPTY, "no text in the image (OCR found none)"
        else:
            status, detail = ParseStatus.EMPTY, "tesseract is not installed, so the image's text was not read"
        first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
        return ParsedDocument(
            text=text,
            source_type=self.source_type,
            media_type=f"image/{fmt or 'unknown'}",
            title=first_line[:120] or None,
            created_at=taken or date_from_name(path),
            status=status,
            status_detail=detail,
            metadata=meta,
        )
