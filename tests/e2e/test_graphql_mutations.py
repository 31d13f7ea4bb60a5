"""Every mutation of API.md (but uploadAttachment), their UserError codes, NOT_FOUND and
FORBIDDEN, through a real GraphQL client against the live server."""

from __future__ import annotations

from typing import Any

import pytest
from graphql_relay import to_global_id

from tasks.models import Attachment, Comment, Event, Membership, Project, Task
from tests.factories import acquaint, make_project, make_task, make_token

from .graphql_client import client_for, codes, run, run_error

pytestmark = pytest.mark.e2e

ERRORS = "errors { field code message }"


def gid(type_name: str, pk: int) -> str:
    return to_global_id(type_name, pk)


def mutate(client: Any, field: str, input_type: str, selection: str, **input: Any) -> Any:
    query = f"mutation($input: {input_type}!) {{ {field}(input: $input) {{ {selection} }} }}"
    return run(client, query, input=input)[field]


def test_project_mutations(asgi_server: Any, owner: Any):
    client = client_for(asgi_server, make_token(owner))
    created = mutate(
        client,
        "createProject",
        "CreateProjectInput",
        f"project {{ id name description viewerRole }} {ERRORS}",
        name="  Zeus  ",
        description="Thunder",
    )
    assert created["errors"] == []
    assert created["project"]["name"] == "Zeus" and created["project"]["viewerRole"] == "OWNER"
    project_id = created["project"]["id"]

    updated = mutate(
        client,
        "updateProject",
        "UpdateProjectInput",
        f"project {{ name description }} {ERRORS}",
        id=project_id,
        name="Hera",
    )
    assert updated == {"project": {"name": "Hera", "description": "Thunder"}, "errors": []}

    invalid = mutate(
        client,
        "updateProject",
        "UpdateProjectInput",
        f"project {{ name }} {ERRORS}",
        id=project_id,
        name=" ",
        description="x" * 2001,
    )
    assert invalid["project"] is None
    assert {(e["field"], e["code"]) for e in invalid["errors"]} == {
        ("name", "REQUIRED"),
        ("description", "TOO_LONG"),
    }
    assert Project.objects.get().name == "Hera"  # nothing changed

    deleted = mutate(
        client, "deleteProject", "DeleteProjectInput", f"deletedId {ERRORS}", id=project_id
    )
    assert deleted == {"deletedId": project_id, "errors": []}
    assert not Project.objects.exists()


def test_member_mutations_and_codes(
    asgi_server: Any, project: Any, owner: Any, admin: Any, outsider: Any
):
    acquaint(admin, outsider)  # so the admin may add them (tasks.services._addable_user)
    client = client_for(asgi_server, make_token(admin))
    selection = f"membership {{ role user {{ username }} }} project {{ name }} {ERRORS}"
    added = mutate(
        client,
        "addProjectMember",
        "AddProjectMemberInput",
        selection,
        projectId=gid("Project", project.pk),
        username="oscar",
        role="MEMBER",
    )
    assert added["errors"] == []
    assert added["membership"] == {"role": "MEMBER", "user": {"username": "oscar"}}
    unknown = mutate(
        client,
        "addProjectMember",
        "AddProjectMemberInput",
        selection,
        projectId=gid("Project", project.pk),
        username="nobody",
        role="MEMBER",
    )
    assert unknown["errors"][0]["field"] == "username"
    assert unknown["errors"][0]["code"] == "NOT_FOUND"
    # An admin may not make admins: FORBIDDEN, top level.
    error = run_error(
        client,
        "mutation($i: AddProjectMemberInput!) { addProjectMember(input: $i) { errors { code } } }",
        i={"projectId": gid("Project", project.pk), "username": "oscar", "role": "ADMIN"},
    )
    assert codes(error) == ["FORBIDDEN"]

    removed = mutate(
        client,
        "removeProjectMember",
        "RemoveProjectMemberInput",
        f"deletedId membership {{ user {{ username }} }} {ERRORS}",
        projectId=gid("Project", project.pk),
        userId=gid("User", outsider.pk),
    )
    assert removed["errors"] == [] and removed["deletedId"] == gid("User", outsider.pk)
    # Only this project's membership: oscar still shares the admin's earlier project.
    assert not Membership.objects.filter(user=outsider, project=project).exists()

    last_owner = mutate(
        client_for(asgi_server, make_token(owner)),
        "removeProjectMember",
        "RemoveProjectMemberInput",
        ERRORS,
        projectId=gid("Project", project.pk),
        userId=gid("User", owner.pk),
    )
    assert last_owner["errors"][0]["code"] == "LAST_OWNER"


