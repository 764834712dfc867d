"""The daemon's writes go before a job child's next transaction, and a long batch lets them in."""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import threading
import time

import pytest
from helpers import make_notes

from secondme.daemon.store import Store, memory_sink, write_turn
from secondme.daemon.store.memory_sink import SqliteMemorySink
from secondme.daemon.store.originals import Originals
from secondme.daemon.store.sync import connect, transaction
from secondme.pipeline.ingest import IngestOptions, ingest_paths


@pytest.fixture
def db(migrated_db):
    return migrated_db


def _count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT COUNT(*) FROM memories").fetchone()[0]


def test_a_daemon_write_waiting_for_the_lock_goes_before_a_job_child_that_came_later(db):
    # Both wait for a third program's lock; when it lets go, SQLite's busy handlers alone would let
    # whichever polls first in, and the child's (begun later, sleeping less) usually did.
    order: list[str] = []
    child_began = threading.Event()

    def child() -> None:
        conn = connect(db, yield_to_daemon=True)
        try:
            with transaction(conn):
                order.append("child")
                child_began.set()
        finally:
            conn.close()

    async def daemon() -> None:
        store = await Store.open(db)
        other = sqlite3.connect(db, isolation_level=None)  # a database browser, say
        try:
            other.execute("BEGIN IMMEDIATE")
            write = asyncio.create_task(_daemon_write(store, order))
            await asyncio.to_thread(_until_held, db, ".write-turn", fcntl.LOCK_SH, "the daemon take its turn")
            thread = threading.Thread(target=child)
            thread.start()
            assert not await asyncio.to_thread(child_began.wait, 0.5), "the child began inside another's lock"
            other.execute("ROLLBACK")
            await asyncio.wait_for(write, 30)
            await asyncio.to_thread(thread.join, 30)
        finally:
            other.close()
            await store.close()

    asyncio.run(daemon())
    assert order == ["daemon", "child"]


async def _daemon_write(store: Store, order: list[str]) -> None:
    async with store.transaction():
        order.append("daemon")


def test_a_child_stopped_mid_transaction_does_not_hold_the_daemons_writes_for_good(db, monkeypatch):
    # A child stopped (SIGSTOP, a debugger) while it holds the busy file: the daemon waits for it no
    # longer than SQLite would, then goes on to SQLite's own wait (here the lock is free).
    monkeypatch.setattr(write_turn, "GIVE_UP_SECONDS", 0.2)
    stopped_child = os.open(db.with_name(db.name + ".write-busy"), os.O_RDWR | os.O_CREAT)
    fcntl.flock(stopped_child, fcntl.LOCK_SH)

    async def daemon() -> None:
        store = await Store.open(db)
        try:  # without a bound it waits for good: wait_for raises TimeoutError
            await asyncio.wait_for(store.execute("UPDATE memories SET title = title"), 30)
        finally:
            await store.close()

    try:
        asyncio.run(daemon())
    finally:
        os.close(stopped_child)


def _begin_without_waiting(db) -> str:
    plain = connect(db)
    try:
        plain.execute("PRAGMA busy_timeout=0")
        with transaction(plain):
            return ""
    except sqlite3.OperationalError as exc:
        return str(exc)
    finally:
        plain.close()


def test_a_connection_that_does_not_yield_is_not_held_back(db):
    # The daemon's own synchronous connections (the grant ledger) must never wait on the daemon's turn.
    async def daemon() -> None:
        store = await Store.open(db)
        try:
            async with store.transaction():
                # it goes straight to SQLite, which says at once that the daemon holds the lock
                error = await asyncio.wait_for(asyncio.to_thread(_begin_without_waiting, db), 30)
                assert "locked" in error
        finally:
            await store.close()

    asyncio.run(daemon())


def _until_held(db, suffix: str, mode: int, what: str) -> None:
    """Until a flock on `<db><suffix>` is held by another (one of `mode` cannot be taken)."""
    fd = os.open(db.with_name(db.name + suffix), os.O_RDWR | os.O_CREAT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                fcntl.flock(fd, fcntl.LOCK_UN)
            except BlockingIOError:
                return
            assert time.monotonic() < deadline, f"never saw {what}"
            time.sleep(0.001)
    finally:
        os.close(fd)


def test_a_long_batch_commits_what_it_has_when_the_daemon_waits(db, tmp_path, monkeypatch):
    # A batch of 500 notes takes ~0.2 s to write: a daemon write waiting for it all (an owner's edit, a
    # chat message) waited 0.33 s at the median and 1.25 s at worst during an ingest.
    monkeypatch.setattr(memory_sink, "BATCH_DOCUMENTS", 3000)  # one long batch
    monkeypatch.setattr(memory_sink, "BATCH_SECONDS", 3600.0)
    make_notes(tmp_path / "notes", 3000, words=300)
    conn = connect(db, yield_to_daemon=True)
    sink = SqliteMemorySink(
        conn, Originals(tmp_path / "originals"), "job", connect=lambda: connect(db, yield_to_daemon=True)
    )
    outcome: list[object] = []
    ingesting = threading.Thread(
        target=lambda: outcome.append(ingest_paths([tmp_path / "notes"], IngestOptions(), sink).counts)
    )

    async def daemon_write() -> int:
        store = await Store.open(db)  # before the batch: opening takes SQLite's lock once, without a turn
        try:
            ingesting.start()
            await asyncio.to_thread(_until_held, db, ".write-busy", fcntl.LOCK_EX, "the batch's transaction")
            async with store.transaction() as write:
                cursor = await write.execute("SELECT COUNT(*) FROM memories")
                return (await cursor.fetchone())[0]
        finally:
            await store.close()

    stored_when_the_daemon_wrote = asyncio.run(daemon_write())
    ingesting.join(120)
    conn.close()
    assert 0 < stored_when_the_daemon_wrote < 3000, "the daemon should have written mid-batch"
    assert outcome and outcome[0]["ingested"] == 3000
    check = sqlite3.connect(db)
    try:  # every document whole, once: its row, its chunks, its event
        assert _count(check) == 3000
        assert check.execute("SELECT COUNT(DISTINCT memory_id) FROM chunks").fetchone()[0] == 3000
        assert check.execute("SELECT COUNT(*) FROM memory_events").fetchone()[0] == 3000
    finally:
        check.close()
