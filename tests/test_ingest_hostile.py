"""Hostile files through a real secondmed: names that are not UTF-8, links out of the folder, files
with nothing to read. Each test is one failure found by trying the stack as a careful user would."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import time
from pathlib import Path

import psutil
from fixtures.hostile_corpus import (
    FAILED,
    PARTIAL,
    SKIPPED,
    STORED,
    alias_bomb_note,
    blank_pages_pdf,
    inflating_pdf,
    nested_html,
    png,
    wav,
    write_hostile_corpus,
)
from helpers import (
    TERMINAL,
    all_memories,
    frozen,
    ingest,
    job_children,
    job_processes,
    make_notes,
    result,
    wait_job,
    wait_stored,
)

from secondme.v1 import daemon_pb2, jobs_pb2, memory_pb2


def _exact(problem: dict) -> bytes:
    """A listed file's exact name, as a script reads it from the summary."""
    return base64.b64decode(problem["path_b64"]) if "path_b64" in problem else problem["path"].encode()


def _at(folder: Path, name: bytes) -> bytes:
    return os.path.join(os.fsencode(folder), name)


def test_a_name_that_is_not_utf8_is_ingested_with_everything_else(daemon, tmp_path):
    # Before: JOB_STATE_FAILED "surrogates not allowed", 0 of 5,037 stored, no file named, a retry failed alike.
    folder = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), b"f\xf6lder")))  # the folder's own name too
    make_notes(folder, 30)
    odd = _at(folder, b"caf\xe9 \xff\xfe.md")
    with open(odd, "wb") as handle:
        handle.write(b"# Cafe note\n\nCoffee by the harbour.\n")
    with open(_at(folder, b"two\nlines.md"), "wb") as handle:
        handle.write(b"# Two lines\n\nA name with a newline in it.\n")
    out = daemon.ctl("ingest", "--json", os.fsdecode(os.fsencode(folder)))
    (job,) = json.loads(out.stdout)["jobs"]
    assert job["state"] == "succeeded" and job["result"]["ingested"] == 32
    memories = {m.source_bytes: m for m in all_memories(daemon.client)}
    assert len(memories) == 32
    cafe = memories[odd]
    assert cafe.source == os.fsencode(folder).decode("utf-8", "backslashreplace") + "/caf\\xe9 \\xff\\xfe.md"
    shown = daemon.ctl("memories", "show", cafe.id).stdout
    assert "caf\\xe9 \\xff\\xfe.md" in shown and "Coffee by the harbour." in shown
    newline = memories[_at(folder, b"two\nlines.md")]
    assert "two\\nlines.md" in daemon.ctl("memories", "show", newline.id).stdout  # one line in a terminal
    listed = json.loads(daemon.ctl("memories", "list", "--json").stdout)  # a script gets the exact name
    assert {base64.b64decode(m["source_bytes"]) for m in listed} == set(memories)
    daemon.ctl("memories", "delete", cafe.id)
    assert odd not in {m.source_bytes for m in all_memories(daemon.client)}
    again = wait_job(daemon.client, ingest(daemon.client, tmp_path).id)  # a retry works the same
    assert result(again)["ingested"] == 1 and result(again)["duplicate"] == 31


def test_links_out_of_the_named_folder_are_skipped_and_listed_unless_asked(daemon, tmp_path):
    # Before: a link to /etc/passwd and one to ../manifest.json became memories chat could reach.
    folder = tmp_path / "notes"
    make_notes(folder, 5)
    (tmp_path / "manifest.json").write_text('{"owner": "not for the self"}\n')
    (folder / "passwd.md").symlink_to("/etc/passwd")
    (folder / "manifest.md").symlink_to("../manifest.json")
    (folder / "inside.md").symlink_to(folder / "note-00001.md")
    job = wait_job(daemon.client, ingest(daemon.client, folder).id)
    summary = result(job)
    assert summary["ingested"] == 5 and summary["duplicate"] == 1  # the link inside names a note once more
    reasons = {os.path.basename(p["path"]): p["reason"] for p in summary["problems"]}
    assert set(reasons) == {"passwd.md", "manifest.md"}
    assert all("outside the folders you named" in r for r in reasons.values())
    assert {m.source_bytes for m in all_memories(daemon.client)} == {os.fsencode(p) for p in folder.glob("note-*.md")}
    shown = daemon.ctl("jobs", "show", job.id).stdout
    assert "passwd.md" in shown and "--follow-external-links" in shown
    daemon.ctl("ingest", str(folder), "--follow-external-links")
    sources = {os.path.basename(m.source) for m in all_memories(daemon.client)}
    assert {"passwd.md", "manifest.md"} <= sources


