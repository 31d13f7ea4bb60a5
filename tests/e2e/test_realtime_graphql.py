"""GraphQL subscriptions over graphql-transport-ws at /graphql against the live server: gql's
WebSocket transport for the client side, the raw `websockets` library for protocol violations.

A subscription has no "subscribed" acknowledgement in this protocol, so tests subscribe with
`after` = the newest event id: replay then guarantees that a change made right after subscribing
is delivered whether it raced the subscription or not.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import pytest
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportConnectionFailed, TransportQueryError
from gql.transport.websockets import WebsocketsTransport
from graphql_relay import to_global_id
from oauth2_provider.models import get_access_token_model

from tasks.models import Event
from tests.factories import make_project, make_task, make_token

from .realtime_client import close_code, graphql, open_socket, receive, rest, send

pytestmark = pytest.mark.e2e

PROTOCOL = "graphql-transport-ws"

PROJECT_EVENTS = gql(
    """subscription($projectId: ID!, $after: String) {
      projectEvents(projectId: $projectId, after: $after) {
        id type data createdAt actor { username } project { name } task { title }
      }
    }"""
)
TASK_EVENTS = gql(
    """subscription($taskId: ID!, $after: String) {
      taskEvents(taskId: $taskId, after: $after) { id type data }
    }"""
)
ADD_COMMENT = """mutation($taskId: ID!, $body: String!) {
  addComment(input: {taskId: $taskId, body: $body}) { comment { id } errors { code } }
}"""


def request(document: GraphQLRequest, variables: dict[str, Any]) -> GraphQLRequest:
    return GraphQLRequest(document, variable_values=variables)


def transport(server: Any, token: str | None) -> WebsocketsTransport:
    payload = {"authorization": f"Bearer {token}"} if token else {}
    return WebsocketsTransport(
        url=f"{server.ws_url}/graphql",
        init_payload=payload,
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )


def newest_event_id(project: Any) -> str:
    return str(Event.objects.filter(project=project).latest("id").pk)


async def in_thread(function: Any, *args: Any, **kwargs: Any) -> Any:
    return await asyncio.to_thread(function, *args, **kwargs)


@pytest.fixture
def task(project, owner):
    return make_task(project, owner, title="Launch")


def test_receives_events_of_a_rest_change_and_a_graphql_change(asgi_server, project, task, member):
    token = make_token(member)
    after = newest_event_id(project)
    variables = {"projectId": to_global_id("Project", project.pk), "after": after}

    async def scenario() -> list[dict[str, Any]]:
        received = []
        async with Client(transport=transport(asgi_server, token)) as session:
            events = session.subscribe(request(PROJECT_EVENTS, variables))
            response = await in_thread(
                rest,
                asgi_server,
                "POST",
                f"/api/v1/tasks/{task.pk}/comments/",
                token,
                json={"body": "over REST"},
            )
            assert response.status_code == 201, response.text
            received.append((await anext(events))["projectEvents"])
            # This subscription has delivered, so it is live: the next change arrives live.
            await in_thread(
                graphql,
                asgi_server,
                token,
                ADD_COMMENT,
                taskId=to_global_id("Task", task.pk),
                body="over GraphQL",
            )
            received.append((await anext(events))["projectEvents"])
            await events.aclose()
        return received

    over_rest, over_graphql = asyncio.run(scenario())
    assert over_rest["type"] == "comment.created"
    assert over_rest["data"]["body"] == "over REST"
    assert over_rest["actor"] == {"username": "mia"}
    assert over_rest["project"] == {"name": "Apollo"}
    assert over_rest["task"] == {"title": "Launch"}
    assert over_graphql["data"]["body"] == "over GraphQL"
    assert int(over_graphql["id"]) > int(over_rest["id"])


def test_resume_after_a_disconnect_receives_exactly_the_missed_events(
    asgi_server, project, task, member
):
    token = make_token(member)
    task_id = to_global_id("Task", task.pk)
    start = newest_event_id(project)

    async def first_session() -> str:
        async with Client(transport=transport(asgi_server, token)) as session:
            events = session.subscribe(request(TASK_EVENTS, {"taskId": task_id, "after": start}))
            await in_thread(graphql, asgi_server, token, ADD_COMMENT, taskId=task_id, body="seen")
            seen = (await anext(events))["taskEvents"]
            await events.aclose()
        return str(seen["id"])

    last_seen = asyncio.run(first_session())
    for n in range(3):
        graphql(asgi_server, token, ADD_COMMENT, taskId=task_id, body=f"missed {n}")

    async def second_session() -> list[str]:
        async with Client(transport=transport(asgi_server, token)) as session:
            events = session.subscribe(
                request(TASK_EVENTS, {"taskId": task_id, "after": last_seen})
            )
            bodies = [(await anext(events))["taskEvents"]["data"]["body"] for _ in range(3)]
            await in_thread(graphql, asgi_server, token, ADD_COMMENT, taskId=task_id, body="live")
            bodies.append((await anext(events))["taskEvents"]["data"]["body"])
            await events.aclose()
        return bodies

    assert asyncio.run(second_session()) == ["missed 0", "missed 1", "missed 2", "live"]


def test_subscription_to_a_project_the_user_may_not_see_gets_not_found(
    asgi_server, project, outsider
):
    mine = make_project(outsider, name="Mine")
    token = make_token(outsider)

    async def scenario() -> tuple[Any, str]:
        async with Client(transport=transport(asgi_server, token)) as session:
            with pytest.raises(TransportQueryError) as refused:
                await anext(
                    session.subscribe(
                        request(PROJECT_EVENTS, {"projectId": to_global_id("Project", project.pk)})
                    )
                )
            # The socket stays open: another subscription on it works.
            own = session.subscribe(
                request(
                    PROJECT_EVENTS,
                    {"projectId": to_global_id("Project", mine.pk), "after": "0"},
                )
            )
            first = (await anext(own))["projectEvents"]["type"]
            await own.aclose()
        return refused.value.errors, first

    errors, first = asyncio.run(scenario())
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"
    assert first == "member.added"


def test_removal_from_the_project_ends_only_that_subscription(asgi_server, project, owner, member):
    other = make_project(owner, name="Other", members={member: "member"})
    other_task = make_task(other, owner, title="Elsewhere")
    token = make_token(member)
    owner_token = make_token(owner)
    removed_from = {
        "projectId": to_global_id("Project", project.pk),
        "after": newest_event_id(project),
    }
    kept = {"projectId": to_global_id("Project", other.pk), "after": newest_event_id(other)}

    async def scenario() -> tuple[Any, dict[str, Any]]:
        async with Client(transport=transport(asgi_server, token)) as session:
            doomed = session.subscribe(request(PROJECT_EVENTS, removed_from))
            staying = session.subscribe(request(PROJECT_EVENTS, kept))
            first = asyncio.ensure_future(anext(doomed))
            response = await in_thread(
                rest,
                asgi_server,
                "DELETE",
                f"/api/v1/projects/{project.pk}/members/{member.pk}/",
                owner_token,
            )
            assert response.status_code == 204, response.text
            with pytest.raises(TransportQueryError) as ended:
                await first
            await in_thread(
                graphql,
                asgi_server,
                owner_token,
                ADD_COMMENT,
                taskId=to_global_id("Task", other_task.pk),
                body="still here",
            )
            still = (await anext(staying))["projectEvents"]
            await staying.aclose()
        return ended.value.errors, still

    errors, still = asyncio.run(scenario())
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"
    assert still["data"]["body"] == "still here"


def test_bad_credentials_in_connection_init_close_4403(asgi_server, project):
    async def scenario() -> None:
        async with Client(transport=transport(asgi_server, "not-a-token")) as session:
            await anext(session.subscribe(request(PROJECT_EVENTS, {"projectId": "1"})))

    with pytest.raises(TransportConnectionFailed) as failed:
        asyncio.run(scenario())
    assert failed.value.__cause__.rcvd.code == 4403


def test_no_credentials_close_4403(asgi_server):
    with open_socket(asgi_server, "/graphql", subprotocols=[PROTOCOL]) as ws:
        send(ws, {"type": "connection_init"})
        assert close_code(ws) == 4403


def test_token_revoked_mid_connection_closes_4403(asgi_server, project, member, settings):
    settings.WEBSOCKET_RECHECK_SECONDS = 0.2
    token = make_token(member)
    with open_socket(asgi_server, "/graphql", subprotocols=[PROTOCOL]) as ws:
        send(ws, {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        assert receive(ws) == {"type": "connection_ack"}
        checksum = hashlib.sha256(token.encode()).hexdigest()
        get_access_token_model().objects.filter(token_checksum=checksum).delete()
        assert close_code(ws) == 4403


def init(ws: Any, token: str) -> None:
    send(ws, {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
    assert receive(ws) == {"type": "connection_ack"}


SUBSCRIBE = {"query": 'subscription { projectEvents(projectId: "1") { id } }'}


def test_subscribe_before_ack_closes_4401(asgi_server):
    with open_socket(asgi_server, "/graphql", subprotocols=[PROTOCOL]) as ws:
        send(ws, {"type": "subscribe", "id": "1", "payload": SUBSCRIBE})
        assert close_code(ws) == 4401


def test_init_timeout_closes_4408(asgi_server, settings):
    settings.WEBSOCKET_AUTH_TIMEOUT_SECONDS = 0.3
    with open_socket(asgi_server, "/graphql", subprotocols=[PROTOCOL]) as ws:
        assert close_code(ws) == 4408


def test_duplicate_subscription_id_closes_4409(asgi_server, project, member):
    query = {
        "query": "subscription($p: ID!) { projectEvents(projectId: $p) { id } }",
        "variables": {"p": str(project.pk)},
    }
    with open_socket(asgi_server, "/graphql", subprotocols=[PROTOCOL]) as ws:
        init(ws, make_token(member))
        send(ws, {"type": "subscribe", "id": "same", "payload": query})
        send(ws, {"type": "subscribe", "id": "same", "payload": query})
        assert close_code(ws) == 4409


def test_second_connection_init_closes_4429(asgi_server, member):
    with open_socket(asgi_server, "/graphql", subprotocols=[PROTOCOL]) as ws:
        token = make_token(member)
        init(ws, token)
        send(ws, {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        assert close_code(ws) == 4429


@pytest.mark.parametrize(
    "message",
    ["not json", '{"no": "type"}', '{"type": "unheard_of"}', '{"type": "subscribe", "id": 1}'],
)
def test_bad_message_closes_4400(asgi_server, member, message):
    with open_socket(asgi_server, "/graphql", subprotocols=[PROTOCOL]) as ws:
        init(ws, make_token(member))
        ws.send(message)
        assert close_code(ws) == 4400


def test_ping_pong_and_complete(asgi_server, project, member):
    query = {
        "query": 'subscription($p: ID!) { projectEvents(projectId: $p, after: "0") { type } }',
        "variables": {"p": str(project.pk)},
    }
    with open_socket(asgi_server, "/graphql", subprotocols=[PROTOCOL]) as ws:
        init(ws, make_token(member))
        send(ws, {"type": "ping"})
        assert receive(ws) == {"type": "pong"}
        for _ in range(2):  # an id is free again once the client completed it
            send(ws, {"type": "subscribe", "id": "a", "payload": query})
            first = receive(ws)
            assert first == {
                "id": "a",
                "type": "next",
                "payload": {"data": {"projectEvents": {"type": "member.added"}}},
            }
            send(ws, {"type": "complete", "id": "a"})
        send(ws, {"type": "ping"})
        assert receive(ws) == {"type": "pong"}


def test_queries_over_the_socket_are_refused_with_an_error(asgi_server, member):
    with open_socket(asgi_server, "/graphql", subprotocols=[PROTOCOL]) as ws:
        init(ws, make_token(member))
        send(ws, {"type": "subscribe", "id": "q", "payload": {"query": "{ viewer { id } }"}})
        answer = receive(ws)
    assert answer["type"] == "error"
    assert answer["id"] == "q"


def test_invalid_subscription_gets_a_validation_error(asgi_server, member):
    with open_socket(asgi_server, "/graphql", subprotocols=[PROTOCOL]) as ws:
        init(ws, make_token(member))
        payload = {"query": 'subscription { projectEvents(projectId: "1") { nope } }'}
        send(ws, {"type": "subscribe", "id": "v", "payload": payload})
        answer = receive(ws)
        assert answer["type"] == "error"
        assert answer["payload"][0]["message"]
        send(ws, {"type": "ping"})
        assert receive(ws) == {"type": "pong"}


def test_unknown_subprotocol_is_refused(asgi_server):
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus):
        open_socket(asgi_server, "/graphql", subprotocols=["graphql-ws"])


def test_shared_live_events_stop_at_complete_and_keep_order(asgi_server, project, task, member):
    """Payload-only subscriptions are sent from the hub callback: each operation gets its own
    id, in commit order, and nothing more once the client completed it."""
    token = make_token(member, "read write")
    after = newest_event_id(project)
    query = (
        "subscription($p: ID!, $after: String) {"
        " projectEvents(projectId: $p, after: $after) { id type data } }"
    )
    variables = {"p": to_global_id("Project", project.pk), "after": after}
    with open_socket(asgi_server, "/graphql", subprotocols=[PROTOCOL]) as ws:
        init(ws, token)
        for operation_id in ("a", "b"):
            send(
                ws,
                {
                    "type": "subscribe",
                    "id": operation_id,
                    "payload": {"query": query, "variables": variables},
                },
            )
        for title in ("one", "two"):
            response = rest(
                asgi_server, "PATCH", f"/api/v1/tasks/{task.pk}/", token, json={"title": title}
            )
            assert response.status_code == 200, response.text
        frames = [receive(ws) for _ in range(4)]
        for operation_id in ("a", "b"):
            titles = [
                f["payload"]["data"]["projectEvents"]["data"]["title"]
                for f in frames
                if f["id"] == operation_id
            ]
            assert titles == ["one", "two"]
        send(ws, {"type": "complete", "id": "a"})
        send(ws, {"type": "ping"})
        assert receive(ws) == {"type": "pong"}  # the server has handled the complete
        response = rest(
            asgi_server, "PATCH", f"/api/v1/tasks/{task.pk}/", token, json={"title": "three"}
        )
        assert response.status_code == 200, response.text
        frame = receive(ws)
        assert frame["id"] == "b" and frame["type"] == "next"
        assert frame["payload"]["data"]["projectEvents"]["data"]["title"] == "three"
        send(ws, {"type": "ping"})
        assert receive(ws) == {"type": "pong"}  # no `next` for "a" came in between
