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
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import env_for, wait_healthy

from secondme.daemon.client import Client
from secondme.pipeline.evaluation.questions import PRIVATE_FILE, STYLE_FILE, load_eval_set
from secondme.v1 import eval_pb2, identity_pb2, jobs_pb2, memory_pb2

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


def wait_job(client: Client, job_id: str, timeout: float = 7200) -> jobs_pb2.Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.jobs.GetJob(jobs_pb2.GetJobRequest(job_id=job_id)).job
        if job.state not in (jobs_pb2.JOB_STATE_QUEUED, jobs_pb2.JOB_STATE_RUNNING):
            if job.state != jobs_pb2.JOB_STATE_SUCCEEDED:
                raise RuntimeError(f"{job.kind} job {job.id} ended {jobs_pb2.JobState.Name(job.state)}: {job.error}")
            return job
        time.sleep(0.5)
    raise RuntimeError(f"job {job_id} did not finish")


def wait_idle(client: Client) -> None:
    """Until no job is queued or running (ingest -> embed -> identity, and the capability check)."""
    busy = [jobs_pb2.JOB_STATE_QUEUED, jobs_pb2.JOB_STATE_RUNNING]
    while jobs := client.jobs.ListJobs(jobs_pb2.ListJobsRequest(states=busy)).jobs:
        wait_job(client, jobs[0].id)


def run_eval(client: Client, persona: Path, retrieval: bool, write: bool) -> eval_pb2.EvalRun:
    questions = persona / "eval" / "questions.jsonl"
    extra = {}
    for field, name in (("private_json", PRIVATE_FILE), ("style_json", STYLE_FILE)):
        if (persona / "eval" / name).is_file():
            extra[field] = (persona / "eval" / name).read_text(encoding="utf-8")
    request = eval_pb2.StartEvalRequest(
        questions_jsonl=questions.read_text(encoding="utf-8"), source=str(questions), without_retrieval=not retrieval,
        let_models_write=write, **extra,
    )  # fmt: skip
    job = wait_job(client, client.eval.StartEval(request).job.id)
    (run_id,) = [r["id"] for r in json.loads(job.result_json)["runs"]]
    return client.eval.ListEvalRuns(eval_pb2.ListEvalRunsRequest(run_ids=[run_id])).runs[0]


def describe(run: eval_pb2.EvalRun) -> str:
    def pct(name: str) -> str:
        return f"{getattr(run, name):.2f}" if run.HasField(name) else "-"

    return (
        f"recall {pct('recall')}  all terms {pct('all_terms')}  abstention {pct('abstention')}  "
        f"false abstention {pct('false_abstention')}  leaks {len(run.leaks)}  "
        f"s/answer {run.seconds_mean:.2f}"
    )


def compare(client: Client, persona: Path, label: str, write: bool = False) -> None:
    with_memories = run_eval(client, persona, retrieval=True, write=write)
    without = run_eval(client, persona, retrieval=False, write=write)
    print(f"eval {label} with retrieval:    {describe(with_memories)}")
    print(f"eval {label} without retrieval: {describe(without)}")
    kinds = ", ".join(f"{k} {v:.2f}" for k, v in sorted(with_memories.recall_by_kind.items()))
    print(f"eval {label} recall by kind with retrieval: {kinds}")
    ratio = with_memories.recall / without.recall if without.recall else float("inf")
    print(f"eval {label} ratio recall with/without retrieval: {ratio:.2f}x")
    for leak in with_memories.leaks:
        print(f"   leak with retrieval: {leak.fact!r} ({leak.what}) in {leak.question_id}")


def identity_report(client: Client, facts: dict[str, list[str]]) -> None:
    job = wait_job(client, client.eval.StartEval(eval_pb2.StartEvalRequest(identity=True)).job.id)
    support = json.loads(job.result_json)["identity"]
    score = support["score"]
    print(f"identity support score: {score if score is None else f'{score:.3f}'} "
          f"({support['supported']} of {support['total']} sentences; goal >= 0.95)")  # fmt: skip
    for sentence in support["unsupported"][:10]:
        print(f"   unsupported ({sentence['part']}): {sentence['text'][:160]}")
    biography = client.identity.GetBiography(identity_pb2.GetBiographyRequest()).biography
    print(f"biography ({biography.mode or 'none'}): {biography.text_third}")
    for fact, terms in facts.items():
        named = [t for t in terms if t.lower() in biography.text_third.lower()]
        print(f"biography names the {fact:<4}: {'yes' if named else 'no'} ({', '.join(terms)})")
    shades = client.identity.ListShades(identity_pb2.ListShadesRequest()).shades
    print(f"shades: {len(shades)}: " + "; ".join(s.latest.text.name for s in shades))


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
    root = Path(tempfile.mkdtemp(prefix="smg-", dir="/tmp"))
    env = env_for(root)

    def ctl(*argv: str) -> None:
        command = [sys.executable, "-m", "secondme.daemon.cli.main", *argv]
        subprocess.run(command, env=env, check=True, capture_output=True)

    init = ["init", "--name", owner_name(questions)]
    ctl(*(init if args.model == "default" else [*init, "--no-default-model"]))
    ctl("config", "set", "network.enabled", "false")  # no mesh port to share with another daemon
    log = (root / "secondmed.log").open("wb")
    daemon = subprocess.Popen([sys.executable, "-m", "secondme.daemon.main"], env=env, stdout=log, stderr=log)
    try:
        socket = root / "run" / "secondmed.sock"
        wait_healthy(socket)
        client = Client(socket)
        if args.model == "tiny":
            ctl("models", "import", str(tiny_model(root / "tiny")), "--name", "tiny", "--activate")
        started = time.perf_counter()
        paths = [str(persona / "notes"), *([str(persona / "media")] if args.media else [])]
        wait_job(client, client.memory.Ingest(memory_pb2.IngestRequest(paths=paths)).job.id)
        wait_idle(client)
        memories = len(client.memory.ListMemories(memory_pb2.ListMemoriesRequest(page_size=1000)).memories)
        print(f"persona {persona.name}: {memories} memories, {len(questions)} questions; model {args.model}")
        print(f"ingest + embed + capability check + identity update: {time.perf_counter() - started:.1f} s")
        identity_report(client, facts_of(questions))
        compare(client, persona, args.model)
        if args.let_models_write:
            compare(client, persona, f"{args.model} writing", write=True)
        client.close()
    finally:
        daemon.terminate()
        daemon.wait(60)
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
