"""A third-party app (Authlib's OAuth2Session) and a browser (a requests session) against the
live ASGI server: authorization code + PKCE, refresh rotation and reuse detection,
introspection, revocation, client credentials, and every refusal API.md lists."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session, OAuthError

from project.oauth.clients import CLIENT_CREDENTIALS, create_client

pytestmark = pytest.mark.e2e

REDIRECT_URI = "https://client.example/callback"
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class _Forms(HTMLParser):
    """The inputs of each <form> on a page."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.forms.append({})
        elif tag == "input" and self.forms and values.get("name"):
            self.forms[-1][values["name"] or ""] = values.get("value") or ""


def _forms(html: str) -> list[dict[str, str]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


class Browser:
    """The resource owner's browser: logs in through the login form, consents."""

    def __init__(self, base: str, username: str) -> None:
        self.base = base
        self.username = username
        self.session = requests.Session()

    def visit_authorize(self, url: str) -> requests.Response:
        response = self.session.get(url, allow_redirects=False)
        if response.status_code == 302 and "/accounts/login/" in response.headers["Location"]:
            login_url = self.base + response.headers["Location"]
            page = self.session.get(login_url)
            assert page.status_code == 200
            form = _forms(page.text)[0]
            assert form["csrfmiddlewaretoken"]
            form.update(username=self.username, password=PASSWORD)
            # The login form posts back and redirects to `next`: the authorization page.
            response = self.session.post(login_url, data=form, allow_redirects=False)
            assert response.status_code == 302, response.text
            response = self.session.get(
                self.base + response.headers["Location"], allow_redirects=False
            )
        return response

    def consent(self, url: str, allow: bool = True) -> str:
        """Approve (or deny) on the consent page; the redirect Location the app gets back."""
        page = self.visit_authorize(url)
        assert page.status_code == 200, page.text
        assert "Allow" in page.text
        form = _forms(page.text)[0]
        if allow:
            form["allow"] = "Authorize"
        response = self.session.post(self.base + "/o/authorize/", data=form, allow_redirects=False)
        assert response.status_code == 302, response.text
        return str(response.headers["Location"])


def _app(server: Any, client: Any, **kwargs: Any) -> OAuth2Session:
    return OAuth2Session(
        client_id=client.client_id,
        client_secret=client.client_secret,
        token_endpoint_auth_method="none" if client.client_secret is None else None,
        revocation_endpoint_auth_method="none" if client.client_secret is None else None,
        scope="read write",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        **kwargs,
    )


def _api_me(server: Any, access_token: str, query: str = "") -> requests.Response:
    return requests.get(
        f"{server.url}/api/v1/me/{query}",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=10,
    )


def _graphql_viewer(server: Any, access_token: str, query: str = "") -> requests.Response:
    return requests.post(
        f"{server.url}/graphql{query}",
        json={"query": "{ viewer { username } }"},
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=10,
    )


def _error_codes(response: requests.Response) -> set[str]:
    return {e.get("extensions", {}).get("code") for e in response.json().get("errors", [])}


@pytest.fixture
def web_app(owner: Any) -> Any:
    """A third-party web app: confidential, and still using PKCE as every client must."""
    return create_client(name="Planner Pro", user=owner, redirect_uris=[REDIRECT_URI])


@pytest.fixture
def resource_server(owner: Any, settings: Any) -> Any:
    """A confidential client allowed to introspect (tokens of other clients too)."""
    client = create_client(name="Resource server", user=owner, grant=CLIENT_CREDENTIALS)
    settings.OAUTH_INTROSPECTION_CLIENTS = [client.client_id]
    return client


def _authorize(server: Any, app: OAuth2Session, browser: Browser) -> tuple[str, str]:
    verifier = generate_token(48)
    url, state = app.create_authorization_url(f"{server.url}/o/authorize/", code_verifier=verifier)
    assert "code_challenge_method=S256" in url
    location = browser.consent(url)
    assert location.startswith(REDIRECT_URI)
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == [state]
    assert query["iss"] == [server.url]
    return location, verifier


def test_authorization_code_pkce_flow_end_to_end(asgi_server, owner, web_app, resource_server):
    server = asgi_server
    app = _app(server, web_app)
    browser = Browser(server.url, owner.username)
    location, verifier = _authorize(server, app, browser)

    token = app.fetch_token(
        f"{server.url}/o/token/", authorization_response=location, code_verifier=verifier
    )
    assert token["token_type"] == "Bearer"
    assert set(token["scope"].split()) == {"read", "write"}
    assert token["expires_in"] == 3600

    # The token works on REST and GraphQL.
    me = _api_me(server, token["access_token"])
    assert me.status_code == 200, me.text
    assert me.json()["username"] == owner.username
    viewer = _graphql_viewer(server, token["access_token"])
    assert viewer.json()["data"]["viewer"]["username"] == owner.username
    # Authlib's session sends it as a header, too.
    assert app.get(f"{server.url}/api/v1/me/").status_code == 200

    # Introspection, by a confidential client.
    introspector = _app(server, resource_server)
    info = introspector.introspect_token(
        f"{server.url}/o/introspect/", token=token["access_token"]
    ).json()
    assert info["active"] is True and info["username"] == owner.username
    assert info["client_id"] == web_app.client_id
    # ...and not by the app's own public-facing credentials missing a secret.
    anonymous = requests.post(
        f"{server.url}/o/introspect/", data={"token": token["access_token"]}, timeout=10
    )
    assert anonymous.status_code == 401

    # Refresh rotates both tokens; the old access token stops working.
    first = dict(token)
    second = app.refresh_token(f"{server.url}/o/token/", refresh_token=first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert _api_me(server, first["access_token"]).status_code == 401
    assert _api_me(server, second["access_token"]).status_code == 200

    # Replaying the old refresh token fails and revokes the whole family.
    with pytest.raises(OAuthError) as replay:
        app.refresh_token(f"{server.url}/o/token/", refresh_token=first["refresh_token"])
    assert replay.value.error == "invalid_grant"
    assert _api_me(server, second["access_token"]).status_code == 401
    with pytest.raises(OAuthError) as family:
        app.refresh_token(f"{server.url}/o/token/", refresh_token=second["refresh_token"])
    assert family.value.error == "invalid_grant"

    # A fresh authorization, then revocation: the revoked token is rejected everywhere.
    location, verifier = _authorize(server, app, browser)
    third = app.fetch_token(
        f"{server.url}/o/token/", authorization_response=location, code_verifier=verifier
    )
    assert _api_me(server, third["access_token"]).status_code == 200
    revoked = app.revoke_token(
        f"{server.url}/o/revoke_token/",
        token=third["access_token"],
        token_type_hint="access_token",
    )
    assert revoked.status_code == 200
    rejected = _api_me(server, third["access_token"])
    assert rejected.status_code == 401
    assert 'error="invalid_token"' in rejected.headers["WWW-Authenticate"]
    assert "UNAUTHENTICATED" in _error_codes(_graphql_viewer(server, third["access_token"]))
    info = introspector.introspect_token(
        f"{server.url}/o/introspect/", token=third["access_token"]
    ).json()
    assert info == {"active": False}


def test_public_client_uses_pkce_without_a_secret(asgi_server, owner):
    server = asgi_server
    spa = create_client(name="SPA", user=owner, redirect_uris=[REDIRECT_URI], public=True)
    app = _app(server, spa)
    location, verifier = _authorize(server, app, Browser(server.url, owner.username))
    token = app.fetch_token(
        f"{server.url}/o/token/", authorization_response=location, code_verifier=verifier
    )
    refreshed = app.refresh_token(f"{server.url}/o/token/", refresh_token=token["refresh_token"])
    assert _api_me(server, refreshed["access_token"]).status_code == 200
    # A public client revokes with its client id alone.
    app.revoke_token(f"{server.url}/o/revoke_token/", token=refreshed["access_token"])
    assert _api_me(server, refreshed["access_token"]).status_code == 401


def test_client_credentials_token_acts_as_the_owner(asgi_server, owner):
    server = asgi_server
    robot = create_client(name="Robot", user=owner, grant=CLIENT_CREDENTIALS)
    session = OAuth2Session(client_id=robot.client_id, client_secret=robot.client_secret)
    token = session.fetch_token(
        f"{server.url}/o/token/", grant_type="client_credentials", scope="read"
    )
    assert "refresh_token" not in token
    me = _api_me(server, token["access_token"])
    assert me.status_code == 200 and me.json()["username"] == owner.username
    wrong = OAuth2Session(client_id=robot.client_id, client_secret="not-the-secret")
    with pytest.raises(OAuthError) as refused:
        wrong.fetch_token(f"{server.url}/o/token/", grant_type="client_credentials")
    assert refused.value.error == "invalid_client"


def _authorize_url(server: Any, client: Any, **params: str) -> str:
    query = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "read",
        "state": "st",
    }
    query.update(params)
    return f"{server.url}/o/authorize/?{urlencode(query)}"


CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGjSstw-cM"  # RFC 7636 appendix B


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({}, "invalid_request"),  # no PKCE
        ({"code_challenge": CHALLENGE, "code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": CHALLENGE}, "invalid_request"),  # method defaults to plain
        (
            {
                "response_type": "token",
                "code_challenge": CHALLENGE,
                "code_challenge_method": "S256",
            },
            "unsupported_response_type",
        ),
    ],
    ids=["no-pkce", "plain-pkce", "no-method", "implicit"],
)
def test_authorization_request_refusals(asgi_server, owner, web_app, params, error):
    browser = Browser(asgi_server.url, owner.username)
    response = browser.visit_authorize(_authorize_url(asgi_server, web_app, **params))
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI)
    assert parse_qs(urlsplit(location).query)["error"] == [error]


