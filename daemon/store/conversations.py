"""Conversations between the owner and their AI self."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from secondme.daemon.store.db import Store
from secondme.daemon.store.timeutil import from_db, now_db
from secondme.errors import NotFound


class ConversationNotFound(NotFound):
    def __init__(self, conversation_id: str) -> None:
        super().__init__(f"no conversation {conversation_id!r}; `secondmectl chat --list` shows them")


@dataclass(frozen=True)
class StoredMessage:
    role: str
    content: str
    created_at: datetime
    model_id: str
    cited: list[dict[str, Any]]
    # False for a reply cut off before the model finished it (the owner interrupted it, the daemon stopped).
    complete: bool = True


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

    async def require(self, conversation_id: str) -> None:
        if not await self._store.fetchone("SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)):
            raise ConversationNotFound(conversation_id)

    async def begin_exchange(
        self, conversation_id: str, text: str, model_id: str, cited: list[dict[str, Any]]
    ) -> tuple[str, int]:
        """Store the owner's message and an empty reply to fill as it streams, in one transaction.

        An empty `conversation_id` starts a conversation titled by the message. Returns
        (conversation id, the reply's message id).
        """
        now = now_db()
        async with self._store.transaction() as conn:
            if not conversation_id:
                conversation_id = "conv_" + secrets.token_hex(8)
                await conn.execute(
                    "INSERT INTO conversations(id, title, created_at, updated_at) VALUES (?, ?, ?, ?)",
                    (conversation_id, text[:80], now, now),
                )
            else:
                cursor = await conn.execute(
                    "UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id)
                )
                if cursor.rowcount == 0:
                    raise ConversationNotFound(conversation_id)
            await conn.execute(
                "INSERT INTO messages(conversation_id, role, content, model_id, created_at, cited_json)"
                " VALUES (?, 'user', ?, '', ?, '[]')",
                (conversation_id, text, now),
            )
            cursor = await conn.execute(
                "INSERT INTO messages(conversation_id, role, content, model_id, created_at, cited_json, complete)"
                " VALUES (?, 'assistant', '', ?, ?, ?, 0)",
                (conversation_id, model_id, now, json.dumps(cited)),
            )
            reply_id = cursor.lastrowid
        assert reply_id is not None
        return conversation_id, reply_id

    async def write_reply(self, message_id: int, content: str, complete: bool) -> None:
        """The reply as far as it got; `complete` once the model has finished it."""
        await self._store.execute(
            "UPDATE messages SET content = ?, complete = ? WHERE id = ?", (content, int(complete), message_id)
        )

    async def messages(self, conversation_id: str) -> list[StoredMessage]:
        await self.require(conversation_id)
        rows = await self._store.fetchall(
            "SELECT role, content, created_at, model_id, cited_json, complete FROM messages "
            "WHERE conversation_id = ? ORDER BY id",
            (conversation_id,),
        )
        return [
            StoredMessage(
                r["role"],
                r["content"],
                from_db(r["created_at"]),  # type: ignore[arg-type]
                r["model_id"] or "",
                json.loads(r["cited_json"]),
                bool(r["complete"]),
            )
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
