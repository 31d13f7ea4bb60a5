"""Presence in a server process: the connections present here, the sockets and subscriptions
watching presence here, and the propagation between processes.

- A change (a connection arrives, moves to another task, starts or stops editing, leaves) is
  written to the shared store (tasks/presence.py), then announced on the channel-layer group
  `presence.<project>` (no payload: the store holds the state). Announcements of one project
  made in the same loop iteration are sent once.
- Each process that has watchers of a project listens to that group (one channel per process
  and project, like groups.py for events) and, on an announcement, reads the store and pushes
  the list to its watchers: at most once per `PRESENCE_THROTTLE_SECONDS` per project (the first
  change at once, later ones coalesced into one push of the latest state at the end of the
  window), and only when the list differs from the last one pushed. A hundred viewers
  arriving at once cost each watcher two messages, not a hundred.
- One heartbeat task per process refreshes every local entry and re-reads the lists watched
  here every `heartbeat_seconds()`: that is how entries of a SIGKILLed process, which nobody
  removes, drop out of every list within the TTL (the store's docstring has the arithmetic),
  and how presence still converges, more slowly, if the channel layer is lost.

Store calls block (redis-py) and run in the default executor, never on the loop nor on the
database thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings

from tasks.presence import Presence, get_store, heartbeat_seconds, viewers

logger = logging.getLogger(__name__)

PRESENCE_MESSAGE_TYPE = "presence.changed"
GROUP_RENEW_SECONDS = 600

Viewers = list[dict[str, Any]]
Watcher = Callable[[Viewers], None]


def presence_group(project_id: int) -> str:
    return f"presence.{project_id}"


async def _in_thread[T](function: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(None, function, *args)


class _Watched:
    """A project watched in this process: its watchers, its group reader and its throttle."""

    def __init__(self) -> None:
        self.watchers: dict[Watcher, None] = {}
        self.reader: asyncio.Task[None] | None = None
        self.last: Viewers | None = None
        self.pushed_at = float("-inf")
        self.timer: asyncio.TimerHandle | None = None
        self.refreshing: asyncio.Task[None] | None = None
        self.dirty = False


class PresenceHub:
    """The presence of one event loop (one per server process)."""

    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.local: dict[str, tuple[int, Presence]] = {}
        self.watched: dict[int, _Watched] = {}
        self.announcing: set[int] = set()
        self.background: set[asyncio.Task[Any]] = set()
        self.heartbeat: asyncio.Task[None] | None = None

    # --- Entries of this process ---------------------------------------------------------------

    async def put(self, project_id: int, presence: Presence) -> None:
        self.local[presence.connection] = (project_id, presence)
        self._ensure_heartbeat()
        try:
            await _in_thread(get_store().put, [(project_id, presence)])
        except Exception:  # presence is best effort: a socket never fails for it
            logger.warning("writing presence failed", exc_info=True)
            return
        self._announce(project_id)

    def remove(self, connection: str) -> None:
        """Synchronous (called as a socket is released); the store write runs in the background."""
        found = self.local.pop(connection, None)
        if found is None:
            return
        project_id = found[0]

        async def remove() -> None:
            try:
                await _in_thread(get_store().remove, project_id, connection)
            except Exception:  # the entry expires instead
                logger.warning("removing presence failed", exc_info=True)
                return
            self._announce(project_id)

        self._spawn(remove())

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    def _announce(self, project_id: int) -> None:
        if project_id in self.announcing:
            return  # an announcement not yet sent will cover this change too
        self.announcing.add(project_id)

        async def announce() -> None:
            await asyncio.sleep(0)
            self.announcing.discard(project_id)  # later changes need an announcement of their own
            try:
                await self.layer.group_send(
                    presence_group(project_id), {"type": PRESENCE_MESSAGE_TYPE}
                )
            except Exception:
                logger.warning("presence announcement failed", exc_info=True)
                self._schedule(project_id)  # local watchers still see it

        self._spawn(announce())

    # --- Watching --------------------------------------------------------------------------------

    async def watch(self, project_id: int, watcher: Watcher) -> Viewers:
        """Registers `watcher` for every later change of the project's presence; returns the
        current list."""
        watched = self.watched.get(project_id)
        if watched is None:
            watched = self.watched[project_id] = _Watched()
            watched.reader = asyncio.get_running_loop().create_task(self._listen(project_id))
        watched.watchers[watcher] = None
        self._ensure_heartbeat()
        try:
            current = viewers(await _in_thread(get_store().entries, project_id))
        except Exception:  # the heartbeat reads again
            logger.warning("reading presence failed", exc_info=True)
            current = []
        if watched.last is None:
            watched.last = current
        return current

    def unwatch(self, project_id: int, watcher: Watcher) -> None:
        watched = self.watched.get(project_id)
        if watched is None:
            return
        watched.watchers.pop(watcher, None)
        if watched.watchers:
            return
        del self.watched[project_id]
        if watched.timer is not None:
            watched.timer.cancel()
        if watched.reader is not None:
            watched.reader.cancel()

    async def _listen(self, project_id: int) -> None:
        group = presence_group(project_id)
        channel = await self.layer.new_channel()
        try:
            await self.layer.group_add(group, channel)
            renew_at = time.monotonic() + GROUP_RENEW_SECONDS
            while True:
                message = await self.layer.receive(channel)
                if message.get("type") == PRESENCE_MESSAGE_TYPE:
                    self._schedule(project_id)
                if time.monotonic() > renew_at:
                    await self.layer.group_add(group, channel)
                    renew_at = time.monotonic() + GROUP_RENEW_SECONDS
        except asyncio.CancelledError:
            raise
        except Exception:
            # The heartbeat still re-reads the store: presence converges, only more slowly.
            logger.exception("presence channel lost", extra={"group": group})
        finally:
            with contextlib.suppress(BaseException):
                await asyncio.shield(self.layer.group_discard(group, channel))

    def _schedule(self, project_id: int) -> None:
        """Pushes the project's list to its watchers here, throttled (see the module)."""
        watched = self.watched.get(project_id)
        if watched is None:
            return
        if watched.timer is not None or watched.refreshing is not None:
            watched.dirty = True
            return
        wait = watched.pushed_at + float(settings.PRESENCE_THROTTLE_SECONDS) - time.monotonic()
        if wait > 0:
            watched.timer = asyncio.get_running_loop().call_later(
                wait, self._refresh_now, project_id, watched
            )
        else:
            self._refresh_now(project_id, watched)

    def _refresh_now(self, project_id: int, watched: _Watched) -> None:
        watched.timer = None
        watched.dirty = False
        watched.refreshing = asyncio.get_running_loop().create_task(
            self._refresh(project_id, watched)
        )

    async def _refresh(self, project_id: int, watched: _Watched) -> None:
        try:
            current = viewers(await _in_thread(get_store().entries, project_id))
            if current != watched.last:
                watched.pushed_at = time.monotonic()
                watched.last = current
                for watcher in list(watched.watchers):
                    try:
                        watcher(current)
                    except Exception:
                        logger.exception("pushing presence failed")
        except Exception:
            logger.exception("reading presence failed", extra={"project_id": project_id})
        finally:
            watched.refreshing = None
            if watched.dirty and self.watched.get(project_id) is watched:
                self._schedule(project_id)

    # --- Heartbeat -------------------------------------------------------------------------------

    def _ensure_heartbeat(self) -> None:
        if self.heartbeat is None or self.heartbeat.done():
            self.heartbeat = asyncio.get_running_loop().create_task(self._beat())

    async def _beat(self) -> None:
        while self.local or self.watched:
            await asyncio.sleep(heartbeat_seconds())
            if self.local:
                try:
                    await _in_thread(get_store().put, list(self.local.values()))
                except Exception:
                    logger.exception("refreshing presence failed")
            for project_id in list(self.watched):
                self._schedule(project_id)


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, PresenceHub] = (
    weakref.WeakKeyDictionary()
)


