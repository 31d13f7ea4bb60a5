"""Streams without gaps: buffer, join, read the log after the position (the client's cursor or
where the log stood when the subscription was received), flush deduplicated."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from realtime import streams
from realtime.streams import EventStream, parse_cursor


class FakeHub:
    def __init__(self) -> None:
        self.joined: list[Any] = []

    async def join(self, project_id: int, subscriber: Any) -> None:
        self.joined.append(subscriber)

    def leave(self, project_id: int, subscriber: Any) -> None:
        self.joined.remove(subscriber)


def event(n: int, type: str = "comment.created", **extra: Any) -> dict[str, Any]:
    return {"id": str(n), "seq": n, "type": type, "taskId": None, "data": {}, **extra}


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> FakeHub:
    fake = FakeHub()
    monkeypatch.setattr(streams, "get_hub", lambda: fake)
    # The log is faked too: no database, so no connection housekeeping either.
    monkeypatch.setattr(streams, "database_sync_to_async", sync_to_async)
    return fake


def make_stream(delivered: list[str], revoked: list[bool]) -> EventStream:
    return EventStream(
        user=SimpleNamespace(pk=7),
        project_id=1,
        deliver=lambda e, _text: delivered.append(e["id"]),
        revoked=lambda: revoked.append(True),
        lost=lambda: None,
    )


def test_events_arriving_during_replay_are_buffered_and_delivered_once(hub, monkeypatch):
    delivered: list[str] = []
    stream = make_stream(delivered, [])

    def log_page(user: Any, project_id: int, task_id: Any, after: int) -> list[dict[str, Any]]:
        # While the log is read, event 5 (also in the log) and event 6 (committed later) arrive.
        stream.on_event(event(5), "")
        stream.on_event(event(6), "")
        return [event(n) for n in (4, 5)] if after == 3 else []

    monkeypatch.setattr(streams, "_log_page", log_page)
    asyncio.run(stream.open(after_seq=3))
    assert hub.joined == [stream]  # joined before the log was read
    stream.on_event(event(6), "")  # a late duplicate from the layer
    stream.on_event(event(7), "")
    assert delivered == ["4", "5", "6", "7"]


def test_removal_of_the_subscriber_revokes_and_leaves(hub, monkeypatch):
    delivered: list[str] = []
    revoked: list[bool] = []
    stream = make_stream(delivered, revoked)
    monkeypatch.setattr(streams, "_log_page", lambda *args: [])
    asyncio.run(stream.open(after_seq=0))
    stream.on_event(event(1, "member.removed", data={"user": {"pk": 8}}), "")
    stream.on_event(event(2, "member.removed", data={"user": {"pk": 7}}), "")
    stream.on_event(event(3), "")
    assert delivered == ["1"]
    assert revoked == [True]
    assert hub.joined == []


def test_task_streams_filter_on_their_task(hub, monkeypatch):
    delivered: list[str] = []
    stream = EventStream(
        user=SimpleNamespace(pk=7),
        project_id=1,
        task_id=2,
        deliver=lambda e, _t: delivered.append(e["id"]),
        revoked=lambda: None,
        lost=lambda: None,
    )
    monkeypatch.setattr(streams, "_log_page", lambda *args: [])
    asyncio.run(stream.open(after_seq=0))
    stream.on_event(event(1, taskId="VGFzazox"), "")  # Task:1
    stream.on_event(event(2, taskId="VGFzazoy"), "")  # Task:2
    assert delivered == ["2"]


def test_a_fresh_stream_gets_what_committed_while_it_joined(hub, monkeypatch):
    """Position 10 was read when the subscription arrived; event 11 committed (and was published
    to nobody here) while the process joined the group; event 12 arrives live during the read."""
    delivered: list[str] = []
    stream = make_stream(delivered, [])
    order: list[str] = []

    def log_page(user: Any, project_id: int, task_id: Any, after: int) -> list[dict[str, Any]]:
        order.append("log")
        stream.on_event(event(12), "")
        return [event(11), event(12)] if after == 10 else []

    monkeypatch.setattr(streams, "_log_page", log_page)
    asyncio.run(stream.open(after_seq=10, joined=lambda: order.append("joined")))
    assert order == ["joined", "log"]
    assert delivered == ["11", "12"]


@pytest.mark.parametrize(
    ("raw", "expected"), [("42", 42), (42, 42), ("RXZlbnQ6NDI=", 42), (None, None), ("", None)]
)
def test_cursors(raw, expected):
    assert parse_cursor(raw) == expected


@pytest.mark.parametrize("raw", ["abc", "-1", -1, "VGFzazox", True, 1.5])
def test_bad_cursors(raw):
    with pytest.raises(ValueError, match="cursor"):
        parse_cursor(raw)


def test_a_live_event_that_overtook_another_waits_for_the_log_to_fill_the_gap(hub, monkeypatch):
    """Events 5 and 6 committed in that order, but 6 was published first (another process):
    the stream reads 5 from the log and delivers 5, 6, then 7, in `seq` order, each once."""
    delivered: list[str] = []
    stream = make_stream(delivered, [])
    reads: list[int] = []

    def log_page(user: Any, project_id: int, task_id: Any, after: int) -> list[dict[str, Any]]:
        reads.append(after)
        return [event(n) for n in (5, 6) if n > after]

    monkeypatch.setattr(streams, "_log_page", log_page)

    async def scenario() -> None:
        monkeypatch.setattr(streams, "_log_page", lambda *args: [])
        await stream.open(after_seq=4)
        monkeypatch.setattr(streams, "_log_page", log_page)
        stream.on_event(event(6), "")
        assert delivered == []  # held: 5 is missing
        stream.on_event(event(7), "")  # arrives while the gap is being filled
        assert stream._filling is not None
        await stream._filling
        stream.on_event(event(5), "")  # the overtaken one, late: a duplicate now
        stream.on_event(event(8), "")

    asyncio.run(scenario())
    assert delivered == ["5", "6", "7", "8"]
    assert reads == [4]


def test_a_gap_the_log_cannot_fill_ends_the_stream_as_lost(hub, monkeypatch):
    lost: list[bool] = []
    stream = EventStream(
        user=SimpleNamespace(pk=7),
        project_id=1,
        deliver=lambda e, _t: None,
        revoked=lambda: None,
        lost=lambda: lost.append(True),
    )

    def broken(*args: Any) -> list[dict[str, Any]]:
        raise RuntimeError("database unavailable")

    async def scenario() -> None:
        monkeypatch.setattr(streams, "_log_page", lambda *args: [])
        await stream.open(after_seq=0)
        monkeypatch.setattr(streams, "_log_page", broken)
        stream.on_event(event(2), "")
        assert stream._filling is not None
        await stream._filling

    asyncio.run(scenario())
    assert lost == [True]
