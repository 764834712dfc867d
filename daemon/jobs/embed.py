"""The embed job: vectors for every memory (and its chunks) that has none from the current model.

It runs after ingestion, and again after a change of embedding model, when every memory embedded
by another model is redone; each memory's vectors commit together with a batch. Then the memories
it embedded are checked against the others for the same content held twice (a note and its PDF),
which is recorded as a link so identity and retrieval count it once.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import numpy as np

from secondme.daemon.jobs.context import JobContext
from secondme.daemon.store.sync import transaction
from secondme.daemon.store.timeutil import now_db
from secondme.pipeline.embeddings import Embedder, from_blob, mean_vector, to_blob
from secondme.pipeline.same_content import find_same_content

BATCH_MEMORIES = 64


def run(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    ctx.progress("load", 0, 1, "loading the embedding model")
    embedder = Embedder(threads=int(params.get("threads", 0)))
    conn = ctx.connect()
    try:
        pending = [
            row[0]
            for row in conn.execute(
                """SELECT m.id FROM memories m LEFT JOIN memory_embeddings e ON e.memory_id = m.id
                   WHERE (e.memory_id IS NULL OR e.model != ? OR e.dimension != ?)
                     AND EXISTS (SELECT 1 FROM chunks c WHERE c.memory_id = m.id)
                   ORDER BY m.created_at""",
                (embedder.name, embedder.dimension),
            )
        ]
        done = chunks_done = 0
        ctx.progress("embed", 0, len(pending), f"{len(pending)} memories to embed with {embedder.name}")
        for start in range(0, len(pending), BATCH_MEMORIES):
            batch = pending[start : start + BATCH_MEMORIES]
            rows = conn.execute(
                f"SELECT id, memory_id, text FROM chunks WHERE memory_id IN ({','.join('?' * len(batch))}) "
                "ORDER BY memory_id, idx",
                batch,
            ).fetchall()
            vectors = embedder.embed([r["text"] for r in rows])
            by_memory: dict[str, list[int]] = {}
            for index, row in enumerate(rows):
                by_memory.setdefault(row["memory_id"], []).append(index)
            with transaction(conn):
                conn.executemany(
                    "INSERT OR REPLACE INTO chunk_embeddings(chunk_id, model, dimension, vector) VALUES (?, ?, ?, ?)",
                    [(r["id"], embedder.name, embedder.dimension, to_blob(vectors[i])) for i, r in enumerate(rows)],
                )
                conn.executemany(
                    "INSERT OR REPLACE INTO memory_embeddings(memory_id, model, dimension, vector) VALUES (?, ?, ?, ?)",
                    [
                        (memory_id, embedder.name, embedder.dimension, to_blob(mean_vector(vectors[indexes])))
                        for memory_id, indexes in by_memory.items()
                    ],
                )
            done += len(batch)
            chunks_done += len(rows)
            ctx.progress("embed", done, len(pending), f"{chunks_done} chunks")
        linked = _link_same_content(conn, pending, embedder.name)
        return {
            "model": embedder.name,
            "dimension": embedder.dimension,
            "memories": done,
            "chunks": chunks_done,
            "same_content": linked,
        }
    finally:
        conn.close()


def _link_same_content(conn: sqlite3.Connection, embedded: list[str], model: str) -> int:
    """Record links from the memories just embedded to earlier memories with the same content."""
    if not embedded:
        return 0
    rows = conn.execute(
        """SELECT e.memory_id, e.dimension, e.vector, m.ingested_at FROM memory_embeddings e
           JOIN memories m ON m.id = e.memory_id
           WHERE e.model = ? AND e.memory_id NOT IN (SELECT memory_id FROM memory_links)""",
        (model,),
    ).fetchall()
    ids = [r["memory_id"] for r in rows]
    if len(ids) < 2:
        return 0
    vectors = np.stack([from_blob(r["vector"], r["dimension"]) for r in rows])
    order = {r["memory_id"]: (r["ingested_at"], r["memory_id"]) for r in rows}

    def text_of(memory_id: str) -> str:
        row = conn.execute("SELECT text FROM memories WHERE id = ?", (memory_id,)).fetchone()
        return row[0] if row else ""

    links = find_same_content(embedded, ids, vectors, text_of, order)
    now = now_db()
    with transaction(conn):
        conn.executemany(
            "INSERT OR IGNORE INTO memory_links(memory_id, same_as, similarity, linked_at) VALUES (?, ?, ?, ?)",
            [(link.memory_id, link.same_as, link.similarity, now) for link in links],
        )
    return len(links)
