"""Original bytes of ingested files, stored once per content hash.

Notes are small and numerous, media are large and few, so originals up to `INLINE_MAX_BYTES`
are stored inline in the database (in the same transaction as their memory: nothing to orphan,
no file to create per note) and larger ones as files under the data dir. Files are written to a
temporary name, fsynced and renamed, so a kill leaves the whole file or none; a file whose
database row never committed is an orphan that `sweep_orphans` removes at daemon start.
"""

from __future__ import annotations

import os
import re
import sqlite3
import tempfile
from collections.abc import Iterable
from pathlib import Path

INLINE_MAX_BYTES = 256 * 1024
_HASH = re.compile(r"^[0-9a-f]{64}$")


class Originals:
    # Rows from `row`, ignored when the hash is there (the sink adds the VALUES for its group's rows).
    INSERT = "INSERT OR IGNORE INTO originals(hash, size_bytes, stored_at, data)"

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, content_hash: str) -> Path:
        if not _HASH.match(content_hash):
            raise ValueError(f"not a SHA-256 hex digest: {content_hash!r}")
        return self.root / content_hash[:2] / content_hash

    @staticmethod
    def inline(size: int) -> bool:
        return size <= INLINE_MAX_BYTES

    def write_file(self, content_hash: str, data: bytes) -> Path:
        """Store a large original as a file, before the transaction that records it."""
        target = self.path_for(content_hash)
        if target.exists():
            return target
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    def row(self, content_hash: str, data: bytes, now: str) -> tuple[str, int, str, bytes | None]:
        """The row (hash, size_bytes, stored_at, data) that `INSERT` takes, inside the caller's
        transaction (inline bytes when small)."""
        return content_hash, len(data), now, data if self.inline(len(data)) else None

    def read(self, conn: sqlite3.Connection, content_hash: str) -> bytes | None:
        row = conn.execute("SELECT data FROM originals WHERE hash = ?", (content_hash,)).fetchone()
        if row is None:
            return None
        if row[0] is not None:
            return bytes(row[0])
        return self.path_for(content_hash).read_bytes()

    def remove_file(self, content_hash: str) -> bool:
        try:
            self.path_for(content_hash).unlink()
        except FileNotFoundError:
            return False
        return True

    def sweep_orphans(self, file_backed: Iterable[str]) -> int:
        """Delete stored files no row refers to (left by a job killed mid-write)."""
        keep = set(file_backed)
        removed = 0
        if not self.root.exists():
            return 0
        for path in self.root.glob("*/*"):
            if path.name.startswith(".incoming-") or (_HASH.match(path.name) and path.name not in keep):
                path.unlink(missing_ok=True)
                removed += 1
        return removed
