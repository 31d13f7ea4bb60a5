"""API.md, REST: every path and method it lists, under /api/v1/ and /api/v2/, driven over loopback
with httpx as an outside client would, checking the shapes every response must have: integer `id`
plus `node_id` on every object, snake_case names, lowercase enums, users as ids (v1) or nested
objects with HATEOAS `links` (v2), both pagination styles, `API-Version` and `X-Request-ID`."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import httpx
import pytest

from tasks.models import Role
from tests.factories import UserFactory, acquaint, make_project, make_task, make_token
from tests.tasks.attachment_files import TEXT

pytestmark = pytest.mark.e2e

SNAKE = re.compile(r"[a-z][a-z0-9_]*")
USER_FIELDS = {"created_by", "assignee", "author", "uploaded_by", "actor", "user"}
USER_KEYS = {"id", "node_id", "username", "display_name"}
ENUMS = {
    "status": {"todo", "in_progress", "done"},
    "priority": {"low", "medium", "high", "urgent"},
    "role": {"owner", "admin", "member", "viewer", None},
}
PAGE_KEYS = {"count", "next", "previous", "results"}
CURSOR_KEYS = {"next", "previous", "results"}


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


def check_object(obj: dict[str, Any], version: str, *, links: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    assert isinstance(obj, dict), obj
    for key in obj:
        assert SNAKE.fullmatch(key), f"not snake_case: {key!r}"
    assert isinstance(obj["id"], int) and not isinstance(obj["id"], bool), obj
    assert isinstance(obj["node_id"], str) and obj["node_id"], obj
    for key, allowed in ENUMS.items():
        if key in obj:
            assert obj[key] in allowed, (key, obj[key])
    for key in USER_FIELDS & set(obj):
        value = obj[key]
        if version == "v1":
            assert value is None or (isinstance(value, int) and not isinstance(value, bool)), obj
        elif value is not None:
            assert set(value) >= USER_KEYS, value
            check_object(value, version, links=set())
    if version == "v1":
        assert "links" not in obj
        return
    if "username" in obj and "links" not in obj:
        return  # a nested user
    assert isinstance(obj["links"], list), obj
    for link in obj["links"]:
        assert set(link) == {"rel", "href", "method"}, link
        assert link["href"].startswith("http") and "/api/v2/" in link["href"], link
        assert link["method"] in {"GET", "POST", "PUT", "PATCH", "DELETE"}
    rels = {link["rel"] for link in obj["links"]}
    assert rels >= links, (rels, links)


def check_response(response: httpx.Response, status: int, version: str) -> Any:
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["API-Version"] == version
    assert response.headers["X-Request-ID"]
    if status == 204:
        assert response.content == b""
        return None
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def check_page(body: Any, version: str, *, cursor: bool, links: set[str]) -> list[Any]:
    assert set(body) == (CURSOR_KEYS if cursor else PAGE_KEYS), set(body)
    for item in body["results"]:
        check_object(item, version, links=links)
    return list(body["results"])


SELF_RUD = {"self", "update", "delete"}


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_every_listed_path_and_method(
    asgi_server: Any, version: str, owner: Any, member: Any, project: Any
) -> None:
    newcomer = UserFactory(username=f"newcomer-{version}")
    acquaint(owner, newcomer)  # so the owner may add them (tasks.services._addable_user)
    headers = {"Authorization": f"Bearer {make_token(owner)}"}
    with httpx.Client(
        base_url=f"{asgi_server.url}/api/{version}/", headers=headers, timeout=20
    ) as api:
        me = check_response(api.get("me/"), 200, version)
        check_object(me, version, links={"self"} if version == "v2" else set())
        assert me["id"] == owner.pk and me["username"] == owner.username
        assert me["display_name"] == "Olivia Owner"

        # projects/ (list, create), projects/{id}/ (get, patch, delete)
        page = check_response(
            api.get("projects/", params={"page": 1, "page_size": 1}), 200, version
        )
        check_page(page, version, cursor=False, links=SELF_RUD)
        created = check_response(
            api.post("projects/", json={"name": "  Side  ", "description": "d"}), 201, version
        )
        check_object(created, version, links=SELF_RUD | {"members", "activity"})
        assert created["name"] == "Side" and created["role"] == "owner"
        side = created["id"]
        got = check_response(api.get(f"projects/{side}/"), 200, version)
        assert got["id"] == side
        patched = check_response(
            api.patch(f"projects/{side}/", json={"name": "Side B"}), 200, version
        )
        assert patched["name"] == "Side B"

        # projects/{id}/members/ (list, add), projects/{id}/members/{user_id}/ (delete)
        members = check_response(api.get(f"projects/{project.pk}/members/"), 200, version)
        check_page(members, version, cursor=False, links={"self", "delete"})
        assert members["count"] == 4
        added = check_response(
            api.post(
                f"projects/{project.pk}/members/",
                json={"username": newcomer.username, "role": "viewer"},
            ),
            201,
            version,
        )
        check_object(added, version, links={"self", "delete"})
        assert added["role"] == "viewer"
        one = check_response(api.get(f"projects/{project.pk}/members/{newcomer.pk}/"), 200, version)
        assert one["id"] == added["id"]
        if version == "v2":
            self_link = next(link for link in added["links"] if link["rel"] == "self")
            assert api.get(self_link["href"]).json()["id"] == added["id"]
        huge = api.get(f"projects/{project.pk}/members/{10**30}/")
        assert (
            huge.status_code == 404 and huge.headers["content-type"] == "application/problem+json"
        )
        check_response(api.delete(f"projects/{project.pk}/members/{newcomer.pk}/"), 204, version)

        # tasks/ (list, create), tasks/{id}/ (get, put, patch, delete)
        body = {
            "project": project.pk,
            "title": "  Write the contract  ",
            "description": "All of it.",
            "status": "in_progress",
            "priority": "high",
            "due_date": "2030-01-31",
            "assignee": member.pk,
        }
        task = check_response(api.post("tasks/", json=body), 201, version)
        check_object(task, version, links=SELF_RUD | {"comments", "attachments"})
        assert task["title"] == "Write the contract" and task["version"] == 1
        assert (task["status"], task["priority"], task["due_date"]) == (
            "in_progress",
            "high",
            "2030-01-31",
        )
        assert task["project"] == project.pk
        assignee = task["assignee"] if version == "v1" else task["assignee"]["id"]
        assert assignee == member.pk
        task_id = task["id"]
        tasks = check_response(api.get("tasks/", params={"project": project.pk}), 200, version)
        assert task_id in [t["id"] for t in check_page(tasks, version, cursor=True, links=SELF_RUD)]
        got = api.get(f"tasks/{task_id}/")
        check_object(check_response(got, 200, version), version, links=SELF_RUD)
        assert got.headers["ETag"]
        put = check_response(
            api.put(f"tasks/{task_id}/", json={**body, "title": "Replaced", "status": "done"}),
            200,
            version,
        )
        assert put["title"] == "Replaced" and put["completed_at"] and put["version"] == 2
        patch = check_response(
            api.patch(f"tasks/{task_id}/", json={"status": "todo"}), 200, version
        )
        assert patch["completed_at"] is None and patch["version"] == 3

        # tasks/{id}/comments/ (list, create), comments/{id}/ (patch, delete)
        comment = check_response(
            api.post(f"tasks/{task_id}/comments/", json={"body": " Looks good "}), 201, version
        )
        check_object(comment, version, links=SELF_RUD)
        assert comment["body"] == "Looks good"
        comments = check_response(api.get(f"tasks/{task_id}/comments/"), 200, version)
        assert [c["id"] for c in check_page(comments, version, cursor=False, links=SELF_RUD)] == [
            comment["id"]
        ]
        edited = check_response(
            api.patch(f"comments/{comment['id']}/", json={"body": "Edited"}), 200, version
        )
        assert edited["body"] == "Edited" and edited["edited_at"]
        check_response(api.delete(f"comments/{comment['id']}/"), 204, version)

        # tasks/{id}/attachments/ (list, multipart upload), attachments/{id}/ (get, delete),
        # attachments/{id}/download/
        attachment = check_response(
            api.post(
                f"tasks/{task_id}/attachments/",
                files={"file": ("notes.txt", TEXT, "application/octet-stream")},
            ),
            201,
            version,
        )
        check_object(attachment, version, links={"self", "delete"})
        assert attachment["content_type"].startswith("text/plain")
        attachments = check_response(api.get(f"tasks/{task_id}/attachments/"), 200, version)
        check_page(attachments, version, cursor=False, links={"self", "delete"})
        check_response(api.get(f"attachments/{attachment['id']}/"), 200, version)
        download = api.get(f"attachments/{attachment['id']}/download/")
        assert download.status_code == 200 and download.content == TEXT
        assert download.headers["X-Request-ID"]
        check_response(api.delete(f"attachments/{attachment['id']}/"), 204, version)

        # projects/{id}/activity/ (cursor pagination, newest first)
        activity = check_response(
            api.get(f"projects/{project.pk}/activity/", params={"page_size": 100}), 200, version
        )
        events = check_page(activity, version, cursor=True, links=set())
        types = [event["type"] for event in events]
        assert types[0] == "attachment.deleted"
        assert set(types) >= {
            "member.added", "member.removed", "task.created", "task.updated", "comment.created",
            "comment.updated", "comment.deleted", "attachment.added", "attachment.deleted",
        }  # fmt: skip
        assert [event["id"] for event in events] == sorted((e["id"] for e in events), reverse=True)
        assert all(isinstance(event["data"], dict) for event in events)

        check_response(api.delete(f"tasks/{task_id}/"), 204, version)
        missing = api.get(f"tasks/{task_id}/")
        assert missing.status_code == 404 and missing.headers["API-Version"] == version
        check_response(api.delete(f"projects/{side}/"), 204, version)
        gone = api.get(f"projects/{side}/")
        assert gone.status_code == 404 and gone.headers["API-Version"] == version


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_v2_links_lead_where_they_say(asgi_server: Any, version: str, owner: Any, project: Any):
    task = make_task(project, owner, title="Linked")
    headers = {"Authorization": f"Bearer {make_token(owner)}"}
    with httpx.Client(headers=headers, timeout=20) as http:
        body = http.get(f"{asgi_server.url}/api/{version}/tasks/{task.pk}/").json()
        if version == "v1":
            assert "links" not in body
            return
        by_rel = {link["rel"]: link for link in body["links"]}
        assert by_rel["self"]["method"] == "GET"
        assert http.get(by_rel["self"]["href"]).json()["id"] == task.pk
        assert by_rel["update"]["method"] in {"PATCH", "PUT"}
        assert by_rel["delete"]["method"] == "DELETE"
        for rel in ("comments", "attachments", "project"):
            assert http.get(by_rel[rel]["href"]).status_code == 200, rel


def test_task_pagination_defaults_and_cap(asgi_server: Any, owner: Any, project: Any) -> None:
    for number in range(27):
        make_task(project, owner, title=f"Task {number:02d}")
    headers = {"Authorization": f"Bearer {make_token(owner)}"}
    with httpx.Client(base_url=f"{asgi_server.url}/api/v1/", headers=headers) as api:
        first = api.get("tasks/").json()
        assert set(first) == CURSOR_KEYS and len(first["results"]) == 25
        assert first["previous"] is None and "cursor=" in first["next"]
        second = httpx.get(first["next"], headers=headers).json()
        assert len(second["results"]) == 2 and second["next"] is None
        seen = {t["id"] for t in first["results"]} | {t["id"] for t in second["results"]}
        assert len(seen) == 27
        capped = api.get("tasks/", params={"page_size": 500}).json()
        assert len(capped["results"]) == 27  # <= 100: all of them
        paged = api.get("projects/", params={"page_size": 1, "page": 1}).json()
        assert set(paged) == PAGE_KEYS and paged["count"] == 1


def test_task_list_filters_over_the_wire(
    asgi_server: Any, owner: Any, member: Any, project: Any
) -> None:
    a = make_task(project, owner, title="Alpha report", status="todo", priority="low")
    b = make_task(
        project, owner, title="Beta", description="the report", status="done", priority="urgent",
        assignee_id=member.pk, due_date=date(2030, 1, 10),
    )  # fmt: skip
    c = make_task(project, owner, title="Gamma", status="in_progress", priority="high")
    headers = {"Authorization": f"Bearer {make_token(owner)}"}

    def ids(params: Any) -> list[int]:
        response = httpx.get(f"{asgi_server.url}/api/v1/tasks/", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [t["id"] for t in response.json()["results"]]

    assert set(ids([("status", "todo"), ("status", "done")])) == {a.pk, b.pk}
    assert ids({"priority": "urgent"}) == [b.pk]
    assert ids({"assignee": member.pk}) == [b.pk]
    assert set(ids({"unassigned": "true", "project": project.pk})) == {a.pk, c.pk}
    assert ids({"due_before": "2030-02-01"}) == [b.pk]
    assert ids({"due_after": "2030-01-01"}) == [b.pk]
    assert set(ids({"search": "report"})) == {a.pk, b.pk}
    assert ids({"ordering": "priority"}) == [a.pk, c.pk, b.pk]
    assert ids({"ordering": "-priority"}) == [b.pk, c.pk, a.pk]
    assert ids({"ordering": "title"}) == [a.pk, b.pk, c.pk]
    assert ids({"ordering": "-created_at"}) == [c.pk, b.pk, a.pk]
    assert ids({"ordering": "due_date"})[0] == b.pk  # nulls last


def test_put_accepts_the_tasks_own_project_as_written(
    asgi_server: Any, owner: Any, project: Any
) -> None:
    """A task is written with `project` among its fields; a PUT of that same representation
    must work, while moving the task to another project is refused."""
    other = make_project(owner, name="B")
    task = make_task(project, owner, title="Keep")
    headers = {"Authorization": f"Bearer {make_token(owner)}"}
    written = {
        "project": project.pk,
        "title": "Kept",
        "description": "",
        "status": "todo",
        "priority": "medium",
        "due_date": None,
        "assignee": None,
    }
    url = f"{asgi_server.url}/api/v1/tasks/{task.pk}/"
    put = httpx.put(url, json=written, headers=headers)
    assert put.status_code == 200, put.text
    assert put.json()["title"] == "Kept" and put.json()["project"] == project.pk
    patch = httpx.patch(url, json={"project": project.pk, "priority": "low"}, headers=headers)
    assert patch.status_code == 200, patch.text
    moved = httpx.put(url, json={**written, "project": other.pk}, headers=headers)
    assert moved.status_code == 400
    assert moved.headers["content-type"] == "application/problem+json"
    assert list(moved.json()["errors"]) == ["project"]
    task.refresh_from_db()
    assert task.project_id == project.pk and task.version == 3


def test_membership_roles_are_written_lowercase(asgi_server: Any, owner: Any, project: Any):
    user = UserFactory(username="rolecheck")
    acquaint(owner, user)
    headers = {"Authorization": f"Bearer {make_token(owner)}"}
    url = f"{asgi_server.url}/api/v1/projects/{project.pk}/members/"
    upper = httpx.post(url, json={"username": user.username, "role": "ADMIN"}, headers=headers)
    assert upper.status_code == 400
    ok = httpx.post(url, json={"username": user.username, "role": "admin"}, headers=headers)
    assert ok.status_code == 201 and ok.json()["role"] == Role.ADMIN == "admin"
