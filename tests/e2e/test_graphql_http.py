"""GraphQL over HTTP on the live server: media types, methods, auth, CSRF, limits, masking,
persisted queries, throttling and idempotency."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
import pytest
from django.test import Client as DjangoClient
from graphql_relay import to_global_id

from tasks.api import throttles
from tasks.models import Project, Task
from tests.factories import make_task, make_token

from .graphql_client import client_for, codes, run, run_error

pytestmark = pytest.mark.e2e

GRAPHQL_RESPONSE = "application/graphql-response+json"
CREATE_PROJECT = (
    "mutation($i: CreateProjectInput!) { createProject(input: $i) { project { name } } }"
)


def post(server: Any, body: Any, token: str | None = None, **headers: str) -> httpx.Response:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(f"{server.url}/graphql", json=body, headers=headers, timeout=20)


def get(server: Any, params: dict[str, str], token: str | None = None, **headers: str):
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.get(f"{server.url}/graphql", params=params, headers=headers, timeout=20)


def error_codes(response: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json()["errors"]]


def test_get_runs_queries_and_refuses_mutations(asgi_server: Any, owner: Any):
    token = make_token(owner)
    ok = get(asgi_server, {"query": "{ viewer { username } }"}, token)
    assert ok.status_code == 200 and ok.json() == {"data": {"viewer": {"username": "olivia"}}}
    refused = get(
        asgi_server,
        {"query": 'mutation { createProject(input: {name: "x"}) { errors { code } } }'},
        token,
    )
    assert refused.status_code == 405 and "POST" in refused.headers["Allow"]
    assert not Project.objects.exists()


def test_media_types_and_status_codes(asgi_server: Any, owner: Any):
    token = make_token(owner)
    broken = {"query": "{ viewer { "}
    legacy = post(asgi_server, broken, token)
    assert legacy.status_code == 200
    assert legacy.headers["content-type"].startswith("application/json")
    assert error_codes(legacy) == ["GRAPHQL_PARSE_FAILED"]
    modern = post(asgi_server, broken, token, Accept=GRAPHQL_RESPONSE)
    assert modern.status_code == 400
    assert modern.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    invalid = post(asgi_server, {"query": "{ nope }"}, token, Accept=GRAPHQL_RESPONSE)
    assert invalid.status_code == 400 and error_codes(invalid) == ["GRAPHQL_VALIDATION_FAILED"]
    fine = post(asgi_server, {"query": "{ viewer { username } }"}, token, Accept=GRAPHQL_RESPONSE)
    assert fine.status_code == 200 and fine.json()["data"]["viewer"]["username"] == "olivia"
    assert post(asgi_server, broken, token, Accept="text/csv").status_code == 406
    wrong_type = httpx.post(
        f"{asgi_server.url}/graphql",
        content=b"query=x",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"},
    )
    assert wrong_type.status_code == 415
    assert fine.headers["X-Request-ID"]


def test_authentication_and_scopes(asgi_server: Any, owner: Any):
    query = {"query": "{ viewer { username } }"}
    anonymous = post(asgi_server, query)
    assert anonymous.status_code == 401 and error_codes(anonymous) == ["UNAUTHENTICATED"]
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    bad = post(asgi_server, query, "not-a-token")
    assert bad.status_code == 401 and error_codes(bad) == ["UNAUTHENTICATED"]
    assert 'error="invalid_token"' in bad.headers["WWW-Authenticate"]
    token = make_token(owner, "read")
    in_url = httpx.get(
        f"{asgi_server.url}/graphql",
        params={"query": "{ viewer { username } }", "access_token": token},
    )
    assert in_url.status_code == 400 and error_codes(in_url) == ["UNAUTHENTICATED"]
    read_only = post(
        asgi_server, {"query": CREATE_PROJECT, "variables": {"i": {"name": "x"}}}, token
    )
    assert read_only.status_code == 403 and error_codes(read_only) == ["FORBIDDEN"]
    assert "insufficient_scope" in read_only.headers["WWW-Authenticate"]
    write_only = post(asgi_server, query, make_token(owner, "write"))
    assert write_only.status_code == 403 and error_codes(write_only) == ["FORBIDDEN"]
    assert not Project.objects.exists()


def test_session_requests_keep_csrf_protection(asgi_server: Any, owner: Any):
    browser = DjangoClient()
    browser.force_login(owner)
    session = browser.cookies["sessionid"].value
    with httpx.Client(base_url=asgi_server.url, cookies={"sessionid": session}) as client:
        page = client.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "graphiql" in page.text.lower()
        csrf = client.cookies["csrftoken"]
        body = {"query": CREATE_PROJECT, "variables": {"i": {"name": "From the browser"}}}
        refused = client.post("/graphql", json=body)
        assert refused.status_code == 403 and error_codes(refused) == ["FORBIDDEN"]
        assert not Project.objects.exists()
        accepted = client.post(
            "/graphql", json=body, headers={"X-CSRFToken": csrf, "Referer": asgi_server.url}
        )
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["data"]["createProject"]["project"]["name"] == "From the browser"
        viewer = client.get("/graphql", params={"query": "{ viewer { username } }"})
        assert viewer.json()["data"]["viewer"]["username"] == "olivia"


def test_array_batching_is_refused(asgi_server: Any, owner: Any):
    token = make_token(owner)
    response = post(asgi_server, [{"query": "{ viewer { id } }"}] * 2, token)
    assert response.status_code == 400 and error_codes(response) == ["BAD_USER_INPUT"]


def test_depth_limit(asgi_server: Any, owner: Any, settings: Any):
    client = client_for(asgi_server, make_token(owner))
    nested = (
        "{ tasks { edges { node { project { tasks { edges { node {"
        " project { tasks { edges { node { id } } } } } } } } } } } }"
    )
    error = run_error(client, nested)
    assert codes(error) == ["QUERY_TOO_DEEP"]
    settings.GRAPHQL_MAX_DEPTH = 20
    settings.GRAPHQL_MAX_COST = 10**9
    assert run(client, nested) == {"tasks": {"edges": []}}


def test_cost_limit_multiplies_page_sizes(asgi_server: Any, owner: Any, settings: Any):
    client = client_for(asgi_server, make_token(owner))
    costly = """query($n: Int) { projects(first: 100) { edges { node { tasks(first: $n) {
        edges { node { comments(first: 100) { edges { node { id body } } } } } } } } } }"""
    error = run_error(client, costly, n=100)
    assert codes(error) == ["QUERY_TOO_COMPLEX"]
    assert run(client, costly, n=1) == {"projects": {"edges": []}}
    settings.GRAPHQL_MAX_COST = 10
    error = run_error(client, "{ projects(first: 20) { edges { node { id } } } }")
    assert codes(error) == ["QUERY_TOO_COMPLEX"]


def test_alias_limit(asgi_server: Any, owner: Any, settings: Any):
    settings.GRAPHQL_MAX_ALIASES = 3
    client = client_for(asgi_server, make_token(owner))
    assert run(client, "{ a: viewer { id } b: viewer { id } c: viewer { id } }")["c"]
    error = run_error(
        client, "{ a: viewer { id } b: viewer { id } c: viewer { id } d: viewer { id } }"
    )
    assert codes(error) == ["QUERY_TOO_COMPLEX"]


def test_introspection_off_hides_schema_and_suggestions(asgi_server: Any, owner: Any, settings):
    token = make_token(owner)
    settings.GRAPHQL_INTROSPECTION = True
    on = post(asgi_server, {"query": "{ __schema { queryType { name } } }"}, token)
    assert on.json()["data"]["__schema"]["queryType"]["name"] == "Query"
    typo = post(asgi_server, {"query": "{ viewr { id } }"}, token)
    assert "Did you mean" in typo.json()["errors"][0]["message"]

    settings.GRAPHQL_INTROSPECTION = False
    off = post(asgi_server, {"query": "{ __schema { queryType { name } } }"}, token)
    assert "data" not in off.json() or off.json().get("data") is None
    assert "introspection" in off.json()["errors"][0]["message"].lower()
    typo = post(asgi_server, {"query": "{ viewr { id } }"}, token)
    assert "Did you mean" not in typo.json()["errors"][0]["message"]
    # Without credentials, introspection is refused like anything else.
    assert post(asgi_server, {"query": "{ __schema { queryType { name } } }"}).status_code == 401


def test_unexpected_errors_are_masked(
    asgi_server: Any, project: Any, owner: Any, monkeypatch: Any, caplog: Any
):
    task = make_task(project, owner, title="Boom")

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret database detail")

    monkeypatch.setattr("tasks.selectors.task_get", explode)
    response = post(
        asgi_server,
        {
            "query": "query($id: ID!) { task(id: $id) { title } }",
            "variables": {"id": to_global_id("Task", task.pk)},
        },
        make_token(owner),
        **{"X-Request-ID": "req-12345"},
    )
    assert response.status_code == 200
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-12345"}
    assert "secret" not in response.text and "Traceback" not in response.text
    assert any("secret database detail" in str(record.exc_info) for record in caplog.records)


def test_automatic_persisted_queries(asgi_server: Any, owner: Any):
    token = make_token(owner)
    query = "{ viewer { username } }"
    digest = hashlib.sha256(query.encode()).hexdigest()
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    miss = post(asgi_server, {"extensions": extensions}, token)
    assert miss.status_code == 200 and error_codes(miss) == ["PERSISTED_QUERY_NOT_FOUND"]
    wrong = post(asgi_server, {"query": "{ viewer { id } }", "extensions": extensions}, token)
    assert wrong.status_code == 400 and error_codes(wrong) == ["BAD_USER_INPUT"]
    stored = post(asgi_server, {"query": query, "extensions": extensions}, token)
    assert stored.json() == {"data": {"viewer": {"username": "olivia"}}}
    hit = post(asgi_server, {"extensions": extensions}, token)
    assert hit.json() == {"data": {"viewer": {"username": "olivia"}}}
    via_get = get(asgi_server, {"extensions": json.dumps(extensions)}, token)
    assert via_get.json() == {"data": {"viewer": {"username": "olivia"}}}


def test_throttling(asgi_server: Any, owner: Any, monkeypatch: Any):
    monkeypatch.setattr(throttles.UserThrottle, "rate", "3/min", raising=False)
    monkeypatch.setattr(throttles.WriteThrottle, "rate", "1/min", raising=False)
    token = make_token(owner)
    mutation = {"query": CREATE_PROJECT, "variables": {"i": {"name": "Once"}}}
    assert post(asgi_server, mutation, token).status_code == 200
    limited = post(asgi_server, mutation, token)
    assert limited.status_code == 429 and error_codes(limited) == ["RATE_LIMITED"]
    assert int(limited.headers["Retry-After"]) >= 1
    assert Project.objects.count() == 1
    query = {"query": "{ viewer { id } }"}
    assert post(asgi_server, query, token).status_code == 200
    limited = post(asgi_server, query, token)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1


def test_idempotency_key_on_mutations(asgi_server: Any, project: Any, member: Any):
    token = make_token(member)
    body = {
        "query": "mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } } }",
        "variables": {"i": {"projectId": to_global_id("Project", project.pk), "title": "Once"}},
    }
    first = post(asgi_server, body, token, **{"Idempotency-Key": "key-1"})
    again = post(asgi_server, body, token, **{"Idempotency-Key": "key-1"})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert Task.objects.count() == 1
    other_body = {**body, "variables": {"i": {**body["variables"]["i"], "title": "Other"}}}
    mismatch = post(asgi_server, other_body, token, **{"Idempotency-Key": "key-1"})
    assert mismatch.status_code == 422
    assert Task.objects.count() == 1
