"""Hybrid retrieval: dense (embedding) and lexical (full-text) rankings fused into one.

Embeddings find what a question means ("where do I live" finds the note about the flat); the
full-text index finds what it names ("Gerald", "Kestrel"), which a small embedding model blurs.
Reciprocal rank fusion combines the two without calibrating their scores against each other, and
every hit keeps both of its reasons, so an answer can say why a memory was used. The dense ranking
weighs more: on the persona's eval questions (bench/bench_identity_quality.py) equal weights lost
recall to dense alone (0.80 vs 0.84 at k=5), while a 3:1 weight keeps dense recall and still lets a
rare name in the question lift the note that contains it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

# The usual constant of reciprocal rank fusion: a hit's share is weight / (RRF_K + rank).
RRF_K = 60
DENSE_WEIGHT = 3.0
_WORD = re.compile(r"[^\W_][\w'-]*", re.UNICODE)
_QUESTION_WORDS = {
    "a", "an", "and", "are", "at", "be", "did", "do", "does", "for", "from", "had", "has", "have", "how", "i",
    "in", "is", "it", "me", "my", "of", "on", "or", "the", "to", "was", "were", "what", "when", "where",
    "which", "who", "why", "with", "you", "your", "about", "tell", "can", "could", "would", "should", "now",
    "these", "days", "this", "that", "there", "they", "them", "we", "our", "us", "been", "any", "some",
}  # fmt: skip


@dataclass(frozen=True)
class ChunkHit:
    chunk_id: int
    memory_id: str
    score: float  # fused
    similarity: float | None = None  # cosine, when the dense ranking found it
    lexical_rank: int | None = None  # 1-based, when the full-text ranking found it


def fts_query(text: str, max_terms: int = 12) -> str:
    """An FTS5 query matching any of the question's content words; '' when it has none.

    Every term is quoted, so nothing the owner types is read as FTS5 syntax.
    """
    terms = []
    for word in _WORD.findall(text.lower()):
        word = word.strip("'-")
        if len(word) > 1 and word not in _QUESTION_WORDS and word not in terms:
            terms.append(word)
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms[:max_terms])


def dense_ranking(
    query: np.ndarray, matrix: np.ndarray, chunk_ids: np.ndarray, limit: int, min_similarity: float
) -> list[tuple[int, float]]:
    """The `limit` chunks most similar to the query (unit vectors), best first."""
    if len(chunk_ids) == 0 or limit <= 0:
        return []
    scores = matrix @ query
    limit = min(limit, len(scores))
    top = np.argpartition(-scores, limit - 1)[:limit]
    top = top[np.argsort(-scores[top])]
    return [(int(chunk_ids[i]), float(scores[i])) for i in top if scores[i] >= min_similarity]


def fuse(
    dense: list[tuple[int, float]], lexical: list[int], memory_of: dict[int, str], rrf_k: int = RRF_K
) -> list[ChunkHit]:
    """Fuse a dense ranking of (chunk, similarity) with a lexical ranking of chunks, best first."""
    scores: dict[int, float] = {}
    similarity: dict[int, float] = {}
    lexical_rank: dict[int, int] = {}
    for rank, (chunk, value) in enumerate(dense, start=1):
        scores[chunk] = scores.get(chunk, 0.0) + DENSE_WEIGHT / (rrf_k + rank)
        similarity[chunk] = value
    for rank, chunk in enumerate(lexical, start=1):
        if chunk not in memory_of:
            continue
        scores[chunk] = scores.get(chunk, 0.0) + 1.0 / (rrf_k + rank)
        lexical_rank[chunk] = rank
    ordered = sorted(scores, key=lambda c: (-scores[c], c))
    return [ChunkHit(c, memory_of[c], scores[c], similarity.get(c), lexical_rank.get(c)) for c in ordered]


def best_per_memory(hits: list[ChunkHit], limit: int) -> list[ChunkHit]:
    """The best chunk of each memory, for at most `limit` memories: one note never fills the context."""
    chosen: dict[str, ChunkHit] = {}
    for hit in hits:
        if hit.memory_id not in chosen:
            chosen[hit.memory_id] = hit
            if len(chosen) >= limit:
                break
    return list(chosen.values())
