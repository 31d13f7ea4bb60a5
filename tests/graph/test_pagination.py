"""Every GraphQL connection pages on keyset cursors (tasks.keyset): forward with `first`/`after`,
backward with `last`/`before`, `pageInfo` exact, `totalCount` the whole list, the query count of
a page the same with or without a cursor, and a malformed, huge or foreign cursor BAD_USER_INPUT."""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from graphql_relay import to_global_id

from tasks import services, webhooks
from tasks.models import PRIORITY_RANK, Event, Role, Task, WebhookDelivery
from tests.factories import make_project, make_task, make_token

from .helpers import post

pytestmark = pytest.mark.django_db

PAGE = """totalCount pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
  edges { cursor node { id } }"""
TASKS = f"""query($first: Int, $after: String, $last: Int, $before: String, $order: TaskOrder) {{
  tasks(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {{ {PAGE} }}
}}"""
PROJECT_TASKS = f"""query($p: ID!, $first: Int, $after: String, $last: Int, $before: String,
                          $order: TaskOrder) {{
  project(id: $p) {{
    tasks(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {{ {PAGE} }}
  }}
}}"""
PROJECTS = f"""query($first: Int, $after: String, $last: Int, $before: String) {{
  projects(first: $first, after: $after, last: $last, before: $before) {{ {PAGE} }}
}}"""
COMMENTS = f"""query($t: ID!, $first: Int, $after: String) {{
  task(id: $t) {{ comments(first: $first, after: $after) {{ {PAGE} }} }}
}}"""
ACTIVITY = f"""query($p: ID!, $first: Int, $after: String) {{
  activity(projectId: $p, first: $first, after: $after) {{ {PAGE} }}
}}"""
DELIVERIES = f"""query($w: ID!, $first: Int, $after: String) {{
  node(id: $w) {{ ... on Webhook {{ deliveries(first: $first, after: $after) {{ {PAGE} }} }} }}
}}"""
FIELDS = ["CREATED_AT", "UPDATED_AT", "DUE_DATE", "PRIORITY", "TITLE"]
ARRAYCONNECTION_HUGE = base64.b64encode(b"arrayconnection:9223372036854775807").decode()


class Gql:
    def __init__(self, user: Any) -> None:
        self.client, self.token = Client(), make_token(user)

    def body(self, query: str, **variables: Any) -> dict[str, Any]:
        body: dict[str, Any] = post(self.client, query, variables, token=self.token).json()
        return body

    def run(self, query: str, **variables: Any) -> dict[str, Any]:
        body = self.body(query, **variables)
        assert "errors" not in body, body
        return body["data"]  # type: ignore[no-any-return]

    def error_codes(self, query: str, **variables: Any) -> list[str]:
        body = self.body(query, **variables)
        assert "errors" in body, body
        return [e.get("extensions", {}).get("code") for e in body["errors"]]


def connection_of(data: dict[str, Any]) -> dict[str, Any]:
    """The one connection in a response, however deep."""
    while "edges" not in data:
        (data,) = data.values()
    return data


def walk(gql: Gql, query: str, size: int, **variables: Any) -> tuple[list[str], list[list[str]]]:
    """Pages forward (endCursor as `after`, as Apollo's relayStylePagination does), then back
    (startCursor as `before`), checking pageInfo and totalCount on every page. Returns the forward
    ids and the backward pages."""
    forward: list[str] = []
    after = None
    totals = set()
    while True:
        page = connection_of(gql.run(query, first=size, after=after, **variables))
        info = page["pageInfo"]
        ids = [edge["node"]["id"] for edge in page["edges"]]
        assert info["hasPreviousPage"] is (after is not None)
        assert info["startCursor"] == (page["edges"][0]["cursor"] if ids else None)
        assert info["endCursor"] == (page["edges"][-1]["cursor"] if ids else None)
        totals.add(page["totalCount"])
        forward += ids
        if not info["hasNextPage"]:
            break
        assert len(ids) == size
        after = info["endCursor"]
    assert totals == {len(forward)}
    if "last" not in query:
        return forward, []
    backward: list[list[str]] = []
    before = None
    while True:
        page = connection_of(gql.run(query, last=size, before=before, **variables))
        info = page["pageInfo"]
        assert info["hasNextPage"] is (before is not None)
        backward.insert(0, [edge["node"]["id"] for edge in page["edges"]])
        if not info["hasPreviousPage"]:
            break
        before = info["startCursor"]
    assert [pk for ids in backward for pk in ids] == forward
    return forward, backward


