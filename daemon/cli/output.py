"""How secondmectl speaks: tables and progress for people, JSON for programs, exit codes for both."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from rich.console import Console

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_DAEMON_DOWN = 3
EXIT_NOT_FOUND = 4
EXIT_DENIED = 5

_STATUS_EXIT = {
    grpc.StatusCode.NOT_FOUND: EXIT_NOT_FOUND,
    grpc.StatusCode.INVALID_ARGUMENT: EXIT_USAGE,
    grpc.StatusCode.PERMISSION_DENIED: EXIT_DENIED,
    grpc.StatusCode.UNAVAILABLE: EXIT_DAEMON_DOWN,
}

console = Console()
errors = Console(stderr=True)


def exit_code_for(status: grpc.StatusCode) -> int:
    return _STATUS_EXIT.get(status, EXIT_ERROR)


def message_dict(message: Message) -> dict[str, Any]:
    return MessageToDict(message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def emit(as_json: bool, data: Any, human: Callable[[], None]) -> None:
    """Print `data` as JSON or call `human` to render it for a person."""
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
