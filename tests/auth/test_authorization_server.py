"""The authorization server's grants and refusals, through Django's test client."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Grant, RefreshToken

from project.auth import authenticate_token
from project.oauth.clients import CLIENT_CREDENTIALS
from tests.auth.oauth_helpers import (
    REDIRECT_URI,
    authorize_params,
    basic_auth,
    exchange,
    get_code,
    new_client,
    pkce_pair,
    redirect_query,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(owner: Any) -> Client:
    client = Client()
    client.force_login(owner)
    return client


@pytest.fixture
def app(owner: Any) -> Any:
    return new_client(owner)


def _tokens(browser: Client, app: Any, scope: str = "read write") -> dict[str, Any]:
    verifier, challenge = pkce_pair()
    code = get_code(browser, app, challenge, scope=scope)
    response = exchange(browser, app, code, verifier)
    assert response.status_code == 200, response.content
    return response.json()


def _refresh(browser: Client, app: Any, refresh_token: str) -> Any:
    return browser.post(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": refresh_token},
        HTTP_AUTHORIZATION=basic_auth(app),
    )


def test_code_flow_with_s256_issues_tokens_for_the_consenting_user(browser, app, owner):
    tokens = _tokens(browser, app, scope="read")
    assert tokens["token_type"] == "Bearer"
    assert tokens["scope"] == "read"
    assert tokens["expires_in"] == 3600
    auth = authenticate_token(tokens["access_token"])
    assert auth is not None and auth.user == owner and auth.scopes == {"read"}


def test_tokens_are_stored_as_checksums_only(browser, app):
    tokens = _tokens(browser, app)
    assert AccessToken.objects.get().token == ""
    assert RefreshToken.objects.get().token == ""
    assert tokens["access_token"] not in str(list(AccessToken.objects.values()))


def test_authorization_redirect_carries_the_issuer(browser, app):
    _, challenge = pkce_pair()
    page = browser.get("/o/authorize/", authorize_params(app, challenge))
    form = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    query = redirect_query(browser.post("/o/authorize/", {**form, "allow": "Authorize"}))
    assert query["iss"] == ["http://testserver"]


def test_denying_consent_returns_access_denied(browser, app):
    _, challenge = pkce_pair()
    page = browser.get("/o/authorize/", authorize_params(app, challenge))
    form = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    query = redirect_query(browser.post("/o/authorize/", form))
    assert query["error"] == ["access_denied"]
    assert not Grant.objects.exists()


def test_authorize_requires_login(app):
    _, challenge = pkce_pair()
    response = Client().get("/o/authorize/", authorize_params(app, challenge))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/o/authorize/")


@pytest.mark.parametrize(
    ("overrides", "description"),
    [
        ({}, "Code challenge required."),
        ({"code_challenge": "x" * 43, "code_challenge_method": "plain"}, "not supported"),
        ({"code_challenge": "x" * 43}, "not supported"),  # method defaults to plain
    ],
    ids=["no-pkce", "plain", "method-omitted"],
)
def test_authorize_refuses_missing_or_plain_pkce(browser, app, overrides, description):
    response = browser.get("/o/authorize/", authorize_params(app, None, **overrides))
    assert response.status_code == 302
    query = redirect_query(response)
    assert query["error"] == ["invalid_request"]
    assert description in query["error_description"][0]


def test_tampered_consent_form_cannot_switch_to_plain(browser, app):
    _, challenge = pkce_pair()
    page = browser.get("/o/authorize/", authorize_params(app, challenge))
    form = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    form["code_challenge_method"] = "plain"
    response = browser.post("/o/authorize/", {**form, "allow": "Authorize"})
    assert redirect_query(response)["error"] == ["invalid_request"]
    assert not Grant.objects.exists()


def test_authorize_refuses_implicit_response_type(browser, app):
    _, challenge = pkce_pair()
    response = browser.get("/o/authorize/", authorize_params(app, challenge, response_type="token"))
    assert redirect_query(response)["error"] == ["unsupported_response_type"]


@pytest.mark.parametrize(
    "redirect_uri",
    [
        REDIRECT_URI + "?extra=1",
        REDIRECT_URI + "#fragment",
        "https://evil.example/callback",
        "https://client.example:8443/callback",
        "https://client.example/callback/",
        "http://client.example/callback",
    ],
)
def test_authorize_requires_the_exact_redirect_uri(browser, app, redirect_uri):
    _, challenge = pkce_pair()
    response = browser.get(
        "/o/authorize/", authorize_params(app, challenge, redirect_uri=redirect_uri)
    )
    # Never redirected to an unregistered URI: the error is shown on the server's own page.
    assert response.status_code == 400
    assert "Location" not in response
    assert b"invalid_request" in response.content or b"Mismatching" in response.content


def test_loopback_redirect_uri_port_must_match_too(browser, owner):
    from project.oauth.clients import create_client

    app = create_client(
        name="Native", user=owner, redirect_uris=["http://127.0.0.1:8000/cb"], public=True
    )
    _, challenge = pkce_pair()
    params = authorize_params(app, challenge, redirect_uri="http://127.0.0.1:9999/cb")
    assert browser.get("/o/authorize/", params).status_code == 400
    params["redirect_uri"] = "http://127.0.0.1:8000/cb"
    assert browser.get("/o/authorize/", params).status_code == 200


def test_wrong_verifier_and_replayed_code_are_invalid_grant(browser, app):
    verifier, challenge = pkce_pair()
    code = get_code(browser, app, challenge)
    wrong = exchange(browser, app, code, pkce_pair()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    # A failed verifier does not burn the code for the rightful holder...
    code = get_code(browser, app, challenge)
    assert exchange(browser, app, code, verifier).status_code == 200
    # ...but a used code cannot be exchanged again.
    replay = exchange(browser, app, code, verifier)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"


def test_code_exchange_without_verifier_fails(browser, app):
    _, challenge = pkce_pair()
    code = get_code(browser, app, challenge)
    response = exchange(browser, app, code, "")
    assert response.status_code == 400
    assert response.json()["error"] in {"invalid_request", "invalid_grant"}


def test_code_exchange_with_a_different_redirect_uri_fails(browser, app):
    verifier, challenge = pkce_pair()
    code = get_code(browser, app, challenge)
    response = exchange(browser, app, code, verifier, redirect_uri=REDIRECT_URI + "?x=1")
    assert response.status_code == 400


def test_password_grant_is_unsupported(browser, app, owner):
    response = browser.post(
        "/o/token/",
        {"grant_type": "password", "username": owner.username, "password": "x"},
        HTTP_AUTHORIZATION=basic_auth(app),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_client_credentials_token_acts_as_the_owner(owner):
    robot = new_client(owner, grant=CLIENT_CREDENTIALS)
    response = Client().post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "read"},
        HTTP_AUTHORIZATION=basic_auth(robot),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert "refresh_token" not in body
    auth = authenticate_token(body["access_token"])
    assert auth is not None and auth.user == owner and auth.scopes == {"read"}


def test_client_credentials_with_a_wrong_secret_is_invalid_client(owner):
    robot = new_client(owner, grant=CLIENT_CREDENTIALS)
    response = Client().post(
        "/o/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic_auth(type(robot)(robot.application, robot.client_id, "nope")),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_refresh_rotates_and_a_replayed_refresh_token_revokes_the_family(browser, app):
    first = _tokens(browser, app)
    second = _refresh(browser, app, first["refresh_token"])
    assert second.status_code == 200, second.content
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert authenticate_token(first["access_token"]) is None  # the old access token is gone
    assert authenticate_token(second["access_token"]) is not None

    replay = _refresh(browser, app, first["refresh_token"])
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    # Reuse detected: the whole family is revoked, including the tokens just issued.
    assert authenticate_token(second["access_token"]) is None
    after = _refresh(browser, app, second["refresh_token"])
    assert after.status_code == 400 and after.json()["error"] == "invalid_grant"


def test_refresh_tokens_expire(browser, app):
    tokens = _tokens(browser, app)
    # The refresh token lives 30 days past its access token's expiry.
    AccessToken.objects.update(expires=timezone.now() - timedelta(days=30, seconds=1))
    response = _refresh(browser, app, tokens["refresh_token"])
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_revoking_an_access_token_makes_it_useless(browser, app):
    tokens = _tokens(browser, app)
    auth = authenticate_token(tokens["access_token"])
    assert auth is not None
    response = browser.post(
        "/o/revoke_token/",
        {"token": tokens["access_token"], "token_type_hint": "access_token"},
        HTTP_AUTHORIZATION=basic_auth(app),
    )
    assert response.status_code == 200
    from oauth2_provider.models import get_access_token_model

    assert authenticate_token(tokens["access_token"]) is None
    assert not get_access_token_model().objects.filter(pk=auth.token_id).exists()


def test_another_client_cannot_revoke_my_token(browser, app, owner):
    tokens = _tokens(browser, app)
    other = new_client(owner)
    browser.post(
        "/o/revoke_token/", {"token": tokens["access_token"]}, HTTP_AUTHORIZATION=basic_auth(other)
    )
    assert authenticate_token(tokens["access_token"]) is not None


def test_token_endpoint_is_not_cached_and_needs_post(app):
    response = Client().get("/o/token/")
    assert response.status_code == 405
