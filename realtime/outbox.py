"""Sending to one socket without ever making the caller wait.

The hub relays an event to every local socket from a single task. A socket whose transport is
writable takes the frame at once (the ASGI `send` coroutine finishes without suspending, so it is
driven to completion in place: no task per delivery); a socket whose client is slow gets a task of
its own that finishes that send and drains a bounded queue, so one stuck client never delays the
others. This is what Python 3.12's eager tasks do, kept here for 3.11."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any

logger = logging.getLogger(__name__)

Send = Callable[[dict[str, Any]], Awaitable[None]]


class _Continue:
    """Awaits the rest of a coroutine that was already driven to its first suspension point."""

    def __init__(self, coro: Coroutine[Any, Any, Any], pending: Any) -> None:
        self._coro = coro
        self._pending = pending

    def __await__(self) -> Generator[Any, None, Any]:
        coro, pending = self._coro, self._pending
        while True:
            try:
                # Hand the future the coroutine is blocked on to the Task awaiting us, exactly as
                # the Task would have received it from the coroutine itself.
                yield pending
            except BaseException as exc:  # noqa: BLE001 - relayed into the coroutine
                try:
                    pending = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    pending = coro.send(None)
                except StopIteration as stop:
                    return stop.value


class Outbox:
    """In-order, non-blocking delivery of ASGI messages to one connection."""

    def __init__(self, send: Send, *, limit: int, on_overflow: Callable[[], None]) -> None:
        self._send = send
        self._limit = limit
        self._on_overflow = on_overflow
        self._queue: deque[dict[str, Any]] = deque()
        self._draining: asyncio.Task[None] | None = None
        self.closed = False

    def push_text(self, text: str) -> None:
        self.push({"type": "websocket.send", "text": text})

    def push(self, message: dict[str, Any]) -> None:
        if self.closed:
            return
        if self._draining is not None:
            if len(self._queue) >= self._limit:
                self._on_overflow()
                return
            self._queue.append(message)
            return
        coro = self._send(message)
        try:
            pending = coro.send(None)  # type: ignore[attr-defined]
        except StopIteration:
            return
        except Exception:
            logger.debug("send to a closing socket failed", exc_info=True)
            return
        self._draining = asyncio.get_running_loop().create_task(self._drain(coro, pending))

    async def _drain(self, coro: Coroutine[Any, Any, Any], pending: Any) -> None:
        try:
            await _Continue(coro, pending)
            while self._queue:
                await self._send(self._queue.popleft())
        except Exception:
            logger.debug("send to a closing socket failed", exc_info=True)
            self._queue.clear()
        finally:
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
            self._queue.append(message)
        else:
            self.push(message)
        self.closed = True

    def abort(self) -> None:
        self.closed = True
        self._queue.clear()
        if self._draining is not None:
            self._draining.cancel()
