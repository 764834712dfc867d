"""Expand the owner's paths into the files to ingest, within the folders they named.

A folder the owner names is the boundary of what they meant to give: a symlink is followed only
when its target lies inside one of the named paths (`follow_external=True` lifts that), and each
real file is listed once however many names lead to it (links, hard links). Links are followed
after the real entries, so a file is known by its own name before any link's. Named pipes,
sockets and devices are reported, never opened (opening a pipe blocks until a writer comes).
Hidden files and folders are skipped: they are editor state, VCS metadata and caches, not notes.
Every name is kept as the OS has it (non-UTF-8 bytes included); `names.shown` makes it text.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from secondme.pipeline.ingest.names import shown

EXTERNAL_HINT = "--follow-external-links follows it"


@dataclass(frozen=True)
class Candidate:
    # The name the owner sees: the path they named joined with the names walked.
    path: Path
    # Where the file is read from: its real location (links resolved). None when there is a problem.
    real: Path | None = None
    # Set when the path cannot be ingested at all (missing, outside the folders, not a file, a loop).
    problem: str = ""
    # Set when this is another name (a link) of a file already listed under that name.
    same_as: Path | None = None


def _matches(rel: str, patterns: list[str]) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(name, p) for p in patterns)


def _selected(rel: str, include: list[str], exclude: list[str]) -> bool:
    if include and not _matches(rel, include):
        return False
    return not (exclude and _matches(rel, exclude))


def _not_a_file(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        what = "a named pipe"
    elif stat.S_ISSOCK(mode):
        what = "a socket"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        what = "a device"
    else:
        what = "not a regular file"
    return f"{what}, not a file; skipped without opening it"


PRIVATE_REASON = "secondme's own data (its database, originals, models or node key): never ingested"


def _under(real: str, roots: list[str]) -> bool:
    return any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


class _Walk:
    def __init__(
        self,
        roots: list[str],
        include: list[str],
        exclude: list[str],
        follow_external: bool,
        private: list[str] | None = None,
    ) -> None:
        self.roots = roots
        self.include = include
        self.exclude = exclude
        self.follow_external = follow_external
        self.private = private or []
        self.folders: set[tuple[int, int]] = set()
        self.files: dict[tuple[int, int], Path] = {}

    def inside(self, real: str) -> bool:
        return _under(real, self.roots)

    def is_private(self, real: Path | str) -> bool:
        return bool(self.private) and _under(str(real), self.private)

    def follow(self, link: Path) -> tuple[str, os.stat_result] | str:
        """The link's real target and its stat, or why it is not followed."""
        target = os.path.realpath(link)
        try:
            info = os.stat(target)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return f"a symlink loop ({shown(link)} leads back to itself)"
            return f"a broken symlink (to {shown(target)}, {exc.strerror or exc})"
        if not self.follow_external and not self.inside(target):
            return f"a symlink to {shown(target)}, outside the folders you named ({EXTERNAL_HINT})"
        return target, info

    def file(self, path: Path, real: Path, info: os.stat_result, rel: str | None) -> Candidate | None:
        """A file found (`rel`: its path under the named folder, for the globs) or named (`rel` None)."""
        if rel is not None and not _selected(rel, self.include, self.exclude):
            return None
        key = (info.st_dev, info.st_ino)
        if key in self.files:
            return Candidate(path, real, same_as=self.files[key])
        self.files[key] = path
        return Candidate(path, real)

    def folder(self, root: Path, real_root: Path) -> Iterator[Candidate]:
        stack: list[tuple[Path, Path]] = [(root, real_root)]
        links: list[tuple[Path, Path]] = []  # (shown path, where it is) of links, followed after the rest
        while stack or links:
            if not stack:
                path, at = links.pop(0)
                followed = self.follow(at)
                if isinstance(followed, str):
                    yield Candidate(path, problem=followed)
                    continue
                target, info = followed
                yield from self.entry(path, Path(target), info, root, stack)
                continue
            folder, real = stack.pop()
            try:
                entries = sorted(os.scandir(real), key=lambda e: e.name)
            except OSError as exc:
                yield Candidate(folder, problem=f"cannot list the folder: {exc.strerror or exc}")
                continue
            subfolders: list[tuple[Path, Path]] = []
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                path, at = folder / entry.name, real / entry.name
                try:
                    if entry.is_symlink():
                        links.append((path, at))
                        continue
                    info = entry.stat(follow_symlinks=False)
                except OSError as exc:
                    yield Candidate(path, problem=f"cannot read: {exc.strerror or exc}")
                    continue
                yield from self.entry(path, at, info, root, subfolders)
            stack.extend(reversed(subfolders))

    def entry(
        self, path: Path, real: Path, info: os.stat_result, root: Path, folders: list[tuple[Path, Path]]
    ) -> Iterator[Candidate]:
        if self.is_private(real):
            yield Candidate(path, problem=PRIVATE_REASON)
        elif stat.S_ISDIR(info.st_mode):
            key = (info.st_dev, info.st_ino)
            if key in self.folders:
                yield Candidate(path, problem="a symlink loop: a link to a folder already walked")
            else:
                self.folders.add(key)
                folders.append((path, real))
        elif stat.S_ISREG(info.st_mode):
            found = self.file(path, real, info, path.relative_to(root).as_posix())
            if found:
                yield found
        else:
            yield Candidate(path, problem=_not_a_file(info.st_mode))


def walk_paths(
    paths: list[Path],
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    follow_external: bool = False,
    private: list[str] | None = None,
) -> Iterator[Candidate]:
    """Every file under `paths`; a path named directly is followed even when it is a link (it was named).

    Nothing under `private` (the daemon's own data) is ever read, whatever names it."""
    roots = [os.path.realpath(p) for p in paths]
    private_roots = [os.path.realpath(p) for p in private or []]
    walk = _Walk(roots, list(include or []), list(exclude or []), follow_external, private_roots)
    for path in paths:
        real = Path(os.path.realpath(path))
        if walk.is_private(real):
            yield Candidate(path, problem=PRIVATE_REASON)
            continue
        try:
            info = os.stat(real)
        except OSError as exc:
            if os.path.islink(path):
                yield Candidate(path, problem=f"a broken symlink or symlink loop ({exc.strerror or exc})")
            else:
                yield Candidate(path, problem="no such file or folder")
            continue
        if stat.S_ISDIR(info.st_mode):
            key = (info.st_dev, info.st_ino)
            if key not in walk.folders:
                walk.folders.add(key)
                yield from walk.folder(path, real)
        elif stat.S_ISREG(info.st_mode):
            found = walk.file(path, real, info, None)
            if found:
                yield found
        else:
            yield Candidate(path, problem=_not_a_file(info.st_mode))