TASK = "task { id title status priority dueDate version completedAt assignee { username } }"


def test_task_mutations(asgi_server: Any, project: Any, member: Any, admin: Any):
    client = client_for(asgi_server, make_token(member))
    created = mutate(
        client,
        "createTask",
        "CreateTaskInput",
        f"{TASK} {ERRORS}",
        projectId=gid("Project", project.pk),
        title="  Plan  ",
        priority="HIGH",
        dueDate="2030-05-01",
        assigneeId=gid("User", admin.pk),
    )
    assert created["errors"] == []
    task = created["task"]
    assert task["title"] == "Plan" and task["priority"] == "HIGH" and task["status"] == "TODO"
    assert task["dueDate"] == "2030-05-01" and task["assignee"] == {"username": "adam"}

    updated = mutate(
        client,
        "updateTask",
        "UpdateTaskInput",
        f"{TASK} {ERRORS}",
        id=task["id"],
        expectedVersion=1,
        status="DONE",
        assigneeId=None,
    )
    assert updated["errors"] == []
    assert updated["task"]["version"] == 2 and updated["task"]["status"] == "DONE"
    assert updated["task"]["completedAt"] is not None and updated["task"]["assignee"] is None
    assert updated["task"]["dueDate"] == "2030-05-01"  # not given: unchanged

    stale = mutate(
        client,
        "updateTask",
        "UpdateTaskInput",
        f"{TASK} {ERRORS}",
        id=task["id"],
        expectedVersion=1,
        title="Overwrite",
    )
    assert stale["task"] is None
    assert stale["errors"][0]["field"] == "expectedVersion"
    assert stale["errors"][0]["code"] == "CONFLICT"
    assert Task.objects.get().title == "Plan"

    deleted = mutate(client, "deleteTask", "DeleteTaskInput", f"deletedId {ERRORS}", id=task["id"])
    assert deleted == {"deletedId": task["id"], "errors": []}
    assert not Task.objects.exists()


def test_task_user_error_codes(asgi_server: Any, project: Any, member: Any, outsider: Any):
    client = client_for(asgi_server, make_token(member))
    cases = [
        ({"title": "   "}, ("title", "REQUIRED")),
        ({"title": "x" * 201}, ("title", "TOO_LONG")),
        ({"title": "ok", "description": "x" * 10_001}, ("description", "TOO_LONG")),
        ({"title": "ok", "assigneeId": gid("User", outsider.pk)}, ("assigneeId", "NOT_A_MEMBER")),
        ({"title": "ok", "assigneeId": "garbage"}, ("assigneeId", "INVALID")),
        ({"title": "bad\x00"}, ("title", "INVALID")),
    ]
    for fields, expected in cases:
        result = mutate(
            client,
            "createTask",
            "CreateTaskInput",
            f"task {{ id }} {ERRORS}",
            projectId=gid("Project", project.pk),
            **fields,
        )
        assert result["task"] is None
        assert [(e["field"], e["code"]) for e in result["errors"]] == [expected], fields
    assert not Task.objects.exists()


