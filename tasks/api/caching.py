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
from rest_framework.request import Request

from tasks.events import generation_key
from tasks.models import Membership

DEFAULT_SECONDS = 60


def enabled() -> bool:
    return int(getattr(settings, "API_CACHE_SECONDS", DEFAULT_SECONDS)) > 0


def _generations(user_id: int) -> list[tuple[int, int]]:
    project_ids = sorted(
        Membership.objects.filter(user_id=user_id).values_list("project_id", flat=True)
    )
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


def put(key: str | None, data: Any, headers: dict[str, str]) -> None:
    if key is None:
        return
    seconds = int(getattr(settings, "API_CACHE_SECONDS", DEFAULT_SECONDS))
    # Plain JSON-safe values only: no serializer objects pickled into the cache.
    plain = json.loads(json.dumps(data, default=str))
    cache.set(key, {"data": plain, "headers": headers}, timeout=seconds)
