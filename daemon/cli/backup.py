"""`secondmectl backup [FOLDER]`: a consistent copy of the data dir, while secondmed runs or not."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from secondme.daemon.cli.context import CliContext
from secondme.daemon.cli.output import console, emit, human_bytes
from secondme.daemon.store.backup import backup_data_dir


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "backup", parents=[common], help="copy the data dir (database, originals, models, key) consistently"
    )
    parser.add_argument(
        "folder", nargs="?", help="a new folder for the copy (default: beside the data dir, named with the time)"
    )
    parser.set_defaults(func=run)


def run(ctx: CliContext) -> int:
    data_dir = ctx.paths.data_dir
    if ctx.args.folder:
        destination = Path(ctx.args.folder).expanduser().resolve()
    else:
        destination = data_dir.with_name(f"{data_dir.name}-backup-{datetime.now():%Y%m%d-%H%M%S}")
    report = backup_data_dir(data_dir, destination)
    data = {
        "backup": str(report.destination),
        "memories": report.memories,
        "files": report.files,
        "bytes": report.bytes,
        "missing_originals": report.missing,
    }

    def human() -> None:
        console.print(
            f"backed up {report.memories} memories to {report.destination} "
            f"({report.files} files, {human_bytes(report.bytes)})",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        if report.missing:
            console.print(f"  {len(report.missing)} originals were deleted while it ran", highlight=False)
        console.print(
            f"to restore: stop secondmed, move {data_dir} aside and put this folder in its place",
            style="dim",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )

    emit(ctx.json, data, human)
    return 0
