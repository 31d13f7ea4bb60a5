"""The process hub: one layer subscription per project, one encoding per event, and every local
subscriber told when the layer is lost (its socket then closes with 1011)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from realtime.groups import Hub, LayerUnavailable


class FakeLayer:
    def __init__(self) -> None:
        self.groups: dict[str, set[str]] = {}
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.fail_join = False

    async def new_channel(self) -> str:
        return f"hub!{len(self.groups)}"

    async def group_add(self, group: str, channel: str) -> None:
        if self.fail_join:
            raise ConnectionError("redis is down")
        self.groups.setdefault(group, set()).add(channel)

    async def group_discard(self, group: str, channel: str) -> None:
        self.groups.get(group, set()).discard(channel)

    async def receive(self, channel: str) -> Any:
        item = await self.queue.get()
        if isinstance(item, Exception):
            raise item
        return item


class Recorder:
    def __init__(self) -> None:
        self.frames: list[str] = []
        self.lost = False

    def on_event(self, event: dict[str, Any], text: str) -> None:
        self.frames.append(text)

    def on_layer_lost(self) -> None:
        self.lost = True


def test_one_group_membership_and_one_encoding_for_many_subscribers():
    async def scenario() -> tuple[FakeLayer, list[Recorder]]:
        layer = FakeLayer()
        hub = Hub(layer)
        recorders = [Recorder() for _ in range(3)]
        for recorder in recorders:
            await hub.join(5, recorder)
        await layer.queue.put({"type": "domain.event", "event": {"id": "1", "type": "x"}})
        await asyncio.sleep(0.01)
        assert len(layer.groups["project.5"]) == 1
        for recorder in recorders:
            hub.leave(5, recorder)
        await asyncio.sleep(0.01)
        return layer, recorders

    layer, recorders = asyncio.run(scenario())
    frames = [recorder.frames[0] for recorder in recorders]
    assert frames[0] == '{"type":"event","event":{"id":"1","type":"x"}}'
    assert all(frame is frames[0] for frame in frames)  # the same string object: encoded once
    assert layer.groups["project.5"] == set()


def test_losing_the_layer_tells_every_subscriber():
    async def scenario() -> list[Recorder]:
        layer = FakeLayer()
        hub = Hub(layer)
        recorders = [Recorder(), Recorder()]
        for recorder in recorders:
            await hub.join(5, recorder)
        await layer.queue.put(ConnectionError("connection reset"))
        await asyncio.sleep(0.01)
        assert hub.groups == {}
        return recorders

    assert all(recorder.lost for recorder in asyncio.run(scenario()))


def test_an_unreachable_layer_refuses_the_join():
    async def scenario() -> None:
        layer = FakeLayer()
        layer.fail_join = True
        await Hub(layer).join(5, Recorder())

    with pytest.raises(LayerUnavailable):
        asyncio.run(scenario())


def test_the_hub_relays_what_its_own_dispatcher_published_and_skips_the_layer_s_copy():
    """`Hub.relay` (tasks.events.LocalRelay) reaches the project's local subscribers at once; the
    channel layer's copy of that event names the hub as its origin and is not relayed again,
    while an event published elsewhere (no origin, or another process's hub) is."""

    async def scenario() -> tuple[Hub, Recorder]:
        layer = FakeLayer()
        hub = Hub(layer)
        recorder = Recorder()
        await hub.join(5, recorder)
        hub.relay(5, {"id": "1", "type": "x"})
        hub.relay(7, {"id": "2", "type": "x"})  # nobody here listens to project 7
        for message in (
            {"type": "domain.event", "event": {"id": "1", "type": "x"}, "origin": hub.origin},
            {"type": "domain.event", "event": {"id": "3", "type": "x"}, "origin": "other"},
            {"type": "domain.event", "event": {"id": "4", "type": "x"}},
        ):
            await layer.queue.put(message)
        await asyncio.sleep(0.01)
        return hub, recorder

    hub, recorder = asyncio.run(scenario())
    ids = [frame.split('"id":"')[1].split('"')[0] for frame in recorder.frames]
    assert ids == ["1", "3", "4"]  # "1" once: relayed locally, its layer copy skipped
    assert Hub(FakeLayer()).origin != hub.origin
