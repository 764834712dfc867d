"""Say plainly what is wrong with a database that cannot be used, and what the owner can do about it.

A data dir's `secondme.db` can be damaged (a disk fault, a copy cut short), overwritten by
something else, or another program's SQLite file put in its place. `secondmed` refuses to start
on it and every `secondmectl` command that needs it says the same thing: what is wrong, and the
two ways on, a backup (`secondmectl backup` writes them) or a fresh start.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

# The first migration's name: a schema_version table without it is not secondme's.
FIRST_MIGRATION = (1, "foundation")


def advice(db: Path) -> str:
    return (
        f"to go on, stop secondmed and put a backup in place of {db.parent} (the folder `secondmectl backup` "
        f"wrote), or move {db} aside and run `secondmectl init` to start afresh (then ingest your files again)"
    )


def explained(db: Path, problem: str) -> str:
    """The whole message: what is wrong with the database, and what to do."""
    return f"the database {db} {problem}; {advice(db)}"


def describe_error(exc: sqlite3.Error) -> str:
    """What an SQLite error on opening or reading means for the owner."""
    text = str(exc)
    if "not a database" in text:
        return "is not an SQLite database (its first bytes are something else: overwritten, or not a database)"
    if "malformed" in text or "corrupt" in text:
        return f"is damaged (SQLite says: {text})"
    return f"cannot be read (SQLite says: {text})"


def foreign_tables(tables: set[str], first_migration: tuple[int, str] | None) -> str | None:
    """Why a readable database is not secondme's, or None when it is (or is new and empty)."""
    shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
    if tables and "schema_version" not in tables:
        return f"is another program's SQLite database (its tables: {shown}), not secondme's"
    if "schema_version" in tables and first_migration not in (None, FIRST_MIGRATION):
        return f"is another program's SQLite database (its schema starts with {first_migration}), not secondme's"
    return None


def diagnose(db: Path) -> str | None:
    """What is wrong with the database at `db`, from its header and schema (cheap: no full scan).

    None when it does not exist (yet) or looks like secondme's.
    """
    if not db.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            first = None
            if "schema_version" in tables:
                row = conn.execute("SELECT version, name FROM schema_version ORDER BY version LIMIT 1").fetchone()
                first = (int(row[0]), str(row[1])) if row else None
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return describe_error(exc)
    return foreign_tables(tables, first)


def holders(db: Path) -> list[str]:
    """The other programs that have the database open ("sqlite3 (pid 4120)"), where /proc tells."""
    names = {str(db.resolve()), f"{db.resolve()}-wal", f"{db.resolve()}-journal"}
    found = []
    for pid in (p for p in os.listdir("/proc") if p.isdigit()) if os.path.isdir("/proc") else ():
        if int(pid) == os.getpid():
            continue
        try:
            if not any(os.readlink(f"/proc/{pid}/fd/{fd}") in names for fd in os.listdir(f"/proc/{pid}/fd")):
                continue
            with open(f"/proc/{pid}/comm") as comm:
                found.append(f"{comm.read().strip()} (pid {pid})")
        except OSError:
            continue  # gone, or not ours to look at
    return found


def locked_explained(db: Path) -> str:
    """The whole message for a database another program holds the write lock of."""
    who = ", ".join(holders(db)) or "another program"
    return (
        f"the database {db} is locked by {who}: secondme cannot write to it; close that program (an sqlite3 "
        "shell, a database browser, a backup tool), or wait for it to finish, and start secondmed again"
    )


def locked(db: Path) -> bool:
    """Whether another program holds the database's write lock now (a cheap try, no waiting)."""
    if not db.exists():
        return False
    try:
        conn = sqlite3.connect(db, timeout=0.1, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
        finally:
            conn.close()
    except sqlite3.OperationalError as exc:
        return "locked" in str(exc) or "busy" in str(exc)
    except sqlite3.Error:
        return False
    return False
