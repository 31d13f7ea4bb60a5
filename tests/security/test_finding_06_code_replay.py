"""Finding 6: replaying an authorization code is refused AND revokes the tokens its first
exchange issued (RFC 6749 section 4.1.2), the refresh token and everything rotated from it."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.auth.oauth_helpers import basic_auth, exchange, get_code, new_client, pkce_pair

pytestmark = pytest.mark.django_db


def _me(access_token: str) -> int:
    return Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {access_token}").status_code


def test_finding_6_code_replay_revokes_the_first_exchange_tokens(owner):
    app = new_client(owner)
    browser = Client()
    browser.force_login(owner)
    verifier, challenge = pkce_pair()
    code = get_code(browser, app, challenge)

    first = exchange(Client(), app, code, verifier)
    assert first.status_code == 200, first.content
    tokens = first.json()
    assert _me(tokens["access_token"]) == 200
    rotated = Client().post(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        HTTP_AUTHORIZATION=basic_auth(app),
    )
    assert rotated.status_code == 200, rotated.content
    assert _me(rotated.json()["access_token"]) == 200

    replay = exchange(Client(), app, code, verifier)

    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert _me(tokens["access_token"]) == 401
    assert _me(rotated.json()["access_token"]) == 401
    refresh = Client().post(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": rotated.json()["refresh_token"]},
        HTTP_AUTHORIZATION=basic_auth(app),
    )
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"
