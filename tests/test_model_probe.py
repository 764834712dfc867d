"""The capability check in a running daemon: run once when a model becomes active, shown by `models show`,
and deciding whether the model writes the identity (every sentence it writes checked against the memories).

The failing path is the real tiny model in llama.cpp; the passing path is an OpenAI-compatible endpoint on
loopback that answers as a capable model would and invents a fact in every text it writes
(tests/capable_endpoint.py), since no capable model runs on this machine.
"""

from __future__ import annotations

import json
import sqlite3

import pytest
from capable_endpoint import INVENTED, serving
from helpers import all_memories, ingest, result, wait_job, wait_until
from test_identity_daemon import CONFIG, FIRST, _copy, shades, wait_identity
from test_identity_faults import assert_grounded

from secondme.v1 import identity_pb2, jobs_pb2

pytestmark = pytest.mark.timeout(600)


def probe_jobs(daemon) -> list[jobs_pb2.Job]:
    return list(daemon.client.jobs.ListJobs(jobs_pb2.ListJobsRequest(kind="probe", page_size=100)).jobs)


def test_activating_a_model_checks_it_once_and_models_show_says_what_it_found(start_daemon, tiny_gguf):
    daemon = start_daemon(CONFIG)
    shown = daemon.ctl("models", "import", str(tiny_gguf), "--name", "tiny", "--activate").stdout
    assert "capability" in shown
    wait_until(lambda: probe_jobs(daemon), "a capability check queued by the activation")
    (job,) = probe_jobs(daemon)
    assert wait_job(daemon.client, job.id).state == jobs_pb2.JOB_STATE_SUCCEEDED
    model = json.loads(daemon.ctl("models", "show", "tiny", "--json").stdout)
    probe = model["probe"]
    # the random-weight model answers none of the four tasks, and each answer is kept to show why
    assert probe["status"] == "failed" and len(probe["checks"]) == 4
    assert not any(check.get("passed") for check in probe["checks"])
    printed = daemon.ctl("models", "show", "tiny").stdout
    assert "failed: replies and identity are built from your own sentences" in printed
    assert printed.count("    fail ") == 4 and "writes the JSON asked for" in printed
    # checked once: activating it again, or a restart, does not ask again
    daemon.ctl("models", "activate", "tiny")
    daemon.restart()
    assert len(probe_jobs(daemon)) == 1


def test_a_model_that_passes_writes_the_identity_and_what_it_invents_is_dropped(start_daemon, tmp_path):
    with serving() as endpoint:
        daemon = start_daemon(f'version = 1\n[models]\nopenai_base_url = "{endpoint}"\nopenai_model = "m"\n')
        daemon.ctl("config", "set", "owner.name", "Nadia Brennan")
        daemon.restart()
        notes = _copy(FIRST["bees"] + FIRST["pottery"], tmp_path / "notes")
        wait_job(daemon.client, ingest(daemon.client, notes).id)
        job = wait_identity(daemon, set())
        assert job.state == jobs_pb2.JOB_STATE_SUCCEEDED, job.error
        report = result(job)
    db = sqlite3.connect(daemon.data_dir / "secondme.db")
    try:
        probes = db.execute("SELECT model_key, status FROM model_probes").fetchall()
        stored = "\n".join(db.iterdump())
    finally:
        db.close()
    assert probes == [(f"endpoint:{endpoint}#m", "passed")]
    assert report["mode"] == "generative" and report["insights"]["done"] >= 1 and not report["errors"]
    counts = report["sentences"]
    # every text the model wrote began with the two invented sentences, and the support check dropped them
    assert counts["written"] == counts["kept"] + counts["dropped"] and counts["kept"] >= 1
    texts = report["insights"]["done"] * 2 + report["shades"]["written"] * 4 + 4  # and both biographies
    assert counts["dropped"] >= 2 * texts
    for claim in INVENTED:
        assert claim not in stored
    assert "Paris" not in stored and "choir" not in stored
    found = shades(daemon)
    assert found and all(s.latest.mode == "generative" and s.latest.model for s in found)
    for shade in found:
        members = {m.memory_id for m in daemon.client.identity.GetShade(
            identity_pb2.GetShadeRequest(shade_id=shade.id, include_members=True)).members}  # fmt: skip
        assert_grounded(daemon, shade.latest.sentences, members)
    bio = daemon.client.identity.GetBiography(identity_pb2.GetBiographyRequest()).biography
    assert bio.mode == "generative" and bio.sentences
    assert_grounded(daemon, bio.sentences, {m.id for m in all_memories(daemon.client)})
