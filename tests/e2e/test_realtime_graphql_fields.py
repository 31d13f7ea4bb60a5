"""Every field a client can select under a subscription's `Event` resolves over the live server
with the values the equivalent query gives: relations that need the database (members, comment
counts, comments, assignees...) as well as those the event payload already carries.

Relations resolve when the event is delivered, so each change here waits for the previous event
before it is made (a later change would otherwise show in an earlier event's relations).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from gql import Client, gql
from graphql_relay import to_global_id

from tasks import services
from tasks.models import Event
from tests.factories import make_task, make_token

from .realtime_client import graphql
from .test_realtime_graphql import in_thread, request, transport

pytestmark = pytest.mark.e2e

RELATIONS = """
  project { id name members { user { username } role } viewerRole }
  task {
    id title commentCount
    assignee { username } createdBy { username }
    comments(first: 5) { totalCount edges { node { body author { username } } } }
    attachments { name }
  }
  actor { id username displayName }
"""
EVENTS = gql(
    f"""subscription($projectId: ID!, $after: String) {{
      projectEvents(projectId: $projectId, after: $after) {{ id type data {RELATIONS} }}
    }}"""
)
TASK_EVENTS = gql(
    f"""subscription($taskId: ID!, $after: String) {{
      taskEvents(taskId: $taskId, after: $after) {{ type ...Relations }}
    }}
    fragment Relations on Event {{ {RELATIONS} }}"""
)
# Only what the event payload carries: served without the database.
PAYLOAD_ONLY = gql(
    """subscription($projectId: ID!, $after: String) {
      projectEvents(projectId: $projectId, after: $after) {
        __typename id type createdAt data actor { __typename id username displayName }
      }
    }"""
)
SAME_AS_QUERY = """query($projectId: ID!, $taskId: ID!, $userId: ID!) {
  project(id: $projectId) { id name members { user { username } role } viewerRole }
  task(id: $taskId) {
    id title commentCount
    assignee { username } createdBy { username }
    comments(first: 5) { totalCount edges { node { body author { username } } } }
    attachments { name }
  }
  actor: node(id: $userId) { ... on User { id username displayName } }
}"""
UPDATE_TASK = """mutation($id: ID!) {
  updateTask(input: {id: $id, title: "Launch v2"}) { task { id } errors { code } }
}"""
ADD_COMMENT = """mutation($taskId: ID!, $body: String!) {
  addComment(input: {taskId: $taskId, body: $body}) { comment { id } errors { code } }
}"""
DELETE_TASK = """mutation($id: ID!) { deleteTask(input: {id: $id}) { deletedId } }"""


@pytest.fixture
def task(project, owner, member, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    task = make_task(project, owner, title="Launch", assignee_id=member.pk)
    services.comment_add(actor=owner, task_id=task.pk, body="First!")
    upload = SimpleUploadedFile("notes.txt", b"plain notes", content_type="text/plain")
    services.attachment_add(actor=owner, task_id=task.pk, file=upload)
    return task


def newest_event_id(project: Any) -> str:
    return str(Event.objects.filter(project=project).latest("id").pk)


def members(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"user": {"username": name}, "role": role} for name, role in pairs]


APOLLO_MEMBERS = members(
    ("olivia", "OWNER"), ("adam", "ADMIN"), ("mia", "MEMBER"), ("victor", "VIEWER")
)


def test_every_relation_under_event_resolves_like_the_query(asgi_server, project, task, member):
    token = make_token(member)
    task_id = to_global_id("Task", task.pk)
    project_id = to_global_id("Project", project.pk)
    variables = {"projectId": project_id, "after": newest_event_id(project)}

    async def scenario() -> list[dict[str, Any]]:
        async with Client(transport=transport(asgi_server, token)) as session:
            events = session.subscribe(request(EVENTS, variables))
            await in_thread(graphql, asgi_server, token, UPDATE_TASK, id=task_id)
            updated = (await anext(events))["projectEvents"]
            await in_thread(graphql, asgi_server, token, ADD_COMMENT, taskId=task_id, body="Second")
            commented = (await anext(events))["projectEvents"]
            await events.aclose()
        return [updated, commented]

    updated, commented = asyncio.run(scenario())
    assert updated["type"] == "task.updated"
    assert updated["project"] == {
        "id": project_id,
        "name": "Apollo",
        "members": APOLLO_MEMBERS,
        "viewerRole": "MEMBER",
    }
    assert updated["task"] == {
        "id": task_id,
        "title": "Launch v2",
        "commentCount": 1,
        "assignee": {"username": "mia"},
        "createdBy": {"username": "olivia"},
        "comments": {
            "totalCount": 1,
            "edges": [{"node": {"body": "First!", "author": {"username": "olivia"}}}],
        },
        "attachments": [{"name": "notes.txt"}],
    }
    assert updated["actor"] == {
        "id": to_global_id("User", member.pk),
        "username": "mia",
        "displayName": "Mia Member",
    }
    assert commented["type"] == "comment.created"
    assert commented["task"]["commentCount"] == 2
    assert commented["task"]["comments"]["edges"][1] == {
        "node": {"body": "Second", "author": {"username": "mia"}}
    }
    # The latest event's relations are the current state: exactly what a query answers now.
    now = graphql(
        asgi_server,
        token,
        SAME_AS_QUERY,
        projectId=project_id,
        taskId=task_id,
        userId=to_global_id("User", member.pk),
    )["data"]
    assert {key: commented[key] for key in ("project", "task", "actor")} == now


def test_task_events_with_a_fragment_and_a_deleted_task(asgi_server, project, task, owner):
    token = make_token(owner)
    task_id = to_global_id("Task", task.pk)
    variables = {"taskId": task_id, "after": newest_event_id(project)}

    async def scenario() -> list[dict[str, Any]]:
        async with Client(transport=transport(asgi_server, token)) as session:
            events = session.subscribe(request(TASK_EVENTS, variables))
            await in_thread(graphql, asgi_server, token, ADD_COMMENT, taskId=task_id, body="Bye")
            commented = (await anext(events))["taskEvents"]
            await in_thread(graphql, asgi_server, token, DELETE_TASK, id=task_id)
            deleted = (await anext(events))["taskEvents"]
            await events.aclose()
        return [commented, deleted]

    commented, deleted = asyncio.run(scenario())
    assert commented["type"] == "comment.created"
    assert commented["project"]["viewerRole"] == "OWNER"
    assert commented["task"]["commentCount"] == 2
    assert commented["task"]["assignee"] == {"username": "mia"}
    assert commented["actor"]["displayName"] == "Olivia Owner"
    # As in the activity query: the relation is null once the task is gone, with no error.
    assert deleted["type"] == "task.deleted"
    assert deleted["task"] is None
    assert deleted["project"]["members"] == APOLLO_MEMBERS


def test_payload_only_selection_including_the_actor(asgi_server, project, task, viewer, member):
    token = make_token(viewer)
    member_token = make_token(member)
    variables = {
        "projectId": to_global_id("Project", project.pk),
        "after": newest_event_id(project),
    }

    async def scenario() -> dict[str, Any]:
        async with Client(transport=transport(asgi_server, token)) as session:
            events = session.subscribe(request(PAYLOAD_ONLY, variables))
            await in_thread(
                graphql,
                asgi_server,
                member_token,
                ADD_COMMENT,
                taskId=to_global_id("Task", task.pk),
                body="Hi",
            )
            event = (await anext(events))["projectEvents"]
            await events.aclose()
        return event

    event = asyncio.run(scenario())
    assert event["__typename"] == "Event"
    assert event["type"] == "comment.created"
    assert event["data"]["body"] == "Hi"
    assert event["actor"] == {
        "__typename": "User",
        "id": to_global_id("User", member.pk),
        "username": "mia",
        "displayName": "Mia Member",
    }
