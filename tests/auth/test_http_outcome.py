"""authenticate_http_request: the transport-neutral check the GraphQL view uses."""

from __future__ import annotations

import pytest
from django.contrib.auth import login
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.middleware.csrf import get_token
from django.test import RequestFactory

from project.auth import (
    SESSION_SCOPES,
    authenticate_http_request,
    query_string_has_token,
    required_scope,
)
from tests.factories import make_token

pytestmark = pytest.mark.django_db
rf = RequestFactory()


def _request(method="post", path="/graphql", user=None, **extra):
    """A request as Django's middleware leaves it: with `user` signed in through a real session."""
    request = getattr(rf, method)(path, **extra)
    request.session = SessionStore()
    request.user = AnonymousUser()
    if user is not None:
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return request


def test_missing():
    outcome = authenticate_http_request(_request())
    assert not outcome.ok and outcome.failure == "missing"
    assert outcome.challenge() == (
        'Bearer realm="api", '
        'resource_metadata="http://testserver/.well-known/oauth-protected-resource"'
    )


def test_invalid_token():
    outcome = authenticate_http_request(_request(HTTP_AUTHORIZATION="Bearer nope"))
    assert outcome.failure == "invalid"
    assert 'error="invalid_token"' in outcome.challenge()


def test_query_token_is_refused_before_anything_else(owner):
    request = _request(
        path="/graphql?access_token=x", HTTP_AUTHORIZATION=f"Bearer {make_token(owner)}"
    )
    assert authenticate_http_request(request).failure == "query_token"


def test_token_gives_user_scopes_and_token(owner):
    outcome = authenticate_http_request(
        _request(HTTP_AUTHORIZATION=f"Bearer {make_token(owner, 'read')}")
    )
    assert outcome.ok and outcome.user == owner
    assert outcome.scopes == {"read"} and outcome.token is not None
    assert outcome.has_scope("read") and not outcome.has_scope("write")
    assert not outcome.via_session


def test_bearer_header_wins_over_a_session(owner, outsider):
    outcome = authenticate_http_request(
        _request(user=outsider, HTTP_AUTHORIZATION=f"Bearer {make_token(owner, 'read')}")
    )
    assert outcome.user == owner


def test_session_get_has_read_and_write(owner):
    outcome = authenticate_http_request(_request("get", user=owner))
    assert outcome.ok and outcome.via_session and outcome.scopes == SESSION_SCOPES


def test_session_post_needs_csrf(owner):
    assert authenticate_http_request(_request(user=owner)).failure == "csrf"
    request = _request(user=owner)
    token = get_token(rf.get("/"))
    request.COOKIES["csrftoken"] = token
    request.META["HTTP_X_CSRFTOKEN"] = token
    assert authenticate_http_request(request).ok


def test_inactive_session_user_is_missing(owner):
    owner.is_active = False
    assert authenticate_http_request(_request("get", user=owner)).failure == "missing"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (b"access_token=x", True),
        (b"a=1&access_token=", True),
        ("access_token", True),
        (b"token=x", False),
        (b"my_access_token=x", False),
        (b"", False),
    ],
)
def test_query_string_has_token(query, expected):
    assert query_string_has_token(query) is expected


def test_required_scope():
    assert [required_scope(m) for m in ("GET", "head", "OPTIONS", "POST", "PATCH", "DELETE")] == [
        "read",
        "read",
        "read",
        "write",
        "write",
        "write",
    ]


def test_a_session_logged_out_elsewhere_is_missing(owner):
    request = _request("get", user=owner)
    SessionStore(request.session.session_key).delete()  # POST /accounts/logout/ elsewhere
    request.session = SessionStore(request.session.session_key)
    assert authenticate_http_request(request).failure == "missing"


def test_a_session_from_before_a_password_change_is_missing(owner):
    request = _request("get", user=owner)
    owner.set_password("a new one, elsewhere")
    assert authenticate_http_request(request).failure == "missing"
