"""Database unreachable (a TCP proxy between the server process and PostgreSQL is cut): requests
get a 503 answer with `Retry-After`, problem details on REST and a `SERVICE_UNAVAILABLE` error on
GraphQL, never a traceback; the process serves again, without a restart, once it returns."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from graphql_relay import to_global_id

from tasks.models import Task
from tests.factories import make_task, make_token
from tests.live import ProcessServer

from .infra import TcpProxy, bearer, client, env_for, shared_database_url, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

CREATE_TASK = """
mutation Create($input: CreateTaskInput!) {
  createTask(input: $input) { task { id title } errors { code } }
}"""


@pytest.fixture
def proxy(transactional_db: Any) -> Any:
    proxy = TcpProxy(int(connection.settings_dict.get("PORT") or 5432)).start()
    yield proxy
    proxy.close()


def assert_unavailable_problem(response: Any) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert int(response.headers["Retry-After"]) > 0
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert body["status"] == 503
    assert "Traceback" not in response.text


def test_requests_get_503_while_the_database_is_away_and_recover_after(
    proxy, project, owner, member
):
    task = make_task(project, owner, title="Persisted")
    token = make_token(member)
    env = env_for(DATABASE_URL=shared_database_url(port=proxy.port), DB_CONNECT_TIMEOUT="2")
    server = ProcessServer(env).start()
    graphql_body = {
        "query": CREATE_TASK,
        "variables": {
            "input": {"projectId": to_global_id("Project", project.pk), "title": "Via GraphQL"}
        },
    }
    try:
        with client(server) as http:
            assert http.get(f"/api/v1/tasks/{task.pk}/", headers=bearer(token)).status_code == 200

            proxy.stop()
            assert_unavailable_problem(http.get(f"/api/v1/tasks/{task.pk}/", headers=bearer(token)))
            assert_unavailable_problem(
                http.post(
                    "/api/v1/tasks/",
                    json={"project": project.pk, "title": "Lost?"},
                    headers=bearer(token),
                )
            )
            graphql = http.post("/graphql", json=graphql_body, headers=bearer(token))
            assert graphql.status_code == 503, graphql.text
            assert int(graphql.headers["Retry-After"]) > 0
            assert graphql.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
            ready = http.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"]["database"] == "unavailable"
            assert http.get("/healthz").status_code == 200

            proxy.start()
            wait_until(lambda: http.get("/readyz").status_code == 200, timeout=30)
            again = http.get(f"/api/v1/tasks/{task.pk}/", headers=bearer(token))
            assert again.status_code == 200 and again.json()["title"] == "Persisted"
            graphql = http.post("/graphql", json=graphql_body, headers=bearer(token))
            assert graphql.status_code == 200, graphql.text
            assert graphql.json()["data"]["createTask"]["task"]["title"] == "Via GraphQL"
        assert not Task.objects.filter(title="Lost?").exists()
        assert Task.objects.filter(title="Via GraphQL").exists()
    finally:
        server.stop()
