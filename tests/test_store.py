"""The store: migrations applied once, a newer schema refused, transactions atomic."""

from __future__ import annotations

import sqlite3

import pytest

from secondme.daemon.store import SchemaTooNew, Store, StoreError
from secondme.daemon.store.migrations import latest_version


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
    with pytest.raises(StoreError, match="not a secondme database"):
        await Store.open(path)


async def test_a_failed_transaction_leaves_nothing(tmp_path):
    store = await Store.open(tmp_path / "s.db")
    with pytest.raises(sqlite3.IntegrityError):
        async with store.transaction() as conn:
            await conn.execute("INSERT INTO originals(hash, size_bytes, stored_at) VALUES ('a', 1, 'now')")
            await conn.execute("INSERT INTO originals(hash, size_bytes, stored_at) VALUES ('a', 1, 'now')")
    assert (await store.fetchone("SELECT COUNT(*) AS n FROM originals"))["n"] == 0
    await store.close()
