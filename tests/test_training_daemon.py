"""Training through real secondmed processes on the tiny model: real SFT and DPO steps, export, activation, eval,
and the faults: too few memories, kill -9 mid-SFT and mid-DPO, a second training, a full disk, cancel mid-export.

The persona's notes are ingested and embedded once per module; each test starts its own daemon on a copy.
"""

from __future__ import annotations

import json
import re
import resource
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import grpc
import psutil
import pytest
from conftest import RunningDaemon
from helpers import fork_servers, ingest, job_children, wait_job, wait_until

from secondme.v1 import chat_pb2, jobs_pb2, memory_pb2, models_pb2, training_pb2

pytestmark = pytest.mark.timeout(1500)

NOTES = Path(__file__).parent / "persona" / "notes"
CONFIG = """version = 1
[models]
context_size = 2048
threads = 1
[identity]
auto_update = false
[chat]
retrieve_memories = 3
fresh_memories = 1
# The tiny model fails the capability check; chat lets it write anyway, so the trained version is heard.
use_failed_model = true
[training]
lora_rank = 4
lora_alpha = 8
effective_batch = 1
max_length = 1400
threads = 1
distractors = 1
questions_per_memory = 1
preference_prompts = 8
eval_questions = 2
checkpoint_seconds = 0.001
"""


def _daemon(root: Path) -> RunningDaemon:
    return RunningDaemon(
        root=root,
        config=root / "config" / "config.toml",
        data_dir=root / "data",
        socket=root / "run" / "secondmed.sock",
        log=root / "secondmed.log",
    )


@pytest.fixture(scope="module")
def prepared(tiny_gguf: Path) -> Iterator[Path]:
    """A root with config and data: the tiny model active, the persona's notes ingested and embedded."""
    root = Path(tempfile.mkdtemp(prefix="smt-", dir="/tmp"))
    daemon = _daemon(root)
    try:
        daemon.ctl("init", "--no-default-model")
        daemon.write_config(CONFIG)
        daemon.start()
        daemon.ctl("models", "import", str(tiny_gguf), "--name", "tiny", "--activate")
        assert wait_job(daemon.client, ingest(daemon.client, NOTES).id).state == jobs_pb2.JOB_STATE_SUCCEEDED
        wait_until(lambda: _jobs(daemon, "embed", jobs_pb2.JOB_STATE_SUCCEEDED), "the embed job", timeout=300)
        daemon.stop()
        yield root
    finally:
        if daemon.process is not None and daemon.process.poll() is None:
            daemon.kill()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def copy_of(prepared: Path) -> Iterator[RunningDaemon]:
    root = Path(tempfile.mkdtemp(prefix="smt-", dir="/tmp"))
    shutil.copytree(prepared / "config", root / "config")
    shutil.copytree(prepared / "data", root / "data", ignore=shutil.ignore_patterns("secondmed.lock", "*.sock"))
    daemon = _daemon(root)
    try:
        yield daemon.start()
    finally:
        if daemon.process is not None and daemon.process.poll() is None:
            daemon.stop()
        shutil.rmtree(root, ignore_errors=True)


def _jobs(daemon: RunningDaemon, kind: str, *states: int) -> list[jobs_pb2.Job]:
    listed = daemon.client.jobs.ListJobs(jobs_pb2.ListJobsRequest(page_size=100)).jobs
    return [j for j in listed if j.kind == kind and (not states or j.state in states)]


def _train(daemon: RunningDaemon, **fields: object) -> training_pb2.TrainResponse:
    return daemon.client.training.Train(training_pb2.TrainRequest(**fields), timeout=30)


def _result(job: jobs_pb2.Job) -> dict:
    assert job.state == jobs_pb2.JOB_STATE_SUCCEEDED, job.error
    return json.loads(job.result_json)


def _progress(daemon: RunningDaemon, job_id: str) -> jobs_pb2.Job:
    return daemon.client.jobs.GetJob(jobs_pb2.GetJobRequest(job_id=job_id), timeout=10).job


