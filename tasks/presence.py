"""Presence: who is viewing a project (and which task), and who is editing one.

A store of entries, one per connection (a socket or a GraphQL subscription), shared by every
server process: in Redis when `REDIS_URL` is set, in this process otherwise (same semantics).
Nothing here knows a transport; realtime/presence.py registers sockets and propagates changes.

Expiry is what makes a dead process's viewers go away: nobody can remove the entries of a
SIGKILLed process, so every entry carries an expiry and a living process refreshes its own
entries every `heartbeat_seconds()` (a third of `PRESENCE_TTL_SECONDS`). An entry lives
`entry_lifetime()` (two thirds of the TTL: one missed heartbeat is tolerated) and the processes
that show presence look again every `heartbeat_seconds()`, so a dead process's viewers vanish
from every list within `PRESENCE_TTL_SECONDS` (2/3 + 1/3) of its last heartbeat.

Redis layout, per project: a sorted set `<prefix>:presence:<project>` of connection ids scored
by expiry (epoch seconds), and a hash `<prefix>:presence:<project>:data` connection id -> JSON.
Both keys expire a TTL after their last write, so an abandoned project leaves nothing behind.
Expiry uses each process's wall clock: the processes of one deployment must keep time (NTP).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
from django.conf import settings
from graphql_relay import to_global_id

logger = logging.getLogger(__name__)


def ttl_seconds() -> float:
    return float(settings.PRESENCE_TTL_SECONDS)


def heartbeat_seconds() -> float:
    """How often a process refreshes its entries and looks for expired ones."""
    return ttl_seconds() / 3


def entry_lifetime() -> float:
    return ttl_seconds() * 2 / 3


@dataclass(frozen=True)
class Presence:
    """One connection's presence in a project. `since`: epoch seconds it arrived."""

    connection: str
    user_id: int
    username: str
    display_name: str
    task_id: int | None
    editing: bool
    since: float

    def encode(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def decode(cls, raw: bytes | str) -> Presence | None:
        try:
            return cls(**orjson.loads(raw))
        except (orjson.JSONDecodeError, TypeError):
            return None  # written by another version: ignored until it expires


class PresenceStore(Protocol):
    def put(self, entries: Iterable[tuple[int, Presence]]) -> None:
        """Adds or refreshes `(project id, presence)` entries, each for `entry_lifetime()`."""

    def remove(self, project_id: int, connection: str) -> None: ...

    def entries(self, project_id: int) -> list[Presence]:
        """The project's live entries (expired ones are dropped), oldest first."""

    def clear(self) -> None:
        """Forgets everything (tests)."""


class MemoryPresenceStore:
    """The single-process store: a dict under a lock (HTTP resolvers read it from threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._projects: dict[int, dict[str, tuple[float, Presence]]] = {}

    def put(self, entries: Iterable[tuple[int, Presence]]) -> None:
        expires = time.time() + entry_lifetime()
        with self._lock:
            for project_id, presence in entries:
                project = self._projects.setdefault(project_id, {})
                project[presence.connection] = (expires, presence)

    def remove(self, project_id: int, connection: str) -> None:
        with self._lock:
            project = self._projects.get(project_id)
            if project is not None:
                project.pop(connection, None)
                if not project:
                    del self._projects[project_id]

    def entries(self, project_id: int) -> list[Presence]:
        now = time.time()
        with self._lock:
            project = self._projects.get(project_id, {})
            for connection in [c for c, (expires, _) in project.items() if expires <= now]:
                del project[connection]
            live = [presence for _, presence in project.values()]
        return sorted(live, key=lambda p: (p.since, p.connection))

    def clear(self) -> None:
        with self._lock:
            self._projects.clear()


class RedisPresenceStore:
    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self.prefix = f"{prefix}:presence"
        self.redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def _keys(self, project_id: int) -> tuple[str, str]:
        key = f"{self.prefix}:{project_id}"
        return key, f"{key}:data"

    def put(self, entries: Iterable[tuple[int, Presence]]) -> None:
        now = time.time()
        expires = now + entry_lifetime()
        keep = max(1, int(ttl_seconds()) + 1)
        pipe = self.redis.pipeline(transaction=False)
        touched: set[int] = set()
        for project_id, presence in entries:
            scores, data = self._keys(project_id)
            pipe.zadd(scores, {presence.connection: expires})
            pipe.hset(data, presence.connection, presence.encode())
            touched.add(project_id)
        for project_id in touched:
            for key in self._keys(project_id):
                pipe.expire(key, keep)
        if touched:
            pipe.execute()

    def remove(self, project_id: int, connection: str) -> None:
        scores, data = self._keys(project_id)
        pipe = self.redis.pipeline(transaction=False)
        pipe.zrem(scores, connection)
        pipe.hdel(data, connection)
        pipe.execute()

    def entries(self, project_id: int) -> list[Presence]:
        scores, data = self._keys(project_id)
        now = time.time()
        pipe = self.redis.pipeline(transaction=True)
        pipe.zrangebyscore(scores, "-inf", now)
        pipe.zrangebyscore(scores, f"({now}", "+inf")
        pipe.hgetall(data)
        expired, live, raw = pipe.execute()
        if expired:
            # Another process may refresh one of these meanwhile; it comes back at its next
            # heartbeat.
            cleanup = self.redis.pipeline(transaction=False)
            cleanup.zrem(scores, *expired)
            cleanup.hdel(data, *expired)
            cleanup.execute()
        found = []
        for connection in live:
            value = raw.get(connection)
            presence = Presence.decode(value) if value is not None else None
            if presence is not None:
                found.append(presence)
        return sorted(found, key=lambda p: (p.since, p.connection))

    def clear(self) -> None:
        keys = list(self.redis.scan_iter(match=f"{self.prefix}:*", count=1000))
        if keys:
            self.redis.delete(*keys)


_store: PresenceStore | None = None
_store_lock = threading.Lock()


def get_store() -> PresenceStore:
    global _store
    with _store_lock:
        if _store is None:
            if settings.REDIS_URL:
                _store = RedisPresenceStore(settings.REDIS_URL, settings.CACHE_KEY_PREFIX)
            else:
                _store = MemoryPresenceStore()
        return _store


def viewers(entries: Iterable[Presence]) -> list[dict[str, Any]]:
    """The public presence list (JSON-safe, ids global as in events; `user` as an event's
    `actor`): one item per user and task viewed, `editing` if
    any of that user's connections there edits, `since` the earliest; ordered by arrival."""
    merged: dict[tuple[int, int | None], dict[str, Any]] = {}
    for presence in entries:
        key = (presence.user_id, presence.task_id)
        item = merged.get(key)
        if item is None:
            merged[key] = {
                "user": {
                    "id": to_global_id("User", presence.user_id),
                    "pk": presence.user_id,
                    "username": presence.username,
                    "displayName": presence.display_name,
                },
                "taskId": to_global_id("Task", presence.task_id) if presence.task_id else None,
                "editing": presence.editing,
                "since": presence.since,
            }
        else:
            item["editing"] = item["editing"] or presence.editing
            item["since"] = min(item["since"], presence.since)
    items = sorted(merged.values(), key=lambda i: (i["since"], i["user"]["pk"]))
    for item in items:
        item["since"] = datetime.fromtimestamp(item["since"], UTC).isoformat()
    return items


def project_viewers(project_id: int) -> list[dict[str, Any]]:
    """Who is present in the project now (see `viewers`). The caller checks membership.
    Best effort, like the cache: with Redis unreachable, nobody (logged), never an error."""
    try:
        entries = get_store().entries(project_id)
    except Exception:
        logger.warning("reading presence failed", exc_info=True)
        return []
    return viewers(entries)
