"""The daemon's writes go before a job's next transaction.

SQLite's busy handler polls, sleeping up to 100 ms between tries, so a daemon write (an owner's
edit, a chat message, a new job) waiting behind an ingest that commits batch after batch lost most
races for the write lock: 0.33 s at the median and 1.25 s at worst during a 12,000-note ingest.
Two flock files beside the database give the daemon the next turn instead:
- `<db>.write-turn`: the daemon holds it exclusively from before its BEGIN until its transaction
  ends; a job child takes and drops it shared before each transaction it begins, so it waits
  while a daemon write waits or runs;
- `<db>.write-busy`: a job child holds it shared for the whole of each transaction; the daemon,
  holding its turn, takes and drops it exclusively, so it begins the moment the child's
  transaction in flight ends rather than at its busy handler's next try. A child writing a long
  batch looks at the turn between documents and commits early when the daemon waits.

The files are a courtesy on top of SQLite's locking, never the lock itself: a program that does
not take them (a database browser, a child's single statement) is still kept out by SQLite, only
not made to wait. Neither side waits for a file while holding what the other waits for: a child
waits for the turn before it holds anything, and its transaction needs nothing the daemon holds.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

# How often the daemon tries again: a child holds the turn only between two system calls, and a
# transaction in flight ends within a batch (a fraction of a second).
RETRY_SECONDS = 0.001
# A child that holds a file longer (stopped, or hung mid-transaction) is not waited for beyond this:
# the daemon goes on to SQLite's own wait, which ends with "database is locked" as it always did.
GIVE_UP_SECONDS = 30.0


class WriteTurn:
    """One open file description of each file (flock locks belong to it, not to the process)."""

    def __init__(self, db_path: Path) -> None:
        self._turn = _open(db_path.with_name(db_path.name + ".write-turn"))
        self._busy = _open(db_path.with_name(db_path.name + ".write-busy"))

    @asynccontextmanager
    async def daemons_turn(self) -> AsyncIterator[None]:
        """The daemon, around a transaction: children begin none until it ends."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + GIVE_UP_SECONDS
        has_turn = await _take(self._turn, give_up)
        try:
            if await _take(self._busy, give_up):  # once the child's transaction in flight has ended
                fcntl.flock(self._busy, fcntl.LOCK_UN)
            yield
        finally:
            if has_turn:
                fcntl.flock(self._turn, fcntl.LOCK_UN)

    @contextmanager
    def childs_turn(self) -> Iterator[None]:
        """A job child, around a transaction: begun once no daemon write waits or runs."""
        fcntl.flock(self._turn, fcntl.LOCK_SH)
        fcntl.flock(self._busy, fcntl.LOCK_SH)
        fcntl.flock(self._turn, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(self._busy, fcntl.LOCK_UN)

    def daemon_waits(self) -> bool:
        """Whether a daemon write waits for the child's transaction in flight (a child writing a long
        batch commits what it has and lets it go first)."""
        try:
            fcntl.flock(self._turn, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(self._turn, fcntl.LOCK_UN)
        return False

    def close(self) -> None:
        for fd in (self._turn, self._busy):
            if fd >= 0:
                os.close(fd)
        self._turn = self._busy = -1


def _open(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)


async def _take(fd: int, give_up: float) -> bool:
    """An exclusive flock, tried without blocking the event loop (and so never left half-taken by a
    cancelled wait) until the loop's clock reaches `give_up`. Returns whether it was taken."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if loop.time() >= give_up:
                return False
            await asyncio.sleep(RETRY_SECONDS)
