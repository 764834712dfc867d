"""File names as the operating system has them: bytes, kept exactly, shown readably.

A POSIX name is any bytes but "/" and NUL: not necessarily UTF-8, possibly with a newline or a
leading dash. Python carries such a name as a str with lone surrogates (`os.fsdecode`), which
SQLite, JSON readers and gRPC refuse. So a name travels as its bytes and is shown as text that
is exact wherever the bytes are UTF-8, with `\\xNN` for each byte that is not.
"""

from __future__ import annotations

import base64
import os
import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def name_bytes(path: str | os.PathLike[str]) -> bytes:
    """The name's bytes, exactly as the OS has them."""
    return os.fsencode(path)


def shown(path: str | os.PathLike[str] | bytes) -> str:
    """The name as valid text: exact when it is UTF-8, else `\\xNN` for each byte that is not."""
    raw = path if isinstance(path, bytes) else os.fsencode(path)
    return raw.decode("utf-8", errors="backslashreplace")


def is_exact(path: str | os.PathLike[str] | bytes) -> bool:
    """Whether `shown(path)` gives the name back byte for byte."""
    raw = path if isinstance(path, bytes) else os.fsencode(path)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def printable(text: str) -> str:
    """For a terminal: control characters (a newline in a name) as escapes, so one name is one line."""
    return _CONTROL.sub(lambda m: _ESCAPES.get(m[0], f"\\x{ord(m[0]):02x}"), text)


def to_json(path: str | os.PathLike[str] | bytes) -> dict[str, str]:
    """`{"path": shown}`, plus `path_b64` (the exact bytes) when the text is not exact, for scripts."""
    raw = path if isinstance(path, bytes) else os.fsencode(path)
    entry = {"path": shown(raw)}
    if not is_exact(raw):
        entry["path_b64"] = base64.b64encode(raw).decode("ascii")
    return entry
