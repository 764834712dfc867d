"""Does the self keep to its owner's words? Identity support, what the biography names, eval with and without memories.

On a persona (the project's own by default), through a real secondmed with one model:

1. the identity support score (`secondmectl eval --identity`: the share of biography and shade
   sentences their cited memories support; goal >= 0.95), and whether the biography names the
   owner, their city and their job (read from the persona's own eval questions: the answers to
   "what's your name", "which city do you live in", "who do you work for");
2. `secondmectl eval` on the persona's questions with retrieval and with `--no-retrieval`: recall,
   abstention on unknown questions, false abstention, private facts leaked, seconds per answer, and
   the ratio of recall with memories to without, measured in the same run;
3. with `--let-models-write`, the same eval again letting a model that failed the capability check
   write its own answers (what chat says with `chat.use_failed_model`).

    .venv/bin/python bench/bench_grounding.py [--model tiny|default] [--let-models-write] [--media] [PERSONA_DIR]

`--model tiny` (the default) uses the tiny random-weight test model, built here from nothing; it
fails the capability check, so everything is the extractive path. `--model default` uses the
packaged Gemma 3 270M (opt-in, slow: the capability check alone takes minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from harness import start_daemon, wait_idle

from secondme.daemon.client import Client
from secondme.daemon.client.evaluation import EvalRun
from secondme.daemon.client.jobs import Job
from secondme.pipeline.evaluation.questions import PRIVATE_FILE, STYLE_FILE, load_eval_set

PERSONA = Path(__file__).resolve().parents[1] / "tests" / "persona"
# Which of the persona's questions say who the owner is, where they live and what they do.
FACT_QUESTIONS = {
    "name": re.compile(r"\byour name\b", re.I),
    "city": re.compile(r"\bcity\b.*\blive\b", re.I),
    "job": re.compile(r"\bwork for\b", re.I),
}


def facts_of(questions: list[dict]) -> dict[str, list[str]]:
    """The terms that name the owner, their city and their job, from the persona's own questions."""
    found: dict[str, list[str]] = {}
    for fact, pattern in FACT_QUESTIONS.items():
        for question in questions:
            if pattern.search(question["question"]) and question.get("must_mention"):
                found[fact] = list(question["must_mention"])
                break
    return found


def owner_name(questions: list[dict]) -> str:
    for question in questions:
        if FACT_QUESTIONS["name"].search(question["question"]) and question.get("answer"):
            return str(question["answer"])
    return ""


def wait_job(client: Client, job: Job) -> Job:
    final = client.jobs.wait(job.id)
    if not final.succeeded:
        raise RuntimeError(f"{final.kind} job {final.id} ended {final.state}: {final.error}")
    return final


def run_eval(client: Client, persona: Path, retrieval: bool, write: bool) -> EvalRun:
    questions = persona / "eval" / "questions.jsonl"
    extra = {}
    for field, name in (("private_json", PRIVATE_FILE), ("style_json", STYLE_FILE)):
        if (persona / "eval" / name).is_file():
            extra[field] = (persona / "eval" / name).read_text(encoding="utf-8")
    job = client.eval.start(
        questions.read_text(encoding="utf-8"), source=str(questions), without_retrieval=not retrieval,
        let_models_write=write, **extra,
    )  # fmt: skip
    (run_id,) = [r["id"] for r in wait_job(client, job).result["runs"]]
    return client.eval.runs([run_id])[0]


def describe(run: EvalRun) -> str:
    def score(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    return (
        f"recall {score(run.recall)}  all terms {score(run.all_terms)}  abstention {score(run.abstention)}  "
        f"false abstention {score(run.false_abstention)}  leaks {len(run.leaks)}  "
        f"s/answer {score(run.seconds_mean)}"
    )


def compare(client: Client, persona: Path, label: str, write: bool = False) -> None:
    with_memories = run_eval(client, persona, retrieval=True, write=write)
    without = run_eval(client, persona, retrieval=False, write=write)
    print(f"eval {label} with retrieval:    {describe(with_memories)}")
    print(f"eval {label} without retrieval: {describe(without)}")
    kinds = ", ".join(f"{k} {v:.2f}" for k, v in sorted(with_memories.recall_by_kind.items()))
    print(f"eval {label} recall by kind with retrieval: {kinds}")
    ratio = (with_memories.recall or 0.0) / without.recall if without.recall else float("inf")
    print(f"eval {label} ratio recall with/without retrieval: {ratio:.2f}x")
    for leak in with_memories.leaks:
        print(f"   leak with retrieval: {leak.fact!r} ({leak.what}) in {leak.question_id}")


def identity_report(client: Client, facts: dict[str, list[str]]) -> None:
    support = wait_job(client, client.eval.start(identity=True)).result["identity"]
    score = support["score"]
    print(f"identity support score: {score if score is None else f'{score:.3f}'} "
          f"({support['supported']} of {support['total']} sentences; goal >= 0.95)")  # fmt: skip
    for sentence in support["unsupported"][:10]:
        print(f"   unsupported ({sentence['part']}): {sentence['text'][:160]}")
    biography = client.identity.biography()
    text = biography.text_third if biography else ""
    print(f"biography ({biography.mode if biography else 'none'}): {text}")
    for fact, terms in facts.items():
        named = [t for t in terms if t.lower() in text.lower()]
        print(f"biography names the {fact:<4}: {'yes' if named else 'no'} ({', '.join(terms)})")
    shades = client.identity.shades().shades
    print(f"shades: {len(shades)}: " + "; ".join(s.name for s in shades))


def tiny_model(folder: Path) -> Path:
    from secondme.pipeline.tiny_model import build_tiny_model

    return build_tiny_model(folder)["f16"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["tiny", "default"], default="tiny")
    parser.add_argument("--let-models-write", action="store_true", help="also eval with the model writing")
    parser.add_argument("--media", action="store_true", help="ingest media/ too (OCR and speech: slower)")
    parser.add_argument("persona", nargs="?", type=Path, default=PERSONA, help="persona folder (default: %(default)s)")
    args = parser.parse_args()
    persona = args.persona.resolve()
    questions = [q.__dict__ for q in load_eval_set(persona / "eval").questions]
    init = ["--name", owner_name(questions), *([] if args.model == "default" else ["--no-default-model"])]
    # No mesh port to share with another daemon.
    daemon = start_daemon(init_args=tuple(init), settings={"network.enabled": "false"}, log_level=None)
    try:
        client = Client.connect(daemon.socket)
        if args.model == "tiny":
            daemon.ctl("models", "import", str(tiny_model(daemon.root / "tiny")), "--name", "tiny", "--activate")
        started = time.perf_counter()
        paths = [str(persona / "notes"), *([str(persona / "media")] if args.media else [])]
        wait_job(client, client.memories.ingest(paths))
        wait_idle(client, check=True)
        memories = len(client.memories.list(limit=1000))
        print(f"persona {persona.name}: {memories} memories, {len(questions)} questions; model {args.model}")
        print(f"ingest + embed + capability check + identity update: {time.perf_counter() - started:.1f} s")
        identity_report(client, facts_of(questions))
        compare(client, persona, args.model)
        if args.let_models_write:
            compare(client, persona, f"{args.model} writing", write=True)
        client.close()
    finally:
        daemon.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
