"""Delta sync through the live server (issue 20's acceptance): a client reads a project's state and
its changes cursor, goes offline while 500 changes of every kind happen (tasks created, updated
and deleted, comments written, edited and deleted, attachments uploaded and deleted, members
added, re-roled and removed, the project renamed), then catches up with `changes(since:)` in at
most 5 requests; its local copy then equals a fresh query's state, field by field. Once with
GraphQL (`gql`) and once with REST (`requests`, v2)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from graphql_relay import to_global_id

from tasks import services
from tasks.models import Attachment, Comment, Role, Task
from tests.factories import UserFactory, acquaint, make_token

from .graphql_client import client_for, run

# 500 changes through the services and two full state reads take about 45 s on a quiet
# machine: more than the default per-test timeout allows on a busy one.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(360)]

CHANGES = 500
MAX_REQUESTS = 5


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


def upload(actor: Any, task_id: int, n: int) -> Any:
    file = SimpleUploadedFile(f"notes-{n}.txt", f"Notes {n}\n".encode(), "text/plain")
    return services.attachment_add(actor=actor, task_id=task_id, file=file)


def seed(project: Any, owner: Any, member: Any) -> None:
    """The state the client has before it goes offline."""
    for n in range(12):
        task = services.task_create(actor=owner, project_id=project.pk, title=f"Seed {n}")
        for k in range(2):
            services.comment_add(actor=owner, task_id=task.pk, body=f"Seed comment {n}.{k}")
        if n % 3 == 0:
            upload(member, task.pk, n)


def offline_changes(project: Any, owner: Any, admin: Any, member: Any, count: int) -> None:
    """`count` changes through the services, of every kind, deterministic."""
    rng = random.Random(20)
    pool = [UserFactory(username=f"pool{n}") for n in range(6)]
    acquaint(owner, *pool)
    assignees = [owner.pk, admin.pk, member.pk, None]
    statuses = ["todo", "in_progress", "done"]
    priorities = ["low", "medium", "high", "urgent"]
    pid = project.pk

    def tasks() -> list[int]:
        return list(Task.objects.filter(project_id=pid).values_list("pk", flat=True))

    def comments() -> list[int]:
        return list(
            Comment.objects.filter(task__project_id=pid, author=owner).values_list("pk", flat=True)
        )

    def attachments() -> list[int]:
        return list(Attachment.objects.filter(task__project_id=pid).values_list("pk", flat=True))

    def create_task(n: int) -> None:
        due = date(2031, 1, 1) + timedelta(days=rng.randrange(60)) if rng.random() < 0.5 else None
        services.task_create(
            actor=owner,
            project_id=pid,
            title=f"Task {n}",
            description=f"Made offline, change {n}.",
            priority=rng.choice(priorities),
            due_date=due,
            assignee_id=rng.choice(assignees),
        )

    def update_task(n: int) -> None:
        field = rng.choice(["title", "status", "priority", "assignee_id", "due_date"])
        value: Any = {
            "title": f"Retitled {n}",
            "status": rng.choice(statuses),
            "priority": rng.choice(priorities),
            "assignee_id": rng.choice(assignees),
            "due_date": date(2032, 1, 1) + timedelta(days=n),
        }[field]
        services.task_update(actor=owner, task_id=rng.choice(tasks()), changes={field: value})

    def delete_task(n: int) -> None:
        services.task_delete(actor=owner, task_id=rng.choice(tasks()))

    def add_comment(n: int) -> None:
        services.comment_add(actor=owner, task_id=rng.choice(tasks()), body=f"Comment {n}")

    def edit_comment(n: int) -> None:
        services.comment_update(actor=owner, comment_id=rng.choice(comments()), body=f"Edit {n}")

    def delete_comment(n: int) -> None:
        services.comment_delete(actor=owner, comment_id=rng.choice(comments()))

    def add_attachment(n: int) -> None:
        upload(member, rng.choice(tasks()), n)

    def delete_attachment(n: int) -> None:
        services.attachment_delete(actor=owner, attachment_id=rng.choice(attachments()))

    def change_member(n: int) -> None:
        user = rng.choice(pool)
        current = project.memberships.filter(user=user).values_list("role", flat=True).first()
        if current is not None and rng.random() < 0.4:
            services.member_remove(actor=owner, project_id=pid, user_id=user.pk)
            return
        role = rng.choice([r for r in (Role.VIEWER, Role.MEMBER, Role.ADMIN) if r != current])
        services.member_add(actor=owner, project_id=pid, username=user.username, role=role)

    def update_project(n: int) -> None:
        changes = {"name": f"Apollo {n}"} if n % 2 else {"description": f"Changed at {n}."}
        services.project_update(actor=owner, project_id=pid, changes=changes)

    kinds: list[tuple[Callable[[int], None], int]] = [
        (create_task, 20),
        (update_task, 25),
        (delete_task, 5),
        (add_comment, 15),
        (edit_comment, 8),
        (delete_comment, 5),
        (add_attachment, 8),
        (delete_attachment, 3),
        (change_member, 6),
        (update_project, 5),
    ]
    weighted = [kind for kind, weight in kinds for _ in range(weight)]
    done = {kind.__name__: 0 for kind, _ in kinds}
    for n in range(count):
        kind = rng.choice(weighted)
        kind(n)
        done[kind.__name__] += 1
    assert all(done.values()), done  # every kind happened


# --- GraphQL --------------------------------------------------------------------------------------

TASK_FIELDS = """id title description status priority dueDate createdAt updatedAt completedAt
version project { id } assignee { id username displayName } createdBy { id displayName }"""
COMMENT_FIELDS = "id body createdAt editedAt author { id username } task { id }"
ATTACHMENT_FIELDS = """id name size contentType sha256 width height state url uploadedAt
uploadedBy { id } task { id }"""
MEMBER_FIELDS = "role joinedAt user { id username displayName }"
PROJECT_FIELDS = "id name description createdAt updatedAt"

STATE = f"""query($id: ID!, $after: String) {{
  project(id: $id) {{
    changesCursor {PROJECT_FIELDS} members {{ {MEMBER_FIELDS} }}
    tasks(first: 50, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      edges {{ node {{
        {TASK_FIELDS}
        comments(first: 40) {{ pageInfo {{ hasNextPage }} edges {{ node {{ {COMMENT_FIELDS} }} }} }}
        attachments {{ {ATTACHMENT_FIELDS} }}
      }} }}
    }}
  }}
}}"""

CHANGES_QUERY = f"""query($p: ID!, $since: String) {{
  changes(projectId: $p, since: $since) {{
    cursor hasMore
    project {{ {PROJECT_FIELDS} }}
    tasks {{ {TASK_FIELDS} }}
    comments {{ {COMMENT_FIELDS} }}
    attachments {{ {ATTACHMENT_FIELDS} }}
    members {{ {MEMBER_FIELDS} }}
    deleted {{ type id taskId projectId }}
  }}
}}"""


def graphql_state(client: Any, project_id: str) -> tuple[str, dict[str, Any]]:
    """A fresh query's state (every page), and the cursor read with it."""
    state: dict[str, Any] = {"tasks": {}, "comments": {}, "attachments": {}}
    after = None
    cursor = None
    while True:
        project = run(client, STATE, id=project_id, after=after)["project"]
        if cursor is None:
            cursor = project["changesCursor"]
            fields = ("id", "name", "description", "createdAt", "updatedAt")
            state["project"] = {k: project[k] for k in fields}
            state["members"] = {m["user"]["id"]: m for m in project["members"]}
        for edge in project["tasks"]["edges"]:
            node = edge["node"]
            comments = node.pop("comments")
            assert comments["pageInfo"]["hasNextPage"] is False
            for comment in (e["node"] for e in comments["edges"]):
                state["comments"][comment["id"]] = comment
            for attachment in node.pop("attachments"):
                state["attachments"][attachment["id"]] = attachment
            state["tasks"][node["id"]] = node
        if not project["tasks"]["pageInfo"]["hasNextPage"]:
            return cursor, state
        after = project["tasks"]["pageInfo"]["endCursor"]


