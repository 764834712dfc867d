"""A consistent copy of a data dir, taken while the daemon runs or not.

The database is copied with SQLite's online backup, which reads one snapshot while the daemon
and its jobs go on writing; then the files that snapshot refers to: the originals stored as
files (written before the row that names them commits, and never changed after), the models
and the node key. Files the daemon keeps only while it runs (the lock, uploads in flight,
partial downloads) are left out. The copy is written under a temporary name and renamed when
complete, so a backup cut short leaves no folder that looks whole; the copy is checked page by
page (SQLite's quick_check), so a damaged database is said, not backed up. To restore, stop secondmed
and put the folder in place of the data dir.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from secondme.daemon.paths import DB_FILENAME, LEGACY_NODE_KEY_FILENAME, NODE_KEY_FILENAME
from secondme.daemon.store import health
from secondme.daemon.store.db import DatabaseUnusable
from secondme.errors import AlreadyExists, FailedPrecondition

# Pages copied per step of the online backup: the daemon's writers are never held up for long.
PAGES_PER_STEP = 4096


@dataclass
class BackupReport:
    destination: Path
    files: int = 0
    bytes: int = 0
    memories: int = 0
    # Originals the database names that were gone when they were copied (deleted meanwhile).
    missing: list[str] = field(default_factory=list)


def _copy(source: Path, target: Path, report: BackupReport) -> None:
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    shutil.copy2(source, target)
    report.files += 1
    report.bytes += target.stat().st_size


def backup_data_dir(data_dir: Path, destination: Path) -> BackupReport:
    """Copy `data_dir` to `destination` (a new folder); raises when the database cannot be backed up."""
    db = data_dir / DB_FILENAME
    if not db.exists():
        raise FailedPrecondition(f"there is no database at {db} to back up; `secondmectl init` creates one")
    problem = health.diagnose(db)
    if problem:
        raise DatabaseUnusable(health.explained(db, problem))
    if destination.exists() and any(destination.iterdir()):
        raise AlreadyExists(f"{destination} exists and is not empty; name a new folder for the backup")
    partial = destination.with_name(destination.name + ".incomplete")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True, mode=0o700)
    report = BackupReport(destination)
    try:
        copy = partial / DB_FILENAME
        source = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
        target = sqlite3.connect(copy)
        try:
            source.backup(target, pages=PAGES_PER_STEP)
            # The online backup copies pages as they are: a damaged one would make a backup no daemon
            # starts from (and could replace a good one), so the copy is checked as the daemon checks.
            found = [str(row[0]) for row in target.execute("PRAGMA quick_check(5)")]
            if found != ["ok"]:
                problem = f"is damaged (SQLite's check of the copy found: {'; '.join(found)[:300]})"
                raise DatabaseUnusable(health.explained(db, problem))
            report.memories = target.execute("SELECT COUNT(*) FROM memories").fetchone()[0]
            stored = [r[0] for r in target.execute("SELECT hash FROM originals WHERE data IS NULL")]
        except sqlite3.Error as exc:
            raise DatabaseUnusable(health.explained(db, health.describe_error(exc))) from exc
        finally:
            target.close()
            source.close()
        report.files, report.bytes = 1, copy.stat().st_size
        for content_hash in stored:
            original = data_dir / "originals" / content_hash[:2] / content_hash
            if original.exists():
                _copy(original, partial / "originals" / content_hash[:2] / content_hash, report)
            else:
                report.missing.append(content_hash)
        models = data_dir / "models"
        if models.is_dir():
            for path in sorted(models.iterdir()):
                if path.is_file() and not path.name.startswith(".incoming-"):
                    _copy(path, partial / "models" / path.name, report)
        for name in (NODE_KEY_FILENAME, LEGACY_NODE_KEY_FILENAME):
            if (data_dir / name).exists():
                _copy(data_dir / name, partial / name, report)
                os.chmod(partial / name, 0o600)
        if destination.exists():
            destination.rmdir()  # it was checked to be empty
        partial.rename(destination)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return report
