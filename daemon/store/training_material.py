"""The training job's view of the store: memories as chat quotes them, privacy marks, the biographies.

Read in the job child on its own connection. Memories recorded as the same content as another (a
note and the PDF printed from it) are left out, as retrieval leaves them out, so one fact is not
learned twice; memories of shades the owner marked private are listed apart and never trained on.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict

from secondme.daemon.store.timeutil import from_db
from secondme.pipeline.embeddings import from_blob
from secondme.pipeline.training.material import Material, Memory, Passage, SelfStatement


def read_material(conn: sqlite3.Connection, owner_name: str, system_prompt: str, embed_model: str) -> Material:
    rows = conn.execute(
        """SELECT id, title, source_type, created_at, ingested_at FROM memories
           WHERE id NOT IN (SELECT memory_id FROM memory_links) ORDER BY created_at, id"""
    ).fetchall()
    chunks: dict[str, list[sqlite3.Row]] = defaultdict(list)
    for chunk in conn.execute("SELECT id, memory_id, text FROM chunks WHERE text != '' ORDER BY memory_id, idx"):
        chunks[chunk["memory_id"]].append(chunk)
    vectors = {
        r["memory_id"]: from_blob(r["vector"], r["dimension"])
        for r in conn.execute(
            "SELECT memory_id, dimension, vector FROM memory_embeddings WHERE model = ?", (embed_model,)
        )
    }
    memories = []
    for row in rows:
        created = from_db(row["created_at"])
        passages = tuple(
            Passage(row["id"], c["id"], created, row["title"], row["source_type"], c["text"]) for c in chunks[row["id"]]
        )
        if not passages:
            continue
        memories.append(
            Memory(
                id=row["id"],
                title=row["title"],
                source_type=row["source_type"],
                created_at=created,  # type: ignore[arg-type]
                ingested_at=from_db(row["ingested_at"]),  # type: ignore[arg-type]
                passages=passages,  # type: ignore[arg-type]
                vector=vectors.get(row["id"]),
            )
        )
    private = frozenset(
        r[0]
        for r in conn.execute(
            """SELECT sm.memory_id FROM shade_members sm JOIN shades s ON s.id = sm.shade_id
               WHERE s.privacy = 'private'"""
        )
    )
    return Material(
        owner_name=owner_name,
        system_prompt=system_prompt,
        memories=tuple(memories),
        private_memory_ids=private,
        biography=_statements(conn, "global", private),
        status=_statements(conn, "status", private),
    )


def _statements(conn: sqlite3.Connection, kind: str, private: frozenset[str]) -> tuple[SelfStatement, ...]:
    """The newest biography of `kind` sentence by sentence, each with the memories it rests on.

    Grounded biographies keep each sentence's memories (`sentences_json`); the second-person ones
    ("You keep bees") become the self's first person. Memories of private shades are never cited.
    """
    row = conn.execute(
        "SELECT text_second, text_third, sentences_json FROM biographies WHERE kind = ? ORDER BY id DESC LIMIT 1",
        (kind,),
    ).fetchone()
    if row is None:
        return ()
    sentences = json.loads(row["sentences_json"] or "[]")
    second = [s for s in sentences if str(s.get("field", "")).endswith("second")]
    return tuple(
        SelfStatement(s["text"], tuple(m for m in s.get("memory_ids", []) if m not in private))
        for s in second
        if s.get("text")
    )
