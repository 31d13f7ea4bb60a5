"""Finding 5: a confidential client introspects only the tokens issued to it; a resource server
named in OAUTH_INTROSPECTION_CLIENTS introspects any. Anyone else learns `{"active": false}`
(RFC 7662), not whose token it is."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from project.oauth.clients import CLIENT_CREDENTIALS
from tests.auth.oauth_helpers import basic_auth, new_client

pytestmark = pytest.mark.django_db


def _token_for(client: Any) -> str:
    response = Client().post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "read"},
        HTTP_AUTHORIZATION=basic_auth(client),
    )
    assert response.status_code == 200, response.content
    return str(response.json()["access_token"])


def _introspect(caller: Any, token: str) -> dict[str, Any]:
    response = Client().post(
        "/o/introspect/", {"token": token}, HTTP_AUTHORIZATION=basic_auth(caller)
    )
    assert response.status_code == 200, response.content
    return dict(response.json())


def test_finding_5_introspection_is_limited_to_the_callers_own_tokens(owner, outsider, settings):
    victim_app = new_client(owner, grant=CLIENT_CREDENTIALS)
    nosy_app = new_client(outsider, grant=CLIENT_CREDENTIALS)
    resource_server = new_client(outsider, grant=CLIENT_CREDENTIALS)
    settings.OAUTH_INTROSPECTION_CLIENTS = [resource_server.client_id]
    token = _token_for(victim_app)

    assert _introspect(nosy_app, token) == {"active": False}

    own = _introspect(victim_app, token)
    assert own["active"] is True and own["client_id"] == victim_app.client_id
    by_resource_server = _introspect(resource_server, token)
    assert by_resource_server["active"] is True
    assert by_resource_server["username"] == owner.username
