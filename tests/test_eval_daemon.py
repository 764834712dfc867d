"""`secondmectl eval` through a real secondmed: the persona's questions asked as chat answers them.

The tiny random-weight models fail the capability check, so chat (and so the eval) answers by
quoting the owner's own sentences or abstaining: every answer is checked to be exactly that, with
each quoted sentence found in the persona's notes. Retrieval must make the difference: without the
memories there is nothing to quote, so every answer abstains.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

import grpc
import pytest
from conftest import PERSONA, RunningDaemon
from helpers import all_memories, ingest, result, wait_job, wait_until

from secondme.pipeline.grounded_reply import ABSTENTION
from secondme.v1 import eval_pb2, jobs_pb2, memory_pb2

QUESTIONS = PERSONA / "eval" / "questions.jsonl"
QUOTE = re.compile(r"^On (\d{4}-\d{2}-\d{2}) I (wrote|saved a page that says): “(.+)”$")
pytestmark = pytest.mark.timeout(900)


def _normalised(text: str) -> str:
    return " ".join(text.replace("’", "'").split())


def _eval(daemon: RunningDaemon, *args: str, check: bool = True) -> dict:
    done = daemon.ctl("eval", *args, "--json", check=check)
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def persona_daemon(tiny_gguf, tiny_gguf_q8):
    """A secondmed with the persona's notes ingested and modelled, and two tiny models (tiny active)."""
    root = Path(tempfile.mkdtemp(prefix="sme-", dir="/tmp"))
    daemon = RunningDaemon(root, root / "config.toml", root / "data", root / "run" / "s.sock", root / "log")
    daemon.ctl("init", "--no-default-model", "--name", "Nadia Brennan")
    try:
        daemon.start()
        daemon.ctl("models", "import", str(tiny_gguf), "--name", "tiny", "--activate")
        daemon.ctl("models", "import", str(tiny_gguf_q8), "--name", "tiny-q8")
        job = wait_job(daemon.client, ingest(daemon.client, PERSONA / "notes").id)
        assert job.state == jobs_pb2.JOB_STATE_SUCCEEDED, job.error

        def identity_done() -> bool:
            jobs = daemon.client.jobs.ListJobs(jobs_pb2.ListJobsRequest(kind="identity", page_size=10)).jobs
            return bool(jobs) and all(j.state == jobs_pb2.JOB_STATE_SUCCEEDED for j in jobs)

        wait_until(identity_done, "the identity update after the ingest", timeout=600, every=0.5)
        yield daemon
    finally:
        daemon.stop()
    shutil.rmtree(root, ignore_errors=True)


def test_eval_answers_as_chat_does_quoting_the_owner_or_abstaining(persona_daemon):
    memories = [
        persona_daemon.client.memory.GetMemory(memory_pb2.GetMemoryRequest(memory_id=m.id, include_text=True))
        for m in all_memories(persona_daemon.client)
    ]
    texts = [_normalised(m.text) for m in memories]
    saved = [_normalised(m.text) for m in memories if m.memory.source_type == memory_pb2.SOURCE_TYPE_HTML]
    ran = _eval(persona_daemon, str(QUESTIONS), "--answers")
    (run,) = ran["runs"]
    assert run["model_name"] == "tiny" and run["retrieval"] and run["questions"] == 31
    assert run["source"] == str(QUESTIONS.resolve())
    quoted = 0
    for answer in run["answers"]:
        if answer["question_id"] == "q01":  # "What's your name?": the name the owner gave, no memory
            assert answer["answer"] == "I'm Nadia Brennan." and not answer["missed"]
            continue
        if answer["answer"] == ABSTENTION:
            assert answer["abstained"]
            continue
        for line in answer["answer"].splitlines():
            match = QUOTE.match(line)
            assert match, f"not a quotation of the owner: {line!r}"
            said = _normalised(match.group(3))
            assert any(said in text for text in texts), f"{said!r} is in none of the memories"
            assert (match.group(2) != "wrote") == any(said in text for text in saved), line
            quoted += 1
    assert quoted >= 10
    # "What have you been up to lately?" is answered from the newest notes, the status note first among them.
    (lately,) = [a for a in run["answers"] if a["question_id"] == "q27"]
    assert "On 2025-10-18 I wrote" in lately["answer"] and not lately["abstained"]
    # The persona's notes answer these: quoting them recalls some of what the answers must mention.
    assert run["recall"] > 0.2
    assert set(run["recall_by_kind"]) >= {"fact", "temporal"}


def test_without_retrieval_there_is_nothing_to_quote_and_every_answer_but_the_name_abstains(persona_daemon):
    with_memories = _eval(persona_daemon, str(QUESTIONS))["runs"][0]
    without = _eval(persona_daemon, str(QUESTIONS), "--no-retrieval", "--answers")["runs"][0]
    assert not without["retrieval"]
    answers = {a["question_id"]: a["answer"] for a in without["answers"]}
    assert answers.pop("q01") == "I'm Nadia Brennan."  # the owner's name is no memory
    assert set(answers.values()) == {ABSTENTION}
    assert without["abstention"] == 1.0
    assert 0.0 < without["recall"] < with_memories["recall"]
    assert with_memories["false_abstention"] < without["false_abstention"] < 1.0


