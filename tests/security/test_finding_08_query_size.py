"""Finding 8: query text size and validation time are bounded: a 50 to 126 KB query of
repeated fields used to cost 1.0 to 1.5 s of validation per request. Text over
`GRAPHQL_MAX_QUERY_BYTES`, past the token limit, or repeating fields far beyond any real query is
refused before graphql-core's validation runs, over HTTP and over graphql-transport-ws alike."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from graph import operation
from tests.factories import make_task, make_token

pytestmark = pytest.mark.e2e

GRAPHQL_RESPONSE = "application/graphql-response+json"


def _repeated(size: int, field: str = "id") -> str:
    """`{ viewer { id id id ... } }` of about `size` bytes."""
    head, tail = "{ viewer { ", " } }"
    return head + f"{field} " * ((size - len(head) - len(tail)) // (len(field) + 1)) + tail


@pytest.fixture
def validation_must_not_run(monkeypatch: Any) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("graphql-core's validation ran")

    monkeypatch.setattr(operation, "validate", refuse)


def _post(server: Any, token: str, query: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/graphql",
        json={"query": query},
        headers={"Authorization": f"Bearer {token}", "Accept": GRAPHQL_RESPONSE},
        timeout=20,
    )


def _codes(response: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json()["errors"]]


def test_finding_8_huge_repeated_field_query_rejected_before_validation(
    asgi_server: Any, owner: Any, validation_must_not_run: None
) -> None:
    token = make_token(owner)
    for size in (50_000, 126_000):
        # Under the token limit (about 10,500 tokens at 126 KB): only the byte limit stops it.
        refused = _post(asgi_server, token, _repeated(size, "displayName"))
        assert refused.status_code == 413
        assert refused.headers["content-type"].startswith(GRAPHQL_RESPONSE)
        assert _codes(refused) == ["QUERY_TOO_COMPLEX"]
        assert "bytes long; the limit is 32768" in refused.json()["errors"][0]["message"]


def test_repeated_fields_under_the_byte_limit_are_refused_before_validation(
    asgi_server: Any, owner: Any, validation_must_not_run: None
) -> None:
    token = make_token(owner)
    for query in (_repeated(30_000), _repeated(1_500), _repeated(30_000, "__typename")):
        refused = _post(asgi_server, token, query)
        assert refused.status_code == 400
        assert _codes(refused) == ["QUERY_TOO_COMPLEX"]
        assert "repeats the same fields" in refused.json()["errors"][0]["message"]


def test_the_token_limit_refuses_before_validation(
    asgi_server: Any, owner: Any, validation_must_not_run: None, settings: Any
) -> None:
    settings.GRAPHQL_MAX_QUERY_BYTES = 10**6
    query = "{ viewer { " + " ".join(f"a{n}: id" for n in range(6_000)) + " } }"
    refused = _post(asgi_server, make_token(owner), query)
    assert refused.status_code == 400
    assert _codes(refused) == ["QUERY_TOO_COMPLEX"]
    assert "more than 15000 tokens" in refused.json()["errors"][0]["message"]


USER = "id username displayName"
TASK_PAGE = (
    "tasks(first: 2) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node {"
    " id title description status priority dueDate createdAt updatedAt version commentCount"
    f" assignee {{ {USER} }} createdBy {{ {USER} }} attachments {{ id name }}"
    f" comments(first: 2) {{ totalCount edges {{ node {{ id body author {{ {USER} }} }} }} }}"
    f" project {{ id name viewerRole members {{ role user {{ {USER} }} }} }} }} }} }}"
)


def test_a_large_real_query_under_the_limits_is_answered(
    asgi_server: Any, owner: Any, project: Any
) -> None:
    """The limits leave room for real queries: 30 aliased pages of every task field (14 KB)."""
    make_task(project, owner, title="Large query")
    query = "{ " + " ".join(f"a{n}: {TASK_PAGE}" for n in range(30)) + " }"
    assert len(query.encode()) > 13_000
    answered = _post(asgi_server, make_token(owner), query)
    assert answered.status_code == 200, answered.text
    body = answered.json()
    assert "errors" not in body
    assert body["data"]["a29"]["edges"][0]["node"]["title"] == "Large query"


def test_the_websocket_transport_shares_the_limits(
    asgi_server: Any, owner: Any, validation_must_not_run: None
) -> None:
    token = make_token(owner)
    with connect(f"{asgi_server.ws_url}/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send('{"type":"connection_init","payload":{"authorization":"Bearer ' + token + '"}}')
        assert '"connection_ack"' in ws.recv(timeout=10)
        for operation_id, query in (("big", _repeated(50_000)), ("many", _repeated(1_500))):
            ws.send(
                json.dumps({"id": operation_id, "type": "subscribe", "payload": {"query": query}})
            )
            message = json.loads(ws.recv(timeout=10))
            assert message["type"] == "error" and message["id"] == operation_id
            assert [e["extensions"]["code"] for e in message["payload"]] == ["QUERY_TOO_COMPLEX"]
