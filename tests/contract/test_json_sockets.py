"""API.md, Plain JSON WebSockets and Authentication: points the e2e suite leaves open, with the
`websockets` client library against the live server."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.test import Client as DjangoClient
from graphql_relay import to_global_id

from tests.e2e.realtime_client import close_code, open_socket, receive, receive_event, send
from tests.factories import make_task, make_token

pytestmark = pytest.mark.e2e


def cookie_of(user) -> dict[str, str]:
    browser = DjangoClient()
    browser.force_login(user)
    return {"Cookie": f"sessionid={browser.cookies['sessionid'].value}"}


def test_a_project_socket_accepts_the_global_id(asgi_server, project, member, owner):
    path = f"/ws/projects/{to_global_id('Project', project.pk)}/"
    with open_socket(asgi_server, path, token=make_token(member)) as ws:
        assert receive(ws)["type"] == "ready"
        task = make_task(project, owner, title="Seen")
        event = receive_event(ws)
    assert event["type"] == "task.created" and event["data"]["title"] == task.title
    assert set(event) == {"id", "seq", "type", "projectId", "taskId", "actor", "data", "createdAt"}
    assert event["taskId"] == to_global_id("Task", task.pk)


@pytest.mark.parametrize("how", ["first message", "session cookie"])
def test_a_non_member_is_closed_4404_however_they_authenticate(asgi_server, project, outsider, how):
    path = f"/ws/projects/{project.pk}/"
    if how == "session cookie":
        ws = open_socket(asgi_server, path, headers=cookie_of(outsider))
    else:
        ws = open_socket(asgi_server, path)
        send(ws, {"type": "authenticate", "token": make_token(outsider)})
    with ws:
        assert close_code(ws) == 4404


def test_a_token_in_the_query_string_is_never_accepted(asgi_server, project, member, settings):
    settings.WEBSOCKET_AUTH_TIMEOUT_SECONDS = 0.3
    token = make_token(member)
    for query in (f"access_token={token}", f"token={token}", f"authorization=Bearer%20{token}"):
        with open_socket(asgi_server, f"/ws/projects/{project.pk}/?{query}") as ws:
            assert close_code(ws) == 4401
        with open_socket(
            asgi_server, f"/graphql?{query}", subprotocols=["graphql-transport-ws"]
        ) as ws:
            send(ws, {"type": "connection_init"})
            assert close_code(ws) == 4403


def test_the_first_message_may_take_ten_seconds_by_default() -> None:
    assert django_settings.WEBSOCKET_AUTH_TIMEOUT_SECONDS == 10
