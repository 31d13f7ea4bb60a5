"""One subscriber's stream of a project's (or a task's) events: live events from the hub plus
replay from the event log, with no event missed or delivered twice at the boundary.

Every stream starts from a place in its project's log (a `seq`, tasks.continuity): the
client's cursor (`afterSeq`, or the `seq` of the event `after`), or else where the log stood when
the subscription was received (`log_position`: the newest event id then, with PostgreSQL's
snapshot, mapped to the project's `seq`). Then: buffer live events, join the hub (so nothing
published from then on is lost), read the log after the position in `seq` order, flush the
buffer. Every delivered `seq` is remembered (a bounded window), so an event both read from the
log and relayed live goes out once. A fresh subscription is thus gap-free from the moment it was
received: what commits while the process joins the group comes from the log.

A project stream also delivers live events in `seq` order. Two changes to one project commit in
`seq` order, but their events are published after commit by whichever process made them, so one
can overtake the other on the way (or one can be lost with its process until the outbox sweeper
sends it again). A live event whose `seq` skips one is therefore held, and the log, which already
holds every lower number, fills the gap before it goes out. (A task stream's numbers skip the
other tasks' events, so it cannot tell a gap; it delivers live events as they come.)
"""

from __future__ import annotations

import asyncio
import binascii
import logging
import time
import weakref
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from channels.db import database_sync_to_async
from django.db import OperationalError
from graphql_relay import from_global_id, to_global_id

from tasks.continuity import (
    START,
    LogPosition,
    ResumePoint,
    current_position,
    resume_point,
    seq_of_position,
)
from tasks.errors import NotFound
from tasks.events import event_payload
from tasks.selectors import project_events, task_events

from .groups import get_hub

logger = logging.getLogger(__name__)

REPLAY_PAGE = 500
LOCKED_RETRIES = 50
LOCKED_WAIT_SECONDS = 0.01
SEEN_WINDOW = 4096

Deliver = Callable[[dict[str, Any], "str | None"], None]


def parse_cursor(value: object) -> int | None:
    """An event id as a client may send it (`"42"`, `42` or an `Event` global id); ValueError if
    it is none of these."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and len(value) <= 100:
        if value.isdigit():
            return int(value)
        try:
            type_name, raw = from_global_id(value)
        except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
            raise ValueError("invalid cursor") from None
        if type_name == "Event" and raw.isdigit():
            return int(raw)
    raise ValueError("invalid cursor")


def parse_seq(value: object) -> int | None:
    """A client's `afterSeq` (a non-negative integer); ValueError otherwise."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise ValueError("invalid seq")


def _read_log[T](read: Callable[[], T]) -> T:
    """`read()`, again after a moment if SQLite's shared-cache in-memory database (the test
    database) refused it with "table is locked" because a write overlapped it: unlike a database
    file, which waits for the writer (settings' `timeout`), it fails at once."""
    for _ in range(LOCKED_RETRIES):
        try:
            return read()
        except OperationalError as error:
            if "table is locked" not in str(error):
                raise
            time.sleep(LOCKED_WAIT_SECONDS)
    return read()


def log_position() -> LogPosition:
    """Where the log stands now (tasks.continuity.LogPosition): where a stream without a cursor
    starts. It covers every project and task, so it is read before the target is even known."""
    return _read_log(current_position)


# Off the one thread that serves the sockets' other queries: a position read queued behind 500
# subscriptions' target checks and replays would be taken long after their frames arrived (the
# 500-socket test in tests/e2e/test_realtime_limits.py missed 445 of 500 on PostgreSQL).
_position_reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="log-position")
_read_position = database_sync_to_async(
    log_position, thread_sensitive=False, executor=_position_reader
)
_in_flight: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Future[LogPosition]] = (
    weakref.WeakKeyDictionary()
)


async def log_position_now() -> LogPosition:
    """`log_position` as of the moment of the call, or a little before: a read already in flight
    started earlier, so its answer is no later than now and is shared (a burst of subscriptions
    costs one or two reads). Earlier is safe: the stream then replays from there."""
    loop = asyncio.get_running_loop()
    reading = _in_flight.get(loop)
    if reading is None:
        reading = _in_flight[loop] = asyncio.ensure_future(_read_position())
        reading.add_done_callback(lambda done: _in_flight.pop(loop, None))
    return await asyncio.shield(reading)


def start_point(
    project_id: int,
    task_id: int | None,
    *,
    position: LogPosition = START,
    after_id: int | None = None,
    after_seq: int | None = None,
) -> ResumePoint:
    """Where a stream of the project (or task) starts: after the client's cursor when it gave one
    (with the verdict on its replay, tasks.continuity), else where the log stood at `position`."""
    if after_id is None and after_seq is None:
        return ResumePoint(_read_log(lambda: seq_of_position(project_id, position)))
    return _read_log(
        lambda: resume_point(project_id, after_id=after_id, after_seq=after_seq, task_id=task_id)
    )


def _log_page(
    user: Any, project_id: int, task_id: int | None, after_seq: int
) -> list[dict[str, Any]]:
    """A page of the log after `after_seq`, as the user may see it now (NotFound if not)."""
    if task_id is None:
        events = project_events(user, project_id, after_seq=after_seq)
    else:
        events = task_events(user, task_id, after_seq=after_seq)
    return _read_log(lambda: [event_payload(event) for event in events[:REPLAY_PAGE]])


