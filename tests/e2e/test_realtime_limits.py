"""Per-socket limits and gap-free subscriptions, against the live server.

- `WEBSOCKET_MAX_SUBSCRIPTIONS` (20): the 21st subscription on one socket gets an `error` for its
  id (`TOO_MANY_SUBSCRIPTIONS`); the socket and its first 20 subscriptions keep working.
- A subscription without `after` is live from the moment its `subscribe` frame is received: 500
  sockets subscribe, a change is made right after the last frame is written, and every socket
  receives it (graphql-transport-ws has no per-subscription acknowledgement to wait for).

Both run on SQLite + the in-memory layer and, with DATABASE_URL and REDIS_URL, on PostgreSQL +
Redis.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets
from graphql_relay import to_global_id

from tests.factories import make_task, make_token

from .realtime_client import drain_quiet, open_socket, receive, rest, send

pytestmark = pytest.mark.e2e

PROTOCOL = "graphql-transport-ws"
QUERY = "subscription($p: ID!) { projectEvents(projectId: $p) { id type data } }"


def subscribe_frame(operation_id: str, project: Any) -> dict[str, Any]:
    variables = {"p": to_global_id("Project", project.pk)}
    return {
        "id": operation_id,
        "type": "subscribe",
        "payload": {"query": QUERY, "variables": variables},
    }


def test_the_21st_subscription_is_refused_and_the_first_20_keep_receiving(
    asgi_server, project, owner, member
):
    task = make_task(project, owner, title="Capped")
    token = make_token(member)
    with open_socket(asgi_server, "/graphql", subprotocols=[PROTOCOL]) as ws:
        send(ws, {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        assert receive(ws) == {"type": "connection_ack"}
        for n in range(21):
            send(ws, subscribe_frame(str(n), project))
        refused = receive(ws)
        assert refused["type"] == "error" and refused["id"] == "20", refused
        assert refused["payload"][0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"
        response = rest(
            asgi_server, "PATCH", f"/api/v1/tasks/{task.pk}/", token, json={"title": "Seen"}
        )
        assert response.status_code == 200, response.text
        frames = [receive(ws) for _ in range(20)]
        assert sorted(int(frame["id"]) for frame in frames) == list(range(20))
        for frame in frames:
            assert frame["type"] == "next"
            assert frame["payload"]["data"]["projectEvents"]["data"]["title"] == "Seen"
        # Completing one frees a place: a new subscription is accepted (no error comes back).
        send(ws, {"type": "complete", "id": "0"})
        send(ws, subscribe_frame("again", project))
        send(ws, {"type": "ping"})
        assert receive(ws) == {"type": "pong"}


def test_a_json_socket_is_not_capped_by_graphql_subscriptions(asgi_server, project, member):
    """The cap counts graphql-transport-ws subscriptions; a JSON socket streams one target."""
    with open_socket(asgi_server, f"/ws/projects/{project.pk}/", token=make_token(member)) as ws:
        assert receive(ws)["type"] == "ready"
        assert drain_quiet(ws) == []


SOCKETS = 500


async def _crowd(server: Any, project: Any, task: Any, token: str) -> list[dict[str, Any]]:
    """Opens SOCKETS acknowledged graphql-transport-ws sockets, writes one `subscribe` on each,
    and makes a change (a comment, over a JSON task socket) the moment the last frame is written.
    Returns each socket's first message."""
    sockets: list[Any] = []

    async def connect() -> Any:
        ws = await websockets.connect(
            f"{server.ws_url}/graphql",
            subprotocols=[PROTOCOL],  # type: ignore[list-item]
            open_timeout=60,
            ping_interval=None,
            max_queue=None,
        )
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        await ws.send(json.dumps(init))
        assert json.loads(await ws.recv()) == {"type": "connection_ack"}
        return ws

    limit = asyncio.Semaphore(50)

    async def bounded() -> Any:
        async with limit:
            return await connect()

    sockets = list(await asyncio.gather(*(bounded() for _ in range(SOCKETS))))
    writer = await websockets.connect(
        f"{server.ws_url}/ws/tasks/{task.pk}/",
        additional_headers={"Authorization": f"Bearer {token}"},
        ping_interval=None,
    )
    try:
        assert json.loads(await writer.recv())["type"] == "ready"
        frame = json.dumps(subscribe_frame("live", project))
        for ws in sockets:
            await ws.send(frame)
        # The change, through the server like any client's: on SQLite's shared in-memory test
        # database a write overlapping the subscriptions' log reads would fail them ("table is
        # locked"); over a socket it runs on the thread those reads use.
        change = {"type": "comment.create", "body": "Everyone", "requestId": "c"}
        await writer.send(json.dumps(change))

        async def first_next(ws: Any) -> dict[str, Any]:
            try:
                message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 20))
            except TimeoutError:
                return {"type": "nothing within 20 s"}
            return message

        return list(await asyncio.gather(*(first_next(ws) for ws in sockets)))
    finally:
        await asyncio.gather(*(ws.close() for ws in [writer, *sockets]), return_exceptions=True)


