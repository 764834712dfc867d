"""`secondmectl status` and `secondmectl version`."""

from __future__ import annotations

import argparse

from rich.table import Table

import secondme.daemon
from secondme.daemon.cli.context import CliContext
from secondme.daemon.cli.output import console, emit
from secondme.daemon.client import DaemonUnavailable
from secondme.daemon.client.daemon import DaemonStatus
from secondme.daemon.store.db import StoreError


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    subparsers.add_parser("status", parents=[common], help="show what the daemon is doing").set_defaults(func=status)
    subparsers.add_parser("version", parents=[common], help="client and daemon versions").set_defaults(func=version)
    subparsers.add_parser("stop", parents=[common], help="stop the daemon gracefully").set_defaults(func=stop)


def _memories(response: DaemonStatus) -> str:
    """The count, and what background work has still to reach (retrieval misses what is not embedded)."""
    waiting = []
    if response.memories_awaiting_embedding:
        waiting.append(f"{response.memories_awaiting_embedding} waiting for embeddings")
    if response.documents_awaiting_insight:
        waiting.append(f"{response.documents_awaiting_insight} for insights")
    return f"{response.memory_count} ({', '.join(waiting)})" if waiting else str(response.memory_count)


def status(ctx: CliContext) -> int:
    response = ctx.client().daemon.status()
    uptime = response.uptime

    def human() -> None:
        table = Table(show_header=False, box=None)
        rows = [
            ("version", response.version),
            ("uptime", str(uptime).split(".")[0]),
            ("peer ID", response.peer_id),
            ("memories", _memories(response)),
            ("jobs", f"{response.job_count} ({response.running_job_count} running)"),
            ("model", response.active_model or "none active"),
            ("data dir", response.data_dir),
            ("socket", response.socket_path),
            ("pid", str(response.pid)),
        ]
        rows += [("address", address) for address in response.addresses]
        for key, value in rows:
            table.add_row(f"[bold]{key}[/]", value)
        console.print(table, highlight=False)

    emit(ctx.json, response, human)
    return 0


def version(ctx: CliContext) -> int:
    daemon_version, problem = "", ""
    try:
        daemon_version = ctx.client().daemon.status(timeout=5).version
    except DaemonUnavailable:
        daemon_version = ""
    except StoreError as exc:  # the daemon is down because of its database: the client's version still
        problem = exc.message

    client = secondme.daemon.__version__

    def human() -> None:
        console.print(f"secondmectl {client}", highlight=False)
        down = f"(not running: {problem})" if problem else "(not running)"
        console.print(f"secondmed   {daemon_version or down}", highlight=False, markup=False, soft_wrap=True)

    emit(ctx.json, {"client": client, "daemon": daemon_version or None, "problem": problem or None}, human)
    return 0


def stop(ctx: CliContext) -> int:
    ctx.client().daemon.shutdown()
    emit(ctx.json, {"stopping": True}, lambda: console.print("secondmed is stopping"))
    return 0
