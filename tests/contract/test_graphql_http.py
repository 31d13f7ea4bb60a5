"""API.md, GraphQL over HTTP: points the e2e suite leaves open, with gql and httpx against the
live server."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from graphql_relay import to_global_id

from tasks.models import Project, Role
from tests.e2e.graphql_client import client_for, run
from tests.factories import make_project, make_task, make_token

pytestmark = pytest.mark.e2e

VIEWER = {"query": "{ viewer { username } }"}
CREATE = {"query": 'mutation { createProject(input: {name: "Cross-site"}) { errors { code } } }'}


def post(server: Any, body: Any, token: str, **headers: str) -> httpx.Response:
    headers["Authorization"] = f"Bearer {token}"
    return httpx.post(f"{server.url}/graphql", json=body, headers=headers, timeout=20)


def test_tasks_without_a_project_lists_every_visible_project(
    asgi_server: Any, project: Any, owner: Any, member: Any, outsider: Any
) -> None:
    second = make_project(owner, name="Second", members={member: Role.VIEWER})
    foreign = make_project(outsider, name="Foreign")
    make_task(project, owner, title="In Apollo")
    make_task(second, owner, title="In Second")
    make_task(foreign, outsider, title="Not yours")
    client = client_for(asgi_server, make_token(member, "read"))
    data = run(client, "{ tasks(first: 100) { totalCount edges { node { title } } } }")
    titles = sorted(edge["node"]["title"] for edge in data["tasks"]["edges"])
    assert titles == ["In Apollo", "In Second"] and data["tasks"]["totalCount"] == 2


def test_due_date_nulls_sort_last_in_both_directions(
    asgi_server: Any, project: Any, member: Any
) -> None:
    make_task(project, member, title="none")
    make_task(project, member, title="early", due_date=date(2030, 1, 1))
    make_task(project, member, title="late", due_date=date(2031, 1, 1))
    client = client_for(asgi_server, make_token(member, "read"))
    query = """query($d: OrderDirection!) {
      tasks(orderBy: {field: DUE_DATE, direction: $d}, first: 10) { edges { node { title } } }
    }"""
    order = {}
    for direction in ("ASC", "DESC"):
        edges = run(client, query, d=direction)["tasks"]["edges"]
        order[direction] = [edge["node"]["title"] for edge in edges]
    assert order == {"ASC": ["early", "late", "none"], "DESC": ["late", "early", "none"]}


def test_deleted_ids_are_global_ids_whatever_id_form_was_sent(
    asgi_server: Any, project: Any, owner: Any, outsider: Any
) -> None:
    from tasks.models import Membership

    Membership.objects.create(project=project, user=outsider, role=Role.MEMBER)
    task = make_task(project, owner, title="Gone")
    client = client_for(asgi_server, make_token(owner))
    removed = run(
        client,
        """mutation($i: RemoveProjectMemberInput!) {
          removeProjectMember(input: $i) { deletedId errors { code } } }""",
        i={"projectId": str(project.pk), "userId": str(outsider.pk)},
    )["removeProjectMember"]
    assert removed == {"deletedId": to_global_id("User", outsider.pk), "errors": []}
    deleted = run(
        client,
        "mutation($i: DeleteTaskInput!) { deleteTask(input: $i) { deletedId } }",
        i={"id": str(task.pk)},
    )["deleteTask"]
    assert deleted == {"deletedId": to_global_id("Task", task.pk)}


def test_a_foreign_browser_origin_is_refused_on_http_too(
    asgi_server: Any, owner: Any, settings: Any
) -> None:
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example"]
    token = make_token(owner)
    for body in (VIEWER, CREATE):
        refused = post(asgi_server, body, token, Origin="https://evil.example")
        assert refused.status_code == 403
        assert [e["extensions"]["code"] for e in refused.json()["errors"]] == ["FORBIDDEN"]
    assert not Project.objects.exists()
    for origin in (f"http://127.0.0.1:{asgi_server.port}", "https://app.example"):
        allowed = post(asgi_server, VIEWER, token, Origin=origin)
        assert allowed.json() == {"data": {"viewer": {"username": "olivia"}}}
    assert post(asgi_server, VIEWER, token).status_code == 200  # no Origin: not a browser


def test_graphiql_is_served_to_a_browser_without_credentials(asgi_server: Any) -> None:
    page = httpx.get(f"{asgi_server.url}/graphql", headers={"Accept": "text/html"}, timeout=20)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "graphiql" in page.text.lower()
    # Only what the template renders: no template comment or tag left in the page.
    assert "{#" not in page.text and "{%" not in page.text and "endcomment" not in page.text
