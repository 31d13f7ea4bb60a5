"""The live-server fixture's own guarantee: the database is flushed only once the server has
finished every handler of the test (tests/conftest.py `asgi_server`)."""

from __future__ import annotations

from typing import Any

from tests.e2e.realtime_client import open_socket, receive, send
from tests.factories import make_token


def test_wait_idle_waits_for_an_open_socket_s_consumer_to_return(
    asgi_server: Any, project: Any, member: Any
) -> None:
    assert asgi_server.wait_idle(timeout=5)
    ws = open_socket(asgi_server, f"/ws/projects/{project.pk}/")
    send(ws, {"type": "authenticate", "token": make_token(member)})
    assert receive(ws)["type"] == "ready"
    # The socket's consumer runs until the socket closes: the server is not idle.
    assert asgi_server.running_tasks() == 1
    assert not asgi_server.wait_idle(timeout=0.3)
    ws.close()
    assert asgi_server.wait_idle(timeout=10)
    assert asgi_server.running_tasks() == 0
