"""Original bytes of ingested files, stored once per content hash under the data dir.

Files are written to a temporary name and renamed into place, so a kill at any moment leaves
either the whole file or none. A file whose database row never committed is an orphan;
`sweep_orphans` removes those at daemon start.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

_HASH = re.compile(r"^[0-9a-f]{64}$")


class Originals:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, content_hash: str) -> Path:
        if not _HASH.match(content_hash):
            raise ValueError(f"not a SHA-256 hex digest: {content_hash!r}")
        return self.root / content_hash[:2] / content_hash

    def put(self, content_hash: str, data: bytes) -> Path:
        target = self.path_for(content_hash)
        if target.exists():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    def remove(self, content_hash: str) -> bool:
        path = self.path_for(content_hash)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def sweep_orphans(self, referenced: Iterable[str]) -> int:
        """Delete stored files no row refers to (left by a job killed mid-write)."""
        keep = set(referenced)
        removed = 0
        if not self.root.exists():
            return 0
        for path in self.root.glob("*/*"):
            if path.name.startswith(".incoming-") or (_HASH.match(path.name) and path.name not in keep):
                path.unlink(missing_ok=True)
                removed += 1
        return removed
