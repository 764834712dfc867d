"""Read one file the walk found, as what it was found to be: a regular file, within the size limit.

Between the walk and the read a file can be replaced (by a pipe, a link, a bigger file). The file
is opened without following a final symlink and without blocking (a pipe opened for reading would
wait for a writer forever), and checked again on the open descriptor before a byte is read.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from secondme.pipeline.errors import ContentTooLarge, IngestError
from secondme.pipeline.parsers.sniff import SNIFF_BYTES

# What `check_head` is shown: as much as the sniffing of a type reads.
HEAD_BYTES = SNIFF_BYTES
Checked = TypeVar("Checked")
_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def too_large(size: int, limit: int) -> str:
    return f"{size / 1e6:.1f} MB is above the {limit / 1e6:.1f} MB limit (raise ingest.max_file_bytes to allow it)"


def read_regular(
    path: Path, limit: int, check_head: Callable[[bytes], Checked] | None = None
) -> tuple[bytes, float, Checked | None]:
    """The file's bytes, its mtime and what `check_head` returned (None for an empty file). Raises
    IngestError saying why it cannot be read.

    `check_head` sees the first 8 KB as soon as they are read and may refuse the file (raising
    IngestError) before the rest is: a 40 MB archive is not read to be refused by its first bytes."""
    try:
        fd = os.open(path, _FLAGS)
    except OSError as exc:
        raise IngestError(f"cannot read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise IngestError("it stopped being a regular file while the folder was read; not read")
        if info.st_size > limit:
            raise ContentTooLarge(too_large(info.st_size, limit))
        parts, size, checked = [], 0, None
        while size <= limit:
            part = os.read(fd, min(1 << 20, limit + 1 - size))
            if not part:
                break
            if check_head is not None and not parts:
                checked = check_head(part[:HEAD_BYTES])
            parts.append(part)
            size += len(part)
        if size > limit:
            raise ContentTooLarge("the file grew past the size limit while being read")
        return b"".join(parts), info.st_mtime, checked
    except OSError as exc:
        raise IngestError(f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
