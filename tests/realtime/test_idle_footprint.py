"""What keeps an idle socket small (bench/PROFILES.md, memory per idle subscriber), asserted by
structure rather than by bytes: no de-duplication window before a stream's first event, no
scope copy or lingering wrapper between the server and the consumer, and the open-socket gauge
kept by the consumer itself, however the socket ends."""

from __future__ import annotations

import asyncio
import inspect
from types import SimpleNamespace
from typing import Any

from asgiref.compatibility import is_double_callable
from django.urls import re_path
from prometheus_client import REGISTRY

from realtime.auth import Credentials, HandshakeAuthStack
from realtime.base import TokenBucket
from realtime.graphql_ws import GraphQLTransportWSConsumer
from realtime.routing import SocketRouter, websocket_application_stack
from realtime.streams import EventStream
from realtime.watch import Watch


def _stream(delivered: list[int]) -> EventStream:
    return EventStream(
        user=SimpleNamespace(pk=1),
        project_id=1,
        deliver=lambda event, _text: delivered.append(event["seq"]),
        revoked=lambda: None,
        lost=lambda: None,
    )


def test_an_idle_stream_holds_no_deduplication_window_until_its_first_event():
    delivered: list[int] = []
    stream = _stream(delivered)
    assert stream._seen is None and stream._seen_order is None

    for seq in (1, 1, 2, 1, 3):
        stream._offer({"seq": seq}, None)

    assert delivered == [1, 2, 3]
    assert stream._seen == {1, 2, 3}


def test_every_layer_of_the_socket_stack_is_taken_for_an_asgi3_application():
    """The wrappers return their inner application's awaitable (no frame per socket), so they
    are not `async def`: marked, asgiref and uvicorn must still not wrap them as ASGI 2."""
    from project.asgi import application

    assert inspect.iscoroutinefunction(application.__call__)  # what uvicorn checks
    assert not is_double_callable(application)
    stack = websocket_application_stack()
    layers = [stack, stack.app, stack.app.app]
    assert isinstance(layers[-1], SocketRouter)
    for layer in layers:
        assert not is_double_callable(layer), layer


async def test_the_router_adds_its_keys_to_the_servers_scope_and_hands_over_the_consumer():
    seen: dict[str, Any] = {}

    async def consumer(scope: dict[str, Any], receive: Any, send: Any) -> str:
        seen["scope"] = scope
        return "served"

    router = SocketRouter(
        [
            re_path(r"^ws/projects/(?P<target_id>[^/]{1,200})/?$", consumer),
            re_path(r"", consumer, kwargs={"refused": True}),
        ]
    )
    scope = {"type": "websocket", "path": "/app/ws/projects/42/", "root_path": "/app"}
    awaitable = router(scope, None, None)
    assert inspect.iscoroutine(awaitable)
    assert await awaitable == "served"
    assert seen["scope"] is scope
    assert scope["url_route"] == {"args": (), "kwargs": {"target_id": "42"}}
    assert scope["path_remaining"] == ""

    other = {"type": "websocket", "path": "/elsewhere"}
    await router(other, None, None)
    assert other["url_route"] == {"args": (), "kwargs": {"refused": True}}


async def test_the_handshake_adds_its_keys_in_place_and_keeps_no_session():
    calls: list[dict[str, Any]] = []

    async def inner(scope: dict[str, Any], receive: Any, send: Any) -> None:
        calls.append(scope)

    middleware = HandshakeAuthStack(inner)
    anonymous: dict[str, Any] = {"type": "websocket", "headers": []}
    await middleware(anonymous, None, None)
    basic: dict[str, Any] = {"type": "websocket", "headers": [(b"authorization", b"Basic eA==")]}
    await middleware(basic, None, None)

    assert calls[0] is anonymous and calls[1] is basic
    assert anonymous == {
        "type": "websocket",
        "headers": [],
        "credentials": None,
        "credentials_rejected": False,
    }
    assert basic["credentials"] is None and basic["credentials_rejected"] is True
    assert "session" not in basic and "cookies" not in basic


