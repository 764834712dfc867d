"""secondmectl as the owner uses it: init, config, version, service files, JSON output."""

from __future__ import annotations

import json
import os
import plistlib
import pty
import select
import subprocess
import sys
import time

from secondme.daemon.node_key import load_node_key, peer_id_from_public_key


def _ctl(env, *args, check=True):
    result = subprocess.run(
        [sys.executable, "-m", "secondme.daemon.cli.main", *args], env=env, capture_output=True, text=True, timeout=60
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def _env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECONDME_", "XDG_"))}
    env.update(
        HOME=str(tmp_path / "home"),
        SECONDME_CONFIG=str(tmp_path / "c" / "config.toml"),
        SECONDME_DATA_DIR=str(tmp_path / "d"),
        SECONDME_SOCKET=str(tmp_path / "s.sock"),
        **extra,
    )
    return env


def test_init_is_idempotent_and_prints_the_peer_id(tmp_path):
    env = _env(tmp_path)
    first = json.loads(_ctl(env, "init", "--json").stdout)
    key = load_node_key(tmp_path / "d" / "node.key")
    assert first["peer_id"] == peer_id_from_public_key(key.public_key())
    assert set(first["created"]) == {str(tmp_path / "c" / "config.toml"), str(tmp_path / "d" / "node.key")}
    second = json.loads(_ctl(env, "init", "--json").stdout)
    assert second["peer_id"] == first["peer_id"] and second["created"] == []


def test_a_data_dir_from_before_the_rename_keeps_its_node_key(tmp_path):
    env = _env(tmp_path)
    first = json.loads(_ctl(env, "init", "--json").stdout)
    (tmp_path / "d" / "node.key").rename(tmp_path / "d" / "identity.key")
    again = json.loads(_ctl(env, "init", "--json").stdout)
    assert again["peer_id"] == first["peer_id"] and again["created"] == []
    assert not (tmp_path / "d" / "node.key").exists()


def test_config_show_and_default(tmp_path):
    env = _env(tmp_path)
    _ctl(env, "init")
    shown = json.loads(_ctl(env, "config", "show", "--json").stdout)
    assert shown["config"]["ingest"]["chunk_tokens"] == 256
    default = _ctl(env, "config", "default").stdout
    assert "version = 1" in default and "[ingest]" in default
    (tmp_path / "c" / "config.toml").write_text("[ingest]\nchunk_tokenz = 1\n")
    broken = _ctl(env, "config", "show", check=False)
    assert broken.returncode == 1 and "unknown key 'ingest.chunk_tokenz'" in broken.stderr


def test_version_works_without_a_daemon(tmp_path):
    version = json.loads(_ctl(_env(tmp_path), "version", "--json").stdout)
    assert version["client"] and version["daemon"] is None


def test_service_install_writes_a_notify_unit_for_systemd(tmp_path):
    env = _env(tmp_path, XDG_CONFIG_HOME=str(tmp_path / "home" / ".config"))
    out = json.loads(_ctl(env, "service", "--manager", "systemd", "install", "--json").stdout)
    unit = (tmp_path / "home" / ".config" / "systemd" / "user" / "secondmed.service").read_text()
    assert out["path"].endswith("systemd/user/secondmed.service")
    assert "Type=notify" in unit and "Restart=on-failure" in unit
    assert "KillMode=mixed" in unit  # the daemon stops its own job processes, so their jobs go on later
    exec_line = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    assert os.access(exec_line.split("=", 1)[1].split()[0], os.X_OK)
    assert f'Environment="SECONDME_DATA_DIR={tmp_path / "d"}"' in unit
    status = json.loads(_ctl(env, "service", "--manager", "systemd", "status", "--json").stdout)
    assert status["installed"] and status["current"]
    _ctl(env, "service", "--manager", "systemd", "uninstall")
    assert not json.loads(_ctl(env, "service", "--manager", "systemd", "status", "--json").stdout)["installed"]


def test_service_install_writes_a_valid_launchd_plist(tmp_path):
    env = _env(tmp_path)
    _ctl(env, "service", "--manager", "launchd", "install")
    path = tmp_path / "home" / "Library" / "LaunchAgents" / "dev.secondme.secondmed.plist"
    plist = plistlib.loads(path.read_bytes())
    assert plist["Label"] == "dev.secondme.secondmed"
    assert plist["ProgramArguments"][0].endswith("secondmed") and plist["RunAtLoad"] is True
    assert plist["EnvironmentVariables"]["SECONDME_SOCKET"] == str(tmp_path / "s.sock")


def test_the_owners_name_comes_from_init_and_config_set_never_from_the_login(tmp_path):
    env = _env(tmp_path)
    assert json.loads(_ctl(env, "init", "--json", "--no-default-model").stdout)["owner_name"] == ""
    assert "owner" not in (tmp_path / "c" / "config.toml").read_text()
    again = json.loads(_ctl(env, "init", "--json", "--no-default-model", "--name", "Alex Morgan").stdout)
    assert again["owner_name"] == "Alex Morgan" and again["created"] == []
    _ctl(env, "config", "set", "owner.name", "Alex M.")
    shown = json.loads(_ctl(env, "config", "show", "--json").stdout)
    assert shown["config"]["owner"]["name"] == "Alex M."
    refused = _ctl(env, "config", "set", "owner.nom", "x", check=False)
    assert refused.returncode != 0 and "unknown setting 'owner.nom'" in refused.stderr


def test_init_at_a_terminal_asks_the_owners_name_and_keeps_it(tmp_path):
    """With a person at the terminal (a pseudo-terminal here), init asks for the name once; a script is never asked."""
    env = _env(tmp_path)
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "secondme.daemon.cli.main", "init", "--no-default-model"],
        env=env, stdin=terminal, stdout=terminal, stderr=terminal,
    )  # fmt: skip
    os.close(terminal)
    said = b""
    try:
        deadline = time.monotonic() + 60
        while b"Your name" not in said:
            assert time.monotonic() < deadline, said
            if select.select([controller], [], [], 1)[0]:
                said += os.read(controller, 4096)
        os.write(controller, b"Nadia Brennan\n")
        assert process.wait(60) == 0
    finally:
        process.kill()
        os.close(controller)
    shown = json.loads(_ctl(env, "config", "show", "--json").stdout)
    assert shown["config"]["owner"]["name"] == "Nadia Brennan"
    # set once, never asked again (and a script, with no terminal, is never asked at all)
    again = json.loads(_ctl(env, "init", "--json", "--no-default-model").stdout)
    assert again["owner_name"] == "Nadia Brennan"


def test_upload_refuses_a_named_pipe_and_a_device_instead_of_reading_them_forever(tmp_path):
    os.mkfifo(tmp_path / "pipe.md")  # nobody writes to it: reading would block
    for path in (tmp_path / "pipe.md", "/dev/zero"):
        out = _ctl(_env(tmp_path), "ingest", "--upload", str(path), check=False)
        assert out.returncode == 2 and f"--upload sends regular files only, not: {path}" in out.stderr