@pytest.fixture
def board(project: Any, owner: Any) -> list[Task]:
    """Ties on every key and nulls on dueDate."""
    for n in range(17):
        make_task(
            project,
            owner,
            title=f"Task {n % 5}",
            priority=["low", "medium", "high", "urgent"][n % 4],
            due_date=None if n % 3 == 0 else date(2030, 1, 1 + n % 4),
        )
    return list(Task.objects.filter(project=project))


def expected(tasks: list[Task], field: str, descending: bool) -> list[str]:
    def key(task: Task) -> Any:
        name = field.lower()
        return PRIORITY_RANK[task.priority] if name == "priority" else getattr(task, name)

    present = sorted(
        (t for t in tasks if key(t) is not None), key=lambda t: (key(t), t.pk), reverse=descending
    )
    missing = sorted((t for t in tasks if key(t) is None), key=lambda t: t.pk, reverse=descending)
    return [to_global_id("Task", t.pk) for t in present + missing]


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
def test_tasks_page_both_ways_in_every_order(
    owner: Any, board: list[Task], field: str, direction: str
) -> None:
    order = {"field": field, "direction": direction}
    forward, backward = walk(Gql(owner), TASKS, 4, order=order)
    assert forward == expected(board, field, direction == "DESC")
    assert [len(ids) for ids in backward] == [1, 4, 4, 4, 4]


@pytest.mark.parametrize("field", ["PRIORITY", "DUE_DATE"])
def test_project_tasks_page_both_ways(
    owner: Any, project: Any, board: list[Task], field: str
) -> None:
    make_task(make_project(owner, name="Other"), owner, title="elsewhere")
    order = {"field": field, "direction": "DESC"}
    p = to_global_id("Project", project.pk)
    forward, _ = walk(Gql(owner), PROJECT_TASKS, 5, p=p, order=order)
    assert forward == expected(board, field, True)


def test_a_window_between_after_and_before(owner: Any, board: list[Task]) -> None:
    gql = Gql(owner)
    order = {"field": "TITLE", "direction": "ASC"}
    edges = connection_of(gql.run(TASKS, first=17, order=order))["edges"]
    cursors = [edge["cursor"] for edge in edges]
    page = gql.run(TASKS, first=3, after=cursors[2], before=cursors[10], order=order)["tasks"]
    assert [e["cursor"] for e in page["edges"]] == cursors[3:6]
    assert page["pageInfo"]["hasPreviousPage"] and page["pageInfo"]["hasNextPage"]
    page = gql.run(TASKS, last=3, after=cursors[2], before=cursors[10], order=order)["tasks"]
    assert [e["cursor"] for e in page["edges"]] == cursors[7:10]
    page = gql.run(TASKS, first=20, after=cursors[15], order=order)["tasks"]
    assert [e["cursor"] for e in page["edges"]] == cursors[16:]
    assert page["pageInfo"]["hasPreviousPage"] and not page["pageInfo"]["hasNextPage"]
    page = gql.run(TASKS, first=5, after=cursors[16], order=order)["tasks"]
    assert page["edges"] == [] and page["pageInfo"]["hasPreviousPage"]
    assert not page["pageInfo"]["hasNextPage"] and page["pageInfo"]["endCursor"] is None
    assert page["totalCount"] == 17


def test_projects_page_both_ways(owner: Any, project: Any, member: Any) -> None:
    for n in range(6):
        make_project(owner, name=f"P{n}")
    make_project(member, name="not mine")
    forward, backward = walk(Gql(owner), PROJECTS, 3)
    assert len(forward) == 7 == len(set(forward))
    assert [len(ids) for ids in backward] == [1, 3, 3]


