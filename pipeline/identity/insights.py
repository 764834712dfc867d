"""Per-document insight: a title, a summary, what it says about the owner, and keywords.

Written by the model in light of the owner's current biography, so a note about "Gerald" is read
as the sourdough starter the biography already mentions. The document is untrusted text (a saved
web page can say anything): it goes in the user turn, never the system prompt. Documents too short
to be worth a model call are summarised from their own words.
"""

from __future__ import annotations

from dataclasses import dataclass

from secondme.pipeline.identity.briefs import MemoryBrief
from secondme.pipeline.identity.writing import Field, Writer
from secondme.pipeline.llm import Message

# Below this many characters a document is its own summary.
SHORT_TEXT_CHARS = 500
# The document's text given to the model, from its start (a small context holds this and the answer).
MAX_DOCUMENT_CHARS = 4000

INSIGHT_FIELDS = {
    "title": Field(3, 80),
    "summary": Field(10, 320),
    "insight": Field(10, 200),
    "keywords": Field(2, 24, items=6),
}


@dataclass(frozen=True)
class Insight:
    status: str  # done | short
    title: str
    summary: str
    insight: str
    keywords: tuple[str, ...]


def is_short(text: str) -> bool:
    return len(text.strip()) < SHORT_TEXT_CHARS


def insight_messages(memory: MemoryBrief, biography: str, owner_name: str = "") -> list[Message]:
    who = owner_name or "the owner"
    known = f"What is known about {who} so far:\n{biography.strip()}\n\n" if biography.strip() else ""
    system = (
        f"You keep the memory of {who}. You read one of their documents and describe it briefly and "
        "factually in English, in the third person. Never invent facts that the document does not state.\n\n"
        "Answer with JSON: title (a short title), summary (two or three sentences on what the document "
        f"says), insight (what it shows about {who}: interests, work, places, people, habits or feelings), "
        "keywords (up to six words or short phrases)."
    )
    text = memory.text.strip()
    if len(text) > MAX_DOCUMENT_CHARS:
        text = text[:MAX_DOCUMENT_CHARS] + "\n[...]"
    # The biography is written from the owner's files, so it is material like the document, not an instruction.
    user = known + (
        f"Document: {memory.title}\nKind: {memory.source_type}\nDate: {memory.date}\n\n<document>\n{text}\n</document>"
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def write_insight(writer: Writer, memory: MemoryBrief, biography: str) -> Insight:
    """The model's insight for one document; raises GenerationError when the model gives nothing usable."""
    value = writer.ask(insight_messages(memory, biography, writer.owner_name), INSIGHT_FIELDS)
    keywords = tuple(dict.fromkeys(k.strip() for k in value["keywords"] if k.strip()))
    return Insight("done", value["title"].strip(), value["summary"].strip(), value["insight"].strip(), keywords)
