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


def test_postgresql_binds_client_side_by_default_as_django_does() -> None:
    options = shown(DEBUG="1", DATABASE_URL=PG)["db"]["OPTIONS"]
    assert "server_side_binding" not in options
    assert "prepare_threshold" not in options


def test_prepared_statements_are_an_opt_in() -> None:
    options = shown(DEBUG="1", DATABASE_URL=PG, DB_PREPARED_STATEMENTS="1")["db"]["OPTIONS"]
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5
