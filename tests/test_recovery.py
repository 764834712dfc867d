"""A damaged or foreign database is said plainly, by secondmed and by every secondmectl command, with
what to do; `secondmectl backup` writes the consistent copy that advice points at."""

from __future__ import annotations

import concurrent.futures
import json
import os
import random
import shutil
import sqlite3

import pytest
from helpers import all_memories, frozen, ingest, job_processes, make_notes, wait_job, wait_stored

from secondme.v1 import daemon_pb2, jobs_pb2, memory_pb2

COMMANDS = [
    ("status",),
    ("memories", "list"),
    ("jobs", "list"),
    ("chat", "-m", "hello"),
    ("init", "--no-default-model"),
    ("backup",),
]


def _garble(db, keep_header: bool) -> None:
    """Overwrite the file with random bytes: all of it, or every page but the first (the header)."""
    data = bytearray(db.read_bytes())
    start = 4096 if keep_header else 0
    data[start:] = random.Random(3).randbytes(len(data) - start)
    db.write_bytes(bytes(data))


def _foreign(db) -> None:
    db.unlink()
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT)")
    conn.execute("INSERT INTO photos(path) VALUES ('/home/me/a.jpg')")
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (lambda db: _garble(db, keep_header=False), "is not an SQLite database"),
        (lambda db: _garble(db, keep_header=True), "is damaged"),
        (_foreign, "is another program's SQLite database (its tables: photos)"),
    ],
    ids=["overwritten", "damaged", "foreign"],
)
def test_a_database_that_cannot_be_used_is_said_plainly_everywhere(start_daemon, tmp_path, damage, said):
    # Before: `secondmectl init` printed a traceback; secondmed said "not a secondme database (or is
    # corrupt)" and nothing about what to do.
    daemon = start_daemon("version = 1\n[identity]\nauto_update = false\n")
    make_notes(tmp_path / "n", 20)
    wait_job(daemon.client, ingest(daemon.client, tmp_path / "n").id)
    assert daemon.stop() == 0
    db = daemon.data_dir / "secondme.db"
    damage(db)
    daemon.start(wait=False)
    assert daemon.process.wait(60) == 1
    log = daemon.log_text()
    assert said in log and "secondmectl backup" in log and "secondmectl init" in log
    assert "Traceback" not in log
    for command in COMMANDS:
        out = daemon.ctl(*command, check=False)
        assert out.returncode != 0, command
        assert said in out.stderr and "move" in out.stderr and str(db) in out.stderr, (command, out.stderr)
        assert "Traceback" not in out.stderr + out.stdout, command
    as_json = daemon.ctl("status", "--json", check=False)
    assert said in json.loads(as_json.stdout)["error"]
    # The advice holds: moved aside, `init` starts afresh and the daemon serves again.
    db.rename(db.with_suffix(".damaged"))
    daemon.ctl("init", "--no-default-model")
    daemon.start()
    assert daemon.client.daemon.GetStatus(daemon_pb2.GetStatusRequest()).memory_count == 0


# Commands whose arguments a placeholder does not satisfy (they are checked before anything else).
FILLED = {
    "chat": ["-m", "hello"],
    "identity edit": ["1", "--name", "x"],
    "config set": ["identity.auto_update", "false"],
}


def _every_command(existing: str) -> list[tuple[str, list[str]]]:
    """Every secondmectl command (its name, and its words with the required arguments filled in:
    `existing` where a path must exist)."""
    import argparse

    from secondme.daemon.cli.main import build_parser

    found: list[tuple[str, list[str]]] = []

    def value(action: argparse.Action) -> str:
        if action.dest in ("paths", "path"):
            return existing
        if action.choices:
            return str(next(iter(action.choices)))
        return "1" if action.type is int else "x"

    def walk(parser: argparse.ArgumentParser, words: list[str]) -> None:
        args: list[str] = []
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, [*words, name])
                if action.required:
                    return
            elif not action.option_strings:
                args.append(value(action))
            elif action.required:
                args += [action.option_strings[0], value(action)]
        name = " ".join(words)
        found.append((name, words + FILLED.get(name, args)))

    walk(build_parser(), [])
    return found


# Commands that never open the database: they may succeed beside a damaged one. (`service install`
# and `uninstall` write the owner's service files; they are left out.)
WITHOUT_THE_DATABASE = {"version", "config show", "config default", "config set", "service status", "id"}


def test_every_secondmectl_command_on_a_damaged_database_says_what_to_do(start_daemon, tmp_path):
    daemon = start_daemon("version = 1\n[identity]\nauto_update = false\n")
    assert daemon.stop() == 0
    db = daemon.data_dir / "secondme.db"
    _garble(db, keep_header=True)
    (tmp_path / "note.md").write_text("# A note\n\nkept for later.\n")
    commands = [
        c for c in _every_command(str(tmp_path / "note.md")) if c[0] not in ("service install", "service uninstall")
    ]
    assert len(commands) > 50

    def run(command: tuple[str, list[str]]):
        return command[0], daemon.ctl(*command[1], check=False, timeout=120)

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(run, commands))
    unclear = []
    for name, out in outcomes:
        said = out.stderr + out.stdout
        if "Traceback" in said:
            unclear.append((name, said))
        elif out.returncode == 0 and name not in WITHOUT_THE_DATABASE:
            unclear.append((name, "succeeded"))
        elif name == "version" and "is damaged" not in said:
            unclear.append((name, said))  # the client's version, and why the daemon is not running
        elif out.returncode != 0 and not ("is damaged" in said and "move" in said and str(db) in said):
            unclear.append((name, said))
    assert not unclear, "\n".join(f"secondmectl {name}: {said}" for name, said in unclear)


