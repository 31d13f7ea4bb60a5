"""Process-local fan-out: one channel-layer subscription per process and project, then an
in-process broadcast to the sockets of that process.

A thousand sockets on one project cost one group membership, one layer read and one JSON encoding
per event, instead of a thousand of each. Sockets on a task listen to their project's group and
filter, so a project's control events (a member removed) reach them too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
import weakref
from typing import TYPE_CHECKING, Any, Protocol

import orjson
from channels.layers import get_channel_layer

from tasks.events import EVENT_MESSAGE_TYPE, project_group, relay_locally_on

if TYPE_CHECKING:
    from .shared_results import SharedKey

logger = logging.getLogger(__name__)

# Channels expires group memberships after `group_expiry` (a day by default); renew well before.
GROUP_RENEW_SECONDS = 600


class LayerUnavailable(Exception):
    """The channel layer could not be reached; the socket should close with 1011."""


class Subscriber(Protocol):
    def on_event(self, event: dict[str, Any], text: str) -> None:
        """Called once per event, in order; must not block. `text` is the encoded JSON frame."""

    def on_layer_lost(self) -> None: ...


class RelayedEvent(dict[str, Any]):
    """An event as the hub relays it to the sockets of its process: the payload, plus the
    renderings that subscribers with the same payload-only operation share (shared_results.py).
    They live exactly as long as the event is referenced, never across events or processes."""

    __slots__ = ("renderings",)

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(payload)
        self.renderings: dict[SharedKey, str | Exception] = {}


def encode_event(event: dict[str, Any]) -> str:
    return orjson.dumps({"type": "event", "event": event}).decode()


class _Group:
    def __init__(self, hub: Hub, name: str) -> None:
        self.hub = hub
        self.name = name
        self.subscribers: dict[Subscriber, None] = {}  # insertion-ordered set
        self.channel: str | None = None
        self.ready: asyncio.Task[None] = asyncio.get_running_loop().create_task(self._join())
        self.reader: asyncio.Task[None] | None = None

    async def _join(self) -> None:
        layer = self.hub.layer
        self.channel = await layer.new_channel()
        await layer.group_add(self.name, self.channel)
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        layer = self.hub.layer
        renew_at = asyncio.get_running_loop().time() + GROUP_RENEW_SECONDS
        try:
            while True:
                message = await layer.receive(self.channel)
                if (
                    message.get("type") == EVENT_MESSAGE_TYPE
                    and message.get("origin") != self.hub.origin
                ):
                    self._relay(message["event"])
                if asyncio.get_running_loop().time() > renew_at:
                    await layer.group_add(self.name, self.channel)
                    renew_at = asyncio.get_running_loop().time() + GROUP_RENEW_SECONDS
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("channel layer lost", extra={"group": self.name})
            self.hub._forget(self)
            for subscriber in list(self.subscribers):
                subscriber.on_layer_lost()

    def _relay(self, payload: dict[str, Any]) -> None:
        event = RelayedEvent(payload)
        text = encode_event(event)  # once per event, whatever the number of sockets
        for subscriber in list(self.subscribers):
            try:
                subscriber.on_event(event, text)
            except Exception:
                logger.exception("relaying an event failed", extra={"event_id": event.get("id")})

    async def close(self) -> None:
        self.ready.cancel()
        if self.reader is not None:
            self.reader.cancel()
        if self.channel is not None:
            with contextlib.suppress(Exception):
                await self.hub.layer.group_discard(self.name, self.channel)


class Hub:
    """The fan-out of one event loop (one per server process)."""

    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.groups: dict[str, _Group] = {}
        self.origin = uuid.uuid4().hex

    def relay(self, project_id: int, payload: dict[str, Any]) -> None:
        """Relays an event this loop's dispatcher published (tasks.events.LocalRelay)."""
        group = self.groups.get(project_group(project_id))
        if group is not None:
            group._relay(payload)

    async def join(self, project_id: int, subscriber: Subscriber) -> None:
        """Returns once events of the project published from now on reach `subscriber`."""
        name = project_group(project_id)
        group = self.groups.get(name)
        if group is None:
            group = self.groups[name] = _Group(self, name)
        group.subscribers[subscriber] = None
        try:
            await asyncio.shield(group.ready)
        except Exception as exc:
            self._forget(group)
            group.subscribers.pop(subscriber, None)
            raise LayerUnavailable(str(exc)) from exc

    def leave(self, project_id: int, subscriber: Subscriber) -> None:
        group = self.groups.get(project_group(project_id))
        if group is None:
            return
        group.subscribers.pop(subscriber, None)
        if not group.subscribers:
            self._forget(group)
            asyncio.get_running_loop().create_task(group.close())

    def _forget(self, group: _Group) -> None:
        if self.groups.get(group.name) is group:
            del self.groups[group.name]

    def subscriber_count(self) -> int:
        return sum(len(group.subscribers) for group in self.groups.values())


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def get_hub() -> Hub:
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        layer = get_channel_layer()
        if layer is None:
            raise LayerUnavailable("no channel layer is configured")
        hub = _hubs[loop] = Hub(layer)
        relay_locally_on(loop, hub)
    return hub
