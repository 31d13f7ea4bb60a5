"""A client that tracks `seq` across a Redis restart (a redis-server of the test's own, never the
shared one) sees no gap: its socket is closed with a retryable code, the events committed during
the outage are in the log, and its resume (`afterSeq`) is `recovered` and fills the gap in order.

Needs PostgreSQL too: the live server is a separate process sharing the test's database."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.realtime_client import close_code, drain_quiet, receive_event, send
from tests.factories import make_token
from tests.live import ProcessServer

from .infra import RedisProcess, bearer, client, env_for, shared_database_url, wait_until
from .test_redis_outage import RETRYABLE_CLOSE, reconnect

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def own_redis() -> Any:
    server = RedisProcess().start()
    yield server
    server.stop()


def test_a_client_tracking_seq_sees_no_gap_across_a_redis_restart(
    transactional_db, own_redis, project, member
):
    token = make_token(member)
    env = env_for(
        DATABASE_URL=shared_database_url(), REDIS_URL=own_redis.url, REDIS_RETRY_SECONDS="0.5"
    )
    server = ProcessServer(env).start()
    path = f"/ws/projects/{project.pk}/"
    seen: list[int] = []

    def create(http: Any, title: str) -> None:
        body = {"project": project.pk, "title": title}
        assert http.post("/api/v1/tasks/", json=body, headers=bearer(token)).status_code == 201

    try:
        with client(server) as http:
            ws = reconnect(server, path, token)
            create(http, "before")
            seen.append(receive_event(ws)["seq"])

            own_redis.stop()
            assert close_code(ws, timeout=30) in RETRYABLE_CLOSE
            for n in range(3):
                create(http, f"during {n}")
            own_redis.start()  # same port, empty
            wait_until(lambda: http.get("/readyz").status_code == 200, timeout=30)

            ws = reconnect(server, path, token)
            send(ws, {"type": "resume", "afterSeq": seen[-1]})
            resumed, *replayed = drain_quiet(ws)
            assert resumed == {"type": "resumed", "recovered": True, "fromSeq": seen[-1]}
            seen += [m["event"]["seq"] for m in replayed]
            create(http, "after")
            seen.append(receive_event(ws)["seq"])
            ws.close()
    finally:
        server.stop()
    # Every number once, none skipped: the client's own check that its stream is complete.
    assert seen == list(range(seen[0], seen[0] + 5))
