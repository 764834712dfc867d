"""The identity update when things go wrong: no model, a model that cannot be reached, a daemon killed mid-job."""

from __future__ import annotations

import shutil
import sqlite3
import time

import psutil
import pytest
from conftest import PERSONA
from helpers import all_memories, ingest, result, wait_job
from test_identity_daemon import CONFIG, FIRST, _copy, identity_jobs, shades, wait_identity

from secondme.v1 import identity_pb2, jobs_pb2, memory_pb2

pytestmark = pytest.mark.timeout(900)


def assert_grounded(daemon, sentences, allowed: set[str]) -> None:
    """Every sentence cites memories among `allowed`, and its content words are in what they say."""
    from secondme.pipeline.grounding.support import content_words

    texts = {m.id: m for m in all_memories(daemon.client)}
    assert sentences
    for sentence in sentences:
        assert sentence.memory_ids and set(sentence.memory_ids) <= allowed, sentence
        said = " ".join(
            daemon.client.memory.GetMemory(memory_pb2.GetMemoryRequest(memory_id=m, include_text=True)).text
            for m in sentence.memory_ids
            if m in texts
        )
        assert content_words(sentence.text, "Nadia Brennan") <= content_words(said), sentence.text


def test_without_a_model_the_identity_is_made_of_the_owners_own_sentences(start_daemon, tmp_path):
    daemon = start_daemon()
    daemon.ctl("config", "set", "owner.name", "Nadia Brennan")
    daemon.restart()
    notes = _copy([n for names in FIRST.values() for n in names], tmp_path / "notes")
    printed = PERSONA / "media" / "2024-08-17-celadon-glaze-tests.pdf"  # the same text as one of the notes
    shutil.copy(printed, notes / printed.name)
    wait_job(daemon.client, ingest(daemon.client, notes).id)
    report = result(wait_identity(daemon, set()))
    # the PDF is kept and linked to the note; the shades count the glaze tests once
    by_name = {m.source.rsplit("/", 1)[-1]: m for m in all_memories(daemon.client)}
    pdf = daemon.client.memory.GetMemory(memory_pb2.GetMemoryRequest(memory_id=by_name[printed.name].id)).memory
    assert pdf.same_content_as == by_name["2024-08-17-celadon-glaze-tests.md"].id
    assert report["mode"] == "extractive" and report["waiting_for_model"] == ""
    assert report["insights"]["short"] == 4 and report["insights"]["extracted"] == 8
    assert report["sentences"] == {"written": 0, "kept": 0, "dropped": 0}
    found = shades(daemon)
    assert len(found) == 4 and sum(s.member_count for s in found) == 12
    for shade in found:
        latest = shade.latest
        assert not shade.pending and latest.model == "" and latest.mode == "extractive"
        assert latest.text.name and latest.text.name != "unnamed" and latest.text.description_third
        members = set(daemon.client.identity.GetShade(
            identity_pb2.GetShadeRequest(shade_id=shade.id, include_members=True)).members[i].memory_id
            for i in range(shade.member_count))  # fmt: skip
        assert_grounded(daemon, latest.sentences, members)
        second = [s.text for s in latest.sentences if s.field.endswith("_second")]
        assert second and not any("Nadia" in t for t in second)
    listing = daemon.client.identity.ListShades(identity_pb2.ListShadesRequest())
    assert listing.pending_insight_count == 0 and listing.unclustered_memory_count == 0
    bio = daemon.client.identity.GetBiography(identity_pb2.GetBiographyRequest()).biography
    assert bio.mode == "extractive" and "Nadia Brennan" in bio.text_third
    assert_grounded(daemon, bio.sentences, {m.id for m in all_memories(daemon.client)})
    shown = daemon.ctl("identity", "show").stdout
    assert "Shades (4)" in shown and "(extractive)" in shown and bio.sentences[0].memory_ids[0][:12] in shown
    # nothing changed, so a second update rewrites nothing
    again = result(wait_job(daemon.client, daemon.client.identity.RefreshIdentity(
        identity_pb2.RefreshIdentityRequest()).job.id))  # fmt: skip
    assert again["shades"]["created"] == 0 and again["shades"]["joined"] == 0
    assert {s.id: s.latest.version for s in shades(daemon)} == {s.id: s.latest.version for s in found}


def test_an_endpoint_that_cannot_be_reached_is_unchecked_and_the_identity_extractive(start_daemon, tmp_path):
    daemon = start_daemon(
        'version = 1\n[models]\nopenai_base_url = "http://127.0.0.1:9/v1"\nopenai_model = "m"\n'
        "probe_timeout_seconds = 2\n"
    )
    notes = _copy(FIRST["bees"] + FIRST["pottery"], tmp_path / "notes")
    wait_job(daemon.client, ingest(daemon.client, notes).id)
    report = result(wait_identity(daemon, set()))
    assert report["mode"] == "extractive" and report["insights"]["failed"] == 0 and report["shades"]["written"] == 2
    db = sqlite3.connect(daemon.data_dir / "secondme.db")
    try:
        ((key, status),) = db.execute("SELECT model_key, status FROM model_probes").fetchall()
    finally:
        db.close()
    assert key == "endpoint:http://127.0.0.1:9/v1#m" and status == "unchecked"


