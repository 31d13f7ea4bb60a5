"""Password-login lockout (OWASP API2, brute force) with django-axes.

Axes counts failed logins per username and client address (`AXES_LOCKOUT_PARAMETERS`) in the
default cache and refuses the pair for `AXES_COOLOFF_TIME` once `AXES_FAILURE_LIMIT` is reached,
the right password included. The client address is REMOTE_ADDR: uvicorn's proxy headers set it
from X-Forwarded-For only for peers in FORWARDED_ALLOW_IPS, so a client cannot rotate it.
"""

from __future__ import annotations

import math
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off, get_failure_limit
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


class LockoutBackend(AxesStandaloneBackend):
    """Axes' backend, except for `authenticate()` calls without an HTTP request (management
    commands, seed_demo's password check): there is no client to lock out, and axes would raise
    AxesBackendRequestParameterRequired instead of letting the next backend answer."""

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)  # type: ignore[no-any-return]


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any = None
) -> HttpResponse:
    """The page a locked-out login gets (AXES_LOCKOUT_CALLABLE): 429, Retry-After, and a sentence
    saying what happened and when to try again; the same for /accounts/login/ and /admin/login/."""
    cool_off = get_cool_off(request)
    seconds = max(1, math.ceil(cool_off.total_seconds())) if cool_off else 3600
    response = render(
        request,
        "registration/locked_out.html",
        {
            "failure_limit": get_failure_limit(request, credentials),
            "retry_minutes": max(1, math.ceil(seconds / 60)),
        },
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response
