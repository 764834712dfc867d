"""What a job function sees inside its child process."""

from __future__ import annotations

import contextlib
import fcntl
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from secondme.daemon.store import sync

# A job reports progress as often as it likes; at most this many events per second reach the
# daemon (and its database), plus every stage change and every stage's last step.
MAX_EVENTS_PER_SECOND = 5


@dataclass
class JobContext:
    job_id: str
    data_dir: Path
    db_path: Path
    config: dict[str, Any]
    _events: Connection
    _last_sent: float = 0.0
    _last_stage: str = field(default="")

    def progress(self, stage: str, done: int, total: int, message: str = "") -> None:
        now = time.monotonic()
        final = total > 0 and done >= total
        if stage == self._last_stage and not final and now - self._last_sent < 1 / MAX_EVENTS_PER_SECOND:
            return
        self._last_sent, self._last_stage = now, stage
        self._events.send(("progress", stage, int(done), int(total), message[:500]))

    @contextlib.contextmanager
    def exclusive(self, lock_name: str, waiting: str) -> Iterator[None]:
        """Hold `<data dir>/<lock_name>` for the block: one job of its kind at a time, across the
        daemon's restarts too. A job that has to wait reports `waiting` as its progress."""
        with (self.data_dir / lock_name).open("a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.progress("wait", 0, 1, waiting)
                fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def connect(self) -> sqlite3.Connection:
        """A connection to the daemon's database, for this child's atomic writes."""
        return sync.connect(self.db_path, yield_to_daemon=True)
