"""The daemon's connection to the store, with migrations applied at open.

The daemon holds two aiosqlite connections: a writer, whose transactions are serialized by a
lock (statements from two coroutines interleaved on one connection would otherwise end up in
each other's transaction), and a read-only reader. Each aiosqlite connection runs its calls one
at a time on its own thread, so with a single connection a status query would queue behind a
write waiting for a job child's batch to commit; with WAL the reader never waits for writers.
A write holds the daemon's turn (`write_turn.py`) from before its BEGIN, so job children begin
their next transaction after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from secondme.daemon.store import health
from secondme.daemon.store.migrations import available_migrations
from secondme.daemon.store.sync import PRAGMAS
from secondme.daemon.store.timeutil import now_db
from secondme.daemon.store.write_turn import WriteTurn
from secondme.errors import Kind, SecondmeError


class StoreError(SecondmeError):
    """The database cannot be used as it is."""


class SchemaTooNew(StoreError):
    """The database was written by a newer secondme; refusing to touch it protects the data."""


class DatabaseUnusable(StoreError):
    """The database is damaged or not secondme's; the message says what is wrong and what to do."""


class DatabaseLocked(StoreError):
    """Another program holds the database's write lock; it may let go (try again once it has)."""

    kind = Kind.UNAVAILABLE


class Store:
    def __init__(self, path: Path, conn: aiosqlite.Connection) -> None:
        self.path = path
        self._conn = conn
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._turn: WriteTurn | None = None  # at the first write: a database refused at open gets no turn file
        # Write transactions this daemon committed: what was counted before the latest is out of date.
        self.writes = 0

    @classmethod
    async def open(cls, path: Path, check_integrity: bool = False) -> Store:
        """Open (creating) and migrate the database; refuse, saying what to do, one that is damaged
        or another program's. `check_integrity` reads every page first (SQLite's quick_check): the
        daemon does at start, so damage is found then rather than by a later query."""
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open database {path}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        store = cls(path, conn)
        try:
            try:
                for pragma in PRAGMAS:
                    await conn.execute(pragma)
                await store._check(check_integrity)
                await store._check_writable()
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc) or "busy" in str(exc):
                    raise DatabaseLocked(health.locked_explained(path)) from exc
                raise DatabaseUnusable(health.explained(path, health.describe_error(exc))) from exc
            except sqlite3.DatabaseError as exc:
                raise DatabaseUnusable(health.explained(path, health.describe_error(exc))) from exc
            await store._migrate()
            store._reader = await store._open_reader()
        except BaseException:
            await conn.close()
            raise
        return store

    async def _open_reader(self) -> aiosqlite.Connection:
        reader = await aiosqlite.connect(self.path, isolation_level=None)
        reader.row_factory = sqlite3.Row
        for pragma in (*PRAGMAS, "PRAGMA query_only=ON"):
            await reader.execute(pragma)
        return reader

    async def close(self) -> None:
        async with self._write_lock:
            if self._reader is not None:
                await self._reader.close()
            await self._conn.close()
            if self._turn is not None:
                self._turn.close()

    async def _check_writable(self) -> None:
        """Take the write lock once (waiting up to the busy timeout): another program holding it is said
        now, not found by the first write after the daemon has started."""
        await self._conn.execute("BEGIN IMMEDIATE")
        await self._conn.execute("ROLLBACK")

    async def _check(self, integrity: bool) -> None:
        """Refuse another program's database before migrating into it, and (`integrity`) a damaged one."""
        async with self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'") as cursor:
            tables = {row[0] for row in await cursor.fetchall()}
        first = None
        if "schema_version" in tables:
            first_sql = "SELECT version, name FROM schema_version ORDER BY version LIMIT 1"
            async with self._conn.execute(first_sql) as cursor:
                row = await cursor.fetchone()
            first = (int(row[0]), str(row[1])) if row else None
        problem = health.foreign_tables(tables, first)
        if problem is None and integrity:
            async with self._conn.execute("PRAGMA quick_check(5)") as cursor:
                found = [str(row[0]) for row in await cursor.fetchall()]
            if found != ["ok"]:
                problem = f"is damaged (SQLite's check found: {'; '.join(found)[:300]})"
        if problem:
            raise DatabaseUnusable(health.explained(self.path, problem))

    async def schema_version(self) -> int:
        await self._conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        async with self._conn.execute("SELECT MAX(version) AS v FROM schema_version") as cursor:
            row = await cursor.fetchone()
        return int(row["v"] or 0) if row else 0

    async def _migrate(self) -> None:
        migrations = available_migrations()
        known = migrations[-1].version if migrations else 0
        try:
            current = await self.schema_version()
        except sqlite3.DatabaseError as exc:
            raise DatabaseUnusable(health.explained(self.path, health.describe_error(exc))) from exc
        if current > known:
            raise SchemaTooNew(
                f"{self.path} has schema version {current}, newer than this secondme knows ({known}); "
                "upgrade secondme to use this data dir"
            )
        for migration in migrations:
            if migration.version <= current:
                continue
            script = (
                "BEGIN IMMEDIATE;\n"
                f"{migration.sql}\n;\n"
                "INSERT INTO schema_version(version, name, applied_at) "
                f"VALUES ({migration.version}, '{migration.name}', '{now_db()}');\n"
                "COMMIT;"
            )
            try:
                await self._conn.executescript(script)
            except sqlite3.Error as exc:
                if self._conn.in_transaction:
                    await self._conn.execute("ROLLBACK")
                raise StoreError(f"migration {migration.version} ({migration.name}) failed: {exc}") from exc

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Everything inside commits together or not at all."""
        if self._turn is None:
            self._turn = WriteTurn(self.path)
        async with self._write_lock, self._turn.daemons_turn():
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
            except asyncio.CancelledError:
                # The caller went away while BEGIN waited for another process's lock, but the statement
                # runs on aiosqlite's thread all the same: undo it there (in order, after it), or the
                # transaction stays open, holding the lock and failing every later write.
                with contextlib.suppress(sqlite3.Error):
                    await asyncio.shield(self._conn.execute("ROLLBACK"))
                raise
            try:
                yield self._conn
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            await self._conn.execute("COMMIT")
            self.writes += 1

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """A single write in its own transaction; returns the affected row count."""
        async with self.transaction() as conn:
            cursor = await conn.execute(sql, tuple(params))
            return cursor.rowcount

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        """A read on the reader connection: never queued behind writes."""
        async with (self._reader or self._conn).execute(sql, tuple(params)) as cursor:
            return await cursor.fetchone()

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        async with (self._reader or self._conn).execute(sql, tuple(params)) as cursor:
            return list(await cursor.fetchall())
