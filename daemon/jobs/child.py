"""The entry point of a job's child process.

The child must never outlive the daemon: a watchdog thread blocks on a pipe whose only
writer is the daemon, and exits the process when that pipe closes (the daemon exited or was
killed with -9). Whatever unit of work was in flight is rolled back by SQLite.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import threading
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from secondme.daemon.jobs.context import JobContext
from secondme.daemon.jobs.kinds import JOB_KINDS
from secondme.daemon.logs import configure_logging

EXIT_PARENT_GONE = 75
JOB_NICENESS = 10


def _watch_parent(alive: Connection) -> None:
    with contextlib.suppress(EOFError, OSError):
        alive.recv()
    os._exit(EXIT_PARENT_GONE)


def _configure_logging(daemon: dict[str, Any]) -> None:
    """The child logs to the daemon's stderr as the daemon does (libraries kept at debug level), its
    warnings and errors only unless the daemon's log level is debug."""
    level = str(daemon.get("log_level", "info")).lower()
    configure_logging(level if level in ("debug", "error") else "warning", daemon.get("log_format", "plain"))


def child_main(
    job_id: str,
    kind: str,
    params: dict[str, Any],
    data_dir: str,
    db_path: str,
    config: dict[str, Any],
    events: Connection,
    alive: Connection,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the daemon's terminal is the daemon's to handle
    os.nice(JOB_NICENESS)  # background work yields the CPU to the owner's API calls and chat
    threading.Thread(target=_watch_parent, args=(alive,), daemon=True, name="parent-watchdog").start()
    _configure_logging(config.get("daemon", {}))
    ctx = JobContext(job_id, Path(data_dir), Path(db_path), config, events)
    try:
        module_name, _, func_name = JOB_KINDS[kind].partition(":")
        run = getattr(importlib.import_module(module_name), func_name)
        result = run(ctx, params)
    except Exception as exc:
        message = str(exc) or type(exc).__name__
        events.send(("error", message, traceback.format_exc(limit=20)))
        events.close()
        os._exit(1)
    events.send(("result", result if isinstance(result, dict) else {"value": result}))
    events.close()