@pytest.mark.parametrize(
    "redirect_uri",
    [REDIRECT_URI + "?next=/x", REDIRECT_URI + "#frag", "https://attacker.example/callback"],
    ids=["extra-query", "fragment", "other-host"],
)
def test_unregistered_redirect_uris_are_refused_without_redirecting(
    asgi_server, owner, web_app, redirect_uri
):
    browser = Browser(asgi_server.url, owner.username)
    url = _authorize_url(
        asgi_server,
        web_app,
        redirect_uri=redirect_uri,
        code_challenge=CHALLENGE,
        code_challenge_method="S256",
    )
    response = browser.visit_authorize(url)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "can't be completed" in response.text


def test_token_request_refusals(asgi_server, owner, web_app):
    server = asgi_server
    app = _app(server, web_app)
    browser = Browser(server.url, owner.username)

    location, verifier = _authorize(server, app, browser)
    with pytest.raises(OAuthError) as wrong_verifier:
        app.fetch_token(
            f"{server.url}/o/token/",
            authorization_response=location,
            code_verifier=generate_token(48),
        )
    assert wrong_verifier.value.error == "invalid_grant"

    location, verifier = _authorize(server, app, browser)
    app.fetch_token(
        f"{server.url}/o/token/", authorization_response=location, code_verifier=verifier
    )
    with pytest.raises(OAuthError) as replayed:
        app.fetch_token(
            f"{server.url}/o/token/", authorization_response=location, code_verifier=verifier
        )
    assert replayed.value.error == "invalid_grant"

    with pytest.raises(OAuthError) as password:
        app.fetch_token(
            f"{server.url}/o/token/",
            grant_type="password",
            username=owner.username,
            password=PASSWORD,
        )
    assert password.value.error == "unsupported_grant_type"


