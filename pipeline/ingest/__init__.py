"""Ingestion: walk the owner's files (or fetch the URLs they name), parse, chunk, and hand each document to a sink."""

from secondme.pipeline.ingest.chunking import Chunk, chunk_text
from secondme.pipeline.ingest.run import (
    FileOutcome,
    IngestOptions,
    IngestSummary,
    MemorySink,
    NewMemory,
    OutcomeKind,
    ingest_file,
    ingest_paths,
    ingest_url,
)
from secondme.pipeline.ingest.walk import Candidate, walk_paths

__all__ = [
    "Candidate",
    "Chunk",
    "FileOutcome",
    "IngestOptions",
    "IngestSummary",
    "MemorySink",
    "NewMemory",
    "OutcomeKind",
    "chunk_text",
    "ingest_file",
    "ingest_paths",
    "ingest_url",
    "walk_paths",
]