class EventStream:
    """Subscribes to the hub for `project_id` (filtered to `task_id` if given) on behalf of `user`.

    `deliver(event, text)` gets each event once, in order (`text` is the pre-encoded JSON frame
    when the event came live). `revoked()` is called when the user stops being a member.
    """

    def __init__(
        self,
        *,
        user: Any,
        project_id: int,
        task_id: int | None = None,
        deliver: Deliver,
        revoked: Callable[[], None],
        lost: Callable[[], None],
    ) -> None:
        self.user = user
        self.user_id = user.pk
        self.project_id = project_id
        self.task_id = task_id
        self._task_gid = to_global_id("Task", task_id) if task_id is not None else None
        self._deliver = deliver
        self._revoked = revoked
        self._lost = lost
        self._buffer: list[tuple[dict[str, Any], str | None]] | None = None
        # The de-duplication window, made with the first event: an idle stream holds no set
        # and no deque (an empty deque alone is about 600 bytes; tracemalloc over 1,000 idle
        # GraphQL subscribers: about 0.9 KB per subscription for the two).
        self._seen: set[int] | None = None
        self._seen_order: deque[int] | None = None
        # Project streams only: the highest `seq` delivered, and the log read filling a gap.
        self._ordered = task_id is None
        self._last = 0
        self._filling: asyncio.Task[None] | None = None
        self.active = False

    async def open(self, after_seq: int, joined: Callable[[], None] | None = None) -> None:
        """Joins the hub, calls `joined()` (live from here on), then delivers the log after
        `after_seq` and the live events that arrived meanwhile. Raises `LayerUnavailable`, or
        `NotFound` when replay finds the target gone."""
        self._buffer = []
        self._last = after_seq
        self.active = True
        try:
            await get_hub().join(self.project_id, self)
        except BaseException:
            self.active = False
            self._buffer = None
            get_hub().leave(self.project_id, self)
            raise
        if joined is not None:
            joined()
        await self.replay(after_seq)

    async def replay(self, after_seq: int) -> None:
        if self._buffer is None:
            self._buffer = []
        try:
            cursor = after_seq
            while self.active:
                page = await database_sync_to_async(_log_page)(
                    self.user, self.project_id, self.task_id, cursor
                )
                for event in page:
                    self._emit(event, None)
                if len(page) < REPLAY_PAGE:
                    break
                cursor = int(page[-1]["seq"])
        finally:
            buffered, self._buffer = self._buffer, None
            if self._ordered:
                buffered.sort(key=lambda item: int(item[0]["seq"]))
            for event, text in buffered:
                if self.active:
                    self._offer(event, text)  # a gap left in them starts another fill

    def close(self) -> None:
        if self.active:
            self.active = False
            get_hub().leave(self.project_id, self)
        if self._filling is not None:
            self._filling.cancel()

    # --- Hub callbacks -----------------------------------------------------------------------

    def on_event(self, event: dict[str, Any], text: str) -> None:
        if not self.active:
            return
        if event["type"] == "member.removed" and self._is_me(event):
            self.revoke()
            return
        if self._task_gid is not None and event.get("taskId") != self._task_gid:
            return
        self._offer(event, text)

    def on_layer_lost(self) -> None:
        if self.active:
            self.active = False
            self._lost()

    def revoke(self) -> None:
        """The user may no longer see this stream (removed from the project)."""
        if self.active:
            self.close()
            self._revoked()

    # --- Internals ---------------------------------------------------------------------------

    def _is_me(self, event: dict[str, Any]) -> bool:
        user = (event.get("data") or {}).get("user") or {}
        return bool(user.get("pk") == self.user_id)

    def _offer(self, event: dict[str, Any], text: str | None) -> None:
        """A live event: buffered while the log is read, held for a fill if it skips a `seq`
        (project streams), else delivered."""
        if self._buffer is not None:
            self._buffer.append((event, text))
            return
        seq = int(event["seq"])
        if self._ordered and seq > self._last + 1 and not self._has_seen(seq):
            self._buffer = [(event, text)]
            self._filling = asyncio.get_running_loop().create_task(self._fill(self._last))
            return
        self._emit(event, text)

    async def _fill(self, after_seq: int) -> None:
        """Reads the log after `after_seq` to deliver what a live event skipped, then the live
        events held meanwhile. A log that cannot be read ends the stream as a lost layer does
        (the client resumes)."""
        try:
            await self.replay(after_seq)
        except asyncio.CancelledError:
            raise
        except NotFound:
            self.revoke()
        except Exception:
            logger.exception("filling a gap in a live stream failed")
            self.on_layer_lost()

    def _has_seen(self, seq: int) -> bool:
        return self._seen is not None and seq in self._seen

    def _emit(self, event: dict[str, Any], text: str | None) -> None:
        seq = int(event["seq"])  # one project per stream: its `seq` identifies the event
        seen, order = self._seen, self._seen_order
        if seen is None or order is None:
            seen, order = self._seen, self._seen_order = set(), deque()
        elif seq in seen:
            return
        seen.add(seq)
        order.append(seq)
        if len(order) > SEEN_WINDOW:
            seen.discard(order.popleft())
        self._last = max(self._last, seq)
        self._deliver(event, text)
