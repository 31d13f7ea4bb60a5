"""The fixed per-request costs (issue 19): a bearer token costs one narrow SQL query and then none
while cached, a revoked token is refused within `TOKEN_CACHE_SECONDS`, throttles are O(1) counters,
and no middleware forces a thread hop under ASGI. Counted, never timed."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils.module_loading import import_string
from oauth2_provider.models import get_access_token_model

from project import token_lookup
from project.auth import authenticate_token
from tests.factories import make_token


def test_a_bearer_token_costs_one_query_then_none_while_cached(
    owner: Any, django_assert_num_queries: Any
) -> None:
    raw = make_token(owner)

    with django_assert_num_queries(1) as captured:
        first = authenticate_token(raw)
    with django_assert_num_queries(0):
        second = authenticate_token(raw)

    assert first is not None and second is not None
    assert first.user.pk == second.user.pk == owner.pk
    assert first.user is not second.user  # never one shared, mutable instance
    assert first.scopes == frozenset({"read", "write"})
    sql = captured.captured_queries[0]["sql"]
    assert "ORDER BY" not in sql.upper()
    assert "oauth2_provider_application" in sql  # the owner of a client-credentials token


def test_a_client_credentials_token_acts_as_the_applications_owner(owner: Any) -> None:
    raw = make_token(owner)
    get_access_token_model().objects.update(user=None)
    token_lookup.forget()

    auth = authenticate_token(raw)

    assert auth is not None and auth.user.pk == owner.pk


def test_a_token_revoked_here_is_refused_at_once(owner: Any) -> None:
    raw = make_token(owner)
    assert authenticate_token(raw) is not None

    get_access_token_model().objects.get().revoke()

    assert authenticate_token(raw) is None


def test_a_token_revoked_by_another_process_is_refused_within_the_cache_period(
    owner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert settings.TOKEN_CACHE_SECONDS <= 1
    raw = make_token(owner)
    clock = [1000.0]
    monkeypatch.setattr(token_lookup.time, "monotonic", lambda: clock[0])
    assert authenticate_token(raw) is not None
    # Another process deletes the row: no signal reaches this one.
    checksum = hashlib.sha256(raw.encode()).hexdigest()
    table = get_access_token_model()._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE token_checksum = %s", [checksum])  # noqa: S608

    clock[0] += settings.TOKEN_CACHE_SECONDS / 2
    assert authenticate_token(raw) is not None  # still within the cache period
    clock[0] += settings.TOKEN_CACHE_SECONDS
    assert authenticate_token(raw) is None


def test_a_deactivated_user_is_refused_at_once_on_the_process_that_saved_it(owner: Any) -> None:
    raw = make_token(owner)
    assert authenticate_token(raw) is not None

    owner.is_active = False
    owner.save()

    assert authenticate_token(raw) is None


def test_an_expired_cached_token_is_refused(owner: Any) -> None:
    raw = make_token(owner, expires_in=1)
    row = token_lookup.lookup(hashlib.sha256(raw.encode()).hexdigest())
    assert row is not None
    get_access_token_model().objects.update(expires=row.expires.replace(year=2000))
    token_lookup.forget()

    assert authenticate_token(raw) is None


def test_throttle_state_is_one_counter_per_window_not_a_log(owner: Any, settings: Any) -> None:
    client = Client(headers={"Authorization": f"Bearer {make_token(owner)}"})
    for _ in range(30):
        assert client.get("/api/v1/me/").status_code == 200

    keys = [key for key in _cache_keys() if "throttle_user" in key]
    assert len(keys) == 1
    assert cache.get(keys[0]) == 30


def _cache_keys() -> list[str]:
    backend = cache
    if hasattr(backend, "keys"):  # django-redis
        return [str(key) for key in backend.keys("*throttle*")]
    return [key.split(":", 2)[-1] for key in backend._cache]  # type: ignore[attr-defined]


def test_every_middleware_is_async_capable() -> None:
    sync_only = [
        path
        for path in settings.MIDDLEWARE
        if not getattr(import_string(path), "async_capable", False)
    ]
    assert sync_only == []
