"""Ingestion: walk the owner's files (or fetch the URLs they name), parse, chunk, and hand each document to a sink."""

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
