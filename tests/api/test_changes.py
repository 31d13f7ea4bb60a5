"""REST delta sync (v2 only): `projects/{id}/changes/?since=&page_size=` and
`projects/{id}/changes/head/`. The objects as the v2 endpoints show them, tombstones, `next`
links, 400 / 404 / 410 problems, and not in v1."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from graphql_relay import to_global_id

from tasks import services
from tasks.models import Event, OutboxEntry
from tasks.retention import prune
from tests.factories import make_project, make_task

from .conftest import PROBLEM

pytestmark = pytest.mark.django_db


def head(client: Any, project: Any) -> str:
    response = client.get(f"projects/{project.pk}/changes/head/")
    assert response.status_code == 200, response.content
    cursor: str = response.json()["cursor"]
    return cursor


def test_changes_since_the_head_cursor(api, project, owner, member, admin):
    client = api(member, version="v2")
    start = head(client, project)
    kept = make_task(project, member, title="Kept", assignee_id=member.pk)
    gone = make_task(project, member, title="Gone")
    comment = services.comment_add(actor=member, task_id=kept.pk, body="Hello")
    services.task_delete(actor=member, task_id=gone.pk)
    services.member_remove(actor=owner, project_id=project.pk, user_id=admin.pk)
    services.project_update(actor=owner, project_id=project.pk, changes={"name": "Renamed"})

    response = client.get(f"projects/{project.pk}/changes/", {"since": start})

    assert response.status_code == 200, response.content
    assert response["API-Version"] == "v2"
    body = response.json()
    assert body["has_more"] is False and body["next"] is None
    assert body["project"]["name"] == "Renamed" and body["project"]["role"] == "member"
    detail = client.get(f"tasks/{kept.pk}/").json()
    assert body["tasks"] == [detail]  # exactly as the task's own endpoint shows it
    assert body["comments"][0]["id"] == comment.pk
    assert body["comments"][0]["author"]["username"] == member.username
    assert body["attachments"] == [] and body["members"] == []
    assert body["deleted"] == [
        {
            "type": "task",
            "id": gone.pk,
            "node_id": to_global_id("Task", gone.pk),
            "project": project.pk,
            "task": None,
        },
        {
            "type": "membership",
            "id": admin.pk,
            "node_id": to_global_id("User", admin.pk),
            "project": project.pk,
            "task": None,
        },
    ]
    again = client.get(f"projects/{project.pk}/changes/", {"since": body["cursor"]}).json()
    assert again["tasks"] == [] and again["deleted"] == [] and again["cursor"] == body["cursor"]


def test_pages_link_to_the_next_one(api, project, member):
    client = api(member, version="v2")
    start = head(client, project)
    tasks = [make_task(project, member, title=f"T{n}") for n in range(5)]
    first = client.get(f"projects/{project.pk}/changes/", {"since": start, "page_size": 2}).json()
    assert [t["id"] for t in first["tasks"]] == [t.pk for t in tasks[:2]]
    assert first["has_more"] is True and "page_size=2" in first["next"]
    second = client.get(first["next"]).json()
    assert [t["id"] for t in second["tasks"]] == [t.pk for t in tasks[2:4]]
    third = client.get(second["next"]).json()
    assert [t["id"] for t in third["tasks"]] == [tasks[4].pk]
    assert third["has_more"] is False and third["next"] is None


@pytest.mark.parametrize("since", ["garbage", "", "a" * 1000])
def test_a_malformed_cursor_is_a_400_problem(api, project, member, since):
    response = api(member, version="v2").get(f"projects/{project.pk}/changes/", {"since": since})
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert "since" in response.json()["errors"]


def test_a_cursor_of_another_project_is_a_400_problem(api, project, member):
    client = api(member, version="v2")
    foreign = head(client, make_project(member, name="Other"))
    response = client.get(f"projects/{project.pk}/changes/", {"since": foreign})
    assert response.status_code == 400 and response.json()["errors"]["since"]


def test_a_bad_page_size_is_a_400_problem(api, project, member):
    client = api(member, version="v2")
    for size in ("0", "ten"):
        response = client.get(f"projects/{project.pk}/changes/", {"page_size": size})
        assert response.status_code == 400 and "page_size" in response.json()["errors"]


def test_a_pruned_cursor_is_410_cursor_too_old(api, project, member):
    client = api(member, version="v2")
    start = head(client, project)
    make_task(project, member, title="Old")
    Event.objects.filter(project=project).update(created_at=timezone.now() - timedelta(days=100))
    OutboxEntry.objects.all().delete()
    prune(before=timezone.now() - timedelta(days=90))
    for params in ({"since": start}, {}):
        response = client.get(f"projects/{project.pk}/changes/", params)
        assert response.status_code == 410
        assert response["Content-Type"] == PROBLEM
        problem = response.json()
        assert problem["code"] == "cursor_too_old" and problem["title"] == "Gone"
        assert problem["type"] == "urn:taskhub:problem:cursor_too_old"


def test_non_members_and_unknown_projects_are_404(api, project, member, outsider):
    cursor = head(api(member, version="v2"), project)
    client = api(outsider, version="v2")
    for path in (f"projects/{project.pk}/changes/", f"projects/{project.pk}/changes/head/"):
        response = client.get(path, {"since": cursor})
        assert response.status_code == 404 and response["Content-Type"] == PROBLEM
    assert client.get("projects/999999/changes/").status_code == 404
    assert api(None, version="v2").get(f"projects/{project.pk}/changes/").status_code == 401


def test_v1_has_no_changes_endpoint(api, project, member):
    client = api(member, version="v1")
    assert client.get(f"projects/{project.pk}/changes/").status_code == 404
    assert client.get(f"projects/{project.pk}/changes/head/").status_code == 404


@pytest.mark.usefixtures("token_cache_held")
def test_the_query_count_is_flat_in_page_size(api, project, owner, member, admin):
    client = api(member, version="v2")
    start = head(client, project)
    services.member_add(actor=owner, project_id=project.pk, username=admin.username, role="viewer")
    services.project_update(actor=owner, project_id=project.pk, changes={"name": "Busy"})
    for n in range(30):
        task = make_task(project, member, title=f"T{n}", assignee_id=member.pk)
        services.comment_add(actor=member, task_id=task.pk, body="c")
        gone = make_task(project, member, title=f"gone {n}")
        services.task_delete(actor=member, task_id=gone.pk)
    counts = {}
    client.get(f"projects/{project.pk}/changes/head/")  # the token is cached from now on
    for size in (6, 100):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(
                f"projects/{project.pk}/changes/", {"since": start, "page_size": size}
            )
        body = response.json()
        assert body["project"] and body["members"] and body["tasks"] and body["deleted"]
        assert body["comments"]
        counts[size] = len(captured)
    # membership check, replay floor, events, tasks, comments, members, project, your role there
    assert counts == {6: 8, 100: 8}, counts


def test_only_the_v2_document_has_the_endpoints(client):
    v1 = client.get("/api/schema/?format=json").json()["paths"]
    v2 = client.get("/api/schema/?format=json&version=v2").json()["paths"]
    assert not [path for path in v1 if "changes" in path]
    operation = v2["/api/v2/projects/{id}/changes/"]["get"]
    assert {"200", "400", "404", "410"} <= set(operation["responses"])
    assert {p["name"] for p in operation["parameters"]} == {"id", "since", "page_size"}
    assert "/api/v2/projects/{id}/changes/head/" in v2
