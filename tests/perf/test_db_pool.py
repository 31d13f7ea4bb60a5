"""DB_POOL_SIZE (10 by default on PostgreSQL) swaps per-thread persistent connections for a
per-process psycopg pool (under ASGI each request thread would otherwise leave its own connection
open)."""

from __future__ import annotations

from tests.test_settings import shown

PG = "postgres://app:pw@db.internal:6543/taskhub"


def test_pool_size_configures_a_pool_without_persistent_connections() -> None:
    db = shown(DEBUG="1", DATABASE_URL=PG, DB_POOL_SIZE="8", DB_CONNECT_TIMEOUT="3")["db"]
    assert db["CONN_MAX_AGE"] == 0
    assert db["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 8, "timeout": 3}


def test_postgresql_uses_a_pool_of_ten_by_default() -> None:
    db = shown(DEBUG="1", DATABASE_URL=PG)["db"]
    assert db["CONN_MAX_AGE"] == 0
    assert db["OPTIONS"]["pool"]["max_size"] == 10


def test_pool_size_zero_keeps_persistent_connections() -> None:
    db = shown(DEBUG="1", DATABASE_URL=PG, DB_POOL_SIZE="0")["db"]
    assert db["CONN_MAX_AGE"] == 60
    assert "pool" not in db["OPTIONS"]
