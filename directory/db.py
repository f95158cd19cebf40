"""SQLite connection settings and transactions.

WAL + synchronous=FULL: an acknowledged write survives a crash; busy_timeout lets
readers and a writer share the file; secure_delete so deleted rows do not linger.
"""
from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlite_utils

__all__ = ["connect", "write_transaction", "backup"]

BUSY_TIMEOUT_MS = 5000


def connect(path: str | Path = ":memory:") -> sqlite_utils.Database:
    """Open (creating if needed) the directory database with the project's pragmas."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
    else:
        conn = sqlite3.connect(":memory:", check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    if str(path) != ":memory:":
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA secure_delete=ON")
    return sqlite_utils.Database(conn)


@contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error.

    sqlite-utils' own writes inside the block nest as savepoints (Database.atomic),
    so they cannot commit half of our work.
    """
    conn = db.conn
    if conn.in_transaction:
        with db.atomic():
            yield db
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def backup(db: sqlite_utils.Database, target: str | Path) -> Path:
    """Online backup through SQLite's backup API: safe while the server runs."""
    target = Path(target)
    if target.exists():
        from .errors import DirectoryError

        raise DirectoryError(f"le fichier {target} existe déjà : choisissez un autre chemin pour la sauvegarde")
    target.parent.mkdir(parents=True, exist_ok=True)
    # Copied under a temporary name, synced, then renamed: a backup killed half-way
    # leaves a ".partial" file, never a truncated file under the name of a backup.
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    dest = sqlite3.connect(str(partial))
    try:
        db.conn.backup(dest)
    finally:
        dest.close()
    with open(partial, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(partial, target)
    return target