def test_files_with_nothing_readable_are_listed_with_reasons_not_stored(daemon, tmp_path):
    # Before: each was stored as an empty memory and counted as ingested; the summary named none.
    folder = tmp_path / "media"
    make_notes(folder, 3)
    (folder / "blank-2000.pdf").write_bytes(blank_pages_pdf(2000))
    (folder / "inflates.pdf").write_bytes(inflating_pdf(1 << 30))
    (folder / "no-samples.wav").write_bytes(wav(b""))
    (folder / "silence.wav").write_bytes(wav(b"\x00\x00" * 1600))
    (folder / "deep.html").write_bytes(nested_html(100_000, "The one sentence in the deep page."))
    out = daemon.ctl("ingest", str(folder))
    assert "4 ingested (1 partly read), 0 already known, 4 skipped, 0 failed" in out.stdout
    assert "no text on 2,000 pages" in out.stdout and "silence: 0:00:00.1 of audio" in out.stdout
    (job,) = daemon.client.jobs.ListJobs(jobs_pb2.ListJobsRequest(kind="ingest")).jobs
    listed = {os.path.basename(p["path"]): p for p in result(job)["problems"]}
    assert listed["blank-2000.pdf"]["kind"] == "skipped"
    assert "inflates past" in listed["inflates.pdf"]["reason"]
    assert listed["no-samples.wav"]["reason"].startswith("no audio samples")
    assert listed["deep.html"]["kind"] == "partial" and "nests more than 1,000 levels" in listed["deep.html"]["reason"]
    memories = all_memories(daemon.client)
    assert sorted(os.path.basename(m.source) for m in memories) == [
        "deep.html",
        "note-00000.md",
        "note-00001.md",
        "note-00002.md",
    ]
    assert all(m.chunk_count >= 1 and m.parse_status != memory_pb2.PARSE_STATUS_EMPTY for m in memories)
    deep = next(m for m in memories if m.source.endswith("deep.html"))
    text = daemon.client.memory.GetMemory(memory_pb2.GetMemoryRequest(memory_id=deep.id, include_text=True)).text
    assert "The one sentence in the deep page." in text
    # A script reads the same list, every file with its kind and reason, from `jobs show --json`.
    as_json = json.loads(daemon.ctl("jobs", "show", job.id, "--json").stdout)
    scripted = {os.path.basename(p["path"]): (p["kind"], p["reason"]) for p in as_json["result"]["problems"]}
    assert scripted == {name: (p["kind"], p["reason"]) for name, p in listed.items()} and len(scripted) == 5
    shown = daemon.ctl("jobs", "show", job.id).stdout
    assert all(f"{kind}: {folder / name}: " in shown for name, (kind, _) in scripted.items())


def test_an_ingest_summary_names_non_utf8_files_exactly_for_scripts(daemon, tmp_path):
    folder = tmp_path / "bin"
    folder.mkdir()
    with open(_at(folder, b"r\xe9sum\xe9.md"), "wb") as handle:
        handle.write(os.urandom(4096) + b"\x00")
    job = wait_job(daemon.client, ingest(daemon.client, folder).id)
    (problem,) = result(job)["problems"]
    assert base64.b64decode(problem["path_b64"]) == _at(folder, b"r\xe9sum\xe9.md")
    assert problem["path"].endswith("r\\xe9sum\\xe9.md") and "binary" in problem["reason"]


