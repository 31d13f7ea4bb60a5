"""API.md, GraphQL > Subscriptions and the Origin rule on `/graphql`: what the e2e suite does not
already prove, with gql's graphql-transport-ws transport and raw `websockets` frames."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from django.test import Client as DjangoClient
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport
from graphql_relay import to_global_id
from websockets.exceptions import InvalidStatus

from tasks.models import Event
from tests.e2e.realtime_client import close_code, graphql, open_socket, receive, send
from tests.factories import make_task, make_token

pytestmark = pytest.mark.e2e

PROTOCOL = "graphql-transport-ws"
PROJECT_EVENTS = """subscription($p: ID!, $after: String) {
  projectEvents(projectId: $p, after: $after) { id type data actor { username } }
}"""
ADD_COMMENT = """mutation($t: ID!, $b: String!) {
  addComment(input: {taskId: $t, body: $b}) { comment { id } }
}"""


def newest(project: Any) -> str:
    return str(Event.objects.filter(project=project).latest("id").pk)


def init(ws: Any, token: str | None = None) -> None:
    payload = {"authorization": f"Bearer {token}"} if token else {}
    send(ws, {"type": "connection_init", "payload": payload})
    assert receive(ws) == {"type": "connection_ack"}


def session_cookie(user: Any) -> str:
    browser = DjangoClient()
    browser.force_login(user)
    return f"sessionid={browser.cookies['sessionid'].value}"


def test_a_session_cookie_authenticates_a_subscription(asgi_server, project, member):
    cookie = session_cookie(member)

    async def scenario() -> dict[str, Any]:
        transport = WebsocketsTransport(
            url=f"{asgi_server.ws_url}/graphql",
            headers={"Cookie": cookie},
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
        async with Client(transport=transport) as session:
            request = GraphQLRequest(
                PROJECT_EVENTS,
                variable_values={"p": to_global_id("Project", project.pk), "after": "0"},
            )
            events = session.subscribe(request)
            first = await anext(events)
            await events.aclose()
        return first["projectEvents"]  # type: ignore[no-any-return]

    first = asyncio.run(scenario())
    assert first["type"] == "member.added"
    assert isinstance(first["data"], dict)


def test_a_foreign_origin_is_refused_at_the_graphql_handshake(asgi_server, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example"]
    with pytest.raises(InvalidStatus) as refused:
        open_socket(asgi_server, "/graphql", origin="https://evil.example", subprotocols=[PROTOCOL])
    assert refused.value.response.status_code == 403
    for origin in (None, f"http://127.0.0.1:{asgi_server.port}", "https://app.example"):
        with open_socket(asgi_server, "/graphql", origin=origin, subprotocols=[PROTOCOL]) as ws:
            assert ws.subprotocol == PROTOCOL


@pytest.mark.parametrize(
    ("field", "argument", "value"),
    [
        ("taskEvents", "taskId", to_global_id("Task", 987_654)),
        ("taskEvents", "taskId", "987654"),
        ("projectEvents", "projectId", "not-an-id"),
    ],
)
def test_an_unknown_id_gets_not_found_and_the_socket_stays_open(
    asgi_server, member, field, argument, value
):
    query = f"subscription($x: ID!) {{ {field}({argument}: $x) {{ id }} }}"
    with open_socket(asgi_server, "/graphql", subprotocols=[PROTOCOL]) as ws:
        init(ws, make_token(member))
        send(
            ws,
            {
                "type": "subscribe",
                "id": "s",
                "payload": {"query": query, "variables": {"x": value}},
            },
        )
        answer = receive(ws)
        assert answer["type"] == "error" and answer["id"] == "s"
        assert [e["extensions"]["code"] for e in answer["payload"]] == ["NOT_FOUND"]
        send(ws, {"type": "ping", "payload": {"any": "thing"}})
        assert receive(ws)["type"] == "pong"


def test_a_non_members_task_subscription_gets_not_found(asgi_server, project, owner, outsider):
    task = make_task(project, owner, title="Secret")
    query = "subscription($x: ID!) { taskEvents(taskId: $x) { id } }"
    with open_socket(asgi_server, "/graphql", subprotocols=[PROTOCOL]) as ws:
        init(ws, make_token(outsider))
        variables = {"x": to_global_id("Task", task.pk)}
        send(
            ws,
            {"type": "subscribe", "id": "t", "payload": {"query": query, "variables": variables}},
        )
        answer = receive(ws)
        assert answer["type"] == "error"
        assert answer["payload"][0]["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize("introspection", [True, False])
def test_document_errors_carry_their_codes(asgi_server, member, settings, introspection):
    settings.GRAPHQL_INTROSPECTION = introspection
    cases = [
        ("subscription { projectEvents(projectId: \"1\") { nope } }", None,
         "GRAPHQL_VALIDATION_FAILED"),
        ("subscription {", None, "GRAPHQL_PARSE_FAILED"),
        ("subscription($p: ID!) { projectEvents(projectId: $p) { id } }", {"p": {"x": 1}},
         "BAD_USER_INPUT"),
    ]  # fmt: skip
    with open_socket(asgi_server, "/graphql", subprotocols=[PROTOCOL]) as ws:
        init(ws, make_token(member))
        for n, (query, variables, code) in enumerate(cases):
            payload = {"query": query, "variables": variables}
            send(ws, {"type": "subscribe", "id": str(n), "payload": payload})
            answer = receive(ws)
            assert answer["type"] == "error" and answer["id"] == str(n)
            assert {e["extensions"]["code"] for e in answer["payload"]} == {code}, answer
            if not introspection:
                assert "Did you mean" not in answer["payload"][0]["message"]


def test_complete_from_the_client_stops_the_stream(asgi_server, project, member):
    task_id = to_global_id("Task", make_task(project, member, title="Quiet").pk)
    token = make_token(member)
    variables = {"p": to_global_id("Project", project.pk), "after": newest(project)}
    with open_socket(asgi_server, "/graphql", subprotocols=[PROTOCOL]) as ws:
        init(ws, token)
        send(
            ws,
            {
                "type": "subscribe",
                "id": "c",
                "payload": {"query": PROJECT_EVENTS, "variables": variables},
            },
        )
        graphql(asgi_server, token, ADD_COMMENT, t=task_id, b="one")
        assert receive(ws)["id"] == "c"
        send(ws, {"type": "complete", "id": "c"})
        before_two = newest(project)
        graphql(asgi_server, token, ADD_COMMENT, t=task_id, b="two")
        # A second subscription replays "two" from the log: by then a live "c" would have had it.
        variables = {**variables, "after": before_two}
        send(
            ws,
            {
                "type": "subscribe",
                "id": "d",
                "payload": {"query": PROJECT_EVENTS, "variables": variables},
            },
        )
        answer = receive(ws)
        assert (
            answer["id"] == "d"
            and answer["payload"]["data"]["projectEvents"]["data"]["body"] == "two"
        )
        send(ws, {"type": "ping"})
        assert receive(ws) == {"type": "pong"}


def test_a_token_without_read_scope_is_refused_at_init(asgi_server, member):
    with open_socket(asgi_server, "/graphql", subprotocols=[PROTOCOL]) as ws:
        send(
            ws,
            {
                "type": "connection_init",
                "payload": {"authorization": f"Bearer {make_token(member, 'write')}"},
            },
        )
        assert close_code(ws) == 4403
