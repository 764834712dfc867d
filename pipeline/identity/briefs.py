"""What the identity steps see of a memory: its words, its date, and what was learned from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class MemoryBrief:
    id: str
    title: str
    created_at: datetime
    source_type: str
    # The memory's text; steps that only need the gist use `gist`.
    text: str = ""
    # From the memory's insight when it has one.
    summary: str = ""
    insight: str = ""
    keywords: tuple[str, ...] = field(default_factory=tuple)

    @property
    def gist(self) -> str:
        """The shortest faithful stand-in for the memory in a prompt."""
        parts = [self.summary or self.text[:400].strip()]
        if self.insight:
            parts.append(self.insight)
        return " ".join(p for p in parts if p)

    @property
    def date(self) -> str:
        return self.created_at.strftime("%Y-%m-%d")