def _noise_png(side: int = 3000) -> bytes:
    """Random grey pixels: tesseract spends seconds looking for text in them."""
    import io

    import numpy as np
    from PIL import Image

    pixels = (np.random.default_rng(7).random((side, side)) * 255).astype("uint8")
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def _busy_parse_worker(daemon) -> psutil.Process:
    """The parse worker running tesseract (on the noise): a child of the daemon's job process."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for job_child in job_children(daemon.process.pid):
            for worker in job_child.children():
                with contextlib.suppress(psutil.Error):
                    if any(p.name() == "tesseract" for p in worker.children()):
                        return worker
        time.sleep(0.01)
    raise AssertionError("no parse worker ran tesseract")


def test_a_file_that_needs_more_memory_than_its_budget_costs_only_itself(start_daemon, tmp_path):
    # Before: a billion laughs in front matter grew the ingest child without bound (6.3 GB at 12 min)
    # until the job was killed and none of the 5,000 other files was ingested.
    daemon = start_daemon("version = 1\n[ingest]\nparse_memory_mb = 128\n[identity]\nauto_update = false\n")
    folder = tmp_path / "notes"
    make_notes(folder, 200)
    (folder / "laughs.md").write_bytes(alias_bomb_note())
    (folder / "huge.png").write_bytes(png(8000, 8000, color_type=2))  # 192 MB once decoded
    job = wait_job(daemon.client, ingest(daemon.client, folder).id)
    assert job.state == jobs_pb2.JOB_STATE_SUCCEEDED, job.error
    summary = result(job)
    assert summary["ingested"] == 201 and summary["failed"] == 1
    listed = {os.path.basename(p["path"]): p for p in summary["problems"]}
    assert listed["huge.png"]["kind"] == "failed" and "128 MB memory budget" in listed["huge.png"]["reason"]
    assert listed["laughs.md"]["kind"] == "partial" and "10,000 values" in listed["laughs.md"]["reason"]
    scripted = json.loads(daemon.ctl("jobs", "show", job.id, "--json").stdout)["result"]
    assert scripted["failed"] == 1 and scripted["problems"] == summary["problems"]
    # The worker never held more than its budget above what it had; the job itself stayed small.
    assert summary["peak_memory_mb"]["parsers"] < 128 + 300 and summary["peak_memory_mb"]["job"] < 300


def _left_in_group(group: int) -> list[str]:
    """Processes still alive in a process group, once the killed ones are gone (zombies aside)."""
    members = []
    for process in psutil.process_iter(["name"]):
        with contextlib.suppress(ProcessLookupError, psutil.Error):
            if os.getpgid(process.pid) == group:
                members.append(process)
    _, alive = psutil.wait_procs(members, timeout=30)
    return [p.info["name"] for p in alive if p.status() != psutil.STATUS_ZOMBIE]


def test_a_parse_worker_killed_like_the_oom_killer_does_costs_only_its_file(daemon, tmp_path):
    folder = tmp_path / "notes"
    make_notes(folder, 50, prefix="a")
    (folder / "b-noise.png").write_bytes(_noise_png())
    make_notes(folder, 50, prefix="c")
    job = ingest(daemon.client, folder)
    worker = _busy_parse_worker(daemon)  # while tesseract reads the noise: the worker is on that file
    worker.kill()  # the worker alone, as the OOM killer would
    final = wait_job(daemon.client, job.id)
    assert final.state == jobs_pb2.JOB_STATE_SUCCEEDED, final.error
    summary = result(final)
    assert summary["ingested"] == 100
    (problem,) = summary["problems"]
    assert problem["kind"] == "failed" and "crashed on it (SIGKILL)" in problem["reason"]
    assert _left_in_group(worker.pid) == []  # what it had started (tesseract) was stopped with it


def test_a_file_that_takes_longer_than_its_time_budget_is_stopped_and_the_rest_go_on(start_daemon, tmp_path):
    daemon = start_daemon("version = 1\n[ingest]\nparse_timeout_seconds = 1\n[identity]\nauto_update = false\n")
    folder = tmp_path / "notes"
    make_notes(folder, 20)
    # 9.5 MB of "<" in a page: read as text, not markup, at about a microsecond a character,
    # with no progress to report: ten seconds and more against a budget of one.
    (folder / "flood.html").write_bytes(b"<html><body>" + b"<" * 9_500_000)
    summary = result(wait_job(daemon.client, ingest(daemon.client, folder).id))
    assert summary["ingested"] == 20
    (problem,) = summary["problems"]
    assert problem["kind"] == "failed" and "longer than 1 s without progress" in problem["reason"]


def test_the_hostile_corpus_among_two_thousand_good_notes(start_daemon, tmp_path):
    """Every good file stored once, every bad one listed by name with a reason, the daemon answering
    throughout, and the job's memory bounded."""
    daemon = start_daemon("version = 1\n[ingest]\nparse_memory_mb = 512\n[identity]\nauto_update = false\n")
    folder = tmp_path / "corpus"
    good = make_notes(folder, 2000, words=20)
    hostile = write_hostile_corpus(folder)
    job = ingest(daemon.client, folder)
    answered = 0
    while (
        state := daemon.client.jobs.GetJob(jobs_pb2.GetJobRequest(job_id=job.id), timeout=10).job
    ).state not in TERMINAL:
        daemon.client.daemon.GetStatus(daemon_pb2.GetStatusRequest(), timeout=10)  # raises if it does not answer
        answered += 1
        time.sleep(0.05)
    assert state.state == jobs_pb2.JOB_STATE_SUCCEEDED, state.error
    assert answered > 0
    summary = result(state)
    _every_file_as_it_must_be(daemon, folder, good, hostile, summary)
    # The parse workers stayed within their budget above what they started with; the job child stayed small.
    assert summary["peak_memory_mb"]["parsers"] < 512 + 300 and summary["peak_memory_mb"]["job"] < 300