def test_comments_page_forward_per_task(owner: Any, project: Any, member: Any) -> None:
    task, other = make_task(project, owner), make_task(project, owner)
    made = [services.comment_add(actor=member, task_id=task.pk, body=f"c{n}") for n in range(8)]
    services.comment_add(actor=member, task_id=other.pk, body="elsewhere")
    gql = Gql(owner)
    forward, _ = walk(gql, COMMENTS, 3, t=to_global_id("Task", task.pk))
    assert forward == [to_global_id("Comment", c.pk) for c in made]
    # The first page came from the batch loader; its cursors page on in a single task.
    tasks = gql.run("{ tasks { edges { node { id comments(first: 2) { edges { cursor } } } } } }")
    by_task = {e["node"]["id"]: e["node"]["comments"]["edges"] for e in tasks["tasks"]["edges"]}
    cursor = by_task[to_global_id("Task", task.pk)][-1]["cursor"]
    page = gql.run(COMMENTS, t=to_global_id("Task", task.pk), first=2, after=cursor)
    assert [e["node"]["id"] for e in page["task"]["comments"]["edges"]] == [
        to_global_id("Comment", c.pk) for c in made[2:4]
    ]
    # Another task's comment cursor is foreign.
    codes = gql.error_codes(COMMENTS, t=to_global_id("Task", other.pk), first=2, after=cursor)
    assert codes == ["BAD_USER_INPUT"]


def test_activity_pages_by_event_id(owner: Any, project: Any) -> None:
    for n in range(6):
        make_task(project, owner, title=f"T{n}")
    gql = Gql(owner)
    p = to_global_id("Project", project.pk)
    forward, _ = walk(gql, ACTIVITY, 3, p=p)
    events = list(Event.objects.filter(project=project).order_by("id"))
    assert forward == [str(event.pk) for event in events]
    page = connection_of(gql.run(ACTIVITY, p=p, first=2, after=str(events[1].pk)))
    assert [e["cursor"] for e in page["edges"]] == [str(e.pk) for e in events[2:4]]
    assert page["pageInfo"]["hasPreviousPage"] and page["totalCount"] == len(events)
    page = connection_of(gql.run(ACTIVITY, p=p, first=2, after="0"))
    assert not page["pageInfo"]["hasPreviousPage"] and page["pageInfo"]["hasNextPage"]


@pytest.fixture
def hook(owner: Any, project: Any) -> Any:
    url = "https://h.example.com/"
    return webhooks.webhook_create(actor=owner, project_id=project.pk, url=url).webhook


def test_webhook_deliveries_page_newest_first(owner: Any, project: Any, hook: Any) -> None:
    event = Event.objects.filter(project=project).first()
    made = [
        WebhookDelivery.objects.create(webhook=hook, event=event, event_type="task.created")
        for _ in range(7)
    ]
    url = "https://o.example.com/"
    other = webhooks.webhook_create(actor=owner, project_id=project.pk, url=url).webhook
    WebhookDelivery.objects.create(webhook=other, event=event, event_type="task.created")
    gql = Gql(owner)
    forward, _ = walk(gql, DELIVERIES, 3, w=to_global_id("Webhook", hook.pk))
    assert forward == [to_global_id("WebhookDelivery", d.pk) for d in reversed(made)]
    page = connection_of(gql.run(DELIVERIES, w=to_global_id("Webhook", hook.pk), first=1))
    codes = gql.error_codes(
        DELIVERIES,
        w=to_global_id("Webhook", other.pk),
        first=1,
        after=page["pageInfo"]["endCursor"],
    )
    assert codes == ["BAD_USER_INPUT"]


# --- Bad cursors and sizes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "",
        ARRAYCONNECTION_HUGE,
        base64.b64encode(b"arrayconnection:3").decode(),  # an offset cursor of old
        "%%%",
        "x" * 10_000,
        "9" * 30,
    ],
)
@pytest.mark.parametrize("argument", ["after", "before"])
def test_malformed_cursors_are_bad_user_input(
    owner: Any, board: list[Task], cursor: str, argument: str
) -> None:
    gql = Gql(owner)
    size = "first" if argument == "after" else "last"
    assert gql.error_codes(TASKS, **{size: 3, argument: cursor}) == ["BAD_USER_INPUT"]
    assert gql.error_codes(PROJECTS, **{size: 3, argument: cursor}) == ["BAD_USER_INPUT"]


