"""How a subscription's selection runs for one event: as an HTTP query does, through
`graph.operation.execute` (the resolvers, loaders and executor HTTP uses), fresh for each event,
answering with the values the equivalent query gives.

graphql-core completes an event's selection where it is called; Django refuses database access
inside the event loop, and any relation under `Event` (`task { commentCount }`, `actor`,
`project { members }`...) reaches the ORM. So an event executes in a worker thread
(`execute_event`), except a live event for a selection that reads only the payload
(`reads_payload_only`): that one never reaches the database and is executed on the loop
(`execute_now`), once per event and operation, and shared by every subscriber of that
operation (shared_results.py says why and what it measured).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
)

from graph.types import EVENT_PAYLOAD_FIELDS

if TYPE_CHECKING:
    from graph.operation import PreparedOperation

SUBSCRIPTION_FIELDS = frozenset({"projectEvents", "taskEvents"})
# `__typename` is answered by the executor itself, from the type: payload-only too.
_PAYLOAD_ONLY = EVENT_PAYLOAD_FIELDS | {"__typename"}


def reads_payload_only(document: DocumentNode, operation: OperationDefinitionNode) -> bool:
    """True when every field the (validated) operation selects under the subscription field is
    one of `graph.types.EVENT_PAYLOAD_FIELDS`, so its result is the same whoever subscribes.
    Fragments count with the fields they spread; directives (`@skip(if: $v)`) depend only on
    the variables, which are part of what makes two operations the same."""
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    roots = _fields(operation.selection_set.selections, fragments)
    if roots is None:
        return False
    for root in roots:
        if root.name.value == "__typename":
            continue
        if root.name.value not in SUBSCRIPTION_FIELDS or root.selection_set is None:
            return False
        below = _fields(root.selection_set.selections, fragments)
        if below is None or any(
            field.name.value not in _PAYLOAD_ONLY or field.selection_set is not None
            for field in below
        ):
            return False
    return True


def _fields(
    selections: tuple[SelectionNode, ...] | list[SelectionNode],
    fragments: dict[str, FragmentDefinitionNode],
    spreading: frozenset[str] = frozenset(),
) -> list[FieldNode] | None:
    """The fields of a selection set with its fragments flattened; None if one is unknown (or,
    which validation forbids anyway, spreads itself)."""
    fields: list[FieldNode] = []
    for selection in selections:
        if isinstance(selection, FieldNode):
            fields.append(selection)
            continue
        if isinstance(selection, InlineFragmentNode):
            spread = _fields(selection.selection_set.selections, fragments, spreading)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name not in fragments or name in spreading:
                return None
            spread = _fields(
                fragments[name].selection_set.selections, fragments, spreading | {name}
            )
        else:
            return None
        if spread is None:
            return None
        fields.extend(spread)
    return fields


@dataclass(frozen=True, slots=True)
class EventOperation:
    """One subscription's operation as it runs for each of its events (the event is the root
    value): prepared by `graph.operation.prepare`, executed by `graph.operation.execute`, as over
    HTTP; `context` is the subscription's."""

    prepared: PreparedOperation
    context: Any


async def execute_event(
    operation: EventOperation, event: dict[str, Any], *, payload_only: bool = False
) -> ExecutionResult:
    """The operation's result for one event, in a worker thread: the one database work uses,
    or, for a selection that `reads_payload_only`, a thread of its own."""
    run = _execute_payload_only if payload_only else database_sync_to_async(execute_now)
    result: ExecutionResult = await run(operation, event)
    return result


def execute_now(operation: EventOperation, event: dict[str, Any]) -> ExecutionResult:
    """The operation's result for one event, executed where it is called: in a worker thread
    (`execute_event`) or, for a live event and a payload-only selection, on the loop."""
    from graph.operation import execute

    from .subscriptions import SubscriptionContext

    # A context of its own: loaders cache relations, which must be current for each event.
    result = execute(operation.prepared, event, SubscriptionContext(operation.context.credentials))
    assert isinstance(result, ExecutionResult)  # synchronous resolvers, as over HTTP
    return result


# Replayed events of payload-only selections never reach the database either, so they do not
# queue on the one thread that every socket's database work shares (channels'
# `database_sync_to_async` outside a request): behind a burst of subscriptions' target checks
# and replays, or the watchdog's access re-checks, a resumed subscription would wait for all.
_payload_renderer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="event-render")
_execute_payload_only = sync_to_async(
    execute_now, thread_sensitive=False, executor=_payload_renderer
)