def _open_graphql_sockets() -> float:
    return REGISTRY.get_sample_value("websocket_connections", {"kind": "graphql"}) or 0.0


async def _socket(inbound: asyncio.Queue[dict[str, Any]]) -> tuple[asyncio.Task[None], list[Any]]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/graphql", "subprotocols": [], "headers": []}
    app = GraphQLTransportWSConsumer.as_asgi()
    task = asyncio.get_running_loop().create_task(app(scope, inbound.get, send))
    await inbound.put({"type": "websocket.connect"})
    for _ in range(100):
        if sent:
            break
        await asyncio.sleep(0)
    assert sent[0]["type"] == "websocket.accept"
    return task, sent


async def test_a_socket_is_counted_from_its_accept_until_the_connection_ends():
    before = _open_graphql_sockets()
    inbound: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    task, _sent = await _socket(inbound)
    assert _open_graphql_sockets() == before + 1

    await inbound.put({"type": "websocket.disconnect", "code": 1006})
    await asyncio.wait_for(task, 5)
    assert _open_graphql_sockets() == before


async def test_a_socket_the_server_closes_is_uncounted_with_its_close():
    before = _open_graphql_sockets()
    inbound: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    task, sent = await _socket(inbound)
    await inbound.put({"type": "websocket.receive", "text": "not json"})
    for _ in range(100):
        if sent[-1]["type"] == "websocket.close":
            break
        await asyncio.sleep(0)
    assert sent[-1] == {
        "type": "websocket.close",
        "code": 4400,
        "reason": "Invalid message received",
    }
    assert _open_graphql_sockets() == before

    await inbound.put({"type": "websocket.disconnect", "code": 4400})
    await asyncio.wait_for(task, 5)
    assert _open_graphql_sockets() == before  # not uncounted twice


def test_what_a_socket_keeps_for_its_life_is_slotted():
    """No `__dict__` on the per-socket objects (bench/PROFILES.md, third pass)."""
    credentials = Credentials(user=SimpleNamespace(pk=1), scopes=frozenset({"read"}), token_id=1)
    kept = [credentials, Watch(credentials, None, print), TokenBucket(1.0, 1.0)]
    for instance in kept:
        assert not hasattr(instance, "__dict__"), type(instance).__name__


async def test_a_socket_gets_every_attribute_before_it_serves_anything():
    """A consumer's attributes all exist once it is made: connecting and `connection_init` add
    none (an attribute first set late cost 0.7 KB per socket: bench/PROFILES.md)."""
    credentials = Credentials(user=SimpleNamespace(pk=1), scopes=frozenset({"read"}), token_id=1)
    scope = {
        "type": "websocket",
        "path": "/graphql",
        "subprotocols": ["graphql-transport-ws"],
        "headers": [],
        "credentials": credentials,
    }
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    consumer = GraphQLTransportWSConsumer()
    made = set(vars(consumer))
    inbound: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    task = asyncio.get_running_loop().create_task(consumer(scope, inbound.get, send))
    await inbound.put({"type": "websocket.connect"})
    await inbound.put({"type": "websocket.receive", "text": '{"type":"connection_init"}'})
    for _ in range(100):
        if len(sent) >= 2:
            break
        await asyncio.sleep(0)
    assert sent[1] == {"type": "websocket.send", "text": '{"type":"connection_ack"}'}
    assert consumer.watch is not None and consumer.credentials is credentials
    # Only what Channels' `__call__` gives every consumer, in RelayConsumer's version of it.
    assert set(vars(consumer)) - made == {"scope", "channel_layer", "base_send", "outbox", "rate"}

    await inbound.put({"type": "websocket.disconnect", "code": 1000})
    await asyncio.wait_for(task, 5)