def test_foreign_cursors_are_bad_user_input(owner: Any, project: Any, board: list[Task]) -> None:
    gql = Gql(owner)
    by_title = {"field": "TITLE", "direction": "ASC"}
    title_cursor = gql.run(TASKS, first=1, order=by_title)["tasks"]["pageInfo"]["endCursor"]
    for order in (
        {"field": "TITLE", "direction": "DESC"},
        {"field": "PRIORITY", "direction": "ASC"},
    ):
        assert gql.error_codes(TASKS, first=2, after=title_cursor, order=order) == [
            "BAD_USER_INPUT"
        ]
    project_cursor = gql.run(PROJECTS, first=1)["projects"]["pageInfo"]["endCursor"]
    assert gql.error_codes(TASKS, first=2, after=project_cursor) == ["BAD_USER_INPUT"]
    task_cursor = gql.run(TASKS, first=1)["tasks"]["pageInfo"]["endCursor"]
    assert gql.error_codes(PROJECTS, last=2, before=task_cursor) == ["BAD_USER_INPUT"]
    p = to_global_id("Project", project.pk)
    assert gql.error_codes(ACTIVITY, p=p, first=2, after=task_cursor) == ["BAD_USER_INPUT"]
    # The same ordering of tasks is one list, root or under a project.
    page = gql.run(PROJECT_TASKS, p=p, first=2, after=task_cursor)
    assert len(page["project"]["tasks"]["edges"]) == 2


@pytest.mark.parametrize(
    "after", ["garbage", "-1", "1.5", "99999999999999999999", "9" * 5000, ARRAYCONNECTION_HUGE]
)
def test_bad_activity_cursors_are_bad_user_input(owner: Any, project: Any, after: str) -> None:
    p = to_global_id("Project", project.pk)
    assert Gql(owner).error_codes(ACTIVITY, p=p, first=2, after=after) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (TASKS, {"first": 101}),
        (TASKS, {"last": 101}),
        (TASKS, {"first": -1}),
        (PROJECTS, {"last": 101}),
        (COMMENTS, {"first": 101}),
        (ACTIVITY, {"first": 101}),
        (DELIVERIES, {"first": 101}),
    ],
)
def test_page_sizes_over_100_are_bad_user_input(
    owner: Any, project: Any, hook: Any, query: str, variables: dict[str, Any]
) -> None:
    task = make_task(project, owner)
    ids = {
        "p": to_global_id("Project", project.pk),
        "t": to_global_id("Task", task.pk),
        "w": to_global_id("Webhook", hook.pk),
    }
    used = {name: value for name, value in ids.items() if f"${name}:" in query}
    assert Gql(owner).error_codes(query, **used, **variables) == ["BAD_USER_INPUT"]


# --- Query counts ---------------------------------------------------------------------------------


def counted(gql: Gql, query: str, **variables: Any) -> tuple[dict[str, Any], int]:
    with CaptureQueriesContext(connection) as captured:
        data = gql.run(query, **variables)
    # Authentication (token lookup) and the throttle are not the connection's.
    return data, len([q for q in captured.captured_queries if "oauth2" not in q["sql"]])


# The page (one query, cursors' EXISTS inside it) and the count.
CONNECTION_QUERIES = 2


@pytest.mark.parametrize("field", FIELDS)
def test_a_page_costs_the_same_queries_with_or_without_cursors(
    owner: Any, board: list[Task], field: str
) -> None:
    gql = Gql(owner)
    order = {"field": field, "direction": "DESC"}
    data, plain = counted(gql, TASKS, first=5, order=order)
    info = data["tasks"]["pageInfo"]
    _, after = counted(gql, TASKS, first=5, after=info["endCursor"], order=order)
    _, before = counted(gql, TASKS, last=5, before=info["endCursor"], order=order)
    _, both = counted(
        gql, TASKS, first=5, after=info["startCursor"], before=info["endCursor"], order=order
    )
    _, last = counted(gql, TASKS, last=5, order=order)
    assert plain == after == before == both == last == CONNECTION_QUERIES


def test_members_see_their_own_projects_only(owner: Any, member: Any, outsider: Any) -> None:
    make_project(outsider, name="secret")
    mine = make_project(owner, name="shared", members={member: Role.MEMBER})
    forward, _ = walk(Gql(member), PROJECTS, 1)
    assert forward == [to_global_id("Project", mine.pk)]
