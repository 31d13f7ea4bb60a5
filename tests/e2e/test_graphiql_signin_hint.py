"""A newcomer opens GraphiQL signed out: a banner says to sign in (or paste a bearer token);
following its link and signing in makes the query work. Headless Chromium (Debian's package,
driven by Playwright) against the live ASGI server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.web_browser import CHROMIUM, CHROMIUM_ARGS
from tests.factories import make_token

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's
WAIT = 20_000  # ms: generous for a busy machine; never a timing assertion
# Database work (fixtures, tokens) happens before the `browser` fixture starts Playwright, whose
# sync API runs an event loop in this thread (Django refuses ORM calls there).


def is_probe(response: Any) -> bool:
    request = response.request
    return request.method == "POST" and "SignedIn" in (request.post_data or "")


@pytest.fixture
def browser() -> Any:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "install Chromium first: make browser-deps"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser: Any, base_url: str, foreign: list[str], errors: list[str]) -> Any:
    context = browser.new_context()
    local = urlsplit(base_url).netloc
    # Watched rather than routed (routing makes Chromium send `Origin: null` on the login POST).
    context.on(
        "request",
        lambda request: (
            foreign.append(request.url)
            if urlsplit(request.url).netloc != local and not request.url.startswith("data:")
            else None
        ),
    )
    page = context.new_page()
    page.set_default_timeout(WAIT)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page


def test_signed_out_sees_the_hint_follows_it_signs_in_and_runs_a_query(
    asgi_server: Any, owner: Any, browser: Any
) -> None:
    foreign: list[str] = []
    errors: list[str] = []
    page = open_page(browser, asgi_server.url, foreign, errors)

    with page.expect_response(is_probe) as probe:
        page.goto(f"{asgi_server.url}/graphql")
    assert probe.value.status == 401
    hint = page.locator("#signin-hint")
    hint.wait_for(state="visible")
    assert "paste an access token in the Headers pane" in hint.inner_text()
    assert '"Authorization": "Bearer <token>"' in hint.inner_text()

    hint.get_by_role("link", name="Sign in").click()
    page.wait_for_url("**/accounts/login/**")
    url = urlsplit(page.url)
    assert url.path == "/accounts/login/"
    assert parse_qs(url.query) == {"next": ["/graphql"]}

    page.get_by_label("Username").fill(owner.username)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_response(is_probe) as probe:
        page.get_by_role("button", name="Sign in").click()
    assert urlsplit(page.url).path == "/graphql"
    assert probe.value.status == 200
    assert json.loads(probe.value.text()) == {"data": {"viewer": {"username": "olivia"}}}
    assert page.locator("#signin-hint").is_hidden()

    # GraphiQL's default query (`query Me { viewer { ... } }`), authenticated by the session.
    page.locator(".graphiql-execute-button").click()
    page.locator(".result-window").get_by_text('"username": "olivia"').wait_for()
    assert "UNAUTHENTICATED" not in page.locator(".result-window").inner_text()
    assert foreign == []
    assert errors == []


@pytest.fixture
def token(owner: Any) -> str:
    return make_token(owner, "read")


def test_a_stored_bearer_token_shows_no_hint(asgi_server: Any, token: str, browser: Any) -> None:
    foreign: list[str] = []
    errors: list[str] = []
    page = open_page(browser, asgi_server.url, foreign, errors)
    headers = json.dumps({"Authorization": f"Bearer {token}"})
    page.context.add_init_script(
        f"localStorage.setItem('graphiql:headers', {json.dumps(headers)});"
    )
    with page.expect_response(is_probe) as probe:
        page.goto(f"{asgi_server.url}/graphql")
    # Read before GraphiQL mounts and rewrites its storage (signin-hint.js loads first).
    assert probe.value.request.headers.get("authorization") == f"Bearer {token}"
    assert probe.value.status == 200
    assert page.locator("#signin-hint").is_hidden()
    assert foreign == []
    assert errors == []


def test_a_bearer_token_in_the_headers_pane_shows_no_hint_after_a_reload(
    asgi_server: Any, token: str, browser: Any
) -> None:
    """Once mounted, GraphiQL keeps the headers in its tab state only (`graphiql:headers` is
    gone from storage); the probe still finds the active tab's Authorization header."""
    foreign: list[str] = []
    errors: list[str] = []
    page = open_page(browser, asgi_server.url, foreign, errors)
    headers = json.dumps({"Authorization": f"Bearer {token}"})
    page.goto(f"{asgi_server.url}/graphql")
    page.evaluate(f"localStorage.setItem('graphiql:headers', {json.dumps(headers)})")
    page.reload()
    page.locator(".graphiql-execute-button").wait_for()
    assert page.evaluate("localStorage.getItem('graphiql:headers')") is None
    with page.expect_response(is_probe) as probe:
        page.reload()
    assert probe.value.request.headers.get("authorization") == f"Bearer {token}"
    assert probe.value.status == 200
    assert page.locator("#signin-hint").is_hidden()
    assert foreign == []
    assert errors == []


def test_the_hint_can_be_dismissed(asgi_server: Any, browser: Any) -> None:
    foreign: list[str] = []
    errors: list[str] = []
    page = open_page(browser, asgi_server.url, foreign, errors)
    page.goto(f"{asgi_server.url}/graphql")
    hint = page.locator("#signin-hint")
    hint.wait_for(state="visible")
    hint.get_by_role("button", name="Dismiss").click()
    hint.wait_for(state="hidden")
    assert errors == []
