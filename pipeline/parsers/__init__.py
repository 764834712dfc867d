"""L0 parsers, one module per input type, chosen by content sniffing.

Parsers are imported lazily: the PDF, OCR and speech libraries are heavy, and a folder of
notes should not pay for them.
"""

from __future__ import annotations

import importlib
from functools import cache

from secondme.pipeline.errors import UnsupportedContent
from secondme.pipeline.parsers.base import (
    ParsedDocument,
    ParseProgress,
    Parser,
    ParserSettings,
    ParseStatus,
    Segment,
    SourceType,
)
from secondme.pipeline.parsers.sniff import sniff

# SourceType -> "module:ClassName"; a parser class takes its ParserSettings as its only argument.
PARSERS: dict[SourceType, str] = {
    SourceType.TEXT: "secondme.pipeline.parsers.text:TextParser",
    SourceType.MARKDOWN: "secondme.pipeline.parsers.text:MarkdownParser",
    SourceType.PDF: "secondme.pipeline.parsers.pdf:PdfParser",
    SourceType.HTML: "secondme.pipeline.parsers.html:HtmlParser",
    SourceType.IMAGE: "secondme.pipeline.parsers.image:ImageParser",
    SourceType.AUDIO: "secondme.pipeline.parsers.audio:AudioParser",
}


@cache
def parser_for(source_type: SourceType, settings: ParserSettings = ParserSettings()) -> Parser:  # noqa: B008
    target = PARSERS.get(source_type)
    if target is None:
        raise UnsupportedContent(f"{source_type.value} files are recognised but not supported yet")
    module_name, _, class_name = target.partition(":")
    return getattr(importlib.import_module(module_name), class_name)(settings)


__all__ = [
    "PARSERS",
    "ParseProgress",
    "ParseStatus",
    "ParsedDocument",
    "Parser",
    "ParserSettings",
    "Segment",
    "SourceType",
    "parser_for",
    "sniff",
]
