"""The SQLite database in write-ahead-log mode, durable at every commit (project/settings.py),
and test databases that never inherit another database's log (project/sqlite/creation.py)."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from project.settings import sqlite_database
from tests.sqlite_databases import open_database

pytestmark = pytest.mark.usefixtures("own_sqlite_databases")


def wrapper(path: Path, test_name: Path | None = None) -> Any:
    settings = sqlite_database(str(path))
    if test_name is not None:
        settings["TEST"] = {"NAME": str(test_name)}
    return open_database(settings)


def pragmas(db: Any) -> tuple[str, int]:
    with db.cursor() as cursor:
        mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
        synchronous = cursor.execute("PRAGMA synchronous").fetchone()[0]
    return mode, synchronous


def test_a_connection_logs_ahead_and_syncs_every_commit(tmp_path: Path) -> None:
    db = wrapper(tmp_path / "a.sqlite3")
    assert pragmas(db) == ("wal", 2)  # 2 is FULL: durable through a power loss
    with db.cursor() as cursor:
        cursor.execute("CREATE TABLE t (x INTEGER)")
        cursor.execute("INSERT INTO t VALUES (1)")
    assert (tmp_path / "a.sqlite3-wal").exists()
    # A pooled connection handed out again is set the same way.
    with db.cursor() as cursor:
        cursor.execute("PRAGMA synchronous = OFF")
    db.close()
    again = wrapper(tmp_path / "a.sqlite3")
    assert pragmas(again) == ("wal", 2)


def _leave_a_log(path: Path) -> None:
    """A database at `path` that ends with its last write only in its `-wal`, as after a crash:
    a table `stale` that only the log holds."""
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE stale (x INTEGER)")
    log = Path(f"{path}-wal").read_bytes()
    writer.close()  # checkpoints and removes the log: put it back
    Path(f"{path}-wal").write_bytes(log)


def tables(path: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]


def test_a_new_test_database_leaves_nothing_of_the_old_one_beside_it(tmp_path: Path) -> None:
    test_db = tmp_path / "test.sqlite3"
    _leave_a_log(test_db)
    (tmp_path / "test.sqlite3-shm").write_bytes(b"")
    db = wrapper(tmp_path / "main.sqlite3", test_name=test_db)
    name = db.creation._create_test_db(verbosity=0, autoclobber=True)
    assert name == str(test_db)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_cloned_test_database_holds_what_was_still_in_the_log(tmp_path: Path) -> None:
    source = tmp_path / "source.sqlite3"
    # A clone of an earlier run, crashed with a write only in its log.
    _leave_a_log(tmp_path / "source_1.sqlite3")
    db = wrapper(source)
    with db.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.execute("CREATE TABLE t (x INTEGER)")
        cursor.execute("INSERT INTO t VALUES (7)")
    assert Path(f"{source}-wal").stat().st_size > 0
    db.creation._clone_test_db("1", verbosity=0)
    clone = tmp_path / "source_1.sqlite3"
    assert tables(clone) == ["t"]  # not the old clone's log played over the copy
    with contextlib.closing(sqlite3.connect(clone)) as copied:
        assert copied.execute("SELECT x FROM t").fetchall() == [(7,)]


def test_destroying_a_test_database_removes_its_log(tmp_path: Path) -> None:
    path = tmp_path / "gone.sqlite3"
    db = wrapper(path)
    with db.cursor() as cursor:
        cursor.execute("CREATE TABLE t (x INTEGER)")
    db.close()  # into the pool, open: its log and index stay
    assert Path(f"{path}-wal").exists()
    db.creation._destroy_test_db(str(path), verbosity=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == []
