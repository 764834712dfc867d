"""The owner's two biographies: who they are (global) and what they have been doing lately (status).

The global biography is written from the shades, never from private ones, so what the owner hid
is not retold in the one text most likely to be shown. The status biography is written from the
newest memories, again leaving out members of private shades.
"""

from __future__ import annotations

from dataclasses import dataclass

from secondme.pipeline.identity.briefs import MemoryBrief
from secondme.pipeline.identity.shades import ShadeText
from secondme.pipeline.identity.writing import Field, Writer
from secondme.pipeline.llm import Message

# Shades given to the model for the global biography, largest first, and how much of each.
MAX_SHADES = 12
SHADE_CHARS = 600
# Recent memories the status biography is written from.
MAX_RECENT = 12
GLOBAL_FIELDS = {"text": Field(80, 880)}
STATUS_FIELDS = {"text": Field(40, 480)}


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
    system = (
        f"You write a short status of what {who} has been doing lately, from their newest notes listed by the "
        "user, in the third person. Use only what the notes say.\n\nAnswer with JSON: text (the status)."
    )
    # The biography is written from the notes, so it is material like them, never an instruction.
    known = f"Who {who} is:\n{biography.strip()}\n\n" if biography.strip() else ""
    lines = [f"- {m.date} {m.title}: {m.gist}" for m in recent[-MAX_RECENT:]]
    user = known + "Newest notes:\n" + "\n".join(lines)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def _write(writer: Writer, messages: list[Message], fields: dict[str, Field]) -> BiographyText:
    third = str(writer.ask(messages, fields)["text"]).strip()
    return BiographyText(third, writer.second_person({"text": third}, fields)["text"])


def write_global(writer: Writer, shades: list[ShadeSummary]) -> BiographyText:
    return _write(writer, global_messages(shades, writer.owner_name), GLOBAL_FIELDS)


def write_status(writer: Writer, recent: list[MemoryBrief], biography: str) -> BiographyText:
    return _write(writer, status_messages(recent, biography, writer.owner_name), STATUS_FIELDS)
