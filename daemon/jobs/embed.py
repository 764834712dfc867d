"""The embed job: vectors for every memory (and its chunks) that has none from the current model.

It runs after ingestion, and again after a change of embedding model, when every memory embedded
by another model is redone; each memory's vectors commit together with a batch.
"""

from __future__ import annotations

from typing import Any

from secondme.daemon.jobs.context import JobContext
from secondme.pipeline.embeddings import Embedder, mean_vector, to_blob

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
            conn.execute("BEGIN IMMEDIATE")
            try:
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
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            done += len(batch)
            chunks_done += len(rows)
            ctx.progress("embed", done, len(pending), f"{chunks_done} chunks")
        return {"model": embedder.name, "dimension": embedder.dimension, "memories": done, "chunks": chunks_done}
    finally:
        conn.close()
