"""The degrade paths on their own (no PostgreSQL or Redis needed): a cache backend pointed at a
Redis that is not there, idempotency on a cache that keeps nothing, and the 503 answers for a
database that cannot be reached."""

from __future__ import annotations

import json
import threading
from typing import Any
from unittest import mock

import pytest
from django.core.handlers.exception import convert_exception_to_response
from django.db import OperationalError
from django.test import override_settings

from project import resilience
from tasks import idempotency
from tests.live import free_port


def unreachable_cache(**options: Any) -> resilience.ResilientRedisCache:
    location = f"redis://127.0.0.1:{free_port()}/0"
    return resilience.ResilientRedisCache(
        location, {"OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1, **options}}
    )


def test_a_cache_without_redis_misses_and_ignores_writes():
    cache = unreachable_cache()
    assert cache.get("k") is None
    assert cache.get("k", "fallback") == "fallback"
    assert cache.get("k", default=[]) == []
    assert cache.set("k", 1) is False
    assert cache.add("k", 1) is False
    assert cache.get_many(["a", "b"]) == {}
    assert cache.incr("k") is None
    assert cache.delete("k") is False
    assert not cache.breaker.allows()  # the next calls skip Redis for a while


def test_the_breaker_lets_a_call_through_again_after_its_cooldown():
    breaker = resilience.Breaker("test", cooldown=0)
    breaker.failed(ConnectionError("down"))
    assert breaker.allows()  # half-open at once with no cooldown
    assert breaker.succeeded() is True  # the end of an outage is reported once
    assert breaker.succeeded() is False


def test_the_first_success_after_an_outage_drops_cached_responses():
    cache = unreachable_cache(FLUSH_AFTER_OUTAGE=["api-response:*"])
    cache.breaker.cooldown = 0
    cache.get("k")
    with (
        mock.patch.object(resilience.RedisCache, "get", return_value="v"),
        mock.patch.object(resilience.RedisCache, "delete_pattern") as delete_pattern,
    ):
        assert cache.get("k") == "v"
        assert cache.get("k") == "v"
    delete_pattern.assert_called_once_with(cache, "api-response:*")


def test_cache_objects_of_one_configuration_share_one_redis_client():
    """Django makes a cache object per thread, and ASGI runs each request's sync code in a new
    thread: without sharing, every request built django-redis's client and a `redis.Redis`."""
    location = f"redis://127.0.0.1:{free_port()}/0"
    params: dict[str, Any] = {"OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1}}
    made: list[resilience.ResilientRedisCache] = []
    threads = [
        threading.Thread(
            target=lambda: made.append(resilience.ResilientRedisCache(location, dict(params)))
        )
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first, second = made
    assert first is not second
    assert first.client is second.client
    assert first.client.get_client() is second.client.get_client()  # the same redis.Redis
    other = resilience.ResilientRedisCache(location, {"OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2}})
    assert other.client is not first.client  # another configuration, another client


def test_redis_replies_are_parsed_by_hiredis_in_the_cache_and_the_channel_layer():
    """`redis[hiredis]` is a runtime dependency: redis-py then parses replies in C, sync (the
    cache, Celery) and async (channels-redis) alike. Without it a `cache.incr` took 1.4-2.4x
    the CPU (bench/PROFILES.md, fifteenth pass)."""
    import redis
    import redis.asyncio
    from redis._parsers import _AsyncHiredisParser, _HiredisParser

    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing connects: the parser is chosen at init
    sync_connection = redis.Redis.from_url(url).connection_pool.make_connection()
    async_connection = redis.asyncio.Redis.from_url(url).connection_pool.make_connection()
    assert isinstance(sync_connection._parser, _HiredisParser)
    assert isinstance(async_connection._parser, _AsyncHiredisParser)


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "project.resilience.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1},
        }
    }
)
def test_idempotency_runs_requests_unprotected_when_the_cache_keeps_nothing():
    claim = {"scope": "rest", "user_key": "1", "key": "k", "request_fingerprint": "f"}
    assert idempotency.begin(**claim).outcome == "started"
    assert idempotency.begin(**claim).outcome == "started"  # not "in_flight" forever


@pytest.fixture
def database_down() -> Any:
    with mock.patch(
        "project.auth.authenticate_token", side_effect=OperationalError("connection refused")
    ):
        yield


def test_rest_answers_503_problem_details_when_the_database_is_down(client, database_down, db):
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION="Bearer whatever")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert int(response["Retry-After"]) > 0
    body = response.json()
    assert body["code"] == "service_unavailable" and body["status"] == 503


def test_graphql_answers_503_service_unavailable_when_the_database_is_down(
    client, database_down, db
):
    response = client.post(
        "/graphql",
        {"query": "{ viewer { id } }"},
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer whatever",
        HTTP_X_REQUEST_ID="req-1",
    )
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "SERVICE_UNAVAILABLE", "requestId": "req-1"}


def test_a_database_error_raised_in_a_middleware_is_a_503_too(rf):
    """Django turns an error in an inner middleware into a 500 before the outer ones see it;
    the 500 of a database error is replaced."""

    def session_middleware(request: Any) -> Any:
        raise OperationalError("connection refused")

    middleware = resilience.DatabaseUnavailableMiddleware(
        convert_exception_to_response(session_middleware)
    )
    response = middleware(rf.get("/api/v1/me/"))
    assert response.status_code == 503
    assert json.loads(response.content)["code"] == "service_unavailable"


def test_other_errors_are_not_reported_as_unavailable(client, db):
    with mock.patch("project.auth.authenticate_token", side_effect=RuntimeError("bug")):
        response = client.get("/api/v1/me/", HTTP_AUTHORIZATION="Bearer whatever")
    assert response.status_code == 500