def test_an_unreachable_model_made_to_write_fails_documents_not_the_update_and_they_are_retried(start_daemon, tmp_path):
    daemon = start_daemon(
        'version = 1\n[models]\nopenai_base_url = "http://127.0.0.1:9/v1"\nopenai_model = "m"\n'
        '[identity]\nmode = "generative"\n'
    )
    notes = _copy(FIRST["bees"] + FIRST["pottery"], tmp_path / "notes")
    wait_job(daemon.client, ingest(daemon.client, notes).id)
    job = wait_identity(daemon, set())
    assert job.state == jobs_pb2.JOB_STATE_SUCCEEDED
    report = result(job)
    assert report["insights"]["failed"] == 4 and report["insights"]["short"] == 2
    assert report["shades"]["failed"] == 2 and report["biography"]["global"] == "written"
    assert any("cannot reach the model endpoint" in e for e in report["errors"])
    # the owner's own sentences stand in, and the shades stay due for the model
    assert all(s.latest.mode == "extractive" and s.pending for s in shades(daemon))
    for attempt in (2, 3):
        refresh = daemon.client.identity.RefreshIdentity(identity_pb2.RefreshIdentityRequest()).job
        assert result(wait_job(daemon.client, refresh.id))["insights"]["failed"] == 4
        db = sqlite3.connect(daemon.data_dir / "secondme.db")
        try:
            rows = db.execute("SELECT status, attempts, error FROM memory_insights WHERE status = 'failed'").fetchall()
        finally:
            db.close()
        assert len(rows) == 4 and all(r[1] == attempt and "cannot reach" in r[2] for r in rows)
    # after three attempts a document waits for the owner instead of failing every update
    refresh = daemon.client.identity.RefreshIdentity(identity_pb2.RefreshIdentityRequest()).job
    assert result(wait_job(daemon.client, refresh.id))["insights"]["failed"] == 0
    out = daemon.ctl("identity", "refresh", "--retry-failed", check=False)
    assert out.returncode == 0 and "4 failed" in out.stdout


def test_a_daemon_killed_during_an_update_loses_only_the_unit_in_flight(start_daemon, tiny_gguf, tmp_path):
    daemon = start_daemon(CONFIG)
    daemon.ctl("models", "import", str(tiny_gguf), "--name", "tiny", "--activate")
    notes = _copy(FIRST["bees"] + FIRST["pottery"] + FIRST["work"], tmp_path / "notes")
    wait_job(daemon.client, ingest(daemon.client, notes).id)
    db = sqlite3.connect(daemon.data_dir / "secondme.db", timeout=60, isolation_level=None)
    deadline = time.monotonic() + 600
    try:
        while True:  # until the update has stored a couple of insights and is writing the next
            # Each look holds the write lock, and the last one keeps it through the kill: the
            # update cannot store another insight in between, however fast the machine writes them
            # (a quiet one finished all nine between two polls of the job's progress).
            db.execute("BEGIN IMMEDIATE")
            stored = db.execute("SELECT COUNT(*) FROM memory_insights").fetchone()[0]
            if stored >= 2:
                break
            db.execute("ROLLBACK")
            assert time.monotonic() < deadline, "the identity update stored no insights"
            time.sleep(0.005)
        jobs = daemon.client.jobs.ListJobs(jobs_pb2.ListJobsRequest(kind="identity")).jobs
        assert jobs[0].state == jobs_pb2.JOB_STATE_RUNNING
        interrupted, seen = jobs[0], {j.id for j in jobs}
        children = psutil.Process(daemon.process.pid).children(recursive=True)
        daemon.kill()
        psutil.wait_procs(children, timeout=60)  # the job child ends with its daemon, held by nothing
        rows = db.execute("SELECT status, summary FROM memory_insights").fetchall()
        db.execute("ROLLBACK")
        assert rows and all(status in ("extracted", "short") and summary for status, summary in rows)
        assert db.execute("SELECT COUNT(*) FROM shades").fetchone()[0] == 0  # the kill came before clustering
    finally:
        db.close()
    daemon.start()  # the interrupted update goes on by itself, as the same job
    assert identity_jobs(daemon) == seen
    report = result(wait_job(daemon.client, interrupted.id, 600))
    assert report["insights"]["extracted"] + report["insights"]["short"] == 9 - len(rows)
    assert report["mode"] == "extractive"  # the tiny random-weight model fails the capability check
    assert len(shades(daemon)) == 3 and all(s.latest.mode == "extractive" for s in shades(daemon))
