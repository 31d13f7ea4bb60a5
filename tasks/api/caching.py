"""Server-side cache of task list and detail responses, in the shared cache.

The key holds the user, the API version, the full path with its query string, and the cache
generation of every project the user belongs to. Every committed Event bumps its project's
generation (tasks.outbox.after_commit), so a read after a write never hits a stale entry; a member
who is removed drops that project from their key, so they never see its cached data either. The
generations are read before the database is, so a racing write can only make an entry unused,
never wrong."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connections, router
from rest_framework.request import Request
from rest_framework.response import Response

from tasks.events import generation_key
from tasks.models import Membership

DEFAULT_SECONDS = 60


def enabled() -> bool:
    return int(getattr(settings, "API_CACHE_SECONDS", DEFAULT_SECONDS)) > 0


def _member_project_ids(user_id: int) -> list[int]:
    """The user's project ids, in order. Raw SQL on the ORM's own connection, not a queryset:
    building and compiling `Membership.objects.filter(...).values_list(...)` (with the model's
    default ordering) was 0.6 ms of a 3.3 ms cache hit measured in-process with cProfile
    (bench/PROFILES.md), against 0.1 ms for running the SQL. Every cache hit runs it."""
    meta = Membership._meta
    connection = connections[router.db_for_read(Membership)]
    quote = connection.ops.quote_name
    project = quote(meta.get_field("project").column)
    user = quote(meta.get_field("user").column)
    sql = f"SELECT {project} FROM {quote(meta.db_table)} WHERE {user} = %s ORDER BY {project}"  # noqa: S608 - names from the model
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id])
        return [int(row[0]) for row in cursor.fetchall()]


def _generations(user_id: int) -> list[tuple[int, int]]:
    project_ids = _member_project_ids(user_id)
    stored = cache.get_many([generation_key(pk) for pk in project_ids])
    return [(pk, int(stored.get(generation_key(pk)) or 0)) for pk in project_ids]


def response_key(request: Request) -> str | None:
    if not enabled() or not request.user.is_authenticated:
        return None
    parts = [
        request.user.pk,
        request.version,
        request.build_absolute_uri(),
        request.accepted_media_type,
        _generations(int(request.user.pk)),
    ]
    digest = hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()
    return f"api-response:{digest}"


def get(key: str | None) -> dict[str, Any] | None:
    if key is None:
        return None
    entry = cache.get(key)
    return entry if isinstance(entry, dict) else None


def put_body(key: str | None, body: bytes, headers: dict[str, str]) -> None:
    """A response already rendered (JSON bytes): a hit sends these bytes as they are."""
    if key is None:
        return
    seconds = int(getattr(settings, "API_CACHE_SECONDS", DEFAULT_SECONDS))
    cache.set(key, {"body": body, "headers": headers}, timeout=seconds)


def put(key: str | None, data: Any, headers: dict[str, str]) -> None:
    if key is None:
        return
    seconds = int(getattr(settings, "API_CACHE_SECONDS", DEFAULT_SECONDS))
    # Plain JSON-safe values only: no serializer objects pickled into the cache.
    plain = json.loads(json.dumps(data, default=str))
    cache.set(key, {"data": plain, "headers": headers}, timeout=seconds)


class PrerenderedResponse(Response):
    """A JSON body rendered once, by the view's own renderer, when the page was built: sent as is
    on that request and on every cache hit. DRF's normal path keeps `data` and renders it in
    `rendered_content`; a hit through that path deserialised, re-serialised and re-encoded the
    same page every time (the JSON round trip in `put` plus the renderer, about 15% of a hit's
    CPU in-process, bench/PROFILES.md). `data` is still readable (parsed from the body)."""

    def __init__(self, body: bytes, headers: dict[str, str]) -> None:
        self._body = body
        super().__init__(None, headers=headers)

    @property
    def data(self) -> Any:
        return json.loads(self._body)

    @data.setter
    def data(self, value: Any) -> None:
        pass  # DRF's __init__ assigns None: the body is the data

    @property
    def rendered_content(self) -> bytes:  # type: ignore[override]
        renderer = self.accepted_renderer
        charset = renderer.charset
        media_type = renderer.media_type
        self["Content-Type"] = f"{media_type}; charset={charset}" if charset else media_type
        return self._body
