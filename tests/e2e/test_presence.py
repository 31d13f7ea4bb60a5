"""Presence through the live server: JSON sockets (`websockets`), the `projectPresence`
subscription (gql over graphql-transport-ws) and `Project.presence` (gql over HTTP)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport
from graphql_relay import to_global_id

from tasks.presence import get_store
from tests.factories import make_task, make_token

from .graphql_client import client_for, codes, run, run_error
from .realtime_client import close_code, open_socket, receive_until, rest, send, subscribe

pytestmark = pytest.mark.e2e

PRESENCE = gql(
    """subscription($projectId: ID!, $taskId: ID, $editing: Boolean) {
      projectPresence(projectId: $projectId, taskId: $taskId, editing: $editing) {
        user { username displayName } task { title } taskId editing since
      }
    }"""
)
PROJECT_PRESENCE = """query($id: ID!) {
  project(id: $id) { presence { user { username } task { title } editing } }
}"""


@pytest.fixture(autouse=True)
def _presence(settings: Any) -> Iterator[None]:
    settings.PRESENCE_TTL_SECONDS = 3
    settings.PRESENCE_THROTTLE_SECONDS = 0.2
    get_store().clear()
    yield
    get_store().clear()


@pytest.fixture
def task(project, owner):
    return make_task(project, owner, title="Launch")


def who(message: dict[str, Any]) -> set[tuple[str, str | None, bool]]:
    return {(v["user"]["username"], v["taskId"], v["editing"]) for v in message["viewers"]}


def presence_is(expected: set[tuple[str, str | None, bool]]) -> Any:
    return lambda m: m["type"] == "presence" and who(m) == expected


def test_two_users_see_each_other_and_leaving_removes(asgi_server, project, task, owner, member):
    task_id = to_global_id("Task", task.pk)
    with subscribe(asgi_server, f"/ws/projects/{project.pk}/", make_token(owner)) as board:
        send(board, {"type": "presence"})
        first = receive_until(board, lambda m: m["type"] == "presence")
        assert who(first) == {("olivia", None, False)}
        assert first["viewers"][0]["user"]["displayName"] == "Olivia Owner"
        with subscribe(asgi_server, f"/ws/tasks/{task.pk}/", make_token(member)) as panel:
            receive_until(board, presence_is({("olivia", None, False), ("mia", task_id, False)}))
            send(panel, {"type": "presence", "editing": True})
            seen = receive_until(panel, lambda m: m["type"] == "presence")
            assert ("olivia", None, False) in who(seen)
            receive_until(board, presence_is({("olivia", None, False), ("mia", task_id, True)}))
            # The board moves to the task: both are on it now.
            send(board, {"type": "presence", "taskId": task.pk})
            receive_until(panel, presence_is({("olivia", task_id, False), ("mia", task_id, True)}))
        receive_until(board, presence_is({("olivia", task_id, False)}))


def test_bad_presence_messages_get_an_error(asgi_server, project, owner, outsider):
    from tests.factories import make_project

    elsewhere = make_task(make_project(outsider, name="Other"), outsider, title="Theirs")
    with subscribe(asgi_server, f"/ws/projects/{project.pk}/", make_token(owner)) as board:
        for message, code in [
            ({"type": "presence", "editing": "yes"}, "bad_request"),
            ({"type": "presence", "editing": True}, "bad_request"),  # editing needs a task
            ({"type": "presence", "taskId": elsewhere.pk}, "not_found"),
            ({"type": "presence", "taskId": "garbage"}, "not_found"),
        ]:
            send(board, message)
            error = receive_until(board, lambda m: m["type"] in {"error", "presence"})
            assert (error["type"], error.get("code")) == ("error", code), message


def test_a_non_member_is_refused_and_never_sees_presence(
    asgi_server, project, task, owner, outsider
):
    token = make_token(outsider)
    project_id = to_global_id("Project", project.pk)
    with open_socket(asgi_server, f"/ws/projects/{project.pk}/", token=token) as ws:
        assert close_code(ws) == 4404
    error = run_error(client_for(asgi_server, token), PROJECT_PRESENCE, id=project_id)
    assert codes(error) == ["NOT_FOUND"]

    async def subscribe_as_outsider() -> list[str]:
        transport = WebsocketsTransport(
            url=f"{asgi_server.ws_url}/graphql",
            init_payload={"authorization": f"Bearer {token}"},
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
        async with Client(transport=transport) as session:
            try:
                async for _ in session.subscribe(
                    GraphQLRequest(PRESENCE, variable_values={"projectId": project_id})
                ):
                    pass
            except TransportQueryError as refused:
                return [e["extensions"]["code"] for e in refused.errors or []]
        return []

    assert asyncio.run(subscribe_as_outsider()) == ["NOT_FOUND"]
    # The refused attempts left nobody present.
    listed = run(client_for(asgi_server, make_token(owner)), PROJECT_PRESENCE, id=project_id)
    assert listed["project"]["presence"] == []


def test_the_subscription_makes_its_caller_present_and_follows_changes(
    asgi_server, project, task, owner, member
):
    project_id = to_global_id("Project", project.pk)
    task_id = to_global_id("Task", task.pk)
    owner_token = make_token(owner)
    transport = WebsocketsTransport(
        url=f"{asgi_server.ws_url}/graphql",
        init_payload={"authorization": f"Bearer {make_token(member)}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )
    variables = {"projectId": project_id, "taskId": task_id, "editing": True}

    async def scenario() -> list[list[dict[str, Any]]]:
        lists = []
        async with Client(transport=transport) as session:
            stream = session.subscribe(GraphQLRequest(PRESENCE, variable_values=variables))
            lists.append((await anext(stream))["projectPresence"])
            # Seen over HTTP by another member, whatever transport made it present.
            over_http = await asyncio.to_thread(
                run, client_for(asgi_server, owner_token), PROJECT_PRESENCE, id=project_id
            )
            lists.append(over_http["project"]["presence"])
            board = await asyncio.to_thread(
                subscribe, asgi_server, f"/ws/projects/{project.pk}/", owner_token
            )
            try:
                while True:  # until the board's owner shows up in the stream
                    latest = (await anext(stream))["projectPresence"]
                    if len(latest) == 2:
                        lists.append(latest)
                        break
            finally:
                board.close()
            while True:
                latest = (await anext(stream))["projectPresence"]
                if len(latest) == 1:
                    lists.append(latest)
                    break
            await stream.aclose()
        return lists

    first, over_http, both, after = asyncio.run(asyncio.wait_for(scenario(), 30))
    mine = {
        "user": {"username": "mia", "displayName": "Mia Member"},
        "task": {"title": "Launch"},
        "taskId": task_id,
        "editing": True,
    }
    assert [{k: v for k, v in item.items() if k != "since"} for item in first] == [mine]
    assert over_http == [
        {"user": {"username": "mia"}, "task": {"title": "Launch"}, "editing": True}
    ]
    assert {item["user"]["username"] for item in both} == {"mia", "olivia"}
    assert [item["user"]["username"] for item in after] == ["mia"]
    # Completing the subscription removed its presence.
    listed = run(client_for(asgi_server, owner_token), PROJECT_PRESENCE, id=project_id)
    assert listed["project"]["presence"] == []


def test_changes_within_the_throttle_window_are_coalesced_into_the_latest_state(
    asgi_server, settings, project, owner, member
):
    """Ten changes paced over about a second, inside one throttle window of three: the watcher
    gets the first at once, then one list with the latest state (unthrottled: about ten)."""
    settings.PRESENCE_THROTTLE_SECONDS = 3
    tasks = [make_task(project, owner, title=f"Step {n}") for n in range(10)]
    with subscribe(asgi_server, f"/ws/projects/{project.pk}/", make_token(owner)) as board:
        send(board, {"type": "presence"})
        receive_until(board, presence_is({("olivia", None, False)}))
        with subscribe(asgi_server, f"/ws/projects/{project.pk}/", make_token(member)) as other:
            for task in tasks:  # a new state each time
                send(other, {"type": "presence", "taskId": task.pk})
                time.sleep(0.1)  # paces the input: each change is announced on its own
            lists = []
            final = {("olivia", None, False), ("mia", to_global_id("Task", tasks[-1].pk), False)}
            while not lists or who(lists[-1]) != final:
                lists.append(receive_until(board, lambda m: m["type"] == "presence"))
    assert len(lists) <= 3, [who(m) for m in lists]


def test_removing_a_member_removes_their_presence(asgi_server, project, task, owner, member):
    with subscribe(asgi_server, f"/ws/projects/{project.pk}/", make_token(owner)) as board:
        send(board, {"type": "presence"})
        with subscribe(asgi_server, f"/ws/projects/{project.pk}/", make_token(member)) as other:
            receive_until(board, presence_is({("olivia", None, False), ("mia", None, False)}))
            response = rest(
                asgi_server,
                "DELETE",
                f"/api/v1/projects/{project.pk}/members/{member.pk}/",
                make_token(owner),
            )
            assert response.status_code == 204
            receive_until(board, presence_is({("olivia", None, False)}))
            assert close_code(other) == 4403


def test_the_subscription_refuses_bad_arguments(asgi_server, project, owner, outsider):
    from tests.factories import make_project

    elsewhere = make_task(make_project(outsider, name="Other"), outsider, title="Theirs")
    project_id = to_global_id("Project", project.pk)
    transport = WebsocketsTransport(
        url=f"{asgi_server.ws_url}/graphql",
        init_payload={"authorization": f"Bearer {make_token(owner)}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )

    async def refusal(session: Any, variables: dict[str, Any]) -> list[str]:
        try:
            async for _ in session.subscribe(GraphQLRequest(PRESENCE, variable_values=variables)):
                pass
        except TransportQueryError as refused:
            return [e["extensions"]["code"] for e in refused.errors or []]
        return []

    async def scenario() -> list[list[str]]:
        results = []
        async with Client(transport=transport) as session:
            for variables in [
                {"projectId": project_id, "editing": True},  # editing needs a task
                {"projectId": project_id, "taskId": to_global_id("Task", elsewhere.pk)},
                {"projectId": "garbage"},
            ]:
                results.append(await refusal(session, variables))
        return results

    assert asyncio.run(scenario()) == [["BAD_USER_INPUT"], ["NOT_FOUND"], ["NOT_FOUND"]]
