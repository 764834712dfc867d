"""Memories for the chat: what the owner's question is about, and what the model has not learned.

The chunk vectors live in memory here (one matrix, reloaded when the embedding table changes) so
a question costs one embedding and one matrix product, not a scan of the database. The question
is embedded by the same packaged model the embed job uses, loaded on the first question (not at
start: a daemon that is never asked anything never pays for it). Full-text search over the same
chunks catches names the embedding blurs, and the two rankings are fused. A few places are kept
for memories newer than what the active model was trained on, so the self is never stale between
trainings; same-content copies (a note and its PDF) are left out so one fact is cited once.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from secondme.daemon.store.db import Store
from secondme.daemon.store.timeutil import from_db, to_db
from secondme.pipeline.chat_prompt import QUOTE_CHARS
from secondme.pipeline.embeddings import DEFAULT_MODEL
from secondme.pipeline.retrieval import ChunkHit, best_per_memory, dense_ranking, fts_query, fuse

log = logging.getLogger(__name__)

# Candidates taken from each ranking before fusion.
CANDIDATES = 40


@dataclass(frozen=True)
class RetrievalSettings:
    memories: int = 5
    fresh: int = 2
    min_similarity: float = 0.15


@dataclass(frozen=True)
class RetrievedMemory:
    memory_id: str
    title: str
    source: str
    source_type: str
    created_at: datetime
    text: str
    score: float
    similarity: float | None
    fresh: bool


@dataclass
class _Index:
    signature: tuple[Any, ...]
    chunk_ids: np.ndarray
    memory_of: dict[int, str]
    matrix: np.ndarray
    # Per chunk, the position of its memory in `memory_ids`: a memory filter is one numpy mask.
    memory_index: np.ndarray
    memory_ids: list[str]

    def chunks_of(self, memories: set[str]) -> np.ndarray:
        wanted = [i for i, memory_id in enumerate(self.memory_ids) if memory_id in memories]
        return np.isin(self.memory_index, wanted)


class Retriever:
    def __init__(self, store: Store, embed_model: str = DEFAULT_MODEL) -> None:
        self._store = store
        self._embed_model = embed_model
        self._embedder: Any = None
        self._embedder_lock = threading.Lock()
        self._index: _Index | None = None
        self._index_lock = asyncio.Lock()

    def _embed(self, text: str) -> np.ndarray:
        return self.embed_many([text])[0]

    def embed_many(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of `texts` by the embedding model (blocking: call it from a worker thread);
        a text embedded recently (a message's question, its memories' sentences) is not embedded again."""
        with self._embedder_lock:
            if self._embedder is None:
                from secondme.pipeline.embeddings import Embedder, RecentEmbeddings

                self._embedder = RecentEmbeddings(Embedder(name=self._embed_model).embed)
            return self._embedder(texts)

    async def _signature(self) -> tuple[Any, ...]:
        row = await self._store.fetchone(
            """SELECT (SELECT COUNT(*) FROM chunk_embeddings WHERE model = ?) AS n,
                      (SELECT MAX(chunk_id) FROM chunk_embeddings WHERE model = ?) AS last,
                      (SELECT COUNT(*) FROM memory_links) AS links""",
            (self._embed_model, self._embed_model),
        )
        return (row["n"], row["last"], row["links"]) if row else (0, None, 0)

    async def _current_index(self) -> _Index | None:
        signature = await self._signature()
        if signature[0] == 0:
            return None
        async with self._index_lock:
            if self._index is None or self._index.signature != signature:
                rows = await self._store.fetchall(
                    """SELECT e.chunk_id, c.memory_id, e.dimension, e.vector FROM chunk_embeddings e
                       JOIN chunks c ON c.id = e.chunk_id
                       WHERE e.model = ? AND c.memory_id NOT IN (SELECT memory_id FROM memory_links)
                       ORDER BY e.chunk_id""",
                    (self._embed_model,),
                )
                self._index = await asyncio.to_thread(_build_index, signature, rows)
            return self._index

    async def retrieve(
        self, question: str, settings: RetrievalSettings, trained_through: datetime | None
    ) -> list[RetrievedMemory]:
        if settings.memories <= 0:
            return []
        index = await self._current_index()
        if index is None:
            return []
        fresh: set[str] = set()
        if trained_through is not None and settings.fresh > 0:
            rows = await self._store.fetchall(
                "SELECT id FROM memories WHERE ingested_at > ?", (to_db(trained_through),)
            )
            fresh = {r["id"] for r in rows}
        lexical = await self._lexical(question)
        # The question's embedding and both dense rankings (a product over every chunk) run on a
        # thread: the loop keeps answering the API meanwhile.
        dense, fresh_hits = await asyncio.to_thread(self._rank, question, index, settings, fresh)
        hits = best_per_memory(fuse(dense, lexical, index.memory_of), settings.memories)
        fresh_ids = {h.memory_id for h in fresh_hits}
        if fresh_hits:
            kept = [h for h in hits if h.memory_id not in fresh_ids]
            hits = fresh_hits + kept[: max(0, settings.memories - len(fresh_hits))]
        return await self._describe(hits, fresh_ids)

    def _rank(
        self, question: str, index: _Index, settings: RetrievalSettings, fresh: set[str]
    ) -> tuple[list[tuple[int, float]], list[ChunkHit]]:
        """Dense ranking of every chunk, and of the chunks of memories newer than the model."""
        query = self._embed(question)
        dense = dense_ranking(query, index.matrix, index.chunk_ids, CANDIDATES, settings.min_similarity)
        if not fresh:
            return dense, []
        mask = index.chunks_of(fresh)
        newer = dense_ranking(query, index.matrix[mask], index.chunk_ids[mask], CANDIDATES, settings.min_similarity)
        return dense, best_per_memory(fuse(newer, [], index.memory_of), settings.fresh)

    async def _lexical(self, question: str) -> list[int]:
        query = fts_query(question)
        if not query:
            return []
        try:
            rows = await self._store.fetchall(
                "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank LIMIT ?", (query, CANDIDATES)
            )
        except sqlite3.OperationalError as exc:  # a query FTS5 cannot parse must not cost the answer
            log.warning("full-text search failed for %r: %s", query, exc)
            return []
        return [int(r["rowid"]) for r in rows]

    async def newest(self, limit: int) -> list[RetrievedMemory]:
        """The `limit` newest memories by their own date (a copy of another counted once)."""
        rows = await self._store.fetchall(
            """SELECT id, title, source, source_type, created_at, substr(text, 1, ?) AS text FROM memories
               WHERE id NOT IN (SELECT memory_id FROM memory_links) AND trim(text) != ''
               ORDER BY created_at DESC, id LIMIT ?""",
            (QUOTE_CHARS, limit),
        )
        return [
            RetrievedMemory(
                memory_id=r["id"],
                title=r["title"],
                source=r["source"],
                source_type=r["source_type"],
                created_at=from_db(r["created_at"]),  # type: ignore[arg-type]
                text=r["text"],
                score=0.0,
                similarity=None,
                fresh=False,
            )
            for r in rows
        ]

    async def _describe(self, hits: list[ChunkHit], fresh: set[str]) -> list[RetrievedMemory]:
        found = []
        for hit in hits:
            row = await self._store.fetchone(
                """SELECT m.title, m.source, m.source_type, m.created_at, c.text FROM chunks c
                   JOIN memories m ON m.id = c.memory_id WHERE c.id = ?""",
                (hit.chunk_id,),
            )
            if row is None:  # deleted since the index was built
                continue
            found.append(
                RetrievedMemory(
                    memory_id=hit.memory_id,
                    title=row["title"],
                    source=row["source"],
                    source_type=row["source_type"],
                    created_at=from_db(row["created_at"]),  # type: ignore[arg-type]
                    text=row["text"][:QUOTE_CHARS],
                    score=hit.score,
                    similarity=hit.similarity,
                    fresh=hit.memory_id in fresh,
                )
            )
        return found


def _build_index(signature: tuple[Any, ...], rows: list[sqlite3.Row]) -> _Index:
    from secondme.pipeline.embeddings import from_blob

    chunk_ids = np.array([r["chunk_id"] for r in rows], dtype=np.int64)
    dimension = rows[0]["dimension"] if rows else 0
    matrix = np.stack([from_blob(r["vector"], r["dimension"]) for r in rows]) if rows else np.zeros((0, dimension))
    memory_ids = list(dict.fromkeys(r["memory_id"] for r in rows))
    position = {memory_id: i for i, memory_id in enumerate(memory_ids)}
    memory_index = np.array([position[r["memory_id"]] for r in rows], dtype=np.int64)
    memory_of = {int(r["chunk_id"]): r["memory_id"] for r in rows}
    return _Index(signature, chunk_ids, memory_of, matrix.astype(np.float32), memory_index, memory_ids)
