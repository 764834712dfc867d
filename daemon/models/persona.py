"""Where the chat's system prompt comes from: the self's identity, as the memory pipeline wrote it."""

from __future__ import annotations

from typing import Protocol


class PersonaSource(Protocol):
    async def system_prompt(self) -> str:
        """The owner's identity in words for the model; empty until the pipeline has written one."""


class EmptyPersona:
    """Before the memory pipeline has modelled the owner there is nothing to say."""

    async def system_prompt(self) -> str:
        return ""
