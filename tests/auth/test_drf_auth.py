"""BearerAuthentication and TokenHasScope, as REST_FRAMEWORK's defaults, on a tiny APIView."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from project.auth import TokenAuth
from tests.factories import make_token

pytestmark = pytest.mark.django_db


class EchoView(APIView):
    """No authentication or permission classes of its own: the project defaults apply."""

    def get(self, request: Any) -> Response:
        auth = request.auth
        scopes = sorted(auth.scopes) if isinstance(auth, TokenAuth) else None
        return Response({"username": request.user.username, "scopes": scopes})

    def post(self, request: Any) -> Response:
        return Response({"ok": True}, status=201)


view = EchoView.as_view()


def error_code(response: Any) -> str:
    # The project's problem-details handler puts the code at the top level; DRF's own keeps
    # it on the detail.
    data = response.data
    return str(data["code"]) if "code" in data else str(data["detail"].code)


factory = APIRequestFactory()


def call(method: str, path: str = "/echo", *, token: str | None = None, **extra: Any) -> Any:
    if token is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    request = getattr(factory, method)(path, **extra)
    response = view(request)
    response.render()
    return response


def test_no_credentials_is_401_with_a_bearer_challenge():
    response = call("get")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == (
        'Bearer realm="api", '
        'resource_metadata="http://testserver/.well-known/oauth-protected-resource"'
    )


@pytest.mark.parametrize("header", ["Bearer nope", "Bearer ", "bearer " + "x" * 600])
def test_bad_token_is_401_invalid_token(header):
    response = call("get", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert error_code(response) == "invalid_token"


def test_expired_token_is_401_invalid_token(owner):
    token = make_token(owner, "read", expires_in=-1)
    response = call("get", token=token)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_token_of_an_inactive_user_is_refused(owner):
    token = make_token(owner, "read")
    owner.is_active = False
    owner.save()
    assert call("get", token=token).status_code == 401


def test_good_token_authenticates_and_sets_request_auth(owner):
    response = call("get", token=make_token(owner, "read"))
    assert response.status_code == 200
    assert response.data == {"username": owner.username, "scopes": ["read"]}


@pytest.mark.parametrize("path", ["/echo?access_token=abc", "/echo?x=1&access_token="])
def test_token_in_the_query_string_is_refused_even_with_a_good_header(owner, path):
    response = call("get", path, token=make_token(owner, "read"))
    assert response.status_code == 401
    assert error_code(response) == "query_token"
    assert 'error="invalid_request"' in response["WWW-Authenticate"]


def test_read_token_cannot_post_403_insufficient_scope(owner):
    response = call("post", token=make_token(owner, "read"))
    assert response.status_code == 403
    assert error_code(response) == "insufficient_scope"
    challenge = response["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge and 'scope="write"' in challenge


def test_write_only_token_cannot_read(owner):
    response = call("get", token=make_token(owner, "write"))
    assert response.status_code == 403
    assert error_code(response) == "insufficient_scope"


def test_write_token_can_post(owner):
    assert call("post", token=make_token(owner, "read write")).status_code == 201


def _session_request(method: str, user: Any, *, enforce_csrf: bool) -> Any:
    request = getattr(APIRequestFactory(enforce_csrf_checks=enforce_csrf), method)("/echo")
    request.user = user  # what AuthenticationMiddleware puts there for a logged-in browser
    response = view(request)
    response.render()
    return response


def test_session_user_passes_without_scopes(owner):
    assert _session_request("get", owner, enforce_csrf=True).status_code == 200
    assert _session_request("post", owner, enforce_csrf=False).status_code == 201


def test_session_write_without_csrf_token_is_refused(owner):
    assert _session_request("post", owner, enforce_csrf=True).status_code == 403


def test_anonymous_session_is_401():
    assert _session_request("get", AnonymousUser(), enforce_csrf=True).status_code == 401
