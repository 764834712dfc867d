"""The identity pipeline through a real secondmed: persona notes -> shades and biographies, kept up to date.

With the tiny random-weight model the generated words are noise, so these tests check structure and
invariants: what is written, from which memories, when it is rewritten, and that the owner's
choices hold. What the words say with a real model is measured by bench/bench_identity_quality.py.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from conftest import PERSONA, RunningDaemon
from helpers import ingest, result, wait_job

from secondme.v1 import chat_pb2, identity_pb2, jobs_pb2, memory_pb2

# Four themes of three notes each; the later notes belong to three of them (bees, running, pottery).
FIRST = {
    "bees": ["2023-02-11-beekeeping-course.md", "2023-06-03-swarm-in-the-plum-tree.md", "2024-10-12-losing-maud.md"],
    "pottery": ["2023-03-25-first-pottery-class.md", "2023-11-04-kiln-disaster.md",
                "2024-08-17-celadon-glaze-tests.md"],
    "running": ["2023-04-15-first-parkrun.md", "2023-10-08-york-half-marathon.md",
                "2024-05-19-fell-race-in-the-rain.md"],
    "work": ["2023-05-22-timetable-data-mess.md", "2024-03-12-meeting-notes-gtfs-feed.md",
             "2024-11-29-farewell-email-northway.txt"],
}  # fmt: skip
LATER = {
    "bees": "2025-05-17-first-inspection-in-york.md",
    "running": "2025-04-26-three-peaks-race.md",
    "pottery": "2025-06-21-craft-fair-stall.md",
}
pytestmark = pytest.mark.timeout(900)

# The random-weight model fills every field to its bound: short bounds keep the tests quick.
CONFIG = "version = 1\n[models]\ncontext_size = 2048\nthreads = 2\n[identity]\ntext_length_scale = 0.15\n"


def _copy(names: list[str], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(PERSONA / "notes" / name, folder / name)
    return folder


def wait_identity(daemon: RunningDaemon, after: set[str], timeout: float = 600) -> jobs_pb2.Job:
    """The first identity job not in `after`, once it has finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = daemon.client.jobs.ListJobs(jobs_pb2.ListJobsRequest(kind="identity", page_size=100)).jobs
        fresh = [j for j in jobs if j.id not in after]
        if fresh:
            return wait_job(daemon.client, fresh[-1].id, timeout)
        time.sleep(0.2)
    raise AssertionError("no identity job was queued")


def identity_jobs(daemon: RunningDaemon) -> set[str]:
    return {j.id for j in daemon.client.jobs.ListJobs(jobs_pb2.ListJobsRequest(kind="identity", page_size=100)).jobs}


def shades(daemon: RunningDaemon) -> list[identity_pb2.Shade]:
    return list(daemon.client.identity.ListShades(identity_pb2.ListShadesRequest()).shades)


def members(daemon: RunningDaemon, shade_id: int) -> dict[str, identity_pb2.ShadeMember]:
    response = daemon.client.identity.GetShade(identity_pb2.GetShadeRequest(shade_id=shade_id, include_members=True))
    return {m.memory_id: m for m in response.members}


def theme_of_shades(daemon: RunningDaemon) -> dict[str, int]:
    """Which shade holds each theme's first note (the themes are the test's, not the pipeline's)."""
    by_source = {m.source.rsplit("/", 1)[-1]: m.id for m in daemon.client.memory.ListMemories(
        memory_pb2.ListMemoriesRequest(page_size=1000)).memories}  # fmt: skip
    found = {}
    for shade in shades(daemon):
        ids = set(members(daemon, shade.id))
        for theme, names in FIRST.items():
            if by_source[names[0]] in ids:
                found[theme] = shade.id
    return found


def _daemon_in(root: Path) -> RunningDaemon:
    return RunningDaemon(root, root / "config.toml", root / "data", root / "run" / "s.sock", root / "log")


