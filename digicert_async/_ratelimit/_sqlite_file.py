"""The limiter file itself: its tables, and opening it (see :mod:`._sqlite`)."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from ._shared import UnreadableAnswer

__all__ = ["IDLE_SECONDS", "open_file"]

IDLE_SECONDS = 24 * 3600.0  # the state of a key idle for a day goes
# PRAGMA application_id of a limiter file ("DCAL"), and the version of its tables.
_APPLICATION_ID = 0x4443414C
_SCHEMA_VERSION = 1
_SCHEMA = (
    "CREATE TABLE limiter_state (key TEXT PRIMARY KEY, gate REAL, epoch INTEGER NOT NULL,"
    " strikes INTEGER NOT NULL, peak REAL, least REAL, cut_at REAL, lowered INTEGER,"
    " touched REAL NOT NULL)",
    "CREATE TABLE limiter_slots (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL,"
    " at REAL NOT NULL)",
    "CREATE INDEX limiter_slots_by_key ON limiter_slots (key, at)",
)
# Added within version 1, made in every file when it is opened: a release before it
# reads and writes the other tables as they were, and leaves this one alone.
_FLIGHT_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS limiter_flight (id INTEGER PRIMARY KEY, key TEXT NOT NULL,"
    " at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS limiter_flight_by_key ON limiter_flight (key, at)",
)


def open_file(path: Path, busy_timeout: float, clock: Callable[[], float]) -> sqlite3.Connection:
    """The limiter file at ``path``, made (with its folder, owner only) if missing, in WAL
    mode; its tables made if new. A file that holds anything else is left as it is."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    db = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
    try:
        _is_new(db)  # before changing anything: refuses a file that is not ours
        _into_wal(db, busy_timeout)
        db.execute("PRAGMA synchronous = NORMAL")  # no fsync per step; this state is soft
        db.execute("BEGIN IMMEDIATE")
        if _is_new(db):  # asked again under the lock: another process may have made it
            for statement in _SCHEMA:
                db.execute(statement)
            db.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
            db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
        for statement in _FLIGHT_SCHEMA:
            db.execute(statement)
        stale = clock() - IDLE_SECONDS
        db.execute("DELETE FROM limiter_slots WHERE at < ?", (stale,))
        db.execute("DELETE FROM limiter_flight WHERE at < ?", (stale,))
        db.execute("DELETE FROM limiter_state WHERE touched < ?", (stale,))
        db.execute("COMMIT")
    except BaseException:
        db.close()
        raise
    return db


def _into_wal(db: sqlite3.Connection, busy_timeout: float) -> None:
    """WAL mode (where it cannot be had, the mode the file allows: still correct).

    SQLite answers "database is locked" at once, without waiting out the busy timeout,
    while another process switches the same new file: asked again until the timeout."""
    give_up = time.monotonic() + busy_timeout
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= give_up:
                raise
        time.sleep(0.01)


def _is_new(db: sqlite3.Connection) -> bool:
    """Whether the file is empty (True) or a limiter file of this version (False); raises
    when it is anything else."""
    # One statement, so one snapshot: read apart, the three could straddle another
    # process's commit of a new file and show tables without their owner.
    owner, version, tables = db.execute(
        "SELECT (SELECT application_id FROM pragma_application_id),"
        " (SELECT user_version FROM pragma_user_version),"
        " (SELECT count(*) FROM sqlite_master)"
    ).fetchone()
    if owner == version == tables == 0:
        return True
    if owner != _APPLICATION_ID:
        raise UnreadableAnswer("the file is not a digicert-async rate-limit file")
    if version != _SCHEMA_VERSION:
        raise UnreadableAnswer(f"the file's tables are of version {version}, not {_SCHEMA_VERSION}")
    return False
