"""Live events of shareable subscriptions leave from the hub callback, in order, and the
handshake does not wrap `send` (realtime/subscriptions.py, shared_results.py, auth.py)."""

from __future__ import annotations

import asyncio
import contextlib
from types import SimpleNamespace
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from graphql import get_operation_ast, parse

from graph.schema import schema
from realtime import streams
from realtime import subscriptions as subscriptions_module
from realtime.auth import HandshakeAuthStack
from realtime.shared_results import next_payload, shared_key, shared_payload_now
from realtime.subscriptions import SubscriptionContext, event_source

QUERY = "subscription($p: ID!) { projectEvents(projectId: $p) { id type data createdAt } }"


class FakeHub:
    def __init__(self) -> None:
        self.joined: list[Any] = []

    async def join(self, project_id: int, subscriber: Any) -> None:
        self.joined.append(subscriber)

    def leave(self, project_id: int, subscriber: Any) -> None:
        self.joined.remove(subscriber)


def event(n: int) -> dict[str, Any]:
    return {
        "id": str(n),
        "type": "task.updated",
        "taskId": None,
        "data": {"n": n},
        "createdAt": "2026-01-01T00:00:00+00:00",
    }


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> FakeHub:
    fake = FakeHub()
    monkeypatch.setattr(streams, "get_hub", lambda: fake)
    monkeypatch.setattr(subscriptions_module, "database_sync_to_async", sync_to_async)
    monkeypatch.setattr(subscriptions_module, "_target", lambda user, p, t: (1, None))
    watchdog = SimpleNamespace(add=lambda watch: None, discard=lambda watch: None)
    monkeypatch.setattr(subscriptions_module, "get_watchdog", lambda: watchdog)
    return fake


def test_live_events_go_straight_out_only_while_the_consumer_waits(hub: FakeHub) -> None:
    sent_now: list[str] = []
    accept = [True]

    def deliver_now(item: dict[str, Any]) -> bool:
        if accept[0]:
            sent_now.append(item["id"])
        return accept[0]

    user = SimpleNamespace(pk=7, is_authenticated=True)
    context = SimpleNamespace(user=user, deliver_now=deliver_now)

    async def scenario() -> list[str]:
        source = event_source(context, project_id="1")
        waiting = asyncio.ensure_future(source.__anext__())
        while not hub.joined:
            await asyncio.sleep(0)
        await asyncio.sleep(0)
        stream = hub.joined[0]
        stream.on_event(event(1), "")  # the consumer waits: sent from the callback
        assert sent_now == ["1"] and not waiting.done()
        accept[0] = False
        stream.on_event(event(2), "")  # refused (it would suspend): through the queue
        assert (await waiting)["id"] == "2"
        accept[0] = True
        # The consumer is still handling event 2: event 3 must queue behind it, not overtake.
        stream.on_event(event(3), "")
        stream.on_event(event(4), "")
        queued = [(await source.__anext__())["id"], (await source.__anext__())["id"]]
        waiting = asyncio.ensure_future(source.__anext__())
        await asyncio.sleep(0)
        stream.on_event(event(5), "")  # waiting again, queue empty: straight out
        waiting.cancel()  # the operation ends: the generator leaves the hub
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        return queued

    assert asyncio.run(scenario()) == ["3", "4"]
    assert sent_now == ["1", "5"]
    assert hub.joined == []


def test_fresh_keeps_the_direct_delivery_hook() -> None:
    def hook(item: dict[str, Any]) -> bool:
        return False

    context = SubscriptionContext(
        SimpleNamespace(user=SimpleNamespace(pk=1), scopes=frozenset(), token_id=None),  # type: ignore[arg-type]
        hook,
    )
    context.loaders = object()  # type: ignore[attr-defined]
    context.fresh()
    assert context.deliver_now is hook
    assert not hasattr(context, "loaders")


def test_the_payload_sent_from_the_callback_is_the_one_the_task_sends() -> None:
    document = parse(QUERY)
    operation = get_operation_ast(document)
    assert operation is not None
    variables = {"p": "UHJvamVjdDox"}
    shared = shared_key(operation, QUERY + " ", variables)  # a key of its own: a cold cache
    assert shared is not None
    context = SimpleNamespace(user=None, fresh=lambda: None)
    direct = shared_payload_now(
        schema.graphql_schema, document, event(99), context, variables, None, shared
    )
    assert direct is not None and '"data":{"projectEvents":{"id":"99"' in direct
    queued = asyncio.run(
        next_payload(schema.graphql_schema, document, event(99), context, variables, None, shared)
    )
    assert queued == direct


def test_the_handshake_passes_send_through_unwrapped(settings: Any) -> None:
    seen: list[Any] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append((send, scope["credentials"], scope["credentials_rejected"], scope["session"]))

    async def send(message: dict[str, Any]) -> None:
        raise AssertionError("not called")

    scope = {"type": "websocket", "path": "/graphql", "headers": [(b"cookie", b"other=1")]}
    asyncio.run(HandshakeAuthStack(app)(scope, None, send))
    [(passed, credentials, rejected, session)] = seen
    assert passed is send
    assert credentials is None and rejected is False
    assert session.session_key is None
