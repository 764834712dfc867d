"""A shade's words: what one group of alike memories says about the owner, and how sure we are.

The text comes from the model (schema-constrained), written from a handful of the group's memories
chosen to represent it and to span its time: those memories are the shade's timeline, the
provenance of every sentence in it. Confidence is not the model's opinion but a count of the
evidence: how many memories, over how long, how alike. While no model is available a shade is
named from its distinctive keywords so the owner still sees what it is about.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from secondme.pipeline.identity.briefs import MemoryBrief
from secondme.pipeline.identity.writing import Field, Writer
from secondme.pipeline.llm import Message

# Memories a shade's text is written from (and its timeline lists).
EVIDENCE_LIMIT = 10
SHADE_FIELDS = {
    "name": Field(3, 40),
    "aspect": Field(3, 24),
    "icon": Field(1, 4),
    "description": Field(20, 280),
    "content": Field(40, 480),
}


@dataclass(frozen=True)
class ShadeText:
    name: str
    aspect: str = ""
    icon: str = ""
    description_third: str = ""
    description_second: str = ""
    content_third: str = ""
    content_second: str = ""


# The columns of a shade's text, in the store and in the API.
SHADE_TEXT_FIELDS = tuple(f.name for f in dataclasses.fields(ShadeText))


@dataclass(frozen=True)
class Evidence:
    member_count: int
    first: datetime
    last: datetime
    cohesion: float

    @property
    def confidence(self) -> str:
        """high: many memories over months that agree; medium: a real pattern; low: a hint."""
        span_days = (self.last - self.first).days
        if self.member_count >= 6 and span_days >= 90 and self.cohesion >= 0.3:
            return "high"
        if self.member_count >= 3 and (span_days >= 30 or self.cohesion >= 0.45):
            return "medium"
        return "low"


def evidence_for(members: list[MemoryBrief], vectors: dict[str, np.ndarray]) -> Evidence:
    from secondme.pipeline.identity.clustering import cohesion

    present = [vectors[m.id] for m in members if m.id in vectors]
    total = np.sum(present, axis=0, dtype=np.float64) if present else np.zeros(1)
    dates = sorted(m.created_at for m in members)
    return Evidence(len(members), dates[0], dates[-1], cohesion(total, len(present)) if present else 0.0)


def select_evidence(
    members: list[MemoryBrief], vectors: dict[str, np.ndarray], limit: int = EVIDENCE_LIMIT
) -> list[MemoryBrief]:
    """The memories to write from: the most typical of each stretch of the shade's time, oldest first.

    Members are split by date into `limit` equal runs and the one closest to the shade's mean is
    taken from each, so a shade that spans three years is not described from last month alone.
    """
    ordered = sorted(members, key=lambda m: (m.created_at, m.id))
    if len(ordered) <= limit:
        return ordered
    present = [vectors[m.id] for m in ordered if m.id in vectors]
    mean = np.mean(present, axis=0) if present else None
    chosen = []
    for run in np.array_split(np.arange(len(ordered)), limit):
        candidates = [ordered[i] for i in run]
        if mean is None:
            chosen.append(candidates[0])
        else:
            chosen.append(max(candidates, key=lambda m: float(vectors[m.id] @ mean) if m.id in vectors else -1.0))
    return chosen


def timeline(memories: list[MemoryBrief]) -> list[dict[str, str]]:
    return [{"memory_id": m.id, "date": m.date, "title": m.title} for m in memories]


def shade_messages(evidence: list[MemoryBrief], owner_name: str = "") -> list[Message]:
    who = owner_name or "the owner"
    system = (
        f"You describe one facet of {who}'s life from a few of their own notes. Write in English, in the third "
        "person, and only what the notes support; keep the dates, and say how things changed over time.\n\n"
        "Answer with JSON: name (two to four words naming the facet), aspect (the area of life, such as work, "
        f"hobby, family, friends, health, home, learning or values), icon (one emoji), description (one or two "
        f"sentences about {who}), content (a paragraph with the details and dates)."
    )
    lines = [f"- {m.date} {m.title}: {m.gist}" for m in evidence]
    user = "Notes in this facet, oldest first:\n" + "\n".join(lines)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def write_shade(writer: Writer, evidence: list[MemoryBrief]) -> ShadeText:
    """The model's text for a shade, in both persons; raises GenerationError when it gives nothing usable."""
    value = writer.ask(shade_messages(evidence, writer.owner_name), SHADE_FIELDS)
    third = {"description": str(value["description"]).strip(), "content": str(value["content"]).strip()}
    second = writer.second_person(third, SHADE_FIELDS)
    return ShadeText(
        name=str(value["name"]).strip(),
        aspect=str(value["aspect"]).strip(),
        icon=str(value["icon"]).strip(),
        description_third=third["description"],
        description_second=second["description"],
        content_third=third["content"],
        content_second=second["content"],
    )
