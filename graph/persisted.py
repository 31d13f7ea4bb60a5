"""Automatic persisted queries (Apollo's protocol): a client sends only
`extensions.persistedQuery.sha256Hash`; on PERSISTED_QUERY_NOT_FOUND it sends the query along,
which is checked against the hash and stored in the shared cache."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from django.core.cache import cache

from .errors import PERSISTED_QUERY_NOT_FOUND, bad_user_input, coded

TTL_SECONDS = 7 * 24 * 3600
MAX_QUERY_LENGTH = 100_000
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class PersistedQueryError(Exception):
    def __init__(self, error: Any, status: int) -> None:
        super().__init__(error.message)
        self.error = error
        self.status = status


def _key(digest: str) -> str:
    return f"graphql-apq:{digest}"


def resolve_query(query: object, extensions: object) -> tuple[object, str | None]:
    """The query text to run (the given one, or the stored one for the hash), and the hash to
    `remember` once the request is known to be authenticated and valid."""
    if not isinstance(extensions, dict) or "persistedQuery" not in extensions:
        return query, None
    persisted = extensions["persistedQuery"]
    digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
    if not isinstance(persisted, dict) or persisted.get("version", 1) != 1:
        raise PersistedQueryError(bad_user_input("Unsupported persisted query version."), 400)
    if not isinstance(digest, str) or not _SHA256.match(digest.lower()):
        raise PersistedQueryError(bad_user_input("persistedQuery.sha256Hash is invalid."), 400)
    digest = digest.lower()
    if query is None:
        stored = cache.get(_key(digest))
        if stored is None:
            raise PersistedQueryError(
                coded("PersistedQueryNotFound", PERSISTED_QUERY_NOT_FOUND), 200
            )
        return stored, None
    if not isinstance(query, str):
        return query, None
    if hashlib.sha256(query.encode("utf-8")).hexdigest() != digest:
        raise PersistedQueryError(bad_user_input("provided sha does not match query"), 400)
    return query, digest


def remember(digest: str, query: str) -> None:
    if len(query) <= MAX_QUERY_LENGTH:
        cache.set(_key(digest), query, timeout=TTL_SECONDS)
