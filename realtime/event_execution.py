"""Where a subscription's selection runs for each event.

graphql-core completes an event's selection inside the event loop, where Django refuses database
access, so any relation under `Event` that reaches the ORM (`task { commentCount }`,
`project { members }`...) would fail there. A selection that reads only the event payload
(`id type data createdAt __typename`, and the actor's `id username displayName`, which the payload
carries) still runs in the loop: that is the fan-out hot path, with no thread hop per subscriber.
Any other selection runs in a worker thread like an HTTP query (same resolvers, same loaders,
fresh for each event), so it answers with the values the equivalent query gives.
"""

from __future__ import annotations

from inspect import isawaitable
from typing import Any

from channels.db import database_sync_to_async
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    execute,
)
from graphql.pyutils import AwaitableOrValue

# What each payload-only field may select below it (None: a leaf). Mirrors `graph.types.Event`.
_Allowed = dict[str, "_Allowed | None"]
_ACTOR: _Allowed = {"__typename": None, "id": None, "username": None, "displayName": None}
_EVENT: _Allowed = {
    "__typename": None,
    "id": None,
    "type": None,
    "data": None,
    "createdAt": None,
    "actor": _ACTOR,
}
_ROOT: _Allowed = {"projectEvents": _EVENT, "taskEvents": _EVENT}


def reads_payload_only(document: DocumentNode, operation: OperationDefinitionNode) -> bool:
    """True when every field the (validated) operation selects is answered from the event
    payload alone; fragments count with the fields they spread."""
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    return _within(operation.selection_set.selections, _ROOT, fragments)


def _within(
    selections: tuple[SelectionNode, ...] | list[SelectionNode],
    allowed: _Allowed,
    fragments: dict[str, FragmentDefinitionNode],
) -> bool:
    for selection in selections:
        if isinstance(selection, FieldNode):
            name = selection.name.value
            if name not in allowed:
                return False
            below = allowed[name]
            if selection.selection_set is not None and (
                below is None or not _within(selection.selection_set.selections, below, fragments)
            ):
                return False
        elif isinstance(selection, InlineFragmentNode):
            if not _within(selection.selection_set.selections, allowed, fragments):
                return False
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is None or not _within(
                fragment.selection_set.selections, allowed, fragments
            ):
                return False
        else:
            return False
    return True


async def execute_event(
    schema: GraphQLSchema,
    document: DocumentNode,
    event: dict[str, Any],
    context: Any,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    *,
    in_loop: bool,
) -> ExecutionResult:
    """The operation's result for one event (the root value), in the loop when `in_loop` (only
    for `reads_payload_only` operations), else in a worker thread with fresh loaders."""
    if not in_loop:
        threaded: ExecutionResult = await database_sync_to_async(_execute_in_thread)(
            schema, document, event, context, variables, operation_name
        )
        return threaded
    result = execute_on_event(schema, document, event, context, variables, operation_name)
    if isawaitable(result):
        result = await result
    return result


def execute_on_event(
    schema: GraphQLSchema,
    document: DocumentNode,
    event: dict[str, Any],
    context: Any,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    **options: Any,
) -> AwaitableOrValue[ExecutionResult]:
    """graphql-core's `execute` with the event as the root value (an awaitable when a resolver
    suspends)."""
    return execute(
        schema,
        document,
        root_value=event,
        context_value=context,
        variable_values=variables,
        operation_name=operation_name,
        **options,
    )


def _execute_in_thread(
    schema: GraphQLSchema,
    document: DocumentNode,
    event: dict[str, Any],
    context: Any,
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> ExecutionResult:
    from graph.execution import FastExecutionContext

    from .subscriptions import SubscriptionContext

    result = execute_on_event(
        schema,
        document,
        event,
        # A context of its own: loaders cache relations, which must be current for each event.
        SubscriptionContext(context.credentials),
        variables,
        operation_name,
        execution_context_class=FastExecutionContext,  # as over HTTP: resolvers are synchronous
    )
    assert isinstance(result, ExecutionResult)
    return result