@pytest.fixture(scope="module")
def modelled(tiny_gguf, tmp_path_factory) -> Iterator[tuple[Path, dict]]:
    """A stopped secondmed's config and data dir: the tiny model active, the twelve first notes modelled
    into an identity. Built once; each test runs a daemon of its own on a copy."""
    root = Path(tempfile.mkdtemp(prefix="smi-", dir="/tmp"))
    daemon = _daemon_in(root)
    try:
        daemon.ctl("init", "--no-default-model")
        daemon.write_config(CONFIG)
        daemon.start()
        daemon.ctl("models", "import", str(tiny_gguf), "--name", "tiny", "--activate")
        notes = _copy([n for names in FIRST.values() for n in names], tmp_path_factory.mktemp("first"))
        job = wait_job(daemon.client, ingest(daemon.client, notes).id)
        assert result(job)["ingested"] == 12
        update = wait_identity(daemon, set())
        assert update.state == jobs_pb2.JOB_STATE_SUCCEEDED, update.error
        report = result(update)
    finally:
        daemon.stop()
    yield root, report
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def self_daemon(modelled) -> Iterator[RunningDaemon]:
    """A secondmed of the test's own on a copy of the modelled data: no test sees what another changed."""
    template, report = modelled
    root = Path(tempfile.mkdtemp(prefix="smi-", dir="/tmp"))
    shutil.copy(template / "config.toml", root / "config.toml")
    shutil.copytree(template / "data", root / "data")
    daemon = _daemon_in(root)
    daemon.first_update = report  # type: ignore[attr-defined]
    try:
        yield daemon.start()
    finally:
        daemon.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_the_first_update_reads_every_note_groups_the_themes_and_writes_the_biographies(self_daemon):
    report = self_daemon.first_update
    # the tiny random-weight model fails the capability check: the texts are the notes' own sentences
    assert report["model"] == "tiny" and report["mode"] == "extractive" and report["waiting_for_model"] == ""
    assert report["insights"]["extracted"] + report["insights"]["short"] == 12 and report["insights"]["failed"] == 0
    themes = theme_of_shades(self_daemon)
    assert sorted(themes) == sorted(FIRST) and len(shades(self_daemon)) == 4
    memories = {m.id: m for m in self_daemon.client.memory.ListMemories(
        memory_pb2.ListMemoriesRequest(page_size=100)).memories}  # fmt: skip
    for shade in shades(self_daemon):
        latest = shade.latest
        assert shade.member_count == 3 and not shade.pending
        assert latest.author == identity_pb2.AUTHOR_PIPELINE and latest.mode == "extractive" and latest.model == ""
        assert all(getattr(latest.text, f) for f in ("name", "aspect", "description_third", "description_second"))
        assert all(s.memory_ids and set(s.memory_ids) <= set(members(self_daemon, shade.id)) for s in latest.sentences)
        assert latest.confidence != identity_pb2.CONFIDENCE_UNSPECIFIED
        in_shade = members(self_daemon, shade.id)
        assert [e.memory_id for e in latest.timeline] and {e.memory_id for e in latest.timeline} <= set(in_shade)
        for entry in latest.timeline:  # the timeline carries each memory's own date, oldest first
            assert entry.date == memories[entry.memory_id].created_at.ToDatetime().strftime("%Y-%m-%d")
        assert [e.date for e in latest.timeline] == sorted(e.date for e in latest.timeline)
    bio = self_daemon.client.identity.GetBiography(identity_pb2.GetBiographyRequest()).biography
    assert bio.mode == "extractive" and bio.text_third and bio.text_second and bio.sentences
    assert sorted(bio.shade_ids) == sorted(s.id for s in shades(self_daemon))
    status = self_daemon.client.identity.GetBiography(
        identity_pb2.GetBiographyRequest(kind=identity_pb2.BIOGRAPHY_KIND_STATUS)
    ).biography
    assert status.text_third and set(status.memory_ids) <= set(memories)
    shown = self_daemon.ctl("identity", "show").stdout
    assert "Biography" in shown and "Shades (4)" in shown and "2024-10-12" in shown


def test_new_notes_update_only_the_shades_they_join(self_daemon, tmp_path):
    themes = theme_of_shades(self_daemon)
    before = {s.id: s.latest.version for s in shades(self_daemon)}
    bio_before = self_daemon.client.identity.GetBiography(identity_pb2.GetBiographyRequest()).biography.id
    seen = identity_jobs(self_daemon)
    wait_job(self_daemon.client, ingest(self_daemon.client, _copy(list(LATER.values()), tmp_path / "later")).id)
    report = result(wait_identity(self_daemon, seen))
    assert report["shades"]["joined"] == 3 and report["shades"]["created"] == 0
    assert report["shades"]["written"] == 3 and report["shades"]["unchanged"] == 1
    after = {s.id: s for s in shades(self_daemon)}
    for theme, shade_id in themes.items():
        if theme in LATER:
            assert after[shade_id].latest.version == before[shade_id] + 1 and after[shade_id].member_count == 4
        else:
            assert after[shade_id].latest.version == before[shade_id] and after[shade_id].member_count == 3
    assert self_daemon.client.identity.GetBiography(identity_pb2.GetBiographyRequest()).biography.id > bio_before
    history = self_daemon.client.identity.ListShadeVersions(
        identity_pb2.ListShadeVersionsRequest(shade_id=themes["bees"])
    ).versions
    assert [v.version for v in history] == [before[themes["bees"]] + 1, before[themes["bees"]]]
    assert [v.member_count for v in history] == [4, 3]


