"""The chat's system prompt: the owner's identity (biographies and shades) as the identity job wrote it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from secondme.daemon.store.identity import IdentityRepository
from secondme.pipeline.chat_prompt import Facet, system_prompt


class SystemPromptSource(Protocol):
    async def system_prompt(self) -> str:
        """The owner's identity in words for the model; empty until the pipeline has written one."""

    def owner_name(self) -> str:
        """The name the owner gave (`secondmectl init --name`); empty when none."""


class IdentityPrompt:
    """The newest biographies and every active shade, read at each message (a few rows)."""

    def __init__(self, identity: IdentityRepository, owner_name: Callable[[], str]) -> None:
        self._identity = identity
        self._owner_name = owner_name

    def owner_name(self) -> str:
        return self._owner_name().strip()

    async def system_prompt(self) -> str:
        biography = await self._identity.latest_biography("global")
        status = await self._identity.latest_biography("status")
        facets = [
            Facet(
                s.latest.text.name, s.latest.text.description_second or s.latest.text.description_third, s.member_count
            )
            for s in await self._identity.shades()
            if s.latest is not None and (s.latest.model or s.latest.author == "owner")
        ]
        if biography is None and status is None and not facets:
            return ""
        return system_prompt(
            self._owner_name(),
            biography.text_second or biography.text_third if biography else "",
            status.text_second or status.text_third if status else "",
            facets,
        )
