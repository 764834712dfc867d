"""Load for bench_daemon's control: the ingest a job runs (parse workers, batched writes, full-text
index), run outside any daemon in a process niced as a job is, into a fresh store in FOLDER/store."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from secondme.daemon.jobs.child import JOB_NICENESS
from secondme.daemon.store import Store
from secondme.daemon.store.memory_sink import SqliteMemorySink
from secondme.daemon.store.originals import Originals
from secondme.daemon.store.sync import connect
from secondme.pipeline.ingest import IngestOptions, ingest_paths
from secondme.pipeline.ingest.isolation import IsolatedParser, ParseBudget


def main(notes: Path, data: Path) -> None:
    os.nice(JOB_NICENESS)
    db = data / "secondme.db"

    async def create() -> None:
        await (await Store.open(db)).close()

    asyncio.run(create())
    conn = connect(db, yield_to_daemon=True)
    sink = SqliteMemorySink(conn, Originals(data / "originals"), "load", connect=lambda: connect(db, True))
    options = IngestOptions()
    with IsolatedParser(options.parse_settings(), ParseBudget()) as parser:
        summary = ingest_paths([notes], options, sink, parser=parser)
    conn.close()
    assert summary.counts["ingested"] > 0, summary.counts


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
