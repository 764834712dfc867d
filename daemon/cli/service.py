"""`secondmectl service install|uninstall|status`: run secondmed under systemd or launchd."""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

from secondme.daemon.cli.context import CliContext
from secondme.daemon.cli.output import console, emit
from secondme.daemon.service.units import default_manager, render, start_commands, stop_commands


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("service", parents=[common], help="run secondmed as a user service")
    parser.add_argument("--manager", choices=["systemd", "launchd"], default=None, help="default: this OS's")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    install = actions.add_parser("install", parents=[common], help="write the service file")
    install.add_argument("--start", action="store_true", help="also enable and start the service now")
    install.set_defaults(func=run_install)
    uninstall = actions.add_parser("uninstall", parents=[common], help="stop the service and remove its file")
    uninstall.set_defaults(func=run_uninstall)
    actions.add_parser("status", parents=[common], help="is the service file installed?").set_defaults(func=run_status)


def _service(ctx: CliContext):
    return render(ctx.args.manager or default_manager(), Path.home())


def _run(commands: list[list[str]]) -> list[str]:
    done = []
    for command in commands:
        if shutil.which(command[0]) is None:
            raise FileNotFoundError(f"{command[0]} is not available here; run `{' '.join(command)}` yourself")
        subprocess.run(command, check=True)
        done.append(" ".join(command))
    return done


def run_install(ctx: CliContext) -> int:
    service = _service(ctx)
    service.path.parent.mkdir(parents=True, exist_ok=True)
    service.path.write_text(service.content, encoding="utf-8")
    ran = _run(start_commands(service)) if ctx.args.start else []
    hint = " && ".join(" ".join(c) for c in start_commands(service))

    def human() -> None:
        console.print(f"wrote {service.path}", highlight=False)
        if not ran:
            console.print(f"start it with: {hint}", highlight=False, markup=False)

    emit(ctx.json, {"manager": service.manager, "path": str(service.path), "ran": ran}, human)
    return 0


def run_uninstall(ctx: CliContext) -> int:
    service = _service(ctx)
    ran: list[str] = []
    if service.path.exists():
        try:
            ran = _run(stop_commands(service))
        except (FileNotFoundError, subprocess.CalledProcessError):
            ran = []
        service.path.unlink()
    emit(
        ctx.json,
        {"manager": service.manager, "path": str(service.path), "removed": True, "ran": ran},
        lambda: console.print(f"removed {service.path}", highlight=False),
    )
    return 0


def run_status(ctx: CliContext) -> int:
    service = _service(ctx)
    installed = service.path.exists()
    current = installed and service.path.read_text(encoding="utf-8") == service.content
    data = {"manager": service.manager, "path": str(service.path), "installed": installed, "current": current}

    def human() -> None:
        if not installed:
            console.print(f"not installed ({service.path})", highlight=False)
        else:
            note = "" if current else " (differs from this installation: run `secondmectl service install` again)"
            console.print(f"installed at {service.path}{note}", highlight=False)

    emit(ctx.json, data, human)
    return 0
