"""RFC 9728 protected-resource metadata, fetched as a client discovers it: from the
`resource_metadata` a 401's `WWW-Authenticate` names, over real HTTP against the live server."""

from __future__ import annotations

import re

import pytest
import requests

pytestmark = pytest.mark.e2e

WELL_KNOWN = "/.well-known/oauth-protected-resource"


def challenge_params(header: str) -> dict[str, str]:
    scheme, _, params = header.partition(" ")
    assert scheme == "Bearer", header
    return dict(re.findall(r'(\w+)="([^"]*)"', params))


def test_the_document_names_this_origin_its_authorization_server_and_scopes(asgi_server):
    response = requests.get(asgi_server.url + WELL_KNOWN, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {
        "resource": asgi_server.url,
        "authorization_servers": [asgi_server.url],
        "scopes_supported": ["read", "write"],
        "bearer_methods_supported": ["header"],
        "resource_name": "TaskHub API",
    }
    # The authorization server it names publishes itself as that issuer (RFC 8414).
    issuer = response.json()["authorization_servers"][0]
    server = requests.get(issuer + "/.well-known/oauth-authorization-server", timeout=10)
    assert server.json()["issuer"] == issuer


@pytest.mark.parametrize(
    ("method", "path", "headers", "error"),
    [
        ("get", "/api/v1/projects/", {}, None),
        ("get", "/api/v2/tasks/", {"Authorization": "Bearer not-a-token"}, "invalid_token"),
        ("post", "/graphql", {}, None),
        ("post", "/graphql", {"Authorization": "Bearer not-a-token"}, "invalid_token"),
    ],
)
def test_every_401_links_the_document(asgi_server, method, path, headers, error):
    body = {"query": "{ viewer { username } }"} if path == "/graphql" else None
    response = requests.request(
        method, asgi_server.url + path, headers=headers, json=body, timeout=10
    )
    assert response.status_code == 401
    params = challenge_params(response.headers["WWW-Authenticate"])
    assert params.get("error") == error
    assert params["resource_metadata"] == asgi_server.url + WELL_KNOWN
    document = requests.get(params["resource_metadata"], timeout=10).json()
    assert document["resource"] == asgi_server.url
