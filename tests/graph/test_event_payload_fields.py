"""`EVENT_PAYLOAD_FIELDS` (graph/types.py) names the `Event` fields answered from the event payload
alone. Realtime shares one result between subscribers and runs such selections in the event loop
on the strength of that name, so a resolver listed there must never read the viewer (the result
would differ per subscriber) nor the database (forbidden in the event loop)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from graphql import ExecutionResult, GraphQLObjectType, execute, get_named_type, parse

from graph.schema import schema
from graph.types import EVENT_PAYLOAD_FIELDS, Event
from tasks import services
from tasks.events import event_payload
from tasks.models import Event as EventRow


class ViewerTrap:
    """A request context whose viewer must not be read."""

    @property
    def user(self) -> Any:
        raise AssertionError("a payload-only resolver read the viewer")


@pytest.fixture
def payload(project: Any, owner: Any) -> dict[str, Any]:
    services.task_create(actor=owner, project_id=project.pk, title="Write the docs")
    return event_payload(EventRow.objects.latest("id"))


def selection_of(field: str) -> str:
    """The field, with every field of its type below it if it is an object."""
    event_type = schema.graphql_schema.get_type("Event")
    named = get_named_type(event_type.fields[field].type)  # type: ignore[union-attr]
    if isinstance(named, GraphQLObjectType):
        return f"{field} {{ {' '.join(named.fields)} }}"
    return field


def on_event(selection: str, payload: dict[str, Any]) -> ExecutionResult:
    """The selection executed on one event, as a subscription delivers it."""
    document = parse(f'subscription {{ projectEvents(projectId: "1") {{ {selection} }} }}')
    result = execute(
        schema.graphql_schema, document, root_value=payload, context_value=ViewerTrap()
    )
    assert isinstance(result, ExecutionResult)  # nothing here is awaitable
    return result


@pytest.mark.parametrize("field", sorted(EVENT_PAYLOAD_FIELDS))
def test_a_payload_only_field_reads_neither_the_viewer_nor_the_database(
    field: str, payload: dict[str, Any], django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        result = on_event(selection_of(field), payload)

    assert result.errors is None, result.errors
    assert result.data is not None
    assert result.data["projectEvents"][field] is not None


def test_every_payload_only_field_together_answers_from_the_payload(
    payload: dict[str, Any], django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        selection = " ".join(selection_of(field) for field in sorted(EVENT_PAYLOAD_FIELDS))
        result = on_event(f"{selection} __typename", payload)

    assert result.errors is None, result.errors
    assert result.data == {
        "projectEvents": {
            "__typename": "Event",
            "id": payload["id"],
            "seq": payload["seq"],
            "type": "task.created",
            "data": payload["data"],
            "createdAt": datetime.fromisoformat(payload["createdAt"]).isoformat(),
        }
    }


@pytest.mark.parametrize("selection", ["project { id }", "task { id }", "actor { username }"])
def test_the_trap_catches_the_fields_that_are_not_payload_only(
    selection: str, payload: dict[str, Any]
) -> None:
    """The relations read the viewer's loaders: under the trap they fail, which is what the
    tests above would see if such a resolver were listed as payload-only."""
    assert selection.split()[0] not in EVENT_PAYLOAD_FIELDS
    result = on_event(selection, payload)

    assert result.errors, selection
    assert "read the viewer" in str(result.errors[0].original_error)


def test_the_declaration_is_the_event_types_own() -> None:
    served = schema.graphql_schema.get_type("Event")
    assert set(served.fields) >= EVENT_PAYLOAD_FIELDS  # type: ignore[union-attr]
    assert Event.payload_fields is EVENT_PAYLOAD_FIELDS
