"""The `payload` of a subscription's `next` message for one event: the only way one is made.

Every event is executed by `event_execution.execute_event` (a worker thread, as over HTTP) and
encoded once. A selection that reads only the payload (`reads_payload_only`, from
`graph.types.EVENT_PAYLOAD_FIELDS`) gives the same bytes to every subscriber, so subscribers of
the same operation (query, operation name and variables) share one rendering of a live event:
the first to need it starts it, the others await it. The rendering lives on the relayed event
(`groups.RelayedEvent`), so nothing outlives the event. Replayed events are rendered per
subscriber.

Two ways to a socket, one rendering. The general one: the subscription's task takes the event
from its stream and awaits `next_payload`. The direct one (`DirectDelivery`), for payload-only
subscriptions only: the hub callback registers the subscriber on the event's shared rendering and,
when that completes, one callback writes every waiting subscriber's frame (its own prefix around
the shared payload) to its outbox. It skips, per subscriber and event, a queue hand-off, a task
wake-up and three async-generator hops: server CPU per 1,000 deliveries (1,000 subscribers, an
`updateTask` each) fell from 53-85 ms to 34-44 ms in three interleaved A/B runs (issue 15 allows
a second path only for a gain over 10%). It never overtakes: a subscription goes direct only
while its general path has nothing queued or in hand and its outbox is idle, and once it has a
direct frame waiting every later event goes direct too, in order.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any

import orjson
from graphql import DocumentNode, ExecutionResult, GraphQLSchema, OperationDefinitionNode

from .event_execution import execute_event, reads_payload_only

SharedKey = tuple[str, str | None, str]


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
    # A str, not orjson's bytes: those keep orjson's whole output buffer (4 KB per subscription).
    variables_key = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS).decode()
    return (query, operation_name, variables_key)


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
    payload_only: bool = False,
) -> str:
    result = await execute_event(
        schema, document, event, context, variables, operation_name, payload_only=payload_only
    )
    return _encode(result)


class SharedRendering:
    """One operation's rendering of one live event, and the direct subscribers waiting for it."""

    __slots__ = ("future", "waiters")

    def __init__(self, future: asyncio.Future[str]) -> None:
        self.future = future
        self.waiters: list[DirectDelivery] = []
        future.add_done_callback(self._done)

    def _done(self, future: asyncio.Future[str]) -> None:
        if not future.cancelled():
            future.exception()  # each waiter gets it; no "never retrieved" when none is left
        waiters, self.waiters = self.waiters, []
        _flush_slice(waiters, 0)


# Frames written per loop callback: between slices, whatever else is ready runs (the writer's
# own HTTP response, other sockets' messages) instead of waiting for the whole fan-out. A waiter
# in a later slice keeps its order: later events queue behind its waiting rendering.
FLUSH_SLICE = 100


def _flush_slice(waiters: list[DirectDelivery], start: int) -> None:
    end = start + FLUSH_SLICE
    for waiter in waiters[start:end]:
        waiter.flush()
    if end < len(waiters):
        asyncio.get_running_loop().call_soon(_flush_slice, waiters, end)


