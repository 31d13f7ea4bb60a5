"""Finding 4: every size error a client can cause is JSON in the transport's shape, in DEBUG as
in production: a body over DATA_UPLOAD_MAX_MEMORY_SIZE is 413, more than
DATA_UPLOAD_MAX_NUMBER_FIELDS query parameters is 400; problem details on REST, a GraphQL error
on /graphql, an OAuth error under /o/. Never HTML, never a 5xx."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import make_token

pytestmark = pytest.mark.e2e

OVER_BODY_LIMIT = 2_621_440 + 1024  # Django's default DATA_UPLOAD_MAX_MEMORY_SIZE, and more
TOO_MANY_FIELDS = "&".join(f"f{n}=1" for n in range(1001))


@pytest.fixture(params=[True, False], ids=["debug", "production"])
def debug(request: Any, settings: Any) -> bool:
    settings.DEBUG = request.param
    return bool(request.param)


def _big_json() -> bytes:
    return b'{"name": "' + b"a" * OVER_BODY_LIMIT + b'"}'


def _assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text[:300]
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["code"] == code
    assert set(body) >= {"type", "title", "detail", "errors"}


def _assert_graphql_error(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text[:300]
    assert response.headers["Content-Type"].startswith("application/json")
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"]


def test_finding_4_size_errors_on_rest_are_problem_details(asgi_server, owner, debug):
    auth = {"Authorization": f"Bearer {make_token(owner)}"}
    with httpx.Client(base_url=asgi_server.url, timeout=30, headers=auth) as http:
        too_big = http.post(
            "/api/v1/projects/",
            content=_big_json(),
            headers={"Content-Type": "application/json"},
        )
        _assert_problem(too_big, 413, "too_large")
        assert too_big.headers["API-Version"] == "v1"
        too_many = http.get(f"/api/v1/tasks/?{TOO_MANY_FIELDS}")
        _assert_problem(too_many, 400, "too_many_fields")
        assert too_many.headers["API-Version"] == "v1"


def test_finding_4_size_errors_on_graphql_are_graphql_errors(asgi_server, owner, debug):
    auth = {"Authorization": f"Bearer {make_token(owner)}"}
    with httpx.Client(base_url=asgi_server.url, timeout=30, headers=auth) as http:
        too_big = http.post(
            "/graphql",
            content=b'{"query": "{ viewer { id } }", "variables": {"x": "'
            + b"a" * OVER_BODY_LIMIT
            + b'"}}',
            headers={"Content-Type": "application/json"},
        )
        _assert_graphql_error(too_big, 413)
        too_many = http.get(f"/graphql?query=%7Bviewer%7Bid%7D%7D&{TOO_MANY_FIELDS}")
        _assert_graphql_error(too_many, 400)


def test_finding_4_size_errors_on_oauth_are_oauth_errors(asgi_server, debug):
    with httpx.Client(base_url=asgi_server.url, timeout=30) as http:
        response = http.post(
            "/o/token/",
            content="grant_type=client_credentials&pad=" + "a" * OVER_BODY_LIMIT,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 413
    assert response.json()["error"] == "invalid_request"


def test_finding_4_size_errors_on_a_login_form_are_json_too(asgi_server, debug):
    with httpx.Client(base_url=asgi_server.url, timeout=30) as http:
        response = http.post(
            "/accounts/login/",
            content="username=a&password=" + "a" * OVER_BODY_LIMIT,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    _assert_problem(response, 413, "too_large")


def test_finding_4_size_errors_too_many_form_fields_on_oauth(asgi_server, debug):
    with httpx.Client(base_url=asgi_server.url, timeout=30) as http:
        response = http.post(
            "/o/token/",
            content="grant_type=client_credentials&" + TOO_MANY_FIELDS,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