def test_viewer_mutation_is_forbidden_and_foreign_ids_not_found(
    asgi_server: Any, project: Any, owner: Any, viewer: Any, outsider: Any
):
    task = make_task(project, owner, title="Mine")
    viewer_client = client_for(asgi_server, make_token(viewer))
    query = (
        "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } errors { code } } }"
    )
    error = run_error(
        viewer_client, query, i={"projectId": gid("Project", project.pk), "title": "x"}
    )
    assert codes(error) == ["FORBIDDEN"]
    assert error.data == {"createTask": None}

    outsider_client = client_for(asgi_server, make_token(outsider))
    error = run_error(
        outsider_client, query, i={"projectId": gid("Project", project.pk), "title": "x"}
    )
    assert codes(error) == ["NOT_FOUND"]
    update = "mutation($i: UpdateTaskInput!) { updateTask(input: $i) { task { id } } }"
    error = run_error(outsider_client, update, i={"id": gid("Task", task.pk), "title": "Hacked"})
    assert codes(error) == ["NOT_FOUND"]
    assert Task.objects.get().title == "Mine" and Task.objects.count() == 1


def test_comment_mutations(asgi_server: Any, project: Any, member: Any, admin: Any):
    task = make_task(project, member, title="Discuss")
    client = client_for(asgi_server, make_token(member))
    selection = f"comment {{ id body editedAt author {{ username }} task {{ title }} }} {ERRORS}"
    added = mutate(
        client, "addComment", "AddCommentInput", selection, taskId=gid("Task", task.pk), body="Hi"
    )
    assert added["errors"] == []
    assert added["comment"]["author"] == {"username": "mia"}
    assert added["comment"]["task"] == {"title": "Discuss"}
    comment_id = added["comment"]["id"]

    empty = mutate(
        client, "addComment", "AddCommentInput", selection, taskId=gid("Task", task.pk), body=""
    )
    assert [(e["field"], e["code"]) for e in empty["errors"]] == [("body", "REQUIRED")]

    edited = mutate(
        client, "updateComment", "UpdateCommentInput", selection, id=comment_id, body="Hello"
    )
    assert edited["comment"]["body"] == "Hello" and edited["comment"]["editedAt"] is not None

    # Someone else's comment: only the author edits.
    error = run_error(
        client_for(asgi_server, make_token(admin)),
        "mutation($i: UpdateCommentInput!) { updateComment(input: $i) { errors { code } } }",
        i={"id": comment_id, "body": "Admin edit"},
    )
    assert codes(error) == ["FORBIDDEN"]

    deleted = mutate(
        client, "deleteComment", "DeleteCommentInput", f"deletedId {ERRORS}", id=comment_id
    )
    assert deleted == {"deletedId": comment_id, "errors": []}
    assert not Comment.objects.exists()


def test_delete_attachment(asgi_server: Any, project: Any, member: Any, viewer: Any):
    task = make_task(project, member, title="Files")
    attachment = Attachment.objects.create(
        task=task, name="a.txt", file="attachments/a.txt", uploaded_by=member
    )
    attachment_id = gid("Attachment", attachment.pk)
    query = "mutation($i: DeleteAttachmentInput!) { deleteAttachment(input: $i) { deletedId } }"
    error = run_error(client_for(asgi_server, make_token(viewer)), query, i={"id": attachment_id})
    assert codes(error) == ["FORBIDDEN"]
    data = run(client_for(asgi_server, make_token(member)), query, i={"id": attachment_id})
    assert data == {"deleteAttachment": {"deletedId": attachment_id}}
    assert not Attachment.objects.exists()
    assert Event.objects.filter(type="attachment.deleted").count() == 1


def test_project_rename_by_non_owner_is_forbidden(asgi_server: Any, project: Any, admin: Any):
    other = make_project(admin, name="Admin's own")
    client = client_for(asgi_server, make_token(admin))
    query = "mutation($i: UpdateProjectInput!) { updateProject(input: $i) { project { name } } }"
    error = run_error(client, query, i={"id": gid("Project", project.pk), "name": "Mine now"})
    assert codes(error) == ["FORBIDDEN"]
    data = run(client, query, i={"id": gid("Project", other.pk), "name": "Renamed"})
    assert data == {"updateProject": {"project": {"name": "Renamed"}}}
