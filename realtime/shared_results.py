"""The `payload` of a subscription's `next` message for one event: the only way one is made.

Every event is executed by `event_execution.execute_event` (a worker thread, as over HTTP) and
encoded once. A selection that reads only the payload (`reads_payload_only`, from
`graph.types.EVENT_PAYLOAD_FIELDS`) gives the same bytes to every subscriber, so subscribers of
the same operation (query, operation name and variables) share one rendering of a live event:
the first to need it starts it, the others await it. The rendering lives on the relayed event
(`groups.RelayedEvent`), so nothing outlives the event. Replayed events are rendered per
subscriber.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from graphql import DocumentNode, ExecutionResult, GraphQLSchema, OperationDefinitionNode

from .event_execution import execute_event, reads_payload_only

SharedKey = tuple[str, str | None, bytes]


def shared_key(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    query: str,
    operation_name: str | None,
    variables: dict[str, Any] | None,
) -> SharedKey | None:
    """What identifies the subscribers that may share this operation's renderings, or None when
    its result may depend on the subscriber."""
    if not reads_payload_only(document, operation):
        return None
    return (query, operation_name, orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS))


def _encode(result: ExecutionResult) -> str:
    response: dict[str, Any] = {"data": result.data}
    if result.errors:
        from graph.errors import format_error

        response["errors"] = [format_error(error, None) for error in result.errors]
    return orjson.dumps(response).decode()


async def _render(
    schema: GraphQLSchema,
    document: DocumentNode,
    event: dict[str, Any],
    context: Any,
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> str:
    result = await execute_event(schema, document, event, context, variables, operation_name)
    return _encode(result)


async def next_payload(
    schema: GraphQLSchema,
    document: DocumentNode,
    event: dict[str, Any],
    context: Any,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    shared: SharedKey | None,
) -> str:
    """The JSON `payload` of a `next` message for this event."""
    renderings: dict[Any, asyncio.Future[str]] | None = getattr(event, "renderings", None)
    if shared is None or renderings is None:
        return await _render(schema, document, event, context, variables, operation_name)
    rendering = renderings.get(shared)
    if rendering is not None and rendering.done():
        return rendering.result()  # the common case for all but the first subscriber
    if rendering is None:
        # A task of its own: a subscriber that completes meanwhile must not cancel the others'.
        rendering = renderings[shared] = asyncio.get_running_loop().create_task(
            _render(schema, document, event, context, variables, operation_name)
        )
    return await asyncio.shield(rendering)
