"""Django connections to SQLite databases of a test's own (project/sqlite), outside the test
database: opened with `open_database`, closed with their pools by the `own_sqlite_databases`
fixture (tests/conftest.py)."""

from __future__ import annotations

from typing import Any

from django.db.utils import ConnectionHandler

from project.sqlite import pool as pooling

_made: list[Any] = []


def open_database(settings_dict: dict[str, Any]) -> Any:
    made = ConnectionHandler({"default": settings_dict})["default"]
    _made.append(made)
    return made


def close_all() -> None:
    """Closes what a test left open, then every pooled connection, and forgets the pools."""
    for made in _made:
        if made.connection is not None:
            made.connection.close()
    _made.clear()
    for pool in list(pooling.pools.values()):
        pool.close_all()
    pooling.pools.clear()
