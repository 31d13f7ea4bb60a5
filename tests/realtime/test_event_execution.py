"""How a subscription's selection runs per event (realtime/event_execution.py): always in a worker
thread with fresh loaders; `reads_payload_only` (from `graph.types.EVENT_PAYLOAD_FIELDS`) only
decides whether subscribers may share the rendering."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import AnonymousUser
from django.db import connections
from graphql import get_operation_ast, parse

from graph.operation import prepare
from graph.types import EVENT_PAYLOAD_FIELDS
from realtime.auth import Credentials
from realtime.event_execution import EventOperation, execute_event, execute_now, reads_payload_only
from realtime.subscriptions import SubscriptionContext
from tasks import services
from tasks.events import event_payload
from tasks.models import Event, Membership, Role
from tests.factories import UserFactory, make_task


def payload_only(selection: str, fragments: str = "") -> bool:
    document = parse(
        "subscription($p: ID!, $show: Boolean = true)"
        f" {{ projectEvents(projectId: $p) {{ {selection} }} }} {fragments}"
    )
    operation = get_operation_ast(document)
    assert operation is not None
    return reads_payload_only(document, operation)


@pytest.mark.parametrize(
    ("selection", "fragments"),
    [
        ("id type data createdAt", ""),
        ("__typename id", ""),
        ("renamed: type data @include(if: $show)", ""),
        ("... on Event { type createdAt }", ""),
        ("...Fields", "fragment Fields on Event { id ...More } fragment More on Event { data }"),
    ],
)
def test_selections_of_the_payload_only(selection: str, fragments: str) -> None:
    assert payload_only(selection, fragments)


@pytest.mark.parametrize(
    ("selection", "fragments"),
    [
        ("id task { id }", ""),
        ("id project { name }", ""),
        ("id actor { username }", ""),  # the actor's current row, like the query
        ("... on Event { task { commentCount } }", ""),
        ("...Fields", "fragment Fields on Event { id project { members { role } } }"),
        ("id ...Other", "fragment Other on Event { task { id } }"),
    ],
)
def test_selections_that_reach_beyond_the_payload(selection: str, fragments: str) -> None:
    assert not payload_only(selection, fragments)


def test_the_payload_fields_are_the_declared_ones() -> None:
    for name in EVENT_PAYLOAD_FIELDS:
        assert payload_only(name)
    assert not payload_only("actor { id }")


TASK_SUBSCRIPTION = """subscription($t: ID!) {
  taskEvents(taskId: $t) { type task { title commentCount } actor { username displayName } }
}"""


def run(query: str, event: dict[str, Any], user: Any) -> Any:
    context = SubscriptionContext(Credentials(user=user, scopes=frozenset({"read"}), token_id=None))
    variables = {"t": event["taskId"]}
    operation = EventOperation(prepare(query, variables), context)
    result = asyncio.run(execute_event(operation, event))
    assert not result.errors, result.errors
    return result.data["taskEvents"]


@pytest.fixture
def worker_connections() -> Iterator[None]:
    yield
    # The worker thread keeps its connection (CONN_MAX_AGE); close it so the test database can go.
    asyncio.run(sync_to_async(connections.close_all)())


def test_relations_resolve_in_a_thread_with_current_values_per_event(
    transactional_db: Any, worker_connections: None, project: Any, owner: Any
) -> None:
    task = make_task(project, owner, title="Launch")
    event = event_payload(Event.objects.get(task_id=task.pk, type="task.created"))
    first = run(TASK_SUBSCRIPTION, event, owner)
    services.comment_add(actor=owner, task_id=task.pk, body="New")
    second = run(TASK_SUBSCRIPTION, event, owner)
    assert first["task"] == {"title": "Launch", "commentCount": 0}
    assert second["task"] == {"title": "Launch", "commentCount": 1}
    assert second["actor"] == {"username": "olivia", "displayName": "Olivia Owner"}
    # Someone without a full name: `displayName` falls back to the username, as in a query.
    nameless = UserFactory(username="nia", first_name="", last_name="")
    Membership.objects.create(project=project, user=nameless, role=Role.MEMBER)
    services.comment_add(actor=nameless, task_id=task.pk, body="Hi")
    by_viewer = event_payload(Event.objects.filter(task_id=task.pk).latest("id"))
    assert run(TASK_SUBSCRIPTION, by_viewer, owner)["actor"] == {
        "username": "nia",
        "displayName": "nia",
    }


def test_an_event_is_executed_through_the_operation_pipeline(monkeypatch) -> None:
    """`graph.operation.execute`, as an HTTP query is: one pipeline for every transport."""
    from graph import operation as pipeline

    calls: list[tuple[Any, Any]] = []
    real = pipeline.execute

    def recording(prepared: Any, root: Any, context: Any, **kwargs: Any) -> Any:
        calls.append((prepared, root))
        return real(prepared, root, context, **kwargs)

    monkeypatch.setattr(pipeline, "execute", recording)
    prepared = prepare(
        "subscription($p: ID!) { projectEvents(projectId: $p) { id type } }", {"p": "UHJvamVjdDox"}
    )
    credentials = Credentials(user=AnonymousUser(), scopes=frozenset({"read"}), token_id=None)
    operation = EventOperation(prepared, SubscriptionContext(credentials))
    event = {"id": "7", "type": "task.updated", "projectId": "UHJvamVjdDox", "data": {}}

    result = execute_now(operation, event)

    assert calls == [(prepared, event)]
    assert result.data == {"projectEvents": {"id": "7", "type": "task.updated"}}
