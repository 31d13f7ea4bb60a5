"""Rate limits shared by REST and GraphQL: per user, per anonymous IP, and a tighter write scope.
Counters live in the default cache, so every server process enforces the same limit."""

from __future__ import annotations

from typing import Any

from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class AnonThrottle(AnonRateThrottle):
    scope = "anon"


class UserThrottle(UserRateThrottle):
    scope = "user"


class WriteThrottle(SimpleRateThrottle):
    """Applies to changes only: unsafe HTTP methods, and GraphQL mutations (the caller decides)."""

    scope = "write"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        # GraphQL says what it is: a query sent by POST is a read, a mutation is a write.
        is_mutation = getattr(request, "is_graphql_mutation", None)
        if is_mutation is False or (is_mutation is None and request.method in SAFE_METHODS):
            return None
        if getattr(request.user, "is_authenticated", False):
            ident = str(request.user.pk)
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


DEFAULT_THROTTLES = (AnonThrottle, UserThrottle, WriteThrottle)


def throttle_wait(request: Any, *, view: Any = None) -> float | None:
    """Checks every throttle against `request` (a Django or DRF request with `.user` set).
    Returns None when allowed, else the seconds to wait before retrying."""
    waits = []
    for throttle_class in DEFAULT_THROTTLES:
        throttle = throttle_class()
        if not throttle.allow_request(request, view):
            waits.append(throttle.wait() or 1.0)
    return max(waits) if waits else None
