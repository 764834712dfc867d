"""Chat's own prompt path, run inside a job child: the system prompt and retrieved memories, as chat builds them.

Training writes its examples with the system prompt chat sends, and evaluates with the prompts chat
would send for each question (the same `IdentityPrompt`, `Retriever` and `ChatContext`), so a score
measures what the owner will get. The child opens the store read-only in spirit: preparing a prompt
writes nothing.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from secondme.daemon.chat_context import ChatContext
from secondme.daemon.identity_prompt import IdentityPrompt
from secondme.daemon.memory_search import RetrievalSettings, Retriever
from secondme.daemon.store import Store
from secondme.daemon.store.identity import IdentityRepository
from secondme.pipeline.llm import Message


def current_system_prompt(db_path: Path, owner_name: str) -> str:
    async def read() -> str:
        store = await Store.open(db_path)
        try:
            return await IdentityPrompt(IdentityRepository(store), lambda: owner_name).system_prompt()
        finally:
            await store.close()

    return asyncio.run(read())


def chat_prompts(
    db_path: Path,
    owner_name: str,
    settings: RetrievalSettings,
    questions: list[str],
    trained_through: datetime | None,
) -> list[list[Message]]:
    """The messages chat would send the model for each question, with the memories it would retrieve."""

    async def prepare() -> list[list[Message]]:
        store = await Store.open(db_path)
        try:
            prompt = IdentityPrompt(IdentityRepository(store), lambda: owner_name)
            context = ChatContext(prompt, Retriever(store), settings)
            return [(await context.prepare([], q, trained_through)).messages for q in questions]
        finally:
            await store.close()

    return asyncio.run(prepare())