def get_presence_hub() -> PresenceHub:
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = PresenceHub(get_channel_layer())
    return hub


class Present:
    """One connection's presence (a JSON socket, a `projectPresence` subscription): its entry in
    the project and, once `watch`ed, the pushes of the project's list. `close()` is synchronous
    and idempotent, and safe while `enter` is still in flight."""

    def __init__(self, project_id: int, user: Any) -> None:
        self.project_id = project_id
        full_name = user.get_full_name().strip()
        self.presence = Presence(
            connection=uuid.uuid4().hex,
            user_id=user.pk,
            username=user.get_username(),
            display_name=full_name or user.get_username(),
            task_id=None,
            editing=False,
            since=time.time(),
        )
        self.watcher: Watcher | None = None
        self.closed = False
        self.hub = get_presence_hub()

    async def set(self, *, task_id: int | None, editing: bool) -> None:
        """Enters the project, or moves to `task_id` / changes `editing`."""
        if self.closed:
            return
        current = self.presence
        if (
            current.task_id == task_id
            and current.editing == editing
            and current.connection in (self.hub.local)
        ):
            return
        self.presence = replace(current, task_id=task_id, editing=editing)
        await self.hub.put(self.project_id, self.presence)
        if self.closed:  # released while the write was in flight
            self.hub.remove(self.presence.connection)

    async def watch(self, watcher: Watcher) -> Viewers | None:
        """Starts pushing the project's list to `watcher`; returns the current one (None when
        already watching or closed)."""
        if self.watcher is not None or self.closed:
            return None
        self.watcher = watcher
        current = await self.hub.watch(self.project_id, watcher)
        if self.closed:
            self.hub.unwatch(self.project_id, watcher)
            return None
        return current

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.hub.remove(self.presence.connection)
        if self.watcher is not None:
            self.hub.unwatch(self.project_id, self.watcher)
