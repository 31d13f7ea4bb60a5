"""SQL queries per request, counted in-process with the same settings and database."""

from __future__ import annotations

import json

from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

Request = tuple[str, str, object | None, dict[str, str]]


def _send(client: Client, method: str, path: str, body: object | None, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    if method == "POST":
        return client.post(
            path, data=json.dumps(body), content_type="application/json", headers=headers
        )
    return client.get(path, headers=headers)


def count_queries(requests: list[Request], *, bust_cache: bool = False) -> str:
    """'baseline N / candidate M' queries for one request each, after a warm-up request."""
    client = Client()
    counts = []
    for method, path, body, headers in requests:
        _send(client, method, path, body, headers)  # warm-up (and fills the cache for hits)
        if bust_cache:
            cache.clear()
        with CaptureQueriesContext(connection) as captured:
            response = _send(client, method, path, body, headers)
        if response.status_code != 200:
            raise RuntimeError(f"{method} {path} answered {response.status_code}")
        counts.append(len(captured))
    return " / ".join(str(c) for c in counts)
