"""Embeddings with the packaged MiniLM model, and the embed job that follows ingestion."""

from __future__ import annotations

import sqlite3
import time

import numpy as np
import pytest
from helpers import ingest, make_notes, wait_job

from secondme.pipeline.embeddings import Embedder, RecentEmbeddings, from_blob
from secondme.v1 import jobs_pb2


@pytest.fixture(scope="module")
def embedder():
    return Embedder(threads=2)


def test_vectors_are_normalized_384_dimensional_and_meaningful(embedder):
    vectors = embedder.embed(["sailing to Fowey at night", "a night passage on a yacht", "sourdough starter"])
    assert vectors.shape == (3, 384) and embedder.dimension == 384
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]  # related texts sit closer
    assert np.allclose(embedder.embed(["sailing to Fowey at night"])[0], vectors[0], atol=1e-5)  # batching is exact


def test_recent_embeddings_embed_each_new_text_once_and_forget_the_oldest(embedder):
    asked: list[list[str]] = []

    def embed(texts: list[str]) -> np.ndarray:
        asked.append(texts)
        return embedder.embed(texts)

    recent = RecentEmbeddings(embed, capacity=3)
    first = recent(["a walk on the moor", "the ferry to Fowey", "a walk on the moor"])
    again = recent(["the ferry to Fowey", "bread at dawn", "a walk on the moor"])
    assert asked == [["a walk on the moor", "the ferry to Fowey"], ["bread at dawn"]]
    assert np.allclose(first[0], first[2]) and np.allclose(again[0], first[1]) and np.allclose(again[2], first[0])
    assert np.allclose(again, embedder.embed(["the ferry to Fowey", "bread at dawn", "a walk on the moor"]), atol=1e-5)
    recent(["a fourth text"])  # over capacity: the least recently asked ("the ferry to Fowey") goes
    recent(["the ferry to Fowey", "a walk on the moor"])
    assert asked[2:] == [["a fourth text"], ["the ferry to Fowey"]]
    assert recent([]).shape == (0, 384)


def _wait_for_embed_job(daemon, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = daemon.client.jobs.ListJobs(jobs_pb2.ListJobsRequest(kind="embed")).jobs
        if jobs:
            return wait_job(daemon.client, jobs[0].id, timeout)
        time.sleep(0.1)
    raise AssertionError("no embed job was queued after the ingest")


def test_ingest_is_followed_by_embedding_every_chunk_and_memory(daemon, tmp_path):
    make_notes(tmp_path / "n", 6, words=60)
    wait_job(daemon.client, ingest(daemon.client, tmp_path / "n").id)
    job = _wait_for_embed_job(daemon)
    assert job.state == jobs_pb2.JOB_STATE_SUCCEEDED, job.error
    conn = sqlite3.connect(daemon.data_dir / "secondme.db")
    try:
        chunks = conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        rows = conn.execute("SELECT model, dimension, vector FROM memory_embeddings").fetchall()
        assert conn.execute("SELECT COUNT(*) FROM chunk_embeddings").fetchone()[0] == chunks
        assert len(rows) == 6 and {r[0] for r in rows} == {"all-MiniLM-L6-v2"}
        assert all(abs(np.linalg.norm(from_blob(r[2], r[1])) - 1) < 1e-4 for r in rows)
        # a change of embedding model makes the next embed job redo everything
        conn.execute("UPDATE memory_embeddings SET model = 'older-model'")
        conn.commit()
    finally:
        conn.close()
    (extra,) = make_notes(tmp_path / "more", 1, prefix="extra")
    wait_job(daemon.client, ingest(daemon.client, extra).id)
    deadline = time.monotonic() + 300
    while len(daemon.client.jobs.ListJobs(jobs_pb2.ListJobsRequest(kind="embed")).jobs) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    second = wait_job(daemon.client, daemon.client.jobs.ListJobs(jobs_pb2.ListJobsRequest(kind="embed")).jobs[0].id)
    assert second.state == jobs_pb2.JOB_STATE_SUCCEEDED
    conn = sqlite3.connect(daemon.data_dir / "secondme.db")
    try:
        models = conn.execute("SELECT model, COUNT(*) FROM memory_embeddings GROUP BY model").fetchall()
    finally:
        conn.close()
    assert models == [("all-MiniLM-L6-v2", 7)]  # the old vectors were redone, not mixed in