def test_the_owners_choices_hold_through_later_updates(self_daemon, tmp_path):
    themes = theme_of_shades(self_daemon)
    client = self_daemon.client.identity
    # private: left out of the biographies from the next update on
    marked = client.UpdateShade(
        identity_pb2.UpdateShadeRequest(shade_id=themes["work"], privacy=identity_pb2.SHADE_PRIVACY_PRIVATE)
    )
    assert marked.shade.privacy == identity_pb2.SHADE_PRIVACY_PRIVATE and marked.job.id
    # the owner's own text
    self_daemon.ctl(
        "identity", "edit", str(themes["pottery"]), "--name", "Clay, mostly", "--description", "I throw pots."
    )
    edited = client.GetShade(identity_pb2.GetShadeRequest(shade_id=themes["pottery"])).shade
    assert edited.owner_edited and edited.latest.author == identity_pb2.AUTHOR_OWNER
    assert edited.latest.text.name == "Clay, mostly" and edited.latest.text.description_third == "I throw pots."
    report = result(wait_job(self_daemon.client, marked.job.id))
    bio = client.GetBiography(identity_pb2.GetBiographyRequest()).biography
    assert themes["work"] not in bio.shade_ids and themes["pottery"] in bio.shade_ids, report
    status = client.GetBiography(identity_pb2.GetBiographyRequest(kind=identity_pb2.BIOGRAPHY_KIND_STATUS)).biography
    assert not set(status.memory_ids) & set(members(self_daemon, themes["work"])), report
    # another update: the owner's words stay
    seen = identity_jobs(self_daemon)
    wait_job(self_daemon.client, ingest(self_daemon.client, _copy(["2024-01-20-moving-to-york.md"], tmp_path / "c")).id)
    wait_identity(self_daemon, seen)
    for shade in shades(self_daemon):
        if shade.id == themes["pottery"]:
            assert shade.latest.text.name == "Clay, mostly" and shade.latest.author == identity_pb2.AUTHOR_OWNER
    # merge and split, both pinned, both rewritten by the next update
    together = len(members(self_daemon, themes["bees"])) + len(members(self_daemon, themes["running"]))
    merged = client.MergeShades(
        identity_pb2.MergeShadesRequest(target_shade_id=themes["bees"], source_shade_ids=[themes["running"]])
    )
    assert merged.shade.member_count == together and merged.shade.pending
    gone = client.GetShade(identity_pb2.GetShadeRequest(shade_id=themes["running"])).shade
    assert gone.state == identity_pb2.SHADE_STATE_MERGED and gone.merged_into == themes["bees"]
    split = client.SplitShade(identity_pb2.SplitShadeRequest(shade_id=themes["bees"]))
    assert split.original.member_count + split.created.member_count == together and split.created.member_count >= 1
    assert all(m.pinned for m in members(self_daemon, split.created.id).values())
    report = result(wait_job(self_daemon.client, split.job.id))
    active = {s.id: s for s in shades(self_daemon)}
    assert themes["running"] not in active and split.created.id in active
    assert not active[split.created.id].pending and active[split.created.id].latest.mode == "extractive", report
    assert active[themes["work"]].privacy == identity_pb2.SHADE_PRIVACY_PRIVATE  # still marked


def test_a_shade_marked_private_leaves_the_biographies_at_once_not_when_they_are_rewritten(self_daemon):
    themes = theme_of_shades(self_daemon)
    before = self_daemon.client.identity.GetBiography(identity_pb2.GetBiographyRequest()).biography
    assert themes["work"] in before.shade_ids
    # No update follows the owner's choices: the biographies resting on the work shade stay as written.
    self_daemon.stop()
    self_daemon.write_config(CONFIG.replace("[identity]\n", "[identity]\nauto_update = false\n"))
    client = self_daemon.start().client.identity
    private = identity_pb2.UpdateShadeRequest(shade_id=themes["work"], privacy=identity_pb2.SHADE_PRIVACY_PRIVATE)
    assert not client.UpdateShade(private).job.id
    for kind in (identity_pb2.BIOGRAPHY_KIND_GLOBAL, identity_pb2.BIOGRAPHY_KIND_STATUS):
        with pytest.raises(grpc.RpcError) as caught:
            client.GetBiography(identity_pb2.GetBiographyRequest(kind=kind))
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND and "marked private" in caught.value.details()
    assert "none yet without the shades marked private" in self_daemon.ctl("identity", "show").stdout
    # unmarked, the biography that rests on it is the owner's to see again
    client.UpdateShade(
        identity_pb2.UpdateShadeRequest(shade_id=themes["work"], privacy=identity_pb2.SHADE_PRIVACY_UNMARKED)
    )
    assert client.GetBiography(identity_pb2.GetBiographyRequest()).biography.id == before.id
    # marked again and refreshed: new biographies without it
    client.UpdateShade(private)
    wait_job(self_daemon.client, client.RefreshIdentity(identity_pb2.RefreshIdentityRequest()).job.id)
    after = client.GetBiography(identity_pb2.GetBiographyRequest()).biography
    assert after.id > before.id and themes["work"] not in after.shade_ids and after.shade_ids
    status = client.GetBiography(identity_pb2.GetBiographyRequest(kind=identity_pb2.BIOGRAPHY_KIND_STATUS)).biography
    assert status.memory_ids and not set(status.memory_ids) & set(members(self_daemon, themes["work"]))


