"""What a job function sees inside its child process."""

from __future__ import annotations

import sqlite3
import time
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

    def connect(self) -> sqlite3.Connection:
        """A connection to the daemon's database, for this child's atomic writes."""
        return sync.connect(self.db_path)
