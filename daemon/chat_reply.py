"""A chat reply kept in the store while it streams, so a crash keeps what was said.

The owner's message and the reply are stored only once the model has started to serve them: a
chat refused for want of a model (or a full queue) leaves nothing behind. From then on the
reply's text is written in small batches as it grows, and marked complete when the model
finishes; a reply cut off by the owner or by the daemon's end stays marked incomplete.
"""

from __future__ import annotations

import time
from typing import Any

from secondme.daemon.store.conversations import ConversationRepository

# A batch is written after this many pieces or this many seconds, whichever comes first.
FLUSH_PIECES = 16
FLUSH_SECONDS = 0.5


class StreamedReply:
    def __init__(self, conversations: ConversationRepository, conversation_id: str, message_id: int) -> None:
        self.conversation_id = conversation_id
        self._conversations = conversations
        self._message_id = message_id
        self._pieces: list[str] = []
        self._written = 0
        self._written_at = time.monotonic()

    @classmethod
    async def begin(
        cls,
        conversations: ConversationRepository,
        conversation_id: str,
        text: str,
        model_id: str,
        cited: list[dict[str, Any]],
    ) -> StreamedReply:
        """Store the owner's message and an empty, incomplete reply (a new conversation when no id)."""
        conversation_id, message_id = await conversations.begin_exchange(conversation_id, text, model_id, cited)
        return cls(conversations, conversation_id, message_id)

    @property
    def pieces(self) -> int:
        return len(self._pieces)

    def add(self, piece: str) -> None:
        self._pieces.append(piece)

    async def write_if_due(self) -> None:
        """Write the batch once it is big or old enough (call after the pieces were sent)."""
        due = len(self._pieces) - self._written >= FLUSH_PIECES or time.monotonic() - self._written_at >= FLUSH_SECONDS
        if due:
            await self._write(complete=False)

    async def finish(self, complete: bool) -> None:
        """Write what was said; `complete` when the model finished the reply (not cut off)."""
        await self._write(complete)

    async def _write(self, complete: bool) -> None:
        await self._conversations.write_reply(self._message_id, "".join(self._pieces), complete)
        self._written, self._written_at = len(self._pieces), time.monotonic()
