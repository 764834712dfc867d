"""Expand the owner's paths into the files to ingest.

Folders are walked recursively; hidden files and folders are skipped (they are editor state,
VCS metadata and caches, not notes); symlinks are followed, but a folder reached twice (a
symlink loop) is reported once and not entered again.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Candidate:
    path: Path
    # Set when the path cannot be ingested at all (missing, a loop, not a regular file).
    problem: str = ""


def _matches(rel: str, patterns: list[str]) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(name, p) for p in patterns)


def _selected(rel: str, include: list[str], exclude: list[str]) -> bool:
    if include and not _matches(rel, include):
        return False
    return not (exclude and _matches(rel, exclude))


def _walk_folder(root: Path, include: list[str], exclude: list[str]) -> Iterator[Candidate]:
    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            info = folder.stat()
        except OSError as exc:
            yield Candidate(folder, f"cannot open folder: {exc.strerror or exc}")
            continue
        key = (info.st_dev, info.st_ino)
        if key in seen:
            yield Candidate(folder, "symlink loop: this folder was already visited")
            continue
        seen.add(key)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            yield Candidate(folder, f"cannot list folder: {exc.strerror or exc}")
            continue
        subfolders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir(follow_symlinks=True)
                is_file = entry.is_file(follow_symlinks=True)
            except OSError as exc:
                yield Candidate(path, f"cannot read: {exc.strerror or exc}")
                continue
            if is_dir:
                subfolders.append(path)
            elif is_file:
                if _selected(path.relative_to(root).as_posix(), include, exclude):
                    yield Candidate(path)
            elif entry.is_symlink():
                yield Candidate(path, "broken symlink or symlink loop")
            else:
                yield Candidate(path, "not a regular file (device, socket or pipe)")
        stack.extend(reversed(subfolders))


def walk_paths(
    paths: list[Path], include: list[str] | None = None, exclude: list[str] | None = None
) -> Iterator[Candidate]:
    include, exclude = list(include or []), list(exclude or [])
    for path in paths:
        if not path.exists() and not path.is_symlink():
            yield Candidate(path, "no such file or folder")
        elif path.is_dir():
            yield from _walk_folder(path, include, exclude)
        elif path.is_file():
            yield Candidate(path)
        elif path.is_symlink():
            yield Candidate(path, "broken symlink or symlink loop")
        else:
            yield Candidate(path, "not a regular file (device, socket or pipe)")
