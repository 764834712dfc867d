"""What the self knows of the persona: retrieval recall on the eval questions, and what the biography says.

1. Retrieval recall@k on `eval/questions.jsonl` (questions with evidence files): the share of questions
   for which one of the evidence notes is among the k memories retrieved, for the daemon's hybrid
   retrieval vs dense embeddings alone vs full-text alone, all measured on the same data in one run.
2. With the real default model (packaged Gemma 3 270M; `--no-model` skips it): the identity update's
   time, and whether the biography and shades mention the persona's name, city and job.

    .venv/bin/python bench/bench_identity_quality.py [--no-model] [--k 5] [PERSONA_DIR]

PERSONA_DIR is a folder laid out like tests/persona (notes/, media/, eval/questions.jsonl), the
project's own persona by default; FACTS below are checked only for that one.

Slow with the model (a few minutes on 2 cores: every document is read by the model); the test
suite runs it with --no-model.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

from harness import start_daemon, wait_idle

from secondme.daemon.client import Client
from secondme.daemon.memory_search import RetrievalSettings, Retriever
from secondme.daemon.store import Store

PERSONA = Path(__file__).resolve().parents[1] / "tests" / "persona"
# What a biography of the project's persona must get right, each as alternatives.
FACTS = {"name": ["Nadia"], "city": ["York"], "job": ["data", "engineer", "Minster", "maps"]}


async def recall(db: Path, questions: list[dict], sources: dict[str, str], k: int) -> dict[str, float]:
    """Recall@k of hybrid, dense-only and lexical-only retrieval over the same index."""
    store = await Store.open(db)
    retriever = Retriever(store)
    found = {"hybrid": 0, "dense": 0, "lexical": 0}
    try:
        index = await retriever._current_index()  # the daemon's own index over the same rows
        assert index is not None, "nothing is embedded"
        from secondme.pipeline.retrieval import best_per_memory, dense_ranking, fuse

        for question in questions:
            wanted = {sources[name] for name in question["evidence"] if name in sources}
            hybrid = await retriever.retrieve(question["question"], RetrievalSettings(k, 0, 0.15), None)
            vector = await asyncio.to_thread(retriever._embed, question["question"])
            dense = best_per_memory(fuse(dense_ranking(vector, index.matrix, index.chunk_ids, 40, -1.0), [],
                                         index.memory_of), k)  # fmt: skip
            lexical = best_per_memory(fuse([], await retriever._lexical(question["question"]), index.memory_of), k)
            found["hybrid"] += bool(wanted & {m.memory_id for m in hybrid})
            found["dense"] += bool(wanted & {h.memory_id for h in dense})
            found["lexical"] += bool(wanted & {h.memory_id for h in lexical})
    finally:
        await store.close()
    return {name: count / len(questions) for name, count in found.items()}


def report_identity(client: Client, facts: dict[str, list[str]]) -> None:
    """What the model wrote of the persona, and whether it names who they are, where and what they do."""
    identity_jobs = client.jobs.list(kind="identity", limit=1)
    if identity_jobs:
        report = identity_jobs[0].result
        print("identity update: " + json.dumps({k: report.get(k) for k in ("insights", "shades", "biography")}))
        for error in report.get("errors", [])[:5]:
            print(f"   {error[:200]}")
    shades = client.identity.shades().shades
    bio = client.identity.biography()
    print(f"biography ({bio.model}): {bio.text_third}" if bio else "biography: none yet")
    bio_text = bio.text_third if bio else ""
    texts = [s.latest.text for s in shades if s.latest and s.latest.text]
    words = " ".join([bio_text, *(t.description_third + " " + t.content_third for t in texts)])
    for fact, options in facts.items():
        in_bio = [o for o in options if o.lower() in bio_text.lower()]
        in_any = [o for o in options if o.lower() in words.lower()]
        print(f"mentions {fact:<5} biography: {'yes' if in_bio else 'no '}  biography or shades: "
              f"{'yes' if in_any else 'no'}  ({', '.join(in_any) or '-'})")  # fmt: skip
    print(f"shades: {len(shades)}: " + "; ".join(s.name for s in shades))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-model", action="store_true", help="retrieval only: skip the model-written identity")
    parser.add_argument("--k", type=int, default=5, help="memories retrieved per question")
    parser.add_argument("persona", nargs="?", type=Path, default=PERSONA, help="persona folder (default: %(default)s)")
    args = parser.parse_args()
    persona = args.persona.resolve()
    daemon = start_daemon(init_args=("--no-default-model",) if args.no_model else (), log_level=None)
    try:
        client = Client.connect(daemon.socket)
        started = time.perf_counter()
        client.jobs.wait(client.memories.ingest([str(persona / "notes"), str(persona / "media")]).id)
        wait_idle(client)
        pipeline_seconds = time.perf_counter() - started
        memories = client.memories.list()
        sources = {m.source.rsplit("/", 1)[-1]: m.id for m in memories}
        questions = [json.loads(line) for line in (persona / "eval" / "questions.jsonl").read_text().splitlines()]
        with_evidence = [q for q in questions if any(name in sources for name in q["evidence"])]
        scores = asyncio.run(recall(daemon.db, with_evidence, sources, args.k))
        print(f"memories: {len(memories)}; questions with evidence: {len(with_evidence)}")
        for name, value in scores.items():
            print(f"recall@{args.k} {name:<8} {value:.2f}")
        print(f"ratio hybrid/dense {scores['hybrid'] / max(scores['dense'], 1e-9):.2f}x  "
              f"hybrid/lexical {scores['hybrid'] / max(scores['lexical'], 1e-9):.2f}x")  # fmt: skip
        print(f"ingest + embed + identity update: {pipeline_seconds:.1f} s")
        if not args.no_model:
            report_identity(client, FACTS if persona == PERSONA.resolve() else {})
        client.close()
    finally:
        daemon.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
