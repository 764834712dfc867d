"""Representative and diverse: which of a group's sentences to keep.

Centrality is a sentence's mean cosine similarity to the others of its group: the sentence that
says what most of them say. Maximal marginal relevance then takes sentences one by one, each time
the one most relevant (central, or close to a question) and least like those already taken, so
three sentences about a shade are not three ways of saying the same thing.
"""

from __future__ import annotations

import numpy as np

# Weight of "unlike what was already chosen" against relevance.
DIVERSITY = 0.35
# Sentences at least this alike (cosine) to one already chosen are never taken too.
NEAR_DUPLICATE = 0.9


def centrality(vectors: np.ndarray) -> np.ndarray:
    """Mean cosine similarity of each unit vector to the others (0 for a lone vector)."""
    count = len(vectors)
    if count < 2:
        return np.zeros(count)
    total = vectors.sum(axis=0)
    return (vectors @ total - 1.0) / (count - 1)


def mmr(
    vectors: np.ndarray, relevance: np.ndarray, limit: int, diversity: float = DIVERSITY, floor: float = -np.inf
) -> list[int]:
    """Indexes of up to `limit` rows chosen by maximal marginal relevance, best first.

    Rows whose relevance is below `floor` are never chosen.
    """
    candidates = [i for i in range(len(vectors)) if relevance[i] >= floor]
    chosen: list[int] = []
    while candidates and len(chosen) < limit:
        likeness = (vectors[candidates] @ vectors[chosen].T).max(axis=1) if chosen else np.zeros(len(candidates))
        scores = (1 - diversity) * relevance[candidates] - diversity * likeness
        best = int(np.argmax(scores))
        if likeness[best] < NEAR_DUPLICATE:
            chosen.append(candidates[best])
        del candidates[best]
    return chosen
