"""The presence store on both backends: entries expire after their lifetime unless refreshed,
removal is immediate, lists merge a user's connections per task."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings

from tasks.presence import (
    MemoryPresenceStore,
    Presence,
    PresenceStore,
    RedisPresenceStore,
    entry_lifetime,
    heartbeat_seconds,
    viewers,
)


def presence(connection: str, user_id: int = 1, **fields: Any) -> Presence:
    values: dict[str, Any] = {
        "connection": connection,
        "user_id": user_id,
        "username": f"user{user_id}",
        "display_name": f"User {user_id}",
        "task_id": None,
        "editing": False,
        "since": time.time(),
        **fields,
    }
    return Presence(**values)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: Any, settings: Any) -> Iterator[PresenceStore]:
    settings.PRESENCE_TTL_SECONDS = 0.6  # entries live 0.4 s
    if request.param == "memory":
        found: PresenceStore = MemoryPresenceStore()
    else:
        found = RedisPresenceStore(django_settings.REDIS_URL, "test-presence-store")
    found.clear()
    yield found
    found.clear()


def wait_until(condition: Any, timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_the_lifetimes_follow_the_ttl(settings):
    settings.PRESENCE_TTL_SECONDS = 30
    assert heartbeat_seconds() == 10
    assert entry_lifetime() == 20
    # Two heartbeats of a dead process cover the lifetime; a third is the watchers' look.
    assert entry_lifetime() + heartbeat_seconds() == settings.PRESENCE_TTL_SECONDS


def test_put_lists_and_remove(store):
    first, second = presence("a", 1), presence("b", 2, task_id=7, editing=True)
    store.put([(1, first), (1, second), (2, presence("c", 3))])
    assert store.entries(1) == [first, second]
    store.remove(1, "a")
    assert store.entries(1) == [second]
    assert [p.connection for p in store.entries(2)] == ["c"]


def test_an_entry_not_refreshed_expires_and_a_refreshed_one_stays(store):
    store.put([(1, presence("dead")), (1, presence("alive"))])
    start = time.monotonic()

    def only_alive_left() -> bool:
        store.put([(1, presence("alive"))])  # the heartbeat of the living process
        return [p.connection for p in store.entries(1)] == ["alive"]

    assert wait_until(only_alive_left)
    assert time.monotonic() - start >= entry_lifetime() - 0.05


def test_an_update_replaces_the_entry(store):
    store.put([(1, presence("a", task_id=None))])
    store.put([(1, presence("a", task_id=5, editing=True))])
    (entry,) = store.entries(1)
    assert (entry.task_id, entry.editing) == (5, True)


def test_viewers_merge_a_users_connections_per_task():
    board = presence("a", 1, since=10.0)
    editing = presence("b", 1, task_id=4, editing=True, since=12.0)
    reading = presence("c", 1, task_id=4, since=11.0)
    other = presence("d", 2, since=9.0)
    listed = viewers([board, editing, reading, other])
    assert [(v["user"]["pk"], v["taskId"], v["editing"]) for v in listed] == [
        (2, None, False),
        (1, None, False),
        (1, listed[2]["taskId"], True),
    ]
    assert listed[2]["since"].startswith("1970-01-01T00:00:11")
    assert listed[0]["user"] == {
        "id": "VXNlcjoy",
        "pk": 2,
        "username": "user2",
        "displayName": "User 2",
    }
