"""The event sources behind the GraphQL subscriptions `projectEvents` and `taskEvents`.

`graph/subscriptions.py` resolves them with `event_source(...)`, an async iterator of
`tasks.events.event_payload` dicts. It raises coded `GraphQLError`s: `NOT_FOUND` when the user may
not see the target (at subscribe time, or later when removed from the project),
`BAD_USER_INPUT` for a malformed cursor; and `LayerUnavailable` when the channel layer is lost
(the socket then closes with 1011).

With `announce`, the first item is the stream's `tasks.continuity.ResumePoint` (recovered or not,
and why); without it (the original `projectEvents`/`taskEvents`), a replay that cannot be complete
ends the subscription with an `error` coded with the reason (`CURSOR_TOO_OLD`, `CURSOR_UNKNOWN`,
`TOO_MANY_MISSED`), so an existing client is never left silently incomplete either.
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
from tasks.continuity import LogPosition, ResumePoint
from tasks.errors import NotFound
from tasks.selectors import project_get, task_get

from .auth import Credentials
from .groups import LayerUnavailable
from .shared_results import DirectDelivery
from .streams import EventStream, log_position_now, parse_cursor, parse_seq, start_point
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

    `log_position`: where the log stood when the transport received the subscription;
    a subscription without `after` starts there (streams.py), so it misses nothing committed
    since.

    `direct`: the subscription's direct way to its socket (shared_results.DirectDelivery), set
    by the transport when the selection is payload-only."""

    def __init__(self, credentials: Credentials, log_position: LogPosition | None = None) -> None:
        self.user = credentials.user
        self.credentials = credentials
        self.log_position = log_position
        self.direct: DirectDelivery | None = None

    def fresh(self) -> None:
        for name in list(vars(self)):
            if name not in _KEPT:
                delattr(self, name)


class Inbox:
    """Where one subscription's events go, in order: to its task (the general path, which
    renders each with `shared_results.next_payload`), or straight to its socket
    (`shared_results.DirectDelivery`, payload-only selections) when that cannot overtake
    anything: the task waits for its next event with nothing queued or in hand, and the
    socket's outbox is idle. Once a direct frame waits for its rendering, every later event goes
    direct too, behind it.

    Slotted, with bound methods instead of closures, and a deque only while something waits in
    it: an idle subscription holds one future here (`asyncio.Queue` keeps three deques and an
    `Event`, about 3 KB, per idle subscription)."""

    __slots__ = ("direct", "items", "waiter")

    def __init__(self, direct: DirectDelivery | None = None) -> None:
        self.direct = direct
        self.items: deque[Any] | None = None
        self.waiter: asyncio.Future[None] | None = None
        if direct is not None:
            direct.failed = self.failed

    def waiting_for_next(self) -> bool:
        """The task waits for its next item and has nothing queued or in hand."""
        return self.waiter is not None and not self.items

    def deliver(self, event: dict[str, Any], _text: str | None = None) -> None:
        """The stream's `deliver`: each event once, in order."""
        direct = self.direct
        if direct is not None and direct.takes(event, self.waiting_for_next()):
            direct.deliver(event)
        else:
            self.put(event)

    def revoked(self) -> None:
        self.put(_REVOKED)

    def lost(self) -> None:
        self.put(_LOST)

    def failed(self, error: BaseException) -> None:
        self.put(_Failed(error))

    def put(self, item: Any) -> None:
        if self.items is None:
            self.items = deque()
        self.items.append(item)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def next_event(self, what: str) -> Any:
        """The next event for the task, or the exception that ends the subscription (after
        which nothing more goes direct). It waits in its own frame, not in a helper coroutine's:
        an idle subscription keeps one frame less (about 0.2 KB)."""
        while not self.items:
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        item = self.items.popleft()
        if not self.items:
            self.items = None
        if item is _REVOKED or item is _LOST or isinstance(item, _Failed):
            self.close()
            if isinstance(item, _Failed):
                raise item.error
            if item is _REVOKED:
                raise _not_found(what)
            raise LayerUnavailable("channel layer lost")
        return item

    def close(self) -> None:
        if self.direct is not None:
            self.direct.close()


class _MembershipLost:
    """The subscription's watch callback: a lost membership ends this subscription only (lost
    credentials close the whole socket, through the consumer's own watch)."""

    __slots__ = ("stream",)

    def __init__(self, stream: EventStream) -> None:
        self.stream = stream

    def __call__(self, refusal: Refusal) -> None:
        if refusal is Refusal.MEMBERSHIP:
            self.stream.revoke()


def _not_found(what: str) -> GraphQLError:
    return GraphQLError(f"{what} not found.", extensions={"code": "NOT_FOUND"})


def gap_error(point: ResumePoint) -> GraphQLError:
    return GraphQLError(
        f"The replay cannot be complete ({point.reason}); fetch the current state, then "
        "subscribe again without a cursor.",
        extensions={"code": point.reason, "fromSeq": point.from_seq},
    )


def _target(user: Any, project_id: object, task_id: object) -> tuple[int, int | None]:
    if task_id is not None:
        task = task_get(user, decode_id(task_id, "Task"))
        return task.project_id, task.pk
    return project_get(user, decode_id(project_id, "Project")).pk, None


def _target_and_start(
    user: Any,
    project_id: object,
    task_id: object,
    position: LogPosition,
    cursor: int | None,
    seq: int | None,
) -> tuple[int, int | None, ResumePoint]:
    """The target and where its stream starts, in one trip to the database thread. At module
    level, not a closure in `event_source`: the closure and its cells would live as long as the
    subscription (about 0.5 KB each, tracemalloc over 1,000 idle subscribers)."""
    target_project, target_task = _target(user, project_id, task_id)
    point = start_point(
        target_project, target_task, position=position, after_id=cursor, after_seq=seq
    )
    return target_project, target_task, point


async def event_source(
    context: Any,
    *,
    project_id: object = None,
    task_id: object = None,
    after: object = None,
    after_seq: object = None,
    announce: bool = False,
) -> AsyncIterator[Any]:
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
        seq = parse_seq(after_seq)
    except ValueError:
        raise GraphQLError(
            "`afterSeq` must be a non-negative `Event.seq`.", extensions={"code": "BAD_USER_INPUT"}
        ) from None
    if cursor is not None and seq is not None:
        raise GraphQLError(
            "Give `after` or `afterSeq`, not both.", extensions={"code": "BAD_USER_INPUT"}
        )
    position = getattr(context, "log_position", None)
    if position is None:
        position = await log_position_now()

    try:
        target_project, target_task, point = await database_sync_to_async(_target_and_start)(
            user, project_id, task_id, position, cursor, seq
        )
    except NotFound:
        raise _not_found(what) from None
    if not point.recovered and not announce:
        raise gap_error(point)
    inbox = Inbox(getattr(context, "direct", None))
    if announce:
        inbox.put(point)  # first, before any event (nothing goes direct while it waits)
    stream = EventStream(
        user=user,
        project_id=target_project,
        task_id=target_task,
        deliver=inbox.deliver,
        revoked=inbox.revoked,
        lost=inbox.lost,
    )
    watch = Watch(context.credentials, target_project, _MembershipLost(stream))
    try:
        try:
            await stream.open(point.from_seq)
        except NotFound:
            raise _not_found(what) from None
        get_watchdog().add(watch)
        while True:
            event = await inbox.next_event(what)
            fresh = getattr(context, "fresh", None)
            if fresh is not None:
                fresh()
            yield event
    finally:
        inbox.close()
        stream.close()
        get_watchdog().discard(watch)
