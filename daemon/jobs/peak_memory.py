"""Peak resident memory stage by stage, for a job child that runs several stages one after another.

The kernel keeps one high-water mark per process (VmHWM). Writing 5 to /proc/self/clear_refs sets it
back to the current resident size, so each stage's figure is its own peak, not the largest of every
stage before it: that is what tells which stage a plan's memory estimate missed. Where the mark
cannot be reset (not Linux), a figure is the process's peak so far.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from secondme.pipeline.ingest.isolation import peak_rss


def _reset_high_water_mark() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass


class StagePeaks:
    def __init__(self) -> None:
        self._bytes: dict[str, int] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        _reset_high_water_mark()
        try:
            yield
        finally:
            self._bytes[name] = max(self._bytes.get(name, 0), peak_rss())

    def megabytes(self) -> dict[str, int]:
        """Each stage run so far and its peak resident memory in MiB."""
        return {name: round(size / 2**20) for name, size in self._bytes.items()}
