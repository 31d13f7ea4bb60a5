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

# access token, project visibility, the page of tasks, assignees, comments with their authors
GRAPHQL_QUERIES = 5
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
