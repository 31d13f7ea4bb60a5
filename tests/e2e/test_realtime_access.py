"""Sockets lose their stream, within `WEBSOCKET_RECHECK_SECONDS`, once their principal no longer
holds by the rule HTTP uses (`project.auth.principal_still_allowed`): a session logged out or
made stale by a password change, a user deactivated. Both socket kinds, against the live server.

JSON sockets close with 4401 for lost credentials; graphql-transport-ws sockets close with 4403,
as at `connection_init` (API.md)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from django.contrib.auth import get_user_model

from tests.factories import make_token

from .realtime_client import (
    TIMEOUT,
    browser_login,
    browser_logout,
    close_code,
    cookie_header,
    open_socket,
    receive,
    send,
)

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"  # tests/factories.py
PROTOCOL = "graphql-transport-ws"
CLOSE = {"json": 4401, "graphql": 4403}


@pytest.fixture(autouse=True)
def _fast_recheck(settings: Any) -> None:
    settings.WEBSOCKET_RECHECK_SECONDS = 0.2


def open_live(server: Any, kind: str, project: Any, **auth: Any) -> Any:
    """A socket of `kind` that is live on `project` (JSON `ready`; or `connection_ack` and a
    subscription whose replay has delivered)."""
    if kind == "json":
        ws = open_socket(server, f"/ws/projects/{project.pk}/", **auth)
        assert receive(ws)["type"] == "ready"
        return ws
    token = auth.pop("token", None)
    ws = open_socket(server, "/graphql", subprotocols=[PROTOCOL], **auth)
    payload = {"authorization": f"Bearer {token}"} if token else {}
    send(ws, {"type": "connection_init", "payload": payload})
    assert receive(ws) == {"type": "connection_ack"}
    query = 'subscription($p: ID!) { projectEvents(projectId: $p, after: "0") { type } }'
    send(
        ws,
        {
            "id": "1",
            "type": "subscribe",
            "payload": {"query": query, "variables": {"p": project.pk}},
        },
    )
    assert receive(ws)["type"] == "next"
    return ws


@pytest.mark.parametrize("kind", ["json", "graphql"])
def test_a_session_socket_closes_after_logout(asgi_server, project, member, kind):
    cookies = browser_login(asgi_server, member.username, PASSWORD)
    headers = {"Cookie": cookie_header(cookies)}
    with open_live(asgi_server, kind, project, headers=headers) as ws:
        browser_logout(asgi_server, cookies)
        me = httpx.get(f"{asgi_server.url}/api/v1/me/", headers=headers, timeout=TIMEOUT)
        assert me.status_code in (401, 403)  # HTTP refuses the cookie at once
        assert close_code(ws) == CLOSE[kind]


@pytest.mark.parametrize("kind", ["json", "graphql"])
def test_a_session_socket_closes_after_a_password_change(asgi_server, project, member, kind):
    cookies = browser_login(asgi_server, member.username, PASSWORD)
    with open_live(asgi_server, kind, project, headers={"Cookie": cookie_header(cookies)}) as ws:
        user = get_user_model().objects.get(pk=member.pk)
        user.set_password("a different one")
        user.save()
        assert close_code(ws) == CLOSE[kind]


@pytest.mark.parametrize("kind", ["json", "graphql"])
def test_a_deactivated_users_token_socket_closes(asgi_server, project, member, kind):
    with open_live(asgi_server, kind, project, token=make_token(member)) as ws:
        get_user_model().objects.filter(pk=member.pk).update(is_active=False)
        assert close_code(ws) == CLOSE[kind]


@pytest.mark.parametrize("kind", ["json", "graphql"])
def test_a_socket_whose_principal_still_holds_stays_open(asgi_server, project, member, kind):
    """The control: several re-check periods pass and the socket still answers."""
    cookies = browser_login(asgi_server, member.username, PASSWORD)
    with open_live(asgi_server, kind, project, headers={"Cookie": cookie_header(cookies)}) as ws:
        for _ in range(3):
            time.sleep(0.3)  # past a re-check
            send(ws, {"type": "ping"})
            assert receive(ws)["type"] == "pong"
