"""Memories that hold the same content in two forms: a note and the PDF printed from it.

Both are kept (their bytes differ, and the owner may delete either), but counting them twice
would double their weight in a shade and fill a chat's context with one fact twice. Candidates
are found by embedding similarity, then confirmed on the words themselves: the share of the
shorter text's five-word runs found in the other. Extraction noise (page headers, hyphenation,
Markdown marks) costs a few runs; a different document on the same subject shares almost none.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

# Embedding similarity from which two memories are compared word by word.
CANDIDATE_SIMILARITY = 0.9
# Share of the shorter text's word runs that must appear in the other.
SAME_CONTENT_OVERLAP = 0.7
SHINGLE_WORDS = 5
_WORD = re.compile(r"\w+", re.UNICODE)
_BATCH = 256


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[int]:
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < size:
        return {hash(tuple(words))} if words else set()
    return {hash(tuple(words[i : i + size])) for i in range(len(words) - size + 1)}


def overlap(a: set[int], b: set[int]) -> float:
    """Containment of the smaller set in the larger (1.0: every run of the shorter text is in the other)."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


@dataclass(frozen=True)
class Link:
    memory_id: str
    same_as: str
    similarity: float


def find_same_content(
    new_ids: list[str],
    ids: list[str],
    vectors: np.ndarray,
    text_of: Callable[[str], str],
    order: dict[str, tuple[str, str]],
) -> list[Link]:
    """Links from each new memory to an earlier memory with the same content.

    `ids`/`vectors` are every memory's unit vector; `order` sorts memories oldest-ingested first,
    so the later copy always points at the earlier one and links never form a cycle.
    """
    position = {m: i for i, m in enumerate(ids)}
    links: list[Link] = []
    cache: dict[str, set[int]] = {}

    def runs(memory_id: str) -> set[int]:
        if memory_id not in cache:
            cache[memory_id] = shingles(text_of(memory_id))
        return cache[memory_id]

    wanted = [m for m in new_ids if m in position]
    for start in range(0, len(wanted), _BATCH):
        batch = wanted[start : start + _BATCH]
        similarity = vectors[[position[m] for m in batch]] @ vectors.T
        for row, memory_id in enumerate(batch):
            for column in _candidates(similarity[row]):
                other = ids[column]
                if other == memory_id or order[other] >= order[memory_id]:
                    continue
                share = overlap(runs(memory_id), runs(other))
                if share >= SAME_CONTENT_OVERLAP:
                    links.append(Link(memory_id, other, round(share, 4)))
                    break
    return _to_roots(links)


def _to_roots(links: list[Link]) -> list[Link]:
    """Point every copy at the original, never at another copy."""
    target = {link.memory_id: link.same_as for link in links}

    def root(memory_id: str) -> str:
        while memory_id in target:
            memory_id = target[memory_id]
        return memory_id

    return [Link(link.memory_id, root(link.same_as), link.similarity) for link in links]


def _candidates(row: np.ndarray) -> Iterable[int]:
    found = np.flatnonzero(row >= CANDIDATE_SIMILARITY)
    return found[np.argsort(-row[found])]
