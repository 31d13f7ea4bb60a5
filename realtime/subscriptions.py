"""The event sources behind the GraphQL subscriptions `projectEvents` and `taskEvents`.

`graph/subscriptions.py` resolves them with `event_source(...)`, an async iterator of
`tasks.events.event_payload` dicts. It raises coded `GraphQLError`s: `NOT_FOUND` when the user may
not see the target (at subscribe time, or later when removed from the project),
`BAD_USER_INPUT` for a malformed cursor; and `LayerUnavailable` when the channel layer is lost
(the socket then closes with 1011).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from channels.db import database_sync_to_async
from graphql import GraphQLError

from graph.ids import decode_id
from project.auth import Refusal
from tasks.errors import NotFound
from tasks.selectors import project_get, task_get

from .auth import Credentials
from .groups import LayerUnavailable
from .shared_results import DirectDelivery
from .streams import EventStream, log_position_now, parse_cursor
from .watch import Watch, get_watchdog

_REVOKED = object()
_LOST = object()


_KEPT = frozenset({"user", "credentials", "log_position", "direct"})


class _Failed:
    """A direct rendering's exception, handed to the general path in order."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


class SubscriptionContext:
    """`info.context` of a subscription: the viewer, plus whatever resolvers cache on it
    (per-event loaders), which `fresh()` drops so every event resolves current relations.

    `log_position`: the log's newest event id when the transport received the subscription;
    a subscription without `after` starts there (streams.py), so it misses nothing committed
    since.

    `direct`: the subscription's direct way to its socket (shared_results.DirectDelivery), set
    by the transport when the selection is payload-only."""

    def __init__(self, credentials: Credentials, log_position: int | None = None) -> None:
        self.user = credentials.user
        self.credentials = credentials
        self.log_position = log_position
        self.direct: DirectDelivery | None = None

    def fresh(self) -> None:
        for name in list(vars(self)):
            if name not in _KEPT:
                delattr(self, name)


class _Inbox:
    """What a subscription's task has yet to take, in order. An idle subscription holds one
    future here and no queue: the deque exists only while something waits in it
    (`asyncio.Queue` keeps three deques and an `Event`, about 3 KB, per idle subscription)."""

    __slots__ = ("items", "waiter")

    def __init__(self) -> None:
        self.items: deque[Any] | None = None
        self.waiter: asyncio.Future[None] | None = None

    def waiting_for_next(self) -> bool:
        """The task waits for its next item and has nothing queued or in hand."""
        return self.waiter is not None and not self.items

    def put(self, item: Any) -> None:
        if self.items is None:
            self.items = deque()
        self.items.append(item)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def get(self) -> Any:
        while not self.items:
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        item = self.items.popleft()
        if not self.items:
            self.items = None
        return item


def _not_found(what: str) -> GraphQLError:
    return GraphQLError(f"{what} not found.", extensions={"code": "NOT_FOUND"})


def _target(user: Any, project_id: object, task_id: object) -> tuple[int, int | None]:
    if task_id is not None:
        task = task_get(user, decode_id(task_id, "Task"))
        return task.project_id, task.pk
    return project_get(user, decode_id(project_id, "Project")).pk, None


async def event_source(
    context: Any, *, project_id: object = None, task_id: object = None, after: object = None
) -> AsyncIterator[dict[str, Any]]:
    what = "Task" if task_id is not None else "Project"
    user = getattr(context, "user", None)
    if user is None or not user.is_authenticated:
        raise GraphQLError("Authentication required.", extensions={"code": "UNAUTHENTICATED"})
    try:
        cursor = parse_cursor(after)
    except ValueError:
        raise GraphQLError(
            "`after` must be an event id.", extensions={"code": "BAD_USER_INPUT"}
        ) from None
    try:
        target_project, target_task = await database_sync_to_async(_target)(
            user, project_id, task_id
        )
    except NotFound:
        raise _not_found(what) from None

    if cursor is None:
        cursor = getattr(context, "log_position", None)
        if cursor is None:
            cursor = await log_position_now()
    inbox = _Inbox()
    direct: DirectDelivery | None = getattr(context, "direct", None)

    def deliver(event: dict[str, Any], _text: str | None) -> None:
        # Direct only when that cannot overtake: nothing queued here, nothing in hand.
        if direct is not None and direct.takes(event, inbox.waiting_for_next()):
            direct.deliver(event)
        else:
            inbox.put(event)

    if direct is not None:
        direct.failed = lambda error: inbox.put(_Failed(error))

    stream = EventStream(
        user=user,
        project_id=target_project,
        task_id=target_task,
        deliver=deliver,
        revoked=lambda: inbox.put(_REVOKED),
        lost=lambda: inbox.put(_LOST),
    )

    def lost(refusal: Refusal) -> None:
        # Lost credentials close the whole socket (the consumer's own watch); a lost membership
        # ends this subscription only.
        if refusal is Refusal.MEMBERSHIP:
            stream.revoke()

    watch = Watch(context.credentials, target_project, lost)
    try:
        try:
            await stream.open(cursor)
        except NotFound:
            raise _not_found(what) from None
        get_watchdog().add(watch)
        while True:
            item = await inbox.get()
            if item is _REVOKED or item is _LOST or isinstance(item, _Failed):
                if direct is not None:
                    direct.close()  # nothing direct after the end
                if isinstance(item, _Failed):
                    raise item.error
                if item is _REVOKED:
                    raise _not_found(what)
                raise LayerUnavailable("channel layer lost")
            fresh = getattr(context, "fresh", None)
            if fresh is not None:
                fresh()
            yield item
    finally:
        if direct is not None:
            direct.close()
        stream.close()
        get_watchdog().discard(watch)
