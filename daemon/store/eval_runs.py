"""Scored eval runs, one per model version, questions file and retrieval setting, kept to compare.

The eval job writes a run when every question of it has been answered (a run cut short stores
nothing); the API reads them back so several models' latest runs can be shown side by side. A
model is known by its id (its content hash), so a retrained version is another model here.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from secondme.daemon.store.db import Store
from secondme.daemon.store.sync import transaction
from secondme.daemon.store.timeutil import from_db, now_db
from secondme.pipeline.evaluation import EvalReport


@dataclass(frozen=True)
class EvalRunRecord:
    id: int
    model_id: str
    model_name: str
    source: str
    retrieval: bool
    report: EvalReport
    created_at: datetime


def save_run(
    conn: sqlite3.Connection, model_id: str, model_name: str, source: str, retrieval: bool, report: EvalReport
) -> int:
    with transaction(conn):
        cursor = conn.execute(
            """INSERT INTO eval_runs(model_key, model_name, questions_source, retrieval, report_json, created_at)
               VALUES (?, ?, ?, ?, ?, ?)""",
            (model_id, model_name, source, int(retrieval), json.dumps(report.to_dict()), now_db()),
        )
    return int(cursor.lastrowid or 0)


def _record(row: sqlite3.Row) -> EvalRunRecord:
    return EvalRunRecord(
        id=row["id"],
        model_id=row["model_key"],
        model_name=row["model_name"],
        source=row["questions_source"],
        retrieval=bool(row["retrieval"]),
        report=EvalReport.from_dict(json.loads(row["report_json"])),
        created_at=from_db(row["created_at"]),  # type: ignore[arg-type]
    )


class EvalRunRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def runs(self, ids: list[int] | None = None, latest: bool = False, limit: int = 100) -> list[EvalRunRecord]:
        """Runs newest first: those of `ids` when given; with `latest`, only the newest run of each model,
        questions file and retrieval setting (what a side-by-side table compares)."""
        where, params = "", []
        if ids:
            where = f"WHERE id IN ({','.join('?' * len(ids))})"
            params = list(ids)
        elif latest:
            where = """WHERE id IN (SELECT MAX(id) FROM eval_runs
                                    GROUP BY model_key, questions_source, retrieval)"""
        rows = await self._store.fetchall(f"SELECT * FROM eval_runs {where} ORDER BY id DESC LIMIT ?", (*params, limit))
        return [_record(r) for r in rows]