def test_a_database_damaged_deep_inside_is_said_not_backed_up(start_daemon, tmp_path):
    # A damaged page past the header and the schema: the online backup would copy it as it is.
    daemon = start_daemon("version = 1\n[identity]\nauto_update = false\n")
    make_notes(tmp_path / "n", 300, words=200)
    wait_job(daemon.client, ingest(daemon.client, tmp_path / "n").id)
    assert daemon.stop() == 0
    db = daemon.data_dir / "secondme.db"
    data = bytearray(db.read_bytes())
    start = len(data) * 3 // 5 // 4096 * 4096
    data[start:] = random.Random(5).randbytes(len(data) - start)
    db.write_bytes(bytes(data))
    out = daemon.ctl("backup", str(tmp_path / "backup"), check=False)
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "is damaged (SQLite's check of the copy found" in out.stderr and "move" in out.stderr, out.stderr
    assert not (tmp_path / "backup").exists() and not (tmp_path / "backup.incomplete").exists()


def test_a_database_another_program_holds_locked_is_said_with_who_holds_it(start_daemon):
    # Before: secondmed died with a traceback ("database is locked", from requeueing jobs) and
    # secondmectl said to start secondmed.
    daemon = start_daemon("version = 1\n[identity]\nauto_update = false\n")
    assert daemon.stop() == 0
    db = daemon.data_dir / "secondme.db"
    holder = sqlite3.connect(db, isolation_level=None)  # this test's process, as an sqlite3 shell would
    holder.execute("BEGIN EXCLUSIVE")
    try:
        daemon.start(wait=False)
        assert daemon.process.wait(120) == 1  # after the busy timeout: a lock let go in time is waited for
        log = daemon.log_text()
        assert "Traceback" not in log
        assert f"the database {db} is locked by " in log and f"(pid {os.getpid()})" in log
        assert "start secondmed again" in log
        out = daemon.ctl("memories", "list", check=False)
        assert out.returncode == 3 and "Traceback" not in out.stderr  # unavailable: try again later
        assert "is locked by" in out.stderr and f"(pid {os.getpid()})" in out.stderr, out.stderr
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    daemon.start()  # let go: the daemon starts
    assert daemon.client.daemon.GetStatus(daemon_pb2.GetStatusRequest()).memory_count == 0


def test_a_backup_taken_during_an_ingest_is_a_data_dir_a_daemon_starts_from(start_daemon, tmp_path):
    daemon = start_daemon("version = 1\n[identity]\nauto_update = false\n")
    make_notes(tmp_path / "first", 30)
    (tmp_path / "first" / "long.txt").write_text("a long transcript line\n" * 20_000)  # an original kept as a file
    wait_job(daemon.client, ingest(daemon.client, tmp_path / "first").id)
    make_notes(tmp_path / "more", 3000, words=200)
    running = ingest(daemon.client, tmp_path / "more")
    wait_stored(daemon.data_dir, 31 + 600)
    # The ingest is held still mid-way (perhaps inside a transaction) while the backup is taken, so the
    # backup meets a job that has not finished however fast the machine would have finished it.
    with frozen(job_processes(daemon.process.pid)):
        out = daemon.ctl("backup", str(tmp_path / "backup"), "--json")
    report = json.loads(out.stdout)
    assert report["backup"] == str(tmp_path / "backup") and not report["missing_originals"]
    assert not (tmp_path / "backup.incomplete").exists()
    copy = sqlite3.connect(tmp_path / "backup" / "secondme.db")
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        counted = copy.execute("SELECT COUNT(*) FROM memories").fetchone()[0]
        # every memory in the snapshot is whole: its chunks, and its original inline or as a file
        broken = copy.execute(
            """SELECT COUNT(*) FROM memories m LEFT JOIN originals o ON o.hash = m.content_hash
               WHERE o.hash IS NULL OR NOT EXISTS (SELECT 1 FROM chunks c WHERE c.memory_id = m.id)"""
        ).fetchone()[0]
    finally:
        copy.close()
    assert report["memories"] == counted and 31 + 500 <= counted < 3031 and broken == 0
    assert oct((tmp_path / "backup" / "node.key").stat().st_mode & 0o777) == "0o600"
    wait_job(daemon.client, running.id)
    peer = daemon.client.daemon.GetStatus(daemon_pb2.GetStatusRequest()).peer_id
    daemon.stop()

    restored = start_daemon("version = 1\n[identity]\nauto_update = false\n", init=False, start=False)
    shutil.copytree(tmp_path / "backup", restored.data_dir)
    restored.start()
    status = restored.client.daemon.GetStatus(daemon_pb2.GetStatusRequest())
    assert status.peer_id == peer and status.memory_count == counted
    long = next(m for m in all_memories(restored.client) if m.source.endswith("long.txt"))
    text = restored.client.memory.GetMemory(memory_pb2.GetMemoryRequest(memory_id=long.id, include_text=True)).text
    assert text.startswith("a long transcript line")
    stored = restored.data_dir / "originals" / long.content_hash[:2] / long.content_hash
    assert stored.read_bytes() == (tmp_path / "first" / "long.txt").read_bytes()
    # the ingest the snapshot caught mid-way goes on in the restored self, as an interrupted job would
    assert wait_job(restored.client, running.id).state == jobs_pb2.JOB_STATE_SUCCEEDED
    assert len(all_memories(restored.client)) == 3031
    assert os.listdir(restored.data_dir / "originals")