def _reached(daemon: RunningDaemon, job_id: str, stage: str, step: int, seen: list[str] | None = None):
    def check() -> bool:
        job = _progress(daemon, job_id)
        assert job.state not in (jobs_pb2.JOB_STATE_FAILED, jobs_pb2.JOB_STATE_SUCCEEDED), job.error
        if job.progress.stage == stage and job.progress.done >= step:
            if seen is not None:
                seen.append(job.progress.message)
            return True
        return False

    return check


def _trained_models(daemon: RunningDaemon) -> list[models_pb2.Model]:
    return [m for m in daemon.client.models.ListModels(models_pb2.ListModelsRequest()).models if m.base]


def _chat(daemon: RunningDaemon, text: str) -> chat_pb2.ChatDone:
    done = None
    for event in daemon.client.chat.Chat(chat_pb2.ChatRequest(message=text, max_tokens=8), timeout=120):
        if event.HasField("done"):
            done = event.done
    assert done is not None
    return done


def _job_child(daemon: RunningDaemon) -> psutil.Process:
    assert daemon.process is not None
    children = job_children(daemon.process.pid)
    assert len(children) == 1, children
    return children[0]


def test_dry_run_plans_then_training_activates_a_version_chat_uses_and_lineage_is_kept(copy_of):
    daemon = copy_of
    dry = json.loads(daemon.ctl("train", "--dry-run", "--json", timeout=600).stdout)["result"]
    assert dry["dry_run"] and dry["plan"]["device"] == "cpu" and dry["plan"]["tokens"] > 0
    assert [s["stage"] for s in dry["plan"]["stages"]] == ["sft", "dpo"]
    assert dry["dataset"]["train_memories"] > 0 and dry["dataset"]["held_out_memories"] > 0
    assert _trained_models(daemon) == []

    out = daemon.ctl("train", "--max-steps", "2", "--json", check=False, timeout=1200)
    data = json.loads(out.stdout)
    assert out.returncode == 0, data.get("error")
    result = data["result"]
    assert {name: stage["steps"] for name, stage in result["stages"].items()} == {"sft": 2, "dpo": 2}
    assert result["dataset"]["version"] == dry["dataset"]["version"]  # the same memories build the same data
    assert result["activated"] == "tiny-self"
    # Each stage's own peak memory (the stage that outgrows the plan can be told).
    peaks = result["peak_memory_mb"]
    assert set(peaks) == {"data", "pairs", "load", "sft", "dpo", "export", "eval"}
    assert all(mb > 0 for mb in peaks.values())
    evaluation = result["eval"]
    assert evaluation["questions"] == 2
    for how in ("served", "own_words"):
        assert {evaluation[how]["base"]["model"], evaluation[how]["trained"]["model"]} == {"tiny", "tiny-self"}
        assert all(evaluation[how][m]["questions"] == 2 for m in ("base", "trained"))
    # the served runs are stored as `secondmectl eval --model tiny --model tiny-self` would store them
    assert evaluation["served"]["trained"]["id"] and evaluation["own_words"]["trained"]["id"] is None
    again = json.loads(daemon.ctl("eval", "--model", "tiny", "--model", "tiny-self", "--json", timeout=600).stdout)
    scores = ("questions", "recall", "all_terms", "abstention", "false_abstention")
    assert [{k: r[k] for k in ("model_name", "source", *scores)} for r in again["runs"]] == [
        {"model_name": evaluation["served"][m]["model"], "source": "held-out memories"}
        | {k: evaluation["served"][m][k] for k in scores}
        for m in ("base", "trained")
    ]  # `secondmectl eval --model BASE --model TRAINED` asks the job's questions again, and scores them alike
    model = daemon.client.models.GetModel(models_pb2.GetModelRequest(name="tiny-self")).model
    assert model.active and model.adapter and model.base == "tiny"
    assert model.dataset_version == result["dataset"]["version"]
    assert model.trained_memories == result["dataset"]["train_memories"] and model.HasField("trained_through")

    done = _chat(daemon, "Who is Hattie?")
    assert done.model == "tiny-self" and len(done.cited) > 0

    shown = json.loads(daemon.ctl("train", "data", "show", "--examples", "2", "--json").stdout)
    assert shown["manifest"]["version"] == model.dataset_version and len(shown["examples"]) == 2
    exported = [json.loads(line) for line in daemon.ctl("train", "data", "export").stdout.splitlines()]
    parts = {r["part"] for r in exported}
    assert parts == {"examples", "pairs", "heldout"}
    trained_on = shown["manifest"]["train_memories"][0]
    daemon.client.memory.DeleteMemory(memory_pb2.DeleteMemoryRequest(memory_id=trained_on))
    after = daemon.client.models.GetModel(models_pb2.GetModelRequest(name="tiny-self")).model
    assert after.trained_memories_deleted == 1 and after.trained_memories == model.trained_memories
    shown_model = " ".join(daemon.ctl("models", "show", "tiny-self").stdout.split())
    assert "trained from tiny (a LoRA adapter served on it)" in shown_model and "1 of them deleted since" in shown_model

    back = daemon.ctl("models", "activate", "--previous", timeout=120).stdout
    assert back.strip() == "active model: tiny" and _chat(daemon, "hello").model == "tiny"


