"""Discovery metadata, introspection, and the login page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from project.oauth.clients import CLIENT_CREDENTIALS
from tests.auth.oauth_helpers import basic_auth, new_client
from tests.factories import make_token

pytestmark = pytest.mark.django_db


def test_metadata_advertises_exactly_what_is_enabled():
    response = Client().get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    data = response.json()
    base = "http://testserver"
    assert data["issuer"] == base
    assert data["authorization_endpoint"] == f"{base}/o/authorize/"
    assert data["token_endpoint"] == f"{base}/o/token/"
    assert data["revocation_endpoint"] == f"{base}/o/revoke_token/"
    assert data["introspection_endpoint"] == f"{base}/o/introspect/"
    assert data["response_types_supported"] == ["code"]
    assert sorted(data["grant_types_supported"]) == [
        "authorization_code",
        "client_credentials",
        "refresh_token",
    ]
    assert data["code_challenge_methods_supported"] == ["S256"]
    assert data["scopes_supported"] == ["read", "write"]
    assert set(data["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
        "none",
    }
    assert "none" not in data["introspection_endpoint_auth_methods_supported"]
    assert data["authorization_response_iss_parameter_supported"] is True


def _introspect(token: str, **headers: Any) -> Any:
    return Client().post("/o/introspect/", {"token": token}, **headers)


def test_introspection_requires_client_authentication(owner):
    response = _introspect(make_token(owner))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_introspection_refuses_a_bearer_token_as_credentials(owner):
    token = make_token(owner, "read write introspection")
    assert _introspect(token, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_introspection_refuses_public_clients(owner):
    public = new_client(owner, public=True)
    response = Client().post(
        "/o/introspect/", {"token": make_token(owner), "client_id": public.client_id}
    )
    assert response.status_code == 401


def test_introspection_refuses_a_wrong_secret(owner):
    rs = new_client(owner, grant=CLIENT_CREDENTIALS)
    forged = type(rs)(rs.application, rs.client_id, "wrong")
    assert _introspect(make_token(owner), HTTP_AUTHORIZATION=basic_auth(forged)).status_code == 401


def test_introspection_by_a_confidential_client(owner, settings):
    rs = new_client(owner, grant=CLIENT_CREDENTIALS)
    # A resource server: it may introspect tokens issued to other clients (finding 5).
    settings.OAUTH_INTROSPECTION_CLIENTS = [rs.client_id]
    data = _introspect(make_token(owner, "read"), HTTP_AUTHORIZATION=basic_auth(rs)).json()
    assert data["active"] is True
    assert data["scope"] == "read"
    assert data["username"] == owner.username
    assert data["token_type"] == "Bearer"
    assert isinstance(data["exp"], int)
    # Client secret in the form body works too (client_secret_post).
    body = {
        "token": make_token(owner),
        "client_id": rs.client_id,
        "client_secret": rs.client_secret,
    }
    assert Client().post("/o/introspect/", body).json()["active"] is True


def test_introspection_of_unknown_or_expired_tokens_is_inactive(owner):
    rs = new_client(owner, grant=CLIENT_CREDENTIALS)
    auth = basic_auth(rs)
    assert _introspect("nope", HTTP_AUTHORIZATION=auth).json() == {"active": False}
    expired = make_token(owner, expires_in=-5)
    assert _introspect(expired, HTTP_AUTHORIZATION=auth).json() == {"active": False}
    missing = Client().post("/o/introspect/", {}, HTTP_AUTHORIZATION=auth)
    assert missing.status_code == 400


def test_introspection_never_reads_the_token_from_the_url(owner):
    rs = new_client(owner, grant=CLIENT_CREDENTIALS)
    response = Client().get(
        "/o/introspect/", {"token": make_token(owner)}, HTTP_AUTHORIZATION=basic_auth(rs)
    )
    assert response.status_code == 405


def _csrf(html: bytes) -> str:
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match
    return match.group(1).decode()


def test_login_page_logs_in_with_csrf_and_follows_next(owner):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/accounts/login/", {"next": "/o/authorize/?x=1"})
    assert page.status_code == 200
    assert b"Sign in" in page.content
    credentials = {"username": owner.username, "password": "correct horse battery staple"}
    no_csrf = browser.post("/accounts/login/", credentials)
    assert no_csrf.status_code == 403
    response = browser.post(
        "/accounts/login/",
        {**credentials, "next": "/o/authorize/?x=1", "csrfmiddlewaretoken": _csrf(page.content)},
    )
    assert response.status_code == 302
    assert response["Location"] == "/o/authorize/?x=1"


def test_login_refuses_an_offsite_next_and_wrong_passwords(owner):
    browser = Client()
    wrong = browser.post("/accounts/login/", {"username": owner.username, "password": "nope"})
    assert wrong.status_code == 200 and b"didn't match" in wrong.content
    response = browser.post(
        "/accounts/login/",
        {
            "username": owner.username,
            "password": "correct horse battery staple",
            "next": "https://evil.example/",
        },
    )
    assert response.status_code == 302 and "evil" not in response["Location"]


def test_logout_needs_post(owner):
    browser = Client()
    browser.force_login(owner)
    assert browser.get("/accounts/logout/").status_code == 405
    response = browser.post("/accounts/logout/")
    assert response.status_code == 200 and b"signed out" in response.content
    assert "_auth_user_id" not in browser.session
