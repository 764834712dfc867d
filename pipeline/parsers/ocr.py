"""OCR with tesseract, shared by the image parser and scanned PDF pages."""

from __future__ import annotations

import io
import shutil
import warnings

from secondme.pipeline.errors import IngestError

# Images are scaled down to this many pixels before OCR: bigger costs time and finds nothing more.
MAX_OCR_PIXELS = 12_000_000


def tesseract_available() -> bool:
    return shutil.which("tesseract") is not None


def bound_pixels(max_pixels: int) -> None:
    """Make Pillow refuse, before decoding, any image over `max_pixels` (in PDFs as well as files).

    Pillow refuses above twice its MAX_IMAGE_PIXELS and only warns above it; set to half our limit,
    it refuses at ours, and the warning below that is noise.
    """
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = max(1, max_pixels // 2)
    warnings.simplefilter("ignore", Image.DecompressionBombWarning)


def ocr_image(data: bytes) -> str:
    """The text in an image, or "" when there is none; raises IngestError for unreadable images."""
    from PIL import Image, UnidentifiedImageError

    if not tesseract_available():
        return ""
    import pytesseract

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            picture = image.convert("L")
    except Image.DecompressionBombError as exc:
        raise IngestError(f"the image has too many pixels to decode ({exc})") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise IngestError(f"unreadable image ({exc})") from exc
    if picture.width * picture.height > MAX_OCR_PIXELS:
        scale = (MAX_OCR_PIXELS / (picture.width * picture.height)) ** 0.5
        picture = picture.resize((int(picture.width * scale), int(picture.height * scale)))
    try:
        return pytesseract.image_to_string(picture, timeout=120).strip()
    except (RuntimeError, pytesseract.TesseractError) as exc:
        raise IngestError(f"OCR failed: {exc}") from exc
