"""`changes(projectId, since, first)` and `Project.changesCursor` over GraphQL: the changed objects
as the schema's own types, tombstones with global IDs, the error codes (BAD_USER_INPUT,
CURSOR_TOO_OLD, NOT_FOUND), and a query count flat in page size with every relation selected."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from graphql_relay import to_global_id

from tasks import services
from tasks.models import Event, OutboxEntry
from tasks.retention import prune
from tests.factories import make_project, make_task, make_token

from .helpers import post

pytestmark = pytest.mark.django_db

HEAD = "query($id: ID!) { project(id: $id) { changesCursor } }"
CHANGES = """
query($p: ID!, $since: String, $first: Int) {
  changes(projectId: $p, since: $since, first: $first) {
    cursor hasMore
    project { id name description updatedAt }
    tasks {
      id title status priority version dueDate updatedAt
      project { id } assignee { id username displayName } createdBy { id displayName }
      commentCount attachments { id }
      comments(first: 2) { edges { node { id } } }
    }
    comments { id body editedAt author { id username } task { id title } }
    attachments { id name size state url uploadedBy { id } task { id } }
    members { role joinedAt user { id username displayName } }
    deleted { type id projectId taskId }
  }
}
"""


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


def ask(client: Client, token: str, query: str, **variables: Any) -> dict[str, Any]:
    body: dict[str, Any] = post(client, query, variables, token=token).json()
    return body


def head(client: Client, token: str, project: Any) -> str:
    body = ask(client, token, HEAD, id=to_global_id("Project", project.pk))
    cursor: str = body["data"]["project"]["changesCursor"]
    return cursor


def upload(actor: Any, task: Any) -> Any:
    file = SimpleUploadedFile("notes.txt", b"Meeting notes\n", content_type="text/plain")
    return services.attachment_add(actor=actor, task_id=task.pk, file=file)


def test_changes_since_the_head_cursor(project, owner, member, admin):
    client, token = Client(), make_token(member, "read")
    start = head(client, token, project)
    kept = make_task(project, member, title="Kept", assignee_id=member.pk)
    gone = make_task(project, member, title="Gone")
    comment = services.comment_add(actor=member, task_id=kept.pk, body="Hello")
    attachment = upload(member, kept)
    services.task_delete(actor=member, task_id=gone.pk)
    services.member_remove(actor=owner, project_id=project.pk, user_id=admin.pk)
    services.project_update(actor=owner, project_id=project.pk, changes={"name": "Renamed"})

    body = ask(client, token, CHANGES, p=to_global_id("Project", project.pk), since=start)

    assert "errors" not in body, body
    data = body["data"]["changes"]
    assert data["hasMore"] is False
    assert data["project"]["name"] == "Renamed"
    assert [t["id"] for t in data["tasks"]] == [to_global_id("Task", kept.pk)]
    assert data["tasks"][0]["assignee"]["username"] == member.username
    assert data["tasks"][0]["commentCount"] == 1
    assert data["comments"] == [
        {
            "id": to_global_id("Comment", comment.pk),
            "body": "Hello",
            "editedAt": None,
            "author": {"id": to_global_id("User", member.pk), "username": member.username},
            "task": {"id": to_global_id("Task", kept.pk), "title": "Kept"},
        }
    ]
    assert [a["id"] for a in data["attachments"]] == [to_global_id("Attachment", attachment.pk)]
    assert data["members"] == []
    assert data["deleted"] == [
        {
            "type": "TASK",
            "id": to_global_id("Task", gone.pk),
            "projectId": to_global_id("Project", project.pk),
            "taskId": None,
        },
        {
            "type": "MEMBERSHIP",
            "id": to_global_id("User", admin.pk),
            "projectId": to_global_id("Project", project.pk),
            "taskId": None,
        },
    ]
    again = ask(client, token, CHANGES, p=to_global_id("Project", project.pk), since=data["cursor"])
    assert again["data"]["changes"]["tasks"] == [] and again["data"]["changes"]["deleted"] == []


def test_a_comment_tombstone_names_its_task(project, member):
    client, token = Client(), make_token(member, "read")
    task = make_task(project, member)
    comment = services.comment_add(actor=member, task_id=task.pk, body="x")
    start = head(client, token, project)
    services.comment_delete(actor=member, comment_id=comment.pk)
    data = ask(client, token, CHANGES, p=to_global_id("Project", project.pk), since=start)
    assert data["data"]["changes"]["deleted"] == [
        {
            "type": "COMMENT",
            "id": to_global_id("Comment", comment.pk),
            "projectId": to_global_id("Project", project.pk),
            "taskId": to_global_id("Task", task.pk),
        }
    ]


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


def test_bad_cursors_and_page_sizes_are_bad_user_input(project, member):
    client, token = Client(), make_token(member, "read")
    other = make_project(member, name="Other")
    foreign = head(client, token, other)
    pid = to_global_id("Project", project.pk)
    for since in ("garbage", foreign, ""):
        body = ask(client, token, CHANGES, p=pid, since=since)
        assert codes(body) == ["BAD_USER_INPUT"], body
        assert body["data"] is None
    for first in (0, -1, 101):
        assert codes(ask(client, token, CHANGES, p=pid, first=first)) == ["BAD_USER_INPUT"]


def test_a_pruned_cursor_is_cursor_too_old(project, member):
    client, token = Client(), make_token(member, "read")
    start = head(client, token, project)
    make_task(project, member, title="Old")
    Event.objects.filter(project=project).update(created_at=timezone.now() - timedelta(days=100))
    OutboxEntry.objects.all().delete()
    prune(before=timezone.now() - timedelta(days=90))
    body = ask(client, token, CHANGES, p=to_global_id("Project", project.pk), since=start)
    assert codes(body) == ["CURSOR_TOO_OLD"]
    assert "re-fetch" in body["errors"][0]["message"]


def test_non_members_and_unknown_projects_are_not_found(project, member, outsider):
    client = Client()
    cursor = head(client, make_token(member, "read"), project)
    token = make_token(outsider, "read")
    pid = to_global_id("Project", project.pk)
    assert codes(ask(client, token, CHANGES, p=pid, since=cursor)) == ["NOT_FOUND"]
    assert codes(ask(client, token, CHANGES, p=to_global_id("Project", 10**6))) == ["NOT_FOUND"]
    assert codes(ask(client, token, CHANGES, p=to_global_id("Task", project.pk))) == ["NOT_FOUND"]
    assert codes(ask(client, token, HEAD, id=pid)) == ["NOT_FOUND"]


def test_changes_cursor_is_batched_over_a_list_of_projects(owner):
    client, token = Client(), make_token(owner, "read")
    for n in range(6):
        make_project(owner, name=f"P{n}")
    query = "{ projects(first: 10) { edges { node { id changesCursor } } } }"
    post(client, query, token=token)  # warm the token cache
    with CaptureQueriesContext(connection) as captured:
        body = post(client, query, token=token).json()
    assert len(body["data"]["projects"]["edges"]) == 6
    few = len(captured)
    make_project(owner, name="P6")
    with CaptureQueriesContext(connection) as captured:
        post(client, query, token=token)
    assert len(captured) == few


def _changes_of_every_kind(project: Any, owner: Any, member: Any, count: int) -> None:
    services.project_update(actor=owner, project_id=project.pk, changes={"name": "Busy"})
    for n in range(count):
        task = make_task(project, member, title=f"T{n}", assignee_id=member.pk)
        services.comment_add(actor=member, task_id=task.pk, body="c")
        upload(member, task)
        gone = make_task(project, member, title=f"gone {n}")
        services.task_delete(actor=member, task_id=gone.pk)


@pytest.mark.usefixtures("token_cache_held")
def test_the_query_count_is_flat_in_page_size(project, owner, member, admin):
    client, token = Client(), make_token(member, "read")
    start = head(client, token, project)
    # Every kind of change among the first few, so pages of 8 and of 100 both hold every kind.
    services.member_add(actor=owner, project_id=project.pk, username=admin.username, role="viewer")
    _changes_of_every_kind(project, owner, member, 30)
    pid = to_global_id("Project", project.pk)
    counts = {}
    ask(client, token, CHANGES, p=pid, since=start, first=1)  # the token is cached from now on
    for first in (8, 100):
        with CaptureQueriesContext(connection) as captured:
            body = ask(client, token, CHANGES, p=pid, since=start, first=first)
        assert "errors" not in body, body
        data = body["data"]["changes"]
        assert data["project"] and data["members"] and data["deleted"] and data["attachments"]
        assert len(data["tasks"]) + len(data["comments"]) + len(data["deleted"]) > first // 2
        counts[first] = len(captured)
    # membership check, replay floor, events, tasks, comments, attachments, members, project
    # (read again after the events), then the loaders: comment counts, the tasks' attachments,
    # their first comments (users come joined; the comments' tasks are on the page)
    assert counts == {8: 11, 100: 11}, counts


def _cost_codes(query: str, variables: dict[str, Any] | None = None) -> list[str]:
    from graphql import parse, validate

    from graph.schema import schema
    from graph.validation import rules

    errors = validate(schema.graphql_schema, parse(query), rules(variables))
    return [(error.extensions or {}).get("code", "") for error in errors]


def test_the_cost_counts_each_list_first_times(settings):
    # changes: 1 + 1 (tasks: 1 + first * (id, title)) + 1 (deleted: 1 + first * (id))
    settings.GRAPHQL_MAX_COST = 3 + 1 + 10 * 2 + 1 + 10 * 1
    query = (
        "query($n: Int) { changes(projectId: 1, first: $n) { tasks { id title } deleted { id } } }"
    )
    assert _cost_codes(query, {"n": 10}) == []
    assert _cost_codes(query, {"n": 11}) == ["QUERY_TOO_COMPLEX"]
    # Without `first`: the default page, 100.
    default = "{ changes(projectId: 1) { tasks { id title } deleted { id } } }"
    assert _cost_codes(default) == ["QUERY_TOO_COMPLEX"]
    settings.GRAPHQL_MAX_COST = 5 + 100 * 3
    assert _cost_codes(default) == []
    # A fragment directly under `changes` counts the same as the fields themselves.
    spread = (
        "query($n: Int) { changes(projectId: 1, first: $n) { ...C } } "
        "fragment C on Changes { tasks { id title } deleted { id } }"
    )
    settings.GRAPHQL_MAX_COST = 3 + 1 + 10 * 2 + 1 + 10 * 1
    assert _cost_codes(spread, {"n": 10}) == []
    assert _cost_codes(spread, {"n": 11}) == ["QUERY_TOO_COMPLEX"]
    # A page of comments under each task multiplies, as everywhere.
    settings.GRAPHQL_MAX_COST = 50_000
    deep = (
        "{ changes(projectId: 1) { tasks { comments(first: 100) { "
        "edges { node { id body createdAt editedAt author { id } } } } } } }"
    )
    assert _cost_codes(deep) == ["QUERY_TOO_COMPLEX"]
