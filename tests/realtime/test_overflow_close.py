"""A socket that had to drop frames for a client that does not read is closed with 4410 ("resume"),
never left open and silently incomplete (realtime/base.py over realtime/outbox.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from realtime.base import CLOSE_RESUME, RelayConsumer
from realtime.consumers import ProjectEventsConsumer
from realtime.graphql_ws import GraphQLTransportWSConsumer


class Flooding(RelayConsumer):
    """Accepts, then relays more frames than the send queue holds, as the hub does."""

    async def connect(self) -> None:
        await self.accept()
        for n in range(10):
            self.send_text(str(n))


@pytest.mark.parametrize("kind", [ProjectEventsConsumer, GraphQLTransportWSConsumer])
def test_both_socket_kinds_close_with_the_resume_code(kind):
    # Both consumers share the base that closes on overflow; this pins that they do not override it.
    assert kind._overflowed is RelayConsumer._overflowed


def test_overflow_closes_with_4410_after_the_frames_already_queued(settings):
    settings.WEBSOCKET_SEND_QUEUE_LIMIT = 3

    async def scenario() -> list[dict[str, Any]]:
        writable = asyncio.Event()  # the client reads nothing until the end
        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            await writable.wait()
            sent.append(message)

        inbound: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        inbound.put_nowait({"type": "websocket.connect"})
        consumer = Flooding.as_asgi()
        scope = {"type": "websocket", "path": "/", "headers": [], "subprotocols": []}
        running = asyncio.ensure_future(consumer(scope, inbound.get, send))
        await asyncio.sleep(0)
        for _ in range(20):
            await asyncio.sleep(0)
        writable.set()
        for _ in range(20):
            await asyncio.sleep(0)
        inbound.put_nowait({"type": "websocket.disconnect", "code": 4410})
        await asyncio.wait_for(running, 5)
        return sent

    sent = asyncio.run(scenario())
    assert sent[0]["type"] == "websocket.accept"
    texts = [m["text"] for m in sent if m["type"] == "websocket.send"]
    assert texts == ["0", "1", "2"]  # what was queued before the overflow, in order
    assert sent[-1] == {
        "type": "websocket.close",
        "code": CLOSE_RESUME,
        "reason": "client too slow: events dropped, resume",
    }
