"""Nothing a client sends to the authorization server produces a 500."""

from __future__ import annotations

import base64

import pytest
from django.test import Client

from tests.auth.oauth_helpers import new_client

pytestmark = pytest.mark.django_db

NUL = "\x00"


@pytest.mark.parametrize(
    ("method", "path", "data", "headers"),
    [
        ("get", "/o/authorize/", {"client_id": "nope", "response_type": "code"}, {}),
        ("get", "/o/authorize/", {"client_id": NUL, "response_type": "code"}, {}),
        ("get", "/o/authorize/", {}, {}),
        ("post", "/o/authorize/", {"client_id": "nope", "allow": "1"}, {}),
        ("post", "/o/token/", {}, {}),
        ("post", "/o/token/", {"grant_type": "authorization_code", "code": NUL}, {}),
        ("post", "/o/token/", {"grant_type": "refresh_token", "refresh_token": "x"}, {}),
        (
            "post",
            "/o/token/",
            {"grant_type": "client_credentials"},
            {"HTTP_AUTHORIZATION": "Basic !!"},
        ),
        ("post", "/o/token/", {"grant_type": "urn:x"}, {"HTTP_AUTHORIZATION": "Basic Og=="}),
        ("post", "/o/revoke_token/", {"token": "x"}, {}),
        ("post", "/o/revoke_token/", {"token": "x", "client_id": NUL}, {}),
        ("post", "/o/introspect/", {"token": NUL}, {"HTTP_AUTHORIZATION": "Basic !!"}),
        ("post", "/o/introspect/", {"token": "x", "client_id": NUL, "client_secret": "y"}, {}),
        ("post", "/o/introspect/", {"token": "x"}, {"HTTP_AUTHORIZATION": "Bearer " + NUL}),
    ],
)
def test_malformed_requests_get_4xx(owner, method, path, data, headers):
    browser = Client()
    browser.force_login(owner)
    response = getattr(browser, method)(path, data, **headers)
    assert response.status_code < 500


def test_unknown_client_on_authorize_is_an_error_page_not_a_redirect(owner):
    new_client(owner)
    browser = Client()
    browser.force_login(owner)
    response = browser.get(
        "/o/authorize/",
        {"client_id": "nope", "response_type": "code", "redirect_uri": "https://evil.example/"},
    )
    assert response.status_code in {400, 401}
    assert "Location" not in response


def test_nul_bytes_from_an_authenticated_client_and_consent_form(owner):
    from tests.auth.oauth_helpers import authorize_params, basic_auth, pkce_pair

    app = new_client(owner)
    browser = Client()
    browser.force_login(owner)
    token = browser.post(
        "/o/token/",
        {"grant_type": "authorization_code", "code": NUL, "code_verifier": "x" * 43},
        HTTP_AUTHORIZATION=basic_auth(app),
    )
    assert token.status_code == 400
    _, challenge = pkce_pair()
    page = browser.get("/o/authorize/", authorize_params(app, challenge))
    form = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    form.update(code_challenge=NUL * 43, allow="Authorize")
    assert browser.post("/o/authorize/", form).status_code == 400
    basic = "Basic " + base64.b64encode(f"{NUL}:x".encode()).decode()
    assert (
        browser.post("/o/introspect/", {"token": "x"}, HTTP_AUTHORIZATION=basic).status_code == 401
    )
