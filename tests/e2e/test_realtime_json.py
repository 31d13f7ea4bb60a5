"""The plain JSON WebSockets (`/ws/projects/<id>/`, `/ws/tasks/<id>/`) against the live server,
driven with the `websockets` client library."""

from __future__ import annotations

import contextlib
import hashlib

import pytest
from django.test import Client
from graphql_relay import to_global_id
from oauth2_provider.models import get_access_token_model
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.factories import make_project, make_task, make_token

from .realtime_client import (
    ack_and_event,
    close_code,
    drain_quiet,
    open_socket,
    receive,
    receive_event,
    receive_until,
    send,
    subscribe,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def task(project, owner):
    return make_task(project, owner, title="Launch")


def comment_over_socket(server, task, token, body, request_id="r1"):
    with subscribe(server, f"/ws/tasks/{task.pk}/", token) as ws:
        send(ws, {"type": "comment.create", "body": body, "requestId": request_id})
        return receive_until(ws, lambda m: m["type"] in {"ack", "error"})


def test_project_socket_receives_a_comment_made_over_another_socket(
    asgi_server, project, task, member
):
    token = make_token(member)
    with subscribe(asgi_server, f"/ws/projects/{project.pk}/", token) as ws:
        ack = comment_over_socket(asgi_server, task, token, "Looks good", "req-7")
        assert ack["type"] == "ack"
        assert ack["requestId"] == "req-7"
        assert ack["comment"]["body"] == "Looks good"
        event = receive_event(ws)
    assert event["type"] == "comment.created"
    assert event["data"]["body"] == "Looks good"
    assert event["data"]["id"] == ack["comment"]["id"]
    assert event["projectId"] == to_global_id("Project", project.pk)
    assert event["taskId"] == to_global_id("Task", task.pk)
    assert event["actor"]["username"] == member.username
    assert set(event) >= {"id", "type", "projectId", "taskId", "actor", "data", "createdAt"}


def test_global_ids_are_accepted_in_the_path(asgi_server, project, task, member):
    token = make_token(member)
    with subscribe(asgi_server, f"/ws/tasks/{to_global_id('Task', task.pk)}/", token) as ws:
        send(ws, {"type": "comment.create", "body": "via global id", "requestId": 1})
        ack, event = ack_and_event(ws)
    assert ack["requestId"] == 1
    assert event["data"]["body"] == "via global id"


def test_task_socket_only_gets_its_own_task(asgi_server, project, task, owner, member):
    other = make_task(project, owner, title="Other")
    token = make_token(member)
    with subscribe(asgi_server, f"/ws/tasks/{task.pk}/", token) as ws:
        assert comment_over_socket(asgi_server, other, token, "elsewhere")["type"] == "ack"
        assert comment_over_socket(asgi_server, task, token, "here")["type"] == "ack"
        assert receive_event(ws)["data"]["body"] == "here"


def test_authenticate_with_a_first_message(asgi_server, project, task, member):
    with open_socket(asgi_server, f"/ws/tasks/{task.pk}/") as ws:
        send(ws, {"type": "authenticate", "token": make_token(member)})
        assert receive(ws)["type"] == "ready"
        send(ws, {"type": "comment.create", "body": "hello", "requestId": "a"})
        ack, event = ack_and_event(ws)
    assert ack["requestId"] == "a"
    assert event["data"]["body"] == "hello"


def test_authenticate_with_the_session_cookie(asgi_server, project, member):
    client = Client()
    client.force_login(member)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    with open_socket(asgi_server, f"/ws/projects/{project.pk}/", headers={"Cookie": cookie}) as ws:
        assert receive(ws)["type"] == "ready"


@pytest.mark.parametrize("how", ["header", "first message"])
def test_bad_token_closes_4401(asgi_server, project, how):
    if how == "header":
        ws = open_socket(asgi_server, f"/ws/projects/{project.pk}/", token="not-a-token")
    else:
        ws = open_socket(asgi_server, f"/ws/projects/{project.pk}/")
        send(ws, {"type": "authenticate", "token": "not-a-token"})
    with ws:
        assert close_code(ws) == 4401


def test_expired_token_closes_4401(asgi_server, project, member):
    token = make_token(member, expires_in=-1)
    with open_socket(asgi_server, f"/ws/projects/{project.pk}/", token=token) as ws:
        assert close_code(ws) == 4401


def test_a_message_other_than_authenticate_first_closes_4401(asgi_server, project):
    with open_socket(asgi_server, f"/ws/projects/{project.pk}/") as ws:
        send(ws, {"type": "ping"})
        assert close_code(ws) == 4401


def test_silence_past_the_authentication_timeout_closes_4401(asgi_server, project, settings):
    settings.WEBSOCKET_AUTH_TIMEOUT_SECONDS = 0.3
    with open_socket(asgi_server, f"/ws/projects/{project.pk}/") as ws:
        assert close_code(ws) == 4401


@pytest.mark.parametrize("path", ["/ws/projects/{project}/", "/ws/tasks/{task}/"])
def test_non_member_closes_4404(asgi_server, project, task, outsider, path):
    url = path.format(project=project.pk, task=task.pk)
    with open_socket(asgi_server, url, token=make_token(outsider)) as ws:
        assert close_code(ws) == 4404


@pytest.mark.parametrize("raw_id", ["999999", "abc", to_global_id("Task", 1)])
def test_unknown_or_malformed_project_id_closes_4404(asgi_server, member, raw_id):
    with open_socket(asgi_server, f"/ws/projects/{raw_id}/", token=make_token(member)) as ws:
        assert close_code(ws) == 4404


def test_token_without_read_scope_closes_4403(asgi_server, project, member):
    token = make_token(member, scope="write")
    with open_socket(asgi_server, f"/ws/projects/{project.pk}/", token=token) as ws:
        assert close_code(ws) == 4403


def test_foreign_origin_is_refused_at_the_handshake(asgi_server, project, member):
    with pytest.raises(InvalidStatus) as refused:
        open_socket(
            asgi_server,
            f"/ws/projects/{project.pk}/",
            token=make_token(member),
            origin="https://evil.example",
        )
    assert refused.value.response.status_code == 403


def test_allowed_origin_and_cors_origin_are_accepted(asgi_server, project, member, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example"]
    token = make_token(member)
    for origin in (f"http://127.0.0.1:{asgi_server.port}", "https://app.example"):
        with open_socket(
            asgi_server, f"/ws/projects/{project.pk}/", token=token, origin=origin
        ) as ws:
            assert receive(ws)["type"] == "ready"


def test_viewer_receives_events_but_cannot_comment(asgi_server, project, task, viewer, member):
    with subscribe(asgi_server, f"/ws/tasks/{task.pk}/", make_token(viewer)) as ws:
        send(ws, {"type": "comment.create", "body": "me too", "requestId": "v"})
        refused = receive_until(ws, lambda m: m["type"] == "error")
        assert refused["requestId"] == "v"
        assert refused["code"] == "forbidden"
        assert comment_over_socket(asgi_server, task, make_token(member), "ok")["type"] == "ack"
        assert receive_event(ws)["data"]["body"] == "ok"


def test_read_only_token_cannot_comment(asgi_server, project, task, member):
    with subscribe(asgi_server, f"/ws/tasks/{task.pk}/", make_token(member, scope="read")) as ws:
        send(ws, {"type": "comment.create", "body": "x", "requestId": "s"})
        refused = receive_until(ws, lambda m: m["type"] == "error")
    assert refused["code"] == "insufficient_scope"


def test_invalid_comment_is_answered_with_the_validation_code(asgi_server, project, task, member):
    answer = comment_over_socket(asgi_server, task, make_token(member), "   ", "e")
    assert answer == {
        "type": "error",
        "requestId": "e",
        "code": "required",
        "message": answer["message"],
        "errors": [{"field": "body", "code": "required", "message": answer["message"]}],
    }


def test_ping_unknown_type_and_bad_json(asgi_server, project, member):
    with subscribe(asgi_server, f"/ws/projects/{project.pk}/", make_token(member)) as ws:
        send(ws, {"type": "ping"})
        assert receive(ws) == {"type": "pong"}
        send(ws, {"type": "comment.create", "body": "not on a project socket"})
        assert receive(ws)["code"] == "unknown_type"
        ws.send("{not json")
        assert receive(ws)["code"] == "bad_request"
        send(ws, {"type": "resume", "after": "not-a-cursor"})
        assert receive(ws)["code"] == "invalid_cursor"


def test_resume_replays_exactly_the_missed_events(asgi_server, project, task, member):
    token = make_token(member)
    with subscribe(asgi_server, f"/ws/projects/{project.pk}/", token) as ws:
        comment_over_socket(asgi_server, task, token, "seen")
        last_seen = receive_event(ws)["id"]
    missed = [comment_over_socket(asgi_server, task, token, f"missed {n}") for n in range(3)]
    with subscribe(asgi_server, f"/ws/projects/{project.pk}/", token) as ws:
        send(ws, {"type": "resume", "after": last_seen})
        resumed, *replayed = drain_quiet(ws)
        assert resumed["type"] == "resumed" and resumed["recovered"] is True
        assert [m["event"]["data"]["id"] for m in replayed] == [a["comment"]["id"] for a in missed]
        # Resuming again from the start of the gap sends nothing twice on this socket.
        send(ws, {"type": "resume", "after": last_seen})
        assert [m["type"] for m in drain_quiet(ws)] == ["resumed"]
        comment_over_socket(asgi_server, task, token, "live")
        assert receive_event(ws)["data"]["body"] == "live"


def test_removed_member_socket_closes_4403(asgi_server, project, owner, member):
    from .realtime_client import rest

    with subscribe(asgi_server, f"/ws/projects/{project.pk}/", make_token(member)) as ws:
        response = rest(
            asgi_server,
            "DELETE",
            f"/api/v1/projects/{project.pk}/members/{member.pk}/",
            make_token(owner),
        )
        assert response.status_code == 204, response.text
        assert close_code(ws) == 4403


def test_revoked_token_closes_4401_although_the_client_is_silent(
    asgi_server, project, member, settings
):
    settings.WEBSOCKET_RECHECK_SECONDS = 0.2
    token = make_token(member)
    with subscribe(asgi_server, f"/ws/projects/{project.pk}/", token) as ws:
        checksum = hashlib.sha256(token.encode()).hexdigest()
        deleted, _ = get_access_token_model().objects.filter(token_checksum=checksum).delete()
        assert deleted
        assert close_code(ws) == 4401


def test_project_deleted_closes_the_socket(asgi_server, owner, settings):
    settings.WEBSOCKET_RECHECK_SECONDS = 0.2
    doomed = make_project(owner, name="Doomed")
    with subscribe(asgi_server, f"/ws/projects/{doomed.pk}/", make_token(owner)) as ws:
        doomed.delete()
        assert close_code(ws) == 4403


def test_message_over_the_size_limit_closes_1009(asgi_server, project, member):
    with subscribe(asgi_server, f"/ws/projects/{project.pk}/", make_token(member)) as ws:
        ws.send('{"type": "ping", "pad": "' + "x" * (64 * 1024) + '"}')
        assert close_code(ws) == 1009


def test_message_flood_closes_1008(asgi_server, project, member, settings):
    settings.WEBSOCKET_RATE_LIMIT_PER_SECOND = 1
    settings.WEBSOCKET_RATE_LIMIT_BURST = 5
    with subscribe(asgi_server, f"/ws/projects/{project.pk}/", make_token(member)) as ws:
        with contextlib.suppress(ConnectionClosed):
            for _ in range(10):
                send(ws, {"type": "ping"})
        assert close_code(ws) == 1008
