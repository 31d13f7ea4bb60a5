"""Continuity a client can check, against the live server with real clients (`gql` over
graphql-transport-ws, `websockets` on the JSON sockets): a resumed stream first says whether its
replay is complete (`recovered`, or a reason), then delivers the missed events in `seq` order; a
client that tracks `seq` sees every gap and fills it by resuming."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport
from graphql_relay import to_global_id

from realtime import streams
from realtime.consumers import EventsConsumer
from tasks import outbox, retention
from tasks.models import Event, ProjectLog
from tests.factories import make_project, make_task, make_token

from .realtime_client import drain_quiet, receive, receive_event, send, subscribe

pytestmark = pytest.mark.e2e

STREAM = gql(
    """subscription($p: ID!, $after: String, $afterSeq: Int) {
      projectEventStream(projectId: $p, after: $after, afterSeq: $afterSeq) {
        recovered reason fromSeq event { id seq type data }
      }
    }"""
)
LEGACY = gql(
    """subscription($p: ID!, $afterSeq: Int) {
      projectEvents(projectId: $p, afterSeq: $afterSeq) { id seq }
    }"""
)


def transport(server: Any, token: str) -> WebsocketsTransport:
    return WebsocketsTransport(
        url=f"{server.ws_url}/graphql",
        init_payload={"authorization": f"Bearer {token}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )


def head(project: Any) -> int:
    return int(ProjectLog.objects.get(project=project).last_seq)


async def in_thread(function: Any, *args: Any, **kwargs: Any) -> Any:
    return await asyncio.to_thread(function, *args, **kwargs)


def test_a_subscriber_that_missed_50_events_is_recovered_with_all_50_in_order(
    asgi_server, project, owner, member
):
    token = make_token(member)
    p = to_global_id("Project", project.pk)
    start = head(project)

    async def first_session() -> int:
        async with Client(transport=transport(asgi_server, token)) as session:
            messages = session.subscribe(GraphQLRequest(STREAM, variable_values={"p": p}))
            first = (await anext(messages))["projectEventStream"]
            # A fresh stream is complete from where the log stood: the zero-missed answer.
            assert first == {
                "recovered": True,
                "reason": None,
                "fromSeq": start,
                "event": None,
            }
            await in_thread(make_task, project, owner, title="seen")
            seen = (await anext(messages))["projectEventStream"]
            assert seen["recovered"] is None and seen["event"]["data"]["title"] == "seen"
            await messages.aclose()
        return int(seen["event"]["seq"])

    last = asyncio.run(first_session())
    for n in range(50):
        make_task(project, owner, title=f"missed {n}")

    async def second_session() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        async with Client(transport=transport(asgi_server, token)) as session:
            variables = {"p": p, "afterSeq": last}
            messages = session.subscribe(GraphQLRequest(STREAM, variable_values=variables))
            first = (await anext(messages))["projectEventStream"]
            events = [(await anext(messages))["projectEventStream"]["event"] for _ in range(50)]
            await in_thread(make_task, project, owner, title="live")
            events.append((await anext(messages))["projectEventStream"]["event"])
            await messages.aclose()
        return first, events

    first, events = asyncio.run(second_session())
    assert first == {"recovered": True, "reason": None, "fromSeq": last, "event": None}
    assert [e["seq"] for e in events] == list(range(last + 1, last + 52))
    assert [e["data"]["title"] for e in events] == [f"missed {n}" for n in range(50)] + ["live"]


def test_after_pruning_a_resume_is_not_recovered_cursor_too_old(
    asgi_server, project, owner, member
):
    token = make_token(member)
    p = to_global_id("Project", project.pk)
    make_task(project, owner, title="seen")
    last = head(project)
    for n in range(3):
        make_task(project, owner, title=f"pruned {n}")
    assert outbox.wait_idle(timeout=30)
    assert retention.prune(before=timezone.now() + timedelta(seconds=1)) > 0
    assert retention.replay_floor(project.pk) == head(project)

    async def resume() -> tuple[dict[str, Any], dict[str, Any], list[Any]]:
        async with Client(transport=transport(asgi_server, token)) as session:
            variables = {"p": p, "afterSeq": last}
            messages = session.subscribe(GraphQLRequest(STREAM, variable_values=variables))
            first = (await anext(messages))["projectEventStream"]
            await in_thread(make_task, project, owner, title="after the resync")
            live = (await anext(messages))["projectEventStream"]["event"]
            await messages.aclose()
            # The original field, which has no first message, ends with the reason instead.
            legacy = session.subscribe(GraphQLRequest(LEGACY, variable_values=variables))
            with pytest.raises(TransportQueryError) as refused:
                await anext(legacy)
        return first, live, refused.value.errors or []

    first, live, errors = asyncio.run(resume())
    assert first == {
        "recovered": False,
        "reason": "CURSOR_TOO_OLD",
        "fromSeq": last + 3,
        "event": None,
    }
    assert live["seq"] == last + 4 and live["data"]["title"] == "after the resync"
    assert [error["extensions"]["code"] for error in errors] == ["CURSOR_TOO_OLD"]

    with subscribe(asgi_server, f"/ws/projects/{project.pk}/", token) as ws:
        send(ws, {"type": "resume", "afterSeq": last})
        assert receive(ws) == {
            "type": "resumed",
            "recovered": False,
            "reason": "CURSOR_TOO_OLD",
            "fromSeq": last + 4,
        }


def test_the_json_socket_answers_resume_with_each_reason(
    asgi_server, project, owner, member, settings
):
    token = make_token(member)
    other = make_project(owner, name="Elsewhere")
    foreign = str(Event.objects.filter(project=other).latest("id").pk)
    for n in range(3):
        make_task(project, owner, title=f"t{n}")
    now = head(project)
    with subscribe(asgi_server, f"/ws/projects/{project.pk}/", token) as ws:
        send(ws, {"type": "resume", "afterSeq": now})
        assert drain_quiet(ws) == [{"type": "resumed", "recovered": True, "fromSeq": now}]
        send(ws, {"type": "resume", "after": foreign})
        assert receive(ws)["reason"] == "CURSOR_UNKNOWN"
        send(ws, {"type": "resume", "afterSeq": now + 1})
        assert receive(ws)["reason"] == "CURSOR_UNKNOWN"
        send(ws, {"type": "resume", "after": "1" + "0" * 30})  # past any id column
        assert receive(ws)["reason"] == "CURSOR_UNKNOWN"
        settings.EVENT_REPLAY_MAX = 2
        send(ws, {"type": "resume", "afterSeq": now - 3})
        assert drain_quiet(ws) == [
            {"type": "resumed", "recovered": False, "reason": "TOO_MANY_MISSED", "fromSeq": now}
        ]
        send(ws, {"type": "resume", "afterSeq": -1})
        assert receive(ws)["code"] == "invalid_cursor"
        send(ws, {"type": "resume", "after": foreign, "afterSeq": 1})
        assert receive(ws)["code"] == "invalid_cursor"


def test_a_live_event_lost_on_the_way_to_the_stream_is_filled_from_the_log(
    asgi_server, project, owner, member, monkeypatch
):
    """The hub never relays one event (as when its process died before publishing it): the next
    live event skips its `seq`, so the stream reads the log first and delivers both in order."""
    token = make_token(member)
    on_event = streams.EventStream.on_event

    def lossy(self: Any, event: dict[str, Any], text: str) -> None:
        if (event.get("data") or {}).get("title") == "lost in transit":
            return
        on_event(self, event, text)

    monkeypatch.setattr(streams.EventStream, "on_event", lossy)
    with subscribe(asgi_server, f"/ws/projects/{project.pk}/", token) as ws:
        make_task(project, owner, title="first")
        last = receive_event(ws)["seq"]
        make_task(project, owner, title="lost in transit")
        make_task(project, owner, title="third")
        got = [receive_event(ws) for _ in range(2)]
        assert [(e["seq"], e["data"]["title"]) for e in got] == [
            (last + 1, "lost in transit"),
            (last + 2, "third"),
        ]


def test_a_client_tracking_seq_detects_a_dropped_event_and_fills_it_by_resuming(
    asgi_server, project, owner, member, monkeypatch
):
    """An event dropped after the stream (on the socket's way out): the client sees the `seq`
    jump, and a resume on a new socket gives it the missing event, recovered."""
    token = make_token(member)
    deliver = EventsConsumer._deliver

    def lossy(self: Any, event: dict[str, Any], text: str | None) -> None:
        if (event.get("data") or {}).get("title") != "dropped":
            deliver(self, event, text)

    path = f"/ws/projects/{project.pk}/"
    with monkeypatch.context() as patched:
        patched.setattr(EventsConsumer, "_deliver", lossy)
        with subscribe(asgi_server, path, token) as ws:
            make_task(project, owner, title="first")
            last = receive_event(ws)["seq"]
            make_task(project, owner, title="dropped")
            make_task(project, owner, title="third")
            arrived = receive_event(ws)
    assert arrived["seq"] == last + 2  # a gap: the client knows it missed `last + 1`
    with subscribe(asgi_server, path, token) as ws:
        send(ws, {"type": "resume", "afterSeq": last})
        resumed, *replayed = drain_quiet(ws)
    assert resumed == {"type": "resumed", "recovered": True, "fromSeq": last}
    assert [(m["event"]["seq"], m["event"]["data"]["title"]) for m in replayed] == [
        (last + 1, "dropped"),
        (last + 2, "third"),
    ]
