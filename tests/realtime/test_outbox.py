"""Relaying never waits on a slow client, and every socket still gets its frames in order."""

from __future__ import annotations

import asyncio
from typing import Any

from realtime.outbox import Outbox


class Transport:
    """An ASGI `send` that blocks while `writable` is clear, like uvicorn's flow control."""

    def __init__(self) -> None:
        self.writable = asyncio.Event()
        self.writable.set()
        self.sent: list[str] = []

    async def send(self, message: dict[str, Any]) -> None:
        await self.writable.wait()
        self.sent.append(message.get("text", message["type"]))


def test_writable_socket_gets_frames_at_once_without_a_task():
    async def scenario() -> None:
        transport = Transport()
        outbox = Outbox(transport.send, limit=10, on_overflow=lambda: None)
        tasks_before = len(asyncio.all_tasks())
        outbox.push_text("a")
        outbox.push_text("b")
        assert transport.sent == ["a", "b"]
        assert len(asyncio.all_tasks()) == tasks_before

    asyncio.run(scenario())


def test_slow_socket_does_not_block_the_caller_and_keeps_order():
    async def scenario() -> None:
        slow, fast = Transport(), Transport()
        slow.writable.clear()
        slow_box = Outbox(slow.send, limit=10, on_overflow=lambda: None)
        fast_box = Outbox(fast.send, limit=10, on_overflow=lambda: None)
        for text in ("1", "2", "3"):
            slow_box.push_text(text)
            fast_box.push_text(text)
        slow_box.push_last({"type": "websocket.close"})
        slow_box.push_text("after close")
        assert fast.sent == ["1", "2", "3"]
        assert slow.sent == []
        slow.writable.set()
        await slow_box.flush()
        assert slow.sent == ["1", "2", "3", "websocket.close"]

    asyncio.run(scenario())


def test_a_client_that_never_reads_overflows():
    async def scenario() -> list[bool]:
        stuck = Transport()
        stuck.writable.clear()
        overflowed: list[bool] = []
        box = Outbox(stuck.send, limit=2, on_overflow=lambda: overflowed.append(True))
        for n in range(5):
            box.push_text(str(n))
        box.abort()
        return overflowed

    assert asyncio.run(scenario()) == [True, True]
