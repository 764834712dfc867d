"""The owner's two biographies: who they are (global) and what they have been doing lately (status).

The global biography is written from the shades, never from private ones, so what the owner hid
is not retold in the one text most likely to be shown. The status biography is written from the
newest memories, again leaving out members of private shades.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from secondme.pipeline.identity.briefs import MemoryBrief
from secondme.pipeline.identity.shades import ShadeText
from secondme.pipeline.identity.voice import in_second_person, max_tokens_for, object_schema, string_field
from secondme.pipeline.llm import Generator, Message

# Shades given to the model for the global biography, largest first, and how much of each.
MAX_SHADES = 12
SHADE_CHARS = 600
# Recent memories the status biography is written from.
MAX_RECENT = 12
GLOBAL_CHARS = 880
STATUS_CHARS = 480
GLOBAL_SCHEMA = object_schema({"text": string_field(80, GLOBAL_CHARS)})
STATUS_SCHEMA = object_schema({"text": string_field(40, STATUS_CHARS)})


@dataclass(frozen=True)
class BiographyText:
    text_third: str
    text_second: str


@dataclass(frozen=True)
class ShadeSummary:
    text: ShadeText
    member_count: int
    first: str
    last: str


def _who(owner_name: str) -> str:
    return owner_name or "the owner"


def global_messages(shades: list[ShadeSummary], owner_name: str = "") -> list[Message]:
    who = _who(owner_name)
    system = (
        f"You write the biography of {who} from the facets of their life listed by the user. Use only facts "
        "found there. Say who they are, where they live, what work they do, the people close to them, what "
        "they care about, and how these changed over time, with years. Write in the third person.\n\n"
        "Answer with JSON: text (the biography)."
    )
    ranked = sorted(shades, key=lambda s: -s.member_count)[:MAX_SHADES]
    lines = []
    for shade in ranked:
        body = " ".join(p for p in (shade.text.description_third, shade.text.content_third) if p)
        lines.append(
            f"- {shade.text.name} ({shade.text.aspect or 'facet'}; {shade.first} to {shade.last}, "
            f"{shade.member_count} notes): {body[:SHADE_CHARS]}"
        )
    return [{"role": "system", "content": system}, {"role": "user", "content": "Facets:\n" + "\n".join(lines)}]


def status_messages(recent: list[MemoryBrief], biography: str, owner_name: str = "") -> list[Message]:
    who = _who(owner_name)
    known = f"Who {who} is:\n{biography.strip()}\n\n" if biography.strip() else ""
    system = (
        f"You write a short status of what {who} has been doing lately, from their newest notes listed by the "
        f"user, in the third person. Use only what the notes say.\n\n{known}Answer with JSON: text (the status)."
    )
    lines = [f"- {m.date} {m.title}: {m.gist}" for m in recent[-MAX_RECENT:]]
    return [{"role": "system", "content": system}, {"role": "user", "content": "Newest notes:\n" + "\n".join(lines)}]


def _write(
    generator: Generator, messages: list[Message], schema: dict[str, Any], limit: int, owner_name: str
) -> BiographyText:
    value = generator.generate_json(messages, schema, max_tokens=max_tokens_for(schema), seed=0)
    third = str(value["text"]).strip()
    second = in_second_person(generator, {"text": third}, {"text": limit}, owner_name)["text"]
    return BiographyText(third, second)


def write_global(generator: Generator, shades: list[ShadeSummary], owner_name: str = "") -> BiographyText:
    return _write(generator, global_messages(shades, owner_name), GLOBAL_SCHEMA, GLOBAL_CHARS, owner_name)


def write_status(
    generator: Generator, recent: list[MemoryBrief], biography: str, owner_name: str = ""
) -> BiographyText:
    messages = status_messages(recent, biography, owner_name)
    return _write(generator, messages, STATUS_SCHEMA, STATUS_CHARS, owner_name)