def _every_file_as_it_must_be(daemon, folder, good, hostile, summary) -> None:
    """Every good file stored once, nothing hostile stored that should not be, every bad one listed by
    its exact name with its kind and a reason, and the text of each kept one readable."""
    raw = os.fsencode(folder)
    stored = {m.source_bytes: m for m in all_memories(daemon.client)}
    expected = {os.fsencode(p) for p in good} | {
        os.path.join(raw, h.name) for h in hostile if h.expect in (STORED, PARTIAL)
    }
    assert set(stored) == expected  # every good file once; nothing hostile that should not be
    assert len({m.content_hash for m in stored.values()}) == len(stored)
    listed = {_exact(p): p for p in summary["problems"]}
    for entry in hostile:
        path = os.path.join(raw, entry.name)
        if entry.expect in (SKIPPED, FAILED, PARTIAL):
            assert path in listed, f"{entry.what} ({entry.name!r}) is not listed"
            problem = listed[path]
            assert problem["kind"] == entry.expect, (entry.what, problem)
            assert any(word in problem["reason"] for word in entry.reason), (entry.what, problem["reason"])
        else:
            assert path not in listed, (entry.what, listed[path])
        if entry.text:
            memory = stored[path]
            text = daemon.client.memory.GetMemory(memory_pb2.GetMemoryRequest(memory_id=memory.id, include_text=True))
            assert entry.text in text.text, entry.what
    assert summary["failed"] == 0 and summary["problems_not_listed"] == 0


def test_kill_9_while_the_hostile_corpus_is_ingested_then_the_job_finishes_it_by_itself(start_daemon, tmp_path):
    """A daemon killed mid-way through the hostile files leaves no worker behind, and the job it
    resumes at the next start ends exactly as an uninterrupted one: each file as it must be, once."""
    daemon = start_daemon("version = 1\n[ingest]\nparse_memory_mb = 512\n[identity]\nauto_update = false\n")
    folder = tmp_path / "corpus"
    good = make_notes(folder, 1000, words=20)
    hostile = write_hostile_corpus(folder)
    job = ingest(daemon.client, folder)
    wait_stored(daemon.data_dir, 500)  # past the first hostile names ('$(touch', '-rf', 'blank-2000.pdf')
    # Held still while the daemon is killed, so the kill lands mid-way however fast the rest would go.
    with frozen(job_processes(daemon.process.pid)) as processes:
        assert len(processes) >= 2, "the files are parsed in the job's parse workers"
        daemon.kill()
    _, alive = psutil.wait_procs(processes, timeout=30)
    assert not alive, "the job and its parse workers must not outlive a killed daemon"
    daemon.start()
    final = wait_job(daemon.client, job.id)
    assert final.state == jobs_pb2.JOB_STATE_SUCCEEDED, final.error
    summary = result(final)
    assert (
        summary["ingested"] == len(all_memories(daemon.client)) and summary["duplicate"] == 2
    )  # again.md, same-inode.md
    _every_file_as_it_must_be(daemon, folder, good, hostile, summary)


