"""Driving the authorization server with Django's test client."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

from project.oauth.clients import CLIENT_CREDENTIALS, NewClient, create_client

REDIRECT_URI = "https://client.example/callback"


def new_client(user: Any, *, public: bool = False, grant: str | None = None) -> NewClient:
    if grant == CLIENT_CREDENTIALS:
        return create_client(name="Robot", user=user, grant=grant)
    return create_client(name="Third party", user=user, redirect_uris=[REDIRECT_URI], public=public)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def basic_auth(client: NewClient) -> str:
    raw = f"{client.client_id}:{client.client_secret}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def authorize_params(client: NewClient, challenge: str | None, **overrides: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "read write",
        "state": "s-123",
    }
    if challenge is not None:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    params.update(overrides)
    return params


def get_code(browser: Any, client: NewClient, challenge: str, scope: str = "read write") -> str:
    """Consent as the logged-in test-client user; return the authorization code."""
    page = browser.get("/o/authorize/", authorize_params(client, challenge, scope=scope))
    assert page.status_code == 200, page.content
    form = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    response = browser.post("/o/authorize/", {**form, "allow": "Authorize"})
    assert response.status_code == 302, response.content
    query = redirect_query(response)
    assert query["state"] == ["s-123"]
    return query["code"][0]


def redirect_query(response: Any) -> dict[str, list[str]]:
    location = response["Location"]
    assert location.startswith(REDIRECT_URI), location
    return parse_qs(urlsplit(location).query)


def exchange(browser: Any, client: NewClient, code: str, verifier: str, **extra: str) -> Any:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    data.update(code_verifier=verifier, **extra)
    headers = {}
    if client.client_secret:
        headers["HTTP_AUTHORIZATION"] = basic_auth(client)
    else:
        data["client_id"] = client.client_id
    return browser.post("/o/token/", data, **headers)
