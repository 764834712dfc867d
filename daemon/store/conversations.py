"""Conversations between the owner and their AI self."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from secondme.daemon.store.db import Store
from secondme.daemon.store.timeutil import from_db, now_db


class ConversationNotFound(LookupError):
    def __init__(self, conversation_id: str) -> None:
        super().__init__(f"no conversation {conversation_id!r}; `secondmectl chat --list` shows them")


@dataclass(frozen=True)
class StoredMessage:
    role: str
    content: str
    created_at: datetime
    model_id: str
    cited: list[dict[str, Any]]


@dataclass(frozen=True)
class ConversationRecord:
    id: str
    title: str
    created_at: datetime
    updated_at: datetime
    message_count: int


class ConversationRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def create(self, title: str) -> str:
        conversation_id = "conv_" + secrets.token_hex(8)
        now = now_db()
        await self._store.execute(
            "INSERT INTO conversations(id, title, created_at, updated_at) VALUES (?, ?, ?, ?)",
            (conversation_id, title[:80], now, now),
        )
        return conversation_id

    async def require(self, conversation_id: str) -> None:
        if not await self._store.fetchone("SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)):
            raise ConversationNotFound(conversation_id)

    async def add_message(
        self, conversation_id: str, role: str, content: str, model_id: str = "", cited: list[dict] | None = None
    ) -> None:
        now = now_db()
        async with self._store.transaction() as conn:
            await conn.execute(
                "INSERT INTO messages(conversation_id, role, content, model_id, created_at, cited_json)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (conversation_id, role, content, model_id, now, json.dumps(cited or [])),
            )
            await conn.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id))

    async def messages(self, conversation_id: str) -> list[StoredMessage]:
        await self.require(conversation_id)
        rows = await self._store.fetchall(
            "SELECT role, content, created_at, model_id, cited_json FROM messages "
            "WHERE conversation_id = ? ORDER BY id",
            (conversation_id,),
        )
        return [
            StoredMessage(
                r["role"], r["content"], from_db(r["created_at"]), r["model_id"] or "", json.loads(r["cited_json"])
            )  # type: ignore[arg-type]
            for r in rows
        ]

    async def get(self, conversation_id: str) -> ConversationRecord:
        rows = await self._list("WHERE c.id = ?", (conversation_id,), 1, 0)
        if not rows:
            raise ConversationNotFound(conversation_id)
        return rows[0]

    async def list(self, limit: int, offset: int) -> list[ConversationRecord]:
        return await self._list("", (), limit, offset)

    async def _list(self, where: str, params: tuple, limit: int, offset: int) -> list[ConversationRecord]:
        rows = await self._store.fetchall(
            f"""SELECT c.*, (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id) AS n
                FROM conversations c {where} ORDER BY c.updated_at DESC LIMIT ? OFFSET ?""",
            (*params, limit, offset),
        )
        return [
            ConversationRecord(r["id"], r["title"], from_db(r["created_at"]), from_db(r["updated_at"]), r["n"])  # type: ignore[arg-type]
            for r in rows
        ]

    async def delete(self, conversation_id: str) -> None:
        if await self._store.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,)) == 0:
            raise ConversationNotFound(conversation_id)
