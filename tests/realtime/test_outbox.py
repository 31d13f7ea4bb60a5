"""Relaying never waits on a slow client, and every socket still gets its frames in order
(realtime/outbox.py, on eager asyncio tasks)."""

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


def test_writable_socket_gets_frames_at_once_and_no_task_is_left_scheduled():
    """The eager task runs the send to completion inside `push`: nothing waits on the loop."""

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


def test_a_send_that_fails_drops_the_queue_and_the_outbox_starts_afresh():
    async def scenario() -> list[str]:
        transport = Transport()
        transport.writable.clear()
        failing = {"on": True}

        async def send(message: dict[str, Any]) -> None:
            await transport.send(message)
            if failing["on"]:
                raise OSError("connection reset")

        box = Outbox(send, limit=10, on_overflow=lambda: None)
        box.push_text("1")
        box.push_text("2")  # queued behind the stuck send, dropped with it
        transport.writable.set()
        await box.flush()
        failing["on"] = False
        box.push_text("3")
        return transport.sent

    assert asyncio.run(scenario()) == ["1", "3"]