def _shared(
    renderings: dict[Any, SharedRendering],
    shared: SharedKey,
    schema: GraphQLSchema,
    document: DocumentNode,
    event: dict[str, Any],
    context: Any,
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> SharedRendering:
    rendering = renderings.get(shared)
    if rendering is None:
        # A task of its own: a subscriber that completes meanwhile must not cancel the others'.
        rendering = renderings[shared] = SharedRendering(
            asyncio.get_running_loop().create_task(
                _render(schema, document, event, context, variables, operation_name, True)
            )
        )
    return rendering


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
    renderings: dict[Any, SharedRendering] | None = getattr(event, "renderings", None)
    if shared is None or renderings is None:
        return await _render(
            schema, document, event, context, variables, operation_name, shared is not None
        )
    rendering = _shared(
        renderings, shared, schema, document, event, context, variables, operation_name
    ).future
    if rendering.done():
        return rendering.result()  # the common case for all but the first subscriber
    return await asyncio.shield(rendering)


def _unhandled(error: BaseException) -> None:
    raise error


class DirectDelivery:
    """The direct way of one payload-only subscription (see the module docstring).

    `send_text(frame)` queues a frame on the socket's outbox; `idle()` is true while that outbox
    has nothing in flight; `failed(exc)`, set by the event source, hands a rendering's exception
    to the general path, which ends the subscription as it would have."""

    __slots__ = (
        "closed",
        "context",
        "document",
        "failed",
        "idle",
        "operation_name",
        "prefix",
        "schema",
        "send_text",
        "shared",
        "task",
        "variables",
        "waiting",
    )

    def __init__(
        self,
        *,
        shared: SharedKey,
        prefix: str,
        send_text: Callable[[str], None],
        idle: Callable[[], bool],
        schema: GraphQLSchema,
        document: DocumentNode,
        context: Any,
        variables: dict[str, Any] | None,
        operation_name: str | None,
    ) -> None:
        self.shared = shared
        self.prefix = prefix
        self.send_text = send_text
        self.idle = idle
        self.failed: Callable[[BaseException], None] = _unhandled
        self.schema = schema
        self.document = document
        self.context = context
        self.variables = variables
        self.operation_name = operation_name
        # Renderings this subscriber waits for, oldest first; None (not an empty deque) when
        # none, so an idle subscription holds no queue.
        self.waiting: deque[SharedRendering] | None = None
        self.closed = False
        # The subscription's task: once cancelled (the client completed the operation, the
        # socket closes), nothing more goes out, as from the task itself.
        self.task = asyncio.current_task()

    def takes(self, event: dict[str, Any], general_idle: bool) -> bool:
        """Whether `event` goes direct: any event while direct frames still wait (it must follow
        them); otherwise a live one when nothing is queued on the general path nor on the
        outbox."""
        if self.closed or self._cancelled():
            return False
        if self.waiting is not None:
            return True  # behind direct frames still waiting, whatever the event
        return general_idle and getattr(event, "renderings", None) is not None and self.idle()

    def deliver(self, event: dict[str, Any]) -> None:
        renderings: dict[Any, SharedRendering] | None = getattr(event, "renderings", None)
        if renderings is None:  # not relayed live (replayed): rendered for this subscriber
            rendering = SharedRendering(
                asyncio.get_running_loop().create_task(
                    _render(
                        self.schema,
                        self.document,
                        event,
                        self.context,
                        self.variables,
                        self.operation_name,
                        True,
                    )
                )
            )
        else:
            rendering = _shared(
                renderings,
                self.shared,
                self.schema,
                self.document,
                event,
                self.context,
                self.variables,
                self.operation_name,
            )
        future = rendering.future
        if self.waiting is None:
            if future.done() and not future.cancelled() and future.exception() is None:
                self.send_text(f"{self.prefix}{future.result()}}}")
                return
            self.waiting = deque()
        self.waiting.append(rendering)
        if not future.done():
            rendering.waiters.append(self)
        else:
            self.flush()

    def flush(self) -> None:
        """Writes the frames whose renderings are done, in order, up to the first that is not."""
        if self._cancelled():
            self.close()
            return
        waiting = self.waiting
        while waiting and not self.closed and waiting[0].future.done():
            future = waiting.popleft().future
            error = asyncio.CancelledError() if future.cancelled() else future.exception()
            if error is not None:
                self.close()
                self.failed(error)
                return
            self.send_text(f"{self.prefix}{future.result()}}}")
        if not waiting:
            self.waiting = None

    def _cancelled(self) -> bool:
        return self.task is not None and self.task.cancelling() > 0

    def close(self) -> None:
        """No more frames: the subscription ended (completed, refused or failed)."""
        self.closed = True
        self.waiting = None