def test_tokens_in_the_url_are_refused(asgi_server, owner, web_app):
    server = asgi_server
    app = _app(server, web_app)
    location, verifier = _authorize(server, app, Browser(server.url, owner.username))
    token = app.fetch_token(
        f"{server.url}/o/token/", authorization_response=location, code_verifier=verifier
    )["access_token"]
    in_url = requests.get(f"{server.url}/api/v1/me/?access_token={token}", timeout=10)
    assert in_url.status_code == 401
    # Even next to a good header.
    assert _api_me(server, token, f"?access_token={token}").status_code == 401
    graphql = _graphql_viewer(server, token, f"?access_token={token}")
    assert "UNAUTHENTICATED" in _error_codes(graphql)


def test_metadata_document(asgi_server):
    data = requests.get(
        f"{asgi_server.url}/.well-known/oauth-authorization-server", timeout=10
    ).json()
    assert data["issuer"] == asgi_server.url
    assert data["code_challenge_methods_supported"] == ["S256"]
    assert data["response_types_supported"] == ["code"]
    assert "password" not in data["grant_types_supported"]
    assert "implicit" not in data["grant_types_supported"]
    assert data["token_endpoint"] == f"{asgi_server.url}/o/token/"
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/o/introspect/", data["introspection_endpoint"])
