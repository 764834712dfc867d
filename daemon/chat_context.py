"""What the model sees for one chat message, and whether a model speaks at all.

The prompt itself is built by `secondme.pipeline.chat_prompt`, the same function training uses. The
stored conversation keeps the owner's message as typed; memories are brought in afresh for each
message. `ChatContext.plan` decides how the self answers (abstain, quote the owner, or let the
model write); chat and `secondmectl eval` both ask it, so the eval scores what chat would say.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from secondme.daemon.identity_prompt import SystemPromptSource
from secondme.daemon.memory_search import RetrievalSettings, RetrievedMemory, Retriever
from secondme.daemon.store.conversations import StoredMessage
from secondme.pipeline.chat_prompt import chat_messages
from secondme.pipeline.grounded_reply import (
    ABSTENTION,
    asks_about_doings,
    asks_name,
    closest_sentence,
    name_reply,
    quoted_reply,
    recent_reply,
    should_abstain,
)
from secondme.pipeline.llm import Message

log = logging.getLogger(__name__)


# Newest memories a question about the owner's doings is answered from (saved pages are skipped).
NEWEST_CANDIDATES = 8
GENERATED = "generated"
QUOTED = "quoted"
ABSTAINED = "abstained"


@dataclass(frozen=True)
class Grounding:
    """How chat keeps to the owner's memories (from `[chat]`)."""

    min_relevance: float = 0.35
    use_failed_model: bool = False


@dataclass(frozen=True)
class ReplyPlan:
    """How one message is answered: `mode` generated (the model writes), quoted or abstained.

    `text` is the whole reply when no model speaks; `used` the memories the reply cites.
    """

    mode: str
    text: str
    used: list[RetrievedMemory]
    warning: str = ""


@dataclass(frozen=True)
class PreparedChat:
    messages: list[Message]
    cited: list[RetrievedMemory]

    @property
    def best_similarity(self) -> float:
        """How close the most relevant memory is to the message (cosine; 0 when none was found)."""
        return max((m.similarity or 0.0 for m in self.cited), default=0.0)


class ChatContext:
    def __init__(
        self, prompt_source: SystemPromptSource, retriever: Retriever | None, settings: RetrievalSettings
    ) -> None:
        self._prompt_source = prompt_source
        self._retriever = retriever
        self.settings = settings

    async def prepare(
        self, history: list[StoredMessage], text: str, trained_through: datetime | None, retrieve: bool = True
    ) -> PreparedChat:
        system = await self._prompt_source.system_prompt()
        past: list[Message] = [{"role": m.role, "content": m.content} for m in history]
        cited: list[RetrievedMemory] = []
        if retrieve and self._retriever is not None:
            try:
                cited = await self._retriever.retrieve(text, self.settings, trained_through)
            except Exception:  # memories help an answer; their failure must not cost it
                log.exception("retrieving memories for a chat message failed; answering without them")
        return PreparedChat(chat_messages(system, past, cited, text), cited)

    async def plan(
        self, text: str, prepared: PreparedChat, model: str | None, capable: bool, grounding: Grounding, retrieved: bool
    ) -> ReplyPlan:
        """Abstain on a question about the owner that no memory answers; quote the owner's sentences when
        `model` (the serving model's name; None: none) failed the capability check, unless the owner lets
        it write (then with a warning); otherwise the model writes. Asked its name, a self whose model may
        not write says the name the owner gave."""
        quoting = model is not None and not capable and not grounding.use_failed_model
        if quoting and asks_name(text) and (name := self._prompt_source.owner_name()):
            return ReplyPlan(QUOTED, name_reply(name), [])
        if retrieved and await self._unanswered(text, prepared, grounding.min_relevance):
            return ReplyPlan(ABSTAINED, ABSTENTION, [])
        if quoting:
            candidates = prepared.cited
            if retrieved and asks_about_doings(text) and self._retriever is not None:
                candidates = await self._retriever.newest(NEWEST_CANDIDATES)
            quoted, ids = await self.quote(text, candidates)
            return ReplyPlan(QUOTED if ids else ABSTAINED, quoted, [m for m in candidates if m.memory_id in ids])
        warning = ""
        if model is not None and not capable:
            warning = f"{model} did not pass the capability check: this reply is its own words, unchecked"
        return ReplyPlan(GENERATED, "", prepared.cited, warning)

    async def _unanswered(self, text: str, prepared: PreparedChat, min_relevance: float) -> bool:
        """No memory is relevant enough to a question about the owner: neither a retrieved chunk as a
        whole nor, when the chunks fall short, any one of the owner's sentences in them."""
        if not should_abstain(text, prepared.best_similarity, min_relevance):
            return False
        if self._retriever is None or not prepared.cited:
            return True
        closest = await asyncio.to_thread(closest_sentence, text, prepared.cited, self._retriever.embed_many)
        return should_abstain(text, closest, min_relevance)

    async def quote(self, text: str, cited: list[RetrievedMemory]) -> tuple[str, list[str]]:
        """A reply of the owner's own sentences that best answer `text` (see pipeline.grounded_reply)."""
        if self._retriever is None:
            return ABSTENTION, []
        embed = self._retriever.embed_many
        if asks_about_doings(text):
            return await asyncio.to_thread(recent_reply, cited, embed)
        return await asyncio.to_thread(quoted_reply, text, cited, embed)