def test_a_memory_larger_than_a_message_is_shown_whole(daemon, tmp_path):
    # Before: `memories show` of a 12 MB text said "SERVER: Sent message larger than max (12000346 vs.
    # 8388608)", and --chunks the same of 26 MB.
    line = "tide harbour bread ferry garden letter walk kiln glaze hive train map.\n"
    (tmp_path / "n").mkdir()
    (tmp_path / "n" / "journal.txt").write_text("The first line.\n" + line * (12_000_000 // len(line)) + "The end.\n")
    wait_job(daemon.client, ingest(daemon.client, tmp_path / "n").id)
    (memory,) = all_memories(daemon.client)
    page = daemon.client.memory.GetMemory(memory_pb2.GetMemoryRequest(memory_id=memory.id, include_text=True))
    assert len(page.text) == 1_000_000 < page.text_length  # one page of it
    shown = json.loads(daemon.ctl("memories", "show", memory.id, "--chunks", "--json").stdout)
    assert len(shown["text"]) == shown["text_length"] == page.text_length
    assert shown["text"].startswith("The first line.") and shown["text"].endswith("The end.")
    assert [c["index"] for c in shown["chunks"]] == list(range(memory.chunk_count))
    assert shown["chunks"][-1]["end_char"] == len(shown["text"])
    assert daemon.ctl("memories", "show", memory.id).stdout.rstrip().endswith("The end.")


def test_memories_with_long_front_matter_are_listed_in_pages_that_fit_a_message(daemon, tmp_path):
    # Before: 150 notes with 60 KB of front matter each (under the 64 KB it may have) made the first
    # page of ListMemories 9 MB, and `memories list` failed for every memory.
    folder = tmp_path / "long"
    folder.mkdir()
    for i in range(150):
        (folder / f"{i:03d}.md").write_text(f"---\nabout: {'x' * 60_000}{i}\n---\n# Note {i}\n\nBody {i}.\n")
    wait_job(daemon.client, ingest(daemon.client, folder).id)
    first = daemon.client.memory.ListMemories(memory_pb2.ListMemoriesRequest(page_size=500))
    assert 0 < len(first.memories) < 150 and first.next_page_token and first.total_count == 150
    listed = json.loads(daemon.ctl("memories", "list", "--json").stdout)
    assert sorted(m["title"] for m in listed) == sorted(f"Note {i}" for i in range(150))


def test_jobs_whose_results_list_thousands_of_files_are_listed_in_pages_that_fit_a_message(daemon, tmp_path):
    # Three ingests that each name 2,000 refused files with 255-byte names that are not UTF-8: some
    # 3 MB of result each, 9 MB in one page of ListJobs.
    folder = tmp_path / "refused"
    folder.mkdir()
    for i in range(2000):
        with open(os.path.join(os.fsencode(folder), b"\xff" * 248 + b"%04d.md" % i), "wb") as handle:
            handle.write(b"\x00binary")
    jobs = [wait_job(daemon.client, ingest(daemon.client, folder).id) for _ in range(3)]
    assert all(result(j)["skipped"] == 2000 and len(j.result_json) > 2_900_000 for j in jobs)
    first = daemon.client.jobs.ListJobs(jobs_pb2.ListJobsRequest(kind="ingest"))
    assert 0 < len(first.jobs) < 3 and first.next_page_token
    listed = json.loads(daemon.ctl("jobs", "list", "--json").stdout)
    assert [j["id"] for j in listed] == [j.id for j in reversed(jobs)]
    assert len(daemon.ctl("jobs", "list").stdout.splitlines()) >= 3


def test_the_daemons_own_data_is_never_ingested_whatever_names_it(daemon, tmp_path):
    # Its node key is a private key in PEM text: as a memory, chat (and peers) could quote it.
    make_notes(tmp_path / "notes", 2)
    wait_job(daemon.client, ingest(daemon.client, tmp_path / "notes").id)
    key = daemon.data_dir / "node.key"
    assert b"PRIVATE KEY" in key.read_bytes()
    (tmp_path / "notes" / "key.md").symlink_to(key)
    out = daemon.ctl(
        "ingest", "--json", "--follow-external-links", str(daemon.data_dir), str(key), str(tmp_path / "notes")
    )
    (job,) = json.loads(out.stdout)["jobs"]
    listed = {p["path"]: p["reason"] for p in job["result"]["problems"]}
    inside = [p for p in daemon.data_dir.iterdir() if not p.name.startswith(".") and p.name != "uploads"]
    assert daemon.data_dir / "secondme.db" in inside
    for named in (key, tmp_path / "notes" / "key.md", *inside):
        assert "secondme's own data" in listed[str(named)], (named, listed)
    assert job["result"]["ingested"] == 0 and len(all_memories(daemon.client)) == 2
