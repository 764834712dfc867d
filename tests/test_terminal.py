"""What the owner's terminal shows: tables that fit 80 columns (--wide for all), and no library noise."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from secondme.pipeline.llm import LocalLlama

# Under the 120 characters a title is kept to at ingest, and far over what 80 columns leave it.
LONG_TITLE = "The long weekend we walked the coast path from Whitby to Robin Hood's Bay and back in the rain"


def _narrow(env: dict[str, str]) -> dict[str, str]:
    """Standard output is a pipe; no COLUMNS from the test runner's terminal."""
    return {k: v for k, v in env.items() if k not in ("COLUMNS", "LINES")}


def _wait_for(daemon, kind: str, deadline_seconds: float = 300) -> dict:
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        jobs = json.loads(daemon.ctl("jobs", "list", "--json").stdout)
        done = [j for j in jobs if j["kind"] == kind and j["state"] in ("succeeded", "failed", "cancelled")]
        if done:
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no {kind} job finished within {deadline_seconds}s")


def test_tables_fit_80_columns_and_wide_shows_every_cell_whole(start_daemon, tmp_path):
    daemon = start_daemon("version = 1\n[identity]\nauto_update = false\n")
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "coast.md").write_text(f"---\ntitle: {LONG_TITLE}\ndate: 2024-06-01\n---\nWe walked and it rained.\n")
    daemon.ctl("ingest", str(notes))
    embed = _wait_for(daemon, "embed")  # the follow-up loads the embedding model in its job child
    assert embed["state"] == "succeeded"

    env = _narrow(daemon.env)
    for command in (["memories", "list"], ["jobs", "list"], ["models", "list"], ["grant", "list"]):
        shown = subprocess.run(
            [sys.executable, "-m", "secondme.daemon.cli.main", *command],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        lines = shown.stdout.splitlines()
        assert all(len(line) <= 80 for line in lines), (command, [len(line) for line in lines], shown.stdout)
        assert shown.stderr == ""

    listed = daemon.ctl("memories", "list").stdout
    assert LONG_TITLE not in listed and "The long" in listed and "…" in listed
    assert len(listed.splitlines()) == 6  # one line per memory: top, header, rule, the row, bottom, count
    memory_id = json.loads(daemon.ctl("memories", "list", "--json").stdout)[0]["id"]
    assert memory_id in listed  # the identifier to copy gives way last
    wide = daemon.ctl("memories", "list", "--wide").stdout
    assert LONG_TITLE in wide and memory_id in wide

    # The daemon's terminal (its log here) got neither transformers' progress bars nor its advice.
    log = daemon.log_text()
    assert "Loading weights" not in log and "it/s]" not in log, log


def test_library_records_are_kept_at_debug_level(tmp_path):
    """py-libp2p leaves its logger without a handler, so Python's last resort printed its errors
    bare on stderr; in a process set up as secondmed sets itself up they are debug lines."""
    script = (
        "import logging, sys\n"
        "from secondme.daemon.logs import configure_logging\n"
        "import secondme.network.host\n"
        "configure_logging(sys.argv[1], 'plain')\n"
        "logging.getLogger('libp2p.network.swarm').error('a peer went away mid-stream')\n"
        "logging.getLogger('secondme.daemon.app').warning('ours keeps its level')\n"
    )
    quiet = subprocess.run([sys.executable, "-c", script, "info"], capture_output=True, text=True, timeout=60)
    assert "mid-stream" not in quiet.stderr and "WARNING secondme.daemon.app: ours keeps its level" in quiet.stderr
    loud = subprocess.run([sys.executable, "-c", script, "debug"], capture_output=True, text=True, timeout=60)
    assert "DEBUG   libp2p.network.swarm: a peer went away mid-stream" in loud.stderr


def test_llama_cpp_native_lines_go_to_logging(tiny_gguf, capfd, caplog):
    caplog.set_level("DEBUG", logger="llama_cpp")
    llm = LocalLlama(tiny_gguf, "{% for m in messages %}{{ m['content'] }}{% endfor %}")
    llm.close()
    err = capfd.readouterr().err
    assert "llama_" not in err and "load_tensors" not in err, err
    assert any(r.name == "llama_cpp" and r.levelname == "DEBUG" for r in caplog.records)
