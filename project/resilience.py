"""Degrading instead of failing when Redis or the database go away.

- Redis (cache: throttle counters, response cache, idempotency records, persisted queries): the
  cache backend below turns a lost Redis into cache misses and no-op writes, behind a per-process
  circuit breaker so that a Redis that hangs (rather than refuses) costs one connect timeout per
  `REDIS_RETRY_SECONDS`, not one per cache call. Writes still commit: throttles fail open, the
  response cache misses, idempotency keys are not enforced, events are still in the event log
  (clients replay them with `after`). When Redis answers again, cached API responses are dropped,
  because writes made during the outage could not bump their project's cache generation.
- Database: any `OperationalError` / `InterfaceError` (refused, reset, timed out) becomes a 503
  with `Retry-After` instead of a 500 and a traceback: RFC 9457 problem details
  (`code: service_unavailable`) everywhere, and a GraphQL error with code `SERVICE_UNAVAILABLE` on
  `/graphql`. Django reconnects on the next request (CONN_HEALTH_CHECKS), so the process recovers
  by itself when the database returns.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import orjson
import redis.exceptions
from django.conf import settings
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django_redis.cache import RedisCache
from django_redis.client import DefaultClient

from project.middleware import ResponseMiddleware

logger = logging.getLogger(__name__)

REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5
GRAPHQL_PATH = "/graphql"
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"


# --- Redis ------------------------------------------------------------------------------------


class Breaker:
    """Open after a failure for `cooldown` seconds; then one call tries again (half-open)."""

    def __init__(self, name: str, cooldown: float) -> None:
        self.name = name
        self.cooldown = cooldown
        self.open_until = 0.0
        self.tripped = False  # failed since the last success
        self._lock = threading.Lock()

    def allows(self) -> bool:
        return time.monotonic() >= self.open_until

    def failed(self, error: BaseException) -> None:
        with self._lock:
            if not self.tripped:
                logger.error("redis unavailable: degrading", extra={"error": repr(error)})
            self.tripped = True
            self.open_until = time.monotonic() + self.cooldown

    def succeeded(self) -> bool:
        """Records a success; True when it ends an outage."""
        if not self.tripped:
            return False
        with self._lock:
            recovered, self.tripped = self.tripped, False
        if recovered:
            logger.warning("redis available again")
        return recovered


_breakers: dict[str, Breaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(location: str) -> Breaker:
    # Django makes one cache object per thread; the breaker is per process and server.
    with _breakers_lock:
        breaker = _breakers.get(location)
        if breaker is None:
            cooldown = float(getattr(settings, "REDIS_RETRY_SECONDS", 2))
            breaker = _breakers[location] = Breaker(location, cooldown)
        return breaker


def _guarded(name: str, fallback: Callable[[tuple[Any, ...], dict[str, Any]], Any]) -> Any:
    def method(self: ResilientRedisCache, *args: Any, **kwargs: Any) -> Any:
        breaker = self.breaker
        if not breaker.allows():
            return fallback(args, kwargs)
        try:
            result = getattr(RedisCache, name)(self, *args, **kwargs)
        except REDIS_ERRORS as error:
            breaker.failed(error)
            return fallback(args, kwargs)
        if breaker.succeeded():
            self._after_outage()
        return result

    method.__name__ = name
    return method


def _none(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    return None


def _false(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    return False


def _empty_dict(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    return {}


def _empty_list(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
    return []


def _default(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return kwargs.get("default", args[1] if len(args) > 1 else None)


# django-redis clients by (server, params): see ResilientRedisCache.client.
_clients: dict[tuple[str, str], DefaultClient] = {}
_clients_lock = threading.Lock()


class ResilientRedisCache(RedisCache[DefaultClient]):
    """django-redis whose calls never raise when Redis is unreachable: reads miss (the default),
    writes do nothing, `add` does not claim. OPTIONS["FLUSH_AFTER_OUTAGE"]: key patterns deleted
    when Redis answers again after this process saw it fail."""

    _client: DefaultClient | None

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS", {}))
        self._flush_after_outage: list[str] = list(options.pop("FLUSH_AFTER_OUTAGE", []))
        # Errors must reach the guards below, not be swallowed by django-redis.
        options["IGNORE_EXCEPTIONS"] = False
        super().__init__(server, {**params, "OPTIONS": options})
        self.breaker = breaker_for(str(server))

    @property
    def client(self) -> DefaultClient:
        """django-redis's client, one per process and configuration rather than one per cache
        object. Django makes a cache object per thread, and under ASGI each request's sync code
        runs in a thread of its own, so django-redis built a `DefaultClient` and a `redis.Redis`
        for every request (the connection pool was already shared). Both are thread-safe:
        `redis.Redis` takes a pooled connection per command. Measured (bench/PROFILES.md,
        fifteenth pass): a request's first cache call took 0.43 ms on a new cache object and
        0.16 ms on one that had its client."""
        if self._client is None:
            key = (str(self._server), repr(self._params))
            with _clients_lock:
                shared = _clients.get(key)
                if shared is None:
                    shared = _clients[key] = self._client_cls(self._server, self._params, self)
            self._client = shared
        return self._client

    def _after_outage(self) -> None:
        for pattern in self._flush_after_outage:
            try:
                RedisCache.delete_pattern(self, pattern)
            except REDIS_ERRORS as error:
                self.breaker.failed(error)
                return

    get = _guarded("get", _default)
    set = _guarded("set", _false)
    add = _guarded("add", _false)
    touch = _guarded("touch", _false)
    delete = _guarded("delete", _false)
    get_many = _guarded("get_many", _empty_dict)
    set_many = _guarded("set_many", _empty_list)
    delete_many = _guarded("delete_many", _none)
    has_key = _guarded("has_key", _false)
    incr = _guarded("incr", _none)
    decr = _guarded("decr", _none)
    clear = _guarded("clear", _none)
    ttl = _guarded("ttl", _none)
    expire = _guarded("expire", _false)
    persist = _guarded("persist", _false)
    keys = _guarded("keys", _empty_list)
    delete_pattern = _guarded("delete_pattern", _none)


# --- Database ---------------------------------------------------------------------------------


def _database_down(exception: BaseException | None) -> bool:
    return isinstance(exception, DATABASE_ERRORS)


def _flag_request(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """A database error raised in a middleware (sessions, auth) never reaches process_exception;
    Django turns it into a 500 and sends this signal first, so the 500 can be replaced."""
    if request is not None and _database_down(sys.exc_info()[1]):
        request._database_unavailable = True  # type: ignore[attr-defined]


got_request_exception.connect(_flag_request, dispatch_uid="resilience-database-unavailable")


def service_unavailable(request: HttpRequest) -> HttpResponse:
    request_id = getattr(request, "request_id", None)
    detail = "The service is temporarily unavailable; retry shortly."
    if request.path.rstrip("/") == GRAPHQL_PATH:
        extensions: dict[str, Any] = {"code": SERVICE_UNAVAILABLE}
        if request_id:
            extensions["requestId"] = request_id
        body: dict[str, Any] = {"errors": [{"message": detail, "extensions": extensions}]}
        content_type = "application/json"
    else:
        body = {
            "type": "urn:taskhub:problem:service_unavailable",
            "title": "Service unavailable",
            "status": 503,
            "detail": detail,
            "code": "service_unavailable",
            "errors": {},
        }
        content_type = "application/problem+json"
    response = HttpResponse(orjson.dumps(body), status=503, content_type=content_type)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware(ResponseMiddleware):
    """Goes after ApiProblemMiddleware (its process_exception runs first) and before the session
    and authentication middleware (so their database errors are covered too)."""

    def process(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if response.status_code >= 500 and getattr(request, "_database_unavailable", False):
            return service_unavailable(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not _database_down(exception):
            return None
        logger.error(
            "database unavailable",
            extra={"path": request.path, "method": request.method, "error": repr(exception)},
        )
        return service_unavailable(request)
