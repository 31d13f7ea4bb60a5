from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.factories import make_token

PROBLEM = "application/problem+json"


class Api:
    """An API client for one user (or anonymous) and one API version."""

    def __init__(self, user: Any = None, *, scope: str = "read write", version: str = "v1"):
        self.client = APIClient()
        self.version = version
        self.user = user
        if user is not None:
            self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(user, scope)}")

    def url(self, path: str) -> str:
        if path.startswith(("/", "http://")):
            return path
        return f"/api/{self.version}/{path}"

    def get(self, path: str, params: Any = None, **headers: Any) -> Any:
        return self.client.get(self.url(path), params, **headers)

    def post(self, path: str, data: Any = None, **headers: Any) -> Any:
        return self.client.post(self.url(path), data, format="json", **headers)

    def put(self, path: str, data: Any = None, **headers: Any) -> Any:
        return self.client.put(self.url(path), data, format="json", **headers)

    def patch(self, path: str, data: Any = None, **headers: Any) -> Any:
        return self.client.patch(self.url(path), data, format="json", **headers)

    def delete(self, path: str, **headers: Any) -> Any:
        return self.client.delete(self.url(path), **headers)


@pytest.fixture
def api(db: Any) -> Any:
    def make(user: Any = None, *, scope: str = "read write", version: str = "v1") -> Api:
        return Api(user, scope=scope, version=version)

    return make


@pytest.fixture(autouse=True)
def _response_cache_off(settings: Any) -> None:
    # Under the `db` fixture nothing commits, so the after-commit generation bump never runs;
    # tests/api/test_caching.py turns the cache on and commits for real.
    settings.API_CACHE_SECONDS = 0


def assert_problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith(PROBLEM), response["Content-Type"]
    body = response.json()
    assert set(body) >= {"type", "title", "status", "detail", "code", "errors"}, body
    assert body["status"] == status
    assert isinstance(body["errors"], dict)
    if code is not None:
        assert body["code"] == code, body
    assert "API-Version" in response
    return body