def test_bad_owner_requests_are_refused_with_reasons(self_daemon):
    client = self_daemon.client.identity
    shade_id = shades(self_daemon)[0].id
    cases = [
        (lambda: client.GetShade(identity_pb2.GetShadeRequest(shade_id=9999)), grpc.StatusCode.NOT_FOUND, "no shade"),
        (lambda: client.MergeShades(identity_pb2.MergeShadesRequest(target_shade_id=shade_id,
                                                                    source_shade_ids=[shade_id])),
         grpc.StatusCode.INVALID_ARGUMENT, "into itself"),
        (lambda: client.SplitShade(identity_pb2.SplitShadeRequest(shade_id=shade_id, memory_ids=["mem_nope"])),
         grpc.StatusCode.FAILED_PRECONDITION, "not a member"),
        (lambda: client.UpdateShade(identity_pb2.UpdateShadeRequest(shade_id=shade_id)),
         grpc.StatusCode.INVALID_ARGUMENT, "nothing to change"),
        (lambda: client.UpdateShade(identity_pb2.UpdateShadeRequest(name="x")), grpc.StatusCode.INVALID_ARGUMENT,
         "shade_id is required"),
        (lambda: client.UpdateShade(identity_pb2.UpdateShadeRequest(shade_id=shade_id, name="   ")),
         grpc.StatusCode.INVALID_ARGUMENT, "needs a name"),
    ]  # fmt: skip
    for call, code, words in cases:
        with pytest.raises(grpc.RpcError) as caught:
            call()
        assert caught.value.code() == code and words in caught.value.details()
    out = self_daemon.ctl("identity", "shade", "9999", check=False)
    assert out.returncode == 4 and "no shade 9999" in out.stderr


def test_chat_answers_cite_the_memories_they_were_given(self_daemon):
    by_source = {m.source.rsplit("/", 1)[-1]: m.id for m in self_daemon.client.memory.ListMemories(
        memory_pb2.ListMemoriesRequest(page_size=100)).memories}  # fmt: skip
    done = None
    for event in self_daemon.client.chat.Chat(
        chat_pb2.ChatRequest(message="What happened to Maud, the queen bee of Hive Two?", max_tokens=8, seed=1)
    ):
        if event.HasField("done"):
            done = event.done
    assert done is not None and done.cited
    assert by_source["2024-10-12-losing-maud.md"] in [c.memory_id for c in done.cited]
    assert all(c.title and c.source and c.score > 0 and c.date for c in done.cited)
    stored = self_daemon.client.chat.GetConversation(
        chat_pb2.GetConversationRequest(conversation_id=done.conversation_id)
    )
    assert [c.memory_id for c in stored.messages[1].cited] == [c.memory_id for c in done.cited]
    bare = list(
        self_daemon.client.chat.Chat(chat_pb2.ChatRequest(message="Maud?", max_tokens=4, without_memories=True))
    )
    assert not bare[-1].done.cited


def test_memories_the_model_has_not_learned_are_brought_in_as_fresh(self_daemon, tmp_path):
    seen = identity_jobs(self_daemon)
    wait_job(self_daemon.client, ingest(self_daemon.client, _copy(list(LATER.values()), tmp_path / "later")).id)
    wait_identity(self_daemon, seen)  # embedded (and modelled) by now
    db = sqlite3.connect(self_daemon.data_dir / "secondme.db")
    try:
        newest_first = db.execute("SELECT MAX(ingested_at) FROM memories WHERE source LIKE '%/first%'").fetchone()[0]
        db.execute("UPDATE models SET trained_through = ? WHERE name = 'tiny'", (newest_first,))
        db.commit()
        fresh = {r[0] for r in db.execute("SELECT id FROM memories WHERE ingested_at > ?", (newest_first,))}
    finally:
        db.close()
    assert len(fresh) == len(LATER)
    self_daemon.restart()  # the served model's record is read when it loads
    request = chat_pb2.ChatRequest(message="How did the Three Peaks race go?", max_tokens=4)
    cited = list(self_daemon.client.chat.Chat(request))[-1].done.cited
    assert any(c.fresh and c.memory_id in fresh for c in cited)
    assert all(c.memory_id in fresh for c in cited if c.fresh)
