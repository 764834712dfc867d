"""Which shade each memory belongs to, updated incrementally.

Shades that exist keep their members: a memory the pipeline once placed stays (the owner's merges
and splits pin theirs). Memories not yet in a shade, the new ones and those that were not alike
enough to anything before, first try the existing shades, joining the nearest one when they are on
average within the clustering threshold of its members (the same rule that built the shade); the
rest are clustered among themselves, and groups big enough become new shades. What remains stays
in the pool and is reconsidered next time, never dropped.

Sentence embeddings share a common direction (every note of one person, in one voice, is somewhat
alike), which crowds unrelated notes together. Vectors are therefore centred on the corpus mean
before any decision, the mean shrunk toward zero for small corpora (a mean of five notes says
little about what is common), and re-normalised.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from secondme.pipeline.identity.clustering import average_distance, cluster


@dataclass(frozen=True)
class ShadeGroup:
    shade_id: int
    members: tuple[str, ...]


@dataclass
class MembershipPlan:
    # memory id -> the existing shade it joins
    joins: dict[str, int] = field(default_factory=dict)
    # groups of memory ids that become new shades
    new_shades: list[list[str]] = field(default_factory=list)
    # memory ids left in the pool (outliers and groups below the minimum size)
    unclustered: list[str] = field(default_factory=list)


# Pseudo-count of the shrinkage of the corpus mean: with n memories, n / (n + prior) of it is removed.
CENTERING_PRIOR = 20


@dataclass(frozen=True)
class MembershipSettings:
    # Mean cosine distance (of centred vectors) within which memories, or a memory and a shade, belong together.
    threshold: float = 0.85
    # Fewer alike memories than this make no shade yet: they wait in the pool.
    min_shade_memories: int = 3


def centred(vectors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Unit vectors with the (shrunk) corpus mean removed; see the module docstring."""
    if not vectors:
        return {}
    ids = list(vectors)
    matrix = np.stack([vectors[m] for m in ids]).astype(np.float64)
    matrix -= matrix.mean(axis=0) * (len(ids) / (len(ids) + CENTERING_PRIOR))
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    matrix /= np.where(norms > 0, norms, 1.0)
    return dict(zip(ids, matrix, strict=True))


def group_sum(vectors: dict[str, np.ndarray], members: tuple[str, ...] | list[str]) -> tuple[np.ndarray | None, int]:
    present = [vectors[m] for m in members if m in vectors]
    if not present:
        return None, 0
    return np.sum(present, axis=0, dtype=np.float64), len(present)


def plan_membership(
    vectors: dict[str, np.ndarray],
    shades: list[ShadeGroup],
    pending: list[str],
    settings: MembershipSettings = MembershipSettings(),
) -> MembershipPlan:
    """Place `pending` memories (ids with a vector, in no active shade) given the current shades."""
    plan = MembershipPlan()
    pending = [m for m in pending if m in vectors]
    if not pending:
        return plan
    vectors = centred(vectors)
    matrix = np.stack([vectors[m] for m in pending]).astype(np.float64)
    targets: list[tuple[int, np.ndarray, int]] = []
    for shade in shades:
        total, size = group_sum(vectors, shade.members)
        if total is not None:
            targets.append((shade.shade_id, total, size))
    remaining = list(range(len(pending)))
    if targets:
        distances = np.stack([average_distance(matrix, total, size) for _, total, size in targets], axis=1)
        best = np.argmin(distances, axis=1)
        best_distance = distances[np.arange(len(pending)), best]
        remaining = []
        for index, memory_id in enumerate(pending):
            if best_distance[index] <= settings.threshold:
                plan.joins[memory_id] = targets[int(best[index])][0]
            else:
                remaining.append(index)
    if not remaining:
        return plan
    groups = cluster(matrix[remaining], settings.threshold)
    for members in groups.members():
        ids = [pending[remaining[i]] for i in members]
        if len(ids) >= settings.min_shade_memories:
            plan.new_shades.append(ids)
        else:
            plan.unclustered.extend(ids)
    return plan
