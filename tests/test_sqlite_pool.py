"""Django's SQLite backend with a per-process pool of open connections (project/sqlite): a
closed connection is the next thread's, and only a clean one on the same database file, in the
same process, is ever handed out again."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from project.sqlite import base
from project.sqlite import pool as pooling
from tests.sqlite_databases import open_database

pytestmark = pytest.mark.usefixtures("own_sqlite_databases")


def wrapper(path: Path, **options: Any) -> Any:
    return open_database(
        {
            "ENGINE": "project.sqlite",
            "NAME": str(path),
            "OPTIONS": {"pool": {"max_size": 2}, **options},
        }
    )


def raw(db: Any) -> Any:
    db.ensure_connection()
    return db.connection


def in_a_thread(function: Any) -> Any:
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(function()))
    thread.start()
    thread.join()
    return result[0]


def test_a_closed_connection_serves_the_next_thread(tmp_path: Path) -> None:
    first = wrapper(tmp_path / "a.db")
    with first.cursor() as cursor:
        cursor.execute("CREATE TABLE t (x INTEGER)")
        cursor.execute("INSERT INTO t VALUES (1)")
    opened = first.connection
    first.close()
    assert first.connection is None

    def next_request() -> tuple[Any, Any]:
        second = wrapper(tmp_path / "a.db")
        with second.cursor() as cursor:
            cursor.execute("SELECT x FROM t")
            rows = cursor.fetchall()
        taken = second.connection
        second.close()
        return taken, rows

    taken, rows = in_a_thread(next_request)
    assert taken is opened and rows == [(1,)]
    # Django's connect() ran in full on it: autocommit, as on a new connection.
    again = wrapper(tmp_path / "a.db")
    again.ensure_connection()
    assert again.get_autocommit() is True


def test_at_most_max_size_idle_connections_are_kept(tmp_path: Path) -> None:
    held = [wrapper(tmp_path / "b.db") for _ in range(3)]
    opened = [raw(db) for db in held]
    assert len({id(connection) for connection in opened}) == 3
    for db in held:
        db.close()
    pool = pooling.pools[str(tmp_path / "b.db")]
    assert len(pool._idle) == 2
    with pytest.raises(sqlite3.ProgrammingError):  # the third was closed for good
        opened[2].execute("SELECT 1")


def test_a_connection_with_a_transaction_open_is_closed_not_pooled(tmp_path: Path) -> None:
    db = wrapper(tmp_path / "c.db")
    connection = raw(db)
    connection.execute("CREATE TABLE t (x INTEGER)")
    connection.execute("BEGIN")
    connection.execute("INSERT INTO t VALUES (1)")
    db.close()
    assert pooling.pools[str(tmp_path / "c.db")]._idle == []
    with pytest.raises(sqlite3.ProgrammingError):
        connection.execute("SELECT 1")
    assert raw(wrapper(tmp_path / "c.db")).execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_a_connection_closed_inside_an_atomic_block_is_not_handed_out(tmp_path: Path) -> None:
    db = wrapper(tmp_path / "d.db")
    connection = raw(db)
    db.in_atomic_block = True  # what close() inside `transaction.atomic()` sees
    db.close()
    assert db.closed_in_transaction and db.connection is connection
    assert pooling.pools[str(tmp_path / "d.db")]._idle == []
    assert raw(wrapper(tmp_path / "d.db")) is not connection


def test_a_replaced_database_file_is_never_served_by_an_old_connection(tmp_path: Path) -> None:
    path = tmp_path / "e.db"
    db = wrapper(path)
    raw(db).execute("CREATE TABLE old (x INTEGER)")
    old = db.connection
    db.close()
    # A new database at the same path (as a test run re-creates its own): written beside,
    # then moved over, so the two files exist at once and cannot share an inode.
    replacement = sqlite3.connect(tmp_path / "new.db")
    replacement.execute("CREATE TABLE new (x INTEGER)")
    replacement.close()
    os.replace(tmp_path / "new.db", path)

    fresh = raw(wrapper(path))
    assert fresh is not old
    tables = {row[0] for row in fresh.execute("SELECT name FROM sqlite_master")}
    assert tables == {"new"}
    with pytest.raises(sqlite3.ProgrammingError):
        old.execute("SELECT 1")


def test_a_forked_process_does_not_take_its_parents_connections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = wrapper(tmp_path / "f.db")
    parents = raw(db)
    db.close()
    monkeypatch.setattr(base.os, "getpid", lambda: os.getppid() + 10**6)
    child = wrapper(tmp_path / "f.db")
    assert raw(child) is not parents
    parents.execute("SELECT 1")  # left open: it is the parent's
    parents.close()


def test_in_memory_databases_and_pool_off_are_not_pooled(tmp_path: Path) -> None:
    assert wrapper(Path(":memory:")).pool is None
    off = open_database({"ENGINE": "project.sqlite", "NAME": str(tmp_path / "g.db")})
    connection = raw(off)
    off.close()
    assert off.pool is None and str(tmp_path / "g.db") not in pooling.pools
    with pytest.raises(sqlite3.ProgrammingError):
        connection.execute("SELECT 1")


def test_a_pooled_connection_gets_djangos_pragmas_again(tmp_path: Path) -> None:
    db = wrapper(tmp_path / "h.db", init_command="PRAGMA cache_size = -4000")
    connection = raw(db)
    connection.execute("PRAGMA foreign_keys = OFF")  # a schema editor that did not finish
    connection.execute("PRAGMA cache_size = 100")
    db.close()
    again = wrapper(tmp_path / "h.db", init_command="PRAGMA cache_size = -4000")
    assert raw(again) is connection
    assert connection.execute("PRAGMA foreign_keys").fetchone() == (1,)
    assert connection.execute("PRAGMA cache_size").fetchone() == (-4000,)
