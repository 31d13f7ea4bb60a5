"""Request ids, one JSON access-log line per request, and Prometheus metrics.

The middleware is both sync- and async-capable so that async views (and the ASGI handler) never pay
a thread hop for it.
"""

from __future__ import annotations

import contextvars
import logging
import os
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from project.metrics_access import metrics_refusal

access_logger = logging.getLogger("access")

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)

HTTP_REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests by route, method and status",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency by route",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
HTTP_THROTTLED = Counter("http_throttled_total", "Requests refused by rate limiting", ["route"])
WEBSOCKET_CONNECTIONS = Gauge(
    "websocket_connections", "Open WebSocket connections", ["kind"], multiprocess_mode="livesum"
)
EVENTS_PUBLISHED = Counter("events_published_total", "Domain events published", ["type"])
JOBS = Counter("background_jobs_total", "Background jobs run", ["job", "outcome"])


def incoming_request_id(value: str | None) -> str:
    """Echo a sane incoming id (so a proxy's id follows the request); otherwise make one."""
    if value and _SANE_REQUEST_ID.match(value):
        return value
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return request_id_var.get()


class RequestIdLogFilter(logging.Filter):
    """Adds the current request id to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None and match.route:
        return "/" + str(match.route).lstrip("^").rstrip("$")
    return "unmatched"


def _user_id(request: HttpRequest) -> int | None:
    """The user id if authentication already ran; never loads a session just to log it."""
    user = request.__dict__.get("user")
    if user is None:
        return None
    if isinstance(user, SimpleLazyObject) and user._wrapped is empty:
        return None
    return user.pk if user.is_authenticated else None


class ObservabilityMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(
        self, get_response: Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]]
    ) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self.__acall__(request)
        started, token = self._start(request)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        return self._finish(request, response, started)  # type: ignore[arg-type]

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        started, token = self._start(request)
        try:
            response = await self.get_response(request)  # type: ignore[misc]
        finally:
            request_id_var.reset(token)
        return self._finish(request, response, started)

    def _start(self, request: HttpRequest) -> tuple[float, contextvars.Token[str | None]]:
        request_id = incoming_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id  # type: ignore[attr-defined]
        return time.perf_counter(), request_id_var.set(request_id)

    def _finish(self, request: HttpRequest, response: HttpResponse, started: float) -> HttpResponse:
        duration = time.perf_counter() - started
        response[REQUEST_ID_HEADER] = request.request_id  # type: ignore[attr-defined]
        route = _route(request)
        HTTP_REQUESTS.labels(route, request.method, str(response.status_code)).inc()
        HTTP_LATENCY.labels(route, request.method).observe(duration)
        if response.status_code == 429:
            HTTP_THROTTLED.labels(route).inc()
        access_logger.info(
            "request",
            extra={
                "method": request.method,
                "route": route,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round(duration * 1000, 2),
                "user_id": _user_id(request),
                "request_id": request.request_id,  # type: ignore[attr-defined]
            },
        )
        return response


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format; aggregates across worker processes when
    PROMETHEUS_MULTIPROC_DIR is set (as `make serve` does). Who may read it: metrics_access."""
    refusal = metrics_refusal(request)
    if refusal is not None:
        return refusal
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
