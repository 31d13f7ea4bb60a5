"""Liveness and readiness probes.

`/readyz` is 503 when a dependency a request needs (database, cache, channel layer) is away. It
also reports the background jobs (`jobs`: project.job_queue) without changing the status: with
no worker, uploads and everything else still work (the sha256 is computed at upload), so taking
the web process out of the load balancer would turn a background stall into an outage.
"""

from __future__ import annotations

import logging
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse

from .job_queue import job_status

logger = logging.getLogger(__name__)


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_cache() -> None:
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=5)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return what was written")
    cache.delete(key)


def _check_channel_layer() -> None:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    async_to_sync(layer.group_send)("readyz", {"type": "readyz.ping"})


def readyz(request: HttpRequest) -> JsonResponse:
    checks = {
        "database": _check_database,
        "cache": _check_cache,
        "channel_layer": _check_channel_layer,
    }
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - a probe reports every failure, whatever it is
            logger.warning("readiness check failed", extra={"check": name, "error": repr(exc)})
            results[name] = "unavailable"
    ready = all(value == "ok" for value in results.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": results, "jobs": job_status()},
        status=200 if ready else 503,
    )
