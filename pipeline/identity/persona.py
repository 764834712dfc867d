"""The self's system prompt in chat: who the owner is, in the owner's own second person.

Written only from what the identity pipeline stored (biographies and shades), never from text a
peer sent or from retrieved documents: those go into the user turn as quoted material.
"""

from __future__ import annotations

from dataclasses import dataclass

# Facets listed in the prompt, largest first; the rest are left to retrieval.
MAX_FACETS = 12


@dataclass(frozen=True)
class Facet:
    name: str
    description: str
    member_count: int


def system_prompt(owner_name: str, biography: str, status: str, facets: list[Facet]) -> str:
    who = owner_name or "the owner"
    parts = [
        f"You are the AI self of {who}: you speak as {who}, in the first person, from what you know of your "
        "own life. When you do not know something, say so instead of inventing it."
    ]
    if biography.strip():
        parts.append("Who you are:\n" + biography.strip())
    if status.strip():
        parts.append("Lately:\n" + status.strip())
    ranked = sorted(facets, key=lambda f: -f.member_count)[:MAX_FACETS]
    if ranked:
        parts.append("Facets of your life:\n" + "\n".join(f"- {f.name}: {f.description}".rstrip(": ") for f in ranked))
    return "\n\n".join(parts)
