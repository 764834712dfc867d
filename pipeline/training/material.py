"""What training data is built from: the owner's memories, as chat quotes them, and what the self says of itself.

The daemon reads these from its store and hands them over; the pipeline never opens the database.
A passage is what chat's retrieval quotes (one chunk of a memory, with the memory's date, title and
type), so an example's prompt holds exactly what a chat prompt would.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np


@dataclass(frozen=True)
class Passage:
    """One chunk of a memory; satisfies `chat_prompt.QuotedMemory`."""

    memory_id: str
    chunk_id: int
    created_at: datetime
    title: str
    source_type: str
    text: str


@dataclass(frozen=True)
class Memory:
    id: str
    title: str
    source_type: str
    created_at: datetime  # the memory's own date
    ingested_at: datetime
    passages: tuple[Passage, ...]
    # Mean embedding of the memory (unit length); distractors are the memories nearest to it.
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def text(self) -> str:
        return "\n".join(p.text for p in self.passages)


@dataclass(frozen=True)
class SelfStatement:
    """A sentence the self says about itself (from a grounded biography) and the memories it rests on."""

    text: str
    memory_ids: tuple[str, ...]


@dataclass(frozen=True)
class Material:
    owner_name: str
    # The system prompt chat sends now (the owner's identity); every example carries it.
    system_prompt: str
    memories: tuple[Memory, ...]
    # Memories of shades the owner marked private: never a source of an answer, never quoted.
    private_memory_ids: frozenset[str] = frozenset()
    biography: tuple[SelfStatement, ...] = ()
    status: tuple[SelfStatement, ...] = ()


def held_out(memory_id: str, fraction: float) -> bool:
    """Whether a memory is kept out of training (for evaluation), stable as memories come and go.

    Decided by a hash of the id alone, so adding memories never moves an old one between the splits:
    a question held out from one training stays held out from the next.
    """
    if fraction <= 0:
        return False
    digest = hashlib.sha256(b"secondme-held-out\0" + memory_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction
