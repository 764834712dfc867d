"""How secondmectl speaks: tables and progress for people, JSON for programs, exit codes for both."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Iterable
from typing import Any

from rich.console import Console, RenderableType
from rich.measure import Measurement
from rich.table import Table

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


# The width a table is fitted to when standard output is not a terminal.
DEFAULT_COLUMNS = 80


class FitTable(Table):
    """A table whose every row is one line: printed by `print_table`, cells too long for the terminal
    are cut with an ellipsis. The columns named in `shrink` (free text: titles, names, addresses)
    give way first; the others (dates, sizes, the identifiers a person copies into the next
    command) only when the table does not fit without that."""

    def __init__(self, *headers: str, shrink: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        shrinking = set(shrink)
        for header in headers:
            self.add_column(header, no_wrap=header not in shrinking, overflow="ellipsis")

    def add_row(self, *cells: RenderableType | None, **kwargs: Any) -> None:
        super().add_row(*(_one_line(cell) for cell in cells), **kwargs)


def _one_line(cell: RenderableType | None) -> RenderableType | None:
    if not isinstance(cell, str):
        return cell
    text = console.render_str(cell)  # as rich would render the string in the cell: markup, highlighting
    text.no_wrap = True
    text.overflow = "ellipsis"
    return text


def terminal_columns() -> int:
    """The terminal's width; DEFAULT_COLUMNS when standard output is not a terminal."""
    return shutil.get_terminal_size((DEFAULT_COLUMNS, 24)).columns


def print_table(table: Table, wide: bool = False) -> None:
    """Print `table` fitted to the terminal's width, or whole (`--wide`) however wide that is."""
    if not wide:
        console.print(table, width=terminal_columns())
        return
    natural = Measurement.get(console, console.options.update_width(1_000_000), table).maximum
    Console(width=max(natural, 1)).print(table)


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
