"""Where a subscription's selection runs per event (realtime/event_execution.py): in the loop with
no query when it reads only the payload, else in a worker thread with fresh loaders."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from graphql import get_operation_ast, parse
from graphql_relay import to_global_id

from graph.schema import schema
from realtime.auth import Credentials
from realtime.event_execution import execute_event, reads_payload_only
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
        ("__typename id actor { __typename id username displayName }", ""),
        ("renamed: type actor { who: username } data @include(if: $show)", ""),
        ("... on Event { type actor { ... on User { username } } }", ""),
        (
            "...Fields",
            "fragment Fields on Event { id actor { ...Who } } fragment Who on User { id }",
        ),
        ("actor { ...Who }", "fragment Who on User { username ... on Node { id } }"),
    ],
)
def test_selections_of_the_payload_run_in_the_loop(selection: str, fragments: str) -> None:
    assert payload_only(selection, fragments)


@pytest.mark.parametrize(
    ("selection", "fragments"),
    [
        ("id task { id }", ""),
        ("id project { name }", ""),
        ("actor { username } task { title }", ""),
        ("... on Event { task { commentCount } }", ""),
        ("...Fields", "fragment Fields on Event { id project { members { role } } }"),
        ("id actor { username } ...Other", "fragment Other on Event { task { id } }"),
    ],
)
def test_selections_that_need_the_database_run_in_a_thread(selection: str, fragments: str) -> None:
    assert not payload_only(selection, fragments)


TASK_SUBSCRIPTION = parse(
    """subscription($t: ID!) {
      taskEvents(taskId: $t) { type task { title commentCount } actor { username displayName } }
    }"""
)
PAYLOAD_SUBSCRIPTION = parse(
    """subscription($t: ID!) {
      taskEvents(taskId: $t) { id type actor { id username displayName } }
    }"""
)


def run(document: Any, event: dict[str, Any], user: Any, *, in_loop: bool) -> Any:
    context = SubscriptionContext(Credentials(user=user, scopes=frozenset({"read"}), token_id=None))
    variables = {"t": event["taskId"]}
    result = asyncio.run(
        execute_event(
            schema.graphql_schema, document, event, context, variables, None, in_loop=in_loop
        )
    )
    assert not result.errors, result.errors
    return result.data["taskEvents"]


def test_payload_only_selection_makes_no_query(
    project: Any, owner: Any, member: Any, django_assert_num_queries: Any
) -> None:
    task = make_task(project, member, title="Launch")
    event = event_payload(Event.objects.get(task_id=task.pk, type="task.created"))
    with django_assert_num_queries(0):
        data = run(PAYLOAD_SUBSCRIPTION, event, owner, in_loop=True)
    assert data["actor"] == {
        "id": to_global_id("User", member.pk),
        "username": "mia",
        "displayName": "Mia Member",
    }
    assert data["id"] == event["id"]


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
    first = run(TASK_SUBSCRIPTION, event, owner, in_loop=False)
    services.comment_add(actor=owner, task_id=task.pk, body="New")
    second = run(TASK_SUBSCRIPTION, event, owner, in_loop=False)
    assert first["task"] == {"title": "Launch", "commentCount": 0}
    assert second["task"] == {"title": "Launch", "commentCount": 1}
    assert second["actor"] == {"username": "olivia", "displayName": "Olivia Owner"}
    # Someone without a full name: the same `displayName` from the payload as from the row.
    nameless = UserFactory(username="nia", first_name="", last_name="")
    Membership.objects.create(project=project, user=nameless, role=Role.MEMBER)
    services.comment_add(actor=nameless, task_id=task.pk, body="Hi")
    by_viewer = event_payload(Event.objects.filter(task_id=task.pk).latest("id"))
    in_thread = run(TASK_SUBSCRIPTION, by_viewer, owner, in_loop=False)["actor"]
    in_loop = run(PAYLOAD_SUBSCRIPTION, by_viewer, owner, in_loop=True)["actor"]
    assert in_thread == {"username": "nia", "displayName": "nia"}
    assert {key: in_loop[key] for key in in_thread} == in_thread
