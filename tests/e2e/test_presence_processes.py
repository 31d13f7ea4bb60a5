"""Presence across two server processes sharing PostgreSQL and Redis: viewers connected to one
appear on the other, and the viewers of a SIGKILLed process (which cannot say goodbye) drop out
of the survivor's lists within `PRESENCE_TTL_SECONDS`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from graphql_relay import to_global_id

from tasks.presence import get_store
from tests.factories import make_task, make_token
from tests.live import ProcessServer

from .realtime_client import receive_until, send, subscribe
from .test_realtime_scale import two_processes

pytestmark = [pytest.mark.e2e, pytest.mark.redis, pytest.mark.postgres]

TTL = 4.0


@pytest.fixture
def two_servers(transactional_db: Any) -> Iterator[tuple[ProcessServer, ProcessServer]]:
    get_store().clear()
    try:
        with two_processes(
            PRESENCE_TTL_SECONDS=str(TTL), PRESENCE_THROTTLE_SECONDS="0.2"
        ) as servers:
            yield servers
    finally:
        get_store().clear()


def who(message: dict[str, Any]) -> set[tuple[str, str | None]]:
    return {(v["user"]["username"], v["taskId"]) for v in message["viewers"]}


def presence_is(expected: set[tuple[str, str | None]]) -> Any:
    return lambda m: m["type"] == "presence" and who(m) == expected


def test_viewers_on_each_process_appear_on_the_other_and_vanish_when_one_is_killed(
    two_servers, project, owner, admin, member
):
    first, second = two_servers
    task = make_task(project, owner, title="Shared")
    task_id = to_global_id("Task", task.pk)
    everyone = {("olivia", None), ("adam", None), ("mia", task_id)}
    with subscribe(first, f"/ws/projects/{project.pk}/", make_token(owner)) as survivor:
        send(survivor, {"type": "presence"})
        with (
            subscribe(second, f"/ws/projects/{project.pk}/", make_token(admin)) as doomed,
            subscribe(second, f"/ws/tasks/{task.pk}/", make_token(member)),
        ):
            send(doomed, {"type": "presence"})
            # Each process shows the viewers of the other.
            receive_until(survivor, presence_is(everyone))
            receive_until(doomed, presence_is(everyone))
            assert second.process is not None
            second.process.kill()  # SIGKILL: no close, no cleanup
            second.process.wait(timeout=10)
            killed_at = time.monotonic()
            receive_until(survivor, presence_is({("olivia", None)}), timeout=TTL + 5)
            gone_after = time.monotonic() - killed_at
    print(f"viewers of the killed process gone after {gone_after:.2f} s (TTL {TTL} s)")
    assert gone_after < TTL + 1  # the TTL, plus a second for a loaded machine
