"""Two server processes on the same PostgreSQL database and Redis behave as one service: the
throttle limit holds across both, a write through one is read fresh through the other (the shared
response cache is invalidated), and a subscriber on one sees a change made through the other."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.realtime_client import receive_event, subscribe
from tests.factories import make_task, make_token
from tests.live import ProcessServer

from .infra import bearer, client, env_for, running, shared_database_url

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

USER_LIMIT = 6


@contextlib.contextmanager
def two_processes(**env: str) -> Iterator[tuple[ProcessServer, ProcessServer]]:
    shared = env_for(DATABASE_URL=shared_database_url(), REDIS_URL=os.environ["REDIS_URL"], **env)
    first, second = ProcessServer(shared), ProcessServer(shared)
    with running(first, second):
        yield first, second


@pytest.fixture(scope="module")
def _pair(django_db_setup: Any) -> Iterator[tuple[ProcessServer, ProcessServer]]:
    with two_processes() as servers:
        yield servers


@pytest.fixture
def pair(
    _pair: tuple[ProcessServer, ProcessServer], transactional_db: Any
) -> tuple[ProcessServer, ProcessServer]:
    return _pair


def test_the_user_rate_limit_is_shared_by_both_processes(transactional_db, member):
    token = make_token(member)
    with (
        two_processes(THROTTLE_USER=f"{USER_LIMIT}/min") as pair,
        client(pair[0]) as a,
        client(pair[1]) as b,
    ):
        answers = [
            (a if n % 2 == 0 else b).get("/api/v1/me/", headers=bearer(token))
            for n in range(USER_LIMIT + 2)
        ]
    statuses = [answer.status_code for answer in answers]
    # Each process alone saw only half the requests: only a shared counter refuses these.
    assert statuses == [200] * USER_LIMIT + [429, 429]
    for refused in answers[USER_LIMIT:]:
        assert int(refused.headers["Retry-After"]) > 0
        assert refused.headers["Content-Type"].startswith("application/problem+json")


def test_a_write_through_one_process_is_read_fresh_through_the_other(pair, project, owner, member):
    task = make_task(project, owner, title="Old title")
    token = make_token(member)
    detail = f"/api/v1/tasks/{task.pk}/"
    listing = f"/api/v1/tasks/?project={project.pk}"
    with client(pair[0]) as a, client(pair[1]) as b:
        for _ in range(2):  # the second read is served from the shared cache
            assert b.get(detail, headers=bearer(token)).json()["title"] == "Old title"
            assert [
                t["title"] for t in b.get(listing, headers=bearer(token)).json()["results"]
            ] == ["Old title"]
        patched = a.patch(detail, json={"title": "New title"}, headers=bearer(token))
        assert patched.status_code == 200, patched.text
        assert b.get(detail, headers=bearer(token)).json()["title"] == "New title"
        titles = [t["title"] for t in b.get(listing, headers=bearer(token)).json()["results"]]
        assert titles == ["New title"]


def test_a_subscriber_on_one_process_sees_a_change_made_through_the_other(pair, project, member):
    token = make_token(member)
    with subscribe(pair[1], f"/ws/projects/{project.pk}/", token) as ws:
        with client(pair[0]) as a:
            created = a.post(
                "/api/v1/tasks/",
                json={"project": project.pk, "title": "Made on A"},
                headers=bearer(token),
            )
        assert created.status_code == 201, created.text
        event = receive_event(ws)
    assert event["type"] == "task.created"
    assert event["data"]["title"] == "Made on A"
    assert event["data"]["pk"] == created.json()["id"]