def test_kill_9_mid_sft_and_mid_dpo_resumes_with_the_step_count_continuing_into_one_model(copy_of):
    daemon = copy_of
    first = _train(daemon, max_steps=5, no_activate=True).job
    second = _train(daemon, max_steps=5)
    assert list(second.queued_behind) == [first.id]  # said clearly: it waits for the first
    daemon.client.jobs.CancelJob(jobs_pb2.CancelJobRequest(job_id=second.job.id), timeout=30)
    third = daemon.ctl("train", "--max-steps", "5", "--no-wait")
    said = " ".join(third.stderr.split())
    assert f"({first.id}); this one ({third.stdout.strip()}) is queued and starts when it ends" in said
    daemon.client.jobs.CancelJob(jobs_pb2.CancelJobRequest(job_id=third.stdout.strip()), timeout=30)

    seen: list[str] = []
    wait_until(_reached(daemon, first.id, "sft", 3, seen), "SFT step 3", timeout=900)
    # live progress: step/total, loss, tokens/s and ETA
    assert re.fullmatch(r"step [345]/5 · loss \d+\.\d{3} · \d+ tok/s · ETA \d\S*", seen[-1]), seen[-1]
    daemon.kill()  # kill -9 the daemon: its job child follows it
    daemon.start()  # the interrupted training goes on by itself, as the same job
    wait_until(_reached(daemon, first.id, "dpo", 3), "DPO step 3", timeout=900)
    _job_child(daemon).kill()  # kill -9 the job child mid-DPO
    failed = wait_job(daemon.client, first.id)
    assert failed.state == jobs_pb2.JOB_STATE_FAILED and "SIGKILL" in failed.error
    again = daemon.client.jobs.RetryJob(jobs_pb2.RetryJobRequest(job_id=first.id), timeout=30).job
    result = _result(wait_job(daemon.client, again.id, timeout=900))
    assert result["stages"]["sft"]["steps"] == 5 and result["stages"]["dpo"]["steps"] == 5
    assert result["stages"]["sft"]["resumed_from_step"] >= 2  # the SFT after the restart continued
    assert result["stages"]["dpo"]["resumed_from_step"] >= 2
    assert set(result["peak_memory_mb"]) == {"data", "pairs", "load", "dpo", "export", "eval"}  # the retry's
    assert [m.name for m in _trained_models(daemon)] == ["tiny-self"]  # one final model
    assert daemon.client.models.GetModel(models_pb2.GetModelRequest(name="tiny")).model.active


def test_examples_longer_than_max_length_are_left_out_and_the_plan_says_how_many(copy_of):
    daemon = copy_of
    left_out = re.compile(
        r"(\d+) of (\d+) examples are longer than training\.max_length \((\d+) tokens\) and are left out"
    )

    def dry_run() -> tuple[int, list[re.Match], int]:
        plan = json.loads(daemon.ctl("train", "--dry-run", "--json", timeout=600).stdout)["result"]["plan"]
        sft = next(s for s in plan["stages"] if s["stage"] == "sft")
        return sft["examples"], [m for n in plan["notes"] if (m := left_out.match(n))], plan["max_length"]

    kept, said, longest = dry_run()
    total = kept + (int(said[0][1]) if said else 0)
    daemon.write_config(CONFIG.replace("max_length = 1400", f"max_length = {longest - 1}"))
    daemon.restart()
    fewer, (note,), _ = dry_run()
    assert int(note[3]) == longest - 1 and int(note[2]) == total
    assert int(note[1]) >= 1 and fewer == total - int(note[1])  # the longest at least, and only those


