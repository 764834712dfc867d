"""The ingest job: walk, parse, chunk and store files (and fetch URLs), one atomic document at a time.

Documents are parsed in a worker process under the [ingest] memory and time budgets
(`pipeline.ingest.isolation`); the result says how much memory this job and its workers took at
their peak, and how much processor time.
"""

from __future__ import annotations

import resource
from pathlib import Path
from typing import Any

from secondme.daemon.config import section_from
from secondme.daemon.jobs.context import JobContext
from secondme.daemon.models.whisper import WHISPER_FILENAME
from secondme.daemon.paths import UPLOADS_DIRNAME
from secondme.daemon.store.memory_sink import SqliteMemorySink
from secondme.daemon.store.originals import Originals
from secondme.pipeline.ingest import IngestOptions, ingest_paths
from secondme.pipeline.ingest.isolation import IsolatedParser, ParseBudget, peak_rss
from secondme.pipeline.ingest.settings import IngestSettings


def options_for(ctx: JobContext, params: dict[str, Any]) -> IngestOptions:
    """The job's options: the [ingest] settings, with what the request chose on top."""
    settings = section_from(IngestSettings, ctx.config.get("ingest", {}))
    whisper = ctx.data_dir / "models" / WHISPER_FILENAME
    return IngestOptions(
        **{
            **vars(settings),
            "include": list(params.get("include") or settings.include),
            "exclude": list(params.get("exclude") or settings.exclude),
        },
        source_label=str(params.get("source_label", "")),
        follow_external_links=bool(params.get("follow_external_links", False)),
        whisper_checkpoint=str(whisper) if whisper.is_file() else "",
        private=_private(ctx.data_dir),
    )


def _private(data_dir: Path) -> list[str]:
    """All of the data dir but the uploads an owner streamed in (an upload is ingested from there)."""
    return [str(p) for p in data_dir.iterdir() if p.name != UPLOADS_DIRNAME] if data_dir.is_dir() else []


def run(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    options = options_for(ctx, params)
    budget = ParseBudget(options.parse_memory_mb * 2**20, options.parse_timeout_seconds)
    conn = ctx.connect()
    try:
        sink = SqliteMemorySink(conn, Originals(ctx.data_dir / "originals"), ctx.job_id, connect=ctx.connect)
        paths = [Path(p) for p in params.get("paths", [])]
        with IsolatedParser(options.parse_settings(), budget) as parser:
            if paths:  # files, and files are mostly notes
                parser.start_text_worker()
            summary = ingest_paths(paths, options, sink, ctx.progress, list(params.get("urls", [])), parser)
    finally:
        conn.close()
    if params.get("delete_after"):
        for path in params.get("paths", []):
            Path(path).unlink(missing_ok=True)
    result = summary.to_dict()
    result["peak_memory_mb"] = {"job": round(peak_rss() / 2**20), "parsers": round(parser.peak_rss_bytes / 2**20)}
    # Processor time, which does not depend on what else the machine runs (the workers were waited for).
    me, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    result["cpu_seconds"] = {
        "job": round(me.ru_utime + me.ru_stime, 2),
        "parsers": round(workers.ru_utime + workers.ru_stime, 2),
    }
    return result
