"""Group alike memories: average-linkage clustering on cosine distance, cut at one threshold.

Average linkage, because its cut is a plain statement that does not drift with cluster size as
Ward's does: two groups join when their memories are, on average, within cosine distance `t` of
each other. One configured threshold then means the same for 50 memories as for 50,000, and the
same rule decides whether a new memory joins an existing shade (`average_distance`).

For unit vectors the mean pairwise cosine distance between disjoint groups A and B is exactly
`1 - mean(A) . mean(B)` (means not normalized), so a group is summarized by its vector sum and its
size without losing exactness. That makes the large case cheap: above `EXACT_LIMIT` vectors a
mini-batch k-means pass first makes small micro-groups (never split later), and the same exact
weighted linkage runs on those. Time and memory stay near-linear in the number of memories
instead of the quadratic distance matrix of a plain hierarchical clustering.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Up to this many vectors are clustered one by one; above it, micro-groups come first.
EXACT_LIMIT = 2000
# Micro-groups made for large inputs: about this many vectors each, at most MAX_MICRO_GROUPS.
MICRO_GROUP_SIZE = 20
MAX_MICRO_GROUPS = 2500


@dataclass(frozen=True)
class Clusters:
    """`labels[i]` is the cluster of vector i (0..count-1), clusters numbered by first appearance."""

    labels: np.ndarray
    count: int

    def members(self) -> list[np.ndarray]:
        """Indexes of the vectors in each cluster, in cluster order."""
        order = np.argsort(self.labels, kind="stable")
        bounds = np.searchsorted(self.labels[order], np.arange(self.count + 1))
        return [order[bounds[c] : bounds[c + 1]] for c in range(self.count)]


def average_distance(vectors: np.ndarray, group_sum: np.ndarray, group_size: int) -> np.ndarray:
    """Mean cosine distance from each unit vector to the members of a group (given by sum and size)."""
    return 1.0 - vectors @ (group_sum / group_size)


def cohesion(group_sum: np.ndarray, group_size: int) -> float:
    """Mean pairwise cosine similarity inside a group of unit vectors (1.0 for a single member)."""
    if group_size < 2:
        return 1.0
    squared = float(group_sum @ group_sum)
    return (squared - group_size) / (group_size * (group_size - 1))


def _renumber(labels: np.ndarray) -> Clusters:
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return Clusters(rank[inverse].astype(np.int64), len(first))


def weighted_average_linkage(sums: np.ndarray, sizes: np.ndarray, threshold: float) -> np.ndarray:
    """Merge groups while the closest pair is within `threshold`; returns a label per input group.

    Each step merges the globally closest pair (the classic UPGMA order), keeping for every row its
    nearest neighbour so a step costs O(k) instead of a scan of the whole k x k matrix. Average
    linkage never brings a third group closer than the nearer of the two merged, so only rows whose
    nearest neighbour was merged need a rescan.
    """
    count = len(sizes)
    labels = np.arange(count)
    if count < 2:
        return labels
    sums = np.array(sums, dtype=np.float64)
    sizes = np.array(sizes, dtype=np.float64)
    means = sums / sizes[:, None]
    distance = 1.0 - means @ means.T
    np.fill_diagonal(distance, np.inf)
    nearest = np.argmin(distance, axis=1)
    nearest_distance = distance[np.arange(count), nearest]
    alive = np.ones(count, dtype=bool)
    while True:
        row = int(np.argmin(nearest_distance))
        if not nearest_distance[row] <= threshold:
            break
        keep, gone = sorted((row, int(nearest[row])))
        sums[keep] += sums[gone]
        sizes[keep] += sizes[gone]
        labels[labels == gone] = keep
        alive[gone] = False
        distance[gone, :] = np.inf
        distance[:, gone] = np.inf
        nearest_distance[gone] = np.inf
        merged = 1.0 - means[alive] @ (sums[keep] / sizes[keep])
        means[keep] = sums[keep] / sizes[keep]
        row_values = np.full(count, np.inf)
        row_values[alive] = merged
        row_values[keep] = np.inf
        distance[keep, :] = row_values
        distance[:, keep] = row_values
        stale = np.flatnonzero(alive & ((nearest == keep) | (nearest == gone)))
        for index in stale:
            nearest[index] = int(np.argmin(distance[index]))
            nearest_distance[index] = distance[index, nearest[index]]
        closer = alive & (row_values < nearest_distance)
        nearest[closer] = keep
        nearest_distance[closer] = row_values[closer]
        # the merged row itself, scanned last so the updates above are included
        nearest[keep] = int(np.argmin(distance[keep]))
        nearest_distance[keep] = distance[keep, nearest[keep]]
    return labels


def _micro_groups(vectors: np.ndarray, seed: int) -> np.ndarray:
    """A k-means micro-group per vector. Random initialisation: k-means++ seeding cost more than the
    rest of the clustering at 10k vectors (10 s vs 2 s) and found the same themes."""
    from sklearn.cluster import MiniBatchKMeans

    groups = int(min(MAX_MICRO_GROUPS, max(EXACT_LIMIT // 4, len(vectors) // MICRO_GROUP_SIZE)))
    kmeans = MiniBatchKMeans(
        n_clusters=groups,
        init="random",
        batch_size=4096,
        n_init=1,
        max_iter=30,
        random_state=seed,
        max_no_improvement=5,
    )
    return kmeans.fit_predict(vectors)


def _strangers(
    vectors: np.ndarray, of_vector: np.ndarray, sums: np.ndarray, sizes: np.ndarray, threshold: float
) -> np.ndarray:
    """Vectors farther than `threshold` on average from the rest of their micro-group.

    k-means puts every vector in some group, outliers included; left there, an outlier would ride
    into a shade with its group. Average linkage would never have merged it, so it is taken out.
    """
    own = sizes[of_vector]
    rest = sums[of_vector] - vectors
    distance = 1.0 - np.einsum("ij,ij->i", vectors, rest) / np.maximum(own - 1, 1)
    return (own > 1) & (distance > threshold)


def cluster(vectors: np.ndarray, threshold: float, seed: int = 0) -> Clusters:
    """Cluster unit vectors (rows): average linkage on cosine distance, cut at `threshold`.

    Small inputs are clustered exactly; large ones through micro-groups (see the module docstring),
    whose outliers are taken out before the linkage and placed after it by the joining rule.
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1)
    if len(vectors) and not np.all(norms > 1e-9):
        # A zero vector has no direction (cosine is undefined): it is alike to nothing.
        valid = np.flatnonzero(norms > 1e-9)
        labels = np.arange(len(vectors)) + len(vectors)
        if len(valid):
            labels[valid] = cluster(vectors[valid], threshold, seed).labels
        return _renumber(labels)
    if len(vectors) == 0:
        return Clusters(np.zeros(0, dtype=np.int64), 0)
    if len(vectors) == 1:
        return Clusters(np.zeros(1, dtype=np.int64), 1)
    if len(vectors) <= EXACT_LIMIT:
        # Every group a single vector: plain average linkage, which scipy computes faster.
        from scipy.cluster.hierarchy import fcluster, linkage

        tree = linkage(vectors, method="average", metric="cosine")
        return _renumber(fcluster(tree, threshold, criterion="distance"))
    of_vector = _renumber(_micro_groups(vectors, seed)).labels
    sums, sizes = _group_sums(vectors, of_vector)
    strangers = _strangers(vectors, of_vector, sums, sizes, threshold)
    kept = np.flatnonzero(~strangers)
    of_kept = _renumber(of_vector[kept]).labels
    sums, sizes = _group_sums(vectors[kept], of_kept)
    labels = np.empty(len(vectors), dtype=np.int64)
    labels[kept] = weighted_average_linkage(sums, sizes, threshold)[of_kept]
    # A stranger joins the nearest cluster it is on average close enough to, as a new memory would.
    clusters = _renumber(labels[kept])
    cluster_sums, cluster_sizes = _group_sums(vectors[kept], clusters.labels)
    labels[kept] = clusters.labels
    next_label = clusters.count
    for index in np.flatnonzero(strangers):
        distance = 1.0 - (cluster_sums @ vectors[index]) / cluster_sizes
        best = int(np.argmin(distance))
        if distance[best] <= threshold:
            labels[index] = best
        else:
            labels[index] = next_label
            next_label += 1
    return _renumber(labels)


def _group_sums(vectors: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    groups = int(labels.max()) + 1 if len(labels) else 0
    sums = np.zeros((groups, vectors.shape[1]), dtype=np.float64)
    np.add.at(sums, labels, vectors)
    return sums, np.bincount(labels, minlength=groups).astype(np.float64)


def split_in_two(vectors: np.ndarray) -> np.ndarray:
    """Labels 0/1 splitting a shade's members into its two least alike halves (the top of its tree).

    Vectors are centred on the group's own mean first, so the split follows what differs inside the
    group rather than what all its members share.
    """
    from scipy.cluster.hierarchy import fcluster, linkage

    vectors = np.asarray(vectors, dtype=np.float64)
    if len(vectors) < 2:
        return np.zeros(len(vectors), dtype=np.int64)
    centred = vectors - vectors.mean(axis=0)
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    centred /= np.where(norms > 0, norms, 1.0)
    labels = fcluster(linkage(centred, method="average", metric="cosine"), 2, criterion="maxclust")
    return _renumber(labels).labels
