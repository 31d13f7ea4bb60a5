"""Brute-force protection for client secrets at the token, revocation and introspection
endpoints (OWASP API2).

django-axes covers password logins through Django's `user_login_failed` signal; DOT's client
authentication never sends it, and DOT has no throttle of its own. So a failed client
authentication (401 `invalid_client`) is counted per client id and client address in the default
cache (Redis when configured: shared by every process). After OAUTH_CLIENT_FAILURE_LIMIT failures
the pair is refused for OAUTH_CLIENT_LOCKOUT_SECONDS, the right secret included: 429 with
Retry-After and an OAuth error body."""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import unquote

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponseBase, JsonResponse

KEY_PREFIX = "oauth-client-failures"


def _client_id(request: HttpRequest) -> str | None:
    authorization = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() == "basic" and encoded:
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return unquote(decoded.partition(":")[0]) or None
    value = request.POST.get("client_id")
    return value or None


def _keys(request: HttpRequest) -> tuple[str, str] | None:
    client_id = _client_id(request)
    if client_id is None:
        return None
    ident = f"{client_id}\x00{request.META.get('REMOTE_ADDR', '')}"
    digest = hashlib.sha256(ident.encode("utf-8", "replace")).hexdigest()
    return f"{KEY_PREFIX}:count:{digest}", f"{KEY_PREFIX}:locked:{digest}"


def _locked_for(lock_key: str) -> float:
    until = cache.get(lock_key)
    return max(0.0, float(until) - time.time()) if until else 0.0


def _record_failure(count_key: str, lock_key: str) -> None:
    window = int(settings.OAUTH_CLIENT_LOCKOUT_SECONDS)
    cache.add(count_key, 0, timeout=window)
    try:
        failures = cache.incr(count_key)
    except ValueError:  # expired between add and incr
        cache.set(count_key, 1, timeout=window)
        failures = 1
    if failures is not None and failures >= settings.OAUTH_CLIENT_FAILURE_LIMIT:
        cache.set(lock_key, time.time() + window, timeout=window)
        cache.delete(count_key)


def _refused(wait: float) -> JsonResponse:
    response = JsonResponse(
        {
            "error": "invalid_client",
            "error_description": "Too many failed client authentications; retry later.",
        },
        status=429,
    )
    response["Retry-After"] = str(max(1, math.ceil(wait)))
    response["Cache-Control"] = "no-store"
    return response


def throttle_client_failures(view: Callable[..., HttpResponseBase]) -> Callable[..., Any]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        keys = _keys(request) if request.method == "POST" else None
        if keys is None:
            return view(request, *args, **kwargs)
        count_key, lock_key = keys
        wait = _locked_for(lock_key)
        if wait > 0:
            return _refused(wait)
        response = view(request, *args, **kwargs)
        if response.status_code == 401:
            _record_failure(count_key, lock_key)
        return response

    return wrapped
