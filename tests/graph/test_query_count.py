"""N+1 freedom: a page of tasks with every relation selected costs the same number of SQL
queries whatever the page size."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from graphql_relay import to_global_id

from tasks.models import Attachment, Comment, Task
from tests.factories import make_token

from .helpers import post

PAGE_QUERY = """
query Page($projectId: ID!, $first: Int!) {
  tasks(projectId: $projectId, first: $first, orderBy: {field: PRIORITY, direction: DESC}) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        id title status priority version
        project { id name viewerRole members { role joinedAt user { id username displayName } } }
        assignee { id username displayName }
        createdBy { id displayName }
        commentCount
        comments(first: 2) { totalCount edges { node { id body author { username } } } }
        attachments { id name url uploadedBy { username } }
      }
    }
  }
}
"""

# count, page (joined with assignee and creator; it proves the project visible), projects,
# viewer role, members, comment counts, comment page, attachments
EXPECTED_QUERIES = 8


@pytest.fixture
def many_tasks(project: Any, owner: Any, member: Any, admin: Any) -> Any:
    tasks = Task.objects.bulk_create(
        Task(
            project=project,
            title=f"Task {index}",
            priority=["low", "medium", "high", "urgent"][index % 4],
            assignee=[member, admin, None][index % 3],
            created_by=[owner, member][index % 2],
        )
        for index in range(120)
    )
    Comment.objects.bulk_create(
        Comment(task=task, author=[owner, member][n % 2], body=f"comment {n}")
        for task in tasks
        for n in range(3)
    )
    Attachment.objects.bulk_create(
        Attachment(task=task, name="a.txt", file="attachments/a.txt", uploaded_by=member)
        for task in tasks[::2]
    )
    return tasks


@pytest.mark.django_db
def test_query_count_is_flat_in_the_page_size(project: Any, owner: Any, many_tasks: Any) -> None:
    token = make_token(owner, "read")
    client = Client()
    counts = {}
    for first in (5, 50, 100):
        with CaptureQueriesContext(connection) as captured:
            response = post(
                client,
                PAGE_QUERY,
                {"projectId": to_global_id("Project", project.pk), "first": first},
                token=token,
            )
        body = response.json()
        assert "errors" not in body, body
        edges = body["data"]["tasks"]["edges"]
        assert len(edges) == first
        assert all(len(edge["node"]["comments"]["edges"]) == 2 for edge in edges)
        assert all(edge["node"]["commentCount"] == 3 for edge in edges)
        assert len(edges[0]["node"]["project"]["members"]) == 4
        # Authentication (token lookup) and the throttle live outside the cache-free count.
        counts[first] = len([q for q in captured.captured_queries if "oauth2" not in q["sql"]])
    assert counts[5] == counts[50] == counts[100] == EXPECTED_QUERIES, counts
