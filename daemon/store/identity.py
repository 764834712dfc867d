"""The owner's view of the identity: biographies and shades to read, and the owner's choices over them.

The identity job writes what the pipeline produces (`identity_job_store.SqliteIdentityStore`); this
repository serves the API and records the owner's choices: privacy, their own text, merges and
splits. Every choice bumps the shade's revision where it changes what the text should say, so a
text the job is writing at that moment is discarded instead of overwriting the owner, and every
choice is an event.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import aiosqlite

from secondme.daemon.store.db import Store
from secondme.daemon.store.identity_job_store import INSERT_VERSION, SHOWABLE_BIOGRAPHY, version_values
from secondme.daemon.store.timeutil import from_db, now_db
from secondme.errors import FailedPrecondition, InvalidArgument, NotFound
from secondme.pipeline.identity.shades import SHADE_TEXT_FIELDS, ShadeText

PRIVACY_VALUES = ("public", "unmarked", "private")


class ShadeNotFound(NotFound):
    pass


class BiographyNotFound(NotFound):
    pass


class IdentityConflict(FailedPrecondition):
    """The owner's request does not fit the shades as they are (e.g. merging a shade into itself)."""


@dataclass(frozen=True)
class BiographyRecord:
    id: int
    kind: str
    author: str
    text_third: str
    text_second: str
    sources: list[Any]
    model: str
    created_at: datetime
    # [{"field", "text", "memory_ids"}]: each sentence with the memories it rests on.
    sentences: list[dict[str, Any]] = field(default_factory=list)
    mode: str = ""


@dataclass(frozen=True)
class VersionRecord:
    version: int
    author: str
    text: ShadeText
    confidence: str
    member_count: int
    timeline: list[dict[str, str]]
    model: str
    created_at: datetime
    sentences: list[dict[str, Any]] = field(default_factory=list)
    mode: str = ""


@dataclass(frozen=True)
class ShadeRecord:
    id: int
    state: str
    privacy: str
    owner_edited: bool
    dirty: bool
    member_count: int
    merged_into: int | None
    created_at: datetime
    updated_at: datetime
    latest: VersionRecord | None = None


@dataclass(frozen=True)
class MemberRecord:
    memory_id: str
    title: str
    created_at: datetime
    pinned: bool


@dataclass(frozen=True)
class IdentityCounts:
    unclustered: int = 0
    pending_insights: int = 0
    failed_insights: int = 0


@dataclass
class TextEdit:
    """The fields of a shade's text the owner set; None leaves a field as it is."""

    values: dict[str, str] = field(default_factory=dict)

    def apply(self, text: ShadeText) -> ShadeText:
        return replace(text, **self.values)


def _version(row: sqlite3.Row) -> VersionRecord:
    return VersionRecord(
        version=row["version"],
        author=row["author"],
        text=ShadeText(**{f: row[f] for f in SHADE_TEXT_FIELDS}),
        confidence=row["confidence"],
        member_count=row["member_count"],
        timeline=json.loads(row["timeline_json"]),
        model=row["model"],
        created_at=from_db(row["created_at"]),  # type: ignore[arg-type]
        sentences=json.loads(row["sentences_json"]),
        mode=row["mode"],
    )


def _biography(row: sqlite3.Row) -> BiographyRecord:
    return BiographyRecord(
        id=row["id"],
        kind=row["kind"],
        author=row["author"],
        text_third=row["text_third"],
        text_second=row["text_second"],
        sources=json.loads(row["sources_json"]),
        model=row["model"],
        created_at=from_db(row["created_at"]),  # type: ignore[arg-type]
        sentences=json.loads(row["sentences_json"]),
        mode=row["mode"],
    )


async def _event(conn: aiosqlite.Connection, shade_id: int | None, action: str, **detail: Any) -> None:
    await conn.execute(
        "INSERT INTO identity_events(at, shade_id, action, actor, detail_json) VALUES (?, ?, ?, 'owner', ?)",
        (now_db(), shade_id, action, json.dumps(detail, sort_keys=True)),
    )


class IdentityRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    # --- biographies

    async def biography(self, kind: str, biography_id: int = 0) -> BiographyRecord:
        if not biography_id:
            latest = await self.latest_biography(kind)
            if latest is None:
                if await self._store.fetchone("SELECT 1 FROM biographies WHERE kind = ?", (kind,)):
                    raise BiographyNotFound(
                        f"no {kind} biography without the shades marked private yet: the identity update "
                        "writes one (`secondmectl identity refresh`), which needs an active model"
                    )
                raise BiographyNotFound(
                    f"no {kind} biography yet: it is written after ingesting notes, by the identity update "
                    "(`secondmectl identity refresh`), which needs an active model"
                )
            return latest
        row = await self._store.fetchone("SELECT * FROM biographies WHERE id = ? AND kind = ?", (biography_id, kind))
        if row is None:
            raise BiographyNotFound(f"no {kind} biography with id {biography_id}")
        return _biography(row)

    async def latest_biography(self, kind: str) -> BiographyRecord | None:
        """The newest biography resting on nothing marked private (see SHOWABLE_BIOGRAPHY)."""
        row = await self._store.fetchone(
            f"SELECT * FROM biographies WHERE kind = ? AND {SHOWABLE_BIOGRAPHY} ORDER BY id DESC LIMIT 1", (kind,)
        )
        return _biography(row) if row else None

    async def biographies(self, kind: str, limit: int, offset: int) -> list[BiographyRecord]:
        rows = await self._store.fetchall(
            "SELECT * FROM biographies WHERE kind = ? ORDER BY id DESC LIMIT ? OFFSET ?", (kind, limit, offset)
        )
        return [_biography(r) for r in rows]

    # --- shades

    async def shades(self, include_inactive: bool = False) -> list[ShadeRecord]:
        where = "" if include_inactive else "WHERE s.state = 'active'"
        rows = await self._store.fetchall(
            f"""SELECT s.*, (SELECT COUNT(*) FROM shade_members sm WHERE sm.shade_id = s.id) AS member_count
                FROM shades s {where} ORDER BY s.id"""
        )
        latest = await self._latest_versions([r["id"] for r in rows])
        return [self._shade(r, latest.get(r["id"])) for r in rows]

    async def shade(self, shade_id: int) -> ShadeRecord:
        row = await self._store.fetchone(
            """SELECT s.*, (SELECT COUNT(*) FROM shade_members sm WHERE sm.shade_id = s.id) AS member_count
               FROM shades s WHERE s.id = ?""",
            (shade_id,),
        )
        if row is None:
            raise ShadeNotFound(f"no shade {shade_id}; `secondmectl identity shades` lists them")
        return self._shade(row, (await self._latest_versions([shade_id])).get(shade_id))

    @staticmethod
    def _shade(row: sqlite3.Row, latest: VersionRecord | None) -> ShadeRecord:
        return ShadeRecord(
            id=row["id"],
            state=row["state"],
            privacy=row["privacy"],
            owner_edited=bool(row["owner_edited"]),
            dirty=bool(row["dirty"]),
            member_count=row["member_count"],
            merged_into=row["merged_into"],
            created_at=from_db(row["created_at"]),  # type: ignore[arg-type]
            updated_at=from_db(row["updated_at"]),  # type: ignore[arg-type]
            latest=latest,
        )

    async def _latest_versions(self, shade_ids: list[int]) -> dict[int, VersionRecord]:
        if not shade_ids:
            return {}
        rows = await self._store.fetchall(
            f"""SELECT v.* FROM shade_versions v
                JOIN (SELECT shade_id, MAX(version) AS version FROM shade_versions
                      WHERE shade_id IN ({",".join("?" * len(shade_ids))}) GROUP BY shade_id) newest
                  ON newest.shade_id = v.shade_id AND newest.version = v.version""",
            shade_ids,
        )
        return {r["shade_id"]: _version(r) for r in rows}

    async def versions(self, shade_id: int) -> list[VersionRecord]:
        await self.shade(shade_id)
        rows = await self._store.fetchall(
            "SELECT * FROM shade_versions WHERE shade_id = ? ORDER BY version DESC", (shade_id,)
        )
        return [_version(r) for r in rows]

    async def members(self, shade_id: int) -> list[MemberRecord]:
        rows = await self._store.fetchall(
            """SELECT sm.memory_id, sm.pinned, m.title, m.created_at FROM shade_members sm
               JOIN memories m ON m.id = sm.memory_id WHERE sm.shade_id = ? ORDER BY m.created_at, m.id""",
            (shade_id,),
        )
        return [MemberRecord(r["memory_id"], r["title"], from_db(r["created_at"]), bool(r["pinned"])) for r in rows]  # type: ignore[arg-type]

    async def counts(self) -> IdentityCounts:
        row = await self._store.fetchone(
            """SELECT (SELECT COUNT(*) FROM shade_members WHERE shade_id IS NULL) AS unclustered,
                      (SELECT COUNT(*) FROM memory_insights WHERE status = 'failed') AS failed,
                      (SELECT COUNT(*) FROM memories m WHERE trim(m.text) != ''
                         AND m.id NOT IN (SELECT memory_id FROM memory_links)
                         AND NOT EXISTS (SELECT 1 FROM memory_insights i WHERE i.memory_id = m.id)) AS pending"""
        )
        if row is None:
            return IdentityCounts()
        return IdentityCounts(row["unclustered"], row["pending"] + row["failed"], row["failed"])

    # --- the owner's choices

    async def _active(self, conn: aiosqlite.Connection, shade_id: int) -> sqlite3.Row:
        cursor = await conn.execute("SELECT * FROM shades WHERE id = ?", (shade_id,))
        row = await cursor.fetchone()
        if row is None:
            raise ShadeNotFound(f"no shade {shade_id}; `secondmectl identity shades` lists them")
        if row["state"] != "active":
            target = f" into shade {row['merged_into']}" if row["merged_into"] else ""
            raise IdentityConflict(f"shade {shade_id} is {row['state']}{target}; only active shades can change")
        return row

    async def update_shade(
        self, shade_id: int, *, privacy: str | None = None, edit: TextEdit | None = None, regenerate: bool = False
    ) -> bool:
        """The owner's change to one shade, all of it or none: one transaction for the privacy mark,
        their own text (a new version the pipeline keeps from now on) and handing the text back to
        the pipeline. Returns whether anything changed."""
        if privacy is not None and privacy not in PRIVACY_VALUES:
            raise InvalidArgument(f"privacy must be one of {', '.join(PRIVACY_VALUES)}")
        changed = False
        async with self._store.transaction() as conn:
            row = await self._active(conn, shade_id)
            if privacy is not None and row["privacy"] != privacy:
                await conn.execute(
                    "UPDATE shades SET privacy = ?, updated_at = ? WHERE id = ?", (privacy, now_db(), shade_id)
                )
                await _event(conn, shade_id, "privacy", before=row["privacy"], after=privacy)
                changed = True
            if edit is not None and edit.values:
                await self._edit_text(conn, shade_id, edit)
                changed = True
            if regenerate:
                await conn.execute(
                    "UPDATE shades SET owner_edited = 0, dirty = 1, revision = revision + 1, updated_at = ? "
                    "WHERE id = ?",
                    (now_db(), shade_id),
                )
                await _event(conn, shade_id, "regenerate")
                changed = True
        return changed

    async def _edit_text(self, conn: aiosqlite.Connection, shade_id: int, edit: TextEdit) -> None:
        cursor = await conn.execute(
            "SELECT * FROM shade_versions WHERE shade_id = ? ORDER BY version DESC LIMIT 1", (shade_id,)
        )
        latest = await cursor.fetchone()
        base = _version(latest) if latest else None
        text = edit.apply(base.text if base else ShadeText(name=""))
        if not text.name.strip():
            raise InvalidArgument("name is required: a shade needs a name; pass one with --name")
        version = (base.version if base else 0) + 1
        await conn.execute(
            INSERT_VERSION,
            version_values(
                shade_id,
                version,
                text,
                author="owner",
                model="",
                confidence=base.confidence if base else "low",
                member_count=base.member_count if base else 0,
                timeline=base.timeline if base else [],
            ),
        )
        await conn.execute(
            "UPDATE shades SET owner_edited = 1, dirty = 0, revision = revision + 1, updated_at = ? WHERE id = ?",
            (now_db(), shade_id),
        )
        await _event(conn, shade_id, "edited", fields=sorted(edit.values), version=version)

    async def merge(self, target: int, sources: list[int]) -> None:
        sources = list(dict.fromkeys(sources))
        if target in sources:
            raise InvalidArgument(f"source_shade_ids: shade {target} cannot be merged into itself")
        now = now_db()
        async with self._store.transaction() as conn:
            await self._active(conn, target)
            for source in sources:
                await self._active(conn, source)
            marks = ",".join("?" * len(sources))
            cursor = await conn.execute(f"SELECT memory_id FROM shade_members WHERE shade_id IN ({marks})", sources)
            moved = [r[0] for r in await cursor.fetchall()]
            await conn.execute(
                f"UPDATE shade_members SET shade_id = ?, pinned = 1, assigned_at = ? WHERE shade_id IN ({marks})",
                (target, now, *sources),
            )
            await conn.execute(
                f"""UPDATE shades SET state = 'merged', merged_into = ?, revision = revision + 1, updated_at = ?
                    WHERE id IN ({marks})""",
                (target, now, *sources),
            )
            await conn.execute(
                "UPDATE shades SET dirty = 1, revision = revision + 1, updated_at = ? WHERE id = ?", (now, target)
            )
            await _event(conn, target, "merged", sources=sources, memories=sorted(moved))

    async def split(self, shade_id: int, moving: list[str]) -> int:
        """Move `moving` (members of the shade) into a new shade; returns its id."""
        now = now_db()
        async with self._store.transaction() as conn:
            await self._active(conn, shade_id)
            cursor = await conn.execute("SELECT memory_id FROM shade_members WHERE shade_id = ?", (shade_id,))
            members = {r[0] for r in await cursor.fetchall()}
            strangers = sorted(set(moving) - members)
            if strangers:
                raise IdentityConflict(f"not members of shade {shade_id}: {', '.join(strangers[:5])}")
            if not moving or len(set(moving)) >= len(members):
                raise IdentityConflict("a split must leave at least one memory on each side")
            cursor = await conn.execute(
                "INSERT INTO shades(created_at, updated_at, privacy) SELECT ?, ?, privacy FROM shades WHERE id = ?",
                (now, now, shade_id),
            )
            created = int(cursor.lastrowid or 0)
            await conn.executemany(
                "UPDATE shade_members SET shade_id = ?, pinned = 1, assigned_at = ? WHERE memory_id = ?",
                [(created, now, m) for m in moving],
            )
            await conn.execute("UPDATE shade_members SET pinned = 1 WHERE shade_id = ?", (shade_id,))
            await conn.execute(
                "UPDATE shades SET dirty = 1, revision = revision + 1, updated_at = ? WHERE id = ?", (now, shade_id)
            )
            await _event(conn, shade_id, "split", created=created, memories=sorted(moving))
        return created

    async def reset_failed_insights(self) -> int:
        """Failed insights get their tries back (the owner asked); returns how many."""
        return await self._store.execute("UPDATE memory_insights SET attempts = 0 WHERE status = 'failed'")

    async def member_vectors(self, shade_id: int, embed_model: str) -> tuple[list[str], list[bytes], int]:
        """Members and their memory vectors of `embed_model` (members without one are left out)."""
        rows = await self._store.fetchall(
            """SELECT sm.memory_id, e.vector, e.dimension FROM shade_members sm
               JOIN memory_embeddings e ON e.memory_id = sm.memory_id AND e.model = ?
               WHERE sm.shade_id = ? ORDER BY sm.memory_id""",
            (embed_model, shade_id),
        )
        dimension = rows[0]["dimension"] if rows else 0
        return [r["memory_id"] for r in rows], [r["vector"] for r in rows], dimension

    async def resolve_members(self, shade_id: int, prefixes: list[str]) -> list[str]:
        """Full member ids for ids or unambiguous prefixes, as the owner types them."""
        members = [m.memory_id for m in await self.members(shade_id)]
        resolved = []
        for prefix in prefixes:
            matches = [m for m in members if m == prefix] or [m for m in members if m.startswith(prefix)]
            if len(matches) != 1:
                what = "matches several members" if matches else "is not a member"
                raise IdentityConflict(f"{prefix!r} {what} of shade {shade_id}")
            resolved.append(matches[0])
        return resolved