def test_runs_of_several_models_are_stored_and_shown_side_by_side(persona_daemon):
    ran = _eval(persona_daemon, str(PERSONA / "eval"), "--model", "tiny", "--model", "tiny-q8")
    assert [r["model_name"] for r in ran["runs"]] == ["tiny", "tiny-q8"]
    assert ran["runs"][0]["model_id"] != ran["runs"][1]["model_id"]
    stored = persona_daemon.client.eval.ListEvalRuns(eval_pb2.ListEvalRunsRequest()).runs
    latest = {(r.model_name, r.retrieval) for r in stored if r.source == str(QUESTIONS.resolve())}
    assert {("tiny", True), ("tiny-q8", True)} <= latest
    table = persona_daemon.ctl("eval").stdout
    header = next(line for line in table.splitlines() if "tiny-q8" in line)
    assert "tiny" in header.replace("tiny-q8", "")  # both models in one table
    assert "recall" in table and "abstention" in table


def test_the_identity_support_score_checks_every_stored_sentence(persona_daemon):
    identity = _eval(persona_daemon, "--identity")["identity"]
    assert identity["total"] > 10 and "biography" in identity["parts"]
    # Extractive sentences are the owner's own, moved to the second or third person by rules.
    assert identity["score"] >= 0.95, identity["unsupported"]
    text = persona_daemon.ctl("eval", "--identity").stdout
    assert "identity support:" in text and "biography" in text


def test_bad_requests_are_refused_with_reasons(persona_daemon, tmp_path):
    bad = tmp_path / "questions.jsonl"
    bad.write_text('{"question": "Where do you live?", "must_mention": ["York"]}\n{"question": \n')
    refused = persona_daemon.ctl("eval", str(bad), check=False)
    assert refused.returncode == 2 and "line 2" in refused.stderr and str(bad) in refused.stderr
    with pytest.raises(grpc.RpcError) as info:
        persona_daemon.client.eval.StartEval(eval_pb2.StartEvalRequest(questions_jsonl='{"kind": "fact"}\n'))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "line 1" in info.value.details()
    with pytest.raises(grpc.RpcError) as info:
        persona_daemon.client.eval.StartEval(eval_pb2.StartEvalRequest())
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "questions_jsonl" in info.value.details()
    with pytest.raises(grpc.RpcError) as info:
        persona_daemon.client.eval.StartEval(
            eval_pb2.StartEvalRequest(questions_jsonl=QUESTIONS.read_text(), models=["no-such-model"])
        )
    assert info.value.code() == grpc.StatusCode.NOT_FOUND and "no-such-model" in info.value.details()
    missing = persona_daemon.ctl("eval", str(tmp_path / "nowhere.jsonl"), check=False)
    assert missing.returncode == 2 and "no questions file" in missing.stderr


def test_an_empty_data_dir_has_nothing_to_ask_about(start_daemon, tiny_gguf):
    daemon = start_daemon()
    daemon.ctl("models", "import", str(tiny_gguf), "--name", "tiny", "--activate")
    refused = daemon.ctl("eval", str(QUESTIONS), check=False)
    assert refused.returncode == 1 and "nothing to ask about" in refused.stderr
    assert not daemon.client.jobs.ListJobs(jobs_pb2.ListJobsRequest(kind="eval")).jobs
    assert "no eval runs yet" in daemon.ctl("eval").stdout


def test_the_eval_job_result_names_its_runs(persona_daemon):
    job = persona_daemon.client.eval.StartEval(
        eval_pb2.StartEvalRequest(questions_jsonl=QUESTIONS.read_text(), source="api", without_retrieval=True)
    ).job
    done = wait_job(persona_daemon.client, job.id)
    assert done.state == jobs_pb2.JOB_STATE_SUCCEEDED, done.error
    (run,) = result(done)["runs"]
    stored = persona_daemon.client.eval.ListEvalRuns(
        eval_pb2.ListEvalRunsRequest(run_ids=[run["id"]], with_answers=True)
    ).runs
    assert len(stored) == 1 and stored[0].source == "api" and len(stored[0].answers) == 31
    assert stored[0].HasField("recall") and stored[0].recall == run["recall"]


def test_a_model_that_failed_the_check_writes_its_own_answers_when_let(persona_daemon, tmp_path):
    questions = ["Tell me about beekeeping.", "Tell me about the pottery studio.", "Describe the fell race."]
    lines = [json.dumps({"id": f"w{i}", "question": q, "must_mention": ["bees"]}) for i, q in enumerate(questions)]
    (tmp_path / "questions.jsonl").write_text("\n".join(lines) + "\n")
    quoting = _eval(persona_daemon, str(tmp_path / "questions.jsonl"), "--answers")["runs"][0]
    assert all(QUOTE.match(a["answer"].splitlines()[0]) for a in quoting["answers"])
    (run,) = _eval(persona_daemon, str(tmp_path / "questions.jsonl"), "--let-models-write", "--answers")["runs"]
    # the random-weight model's own words: neither quotations of the owner nor the abstention
    said = [a["answer"] for a in run["answers"]]
    assert len(said) == 3 and any(s.strip() for s in said)
    assert not any(QUOTE.match(line) for answer in said for line in answer.splitlines()) and ABSTENTION not in said