def apply(state: dict[str, Any], changes: dict[str, Any], task_of: Callable[[Any], Any]) -> None:
    """Applies one page to a local copy: objects replace by id, then tombstones remove (a task's
    tombstone its comments and attachments too). `task_of(child)`: the task a child belongs to."""
    if changes["project"] is not None:
        state["project"] = changes["project"]
    for name in ("tasks", "comments", "attachments"):
        for obj in changes[name]:
            state[name][obj["id"]] = obj
    for member in changes["members"]:
        state["members"][member["user"]["id"]] = member
    for tombstone in changes["deleted"]:
        kind, key = tombstone["type"].lower(), tombstone["id"]
        if kind == "task":
            state["tasks"].pop(key, None)
            for children in (state["comments"], state["attachments"]):
                for child in [k for k, v in children.items() if task_of(v) == key]:
                    del children[child]
        elif kind == "membership":
            state["members"].pop(key, None)
        else:
            state[kind + "s"].pop(key, None)


def assert_same(local: dict[str, Any], fresh: dict[str, Any]) -> None:
    """Field by field, so a failure names the object and the field."""
    assert local["project"] == fresh["project"]
    for name in ("tasks", "comments", "attachments", "members"):
        assert sorted(local[name]) == sorted(fresh[name]), name
        for key, expected in fresh[name].items():
            got = local[name][key]
            for field, value in expected.items():
                assert got[field] == value, (name, key, field)
            assert set(got) == set(expected), (name, key)


