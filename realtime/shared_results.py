"""The `payload` of a subscription's `next` message for one event: the only way one is made.

Every event is executed by `event_execution` and encoded once per operation it is rendered for:

- A live event (relayed by the hub: `groups.RelayedEvent`) for a selection that reads only the
  payload (`reads_payload_only`, from `graph.types.EVENT_PAYLOAD_FIELDS`) gives the same bytes to
  every subscriber: it is executed on the loop, the moment its first subscriber needs it, once
  per operation (query, operation name and variables), and the rendering is kept on the event
  for the others, so nothing outlives the event.
- Anything else (a selection reaching the database, or a replayed event) is executed in a worker
  thread for its subscriber alone, as an HTTP query would be (`_render`).

Why live payload-only events are not rendered in a thread: the hop put the whole fan-out behind
it. With 1,000 subscribers (SQLite, one uvicorn process), the hub relayed the event to all of them
first (2.5-4.5 ms), and only when the thread had rendered it (a further 1.5-2.5 ms, contending for
the GIL with the relay) did the first frame leave; rendered where it is needed, the first frame
leaves as the relay starts and the rest follow in the same pass. The execution costs the same CPU
either way (it holds the GIL in a thread too); see bench/PROFILES.md.

Two ways to a socket, one rendering. The general one: the subscription's task takes the event
from its stream and awaits `next_payload`. The direct one (`DirectDelivery`), for payload-only
subscriptions only: the hub callback writes the frame (the subscription's own prefix around the
shared payload) to the socket's outbox at once. It skips, per subscriber and event, a queue
hand-off, a task wake-up and three async-generator hops: server CPU per 1,000 deliveries (1,000
subscribers, an `updateTask` each) fell from 53-85 ms to 34-44 ms in three interleaved A/B runs
(issue 15 allows a second path only for a gain over 10%). It never overtakes: an event goes direct
only when it is live, the general path has nothing queued or in hand, and the outbox is idle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson
from graphql import DocumentNode, ExecutionResult, OperationDefinitionNode

from .event_execution import EventOperation, execute_event, execute_now, reads_payload_only

if TYPE_CHECKING:
    from graph.operation import PreparedOperation

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


# Subscribers of one payload-only operation keep one key and one prepared operation between them
# (first come, kept), not a copy each of the query text, the variables, their encoding and the
# prepared operation: about 0.6 KB per subscription (tracemalloc, 1,000 idle subscribers).
# Bounded: past the limit it starts again (subscriptions already made keep what they hold).
_canonical: dict[SharedKey, tuple[SharedKey, PreparedOperation]] = {}
CANONICAL_LIMIT = 1024


def canonical(
    shared: SharedKey, prepared: PreparedOperation
) -> tuple[SharedKey, PreparedOperation]:
    """The key and prepared operation every subscriber of this operation shares. Sharing is safe:
    the same key means the same query, operation and variables (their sorted JSON is part of
    it), and a prepared operation is immutable."""
    found = _canonical.get(shared)
    if found is None or found[1].schema is not prepared.schema:
        if len(_canonical) >= CANONICAL_LIMIT:
            _canonical.clear()
        found = _canonical[shared] = (shared, prepared)
    return found


def _encode(result: ExecutionResult) -> str:
    response: dict[str, Any] = {"data": result.data}
    if result.errors:
        from graph.errors import format_error

        response["errors"] = [format_error(error, None) for error in result.errors]
    return orjson.dumps(response).decode()


async def _render(
    operation: EventOperation, event: dict[str, Any], payload_only: bool = False
) -> str:
    """One subscriber's rendering, in a worker thread (replayed events, selections beyond the
    payload)."""
    return _encode(await execute_event(operation, event, payload_only=payload_only))


def _render_payload(operation: EventOperation, event: dict[str, Any]) -> str:
    """A payload-only selection's rendering of a live event, here on the loop."""
    return _encode(execute_now(operation, event))


def _shared(
    renderings: dict[SharedKey, str | Exception],
    shared: SharedKey,
    operation: EventOperation,
    event: dict[str, Any],
) -> str:
    """The operation's rendering of this live event: made by its first subscriber, reused by the
    others (a failure too: each of them ends as the first did)."""
    rendering = renderings.get(shared)
    if rendering is None:
        try:
            rendering = _render_payload(operation, event)
        except Exception as error:  # noqa: BLE001 - kept for its other subscribers, raised below
            rendering = error
        renderings[shared] = rendering
    if isinstance(rendering, Exception):
        raise rendering
    return rendering


async def next_payload(
    operation: EventOperation, event: dict[str, Any], shared: SharedKey | None
) -> str:
    """The JSON `payload` of a `next` message for this event."""
    renderings: dict[SharedKey, str | Exception] | None = getattr(event, "renderings", None)
    if shared is None or renderings is None:
        return await _render(operation, event, shared is not None)
    return _shared(renderings, shared, operation, event)


class DirectDelivery:
    """The direct way of one payload-only subscription (see the module docstring).

    `send_text(frame)` queues a frame on the socket's outbox; `idle()` is true while that outbox
    has nothing in flight; `failed(exc)`, set by the event source, hands a rendering's exception
    to the general path, which ends the subscription as it would have."""

    __slots__ = ("closed", "failed", "idle", "operation", "prefix", "send_text", "shared", "task")

    def __init__(
        self,
        *,
        shared: SharedKey,
        prefix: str,
        send_text: Callable[[str], None],
        idle: Callable[[], bool],
        operation: EventOperation,
    ) -> None:
        self.shared = shared
        self.prefix = prefix
        self.send_text = send_text
        self.idle = idle
        self.failed: Callable[[BaseException], None] = _unhandled
        self.operation = operation
        self.closed = False
        # The subscription's task: once cancelled (the client completed the operation, the
        # socket closes), nothing more goes out, as from the task itself.
        self.task = asyncio.current_task()

    def takes(self, event: dict[str, Any], general_idle: bool) -> bool:
        """Whether `event` goes direct: a live one, when nothing is queued on the general path
        nor on the outbox, so it cannot overtake anything."""
        return (
            general_idle
            and not self.closed
            and getattr(event, "renderings", None) is not None
            and self.idle()
            and not self._cancelled()
        )

    def deliver(self, event: dict[str, Any]) -> None:
        renderings: dict[SharedKey, str | Exception] = event.renderings  # type: ignore[attr-defined]
        try:
            payload = _shared(renderings, self.shared, self.operation, event)
        except Exception as error:  # noqa: BLE001 - the general path raises it (ends the operation)
            self.close()
            self.failed(error)
            return
        self.send_text(f"{self.prefix}{payload}}}")

    def _cancelled(self) -> bool:
        return self.task is not None and self.task.cancelling() > 0

    def close(self) -> None:
        """No more frames: the subscription ended (completed, refused or failed)."""
        self.closed = True


def _unhandled(error: BaseException) -> None:
    raise error