def test_every_fresh_subscription_receives_a_change_made_as_the_last_one_is_sent(
    asgi_server, project, owner, member
):
    task = make_task(project, owner, title="Before")
    frames = asyncio.run(_crowd(asgi_server, project, task, make_token(member)))
    assert len(frames) == SOCKETS
    missed = [frame for frame in frames if frame["type"] != "next"]
    assert not missed, f"{len(missed)} of {SOCKETS} sockets: {missed[0]}"
    for frame in frames:
        assert frame["type"] == "next", frame
        event = frame["payload"]["data"]["projectEvents"]
        assert event["type"] == "comment.created"
        assert event["data"]["body"] == "Everyone"


def test_one_socket_has_at_most_the_configured_executions_in_flight(
    asgi_server, project, owner, member, settings, monkeypatch
):
    """Five subscriptions whose selection reaches the database (one execution each per event)
    on one socket: with WEBSOCKET_MAX_CONCURRENT_OPERATIONS = 2, never more than two at once."""
    from realtime import shared_results

    settings.WEBSOCKET_MAX_CONCURRENT_OPERATIONS = 2
    in_flight = {"now": 0, "most": 0}
    render = shared_results._render

    async def counted(*args: Any) -> str:
        in_flight["now"] += 1
        in_flight["most"] = max(in_flight["most"], in_flight["now"])
        try:
            await asyncio.sleep(0.05)  # long enough for the others to pile up if they could
            return await render(*args)
        finally:
            in_flight["now"] -= 1

    monkeypatch.setattr(shared_results, "_render", counted)
    task = make_task(project, owner, title="Busy")
    token = make_token(member)
    query = "subscription($p: ID!) { projectEvents(projectId: $p) { id task { title } } }"
    variables = {"p": to_global_id("Project", project.pk)}
    with open_socket(asgi_server, "/graphql", subprotocols=[PROTOCOL]) as ws:
        send(ws, {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        assert receive(ws) == {"type": "connection_ack"}
        for n in range(5):
            payload = {"query": query, "variables": variables}
            send(ws, {"id": str(n), "type": "subscribe", "payload": payload})
        send(ws, {"type": "ping"})
        assert receive(ws) == {"type": "pong"}
        response = rest(
            asgi_server, "PATCH", f"/api/v1/tasks/{task.pk}/", token, json={"title": "Done"}
        )
        assert response.status_code == 200, response.text
        frames = [receive(ws) for _ in range(5)]
    assert {frame["id"] for frame in frames} == {"0", "1", "2", "3", "4"}
    assert all(f["payload"]["data"]["projectEvents"]["task"]["title"] == "Done" for f in frames)
    assert in_flight["most"] == 2
