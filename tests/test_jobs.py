"""Jobs run in child processes: progress, cancel, crash recovery, and a daemon that stays responsive."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time

import grpc
import psutil
import pytest
from helpers import (
    TERMINAL,
    all_memories,
    fork_servers,
    frozen,
    ingest,
    job_children,
    job_processes,
    make_notes,
    result,
    stored_count,
    wait_job,
    wait_progress,
    wait_stored,
    wait_until,
)

from secondme.v1 import daemon_pb2, jobs_pb2


def _assert_every_memory_is_whole(data_dir) -> int:
    """No half-ingested document: every memory has its chunks and its stored original."""
    conn = sqlite3.connect(data_dir / "secondme.db")
    try:
        rows = conn.execute(
            """SELECT m.id, (SELECT COUNT(*) FROM chunks c WHERE c.memory_id = m.id), o.data IS NOT NULL
               FROM memories m LEFT JOIN originals o ON o.hash = m.content_hash"""
        ).fetchall()
    finally:
        conn.close()
    for memory_id, chunks, has_original in rows:
        assert chunks >= 1, f"{memory_id} has no chunks"
        assert has_original, f"{memory_id} lost its original"
    return len(rows)


def test_ten_thousand_files_ingest_with_visible_progress(daemon, tmp_path):
    make_notes(tmp_path / "many", 10_000, words=8)
    job = ingest(daemon.client, tmp_path / "many")
    events = list(daemon.client.jobs.WatchJob(jobs_pb2.WatchJobRequest(job_id=job.id), timeout=600))
    final = events[-1].job
    assert final.state == jobs_pb2.JOB_STATE_SUCCEEDED, final.error
    progress = [e.progress for e in events if e.HasField("progress") and e.progress.stage == "ingest"]
    assert len(progress) >= 3
    assert all(p.total == 10_000 for p in progress)
    done = [p.done for p in progress]
    assert done == sorted(done) and done[-1] == 10_000
    assert result(final)["ingested"] == 10_000
    status = daemon.client.daemon.GetStatus(daemon_pb2.GetStatusRequest(), timeout=5)
    assert status.memory_count == 10_000


def test_status_answers_while_a_job_keeps_a_core_busy(daemon, tmp_path):
    make_notes(tmp_path / "busy", 6000, words=400)
    job = ingest(daemon.client, tmp_path / "busy")
    # Mid-way is read from the store: the job's progress reaches the daemon behind the child's writes, and
    # in one CI run the first progress came so late that the job ended after one status call.
    wait_stored(daemon.data_dir, 1)
    job_process = job_children(daemon.process.pid)[0]
    for _ in range(5):
        status = daemon.client.daemon.GetStatus(daemon_pb2.GetStatusRequest(), timeout=2)
        assert status.running_job_count == 1
        time.sleep(0.05)
    assert stored_count(daemon.data_dir) < 6000, "the job should still have been working through every call"
    assert wait_job(daemon.client, job.id).state == jobs_pb2.JOB_STATE_SUCCEEDED
    # the work ran in the child process, not in the daemon
    assert job_process.pid != daemon.process.pid


def test_an_ingests_progress_shows_while_the_store_is_locked(daemon, tmp_path):
    # The ingest child's writer takes the store's write lock batch after batch, and the daemon's progress
    # write lost nearly every race for it in SQLite's busy handler: stored first, an ingest's progress said
    # 0 while 2,500 of its 6,000 notes were stored. Here the lock is held from the moment the job runs.
    make_notes(tmp_path / "locked", 2000, words=1000)
    job = ingest(daemon.client, tmp_path / "locked")
    wait_until(lambda: _job(daemon, job.id).state == jobs_pb2.JOB_STATE_RUNNING, "the job to run", 60, every=0.005)
    holder = sqlite3.connect(daemon.data_dir / "secondme.db", isolation_level=None, timeout=30)
    try:
        holder.execute("BEGIN IMMEDIATE")
        assert stored_count(daemon.data_dir) == 0
        wait_until(lambda: _job(daemon, job.id).progress.done > 0, "progress while the store is locked", 60)
        assert stored_count(daemon.data_dir) == 0
    finally:
        holder.close()
    final = wait_job(daemon.client, job.id)
    assert final.state == jobs_pb2.JOB_STATE_SUCCEEDED and final.progress.done == 2000, final.error
    assert stored_count(daemon.data_dir) == 2000


def _job(daemon, job_id: str) -> jobs_pb2.Job:
    return daemon.client.jobs.GetJob(jobs_pb2.GetJobRequest(job_id=job_id), timeout=10).job


def test_kill_9_mid_ingest_then_restart_resumes_the_same_job_without_duplicates(daemon, tmp_path):
    make_notes(tmp_path / "crash", 6000, words=300)
    job = ingest(daemon.client, tmp_path / "crash")
    # Mid-way is read from the store itself, as in the cancel test below: the job's progress reaches the
    # daemon behind the child's own writes: in one CI run a job seen at 1,500 had no parse worker left, every
    # note already parsed.
    wait_stored(daemon.data_dir, 1000)
    # The job and its workers stand still while they are looked at and the daemon is killed, so the kill
    # lands mid-way however fast the machine ingests the rest; going on, they find the daemon gone.
    with frozen(job_processes(daemon.process.pid)) as processes:
        assert len(processes) >= 2, "the job should run in a child process, parsing in its worker"
        multiprocessing_helpers = [p for p in psutil.Process(daemon.process.pid).children() if p not in processes]
        forked_by = [p.pid for p in fork_servers(daemon.process.pid)]
        assert forked_by == [processes[0].ppid()], "the job is forked by the daemon's fork server"
        daemon.kill()
    _, alive = psutil.wait_procs([*processes, *multiprocessing_helpers], timeout=30)
    assert not alive, "the fork server, job children and their parse workers must not outlive a killed daemon"
    partial = _assert_every_memory_is_whole(daemon.data_dir)
    assert 1000 <= partial < 6000

    daemon.start()  # the interrupted ingest goes on by itself, as the same job
    final = wait_job(daemon.client, job.id)
    assert final.state == jobs_pb2.JOB_STATE_SUCCEEDED, final.error
    assert result(final)["ingested"] == 6000 and result(final)["duplicate"] == 0  # its earlier part counts
    events = list(daemon.client.jobs.WatchJob(jobs_pb2.WatchJobRequest(job_id=job.id), timeout=60))
    assert any(e.progress.stage == "resume" for e in events if e.HasField("progress"))
    memories = all_memories(daemon.client)
    assert len(memories) == 6000 == len({m.content_hash for m in memories})
    assert _assert_every_memory_is_whole(daemon.data_dir) == 6000


def _unembedded(data_dir) -> int:
    conn = sqlite3.connect(data_dir / "secondme.db")
    try:
        return conn.execute(
            "SELECT COUNT(*) FROM memories WHERE id NOT IN (SELECT memory_id FROM memory_embeddings)"
        ).fetchone()[0]
    finally:
        conn.close()


def test_an_embed_job_killed_with_the_daemon_finishes_by_itself_and_status_shows_what_waits(start_daemon, tmp_path):
    # Before: 1,744 of 2,000 memories stayed without embeddings until a manual `jobs retry`, and
    # `status` gave no sign of them, so retrieval silently missed them.
    daemon = start_daemon("version = 1\n[identity]\nauto_update = false\n")
    make_notes(tmp_path / "n", 500, words=40)
    assert wait_job(daemon.client, ingest(daemon.client, tmp_path / "n").id).state == jobs_pb2.JOB_STATE_SUCCEEDED
    deadline = time.monotonic() + 300
    while True:  # until the embed job has committed a batch and is working on the next
        (embed,) = daemon.client.jobs.ListJobs(jobs_pb2.ListJobsRequest(kind="embed")).jobs
        if embed.progress.stage == "embed" and embed.progress.done >= 64:
            break
        assert time.monotonic() < deadline and embed.state not in TERMINAL, embed
        time.sleep(0.02)
    waiting = daemon.client.daemon.GetStatus(daemon_pb2.GetStatusRequest(), timeout=10)
    assert 0 < waiting.memories_awaiting_embedding <= 500 - 64
    daemon.kill()
    left = _unembedded(daemon.data_dir)
    assert 0 < left <= 500 - 64

    daemon.start()
    assert wait_job(daemon.client, embed.id).state == jobs_pb2.JOB_STATE_SUCCEEDED  # the same job, by itself
    assert _unembedded(daemon.data_dir) == 0
    deadline = time.monotonic() + 30
    while (status := daemon.client.daemon.GetStatus(daemon_pb2.GetStatusRequest())).memories_awaiting_embedding:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    conn = sqlite3.connect(daemon.data_dir / "secondme.db")
    try:  # no identity update ran (auto_update is off): every memory but the linked copies waits for it
        copies = conn.execute("SELECT COUNT(*) FROM memory_links").fetchone()[0]
    finally:
        conn.close()
    assert status.documents_awaiting_insight == 500 - copies > 0
    assert f"500 ({500 - copies} for insights)" in daemon.ctl("status").stdout


def test_cancel_kills_the_child_and_leaves_the_store_consistent(daemon, tmp_path):
    make_notes(tmp_path / "cancel", 6000, words=300)
    job = ingest(daemon.client, tmp_path / "cancel")
    # Mid-way is read from the store itself, not from the job's progress: progress reaches the
    # daemon at most five times a second and waits behind the child's own writes, so on a fast
    # machine a job seen at 2,000 had stored all 6,000 by the time it was cancelled.
    wait_stored(daemon.data_dir, 1000)
    children = job_children(daemon.process.pid)
    # The job and its parse workers stand still where they are, so the cancel lands mid-way however
    # fast the machine ingests the notes left; SIGKILL ends a stopped process.
    with frozen(job_processes(daemon.process.pid)):
        stored_when_frozen = stored_count(daemon.data_dir)
        cancelled = daemon.client.jobs.CancelJob(jobs_pb2.CancelJobRequest(job_id=job.id), timeout=30).job
    assert stored_when_frozen < 6000
    assert cancelled.state == jobs_pb2.JOB_STATE_CANCELLED
    psutil.wait_procs(children, timeout=10)
    assert not any(c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in children)
    kept = _assert_every_memory_is_whole(daemon.data_dir)
    assert kept == stored_when_frozen  # what was committed stays; the batch in flight is undone
    assert daemon.client.daemon.GetStatus(daemon_pb2.GetStatusRequest(), timeout=5).memory_count == kept


def test_jobs_queue_one_at_a_time_and_cancel_a_queued_job(daemon, tmp_path):
    make_notes(tmp_path / "first", 4000, words=300)
    make_notes(tmp_path / "second", 3)
    first = ingest(daemon.client, tmp_path / "first")
    second = ingest(daemon.client, tmp_path / "second")
    wait_progress(daemon.client, first.id, 1)
    queued = daemon.client.jobs.GetJob(jobs_pb2.GetJobRequest(job_id=second.id)).job
    assert queued.state == jobs_pb2.JOB_STATE_QUEUED
    cancelled = daemon.client.jobs.CancelJob(jobs_pb2.CancelJobRequest(job_id=second.id)).job
    assert cancelled.state == jobs_pb2.JOB_STATE_CANCELLED
    assert wait_job(daemon.client, first.id).state == jobs_pb2.JOB_STATE_SUCCEEDED
    listed = daemon.client.jobs.ListJobs(jobs_pb2.ListJobsRequest(states=[jobs_pb2.JOB_STATE_CANCELLED])).jobs
    assert [j.id for j in listed] == [second.id]


def test_queued_jobs_start_first_come_first_served(start_daemon, tmp_path):
    daemon = start_daemon("version = 1\n[identity]\nauto_update = false\n")
    make_notes(tmp_path / "first", 2000, words=200)
    first = ingest(daemon.client, tmp_path / "first")
    wait_progress(daemon.client, first.id, 1)
    waiting = []
    for index in range(3):
        (folder := tmp_path / f"n{index}").mkdir()
        (folder / "note.md").write_text(f"# note {index}\n\nwords {index}\n")
        waiting.append(ingest(daemon.client, folder).id)
    for job_id in waiting:
        assert wait_job(daemon.client, job_id).state == jobs_pb2.JOB_STATE_SUCCEEDED
    started = [daemon.client.jobs.GetJob(jobs_pb2.GetJobRequest(job_id=j)).job.started_at.ToDatetime() for j in waiting]
    assert started == sorted(started)


def test_watch_of_a_finished_job_replays_its_events_and_ends(daemon, tmp_path):
    make_notes(tmp_path / "w", 5)
    job = wait_job(daemon.client, ingest(daemon.client, tmp_path / "w").id)
    events = list(daemon.client.jobs.WatchJob(jobs_pb2.WatchJobRequest(job_id=job.id), timeout=30))
    assert events[-1].job.state == jobs_pb2.JOB_STATE_SUCCEEDED
    assert any(e.progress.done == 5 for e in events if e.HasField("progress"))


def test_unknown_jobs_and_bad_retries_get_clear_status_codes(daemon, tmp_path):
    with pytest.raises(grpc.RpcError) as missing:
        daemon.client.jobs.GetJob(jobs_pb2.GetJobRequest(job_id="job_nope"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    assert "secondmectl jobs list" in missing.value.details()
    make_notes(tmp_path / "r", 1)
    done = wait_job(daemon.client, ingest(daemon.client, tmp_path / "r").id)
    with pytest.raises(grpc.RpcError) as bad_retry:
        daemon.client.jobs.RetryJob(jobs_pb2.RetryJobRequest(job_id=done.id))
    assert bad_retry.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_a_job_stopped_by_sigterm_resumes_at_start_unless_the_owner_cancels_it(daemon, tmp_path):
    make_notes(tmp_path / "term", 6000, words=300)
    job = ingest(daemon.client, tmp_path / "term")
    wait_progress(daemon.client, job.id, 20)
    assert daemon.stop() == 0  # within stop()'s guard against a hang; how fast is not a test's business
    stopped = sqlite3.connect(daemon.data_dir / "secondme.db")
    try:
        (state, error) = stopped.execute("SELECT state, error FROM jobs WHERE id = ?", (job.id,)).fetchone()
    finally:
        stopped.close()
    assert state == "interrupted" and "goes on when the daemon starts again" in error, (
        f"{state}: {error}\n{daemon.log_text()[-6000:]}"
    )
    _assert_every_memory_is_whole(daemon.data_dir)
    daemon.start()
    resumed = daemon.client.jobs.GetJob(jobs_pb2.GetJobRequest(job_id=job.id)).job
    assert resumed.state in (jobs_pb2.JOB_STATE_QUEUED, jobs_pb2.JOB_STATE_RUNNING) and not resumed.error
    cancelled = daemon.client.jobs.CancelJob(jobs_pb2.CancelJobRequest(job_id=job.id), timeout=30).job
    assert cancelled.state == jobs_pb2.JOB_STATE_CANCELLED
    daemon.restart()
    assert daemon.client.jobs.GetJob(jobs_pb2.GetJobRequest(job_id=job.id)).job.state == jobs_pb2.JOB_STATE_CANCELLED


def test_a_job_process_stopped_by_sigterm_is_interrupted_and_goes_on_at_the_next_start(daemon, tmp_path):
    # systemd's default stop signals every process of a service at once, so a job's process can die by
    # SIGTERM before the daemon's own stop begins. Before, that failed the job ("killed by SIGTERM (out of
    # memory?)") and it never went on.
    make_notes(tmp_path / "term", 6000, words=300)
    job = ingest(daemon.client, tmp_path / "term")
    wait_stored(daemon.data_dir, 1000)
    with frozen(job_processes(daemon.process.pid)) as processes:
        processes[0].terminate()  # the job's own process; it takes the signal when it goes on
    _, alive = psutil.wait_procs(processes, timeout=30)
    assert not alive, "the job's parse workers must not outlive it"
    stopped = wait_job(daemon.client, job.id)
    assert stopped.state == jobs_pb2.JOB_STATE_INTERRUPTED, stopped.error
    assert "SIGTERM" in stopped.error and "goes on when the daemon starts again" in stopped.error
    partial = _assert_every_memory_is_whole(daemon.data_dir)
    assert 1000 <= partial < 6000

    daemon.restart()
    final = wait_job(daemon.client, job.id)
    assert final.state == jobs_pb2.JOB_STATE_SUCCEEDED, final.error
    assert result(final)["ingested"] == 6000 and result(final)["duplicate"] == 0
    memories = all_memories(daemon.client)
    assert len(memories) == 6000 == len({m.content_hash for m in memories})


def test_a_job_child_starts_without_importing_the_daemon():
    # A spawned child re-imports the daemon's main module; the mesh, gRPC server and
    # scikit-learn must not come with it (they cost each job seconds before its first file).
    heavy = "{'libp2p', 'sklearn', 'secondme.daemon.app'}"
    probe = f"import sys, secondme.daemon.main; print(sorted({heavy} & set(sys.modules)))"
    imported = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert imported.strip() == "[]"
