"""API.md, "Who may do what", over REST on the live server: VIEWER reads; MEMBER also creates and
edits tasks and comments and uploads; ADMIN also deletes any task/comment/attachment and manages
members; OWNER also deletes or renames the project and can make admins; authors edit/delete their
own comments; a non-member gets not found for everything in the project, never forbidden."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tasks import services
from tests.factories import UserFactory, acquaint, make_task, make_token
from tests.tasks.attachment_files import TEXT

pytestmark = pytest.mark.e2e

ROLES = ["owner", "admin", "member", "viewer", "outsider"]


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


def expect(role: str, allowed: set[str], ok: int) -> int:
    if role == "outsider":
        return 404
    return ok if role in allowed else 403


@pytest.mark.parametrize("role", ROLES)
def test_role_table(request: Any, asgi_server: Any, role: str, project: Any, owner: Any) -> None:
    actor = request.getfixturevalue(role)
    task = make_task(project, owner, title="Owner's task")
    doomed = make_task(project, owner, title="To delete")
    comment = services.comment_add(actor=owner, task_id=task.pk, body="Owner's comment")
    from django.core.files.uploadedfile import SimpleUploadedFile

    attachment = services.attachment_add(
        actor=owner, task_id=task.pk, file=SimpleUploadedFile("a.txt", TEXT), name=None
    )
    newcomer = UserFactory(username=f"new-{role}")
    promoted = UserFactory(username=f"promoted-{role}")
    acquaint(actor, newcomer, promoted)  # people the actor already works with
    p = project.pk
    readers = {"owner", "admin", "member", "viewer"}
    contributors = {"owner", "admin", "member"}
    moderators = {"owner", "admin"}
    owners = {"owner"}

    headers = {"Authorization": f"Bearer {make_token(actor)}"}
    with httpx.Client(base_url=f"{asgi_server.url}/api/v1/", headers=headers, timeout=20) as api:

        def status(method: str, path: str, **kwargs: Any) -> int:
            return api.request(method, path, **kwargs).status_code

        outcomes = {
            "read project": (status("GET", f"projects/{p}/"), expect(role, readers, 200)),
            "read members": (status("GET", f"projects/{p}/members/"), expect(role, readers, 200)),
            "read activity": (
                status("GET", f"projects/{p}/activity/"),
                expect(role, readers, 200),
            ),
            "read task": (status("GET", f"tasks/{task.pk}/"), expect(role, readers, 200)),
            "read comments": (
                status("GET", f"tasks/{task.pk}/comments/"),
                expect(role, readers, 200),
            ),
            "download": (
                status("GET", f"attachments/{attachment.pk}/download/"),
                expect(role, readers, 200),
            ),
            "create task": (
                status("POST", "tasks/", json={"project": p, "title": "New"}),
                expect(role, contributors, 201),
            ),
            "edit task": (
                status("PATCH", f"tasks/{task.pk}/", json={"priority": "high"}),
                expect(role, contributors, 200),
            ),
            "comment": (
                status("POST", f"tasks/{task.pk}/comments/", json={"body": "Hi"}),
                expect(role, contributors, 201),
            ),
            "edit another's comment": (
                status("PATCH", f"comments/{comment.pk}/", json={"body": "Mine now"}),
                expect(role, owners, 200),  # the owner wrote it: authors edit their own
            ),
            "upload": (
                status("POST", f"tasks/{task.pk}/attachments/", files={"file": ("b.txt", TEXT)}),
                expect(role, contributors, 201),
            ),
            "add a viewer": (
                status(
                    "POST",
                    f"projects/{p}/members/",
                    json={"username": newcomer.username, "role": "viewer"},
                ),
                expect(role, moderators, 201),
            ),
            "make an admin": (
                status(
                    "POST",
                    f"projects/{p}/members/",
                    json={"username": promoted.username, "role": "admin"},
                ),
                expect(role, owners, 201),
            ),
            "rename project": (
                status("PATCH", f"projects/{p}/", json={"name": "Renamed"}),
                expect(role, owners, 200),
            ),
            "delete another's attachment": (
                status("DELETE", f"attachments/{attachment.pk}/"),
                expect(role, moderators, 204),
            ),
            "delete another's comment": (
                status("DELETE", f"comments/{comment.pk}/"),
                expect(role, moderators, 204),
            ),
            "delete another's task": (
                status("DELETE", f"tasks/{doomed.pk}/"),
                expect(role, moderators, 204),
            ),
            "delete project": (
                status("DELETE", f"projects/{p}/"),
                expect(role, owners, 204),
            ),
        }
    wrong = {name: got for name, (got, wanted) in outcomes.items() if got != wanted}
    assert not wrong, {name: (wrong[name], outcomes[name][1]) for name in wrong}


@pytest.mark.parametrize("role", ["member", "admin"])
def test_authors_edit_and_delete_their_own_comments(
    request: Any, asgi_server: Any, role: str, project: Any, owner: Any
) -> None:
    author = request.getfixturevalue(role)
    task = make_task(project, owner)
    headers = {"Authorization": f"Bearer {make_token(author)}"}
    with httpx.Client(base_url=f"{asgi_server.url}/api/v1/", headers=headers) as api:
        created = api.post(f"tasks/{task.pk}/comments/", json={"body": "Draft"})
        assert created.status_code == 201
        comment_id = created.json()["id"]
        edited = api.patch(f"comments/{comment_id}/", json={"body": "Final"})
        assert edited.status_code == 200 and edited.json()["body"] == "Final"
        assert api.delete(f"comments/{comment_id}/").status_code == 204


def test_the_creator_of_a_project_is_its_owner(asgi_server: Any, outsider: Any) -> None:
    headers = {"Authorization": f"Bearer {make_token(outsider)}"}
    with httpx.Client(base_url=f"{asgi_server.url}/api/v2/", headers=headers) as api:
        created = api.post("projects/", json={"name": "Mine"}).json()
        members = api.get(f"projects/{created['id']}/members/").json()["results"]
    assert [(m["user"]["id"], m["role"]) for m in members] == [(outsider.pk, "owner")]
