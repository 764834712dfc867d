"""How fast the node dials on its own: a cap per minute and exponential backoff.

Automatic dials (redialling the address book at start, bootstrap peers, selves found by
discovery) are paced by one `DialPacer`, so no list of peers or addresses, however long or
whoever wrote it, makes the node dial faster than `max_dials_per_minute`. The owner's own
`peers connect` is not paced: the owner chose that dial.
"""

from __future__ import annotations

from collections import deque

import trio

WINDOW_SECONDS = 60.0


class DialPacer:
    """At most `per_minute` dials in any 60 s window; callers wait their turn in order."""

    def __init__(self, per_minute: int) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self._stamps: deque[float] = deque()
        self._lock = trio.Lock()  # fair: waiters are served first come, first served

    async def wait(self) -> None:
        async with self._lock:
            now = trio.current_time()
            while self._stamps and now - self._stamps[0] >= WINDOW_SECONDS:
                self._stamps.popleft()
            if len(self._stamps) >= self.per_minute:
                await trio.sleep_until(self._stamps.popleft() + WINDOW_SECONDS)
            self._stamps.append(trio.current_time())


class Backoff:
    """Delays that double from `first` up to `cap`; `reset` after a success."""

    def __init__(self, first: float, cap: float) -> None:
        self.first = first
        self.cap = cap
        self.delay = first

    def next(self) -> float:
        delay = self.delay
        self.delay = min(self.delay * 2, self.cap)
        return delay

    def reset(self) -> None:
        self.delay = self.first
