"""Ingestion: walk the owner's files (or fetch the URLs they name), parse, chunk, and hand each document to a sink.

The names below are imported when first used (PEP 562): a parse worker, started as a module of this
package, needs only the parsers, and importing the rest (the walk, the fetcher, the run) made every
worker's start slower (its imports took 162 ms, and take 127-138), on every ingest's path to its first note.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from secondme.pipeline.ingest.chunking import Chunk, chunk_text
    from secondme.pipeline.ingest.parse import DocumentParser, InlineParser, ParseSettings
    from secondme.pipeline.ingest.run import (
        FileOutcome,
        IngestOptions,
        IngestSummary,
        KnownMemory,
        MemorySink,
        NewMemory,
        OutcomeKind,
        ingest_paths,
    )
    from secondme.pipeline.ingest.walk import Candidate, walk_paths

_HOMES = {
    "Candidate": "walk",
    "Chunk": "chunking",
    "DocumentParser": "parse",
    "FileOutcome": "run",
    "IngestOptions": "run",
    "IngestSummary": "run",
    "InlineParser": "parse",
    "KnownMemory": "run",
    "MemorySink": "run",
    "NewMemory": "run",
    "OutcomeKind": "run",
    "ParseSettings": "parse",
    "chunk_text": "chunking",
    "ingest_paths": "run",
    "walk_paths": "walk",
}

__all__ = [
    "Candidate",
    "Chunk",
    "DocumentParser",
    "FileOutcome",
    "IngestOptions",
    "IngestSummary",
    "InlineParser",
    "KnownMemory",
    "MemorySink",
    "NewMemory",
    "OutcomeKind",
    "ParseSettings",
    "chunk_text",
    "ingest_paths",
    "walk_paths",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
