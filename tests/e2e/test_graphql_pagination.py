"""Pagination stays exact under concurrent change, through the live server: a reader pages
`first: 3` with Apollo-style cursors (`pageInfo.endCursor` as the next `after`) while another
client creates tasks that sort ahead of it and deletes tasks it has already seen; every task that
existed throughout arrives exactly once and in order. The same over REST's `next` links. A huge
offset cursor of old or garbage is BAD_USER_INPUT (REST: a 400 problem)."""

from __future__ import annotations

import base64
from datetime import date, timedelta
from typing import Any

import pytest
import requests
from graphql_relay import from_global_id, to_global_id

from tasks.models import PRIORITY_RANK, Task
from tests.factories import make_task, make_token

from .graphql_client import client_for, codes, run, run_error

pytestmark = pytest.mark.e2e

PAGE = """query($p: ID!, $after: String, $order: TaskOrder) {
  tasks(projectId: $p, first: 3, after: $after, orderBy: $order) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id } }
  }
}"""
CREATE = (
    """mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } errors { code } } }"""
)
DELETE = (
    """mutation($i: DeleteTaskInput!) { deleteTask(input: $i) { deletedId errors { code } } }"""
)
HUGE = base64.b64encode(b"arrayconnection:9223372036854775807").decode()

# (GraphQL TaskOrder, REST ordering, fields of the tasks created meanwhile): new tasks sort ahead
# of the reader's position (an offset would repeat a row), except by UPDATED_AT ASC: at the end.
ORDERS = [
    ({"field": "CREATED_AT", "direction": "DESC"}, "-created_at", {}),
    ({"field": "PRIORITY", "direction": "DESC"}, "-priority", {"priority": "URGENT"}),
    ({"field": "DUE_DATE", "direction": "ASC"}, "due_date", {"dueDate": "2029-01-01"}),
    ({"field": "TITLE", "direction": "ASC"}, "title", {"title": "A new first task"}),
    ({"field": "UPDATED_AT", "direction": "ASC"}, "updated_at", {}),
]
AT_THE_END = {"updated_at"}


@pytest.fixture
def tasks(project: Any, owner: Any) -> list[int]:
    """14 tasks with ties on every key and nulls on due_date."""
    return [
        make_task(
            project,
            owner,
            title=f"Task {n % 4}",
            priority=["low", "medium", "high", "urgent"][n % 4],
            due_date=None if n % 3 == 0 else date(2030, 1, 1) + timedelta(days=n % 5),
        ).pk
        for n in range(14)
    ]


def in_order(pks: set[int], rest_ordering: str) -> list[int]:
    """The expected order of these tasks (nulls last, priority by severity, id tie-break)."""
    descending = rest_ordering.startswith("-")
    field = rest_ordering.lstrip("-")

    def key(task: Task) -> Any:
        return PRIORITY_RANK[task.priority] if field == "priority" else getattr(task, field)

    rows = list(Task.objects.filter(pk__in=pks))
    present = sorted(
        (t for t in rows if key(t) is not None), key=lambda t: (key(t), t.pk), reverse=descending
    )
    missing = sorted((t for t in rows if key(t) is None), key=lambda t: t.pk, reverse=descending)
    return [t.pk for t in present + missing]


class Writer:
    """Another user, changing the project between the reader's pages."""

    def __init__(self, asgi_server: Any, owner: Any, project: Any, fields: dict[str, Any]) -> None:
        self.client = client_for(asgi_server, make_token(owner))
        self.project_id = to_global_id("Project", project.pk)
        self.fields = fields
        self.created: set[int] = set()
        self.deleted: set[int] = set()

    def change(self, seen: list[int], pages: int) -> None:
        """Creates tasks that sort before the reader's position and deletes tasks the reader has
        seen: one more created than deleted after odd pages (an offset cursor would repeat a
        task), one more deleted after even pages (it would skip one)."""
        creates, deletes = (2, 1) if pages % 2 else (1, 2)
        for n in range(creates):
            title = self.fields.get("title", f"New {pages}.{n}")
            i = {"projectId": self.project_id, **self.fields, "title": title}
            created = run(self.client, CREATE, i=i)["createTask"]
            assert created["errors"] == []
            self.created.add(int(from_global_id(created["task"]["id"])[1]))
        victims = [pk for pk in seen if pk not in self.deleted][-deletes:]
        for victim in victims:
            deleted = run(self.client, DELETE, i={"id": to_global_id("Task", victim)})
            assert deleted["deleteTask"]["errors"] == []
            self.deleted.add(victim)