def test_too_few_memories_are_refused_with_the_number_needed(start_daemon, tiny_gguf):
    daemon = start_daemon(CONFIG)
    daemon.ctl("models", "import", str(tiny_gguf), "--name", "tiny", "--activate")
    none = daemon.ctl("train", check=False, timeout=300)
    assert none.returncode == 1 and "there are 0" in " ".join(none.stdout.split())
    few = sorted(NOTES.glob("*.md"))[:3]
    assert wait_job(daemon.client, ingest(daemon.client, *few).id).state == jobs_pb2.JOB_STATE_SUCCEEDED
    out = daemon.ctl("train", check=False, timeout=300)
    said = " ".join(out.stdout.split())
    assert out.returncode == 1
    assert "training needs about 10 memories" in said and "there are 3" in said
    assert _trained_models(daemon) == []


def test_a_full_disk_while_writing_the_gguf_keeps_the_active_model_and_a_retry_finishes(copy_of, tiny_gguf):
    daemon = copy_of
    assert daemon.process is not None
    # A merged F16 GGUF is as big as the tiny model's F16 file; no file of this daemon (or its jobs) may grow
    # that big, so writing it fails as on a full disk, while everything else the daemon writes is smaller.
    limit = tiny_gguf.stat().st_size - 50_000
    assert (daemon.data_dir / "secondme.db").stat().st_size < limit / 2
    # Set on the daemon and on its fork server, which forks the jobs with its own limits (an owner's limit,
    # set by a service manager before the daemon starts, reaches both).
    limited = [daemon.process.pid, *(p.pid for p in fork_servers(daemon.process.pid))]
    _, hard = resource.prlimit(daemon.process.pid, resource.RLIMIT_FSIZE)
    for pid in limited:
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (limit, hard))
    job = _train(daemon, max_steps=1, merged="q8_0").job
    failed = wait_job(daemon.client, job.id, timeout=900)
    assert failed.state == jobs_pb2.JOB_STATE_FAILED
    assert "could not write the trained model" in failed.error and "active model is unchanged" in failed.error
    assert _trained_models(daemon) == []
    assert _chat(daemon, "hello").model == "tiny"  # the active model is still usable
    for pid in limited:
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (hard, hard))
    retried = daemon.client.jobs.RetryJob(jobs_pb2.RetryJobRequest(job_id=job.id), timeout=30).job
    result = _result(wait_job(daemon.client, retried.id, timeout=900))
    assert result["stages"]["sft"]["steps"] == 1  # trained once: the retry resumed at the export
    assert {m["name"] for m in result["models"]} == {"tiny-self", "tiny-self-q8_0"}
    assert result["activated"] == "tiny-self-q8_0"
    merged = daemon.client.models.GetModel(models_pb2.GetModelRequest(name="tiny-self-q8_0")).model
    assert not merged.adapter and merged.quantization == "Q8_0" and merged.base == "tiny"


def test_cancel_mid_export_leaves_nothing_registered(copy_of):
    daemon = copy_of
    models_dir = daemon.data_dir / "models"
    before = sorted(p.name for p in models_dir.iterdir())
    job = _train(daemon, max_steps=1, merged="q4_k_m").job
    wait_until(lambda: _progress(daemon, job.id).progress.stage == "export", "the export", timeout=900, every=0.02)
    cancelled = daemon.client.jobs.CancelJob(jobs_pb2.CancelJobRequest(job_id=job.id), timeout=60).job
    assert cancelled.state == jobs_pb2.JOB_STATE_CANCELLED and cancelled.progress.stage == "export"
    assert _trained_models(daemon) == []
    assert sorted(p.name for p in models_dir.iterdir()) == before
    with pytest.raises(grpc.RpcError) as missing:
        daemon.client.models.GetModel(models_pb2.GetModelRequest(name="tiny-self"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
