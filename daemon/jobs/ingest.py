"""The ingest job: walk, parse, chunk and store files (and fetch URLs), one atomic document at a time."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from secondme.daemon.jobs.context import JobContext
from secondme.daemon.models.whisper import WHISPER_FILENAME
from secondme.daemon.store.memory_sink import SqliteMemorySink
from secondme.daemon.store.originals import Originals
from secondme.pipeline.ingest import IngestOptions, ingest_paths
from secondme.pipeline.parsers.audio import WHISPER_MODEL_ENV


def run(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    settings = ctx.config.get("ingest", {})
    options = IngestOptions(
        max_file_bytes=int(settings.get("max_file_bytes", IngestOptions.max_file_bytes)),
        chunk_tokens=int(settings.get("chunk_tokens", IngestOptions.chunk_tokens)),
        chunk_overlap=int(settings.get("chunk_overlap", IngestOptions.chunk_overlap)),
        include=list(params.get("include") or settings.get("include") or []),
        exclude=list(params.get("exclude") or settings.get("exclude") or []),
        source_label=str(params.get("source_label", "")),
    )
    whisper = ctx.data_dir / "models" / WHISPER_FILENAME
    if whisper.is_file():
        os.environ[WHISPER_MODEL_ENV] = str(whisper)
    conn = ctx.connect()
    try:
        sink = SqliteMemorySink(conn, Originals(ctx.data_dir / "originals"), ctx.job_id, connect=ctx.connect)
        paths = [Path(p) for p in params.get("paths", [])]
        summary = ingest_paths(paths, options, sink, ctx.progress, urls=list(params.get("urls", [])))
    finally:
        conn.close()
    if params.get("delete_after"):
        for path in params.get("paths", []):
            Path(path).unlink(missing_ok=True)
    return summary.to_dict()
