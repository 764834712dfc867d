"""How secondmectl speaks: tables and progress for people, JSON for programs, exit codes for both."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from rich.console import Console

from secondme.daemon.client.convert import jsonable
from secondme.errors import Kind

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3  # the daemon (or what it relies on) is not there; try again later
EXIT_NOT_FOUND = 4
EXIT_DENIED = 5

EXIT_FOR_KIND: dict[Kind, int] = {
    Kind.INVALID_ARGUMENT: EXIT_USAGE,
    Kind.NOT_FOUND: EXIT_NOT_FOUND,
    Kind.ALREADY_EXISTS: EXIT_ERROR,
    Kind.FAILED_PRECONDITION: EXIT_ERROR,
    Kind.PERMISSION_DENIED: EXIT_DENIED,
    Kind.RESOURCE_EXHAUSTED: EXIT_ERROR,
    Kind.UNAVAILABLE: EXIT_UNAVAILABLE,
}

console = Console()
errors = Console(stderr=True)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(jsonable(data), indent=2, sort_keys=True, default=str) + "\n")


def emit(as_json: bool, data: Any, human: Callable[[], None]) -> None:
    """Print `data` (plain values or the client's dataclasses) as JSON, or call `human` to render it for a person."""
    if as_json:
        print_json(data)
    else:
        human()


def fail(message: str, code: int = EXIT_ERROR, as_json: bool = False) -> int:
    if as_json:
        sys.stdout.write(json.dumps({"error": message}) + "\n")
    errors.print(f"error: {message}", style="bold red", highlight=False, markup=False, soft_wrap=True)
    return code


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