def test_graphql_client_catches_up_after_500_changes(asgi_server, project, owner, admin, member):
    seed(project, owner, member)
    client = client_for(asgi_server, make_token(member, "read"))
    pid = to_global_id("Project", project.pk)
    cursor, local = graphql_state(client, pid)
    assert len(local["tasks"]) == 12 and len(local["attachments"]) == 4

    offline_changes(project, owner, admin, member, CHANGES)

    requests_made = 0
    while True:
        page = run(client, CHANGES_QUERY, p=pid, since=cursor)["changes"]
        requests_made += 1
        apply(local, page, lambda child: child["task"]["id"])
        cursor = page["cursor"]
        if not page["hasMore"]:
            break
        assert requests_made < MAX_REQUESTS
    assert requests_made <= MAX_REQUESTS
    fresh_cursor, fresh = graphql_state(client, pid)
    assert_same(local, fresh)
    assert fresh_cursor == cursor  # nothing happened since: the client is at the head
    assert run(client, CHANGES_QUERY, p=pid, since=cursor)["changes"]["tasks"] == []


# --- REST -----------------------------------------------------------------------------------------


def rest_get(session: requests.Session, url: str, **params: Any) -> Any:
    response = session.get(url, params=params, timeout=20)
    assert response.status_code == 200, response.text
    return response.json()


def rest_state(session: requests.Session, base: str, project_id: int) -> tuple[str, Any]:
    """The head cursor first, then the state, every page of it."""
    cursor = rest_get(session, f"{base}/projects/{project_id}/changes/head/")["cursor"]
    state: dict[str, Any] = {"tasks": {}, "comments": {}, "attachments": {}, "members": {}}
    state["project"] = rest_get(session, f"{base}/projects/{project_id}/")
    url: str | None = f"{base}/projects/{project_id}/members/?page_size=100"
    while url:
        page = rest_get(session, url)
        state["members"].update({m["user"]["id"]: m for m in page["results"]})
        url = page["next"]
    url = f"{base}/tasks/?project={project_id}&page_size=100"
    while url:
        page = rest_get(session, url)
        state["tasks"].update({t["id"]: t for t in page["results"]})
        url = page["next"]
    for task_id in state["tasks"]:
        comments = rest_get(session, f"{base}/tasks/{task_id}/comments/", page_size=100)
        assert comments["next"] is None
        state["comments"].update({c["id"]: c for c in comments["results"]})
        attachments = rest_get(session, f"{base}/tasks/{task_id}/attachments/", page_size=100)
        assert attachments["next"] is None
        state["attachments"].update({a["id"]: a for a in attachments["results"]})
    return cursor, state


def test_rest_client_catches_up_after_500_changes(asgi_server, project, owner, admin, member):
    seed(project, owner, member)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {make_token(member, 'read')}"
    base = f"{asgi_server.url}/api/v2"
    cursor, local = rest_state(session, base, project.pk)
    assert len(local["tasks"]) == 12 and len(local["attachments"]) == 4

    offline_changes(project, owner, admin, member, CHANGES)

    requests_made = 0
    url: str | None = f"{base}/projects/{project.pk}/changes/?since={requests.utils.quote(cursor)}"
    while url:
        page = rest_get(session, url)
        requests_made += 1
        apply(local, page, lambda child: child["task"])
        url = page["next"]
        assert page["has_more"] is (url is not None)
    assert requests_made <= MAX_REQUESTS
    fresh_cursor, fresh = rest_state(session, base, project.pk)
    assert_same(local, fresh)
    assert fresh_cursor == page["cursor"]