def check(seen: list[int], original: list[int], writer: Writer, rest_ordering: str) -> None:
    assert len(seen) == len(set(seen)), "a task came twice"
    throughout = set(original) - writer.deleted
    assert throughout <= set(seen), "a task that existed throughout was skipped"
    assert [pk for pk in seen if pk in throughout] == in_order(throughout, rest_ordering)
    if rest_ordering in AT_THE_END:  # created after every task: all of them come, last
        assert seen[-len(writer.created) :] == sorted(writer.created)
    else:  # created ahead of the reader's position: none leaks into a later page
        assert not set(seen) & writer.created
    assert len(writer.deleted) >= 4


@pytest.mark.parametrize(("order", "rest_ordering", "fields"), ORDERS)
def test_graphql_pages_exactly_while_others_write(
    asgi_server: Any,
    project: Any,
    owner: Any,
    member: Any,
    tasks: list[int],
    order: dict[str, str],
    rest_ordering: str,
    fields: dict[str, Any],
) -> None:
    reader = client_for(asgi_server, make_token(member, "read"))
    writer = Writer(asgi_server, owner, project, fields)
    p = to_global_id("Project", project.pk)
    seen: list[int] = []
    pages = 0
    after = None
    while True:
        page = run(reader, PAGE, p=p, after=after, order=order)["tasks"]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        assert page["totalCount"] == len(tasks) + len(writer.created) - len(writer.deleted)
        seen += [int(from_global_id(edge["node"]["id"])[1]) for edge in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]  # what Apollo's relayStylePagination passes on
        writer.change(seen, pages)
    check(seen, tasks, writer, rest_ordering)


@pytest.mark.parametrize(("order", "rest_ordering", "fields"), ORDERS)
def test_rest_pages_exactly_while_others_write(
    asgi_server: Any,
    project: Any,
    owner: Any,
    member: Any,
    tasks: list[int],
    order: dict[str, str],
    rest_ordering: str,
    fields: dict[str, Any],
) -> None:
    headers = {"Authorization": f"Bearer {make_token(member, 'read')}"}
    writer = Writer(asgi_server, owner, project, fields)
    url: str | None = f"{asgi_server.url}/api/v1/tasks/"
    params: dict[str, Any] | None = {
        "project": project.pk,
        "ordering": rest_ordering,
        "page_size": 3,
    }
    seen: list[int] = []
    pages = 0
    while url is not None:
        response = requests.get(url, params=params, headers=headers, timeout=20)
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["previous"] is None) is (params is not None)
        seen += [task["id"] for task in body["results"]]
        pages += 1
        url, params = body["next"], None
        if url is not None:
            writer.change(seen, pages)
    check(seen, tasks, writer, rest_ordering)


def test_huge_or_garbage_cursors_are_bad_user_input(
    asgi_server: Any, project: Any, member: Any, tasks: list[int]
) -> None:
    client = client_for(asgi_server, make_token(member, "read"))
    p = to_global_id("Project", project.pk)
    for cursor in (HUGE, "garbage", "", "9" * 40):
        error = run_error(client, PAGE, p=p, after=cursor)
        assert codes(error) == ["BAD_USER_INPUT"], cursor
        assert error.data == {"tasks": None}
    # A cursor of another ordering is foreign to this one.
    cursor = run(client, PAGE, p=p)["tasks"]["pageInfo"]["endCursor"]
    title_order = {"field": "TITLE", "direction": "ASC"}
    assert codes(run_error(client, PAGE, p=p, after=cursor, order=title_order)) == [
        "BAD_USER_INPUT"
    ]
    # REST: a 400 problem, never a 500.
    headers = {"Authorization": f"Bearer {make_token(member, 'read')}"}
    for cursor in (HUGE, "garbage"):
        response = requests.get(
            f"{asgi_server.url}/api/v1/tasks/", {"cursor": cursor}, headers=headers, timeout=20
        )
        assert response.status_code == 400
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert response.json()["errors"] == {"cursor": ["Invalid cursor."]}
