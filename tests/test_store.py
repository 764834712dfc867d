"""The store: migrations applied once, a newer schema refused, transactions atomic."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from secondme.daemon.store import SchemaTooNew, Store, StoreError
from secondme.daemon.store.identity import IdentityRepository, TextEdit
from secondme.daemon.store.migrations import latest_version
from secondme.daemon.store.timeutil import now_db
from secondme.errors import InvalidArgument


async def test_migrations_apply_once_and_are_recorded(tmp_path):
    store = await Store.open(tmp_path / "s.db")
    assert await store.schema_version() == latest_version()
    await store.close()
    store = await Store.open(tmp_path / "s.db")  # reopening applies nothing twice
    rows = await store.fetchall("SELECT version FROM schema_version ORDER BY version")
    assert [r["version"] for r in rows] == list(range(1, latest_version() + 1))
    assert (await store.fetchone("PRAGMA journal_mode"))[0] == "wal"
    await store.close()


async def test_a_database_from_a_newer_secondme_is_refused(tmp_path):
    store = await Store.open(tmp_path / "s.db")
    await store.execute("INSERT INTO schema_version VALUES (?, 'future', 'x')", (latest_version() + 1,))
    await store.close()
    with pytest.raises(SchemaTooNew, match="upgrade secondme"):
        await Store.open(tmp_path / "s.db")


async def test_a_file_that_is_not_a_database_is_refused_clearly(tmp_path):
    path = tmp_path / "s.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=r"is not an SQLite database.*secondmectl init"):
        await Store.open(path)


async def test_a_failed_transaction_leaves_nothing(tmp_path):
    store = await Store.open(tmp_path / "s.db")
    with pytest.raises(sqlite3.IntegrityError):
        async with store.transaction() as conn:
            await conn.execute("INSERT INTO originals(hash, size_bytes, stored_at) VALUES ('a', 1, 'now')")
            await conn.execute("INSERT INTO originals(hash, size_bytes, stored_at) VALUES ('a', 1, 'now')")
    assert (await store.fetchone("SELECT COUNT(*) AS n FROM originals"))["n"] == 0
    await store.close()


async def test_an_owners_shade_change_is_written_whole_or_not_at_all(tmp_path):
    store = await Store.open(tmp_path / "s.db")
    try:
        await store.execute("INSERT INTO shades(created_at, updated_at) VALUES (?, ?)", (now_db(), now_db()))
        shade_id = (await store.fetchone("SELECT MAX(id) AS id FROM shades"))["id"]
        identity = IdentityRepository(store)
        before = await store.fetchone("SELECT privacy, revision FROM shades WHERE id = ?", (shade_id,))
        # The privacy mark is fine, the text is not (no name): neither is kept, and no event is recorded.
        with pytest.raises(InvalidArgument, match="name is required"):
            await identity.update_shade(shade_id, privacy="private", edit=TextEdit({"description_third": "x"}))
        after = await store.fetchone("SELECT privacy, revision FROM shades WHERE id = ?", (shade_id,))
        assert tuple(after) == tuple(before)
        assert (await store.fetchone("SELECT COUNT(*) AS n FROM identity_events"))["n"] == 0
        assert await identity.update_shade(shade_id, privacy="private", edit=TextEdit({"name": "Sailing"}))
        assert (await identity.shade(shade_id)).privacy == "private"
        actions = [r["action"] for r in await store.fetchall("SELECT action FROM identity_events ORDER BY id")]
        assert actions == ["privacy", "edited"]
    finally:
        await store.close()


async def test_jobs_the_daemons_end_interrupted_are_queued_again_a_few_times_unless_cancelled_or_retried(tmp_path):
    from secondme.daemon.store.jobs import JobRepository, JobState

    store = await Store.open(tmp_path / "s.db")
    jobs = JobRepository(store)
    made = {}
    for name, kind, state in [
        ("ingest", "ingest", JobState.RUNNING),
        ("embed", "embed", JobState.INTERRUPTED),  # a graceful stop
        ("cancelled", "ingest", JobState.CANCELLED),
        ("queued", "identity", JobState.QUEUED),
        ("other", "export", JobState.RUNNING),  # a kind that does not resume
        ("retried", "ingest", JobState.INTERRUPTED),
    ]:
        made[name] = (await jobs.create(kind, {})).id
        await store.execute("UPDATE jobs SET state = ? WHERE id = ?", (state, made[name]))
    await jobs.create("ingest", {}, retry_of=made["retried"])  # the owner already ran it again
    resumed, interrupted = await jobs.recover({"ingest", "embed", "identity"}, max_resumes=2)
    assert sorted(resumed) == sorted([made["ingest"], made["embed"]])
    assert interrupted == [made["other"]]
    states = {name: (await jobs.get(job_id)).state for name, job_id in made.items()}
    assert states == {
        "ingest": JobState.QUEUED,
        "embed": JobState.QUEUED,
        "cancelled": JobState.CANCELLED,
        "queued": JobState.QUEUED,
        "other": JobState.INTERRUPTED,
        "retried": JobState.INTERRUPTED,
    }
    assert [e.stage for e in await jobs.events(made["ingest"])] == ["resume"]
    for _ in range(2):  # a job that keeps taking the daemon down is resumed twice, then left interrupted
        await store.execute("UPDATE jobs SET state = 'running' WHERE id = ?", (made["ingest"],))
        resumed, interrupted = await jobs.recover({"ingest"}, max_resumes=2)
    assert resumed == [] and interrupted == [made["ingest"]]
    left = await jobs.get(made["ingest"])
    assert left.state == JobState.INTERRUPTED and "3 times" in left.error and "jobs retry" in left.error
    await store.close()


async def test_a_write_cancelled_while_it_waits_for_the_lock_leaves_no_transaction_open(tmp_path):
    # A write whose caller goes away (a deadline passed, the daemon stopping) while another process
    # holds the write lock: its BEGIN still runs on aiosqlite's thread once the lock is free, and must
    # not stay open, holding the lock against every job child and failing the daemon's next write.
    store = await Store.open(tmp_path / "s.db")
    holder = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        waiting = asyncio.create_task(
            store.execute("INSERT INTO originals(hash, size_bytes, stored_at) VALUES ('a', 1, 'now')")
        )
        await asyncio.sleep(0.3)  # it waits in SQLite's busy handler
        waiting.cancel()
        await asyncio.sleep(0.1)
        holder.execute("ROLLBACK")
        with pytest.raises(asyncio.CancelledError):
            await waiting
        # The next write runs after the cancelled one's BEGIN on the same connection: it must be its own.
        assert await store.execute("INSERT INTO originals(hash, size_bytes, stored_at) VALUES ('b', 1, 'now')") == 1
        other = sqlite3.connect(tmp_path / "s.db", isolation_level=None, timeout=5)
        try:
            other.execute("BEGIN IMMEDIATE")  # and the lock is free for the other processes
            other.execute("ROLLBACK")
        finally:
            other.close()
    finally:
        holder.close()
        await store.close()
