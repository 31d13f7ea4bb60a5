"""The base of both socket consumers: Channels' `AsyncWebsocketConsumer`, extended only at its
documented seams.

- `channel_layer_alias` names no configured layer, so Channels creates no per-socket channel (a
  channel-layer channel and a reader per socket): events come from the process hub (groups.py).
- `__call__` is Channels' own for a single source (its docstring has the figures): its ASGI
  `send` goes through an `Outbox`, so relayed events, replies and the final close keep their
  order and a slow client never blocks the relay, and it releases the socket's streams however
  the connection ends.
- `dispatch` is Channels' minus one thread hop per inbound frame (its docstring has the figures).
- `websocket_connections` (project/observability.py) counts the socket from its accept until
  its close is sent or the connection ends, however it ends: here, not in an ASGI wrapper around
  every socket, whose coroutine frame and `send` wrapper cost about 0.5 KB per socket
  (tracemalloc over 1,000 idle GraphQL subscribers).
- Inbound limits, in the `websocket.receive` handler: `WEBSOCKET_MAX_MESSAGE_BYTES` (close 1009)
  and a per-connection token bucket of `WEBSOCKET_RATE_LIMIT_PER_SECOND` /
  `WEBSOCKET_RATE_LIMIT_BURST` messages (close 1008).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from project.observability import WEBSOCKET_CONNECTIONS

from .outbox import Outbox

logger = logging.getLogger(__name__)

CLOSE_TOO_BIG = 1009
CLOSE_POLICY = 1008
CLOSE_INTERNAL = 1011
# Frames were dropped for a client that did not read (outbox overflow): the stream is no longer
# complete, so the client is told to reconnect and resume from the last `seq` it has. Private
# (4000-4999), on both socket kinds; graphql-ws clients retry on it (not one of their fatal codes).
CLOSE_RESUME = 4410


class TokenBucket:
    __slots__ = ("burst", "rate", "tokens", "updated")  # one per socket (see watch.Watch)

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.updated = time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class RelayConsumer(AsyncWebsocketConsumer):
    """Every attribute a socket holds is given its first value in `__init__` (subclasses add
    theirs there too), before anything else. Measured with tracemalloc over 1,000 idle GraphQL
    subscribers (Python 3.13): while the GraphQL consumer's `watch` was first set at
    `connection_init`, every socket paid a 768-byte allocation at that store; set in `__init__`,
    nothing: 0.7 KB less per socket. (Which CPython rule causes it was not pinned down.)"""

    channel_layer_alias = "realtime.no-per-socket-channel"  # not configured: no channel
    metrics_kind = "json"  # the `kind` label of `websocket_connections`

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.closing = False
        self.counted: Any = None  # the gauge this socket is counted in, from accept to close

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Channels' `AsyncConsumer.__call__` for a consumer whose only source is its client (no
        per-socket channel, see `channel_layer_alias`): the same `dispatch` of each message, from
        a plain `receive` loop on the socket's own task. Channels' `await_many_dispatch` keeps a
        Task per pending `receive` and re-enters `asyncio.wait` (a waiter future and callbacks)
        for every inbound frame: measured with tracemalloc over 1,000 idle GraphQL subscribers,
        about 2.7 KB per socket (of 39 KB)."""
        self.scope = scope
        self.channel_layer = None
        self.base_send = self._send_via_outbox
        self.outbox = Outbox(
            send, limit=int(settings.WEBSOCKET_SEND_QUEUE_LIMIT), on_overflow=self._overflowed
        )
        self.rate = TokenBucket(
            float(settings.WEBSOCKET_RATE_LIMIT_PER_SECOND),
            float(settings.WEBSOCKET_RATE_LIMIT_BURST),
        )
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass
        finally:
            self.closing = True
            self._uncount()
            self.outbox.abort()
            self.release()

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' `dispatch` without its per-message `close_old_connections` hop to the one
        thread every socket's queries share (database work here goes through
        `database_sync_to_async`, which does that cleanup itself). Measured costs of that hop:
        it queues each inbound frame behind every other socket's queries, so a `subscribe` took
        its log position late and missed what committed meanwhile (tests/e2e/
        test_realtime_limits.py, 500 fresh subscriptions racing a change: with Channels'
        dispatch one run in four lost it on 66 sockets; without, none in eleven runs on either
        backend); and 10,000 pings over 50 sockets took a median
        1.66 / 2.25 / 1.30 s without it against 1.79 / 2.47 / 1.90 s with it (three A/B runs)."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def _send_via_outbox(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "websocket.close":
            self.closing = True
            self._uncount()
            self.outbox.push_last(message)
        else:
            self.outbox.push(message)
            if kind == "websocket.accept" and self.counted is None and not self.outbox.closed:
                self.counted = WEBSOCKET_CONNECTIONS.labels(self.metrics_kind)
                self.counted.inc()

    def _uncount(self) -> None:
        if self.counted is not None:
            self.counted.dec()
            self.counted = None

    async def websocket_receive(self, message: dict[str, Any]) -> None:
        if self.closing:
            return
        text, data = message.get("text"), message.get("bytes")
        limit = settings.WEBSOCKET_MAX_MESSAGE_BYTES
        size = len(data or b"") if text is None else len(text)
        if text is not None and size * 4 > limit:
            size = len(text.encode("utf-8"))
        if size > limit:
            self.close_now(CLOSE_TOO_BIG, "message too big")
            return
        if not self.rate.allow():
            self.close_now(CLOSE_POLICY, "rate limit exceeded")
            return
        await self.receive(text_data=text, bytes_data=data)

    def send_text(self, text: str) -> None:
        if not self.closing:
            self.outbox.push_text(text)

    def close_now(self, code: int, reason: str = "") -> None:
        """Closes from anywhere, including synchronous hub and watchdog callbacks."""
        if not self.closing:
            self.closing = True
            message: dict[str, Any] = {"type": "websocket.close", "code": code}
            if reason:
                message["reason"] = reason
            self._uncount()
            self.outbox.push_last(message)
            self.release()

    def _overflowed(self) -> None:
        logger.warning("closing a socket whose client does not read")
        self.close_now(CLOSE_RESUME, "client too slow: events dropped, resume")

    def release(self) -> None:
        """Drop streams and watches; called on close. Must not block."""
