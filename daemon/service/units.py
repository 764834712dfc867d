"""Render and place the service files where each OS's service manager looks for them."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template
from xml.sax.saxutils import escape

from secondme.errors import InvalidArgument

LAUNCHD_LABEL = "dev.secondme.secondmed"
SYSTEMD_UNIT = "secondmed.service"
# Variables passed through to the service so it finds the same data as the installing shell.
PASSED_ENV = ("SECONDME_CONFIG", "SECONDME_DATA_DIR", "SECONDME_SOCKET")


@dataclass(frozen=True)
class ServiceFile:
    manager: str  # "systemd" | "launchd"
    path: Path
    content: str


def default_manager() -> str:
    return "launchd" if sys.platform == "darwin" else "systemd"


def secondmed_executable() -> str:
    beside = Path(sys.executable).with_name("secondmed")
    if beside.exists():
        return str(beside)
    found = shutil.which("secondmed")
    if not found:
        raise FileNotFoundError("cannot find the secondmed executable; is secondme installed?")
    return found


def _template(name: str) -> Template:
    return Template(resources.files("secondme.daemon.service").joinpath(name).read_text(encoding="utf-8"))


def render(manager: str, home: Path, env: dict[str, str] | None = None) -> ServiceFile:
    env = {k: v for k, v in (env if env is not None else os.environ).items() if k in PASSED_ENV}
    exec_start = secondmed_executable()
    if manager == "systemd":
        config_home = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
        lines = "".join(f'Environment="{k}={v}"\n' for k, v in sorted(env.items()))
        content = _template("secondmed.service").substitute(exec_start=exec_start, environment=lines)
        return ServiceFile(manager, config_home / "systemd" / "user" / SYSTEMD_UNIT, content)
    if manager == "launchd":
        entries = "".join(
            f"    <key>{escape(k)}</key>\n    <string>{escape(v)}</string>\n" for k, v in sorted(env.items())
        )
        content = _template("secondmed.plist").substitute(
            label=LAUNCHD_LABEL,
            exec_start=escape(exec_start),
            environment=entries,
            log_path=escape(str(home / "Library" / "Logs" / "secondmed.log")),
        )
        return ServiceFile(manager, home / "Library" / "LaunchAgents" / f"{LAUNCHD_LABEL}.plist", content)
    raise InvalidArgument(f"unknown service manager {manager!r} (systemd or launchd)")


def start_commands(service: ServiceFile) -> list[list[str]]:
    if service.manager == "systemd":
        return [
            ["systemctl", "--user", "daemon-reload"],
            ["systemctl", "--user", "enable", "--now", SYSTEMD_UNIT],
        ]
    return [["launchctl", "load", "-w", str(service.path)]]


def stop_commands(service: ServiceFile) -> list[list[str]]:
    if service.manager == "systemd":
        return [["systemctl", "--user", "disable", "--now", SYSTEMD_UNIT]]
    return [["launchctl", "unload", "-w", str(service.path)]]
