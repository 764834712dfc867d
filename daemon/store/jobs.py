"""Job records and their progress events."""

from __future__ import annotations

import enum
import json
import secrets
import sqlite3
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from secondme.daemon.store.db import Store
from secondme.daemon.store.timeutil import from_db, now_db, to_db


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"

    @property
    def terminal(self) -> bool:
        return self not in (JobState.QUEUED, JobState.RUNNING)


@dataclass(frozen=True)
class Progress:
    stage: str = ""
    done: int = 0
    total: int = 0
    message: str = ""
    at: datetime | None = None


@dataclass(frozen=True)
class JobRecord:
    id: str
    kind: str
    state: JobState
    params: dict[str, Any]
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    progress: Progress = field(default_factory=Progress)
    result: dict[str, Any] | None = None
    error: str = ""
    retry_of: str | None = None


def new_job_id() -> str:
    return "job_" + secrets.token_hex(8)


def _record(row: sqlite3.Row) -> JobRecord:
    return JobRecord(
        id=row["id"],
        kind=row["kind"],
        state=JobState(row["state"]),
        params=json.loads(row["params_json"]),
        created_at=from_db(row["created_at"]),  # type: ignore[arg-type]
        started_at=from_db(row["started_at"]),
        finished_at=from_db(row["finished_at"]),
        progress=Progress(row["stage"], row["done"], row["total"], row["message"], from_db(row["progress_at"])),
        result=json.loads(row["result_json"]) if row["result_json"] else None,
        error=row["error"],
        retry_of=row["retry_of"],
    )


class JobRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def create(self, kind: str, params: dict[str, Any], retry_of: str | None = None) -> JobRecord:
        job_id = new_job_id()
        await self._store.execute(
            "INSERT INTO jobs(id, kind, state, params_json, created_at, retry_of) VALUES (?, ?, ?, ?, ?, ?)",
            (job_id, kind, JobState.QUEUED, json.dumps(params, sort_keys=True), now_db(), retry_of),
        )
        return await self.get(job_id)  # type: ignore[return-value]

    async def get(self, job_id: str) -> JobRecord | None:
        row = await self._store.fetchone("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return _record(row) if row else None

    async def list(
        self,
        states: list[JobState] | None = None,
        kind: str = "",
        limit: int = 50,
        offset: int = 0,
        oldest_first: bool = False,
    ) -> list[JobRecord]:
        where, params = self._filters(states, kind)
        order = "ASC" if oldest_first else "DESC"
        rows = await self._store.fetchall(
            f"SELECT * FROM jobs {where} ORDER BY created_at {order}, id {order} LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [_record(r) for r in rows]

    async def count(self, states: list[JobState] | None = None, kind: str = "") -> int:
        where, params = self._filters(states, kind)
        row = await self._store.fetchone(f"SELECT COUNT(*) AS n FROM jobs {where}", params)
        return int(row["n"]) if row else 0

    @staticmethod
    def _filters(states: list[JobState] | None, kind: str) -> tuple[str, list[Any]]:
        clauses, params = [], []
        if states:
            clauses.append(f"state IN ({','.join('?' * len(states))})")
            params.extend(str(s) for s in states)
        if kind:
            clauses.append("kind = ?")
            params.append(kind)
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", params

    async def mark_running(self, job_id: str) -> None:
        await self._store.execute(
            "UPDATE jobs SET state = ?, started_at = ? WHERE id = ?", (JobState.RUNNING, now_db(), job_id)
        )

    async def add_progress(self, job_id: str, progress: Progress) -> Progress:
        at = progress.at or datetime.now().astimezone()
        stamped = Progress(progress.stage, progress.done, progress.total, progress.message, at)
        async with self._store.transaction() as conn:
            await conn.execute(
                "UPDATE jobs SET stage = ?, done = ?, total = ?, message = ?, progress_at = ? WHERE id = ?",
                (stamped.stage, stamped.done, stamped.total, stamped.message, to_db(at), job_id),
            )
            await conn.execute(
                "INSERT INTO job_events(job_id, at, stage, done, total, message) VALUES (?, ?, ?, ?, ?, ?)",
                (job_id, to_db(at), stamped.stage, stamped.done, stamped.total, stamped.message),
            )
        return stamped

    async def events(self, job_id: str) -> list[Progress]:
        rows = await self._store.fetchall("SELECT * FROM job_events WHERE job_id = ? ORDER BY id", (job_id,))
        return [Progress(r["stage"], r["done"], r["total"], r["message"], from_db(r["at"])) for r in rows]

    async def finish(self, job_id: str, state: JobState, result: dict[str, Any] | None = None, error: str = "") -> None:
        await self._store.execute(
            "UPDATE jobs SET state = ?, finished_at = ?, result_json = ?, error = ? WHERE id = ?",
            (
                state,
                now_db(),
                json.dumps(result, sort_keys=True) if result is not None else "",
                error,
                job_id,
            ),
        )

    async def recover(self, resumable: Collection[str], max_resumes: int) -> tuple[list[str], list[str]]:
        """At start: the jobs a previous daemon left running, or interrupted when it stopped.

        Those of a `resumable` kind are queued again (each unit of work they did is committed, so
        they go on from there), unless the owner already retried them or they were resumed
        `max_resumes` times; the others are marked interrupted. Queued jobs stay queued and
        cancelled ones cancelled. Returns (resumed ids, interrupted ids).
        """
        kinds = list(resumable)
        marks = ",".join("?" * len(kinds))
        now = now_db()
        async with self._store.transaction() as conn:
            cursor = await conn.execute(
                f"""SELECT id FROM jobs
                    WHERE state IN (?, ?) AND kind IN ({marks}) AND resumes < ?
                      AND id NOT IN (SELECT retry_of FROM jobs WHERE retry_of IS NOT NULL)
                    ORDER BY created_at""",
                (JobState.RUNNING, JobState.INTERRUPTED, *kinds, max_resumes),
            )
            resumed = [row[0] for row in await cursor.fetchall()]
            for job_id in resumed:
                await conn.execute(
                    "UPDATE jobs SET state = ?, resumes = resumes + 1, finished_at = NULL, error = '' WHERE id = ?",
                    (JobState.QUEUED, job_id),
                )
                await conn.execute(
                    "INSERT INTO job_events(job_id, at, stage, done, total, message) "
                    "VALUES (?, ?, 'resume', 0, 0, 'the daemon stopped while this job ran; it goes on from there')",
                    (job_id, now),
                )
            cursor = await conn.execute("SELECT id, resumes FROM jobs WHERE state = ?", (JobState.RUNNING,))
            left = await cursor.fetchall()
            for job_id, resumes in left:
                again = f" ({resumes + 1} times)" if resumes >= max_resumes else ""
                error = f"the daemon stopped while this job ran{again}; `secondmectl jobs retry {job_id}` runs it again"
                await conn.execute(
                    "UPDATE jobs SET state = ?, finished_at = ?, error = ? WHERE id = ?",
                    (JobState.INTERRUPTED, now, error, job_id),
                )
        return resumed, [row[0] for row in left]
