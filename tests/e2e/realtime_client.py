"""Small helpers for driving the live server's WebSockets with the `websockets` library."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

TIMEOUT = 10


def open_socket(
    server: Any,
    path: str,
    *,
    token: str | None = None,
    origin: str | None = None,
    headers: dict[str, str] | None = None,
    subprotocols: list[str] | None = None,
) -> ClientConnection:
    all_headers = dict(headers or {})
    if token is not None:
        all_headers["Authorization"] = f"Bearer {token}"
    return connect(
        server.ws_url + path,
        additional_headers=all_headers,
        origin=origin,  # type: ignore[arg-type]
        subprotocols=subprotocols,  # type: ignore[arg-type]
        open_timeout=TIMEOUT,
        max_size=2**24,
    )


def send(ws: ClientConnection, message: dict[str, Any]) -> None:
    ws.send(json.dumps(message))


def receive(ws: ClientConnection, timeout: float = TIMEOUT) -> dict[str, Any]:
    return json.loads(ws.recv(timeout=timeout))  # type: ignore[no-any-return]


def receive_until(
    ws: ClientConnection, match: Callable[[dict[str, Any]], bool], timeout: float = TIMEOUT
) -> dict[str, Any]:
    """The first message matching `match`; messages before it are skipped."""
    while True:
        message = receive(ws, timeout)
        if match(message):
            return message


def receive_event(ws: ClientConnection, timeout: float = TIMEOUT) -> dict[str, Any]:
    return receive_until(ws, lambda m: m["type"] == "event", timeout)["event"]


def close_code(ws: ClientConnection, timeout: float = TIMEOUT) -> int | None:
    """Reads until the server closes; returns the close code it sent."""
    try:
        while True:
            ws.recv(timeout=timeout)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None


def subscribe(server: Any, path: str, token: str) -> ClientConnection:
    """A socket authenticated by header that is live (its `ready` received)."""
    ws = open_socket(server, path, token=token)
    ready = receive(ws)
    assert ready["type"] == "ready", ready
    return ws


def drain_quiet(ws: ClientConnection) -> list[dict[str, Any]]:
    """Every message that arrives before the answer to a ping: a barrier proving that nothing
    else was queued for this socket."""
    send(ws, {"type": "ping"})
    seen = []
    while True:
        message = receive(ws)
        if message["type"] == "pong":
            return seen
        seen.append(message)


def rest(server: Any, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(
        method,
        server.url + path,
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT,
        **kwargs,
    )


def graphql(server: Any, token: str, query: str, **variables: Any) -> dict[str, Any]:
    response = httpx.post(
        server.url + "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT,
    )
    body: dict[str, Any] = response.json()
    assert not body.get("errors"), body
    return body


def ack_and_event(ws: ClientConnection) -> tuple[dict[str, Any], dict[str, Any]]:
    """After a `comment.create` on a socket that also streams the task: its `ack` and the
    broadcast event, which may arrive in either order."""
    ack: dict[str, Any] | None = None
    event: dict[str, Any] | None = None
    while ack is None or event is None:
        message = receive(ws)
        if message["type"] == "ack":
            ack = message
        elif message["type"] == "event":
            event = message["event"]
    return ack, event


def browser_login(server: Any, username: str, password: str) -> dict[str, str]:
    """Signs in through `/accounts/login/` as a browser does; returns its cookies (`sessionid`,
    `csrftoken`). Cookies are carried by hand: they may be `Secure`, and the test server is http."""
    page = httpx.get(server.url + "/accounts/login/", timeout=TIMEOUT)
    csrf = page.cookies["csrftoken"]
    response = httpx.post(
        server.url + "/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": csrf},
        headers={"Cookie": f"csrftoken={csrf}", "Referer": server.url + "/accounts/login/"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 302, response.text
    return {"csrftoken": csrf, "sessionid": response.cookies["sessionid"]}


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def browser_logout(server: Any, cookies: dict[str, str]) -> None:
    response = httpx.post(
        server.url + "/accounts/logout/",
        data={"csrfmiddlewaretoken": cookies["csrftoken"]},
        headers={"Cookie": cookie_header(cookies), "Referer": server.url + "/"},
        timeout=TIMEOUT,
    )
    assert response.status_code in (200, 302), response.text
