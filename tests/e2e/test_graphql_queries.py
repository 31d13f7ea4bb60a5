"""Every query of API.md through a real GraphQL client against the live server."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from graphql_relay import to_global_id

from tasks import services
from tasks.models import Attachment
from tests.factories import make_project, make_task, make_token

from .graphql_client import client_for, codes, run, run_error

pytestmark = pytest.mark.e2e


def gid(type_name: str, pk: int) -> str:
    return to_global_id(type_name, pk)


@pytest.fixture
def board(project: Any, owner: Any, member: Any) -> dict[str, Any]:
    """Five tasks in `project`, one comment and one attachment on the first."""
    tasks = [
        make_task(project, owner, title="Write the spec", priority="urgent", assignee_id=member.pk),
        make_task(project, owner, title="Review", priority="low", due_date=date(2030, 1, 5)),
        make_task(project, member, title="Ship it", status="done", priority="high"),
        make_task(project, member, title="Celebrate", priority="medium"),
        make_task(project, owner, title="Write the blog post", due_date=date(2030, 2, 1)),
    ]
    comment = services.comment_add(actor=member, task_id=tasks[0].pk, body="Looks good")
    attachment = Attachment.objects.create(
        task=tasks[0], name="spec.pdf", file="attachments/spec.pdf", size=3, uploaded_by=member
    )
    return {"tasks": tasks, "comment": comment, "attachment": attachment}


def test_viewer_projects_and_project(asgi_server: Any, project: Any, owner: Any, viewer: Any):
    client = client_for(asgi_server, make_token(viewer, "read"))
    data = run(
        client,
        """query($id: ID!) {
          viewer { id username displayName }
          projects(first: 10) { totalCount edges { cursor node { id name } } }
          project(id: $id) {
            id name description createdAt viewerRole
            members { role joinedAt user { id username displayName } }
          }
        }""",
        id=gid("Project", project.pk),
    )
    assert data["viewer"] == {
        "id": gid("User", viewer.pk),
        "username": "victor",
        "displayName": "victor",
    }
    assert data["projects"]["totalCount"] == 1
    assert data["projects"]["edges"][0]["node"]["name"] == "Apollo"
    assert data["project"]["viewerRole"] == "VIEWER"
    roles = {m["user"]["username"]: m["role"] for m in data["project"]["members"]}
    assert roles == {"olivia": "OWNER", "adam": "ADMIN", "mia": "MEMBER", "victor": "VIEWER"}
    owner_entry = next(m for m in data["project"]["members"] if m["role"] == "OWNER")
    assert owner_entry["user"]["displayName"] == "Olivia Owner"


def test_task_with_every_field(asgi_server: Any, board: dict[str, Any], member: Any):
    first = board["tasks"][0]
    client = client_for(asgi_server, make_token(member, "read"))
    data = run(
        client,
        """query($id: ID!) {
          task(id: $id) {
            id title description status priority dueDate version
            createdAt updatedAt completedAt commentCount
            project { name } assignee { username } createdBy { username }
            comments(first: 10) { totalCount edges { cursor node { id body author { username } } } }
            attachments { id name size url uploadedBy { username } }
          }
        }""",
        id=gid("Task", first.pk),
    )["task"]
    assert data["title"] == "Write the spec"
    assert data["status"] == "TODO" and data["priority"] == "URGENT"
    assert data["version"] == 1 and data["completedAt"] is None
    assert data["assignee"] == {"username": "mia"}
    assert data["createdBy"] == {"username": "olivia"}
    assert data["project"] == {"name": "Apollo"}
    assert data["commentCount"] == 1
    assert data["comments"]["edges"][0]["node"]["body"] == "Looks good"
    attachment = board["attachment"]
    assert data["attachments"] == [
        {
            "id": gid("Attachment", attachment.pk),
            "name": "spec.pdf",
            "size": 3,
            "url": f"/api/v1/attachments/{attachment.pk}/download/",
            "uploadedBy": {"username": "mia"},
        }
    ]


def test_node_resolves_every_type(asgi_server: Any, board: dict[str, Any], project: Any, owner):
    client = client_for(asgi_server, make_token(owner, "read"))
    ids = {
        "Project": gid("Project", project.pk),
        "Task": gid("Task", board["tasks"][0].pk),
        "Comment": gid("Comment", board["comment"].pk),
        "Attachment": gid("Attachment", board["attachment"].pk),
        "User": gid("User", owner.pk),
    }
    for type_name, node_id in ids.items():
        data = run(client, "query($id: ID!) { node(id: $id) { __typename id } }", id=node_id)
        assert data["node"] == {"__typename": type_name, "id": node_id}


def test_foreign_and_unknown_ids_are_not_found(
    asgi_server: Any, board: dict[str, Any], project: Any, outsider: Any
):
    make_project(outsider, name="Elsewhere")
    client = client_for(asgi_server, make_token(outsider, "read"))
    for field, node_id in [
        ("project", gid("Project", project.pk)),
        ("task", gid("Task", board["tasks"][0].pk)),
        ("node", gid("Comment", board["comment"].pk)),
        ("node", gid("Attachment", board["attachment"].pk)),
        ("task", gid("Task", 999_999)),
        ("task", "not-a-global-id"),
        ("task", gid("Project", project.pk)),  # the wrong type
    ]:
        error = run_error(client, f"query($id: ID!) {{ {field}(id: $id) {{ id }} }}", id=node_id)
        assert codes(error) == ["NOT_FOUND"], (field, node_id)
        assert error.data == {field: None}
    error = run_error(
        client, "query($p: ID!) { tasks(projectId: $p, first: 5) { totalCount } }", p=ids(project)
    )
    assert codes(error) == ["NOT_FOUND"]
    error = run_error(
        client, "query($p: ID!) { activity(projectId: $p) { totalCount } }", p=ids(project)
    )
    assert codes(error) == ["NOT_FOUND"]
    # The outsider's own list shows none of it.
    data = run(client, "{ tasks(first: 100) { totalCount } projects { totalCount } }")
    assert data == {"tasks": {"totalCount": 0}, "projects": {"totalCount": 1}}


def ids(project: Any) -> str:
    return gid("Project", project.pk)


TASK_TITLES = """query($p: ID, $filter: TaskFilter, $search: String, $order: TaskOrder) {
  tasks(projectId: $p, filter: $filter, search: $search, orderBy: $order, first: 100) {
    totalCount edges { node { title priority } }
  }
}"""


def titles(data: dict[str, Any]) -> list[str]:
    return [edge["node"]["title"] for edge in data["tasks"]["edges"]]


def test_task_filters_search_and_order(
    asgi_server: Any, board: dict[str, Any], project: Any, member: Any
):
    client = client_for(asgi_server, make_token(member, "read"))
    p = ids(project)
    by_priority = run(client, TASK_TITLES, p=p, order={"field": "PRIORITY", "direction": "DESC"})
    priorities = [edge["node"]["priority"] for edge in by_priority["tasks"]["edges"]]
    assert priorities == ["URGENT", "HIGH", "MEDIUM", "MEDIUM", "LOW"]  # severity, not A-Z
    by_due = run(client, TASK_TITLES, p=p, order={"field": "DUE_DATE", "direction": "ASC"})
    assert titles(by_due)[:2] == ["Review", "Write the blog post"]  # nulls last
    by_title = run(client, TASK_TITLES, order={"field": "TITLE", "direction": "ASC"})
    assert titles(by_title) == sorted(titles(by_title))
    done = run(client, TASK_TITLES, p=p, filter={"status": ["DONE"]})
    assert titles(done) == ["Ship it"]
    urgent_or_low = run(client, TASK_TITLES, filter={"priority": ["URGENT", "LOW"]})
    assert sorted(titles(urgent_or_low)) == ["Review", "Write the spec"]
    mine = run(client, TASK_TITLES, filter={"assigneeId": gid("User", member.pk)})
    assert titles(mine) == ["Write the spec"]
    unassigned = run(client, TASK_TITLES, filter={"unassigned": True})
    assert unassigned["tasks"]["totalCount"] == 4
    due = run(client, TASK_TITLES, filter={"dueBefore": "2030-01-31", "dueAfter": "2029-12-31"})
    assert titles(due) == ["Review"]
    found = run(client, TASK_TITLES, search="write")
    assert sorted(titles(found)) == ["Write the blog post", "Write the spec"]


def test_pagination_forwards_and_backwards(
    asgi_server: Any, board: dict[str, Any], project: Any, member: Any
):
    client = client_for(asgi_server, make_token(member, "read"))
    query = """query($p: ID!, $first: Int, $after: String, $last: Int, $before: String) {
      project(id: $p) {
        tasks(first: $first, after: $after, last: $last, before: $before,
              orderBy: {field: TITLE, direction: ASC}) {
          totalCount
          pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
          edges { cursor node { title } }
        }
      }
    }"""
    everything = sorted(task.title for task in board["tasks"])
    seen: list[str] = []
    after = None
    while True:
        page = run(client, query, p=ids(project), first=2, after=after)["project"]["tasks"]
        assert page["totalCount"] == 5
        seen += [edge["node"]["title"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == everything

    backwards: list[str] = []
    before = None
    while True:
        page = run(client, query, p=ids(project), last=2, before=before)["project"]["tasks"]
        backwards = [edge["node"]["title"] for edge in page["edges"]] + backwards
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert backwards == everything


def test_page_size_is_capped(asgi_server: Any, project: Any, member: Any):
    client = client_for(asgi_server, make_token(member, "read"))
    for args in ("first: 101", "last: 500", "first: -1"):
        error = run_error(client, f"{{ tasks({args}) {{ totalCount }} }}")
        assert codes(error) == ["BAD_USER_INPUT"], args
    error = run_error(client, '{ tasks(first: 1, after: "garbage") { totalCount } }')
    assert codes(error) == ["BAD_USER_INPUT"]


def test_activity_feed_with_cursor(
    asgi_server: Any, board: dict[str, Any], project: Any, member: Any
):
    client = client_for(asgi_server, make_token(member, "read"))
    query = """query($p: ID!, $after: String) {
      activity(projectId: $p, first: 3, after: $after) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { cursor node { id type createdAt data actor { username } project { name }
                              task { title } } }
      }
    }"""
    first_page = run(client, query, p=ids(project))["activity"]
    assert first_page["pageInfo"]["hasNextPage"] is True
    events = [edge["node"] for edge in first_page["edges"]]
    assert events[0]["type"] == "member.added" and events[0]["task"] is None
    assert events[0]["actor"] == {"username": "olivia"}
    assert events[1]["type"] == "task.created"
    assert events[1]["task"] == {"title": "Write the spec"}
    assert events[1]["project"] == {"name": "Apollo"}
    assert events[1]["data"]["title"] == "Write the spec"
    cursor = first_page["pageInfo"]["endCursor"]
    rest = run(client, query, p=ids(project), after=cursor)["activity"]
    later_ids = [int(edge["node"]["id"]) for edge in rest["edges"]]
    assert later_ids and min(later_ids) > int(cursor)
