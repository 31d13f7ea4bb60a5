"""Idempotency keys for POSTs and GraphQL mutations (shared by both transports).

The same user, key and request fingerprint within 24 h replays the first response; the same key
with a different fingerprint is a mismatch; a duplicate while the first is still running is
in flight. Records live in the shared cache, keyed per user, so one user's key never replays
another's response and every server process sees the same records.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

TTL_SECONDS = 24 * 3600
IN_FLIGHT_SECONDS = 60
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Begin:
    """What to do with a request carrying an Idempotency-Key."""

    outcome: str  # "started" | "replay" | "mismatch" | "in_flight"
    response: dict[str, Any] | None = None


def fingerprint(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\x00")
    return digest.hexdigest()


def valid_key(key: str | None) -> bool:
    return key is not None and 0 < len(key) <= MAX_KEY_LENGTH and key.isprintable()


def _cache_key(scope: str, user_key: str, key: str) -> str:
    hashed = hashlib.sha256(key.encode()).hexdigest()
    return f"idempotency:{scope}:{user_key}:{hashed}"


def begin(*, scope: str, user_key: str, key: str, request_fingerprint: str) -> Begin:
    """Claims the key atomically (cache.add) or reports what a previous request left behind."""
    cache_key = _cache_key(scope, user_key, key)
    claim = {"state": "in_flight", "fingerprint": request_fingerprint}
    if cache.add(cache_key, claim, timeout=IN_FLIGHT_SECONDS):
        return Begin("started")
    record = cache.get(cache_key)
    if record is None:  # expired between add and get: claim again
        if cache.add(cache_key, claim, timeout=IN_FLIGHT_SECONDS):
            return Begin("started")
        record = cache.get(cache_key)
        if record is None:
            # The cache neither claims nor keeps anything (Redis is down; the backend degrades
            # to misses): run the request unprotected rather than refuse every write.
            return Begin("started")
    if record["fingerprint"] != request_fingerprint:
        return Begin("mismatch")
    if record["state"] == "in_flight":
        return Begin("in_flight")
    return Begin("replay", record["response"])


def complete(
    *, scope: str, user_key: str, key: str, request_fingerprint: str, response: dict[str, Any]
) -> None:
    cache.set(
        _cache_key(scope, user_key, key),
        {"state": "done", "fingerprint": request_fingerprint, "response": response},
        timeout=TTL_SECONDS,
    )


def abandon(*, scope: str, user_key: str, key: str) -> None:
    """Releases the claim of a request that failed before producing a response worth replaying."""
    cache.delete(_cache_key(scope, user_key, key))
