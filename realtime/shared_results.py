"""One execution per event for the subscribers who would all get the same bytes.

A subscription whose selection reads only the event itself (`id type data createdAt`
`__typename`, no arguments, directives or fragments) resolves to the same payload for every
subscriber, whoever they are. A thousand such subscribers of a project used to execute the same
selection a thousand times per event (`make bench`: 0.24x the bare-websockets fan-out); now the
first subscriber of each event executes it and the rest reuse the encoded payload. Selections
that reach relations (`project`, `task`, `actor`) depend on the viewer and still execute per
subscriber.
"""

from __future__ import annotations

from collections import OrderedDict
from inspect import isawaitable
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLSchema,
    OperationDefinitionNode,
)

from .event_execution import execute_event, execute_on_event

# Fields of `Event` that read the event dict only (see graph/types.py `Event`).
EVENT_ONLY_FIELDS = frozenset({"id", "type", "data", "createdAt", "__typename"})
CACHE_SIZE = 512

_payloads: OrderedDict[tuple[Any, ...], str] = OrderedDict()


def shared_key(
    operation: OperationDefinitionNode, query: str, variables: dict[str, Any] | None
) -> tuple[Any, ...] | None:
    """A key for the payloads this operation shares with identical subscriptions, or None when
    its result may depend on the subscriber."""
    roots = operation.selection_set.selections
    if len(roots) != 1 or not isinstance(roots[0], FieldNode) or roots[0].directives:
        return None
    selections = roots[0].selection_set.selections if roots[0].selection_set else ()
    for selection in selections:
        if (
            not isinstance(selection, FieldNode)
            or selection.name.value not in EVENT_ONLY_FIELDS
            or selection.arguments
            or selection.directives
            or selection.selection_set
        ):
            return None
    return (query, orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS))


def _key(event: dict[str, Any], shared: tuple[Any, ...] | None) -> tuple[Any, ...] | None:
    return (event.get("id"), event.get("type"), *shared) if shared is not None else None


def _encode(result: ExecutionResult, key: tuple[Any, ...] | None) -> str:
    response: dict[str, Any] = {"data": result.data}
    if result.errors:
        from graph.errors import format_error

        response["errors"] = [format_error(error, None) for error in result.errors]
    payload = orjson.dumps(response).decode()
    if key is not None and not response.get("errors"):
        _payloads[key] = payload
        if len(_payloads) > CACHE_SIZE:
            _payloads.popitem(last=False)
    return payload


async def next_payload(
    schema: GraphQLSchema,
    document: DocumentNode,
    event: dict[str, Any],
    context: Any,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    shared: tuple[Any, ...] | None,
    *,
    in_loop: bool = True,
) -> str:
    """The JSON `payload` of a `next` message for this event (`in_loop`: see
    `realtime.event_execution.execute_event`)."""
    key = _key(event, shared)
    if key is not None:
        found = _payloads.get(key)
        if found is not None:
            return found
    result = await execute_event(
        schema, document, event, context, variables, operation_name, in_loop=in_loop
    )
    return _encode(result, key)


def shared_payload_now(
    schema: GraphQLSchema,
    document: DocumentNode,
    event: dict[str, Any],
    context: Any,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    shared: tuple[Any, ...],
) -> str | None:
    """`next_payload` for a shareable operation (`shared_key` not None, so it reads the payload
    only and runs in the loop), without suspending; None if the execution would suspend."""
    key = _key(event, shared)
    found = _payloads.get(key)  # type: ignore[arg-type]
    if found is not None:
        return found
    result = execute_on_event(schema, document, event, context, variables, operation_name)
    if isawaitable(result):
        close = getattr(result, "close", None)
        if close is not None:
            close()
        return None
    return _encode(result, key)
