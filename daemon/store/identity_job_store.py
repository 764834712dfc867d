"""The identity job's store: the `IdentityStore` the pipeline's update runs against, over SQLite.

It runs in the job child on its own synchronous connection. Each write is one transaction that
stands alone (an insight, a membership update, a shade version, a biography), so a kill loses
only the unit in flight. Owner choices are never written here: privacy and owner-edited text
belong to `identity.IdentityRepository`, and a shade version is stored only if the shade's
revision is still the one the job read, so an owner's edit made meanwhile always wins.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from secondme.daemon.store.sync import transaction
from secondme.daemon.store.timeutil import from_db, now_db
from secondme.pipeline.embeddings import from_blob
from secondme.pipeline.identity.briefs import MemoryBrief
from secondme.pipeline.identity.grounded import GroundedSentence
from secondme.pipeline.identity.insights import Insight
from secondme.pipeline.identity.membership import MembershipPlan
from secondme.pipeline.identity.shades import SHADE_TEXT_FIELDS, Evidence, ShadeText
from secondme.pipeline.identity.update import StoredBiography, StoredShade, StoredVersion

_BATCH = 500
NOT_A_COPY = "m.id NOT IN (SELECT memory_id FROM memory_links)"
# Appends a shade version; the values come from `version_values`.
INSERT_VERSION = f"""INSERT INTO shade_versions(shade_id, version, author, {", ".join(SHADE_TEXT_FIELDS)}, confidence,
        member_count, timeline_json, model, created_at, sentences_json, mode)
    VALUES (?, ?, ?, {", ".join("?" * len(SHADE_TEXT_FIELDS))}, ?, ?, ?, ?, ?, ?, ?)"""


def _batches(ids: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), _BATCH):
        yield ids[start : start + _BATCH]


def record_event(conn: sqlite3.Connection, shade_id: int | None, action: str, actor: str, **detail: Any) -> None:
    conn.execute(
        "INSERT INTO identity_events(at, shade_id, action, actor, detail_json) VALUES (?, ?, ?, ?, ?)",
        (now_db(), shade_id, action, actor, json.dumps(detail, sort_keys=True)),
    )


def insert_shade(conn: sqlite3.Connection, members: list[str], *, pinned: bool, now: str) -> int:
    cursor = conn.execute("INSERT INTO shades(created_at, updated_at) VALUES (?, ?)", (now, now))
    shade_id = int(cursor.lastrowid or 0)
    place_members(conn, members, shade_id, pinned=pinned, now=now)
    return shade_id


def place_members(
    conn: sqlite3.Connection, members: list[str], shade_id: int | None, *, pinned: bool, now: str
) -> None:
    conn.executemany(
        """INSERT INTO shade_members(memory_id, shade_id, pinned, assigned_at) VALUES (?, ?, ?, ?)
           ON CONFLICT(memory_id) DO UPDATE SET shade_id = excluded.shade_id, pinned = excluded.pinned,
               assigned_at = excluded.assigned_at""",
        [(m, shade_id, int(pinned), now) for m in members],
    )


def mark_changed(conn: sqlite3.Connection, shade_ids: set[int] | list[int], now: str) -> None:
    conn.executemany(
        "UPDATE shades SET dirty = 1, revision = revision + 1, updated_at = ? WHERE id = ?",
        [(now, s) for s in shade_ids],
    )


def _brief(row: sqlite3.Row) -> MemoryBrief:
    keys = row.keys()
    return MemoryBrief(
        id=row["id"],
        title=row["title"],
        created_at=from_db(row["created_at"]) or datetime.min,
        source_type=row["source_type"],
        text=row["text"] or "",
        summary=(row["summary"] or "") if "summary" in keys else "",
        insight=(row["insight"] or "") if "insight" in keys else "",
        keywords=tuple(json.loads(row["keywords_json"] or "[]")) if "keywords_json" in keys else (),
    )


_PRIVATE_SHADES = "SELECT id FROM shades WHERE privacy = 'private'"
# A biography is read (shown, put in a chat's prompt, given to the next update as material) only
# while it rests on nothing the owner has since marked private: the global one on no private
# shade, the status one on no member of one. Marking is instant; writing a biography without the
# shade waits for the identity update and its model, which may fail or be missing: until then the
# newest biography that qualifies stands in, or none.
SHOWABLE_BIOGRAPHY = f"""NOT EXISTS (
    SELECT 1 FROM json_each(biographies.sources_json) AS source
    WHERE (biographies.kind = 'global' AND json_extract(source.value, '$[0]') IN ({_PRIVATE_SHADES}))
       OR (biographies.kind = 'status' AND source.value IN
           (SELECT memory_id FROM shade_members WHERE shade_id IN ({_PRIVATE_SHADES}))))"""


class SqliteIdentityStore:
    def __init__(self, conn: sqlite3.Connection, embed_model: str) -> None:
        self._conn = conn
        self._embed_model = embed_model

    def biography(self, kind: str) -> StoredBiography | None:
        row = self._conn.execute(
            f"""SELECT id, text_third, sources_json FROM biographies WHERE kind = ? AND {SHOWABLE_BIOGRAPHY}
                ORDER BY id DESC LIMIT 1""",
            (kind,),
        ).fetchone()
        return StoredBiography(row["id"], row["text_third"], json.loads(row["sources_json"])) if row else None

    def memories_needing_insight(self, max_attempts: int, text_chars: int) -> list[MemoryBrief]:
        rows = self._conn.execute(
            f"""SELECT m.id, m.title, m.created_at, m.source_type, substr(m.text, 1, ?) AS text
                FROM memories m LEFT JOIN memory_insights i ON i.memory_id = m.id
                WHERE trim(m.text) != '' AND {NOT_A_COPY}
                  AND (i.memory_id IS NULL OR (i.status = 'failed' AND i.attempts < ?))
                ORDER BY m.created_at, m.id""",
            (text_chars, max_attempts),
        ).fetchall()
        return [_brief(r) for r in rows]

    def _upsert_insight(self, memory_id: str, values: dict[str, Any]) -> None:
        columns = ", ".join(values)
        updates = ", ".join(f"{c} = excluded.{c}" for c in values)
        self._conn.execute(
            f"""INSERT INTO memory_insights(memory_id, {columns}, attempts, updated_at)
                VALUES (?, {", ".join("?" * len(values))}, 1, ?)
                ON CONFLICT(memory_id) DO UPDATE SET {updates}, attempts = memory_insights.attempts + 1,
                    updated_at = excluded.updated_at""",
            (memory_id, *values.values(), now_db()),
        )

    def save_insight(
        self,
        memory_id: str,
        insight: Insight,
        model: str,
        biography_id: int | None,
        sentences: Sequence[GroundedSentence] = (),
    ) -> None:
        self._upsert_insight(
            memory_id,
            {
                "status": insight.status,
                "title": insight.title,
                "summary": insight.summary,
                "insight": insight.insight,
                "keywords_json": json.dumps(list(insight.keywords)),
                "error": "",
                "model": model,
                "biography_id": biography_id,
                "sentences_json": sentences_json(sentences),
            },
        )

    def save_insight_failure(self, memory_id: str, error: str, model: str) -> None:
        self._upsert_insight(memory_id, {"status": "failed", "error": error[:500], "model": model})

    def vectors(self) -> dict[str, np.ndarray]:
        rows = self._conn.execute(
            f"""SELECT e.memory_id, e.dimension, e.vector FROM memory_embeddings e JOIN memories m ON m.id = e.memory_id
                WHERE e.model = ? AND {NOT_A_COPY}""",
            (self._embed_model,),
        )
        return {r["memory_id"]: from_blob(r["vector"], r["dimension"]) for r in rows}

    def shades(self) -> list[StoredShade]:
        members: dict[int, list[str]] = {}
        dates: dict[int, list[str]] = {}
        for row in self._conn.execute(
            """SELECT sm.shade_id, sm.memory_id, m.created_at FROM shade_members sm
               JOIN shades s ON s.id = sm.shade_id JOIN memories m ON m.id = sm.memory_id
               WHERE s.state = 'active' ORDER BY sm.memory_id"""
        ):
            members.setdefault(row["shade_id"], []).append(row["memory_id"])
            dates.setdefault(row["shade_id"], []).append(row["created_at"][:10])
        found = []
        for row in self._conn.execute("SELECT * FROM shades WHERE state = 'active' ORDER BY id").fetchall():
            found.append(
                StoredShade(
                    id=row["id"],
                    revision=row["revision"],
                    dirty=bool(row["dirty"]),
                    owner_edited=bool(row["owner_edited"]),
                    privacy=row["privacy"],
                    members=tuple(members.get(row["id"], [])),
                    latest=self._latest_version(row["id"]),
                    first=min(dates.get(row["id"], [""])),
                    last=max(dates.get(row["id"], [""])),
                )
            )
        return found

    def _latest_version(self, shade_id: int) -> StoredVersion | None:
        row = self._conn.execute(
            "SELECT * FROM shade_versions WHERE shade_id = ? ORDER BY version DESC LIMIT 1", (shade_id,)
        ).fetchone()
        if row is None:
            return None
        text = ShadeText(**{f: row[f] for f in SHADE_TEXT_FIELDS})
        return StoredVersion(row["version"], row["author"], row["model"], text, row["member_count"], row["mode"])

    def unplaced(self) -> list[str]:
        placed = {
            r[0]
            for r in self._conn.execute(
                """SELECT sm.memory_id FROM shade_members sm JOIN shades s ON s.id = sm.shade_id
                   WHERE s.state = 'active'"""
            )
        }
        return sorted(set(self.vectors()) - placed)

    def apply_membership(self, plan: MembershipPlan) -> list[int]:
        now = now_db()
        created = []
        with transaction(self._conn) as conn:
            joined: dict[int, list[str]] = {}
            for memory_id, shade_id in plan.joins.items():
                joined.setdefault(shade_id, []).append(memory_id)
            for shade_id, memory_ids in joined.items():
                place_members(conn, memory_ids, shade_id, pinned=False, now=now)
                record_event(conn, shade_id, "joined", "pipeline", memories=sorted(memory_ids))
            mark_changed(conn, set(joined), now)
            for group in plan.new_shades:
                shade_id = insert_shade(conn, group, pinned=False, now=now)
                record_event(conn, shade_id, "created", "pipeline", memories=sorted(group))
                created.append(shade_id)
            place_members(conn, plan.unclustered, None, pinned=False, now=now)
        return created

    def retire_empty(self) -> list[int]:
        with transaction(self._conn) as conn:
            ids = [
                r[0]
                for r in conn.execute(
                    """SELECT id FROM shades WHERE state = 'active'
                       AND NOT EXISTS (SELECT 1 FROM shade_members sm WHERE sm.shade_id = shades.id)"""
                )
            ]
            now = now_db()
            for shade_id in ids:
                conn.execute("UPDATE shades SET state = 'retired', updated_at = ? WHERE id = ?", (now, shade_id))
                record_event(conn, shade_id, "retired", "pipeline", reason="no memories left")
        return ids

    def briefs(self, memory_ids: list[str], text_chars: int) -> list[MemoryBrief]:
        found: list[MemoryBrief] = []
        for batch in _batches(memory_ids):
            rows = self._conn.execute(
                f"""SELECT m.id, m.title, m.created_at, m.source_type, substr(m.text, 1, ?) AS text,
                           i.summary, i.insight, i.keywords_json
                    FROM memories m LEFT JOIN memory_insights i ON i.memory_id = m.id
                    WHERE m.id IN ({",".join("?" * len(batch))})""",
                (text_chars, *batch),
            )
            found.extend(_brief(r) for r in rows)
        return sorted(found, key=lambda b: (b.created_at, b.id))

    def stored_statements(self) -> tuple[dict[str, list[GroundedSentence]], list[str]]:
        """What the identity says now, sentence by sentence: the newest biographies and each active shade's
        newest version ({part: sentences}); and the parts the owner wrote themselves (they cite nothing)."""
        parts: dict[str, list[GroundedSentence]] = {}
        owner_written: list[str] = []
        for kind, part in (("global", "biography"), ("status", "status")):
            row = self._conn.execute(
                "SELECT sentences_json FROM biographies WHERE kind = ? ORDER BY id DESC LIMIT 1", (kind,)
            ).fetchone()
            if row is not None:
                parts[part] = _sentences(row["sentences_json"])
        for row in self._conn.execute(
            """SELECT s.id, v.name, v.author, v.sentences_json FROM shades s
               JOIN shade_versions v ON v.shade_id = s.id
               WHERE s.state = 'active' AND v.version = (SELECT MAX(version) FROM shade_versions WHERE shade_id = s.id)
               ORDER BY s.id"""
        ):
            part = f"shade {row['id']} {row['name']}"
            if row["author"] == "owner":
                owner_written.append(part)
            else:
                parts[part] = _sentences(row["sentences_json"])
        return parts, owner_written

    def save_shade_version(
        self,
        shade_id: int,
        revision: int,
        text: ShadeText,
        *,
        author: str,
        model: str,
        evidence: Evidence,
        timeline: list[dict[str, str]],
        still_dirty: bool,
        sentences: Sequence[GroundedSentence] = (),
        mode: str = "",
    ) -> bool:
        with transaction(self._conn) as conn:
            row = conn.execute("SELECT revision, state FROM shades WHERE id = ?", (shade_id,)).fetchone()
            if row is None or row["revision"] != revision or row["state"] != "active":
                return False
            write_version(conn, shade_id, text, author=author, model=model, evidence=evidence, timeline=timeline,
                          sentences=sentences, mode=mode)  # fmt: skip
            conn.execute(
                "UPDATE shades SET dirty = ?, updated_at = ? WHERE id = ?", (int(still_dirty), now_db(), shade_id)
            )
        return True

    def recent(self, limit: int, exclude_shades: list[int], text_chars: int) -> list[MemoryBrief]:
        marks = ",".join("?" * len(exclude_shades))
        rows = self._conn.execute(
            f"""SELECT m.id, m.title, m.created_at, m.source_type, substr(m.text, 1, ?) AS text,
                       i.summary, i.insight, i.keywords_json
                FROM memories m LEFT JOIN memory_insights i ON i.memory_id = m.id
                WHERE trim(m.text) != '' AND {NOT_A_COPY}
                  AND m.id NOT IN (SELECT memory_id FROM shade_members WHERE shade_id IN ({marks}))
                ORDER BY m.created_at DESC, m.id LIMIT ?""",
            (text_chars, *exclude_shades, limit),
        ).fetchall()
        return [_brief(r) for r in reversed(rows)]

    def save_biography(
        self,
        kind: str,
        text_third: str,
        text_second: str,
        sources: list[Any],
        model: str,
        sentences: Sequence[GroundedSentence] = (),
        mode: str = "",
    ) -> int:
        cursor = self._conn.execute(
            """INSERT INTO biographies(kind, author, text_third, text_second, sources_json, model, created_at,
                   sentences_json, mode)
               VALUES (?, 'pipeline', ?, ?, ?, ?, ?, ?, ?)""",
            (kind, text_third, text_second, json.dumps(sources), model, now_db(), sentences_json(sentences), mode),
        )
        return int(cursor.lastrowid or 0)


def version_values(
    shade_id: int,
    version: int,
    text: ShadeText,
    *,
    author: str,
    model: str,
    confidence: str,
    member_count: int,
    timeline: list[dict[str, str]],
    sentences: Sequence[GroundedSentence] = (),
    mode: str = "",
) -> tuple[Any, ...]:
    return (
        shade_id,
        version,
        author,
        *(getattr(text, f) for f in SHADE_TEXT_FIELDS),
        confidence,
        member_count,
        json.dumps(timeline),
        model,
        now_db(),
        sentences_json(sentences),
        mode,
    )


def write_version(
    conn: sqlite3.Connection,
    shade_id: int,
    text: ShadeText,
    *,
    author: str,
    model: str,
    evidence: Evidence,
    timeline: list[dict[str, str]],
    sentences: Sequence[GroundedSentence] = (),
    mode: str = "",
) -> int:
    """Append the next version (inside the caller's transaction)."""
    version = conn.execute(
        "SELECT COALESCE(MAX(version), 0) + 1 FROM shade_versions WHERE shade_id = ?", (shade_id,)
    ).fetchone()[0]
    conn.execute(
        INSERT_VERSION,
        version_values(
            shade_id,
            int(version),
            text,
            author=author,
            model=model,
            confidence=evidence.confidence,
            member_count=evidence.member_count,
            timeline=timeline,
            sentences=sentences,
            mode=mode,
        ),
    )
    return int(version)


def _sentences(stored: str) -> list[GroundedSentence]:
    return [GroundedSentence(s["field"], s["text"], tuple(s["memory_ids"])) for s in json.loads(stored)]


def sentences_json(sentences: Sequence[GroundedSentence]) -> str:
    return json.dumps([s.to_dict() for s in sentences])
