"""API.md, Domain > Event: every change made over GraphQL writes exactly one Event, with the
documented `type`, and `data` the changed object as the API shows it (plus `changedFields` on
updates). Read back through the `activity` query with a real GraphQL client."""

from __future__ import annotations

import io
from typing import Any

import pytest
from gql import FileVar, GraphQLRequest
from graphql_relay import to_global_id

from tests.e2e.graphql_client import client_for, run
from tests.factories import acquaint, make_token
from tests.tasks.attachment_files import TEXT

pytestmark = pytest.mark.e2e

USER = "id username displayName"
TASK = f"""id title description status priority dueDate version createdAt updatedAt completedAt
  assignee {{ {USER} }} createdBy {{ {USER} }}"""
COMMENT = f"id body createdAt editedAt author {{ {USER} }}"
ACTIVITY = """query($p: ID!, $after: String) {
  activity(projectId: $p, first: 100, after: $after) {
    edges { node { id type data createdAt actor { username } project { id } task { id } } }
  }
}"""


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


class Recorder:
    """Runs mutations and returns the events each one wrote, in order."""

    def __init__(self, client: Any, project_id: str) -> None:
        self.client = client
        self.project_id = project_id
        self.cursor = self._events(None)[-1]["id"]

    def _events(self, after: str | None) -> list[dict[str, Any]]:
        data = run(self.client, ACTIVITY, p=self.project_id, after=after)
        return [edge["node"] for edge in data["activity"]["edges"]]

    def mutate(
        self, field: str, selection: str, *, then: tuple[str, ...] = (), **variables: Any
    ) -> tuple[Any, dict[str, Any]]:
        """`then`: events the server itself may write right after (a background job that runs at
        once when Celery is eager, later with a worker)."""
        input_type = field[0].upper() + field[1:] + "Input"
        query = (
            f"mutation($input: {input_type}!) {{ {field}(input: $input) "
            f"{{ {selection} errors {{ code }} }} }}"
        )
        request = GraphQLRequest(query, variable_values={"input": variables})
        result = self.client.execute(request, upload_files=field == "uploadAttachment")[field]
        assert result["errors"] == [], result
        events = self._events(self.cursor)
        assert {e["type"] for e in events[1:]} <= set(then), (field, events)
        self.cursor = events[-1]["id"]
        self.later = events[1:]
        assert isinstance(events[0]["data"], dict)
        assert events[0]["actor"] == {"username": "olivia"}
        assert events[0]["project"] == {"id": self.project_id}
        return result, events[0]


def shows(data: dict[str, Any], shown: dict[str, Any]) -> None:
    """`data` carries every field as GraphQL shows it (extra keys are fine)."""
    for key, value in shown.items():
        if isinstance(value, dict):
            shows(data[key], value)
        else:
            assert data[key] == value, (key, data.get(key), value)


def test_every_graphql_change_writes_one_event_shaped_like_the_api(
    asgi_server: Any, owner: Any, member: Any
) -> None:
    acquaint(owner, member)  # so the owner may add them (tasks.services._addable_user)
    client = client_for(asgi_server, make_token(owner))
    created = run(
        client,
        'mutation { createProject(input: {name: "Hermes"}) { project { id } } }',
    )["createProject"]["project"]
    project_id = created["id"]
    log = Recorder(client, project_id)

    result, event = log.mutate(
        "updateProject", "project { id name description createdAt }", id=project_id, name="Iris"
    )
    assert event["type"] == "project.updated" and event["task"] is None
    shows(event["data"], result["project"])
    assert event["data"]["changedFields"] == ["name"]

    result, event = log.mutate(
        "addProjectMember",
        f"membership {{ role joinedAt user {{ {USER} }} }}",
        projectId=project_id,
        username=member.username,
        role="MEMBER",
    )
    assert event["type"] == "member.added"
    shows(event["data"], result["membership"])

    result, event = log.mutate(
        "createTask",
        f"task {{ {TASK} }}",
        projectId=project_id,
        title="Fly",
        priority="HIGH",
        dueDate="2031-03-04",
        assigneeId=to_global_id("User", member.pk),
    )
    task = result["task"]
    assert event["type"] == "task.created" and event["task"] == {"id": task["id"]}
    shows(event["data"], task)

    result, event = log.mutate(
        "updateTask", f"task {{ {TASK} }}", id=task["id"], expectedVersion=1, status="DONE"
    )
    assert event["type"] == "task.updated"
    shows(event["data"], result["task"])
    assert event["data"]["changedFields"] == ["status"]

    result, event = log.mutate(
        "addComment", f"comment {{ {COMMENT} }}", taskId=task["id"], body="Hi"
    )
    comment = result["comment"]
    assert event["type"] == "comment.created" and event["task"] == {"id": task["id"]}
    shows(event["data"], comment)

    result, event = log.mutate(
        "updateComment", f"comment {{ {COMMENT} }}", id=comment["id"], body="Ho"
    )
    assert event["type"] == "comment.updated"
    shows(event["data"], result["comment"])

    _, event = log.mutate("deleteComment", "deletedId", id=comment["id"])
    assert event["type"] == "comment.deleted" and event["data"]["id"] == comment["id"]

    result, event = log.mutate(
        "uploadAttachment",
        f"attachment {{ id name size contentType sha256 url uploadedAt uploadedBy {{ {USER} }} }}",
        then=("attachment.processed",),
        taskId=task["id"],
        file=FileVar(io.BytesIO(TEXT), filename="notes.txt"),
    )
    attachment = result["attachment"]
    assert event["type"] == "attachment.added"
    # The bytes are hashed after the commit: `attachment.processed` carries the sha256.
    shows(event["data"], {k: v for k, v in attachment.items() if k != "sha256"})
    for later in log.later:
        shows(later["data"], attachment)

    _, event = log.mutate("deleteAttachment", "deletedId", id=attachment["id"])
    assert event["type"] == "attachment.deleted" and event["data"]["id"] == attachment["id"]

    _, event = log.mutate("deleteTask", "deletedId", id=task["id"])
    assert event["type"] == "task.deleted" and event["data"]["id"] == task["id"]

    result, event = log.mutate(
        "removeProjectMember",
        "deletedId",
        projectId=project_id,
        userId=to_global_id("User", member.pk),
    )
    assert event["type"] == "member.removed"
    assert event["data"]["user"]["id"] == result["deletedId"] == to_global_id("User", member.pk)
