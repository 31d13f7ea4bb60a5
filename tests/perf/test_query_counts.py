"""The benchmark's workloads cost a fixed number of SQL queries, whatever the page size (the
benchmark itself, bench/, measures speed; this only counts queries)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from graphql_relay import to_global_id

from bench.http import GRAPHQL_QUERY
from tasks.models import Comment, Task
from tests.factories import make_token

# access token (cold: the token cache is empty), the page of tasks joined with their assignees
# (it proves the project visible), comments with their authors
GRAPHQL_QUERIES = 3
# access token, the user's projects (cache generations), the page of tasks with its users
REST_COLD_QUERIES = 3


@pytest.fixture
def busy_project(project: Any, owner: Any, member: Any, admin: Any) -> Any:
    """120 tasks (some unassigned) with 6 comments each, more than any page shows."""
    tasks = Task.objects.bulk_create(
        Task(
            project=project,
            title=f"Task {index}",
            assignee=[member, admin, None][index % 3],
            created_by=owner,
        )
        for index in range(120)
    )
    Comment.objects.bulk_create(
        Comment(task=task, author=[owner, member, None][n % 3], body=f"comment {n}")
        for task in tasks
        for n in range(6)
    )
    return project


@pytest.mark.parametrize("n", [10, 50, 100])
def test_graphql_workload_query_count_is_flat(
    busy_project: Any, owner: Any, n: int, django_assert_num_queries: Any
) -> None:
    client = Client(headers={"Authorization": f"Bearer {make_token(owner)}"})
    body = {
        "query": GRAPHQL_QUERY,
        "variables": {"p": to_global_id("Project", busy_project.pk), "n": n},
    }

    with django_assert_num_queries(GRAPHQL_QUERIES):
        response = client.post("/graphql", body, content_type="application/json")

    payload = response.json()
    assert "errors" not in payload
    edges = payload["data"]["tasks"]["edges"]
    assert len(edges) == n
    assert all(len(edge["node"]["comments"]["edges"]) == 5 for edge in edges)
    authors = [c["node"]["author"] for e in edges for c in e["node"]["comments"]["edges"]]
    assert None in authors and {"id", "username"} <= set(next(a for a in authors if a))
    assert {edge["node"]["assignee"] is None for edge in edges} == {True, False}


@pytest.mark.parametrize("n", [10, 50, 100])
def test_rest_workload_query_count_is_flat_with_a_cold_cache(
    busy_project: Any, owner: Any, n: int, django_assert_num_queries: Any
) -> None:
    client = Client(headers={"Authorization": f"Bearer {make_token(owner)}"})
    path = f"/api/v1/tasks/?project={busy_project.pk}&page_size={n}"
    cache.clear()

    with django_assert_num_queries(REST_COLD_QUERIES):
        response = client.get(path)

    assert response.status_code == 200
    assert len(response.json()["results"]) == n


# With the token cached: the page of tasks joined with their assignees, comments with authors.
GRAPHQL_WARM_QUERIES = 2
# With the token cached: the user's projects (cache generations) [, the page on a miss].
REST_WARM_MISS_QUERIES = 2
REST_HIT_QUERIES = 1

FRAGMENT_QUERY = """
query($p: ID!, $n: Int!) { tasks(projectId: $p, first: $n) { edges { ...Edge } } }
fragment Edge on TaskEdge { node { id ... on Task { assignee { ...Who } } } }
fragment Who on User { id username }
"""


@pytest.mark.usefixtures("token_cache_held")
@pytest.mark.parametrize("query", [GRAPHQL_QUERY, FRAGMENT_QUERY], ids=["inline", "fragments"])
def test_graphql_workload_with_a_cached_token(
    busy_project: Any, owner: Any, query: str, django_assert_num_queries: Any
) -> None:
    client = Client(headers={"Authorization": f"Bearer {make_token(owner)}"})
    body = {"query": query, "variables": {"p": to_global_id("Project", busy_project.pk), "n": 30}}
    client.post("/graphql", body, content_type="application/json")  # caches the token

    expected = GRAPHQL_WARM_QUERIES if query is GRAPHQL_QUERY else GRAPHQL_WARM_QUERIES - 1
    with django_assert_num_queries(expected) as captured:
        response = client.post("/graphql", body, content_type="application/json")

    assert "errors" not in response.json()
    assert "JOIN" in captured.captured_queries[0]["sql"].upper()  # the assignees, joined
    edges = response.json()["data"]["tasks"]["edges"]
    assignees = {e["node"]["assignee"]["username"] for e in edges if e["node"]["assignee"]}
    assert assignees == {"mia", "adam"}


def test_a_project_the_viewer_cannot_see_is_not_found_before_anything_else(
    busy_project: Any, outsider: Any
) -> None:
    client = Client(headers={"Authorization": f"Bearer {make_token(outsider)}"})
    gid = to_global_id("Project", busy_project.pk)
    for after in (None, "not-a-cursor"):  # an invalid cursor too: NOT_FOUND comes first
        body = {
            "query": "query($p: ID!, $a: String) { tasks(projectId: $p, after: $a) { edges "
            "{ node { id } } } }",
            "variables": {"p": gid, "a": after},
        }
        payload = client.post("/graphql", body, content_type="application/json").json()
        assert [e["extensions"]["code"] for e in payload["errors"]] == ["NOT_FOUND"], after
        assert payload["data"] == {"tasks": None}


def test_an_empty_visible_project_is_an_empty_page(project: Any, owner: Any) -> None:
    client = Client(headers={"Authorization": f"Bearer {make_token(owner)}"})
    body = {
        "query": "query($p: ID!) { tasks(projectId: $p) { totalCount edges { node { id } } } }",
        "variables": {"p": to_global_id("Project", project.pk)},
    }
    payload = client.post("/graphql", body, content_type="application/json").json()
    assert payload == {"data": {"tasks": {"totalCount": 0, "edges": []}}}


@pytest.mark.usefixtures("token_cache_held")
def test_rest_workload_with_a_cached_token(
    busy_project: Any, owner: Any, django_assert_num_queries: Any
) -> None:
    client = Client(headers={"Authorization": f"Bearer {make_token(owner)}"})
    path = f"/api/v1/tasks/?project={busy_project.pk}&page_size=50"
    client.get("/api/v1/me/")  # caches the token
    cache.clear()

    with django_assert_num_queries(REST_WARM_MISS_QUERIES):
        miss = client.get(path)
    with django_assert_num_queries(REST_HIT_QUERIES):
        hit = client.get(path)

    assert miss.status_code == hit.status_code == 200
    assert hit.json() == miss.json() and len(hit.json()["results"]) == 50
