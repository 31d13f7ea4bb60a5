"""Sending to one socket without ever making the caller wait.

The hub relays an event to every local socket from a single task. Each socket's frames go
through its `Outbox`: a bounded, in-order queue drained by an eager task (Python 3.12+
`Task(..., eager_start=True)`). A socket whose transport is writable takes the frame at once:
the eager task runs the ASGI `send` to completion inside `push` and finishes without ever being
scheduled. A socket whose client is slow leaves its task suspended on that send; later frames
queue behind it (in order) and the task drains them, so one stuck client never delays the
others. A queue that reaches its limit calls `on_overflow` (the consumer closes the socket).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

logger = logging.getLogger(__name__)

Send = Callable[[dict[str, Any]], Awaitable[None]]


class Outbox:
    """In-order, non-blocking delivery of ASGI messages to one connection.

    The queue exists only while a send is suspended (a slow client): an idle socket holds no
    deque (about 700 bytes each, per socket)."""

    __slots__ = ("_draining", "_limit", "_on_overflow", "_queue", "_send", "closed")

    def __init__(self, send: Send, *, limit: int, on_overflow: Callable[[], None]) -> None:
        self._send = send
        self._limit = limit
        self._on_overflow = on_overflow
        self._queue: deque[dict[str, Any]] | None = None
        self._draining: asyncio.Task[None] | None = None
        self.closed = False

    def idle(self) -> bool:
        """Nothing pushed is still waiting for the transport: a push now is sent at once."""
        return self._draining is None and not self.closed

    def push_text(self, text: str) -> None:
        self.push({"type": "websocket.send", "text": text})

    def push(self, message: dict[str, Any]) -> None:
        if self.closed:
            return
        if self._draining is not None:
            self._enqueue(message)
            return
        self._start(message)

    def _enqueue(self, message: dict[str, Any]) -> None:
        queue = self._queue
        if queue is None:
            queue = self._queue = deque()
        elif len(queue) >= self._limit:
            self._on_overflow()
            return
        queue.append(message)

    def _start(self, message: dict[str, Any]) -> None:
        task = asyncio.Task(self._drain(message), loop=asyncio.get_running_loop(), eager_start=True)
        if not task.done():  # suspended on a slow send: later pushes queue behind it
            self._draining = task

    async def _drain(self, message: dict[str, Any]) -> None:
        try:
            await self._send(message)
            while self._queue:
                await self._send(self._queue.popleft())
        except Exception:
            logger.debug("send to a closing socket failed", exc_info=True)
        finally:
            self._queue = None
            self._draining = None

    async def flush(self) -> None:
        """Waits until everything pushed so far has been handed to the server."""
        while self._draining is not None:
            await asyncio.shield(self._draining)

    def push_last(self, message: dict[str, Any]) -> None:
        """Queues a final message (a close) after everything already pushed; later pushes are
        dropped."""
        if self.closed:
            return
        if self._draining is not None:
            if self._queue is None:
                self._queue = deque()
            self._queue.append(message)
        else:
            self._start(message)
        self.closed = True

    def abort(self) -> None:
        self.closed = True
        self._queue = None
        if self._draining is not None:
            self._draining.cancel()
