"""Synchronous access to the store for job child processes.

A job child is a separate process, so it opens its own connection to the same database file;
WAL mode lets it write while the daemon reads. The pragmas match the daemon's connection. A job
child's connection lets a waiting daemon write go first (`write_turn.py`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from secondme.daemon.store.write_turn import WriteTurn

BUSY_TIMEOUT_MS = 30_000
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
)


class YieldingConnection(sqlite3.Connection):
    """A connection whose transactions begin only when no daemon write waits (a job child's)."""

    write_turn: WriteTurn | None = None

    def close(self) -> None:
        if self.write_turn is not None:
            self.write_turn.close()
        super().close()


def connect(path: Path, yield_to_daemon: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(
        path,
        isolation_level=None,
        timeout=BUSY_TIMEOUT_MS / 1000,
        check_same_thread=False,
        factory=YieldingConnection,
    )
    conn.row_factory = sqlite3.Row
    for pragma in PRAGMAS:
        conn.execute(pragma)
    if yield_to_daemon:
        conn.write_turn = WriteTurn(path)
    return conn


def daemon_waits(conn: sqlite3.Connection) -> bool:
    """Whether a daemon write waits for this connection's transaction to end."""
    return isinstance(conn, YieldingConnection) and conn.write_turn is not None and conn.write_turn.daemon_waits()


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One atomic unit of work: everything inside commits together or not at all."""
    turn = conn.write_turn if isinstance(conn, YieldingConnection) else None
    with turn.childs_turn() if turn is not None else nullcontext():
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
