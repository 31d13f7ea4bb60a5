from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tasks import outbox
from tasks.models import Role
from tests.factories import UserFactory, make_project
from tests.live import ThreadedServer

POSTGRES = bool(os.environ.get("DATABASE_URL"))
REDIS = bool(os.environ.get("REDIS_URL"))


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    for item in items:
        if item.get_closest_marker("postgres") and not POSTGRES:
            item.add_marker(pytest.mark.skip(reason="needs DATABASE_URL (PostgreSQL)"))
        if item.get_closest_marker("redis") and not REDIS:
            item.add_marker(pytest.mark.skip(reason="needs REDIS_URL (Redis)"))


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    from django.core.cache import cache

    from project import token_lookup

    cache.clear()
    token_lookup.forget()
    yield


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """PBKDF2's million rounds cost about a second per user on a busy 2-core machine."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def token_cache_held(settings: Any) -> None:
    """For a test that warms the bearer-token cache and then counts queries: the cache's 1 s
    (TOKEN_CACHE_SECONDS) must not run out between the two on a loaded machine, or the count
    gains the token's lookup (seen once in CI on PostgreSQL: 12 queries for 11)."""
    settings.TOKEN_CACHE_SECONDS = 3600


@pytest.fixture
def own_sqlite_databases(django_db_blocker: Any) -> Iterator[None]:
    """For tests that open SQLite databases of their own (tests/sqlite_databases.py)."""
    from tests import sqlite_databases

    with django_db_blocker.unblock():  # their own databases, not the test database
        yield
    sqlite_databases.close_all()


@pytest.fixture
def owner(db: Any) -> Any:
    return UserFactory(username="olivia", first_name="Olivia", last_name="Owner")


@pytest.fixture
def admin(db: Any) -> Any:
    return UserFactory(username="adam", first_name="Adam", last_name="Admin")


@pytest.fixture
def member(db: Any) -> Any:
    return UserFactory(username="mia", first_name="Mia", last_name="Member")


@pytest.fixture
def viewer(db: Any) -> Any:
    return UserFactory(username="victor", first_name="", last_name="")


@pytest.fixture
def outsider(db: Any) -> Any:
    return UserFactory(username="oscar")


@pytest.fixture
def project(owner: Any, admin: Any, member: Any, viewer: Any) -> Any:
    return make_project(
        owner,
        name="Apollo",
        members={admin: Role.ADMIN, member: Role.MEMBER, viewer: Role.VIEWER},
    )


@pytest.fixture(scope="session")
def _live_server(django_db_setup: Any, django_db_blocker: Any) -> Iterator[ThreadedServer]:
    server = ThreadedServer().start()
    yield server
    server.stop()


@pytest.fixture
def asgi_server(_live_server: ThreadedServer, transactional_db: Any) -> Iterator[ThreadedServer]:
    """The real ASGI server (uvicorn) on a loopback port; the test's data is committed."""
    yield _live_server
    # Writes are answered before their events are dispatched (tasks.outbox): let the dispatch
    # finish before the database is flushed for the next test.
    assert outbox.wait_idle(timeout=30)
    # A socket's consumer finishes the handler it is in after its client has gone (a JSON
    # socket sends `ready` before its replay query): a query still running when the flush's
    # TRUNCATE takes its locks can deadlock with it on PostgreSQL (CI, stop 29).
    assert _live_server.wait_idle(timeout=30), "the live server still runs this test's handlers"
