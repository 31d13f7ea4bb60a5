"""Finding 7: wrong client secrets at /o/token/ are throttled per client id and address (in the
shared cache): after OAUTH_CLIENT_FAILURE_LIMIT failures, 429 with Retry-After and an OAuth error
body, the right secret included, until the window passes."""

from __future__ import annotations

import base64

import pytest
from django.test import Client

from project.oauth.clients import CLIENT_CREDENTIALS
from tests.auth.oauth_helpers import basic_auth, new_client

pytestmark = pytest.mark.django_db

LIMIT = 4


def _token(auth: str, address: str = "127.0.0.1") -> object:
    return Client(REMOTE_ADDR=address).post(
        "/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=auth
    )


def test_finding_7_client_secret_throttle_at_the_token_endpoint(owner, settings):
    settings.OAUTH_CLIENT_FAILURE_LIMIT = LIMIT
    app = new_client(owner, grant=CLIENT_CREDENTIALS)
    wrong = "Basic " + base64.b64encode(f"{app.client_id}:guess".encode()).decode()

    for _ in range(LIMIT):
        refused = _token(wrong)
        assert refused.status_code == 401
        assert refused.json()["error"] == "invalid_client"
    throttled = _token(basic_auth(app))  # even the right secret, now

    assert throttled.status_code == 429
    assert throttled.json()["error"] == "invalid_client"
    assert int(throttled["Retry-After"]) > 0
    # Another address is not held back by this one's failures.
    assert _token(basic_auth(app), address="192.0.2.7").status_code == 200
