"""Realtime on the real services: two server processes sharing PostgreSQL and the Redis channel
layer, and a crowd of sockets connecting at once (the redis-py pool and socket-timeout pitfalls of
channels-redis 4.3 + redis-py 8)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import websockets
from django.db import connection

from tasks.models import Role
from tests.factories import make_project, make_task, make_token
from tests.live import ProcessServer

from .realtime_client import ack_and_event, receive, receive_event, send, subscribe

pytestmark = [pytest.mark.e2e, pytest.mark.redis, pytest.mark.postgres]


def database_url_of_test_db() -> str:
    """DATABASE_URL of the test database the test process writes to."""
    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    return f"{base}/{connection.settings_dict['NAME']}"


@contextlib.contextmanager
def two_processes(**env: str) -> Iterator[tuple[ProcessServer, ProcessServer]]:
    """Two server processes on the test database and Redis, with more `env`."""
    env = {"DATABASE_URL": database_url_of_test_db(), "REDIS_URL": os.environ["REDIS_URL"], **env}
    servers = [ProcessServer(env), ProcessServer(env)]
    try:
        for server in servers:
            server.start()
        yield servers[0], servers[1]
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def two_servers(transactional_db: Any) -> Iterator[tuple[ProcessServer, ProcessServer]]:
    with two_processes() as servers:
        yield servers


def test_a_change_through_one_process_reaches_a_subscriber_on_the_other(
    two_servers, project, owner, member
):
    first, second = two_servers
    task = make_task(project, owner, title="Shared")
    token = make_token(member)
    with subscribe(first, f"/ws/projects/{project.pk}/", token) as watcher:
        with subscribe(second, f"/ws/tasks/{task.pk}/", token) as writer:
            send(writer, {"type": "comment.create", "body": "across", "requestId": "x"})
            ack, _ = ack_and_event(writer)
        event = receive_event(watcher, timeout=5)
    assert ack["type"] == "ack"
    assert event["type"] == "comment.created"
    assert event["data"]["body"] == "across"


def test_a_crowd_connecting_at_once_all_get_the_event(two_servers, project, owner, member):
    """200 sockets connect concurrently to one process, 150 of them on projects of their own, so
    the process joins 151 channel-layer groups at once: more than redis-py's default pool of 100
    connections. Every socket gets live, and the 50 on the shared project all receive a change
    made through the other process."""
    first, second = two_servers
    task = make_task(project, owner, title="Crowd")
    token = make_token(member)
    own_projects = [
        make_project(owner, name=f"Crowd {n}", members={member: Role.MEMBER}) for n in range(150)
    ]
    paths = [f"/ws/projects/{p.pk}/" for p in own_projects]
    shared = [f"/ws/projects/{project.pk}/", f"/ws/tasks/{task.pk}/"] * 25
    ready = asyncio.Semaphore(0)

    async def one(path: str, wait_for_event: bool) -> dict[str, Any] | None:
        async with websockets.connect(
            first.ws_url + path,
            additional_headers={"Authorization": f"Bearer {token}"},
            open_timeout=60,
        ) as ws:
            assert json.loads(await asyncio.wait_for(ws.recv(), 60))["type"] == "ready"
            ready.release()
            if not wait_for_event:
                await asyncio.wait_for(done.wait(), 60)
                return None
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if message["type"] == "event":
                    return message["event"]  # type: ignore[no-any-return]

    done = asyncio.Event()

    async def scenario() -> list[dict[str, Any] | None]:
        sockets = [one(path, False) for path in paths] + [one(path, True) for path in shared]
        waiting = [asyncio.ensure_future(socket) for socket in sockets]
        for _ in range(len(waiting)):
            await asyncio.wait_for(ready.acquire(), 60)
        await asyncio.to_thread(comment_through, second, task, token)
        received = await asyncio.gather(*waiting[len(paths) :])
        done.set()
        await asyncio.gather(*waiting[: len(paths)])
        return received

    events = asyncio.run(scenario())
    assert len(events) == 50
    assert {event["data"]["body"] for event in events if event} == {"to everyone"}
    assert all(events)


def comment_through(server: ProcessServer, task: Any, token: str) -> None:
    with subscribe(server, f"/ws/tasks/{task.pk}/", token) as writer:
        send(writer, {"type": "comment.create", "body": "to everyone", "requestId": "c"})
        while receive(writer)["type"] != "ack":
            pass
