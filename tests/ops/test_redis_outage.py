"""Redis stopped mid-run (a redis-server of the test's own): writes still commit and answer,
/readyz says 503, live sockets are closed with a retryable code, and after Redis returns a
client that reconnects and resumes with `after` gets every event it missed."""

from __future__ import annotations

from typing import Any

import pytest
from graphql_relay import to_global_id
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tasks.models import Event, Task
from tests.e2e.realtime_client import close_code, receive_event, send, subscribe
from tests.factories import make_task, make_token
from tests.live import ProcessServer

from .infra import RedisProcess, bearer, client, env_for, shared_database_url, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

RETRYABLE_CLOSE = {1011, 1012}
CREATE_TASK = """
mutation Create($input: CreateTaskInput!) {
  createTask(input: $input) { task { id title } errors { field code message } }
}"""


@pytest.fixture
def own_redis() -> Any:
    server = RedisProcess().start()
    yield server
    server.stop()


def reconnect(server: ProcessServer, path: str, token: str) -> Any:
    """Subscribes again, retrying while the layer is still unavailable (bounded)."""

    def attempt() -> Any:
        try:
            return subscribe(server, path, token)
        except (ConnectionClosed, InvalidStatus, AssertionError, TimeoutError, OSError):
            return None

    return wait_until(attempt, timeout=30, interval=0.5)


def test_writes_commit_while_redis_is_down_and_subscribers_miss_nothing(
    transactional_db, own_redis, project, owner, member
):
    token = make_token(member)
    task = make_task(project, owner, title="Before the outage")
    env = env_for(
        DATABASE_URL=shared_database_url(), REDIS_URL=own_redis.url, REDIS_RETRY_SECONDS="0.5"
    )
    server = ProcessServer(env).start()
    path = f"/ws/projects/{project.pk}/"
    try:
        with client(server) as http:
            ws = subscribe(server, path, token)
            created = http.post(
                "/api/v1/tasks/",
                json={"project": project.pk, "title": "Live"},
                headers=bearer(token),
            )
            assert created.status_code == 201, created.text
            last_seen = receive_event(ws)["id"]

            own_redis.stop()
            assert close_code(ws, timeout=30) in RETRYABLE_CLOSE

            # Every write path still commits and answers 2xx: REST (with an idempotency key,
            # whose records live in Redis), a PATCH, and a GraphQL mutation.
            during = http.post(
                "/api/v1/tasks/",
                json={"project": project.pk, "title": "During REST"},
                headers={**bearer(token), "Idempotency-Key": "outage-1"},
            )
            assert during.status_code == 201, during.text
            patched = http.patch(
                f"/api/v1/tasks/{task.pk}/", json={"title": "Renamed"}, headers=bearer(token)
            )
            assert patched.status_code == 200, patched.text
            graphql = http.post(
                "/graphql",
                json={
                    "query": CREATE_TASK,
                    "variables": {
                        "input": {
                            "projectId": to_global_id("Project", project.pk),
                            "title": "During GraphQL",
                        }
                    },
                },
                headers=bearer(token),
            )
            assert graphql.status_code == 200, graphql.text
            assert "errors" not in graphql.json(), graphql.text
            assert graphql.json()["data"]["createTask"]["task"]["title"] == "During GraphQL"
            fresh = http.get(f"/api/v1/tasks/{task.pk}/", headers=bearer(token))
            assert fresh.status_code == 200 and fresh.json()["title"] == "Renamed"

            ready = http.get("/readyz")
            assert ready.status_code == 503
            checks = ready.json()["checks"]
            assert checks["cache"] == "unavailable"
            assert checks["channel_layer"] == "unavailable"
            assert checks["database"] == "ok"
            assert http.get("/healthz").status_code == 200

            # A socket opened now cannot go live: it is told to retry, not left hanging.
            with pytest.raises((ConnectionClosed, AssertionError)):
                subscribe(server, path, token).recv(timeout=10)

            titles = set(Task.objects.values_list("title", flat=True))
            assert {"During REST", "During GraphQL", "Renamed"} <= titles
            missed = list(
                Event.objects.filter(project=project, pk__gt=int(last_seen))
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            assert len(missed) == 3

            own_redis.start()  # same port, empty: the outage is over
            wait_until(lambda: http.get("/readyz").status_code == 200, timeout=30)
            ws = reconnect(server, path, token)
            send(ws, {"type": "resume", "after": last_seen})
            replayed = [receive_event(ws)["id"] for _ in missed]
            assert replayed == [str(pk) for pk in missed]

            # Live delivery works again, after the replay.
            after = http.post(
                "/api/v1/tasks/",
                json={"project": project.pk, "title": "After"},
                headers=bearer(token),
            )
            assert after.status_code == 201
            event = receive_event(ws)
            assert event["type"] == "task.created" and event["data"]["title"] == "After"
            ws.close()
    finally:
        server.stop()


def test_the_idempotency_key_holds_again_once_redis_is_back(
    transactional_db, own_redis, project, member
):
    token = make_token(member)
    env = env_for(
        DATABASE_URL=shared_database_url(), REDIS_URL=own_redis.url, REDIS_RETRY_SECONDS="0.5"
    )
    server = ProcessServer(env).start()
    try:
        with client(server) as http:
            own_redis.stop()
            headers = {**bearer(token), "Idempotency-Key": "k"}
            body = {"project": project.pk, "title": "Once"}
            assert http.post("/api/v1/tasks/", json=body, headers=headers).status_code == 201
            own_redis.start()
            wait_until(lambda: http.get("/readyz").status_code == 200, timeout=30)
            first = http.post("/api/v1/tasks/", json={**body, "title": "Twice"}, headers=headers)
            again = http.post("/api/v1/tasks/", json={**body, "title": "Twice"}, headers=headers)
            assert first.status_code == 201
            assert again.status_code == 201
            assert again.headers.get("Idempotent-Replayed") == "true"
            assert again.json()["id"] == first.json()["id"]
    finally:
        server.stop()
